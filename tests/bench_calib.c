/* bench_calib: timings of the calibration engine, printed as figures and
 * ratios (never asserted).  A read pass over the same data gives the
 * memory-speed baseline; histogram builds run on 16M float32 values, the
 * searches on 2048-bin histograms (8-bit grids), methods end to end on 1M
 * values.  Usage: bench_calib [million-elements] (default 16). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/calib.h"
#include "engine/hist.h"
#include "engine/observer.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Deterministic Laplace-like data (normal times a heavy tail). */
static void fill(float *x, size_t n)
{
	uint64_t s = 0x9E3779B97F4A7C15ULL;
	for (size_t i = 0; i < n; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		double u = ((double)(s >> 11) + 0.5) / 9007199254740992.0;
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		double v = ((double)(s >> 11) + 0.5) / 9007199254740992.0;
		x[i] = (float)(-log(u) * (v < 0.5 ? -1.0 : 1.0));
	}
}

/* Best of reps runs of a read pass (the baseline). */
static double read_pass(const float *x, size_t n, int reps, double *sink)
{
	double best = INFINITY;
	for (int r = 0; r < reps; r++) {
		double t0 = now(), s0 = 0, s1 = 0, s2 = 0, s3 = 0;
		size_t i = 0;
		for (; i + 4 <= n; i += 4) {
			s0 += x[i];
			s1 += x[i + 1];
			s2 += x[i + 2];
			s3 += x[i + 3];
		}
		for (; i < n; i++)
			s0 += x[i];
		double t = now() - t0;
		*sink += s0 + s1 + s2 + s3;
		best = t < best ? t : best;
	}
	return best;
}

