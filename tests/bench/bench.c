/* bench: engine throughput, measured (not asserted).
 * Usage: bench [ELEMENTS]  (default 16M).  Prints one "name value unit"
 * line per figure, for tests/bench/run.sh to compare with numpy. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/qs_engine.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Best of reps runs of fn. */
#define BEST(reps, best, body)                                                 \
	do {                                                                   \
		best = 1e30;                                                   \
		for (int r_ = 0; r_ < (reps); r_++) {                          \
			double t0_ = now();                                    \
			body;                                                  \
			double dt_ = now() - t0_;                              \
			if (dt_ < best)                                        \
				best = dt_;                                    \
		}                                                              \
	} while (0)

static volatile float sink;

/* Read bandwidth: a vectorizable sum over the buffer. */
static double read_bw(const float *x, size_t n)
{
	double best;
	BEST(5, best, {
		float acc[16] = {0};
		for (size_t i = 0; i + 16 <= n; i += 16)
			for (int j = 0; j < 16; j++)
				acc[j] += x[i + j];
		float s = 0;
		for (int j = 0; j < 16; j++)
			s += acc[j];
		sink = s;
	});
	return (double)n * 4 / best / 1e9;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)atoll(argv[1]) : (size_t)1 << 24;
	int64_t shape[1] = {(int64_t)n};
	qs_error err;
	qs_tensor *t = qs_tensor_new(QS_DT_F32, 1, shape, &err);
	if (!t) {
		fprintf(stderr, "bench: %s\n", err.msg);
		return 1;
	}
	float *x = t->data;
	uint64_t s = 1;
	for (size_t i = 0; i < n; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		double u = ((s >> 11) + 0.5) * 0x1p-53;
		x[i] = (float)(log(u / (1 - u)) * 0.5); /* logistic */
	}
	int threads = 1;
#ifdef _OPENMP
	threads = omp_get_max_threads();
#endif
	printf("elements %zu\n", n);
	printf("threads %d\n", threads);
	printf("read_bandwidth %.2f GB/s\n", read_bw(x, n));

	qs_spec sp;
	qs_spec_default(&sp);
	double best;
	qs_quant *q = NULL;
	/* the fused pass alone, on the calibrated parameters */
	q = qs_quantize(t, &sp, &err);
	BEST(5, best, {
		qs_quant_free(q);
		q = qs_quantize(t, &sp, &err);
	});
	printf("int8_minmax_quantize_error %.2f GB/s %.4f s\n",
	       (double)n * 4 / best / 1e9, best);
	sp.calib.method = QS_CALIB_FIXED;
	sp.calib.lo = -3;
	sp.calib.hi = 3;
	BEST(5, best, {
		qs_quant_free(q);
		q = qs_quantize(t, &sp, &err);
	});
	printf("int8_fused_pass %.2f GB/s %.4f s sqnr %.4f\n",
	       (double)n * 4 / best / 1e9, best, q->metrics.sqnr_db);
	qs_spec_default(&sp);
	sp.granularity = QS_GRAN_GROUP;
	sp.group = 128;
	sp.scheme = QS_SCHEME_ASYMMETRIC;
	qs_spec_set_format(&sp, "int4", NULL);
	BEST(3, best, {
		qs_quant_free(q);
		q = qs_quantize(t, &sp, &err);
	});
	printf("int4_group128_asym %.2f GB/s %.4f s\n",
	       (double)n * 4 / best / 1e9, best);
	qs_quant_free(q);

	/* opening a large .npy maps it: the time does not grow with size */
	if (argc <= 2 || strcmp(argv[2], "--no-load") != 0) {
		int64_t big = (int64_t)1 << 28; /* 1 GiB of float32 */
		qs_tensor *b = qs_tensor_new(QS_DT_F32, 1, &big, &err);
		const char *path = "/tmp/qscope_bench_1g.npy";
		if (b && qs_npy_save(b, path, &err) == QS_OK) {
			qs_tensor_free(b);
			b = NULL;
			qs_tensor *m = NULL;
			BEST(3, best, {
				qs_tensor_free(m);
				m = qs_npy_load(path, &err);
			});
			printf("npy_load_1GiB %.6f s mapped %s\n", best,
			       m && m->map_ ? "yes" : "no");
			qs_tensor_free(m);
			remove(path);
		} else {
			printf("npy_load_1GiB skipped: %s\n", err.msg);
		}
		qs_tensor_free(b);
	}
	qs_tensor_free(t);
	return 0;
}
