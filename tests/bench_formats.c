/* bench_formats: throughput of the number-format kernels (never asserted).
 * Float codecs over 16M float32 (input GB/s; one thread, then all), block
 * formats over 16M (one thread), 1-D k-means on 1M normal values (all
 * threads, and one for the optimum).  Usage: bench_formats [elements] */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "block.h"
#include "codebook.h"
#include "fp.h"
#include "round.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Standard normal by Box-Muller on the counter generator. */
static void fill_normal(float *x, int64_t n, uint64_t seed)
{
	for (int64_t i = 0; i < n; i += 2) {
		double u1 = qs_rand_u01(seed, (uint64_t)i) + 0x1p-25;
		double u2 = qs_rand_u01(seed, (uint64_t)i + 1);
		double r = sqrt(-2.0 * log(u1));
		x[i] = (float)(r * cos(6.283185307179586 * u2));
		if (i + 1 < n)
			x[i + 1] = (float)(r * sin(6.283185307179586 * u2));
	}
}

static void set_threads(int t)
{
#ifdef _OPENMP
	omp_set_num_threads(t);
#else
	(void)t;
#endif
}

static int max_threads(void)
{
#ifdef _OPENMP
	return omp_get_num_procs();
#else
	return 1;
#endif
}

static void bench_fp(const char *name, const float *x, int64_t n, float *y,
		     uint16_t *codes, float scale, qs_rounding r)
{
	qs_fpfmt f;
	qs_error err;
	if (qs_fpfmt_lookup(name, &f, &err) != QS_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	double best = 1e30;
	qs_fp_counts c;
	for (int rep = 0; rep < 5; rep++) {
		memset(&c, 0, sizeof c);
		double t0 = now();
		qs_fp_quantize(&f, x, n, scale, r, 1, 0, y, codes, &c, &err);
		double t = now() - t0;
		if (t < best)
			best = t;
	}
	printf("%-14s %-10s scale %-9g %-6s %7.2f ms  %6.2f GB/s in  %7.1f "
	       "Melem/s\n",
	       name, qs_rounding_name(r), (double)scale,
	       codes ? "codes" : "values", best * 1e3,
	       (double)n * 4 / best * 1e-9, (double)n / best * 1e-6);
}

static void bench_block(const char *name, const float *x, int64_t n,
			float *y, uint8_t *codes)
{
	qs_blockfmt f;
	qs_error err;
	if (qs_blockfmt_lookup(name, &f, &err) != QS_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	int64_t nb = qs_block_count(&f, n);
	float *sc = malloc((size_t)nb * sizeof *sc);
	double best = 1e30;
	for (int rep = 0; rep < 3; rep++) {
		qs_block_out o;
		memset(&o, 0, sizeof o);
		o.codes = codes;
		o.scales = sc;
		o.y = y;
		double t0 = now();
		qs_block_quantize(&f, x, n, -1.0f, &o, &err);
		double t = now() - t0;
		if (t < best)
			best = t;
	}
	printf("%-16s %8.2f ms  %6.2f GB/s in  %7.1f Melem/s  %.3f bits/elem\n",
	       name, best * 1e3, (double)n * 4 / best * 1e-9,
	       (double)n / best * 1e-6, qs_block_bits(&f, n));
	free(sc);
}

int main(int argc, char **argv)
{
	int64_t n = argc > 1 ? atoll(argv[1]) : 16 << 20;
	float *x = malloc((size_t)n * sizeof *x);
	float *y = malloc((size_t)n * sizeof *y);
	uint16_t *codes = malloc((size_t)n * sizeof *codes);
	uint8_t *c8 = malloc((size_t)n);
	if (!x || !y || !codes || !c8)
		return 1;
	fill_normal(x, n, 42);
	static const char *const fps[] = {"fp8_e4m3", "fp8_e5m2", "fp16",
					  "bf16", "fp6_e2m3", "fp4_e2m1",
					  "fp8_e4m3fnuz", "fpE3M4"};
	set_threads(1);
	printf("# float codecs, %lld elements (%.0f MB in), 1 thread\n",
	       (long long)n, (double)n * 4e-6);
	for (size_t i = 0; i < sizeof fps / sizeof fps[0]; i++)
		bench_fp(fps[i], x, n, y, codes, 1.0f, QS_ROUND_NEAREST);
	bench_fp("fp8_e4m3", x, n, y, NULL, 1.0f, QS_ROUND_NEAREST);
	bench_fp("fp8_e4m3", x, n, y, codes, 0.0078125f, QS_ROUND_NEAREST);
	bench_fp("fp8_e4m3", x, n, y, codes, 0.01f, QS_ROUND_NEAREST);
	bench_fp("fp8_e4m3", x, n, y, codes, 1.0f, QS_ROUND_AWAY);
	bench_fp("fp8_e4m3", x, n, y, codes, 1.0f, QS_ROUND_TRUNC);
	bench_fp("fp8_e4m3", x, n, y, codes, 1.0f, QS_ROUND_STOCHASTIC);
	set_threads(max_threads());
	printf("# float codecs, %d threads\n", max_threads());
	bench_fp("fp8_e4m3", x, n, y, codes, 0.01f, QS_ROUND_NEAREST);
	bench_fp("bf16", x, n, y, NULL, 1.0f, QS_ROUND_NEAREST);

	set_threads(1);
	printf("# block formats, %lld elements, 1 thread\n", (long long)n);
	for (int i = 0; i < qs_blockfmt_count(); i++)
		bench_block(qs_blockfmt_name(i), x, n, y, c8);

	int64_t nk = 1 << 20;
	static const int ks[] = {4, 16, 64};
	static const qs_kmeans_init inits[] = {QS_KMEANS_OPTIMAL,
					       QS_KMEANS_LINEAR,
					       QS_KMEANS_PLUSPLUS};
	float cent[64];
	for (int th = max_threads(); th >= 1; th = th > 1 ? 1 : 0) {
		set_threads(th);
		printf("# 1-D k-means on %lld normal values, %d thread%s\n",
		       (long long)nk, th, th > 1 ? "s" : "");
		for (size_t a = 0; a < 3; a++)
			for (size_t b = 0; b < 3; b++) {
				if (th == 1 && inits[b] != QS_KMEANS_OPTIMAL)
					continue;
				qs_kmeans_opts o;
				qs_kmeans_default(&o);
				o.k = ks[a];
				o.init = inits[b];
				qs_kmeans_result res;
				qs_error err;
				double t0 = now();
				qs_status st = qs_codebook_kmeans(
					x, nk, &o, cent, NULL, y, &res, &err);
				double t = now() - t0;
				if (st != QS_OK) {
					fprintf(stderr, "%s\n", err.msg);
					continue;
				}
				printf("k=%-3d %-9s %8.1f ms  SSE %.6f  "
				       "iterations %d%s\n",
				       o.k, qs_kmeans_init_name(o.init), t * 1e3,
				       res.sse, res.iterations,
				       res.grouped ? "  (grouped)" : "");
			}
	}
	free(x);
	free(y);
	free(codes);
	free(c8);
	return 0;
}
