/* codebook: extremes (binary, ternary) and non-uniform grids (1-D
 * k-means, powers of two) over one contiguous run of float32.
 *
 * Each function treats its run as one group (a layer, a channel, a row);
 * per-channel use calls it per channel.  References: BinaryConnect
 * (Courbariaux et al. 2015), XNOR-Net/BWN (Rastegari et al. 2016), TWN (Li
 * & Liu 2016), TTQ (Zhu et al. 2017), Deep Compression (Han et al. 2016),
 * Ckmeans.1d.dp (Wang & Song 2011; Groenlund et al. 2017), LogQuant
 * (Miyashita et al. 2016); details in docs/formats.md.
 * Pure C11 + libm (+ OpenMP); no printing. */
#ifndef QS_ENGINE_CODEBOOK_H
#define QS_ENGINE_CODEBOOK_H

#include <stdint.h>

#include "qs_error.h"

/* Float32 mean of |x| as numpy.mean computes it (pairwise summation: 8
 * accumulators, halving above 128 elements), the alpha of BWN/TWN.
 * 0 for n = 0; NaN if any x is NaN. */
float qs_codebook_mean_abs(const float *x, int64_t n);

/* Binary (XNOR-Net / BWN): y = alpha * sign(x) with alpha = mean |x|
 * (qs_codebook_mean_abs) when *alpha < 0 on entry, else the given alpha.
 * sign0: the sign of +-0: +1 (BinaryConnect w >= 0 -> +1, default, keeps
 * the code binary) or 0 (torch.sign, as the XNOR-Net reference code).
 * codes (may be NULL): +1 / -1 / 0 as int8.  y may alias x.  *alpha
 * receives the alpha used. */
qs_status qs_codebook_binary(const float *x, int64_t n, int sign0,
			     float *alpha, float *y, int8_t *codes,
			     qs_error *err);

/* BinaryConnect stochastic binarization: +1 with probability
 * hard_sigmoid(x) = clip((x + 1) / 2, 0, 1), i.e. u < p with u =
 * qs_rand_u01(seed, idx0 + i); y = +-1 (unscaled). */
qs_status qs_codebook_binary_stochastic(const float *x, int64_t n,
					uint64_t seed, int64_t idx0, float *y,
					qs_error *err);

/* Ternary (TWN): delta = 0.7f * mean|x| (float32), alpha = float32 mean of
 * the |x| > delta (strict); y = alpha * sign(x) * [|x| > delta].  When no
 * element exceeds delta (all zero), alpha = 0 and y = 0.  codes: -1/0/+1.
 * *delta and *alpha (may be NULL) receive the values.  QS_ENOMEM: the
 * alpha mean needs a scratch copy of the selected |x|. */
qs_status qs_codebook_ternary(const float *x, int64_t n, float *delta,
			      float *alpha, float *y, int8_t *codes,
			      qs_error *err);

/* Trained ternary (TTQ) forward: delta = t * max|x| (float32); x > delta
 * -> +wp, x < -delta -> -wn, else 0. */
qs_status qs_codebook_ttq(const float *x, int64_t n, float t, float wp,
			  float wn, float *delta, float *y, int8_t *codes,
			  qs_error *err);

/* ---- 1-D k-means ---------------------------------------------------------- */

typedef enum qs_kmeans_init {
	QS_KMEANS_LINEAR = 0, /* evenly spaced in [min, max] (Deep Compression) */
	QS_KMEANS_RANDOM,     /* k distinct data values, seeded (Forgy) */
	QS_KMEANS_PLUSPLUS,   /* k-means++ D^2 sampling, seeded */
	QS_KMEANS_OPTIMAL,    /* exact optimum by dynamic programming */
	QS_KMEANS_INIT_COUNT
} qs_kmeans_init;

typedef struct qs_kmeans_opts {
	int k;               /* clusters, 1..65536 */
	qs_kmeans_init init;
	int max_iter;        /* Lloyd iterations after a heuristic init
			      * (default 300; 0: init only).  The optimal
			      * init runs none (it is a fixed point). */
	uint64_t seed;       /* random and k-means++ draws */
	int64_t max_cells;   /* optimal: exact while distinct values * k
			      * <= max_cells (default 2^25: 128 MB of back
			      * pointers), else the DP runs on groups of
			      * consecutive sorted values; <= 0: never group */
} qs_kmeans_opts;

typedef struct qs_kmeans_result {
	double sse;       /* sum over x of (x - centroid)^2, in double */
	int iterations;   /* Lloyd iterations run */
	int k_used;       /* clusters found (< k if fewer distinct values) */
	int grouped;      /* optimal: 1 if the DP ran on merged groups */
	int64_t points;   /* values the solver ran on (distinct values or
			   * groups) */
} qs_kmeans_result;

void qs_kmeans_default(qs_kmeans_opts *o);
const char *qs_kmeans_init_name(qs_kmeans_init i);
/* "linear", "random", "kmeans++" (or "plusplus"), "optimal"; 0 or -1. */
int qs_kmeans_init_parse(const char *name, qs_kmeans_init *out);

/* Cluster x[0..n) into o->k groups.  centroids (k floats) receive the
 * cluster centres in ascending order (entries past k_used repeat the
 * largest); labels (n, may be NULL) the cluster of each element, which is
 * its nearest centroid (ties to the lower) for Lloyd and the DP's interval
 * for the optimum; y (n, may be NULL, may alias x) the centroid of each
 * element; res (may be NULL) the SSE and counts.  Works on the sorted
 * distinct values with multiplicities, so Lloyd steps cost O(k log n).
 * The optimum minimizes the SSE over partitions of the sorted values
 * into k intervals (which contain an optimal clustering): a DP whose rows
 * are found by divide and conquer on monotone argmins, O(k n log n) after
 * an O(n) radix sort (Ckmeans.1d.dp "loglinear").  Above max_cells the DP
 * runs on groups of g consecutive distinct values (g the smallest that
 * fits), i.e. the optimum among clusterings that keep each group whole;
 * res->grouped says so.  QS_EINVAL for non-finite input or a bad k;
 * QS_ENOMEM. */
qs_status qs_codebook_kmeans(const float *x, int64_t n,
			     const qs_kmeans_opts *o, float *centroids,
			     uint16_t *labels, float *y, qs_kmeans_result *res,
			     qs_error *err);

/* ---- powers of two ---------------------------------------------------------- */

/* Log2 quantization: value = sign * 2^e with e in [emin, emax], plus 0.
 * bits (2..16) = sign + magnitude code, so L = 2^(bits-1) - 1 exponents
 * emin = emax - L + 1.  *emax on entry: INT32_MIN picks it from the data
 * (the rounded exponent of max|x|, so nothing saturates), else used;
 * receives the value used.  log_round: 1 rounds log2|x| to the nearest
 * integer (threshold 2^(e + 1/2), LogQuant), 0 rounds |x| to the nearest
 * power of two by value (threshold 1.5 * 2^e, ties up).  Exponents above
 * emax saturate; |x| <= 2^(emin-1) becomes 0.  codes (may be NULL):
 * 0 for zero, else sign * (e - emin + 1).  *clipped (may be NULL):
 * elements that saturated. */
qs_status qs_codebook_log2(const float *x, int64_t n, int bits, int *emax,
			   int log_round, float *y, int16_t *codes,
			   int64_t *clipped, qs_error *err);

#endif