int main(int argc, char **argv)
{
	size_t mil = argc > 1 ? (size_t)atol(argv[1]) : 16;
	size_t n = (mil ? mil : 16) << 20;
	float *x = malloc(n * sizeof *x);
	if (!x) {
		fprintf(stderr, "bench_calib: out of memory\n");
		return 1;
	}
	fill(x, n);
	double sink = 0, mb = (double)n * 4 / 1e6;
	double tr = read_pass(x, n, 3, &sink);
	printf("data: %zu float32 (%.0f MB)\n", n, mb);
	printf("%-28s %8.2f ms %7.2f GB/s\n", "read pass (baseline)", tr * 1e3,
	       mb / 1e3 / tr);

	qs_calib c;
	memset(&c, 0, sizeof c);
	c.method = QS_CALIB_MINMAX;
	float lo, hi;
	double best = INFINITY;
	for (int r = 0; r < 3; r++) {
		double t0 = now();
		qs_calib_range(&c, x, n, NULL, &lo, &hi, NULL);
		double t = now() - t0;
		best = t < best ? t : best;
	}
	printf("%-28s %8.2f ms %7.2f GB/s  x%.2f of read\n", "minmax", best * 1e3,
	       mb / 1e3 / best, tr / best);

	static const char *const kn[QS_HIST_KIND_COUNT] = {
		"torch", "nvidia", "onnxruntime", "onnxruntime |x|", "aimet"};
	qs_hist *h[QS_HIST_KIND_COUNT];
	for (int k = 0; k < QS_HIST_KIND_COUNT; k++) {
		best = INFINITY;
		h[k] = NULL;
		for (int r = 0; r < 3; r++) {
			qs_hist *t = qs_hist_new((qs_hist_kind)k, 0, NULL);
			double t0 = now();
			qs_hist_add(t, x, n, NULL);
			double dt = now() - t0;
			best = dt < best ? dt : best;
			qs_hist_free(h[k]);
			h[k] = t;
		}
		char name[64];
		snprintf(name, sizeof name, "histogram %s", kn[k]);
		printf("%-28s %8.2f ms %7.2f GB/s  x%.2f of read\n", name,
		       best * 1e3, mb / 1e3 / best, tr / best);
	}

	/* searches on 2048-bin histograms of 1M values */
	size_t m = n < (1u << 20) ? n : (1u << 20);
	qs_hist *s[QS_HIST_KIND_COUNT];
	for (int k = 0; k < QS_HIST_KIND_COUNT; k++) {
		s[k] = qs_hist_new((qs_hist_kind)k, 0, NULL);
		qs_hist_add(s[k], x, m, NULL);
	}
	printf("searches (2048 bins; AIMET 512), best of 5:\n");
	for (int q = 0; q < 8; q++) {
		best = INFINITY;
		const char *name = "";
		for (int r = 0; r < 5; r++) {
			float a, b2;
			int64_t bin;
			double d1, d2, d3, d4;
			double t0 = now();
			switch (q) {
			case 0:
				name = "NVIDIA entropy";
				qs_hist_nv_entropy(s[QS_HIST_NVIDIA], 128, 128, &a,
						   &bin, NULL);
				break;
			case 1:
				name = "NVIDIA mse";
				qs_hist_nv_mse(s[QS_HIST_NVIDIA], 8, 0, 128, &a,
					       &bin, NULL);
				break;
			case 2:
				name = "NVIDIA percentile";
				qs_hist_nv_percentile(s[QS_HIST_NVIDIA], 99.99, &a,
						      &bin, NULL);
				break;
			case 3:
				name = "ONNX Runtime entropy";
				qs_hist_ort_entropy(s[QS_HIST_ORT], 128, &a, &b2,
						    NULL);
				break;
			case 4:
				name = "ONNX Runtime percentile";
				qs_hist_ort_percentile(s[QS_HIST_ORT], 99.999, &a,
						       &b2, NULL);
				break;
			case 5:
				name = "PyTorch L2 (hist_l2)";
				qs_hist_torch_l2(s[QS_HIST_TORCH], 8, &a, &b2,
						 NULL);
				break;
			case 6:
				name = "AIMET sqnr asymmetric";
				qs_hist_aimet_sqnr(s[QS_HIST_AIMET], 8, 0, 0, 1,
						   &d1, &d2, &d3, &d4, NULL);
				break;
			default:
				name = "AIMET sqnr symmetric";
				qs_hist_aimet_sqnr(s[QS_HIST_AIMET], 8, 1, 0, 1,
						   &d1, &d2, &d3, &d4, NULL);
				break;
			}
			double dt = now() - t0;
			best = dt < best ? dt : best;
		}
		printf("  %-26s %8.3f ms\n", name, best * 1e3);
	}

	/* every method end to end on 1M values, 8-bit symmetric grid */
	printf("methods end to end on %zu values (8-bit symmetric):\n", m);
	double tm = read_pass(x, m, 5, &sink);
	qs_grid g;
	qs_grid_default(&g, 8, 0, 1, 0);
	for (int k = QS_CALIB_MINMAX; k < QS_CALIB_COUNT; k++) {
		memset(&c, 0, sizeof c);
		c.method = (qs_calib_method)k;
		c.hi = 1;
		best = INFINITY;
		for (int r = 0; r < 3; r++) {
			double t0 = now();
			qs_calib_range(&c, x, m, &g, &lo, &hi, NULL);
			double dt = now() - t0;
			best = dt < best ? dt : best;
		}
		printf("  %-26s %8.2f ms  x%.1f of a read pass\n",
		       qs_calib_name(c.method), best * 1e3, best / tm);
	}

	/* observer: 16 batches of 1M */
	memset(&c, 0, sizeof c);
	c.method = QS_CALIB_HIST_L2;
	qs_observer *o = qs_observer_new(&c, NULL, NULL);
	double t0 = now();
	for (size_t b = 0; b + m <= n; b += m)
		qs_observer_add(o, x + b, m, NULL);
	qs_observer_range(o, &c, NULL, &lo, &hi, NULL);
	double dt = now() - t0;
	printf("observer hist_l2, %zu batches of %zu: %.2f ms (%.2f GB/s)\n",
	       n / m, m, dt * 1e3, mb / 1e3 / dt);
	qs_observer_free(o);

	for (int k = 0; k < QS_HIST_KIND_COUNT; k++) {
		qs_hist_free(h[k]);
		qs_hist_free(s[k]);
	}
	free(x);
	if (sink == 12345.0)
		printf("\n");
	return 0;
}
