/* codebook: binary and ternary weights, 1-D k-means, log2 grids.
 *
 * k-means works on the sorted distinct values with their multiplicities
 * (radix sort of the float32 keys), through prefix sums of count, x and
 * x^2 taken about the median (Ckmeans.1d.dp's shift for accuracy), so the
 * SSE of any interval of sorted values costs O(1).  The optimal init is
 * the DP D[q][j] = min_i D[q-1][i-1] + SSE(i..j) over intervals; SSE is
 * a Monge cost, so the argmins of a row are monotone and each row is
 * found by divide and conquer in O(n log n) (Ckmeans.1d.dp's "loglinear"
 * method), bounded below by the previous row's argmins (Knuth-Yao), in
 * vector lanes and over threads.  Pure C11 + libm (+ OpenMP). */
#include "config.h"
#include "codebook.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "round.h"

/* ---- mean |x| ------------------------------------------------------------- */

/* numpy's pairwise summation of float32 (loops_utils.h pairwise_sum):
 * sequential below 8, 8 accumulators up to 128, else halves (the first a
 * multiple of 8). */
static float pairwise_abs(const float *a, int64_t n)
{
	if (n < 8) {
		float res = 0.0f;
		for (int64_t i = 0; i < n; i++)
			res += fabsf(a[i]);
		return res;
	}
	if (n <= 128) {
		float r[8];
		int64_t i;
		for (int j = 0; j < 8; j++)
			r[j] = fabsf(a[j]);
		for (i = 8; i < n - (n % 8); i += 8)
			for (int j = 0; j < 8; j++)
				r[j] += fabsf(a[i + j]);
		float res = ((r[0] + r[1]) + (r[2] + r[3])) +
			    ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += fabsf(a[i]);
		return res;
	}
	int64_t n2 = n / 2;
	n2 -= n2 % 8;
	return pairwise_abs(a, n2) + pairwise_abs(a + n2, n - n2);
}

float qs_codebook_mean_abs(const float *x, int64_t n)
{
	if (n <= 0)
		return 0.0f;
	return pairwise_abs(x, n) / (float)n;
}

/* ---- binary and ternary ------------------------------------------------------ */

qs_status qs_codebook_binary(const float *x, int64_t n, int sign0,
			     float *alpha, float *y, int8_t *codes,
			     qs_error *err)
{
	if (n < 0)
		return qs_fail(err, QS_EINVAL, "n: %lld, need >= 0",
			       (long long)n);
	if (sign0 != 0 && sign0 != 1)
		return qs_fail(err, QS_EINVAL, "sign0: %d, need 1 or 0",
			       sign0);
	float a = *alpha < 0.0f ? qs_codebook_mean_abs(x, n) : *alpha;
	*alpha = a;
	for (int64_t i = 0; i < n; i++) {
		float v = x[i];
		int s = v > 0.0f ? 1 : v < 0.0f ? -1 : v == 0.0f ? sign0 : 0;
		if (codes)
			codes[i] = (int8_t)s;
		if (y)
			y[i] = v != v ? v : (float)s * a;
	}
	return QS_OK;
}

qs_status qs_codebook_binary_stochastic(const float *x, int64_t n,
					uint64_t seed, int64_t idx0, float *y,
					qs_error *err)
{
	if (n < 0)
		return qs_fail(err, QS_EINVAL, "n: %lld, need >= 0",
			       (long long)n);
	for (int64_t i = 0; i < n; i++) {
		float p = (x[i] + 1.0f) / 2.0f; /* hard sigmoid */
		p = p < 0.0f ? 0.0f : p > 1.0f ? 1.0f : p;
		float u = qs_rand_u01(seed, (uint64_t)(idx0 + i));
		y[i] = x[i] != x[i] ? x[i] : u < p ? 1.0f : -1.0f;
	}
	return QS_OK;
}

qs_status qs_codebook_ternary(const float *x, int64_t n, float *delta,
			      float *alpha, float *y, int8_t *codes,
			      qs_error *err)
{
	if (n < 0)
		return qs_fail(err, QS_EINVAL, "n: %lld, need >= 0",
			       (long long)n);
	float d = 0.7f * qs_codebook_mean_abs(x, n);
	float *sel = malloc((size_t)(n > 0 ? n : 1) * sizeof *sel);
	if (!sel)
		return qs_fail(err, QS_ENOMEM,
			       "ternary: no memory for %lld values",
			       (long long)n);
	int64_t m = 0;
	for (int64_t i = 0; i < n; i++)
		if (fabsf(x[i]) > d)
			sel[m++] = x[i];
	/* float32 mean of the selected |x|, numpy's summation order */
	float a = m > 0 ? qs_codebook_mean_abs(sel, m) : 0.0f;
	free(sel);
	for (int64_t i = 0; i < n; i++) {
		float v = x[i];
		int s = fabsf(v) > d ? (v > 0.0f ? 1 : -1) : 0;
		if (codes)
			codes[i] = (int8_t)s;
		if (y)
			y[i] = v != v ? v : (float)s * a;
	}
	if (delta)
		*delta = d;
	if (alpha)
		*alpha = a;
	return QS_OK;
}

qs_status qs_codebook_ttq(const float *x, int64_t n, float t, float wp,
			  float wn, float *delta, float *y, int8_t *codes,
			  qs_error *err)
{
	if (n < 0)
		return qs_fail(err, QS_EINVAL, "n: %lld, need >= 0",
			       (long long)n);
	if (!(t >= 0.0f && t <= 1.0f))
		return qs_fail(err, QS_EINVAL, "t: %g, need 0..1", (double)t);
	float mx = 0.0f;
	for (int64_t i = 0; i < n; i++)
		mx = fmaxf(mx, fabsf(x[i]));
	float d = t * mx;
	for (int64_t i = 0; i < n; i++) {
		float v = x[i];
		int s = v > d ? 1 : v < -d ? -1 : 0;
		if (codes)
			codes[i] = (int8_t)s;
		if (y)
			y[i] = v != v ? v : s > 0 ? wp : s < 0 ? -wn : 0.0f;
	}
	if (delta)
		*delta = d;
	return QS_OK;
}

/* ---- k-means: sorted distinct values ------------------------------------------ */

static const char *const init_names[QS_KMEANS_INIT_COUNT] = {
	"linear", "random", "kmeans++", "optimal"};

void qs_kmeans_default(qs_kmeans_opts *o)
{
	memset(o, 0, sizeof *o);
	o->k = 16;
	o->init = QS_KMEANS_OPTIMAL;
	o->max_iter = 300;
	o->seed = 0;
	o->max_cells = (int64_t)1 << 25;
}

const char *qs_kmeans_init_name(qs_kmeans_init i)
{
	return (unsigned)i < QS_KMEANS_INIT_COUNT ? init_names[i] : NULL;
}

int qs_kmeans_init_parse(const char *name, qs_kmeans_init *out)
{
	for (int i = 0; i < QS_KMEANS_INIT_COUNT; i++)
		if (!strcmp(name, init_names[i])) {
			*out = (qs_kmeans_init)i;
			return 0;
		}
	if (!strcmp(name, "plusplus") || !strcmp(name, "k-means++")) {
		*out = QS_KMEANS_PLUSPLUS;
		return 0;
	}
	return -1;
}

/* Float32 bits mapped to unsigned keys in ascending float order. */
static uint32_t fkey(float f)
{
	uint32_t b;
	memcpy(&b, &f, sizeof b);
	return b ^ ((b >> 31) ? 0xFFFFFFFFu : 0x80000000u);
}

static float keyf(uint32_t k)
{
	uint32_t b = k ^ ((k >> 31) ? 0x80000000u : 0xFFFFFFFFu);
	float f;
	memcpy(&f, &b, sizeof f);
	return f;
}

/* LSD radix sort of n keys, three 11-bit digits; tmp has n entries. */
static void radix_sort(uint32_t *a, uint32_t *tmp, int64_t n)
{
	static const int shifts[3] = {0, 11, 22};
	for (int p = 0; p < 3; p++) {
		int64_t cnt[2049];
		memset(cnt, 0, sizeof cnt);
		int sh = shifts[p];
		for (int64_t i = 0; i < n; i++)
			cnt[((a[i] >> sh) & 2047u) + 1]++;
		for (int d = 0; d < 2048; d++)
			cnt[d + 1] += cnt[d];
		for (int64_t i = 0; i < n; i++)
			tmp[cnt[(a[i] >> sh) & 2047u]++] = a[i];
		uint32_t *t = a;
		a = tmp;
		tmp = t;
	}
	/* three passes: the result is in tmp's original buffer; copy back */
	memcpy(tmp, a, (size_t)n * sizeof *a);
}

/* The sorted data as m points (distinct values, or groups of them) with
 * prefix sums over points 1..m (index 0 is the empty prefix). */
typedef struct pts {
	int64_t m;
	double shift;  /* subtracted from every value in S1, S2 */
	double *W;     /* [m+1] cumulative counts */
	double *S1;    /* [m+1] cumulative sum of (x - shift) */
	double *S2;    /* [m+1] cumulative sum of (x - shift)^2 */
	float *hi;     /* [m] largest value of each point */
	float *lo;     /* [m] smallest value of each point */
} pts;

static void pts_free(pts *p)
{
	free(p->W);
	free(p->S1);
	free(p->S2);
	free(p->hi);
	free(p->lo);
}

/* Build points from sorted keys; group > 1 merges that many consecutive
 * distinct values into one point. */
static int pts_build(pts *p, const uint32_t *key, int64_t n, int64_t group)
{
	memset(p, 0, sizeof *p);
	int64_t distinct = 0;
	for (int64_t i = 0; i < n; i++)
		distinct += i == 0 || keyf(key[i]) != keyf(key[i - 1]);
	int64_t m = (distinct + group - 1) / group;
	p->W = malloc((size_t)(m + 1) * sizeof *p->W);
	p->S1 = malloc((size_t)(m + 1) * sizeof *p->S1);
	p->S2 = malloc((size_t)(m + 1) * sizeof *p->S2);
	p->hi = malloc((size_t)(m > 0 ? m : 1) * sizeof *p->hi);
	p->lo = malloc((size_t)(m > 0 ? m : 1) * sizeof *p->lo);
	if (!p->W || !p->S1 || !p->S2 || !p->hi || !p->lo) {
		pts_free(p);
		return -1;
	}
	p->m = m;
	p->shift = n > 0 ? (double)keyf(key[n / 2]) : 0.0;
	p->W[0] = p->S1[0] = p->S2[0] = 0.0;
	int64_t g = 0, inpt = 0; /* point index, distinct values in it */
	double w = 0, s1 = 0, s2 = 0;
	for (int64_t i = 0; i < n; i++) {
		float v = keyf(key[i]);
		int newval = i == 0 || v != keyf(key[i - 1]);
		if (newval && inpt == group) { /* close point g */
			g++;
			p->W[g] = w;
			p->S1[g] = s1;
			p->S2[g] = s2;
			inpt = 0;
		}
		if (newval) {
			if (inpt == 0)
				p->lo[g] = v;
			inpt++;
		}
		p->hi[g] = v;
		double d = (double)v - p->shift;
		w += 1.0;
		s1 += d;
		s2 += d * d;
	}
	if (n > 0) {
		g++;
		p->W[g] = w;
		p->S1[g] = s1;
		p->S2[g] = s2;
	}
	return 0;
}

/* SSE of points i..j (1-based, inclusive). */
static inline double sse_ij(const pts *p, int64_t i, int64_t j)
{
	double w = p->W[j] - p->W[i - 1];
	double s1 = p->S1[j] - p->S1[i - 1];
	double s2 = p->S2[j] - p->S2[i - 1];
	double c = s2 - s1 * s1 / w;
	return c > 0.0 ? c : 0.0;
}

/* Mean of points i..j. */
static double mean_ij(const pts *p, int64_t i, int64_t j)
{
	return (p->S1[j] - p->S1[i - 1]) / (p->W[j] - p->W[i - 1]) + p->shift;
}

/* ---- optimal: DP rows by divide and conquer ------------------------------------ */

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
	!defined(__SANITIZE_ADDRESS__)
#define QS_CLONES                                                              \
	__attribute__((target_clones("avx2", "default"),                      \
		       optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define QS_CLONES
#endif

/* The DP's columns as arrays: column i reads index i - 1 of w (count),
 * s1 (sum) and a = D[q-1][i-1] - s2 (previous row minus the sum of
 * squares), so entry(j, i) = a[i-1] + s2[j] - s1^2 / w over i..j. */
typedef struct dpcols {
	const int32_t *w; /* counts as int32: less memory traffic */
	const double *s1, *s2;
	double *a;
} dpcols;

#define TILE 256
#define SHORT 24 /* column ranges below this are scanned without tiles */

/* Leftmost minimum over columns i in [lo, hi] of entry(j, i).  Long ranges
 * go in tiles: the values of a tile are computed in vector lanes, their
 * minimum is found on the bit patterns (values are >= 0 up to rounding,
 * clamped at 0, so integer order is float order), and the first index
 * holding it is searched only when it improves. */
static inline __attribute__((always_inline)) int64_t
scan_min(const dpcols *c, int64_t j, int64_t lo, int64_t hi, double *best)
{
	const int32_t *restrict w = c->w;
	const double *restrict s1 = c->s1, *restrict a = c->a;
	const int32_t bw = w[j];
	const double b1 = s1[j], b2 = c->s2[j];
	if (hi - lo < SHORT) {
		double bv = INFINITY;
		int64_t bi = lo;
		for (int64_t i = lo; i <= hi; i++) {
			double d = b1 - s1[i - 1];
			double v = a[i - 1] + b2 - d * d / (double)(bw - w[i - 1]);
			v = v > 0.0 ? v : 0.0;
			if (v < bv) {
				bv = v;
				bi = i;
			}
		}
		*best = bv;
		return bi;
	}
	int64_t bits[TILE];
	int64_t bestb = INT64_MAX, besti = lo;
	for (int64_t t0 = lo; t0 <= hi; t0 += TILE) {
		int len = (int)(hi - t0 + 1 < TILE ? hi - t0 + 1 : TILE);
		const int32_t *ws = w + t0 - 1;
		const double *ss = s1 + t0 - 1, *as = a + t0 - 1;
		int64_t mn = INT64_MAX;
		for (int l = 0; l < len; l++) {
			double d = b1 - ss[l];
			double v = as[l] + b2 - d * d / (double)(bw - ws[l]);
			v = v > 0.0 ? v : 0.0;
			int64_t vb;
			memcpy(&vb, &v, sizeof vb);
			bits[l] = vb;
			mn = vb < mn ? vb : mn;
		}
		if (mn < bestb) {
			int l = 0;
			while (bits[l] != mn)
				l++;
			bestb = mn;
			besti = t0 + l;
		}
	}
	memcpy(best, &bestb, sizeof *best);
	return besti;
}

/* Row minima of rows [jlo, jhi] whose argmins lie in [ilo, ihi], by
 * divide and conquer on the monotone argmins (SSE is a Monge cost: the
 * middle row is scanned, each half inherits its side); explicit stack. */
QS_CLONES
static void dc_rows(const dpcols *c, int32_t *arg, const int32_t *lb,
		    int64_t jlo, int64_t jhi, int64_t ilo, int64_t ihi)
{
	int64_t st[4 * 66];
	int sp = 0;
	for (;;) {
		while (jlo <= jhi) {
			int64_t mid = jlo + (jhi - jlo) / 2;
			double best;
			int64_t b = ihi < mid ? ihi : mid;
			int64_t a = lb && lb[mid] > ilo ? lb[mid] : ilo;
			int64_t bi = scan_min(c, mid, a, b, &best);
			arg[mid] = (int32_t)bi;
			if (mid < jhi) { /* right half for later */
				st[sp++] = mid + 1;
				st[sp++] = jhi;
				st[sp++] = bi;
				st[sp++] = ihi;
			}
			jhi = mid - 1;
			ihi = bi;
		}
		if (sp == 0)
			break;
		ihi = st[--sp];
		ilo = st[--sp];
		jhi = st[--sp];
		jlo = st[--sp];
	}
}

/* One DP row (rows q..m): the top levels run serially and cut the rows
 * into independent pieces that threads share (results do not depend on
 * the thread count: every row's minimum is computed the same way). */
static void dc_row(const dpcols *c, int32_t *arg, const int32_t *lb,
		   int64_t q, int64_t m)
{
	enum { PIECES = 16 };
	int64_t jl[PIECES], jh[PIECES], il[PIECES], ih[PIECES];
	int np = 1;
	jl[0] = q;
	jh[0] = m;
	il[0] = q;
	ih[0] = m;
	while (np < PIECES && m - q > 4096) {
		int w = 0; /* split the piece with the most rows */
		for (int t = 1; t < np; t++)
			if (jh[t] - jl[t] > jh[w] - jl[w])
				w = t;
		if (jh[w] - jl[w] < 2)
			break;
		int64_t mid = jl[w] + (jh[w] - jl[w]) / 2;
		dc_rows(c, arg, lb, mid, mid, il[w], ih[w] < mid ? ih[w] : mid);
		int64_t bi = arg[mid];
		jl[np] = mid + 1;
		jh[np] = jh[w];
		il[np] = bi;
		ih[np] = ih[w];
		jh[w] = mid - 1;
		ih[w] = bi;
		np++;
	}
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) if (np > 1)
#endif
	for (int t = 0; t < np; t++)
		dc_rows(c, arg, lb, jl[t], jh[t], il[t], ih[t]);
}

/* Optimal partition of points 1..m into k intervals; starts[q] (q < k)
 * receives the first point of interval q.  -1 on allocation failure. */
static int dp_optimal(const pts *p, int k, int64_t *starts)
{
	int64_t m = p->m;
	if (k == 1) {
		starts[0] = 1;
		return 0;
	}
	double *a = malloc((size_t)(m + 1) * sizeof *a);
	int32_t *w = malloc((size_t)(m + 1) * sizeof *w);
	int32_t *back = k > 2 ? malloc((size_t)(k - 2) * (size_t)(m + 1) *
				       sizeof *back)
			      : NULL;
	if (!a || !w || (k > 2 && !back)) {
		free(a);
		free(w);
		free(back);
		return -1;
	}
	for (int64_t j = 0; j <= m; j++)
		w[j] = (int32_t)p->W[j];
	dpcols c = {w, p->S1, p->S2, a};
	/* row 1: one cluster over points 1..j */
	a[0] = 0.0 - p->S2[0];
	for (int64_t j = 1; j <= m; j++)
		a[j] = sse_ij(p, 1, j) - p->S2[j];
	for (int q = 2; q < k; q++) {
		/* the previous row's argmins bound this row's from below
		 * (Knuth-Yao: opt[q-1][j] <= opt[q][j], as Ckmeans.1d.dp) */
		const int32_t *lb = q > 2 ? back + (size_t)(q - 3) * (size_t)(m + 1)
					  : NULL;
		int32_t *bq = back + (size_t)(q - 2) * (size_t)(m + 1);
		dc_row(&c, bq, lb, q, m);
		/* D[q][j] from the argmins, in place from the top (a[j] is
		 * only read for columns below j) */
		for (int64_t j = m; j >= q; j--) {
			int64_t i = bq[j];
			double d = p->S1[j] - p->S1[i - 1];
			double v = a[i - 1] + p->S2[j] -
				   d * d / (double)(w[j] - w[i - 1]);
			a[j] = (v > 0.0 ? v : 0.0) - p->S2[j];
		}
		for (int64_t j = 0; j < q; j++)
			a[j] = INFINITY;
	}
	/* last row at j = m only */
	double best;
	int64_t lo = k > 2 ? back[(size_t)(k - 3) * (size_t)(m + 1) + (size_t)m]
			   : k;
	int64_t bi = scan_min(&c, m, lo > k ? lo : k, m, &best);
	starts[k - 1] = bi;
	int64_t j = bi - 1;
	for (int q = k - 1; q >= 2; q--) {
		int64_t i = back[(size_t)(q - 2) * (size_t)(m + 1) + (size_t)j];
		starts[q - 1] = i;
		j = i - 1;
	}
	starts[0] = 1;
	free(a);
	free(w);
	free(back);
	return 0;
}

/* ---- heuristic inits and Lloyd ---------------------------------------------------- */

/* Point holding the element of rank r (0-based) of the sorted data. */
static int64_t point_of_rank(const pts *p, double r)
{
	int64_t lo = 1, hi = p->m;
	while (lo < hi) { /* first point with W[g] > r */
		int64_t mid = (lo + hi) / 2;
		if (p->W[mid] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Value of point g (its mean). */
static double point_value(const pts *p, int64_t g)
{
	return mean_ij(p, g, g);
}

static int init_centroids(const pts *p, const qs_kmeans_opts *o, double *c)
{
	int k = o->k;
	int64_t m = p->m;
	double n = p->W[m];
	if (o->init == QS_KMEANS_LINEAR) {
		double lo = p->lo[0], hi = p->hi[m - 1];
		for (int r = 0; r < k; r++)
			c[r] = k == 1 ? lo : lo + (hi - lo) * r / (k - 1);
		return 0;
	}
	unsigned char *chosen = calloc((size_t)m + 1, 1);
	if (!chosen)
		return -1;
	uint64_t t = 0;
	int have = 0;
	if (o->init == QS_KMEANS_RANDOM) {
		while (have < k && t < (uint64_t)k * 64) {
			double r = floor((double)qs_rand_u01(o->seed, t++) * n);
			int64_t g = point_of_rank(p, r);
			if (!chosen[g]) {
				chosen[g] = 1;
				c[have++] = point_value(p, g);
			}
		}
		for (int64_t g = 1; g <= m && have < k; g++)
			if (!chosen[g]) { /* rare: fill in order */
				chosen[g] = 1;
				c[have++] = point_value(p, g);
			}
	} else { /* k-means++: D^2 sampling weighted by multiplicity */
		double *d2 = malloc((size_t)(m + 1) * sizeof *d2);
		if (!d2) {
			free(chosen);
			return -1;
		}
		int64_t g = point_of_rank(
			p, floor((double)qs_rand_u01(o->seed, t++) * n));
		chosen[g] = 1;
		c[have++] = point_value(p, g);
		for (int64_t h = 1; h <= m; h++) {
			double dv = point_value(p, h) - c[0];
			d2[h] = (p->W[h] - p->W[h - 1]) * dv * dv;
		}
		while (have < k) {
			double tot = 0;
			for (int64_t h = 1; h <= m; h++)
				tot += d2[h];
			int64_t pick = 0;
			if (tot > 0) {
				double u = (double)qs_rand_u01(o->seed, t++) * tot;
				double acc = 0;
				for (int64_t h = 1; h <= m; h++) {
					acc += d2[h];
					if (d2[h] > 0 && acc > u) {
						pick = h;
						break;
					}
				}
				if (!pick) /* rounding at the end */
					for (int64_t h = m; h >= 1 && !pick; h--)
						if (d2[h] > 0)
							pick = h;
			}
			if (!pick)
				for (int64_t h = 1; h <= m && !pick; h++)
					if (!chosen[h])
						pick = h;
			chosen[pick] = 1;
			double cv = point_value(p, pick);
			c[have++] = cv;
			for (int64_t h = 1; h <= m; h++) {
				double dv = point_value(p, h) - cv;
				double nd = (p->W[h] - p->W[h - 1]) * dv * dv;
				if (nd < d2[h])
					d2[h] = nd;
			}
		}
		free(d2);
	}
	free(chosen);
	qsort(c, (size_t)k, sizeof *c, cmp_double);
	return 0;
}

/* Assignment by midpoints: ends[r] = last point of cluster r (points
 * with value <= midpoint go to the lower cluster). */
static void assign(const pts *p, const double *c, int k, int64_t *ends)
{
	for (int r = 0; r + 1 < k; r++) {
		double mid = (c[r] + c[r + 1]) / 2;
		int64_t lo = r ? ends[r - 1] : 0, hi = p->m;
		while (lo < hi) { /* last point with value <= mid */
			int64_t md = (lo + hi + 1) / 2;
			if ((double)p->hi[md - 1] <= mid)
				lo = md;
			else
				hi = md - 1;
		}
		ends[r] = lo;
	}
	ends[k - 1] = p->m;
}

static int lloyd(const pts *p, const qs_kmeans_opts *o, double *c,
		 int64_t *ends)
{
	int k = o->k, it = 0;
	int64_t *prev = malloc((size_t)k * sizeof *prev);
	if (!prev)
		return -1;
	assign(p, c, k, ends);
	while (it < o->max_iter) {
		it++;
		for (int r = 0; r < k; r++) {
			int64_t a = r ? ends[r - 1] : 0, b = ends[r];
			if (b > a) /* empty clusters keep their centroid */
				c[r] = mean_ij(p, a + 1, b);
		}
		qsort(c, (size_t)k, sizeof *c, cmp_double);
		memcpy(prev, ends, (size_t)k * sizeof *prev);
		assign(p, c, k, ends);
		if (!memcmp(prev, ends, (size_t)k * sizeof *prev))
			break;
	}
	free(prev);
	return it;
}

/* Labels of a block: the count of upper boundaries ub[0..kk-2] below
 * each value (clusters are intervals of the sorted values). */
QS_CLONES
static void label_block(const float *restrict x, int len, const float *ub,
			int kk, const float *centroids, uint16_t *labels,
			float *y)
{
	int32_t lab[1024];
	for (int i = 0; i < len; i++)
		lab[i] = 0;
	for (int t = 0; t + 1 < kk; t++) {
		const float u = ub[t];
		for (int i = 0; i < len; i++)
			lab[i] += u < x[i];
	}
	for (int i = 0; i < len; i++) {
		if (labels)
			labels[i] = (uint16_t)lab[i];
		if (y)
			y[i] = centroids[lab[i]];
	}
}

/* ---- driver ----------------------------------------------------------------------- */

qs_status qs_codebook_kmeans(const float *x, int64_t n,
			     const qs_kmeans_opts *o, float *centroids,
			     uint16_t *labels, float *y, qs_kmeans_result *res,
			     qs_error *err)
{
	int k = o->k;
	if (k < 1 || k > 65536)
		return qs_fail(err, QS_EINVAL, "k: %d, need 1..65536", k);
	if ((unsigned)o->init >= QS_KMEANS_INIT_COUNT)
		return qs_fail(err, QS_EINVAL,
			       "init: %d (linear, random, kmeans++, optimal)",
			       (int)o->init);
	if (n < 0 || n > INT32_MAX)
		return qs_fail(err, QS_EINVAL, "n: %lld, need 0..%d",
			       (long long)n, INT32_MAX);
	for (int64_t i = 0; i < n; i++)
		if (isnan(x[i]) || isinf(x[i]))
			return qs_fail(err, QS_EINVAL,
				       "kmeans: x[%lld] is %g; need finite "
				       "values",
				       (long long)i, (double)x[i]);
	qs_kmeans_result r0 = {0, 0, 0, 0, 0};
	if (n == 0) {
		if (res)
			*res = r0;
		return QS_OK;
	}
	uint32_t *key = malloc((size_t)n * sizeof *key);
	uint32_t *tmp = malloc((size_t)n * sizeof *tmp);
	if (!key || !tmp) {
		free(key);
		free(tmp);
		return qs_fail(err, QS_ENOMEM, "kmeans: no memory for %lld "
					       "values",
			       (long long)n);
	}
	for (int64_t i = 0; i < n; i++)
		key[i] = fkey(x[i] == 0.0f ? 0.0f : x[i]); /* -0 -> +0 */
	radix_sort(key, tmp, n);
	free(tmp);
	int64_t distinct = 0;
	for (int64_t i = 0; i < n; i++)
		distinct += i == 0 || key[i] != key[i - 1];
	int64_t group = 1;
	int optimal = o->init == QS_KMEANS_OPTIMAL && distinct > k;
	if (optimal && o->max_cells > 0 && distinct * (int64_t)k > o->max_cells) {
		int64_t target = o->max_cells / k;
		if (target < k)
			target = k;
		group = (distinct + target - 1) / target;
	}
	pts p;
	if (pts_build(&p, key, n, group) != 0) {
		free(key);
		return qs_fail(err, QS_ENOMEM, "kmeans: no memory for %lld "
					       "points",
			       (long long)distinct);
	}
	free(key);
	int64_t m = p.m;
	int kk = distinct < k ? (int)distinct : k; /* clusters in use */
	double *c = malloc((size_t)k * sizeof *c);
	int64_t *ends = malloc((size_t)k * sizeof *ends);
	int64_t *starts = malloc((size_t)k * sizeof *starts);
	int fail = !c || !ends || !starts;
	r0.points = m;
	r0.grouped = group > 1;
	if (!fail && kk < k) { /* every distinct value is a centroid */
		for (int64_t g = 0; g < m; g++) {
			c[g] = p.lo[g];
			ends[g] = g + 1;
		}
	} else if (!fail && o->init == QS_KMEANS_OPTIMAL) {
		fail = dp_optimal(&p, k, starts) != 0;
		for (int q = 0; !fail && q < k; q++) {
			ends[q] = q + 1 < k ? starts[q + 1] - 1 : m;
			c[q] = mean_ij(&p, starts[q], ends[q]);
		}
	} else if (!fail) {
		fail = init_centroids(&p, o, c) != 0;
		if (!fail) {
			int it = lloyd(&p, o, c, ends);
			fail = it < 0;
			r0.iterations = it;
		}
	}
	if (fail) {
		free(c);
		free(ends);
		free(starts);
		pts_free(&p);
		return qs_fail(err, QS_ENOMEM, "kmeans: out of memory");
	}
	/* float centroids, the SSE over the points, the labels */
	double sse = 0;
	for (int r = 0; r < kk; r++) {
		int64_t a = r ? ends[r - 1] : 0, b = ends[r];
		float cv = (float)c[r];
		double cd = (double)cv - p.shift;
		/* sum over points a+1..b of (x - c)^2 = S2 - 2 c S1 + c^2 W */
		if (b > a) {
			double w = p.W[b] - p.W[a], s1 = p.S1[b] - p.S1[a];
			double s2 = p.S2[b] - p.S2[a];
			double e = s2 - 2 * cd * s1 + cd * cd * w;
			sse += e > 0 ? e : 0;
		}
		centroids[r] = cv;
	}
	for (int r = kk; r < k; r++)
		centroids[r] = centroids[kk - 1];
	/* upper boundary value of each cluster (empty clusters: -inf, so the
	 * search skips them) */
	float *ub = malloc((size_t)k * sizeof *ub);
	if (!ub) {
		free(c);
		free(ends);
		free(starts);
		pts_free(&p);
		return qs_fail(err, QS_ENOMEM, "kmeans: out of memory");
	}
	for (int r = 0; r < kk; r++) {
		int64_t a = r ? ends[r - 1] : 0, b = ends[r];
		ub[r] = b > a ? p.hi[b - 1] : (r ? ub[r - 1] : -INFINITY);
	}
	if (labels || y) {
		/* label = number of clusters whose upper boundary is below x,
		 * counted in vector lanes over blocks of elements */
		int64_t nblk = (n + 1023) / 1024;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (n > 65536)
#endif
		for (int64_t bk = 0; bk < nblk; bk++) {
			int64_t o = bk * 1024;
			int len = (int)(n - o < 1024 ? n - o : 1024);
			label_block(x + o, len, ub, kk, centroids,
				    labels ? labels + o : NULL, y ? y + o : NULL);
		}
	}
	free(ub);
	r0.sse = sse;
	r0.k_used = kk;
	if (res)
		*res = r0;
	free(c);
	free(ends);
	free(starts);
	pts_free(&p);
	return QS_OK;
}

/* ---- log2 ---------------------------------------------------------------------- */

/* Rounded exponent of a > 0: log domain (m^2 >= 2 exactly in double) or
 * by value (m >= 1.5). */
static int round_log2(float a, int log_round)
{
	int e;
	double m = frexp((double)a, &e) * 2.0; /* a = m 2^(e-1), m in [1,2) */
	e -= 1;
	if (log_round ? m * m >= 2.0 : m >= 1.5)
		e++;
	return e;
}

qs_status qs_codebook_log2(const float *x, int64_t n, int bits, int *emax,
			   int log_round, float *y, int16_t *codes,
			   int64_t *clipped, qs_error *err)
{
	if (n < 0)
		return qs_fail(err, QS_EINVAL, "n: %lld, need >= 0",
			       (long long)n);
	if (bits < 2 || bits > 16)
		return qs_fail(err, QS_EINVAL, "log2 bits: %d, need 2..16",
			       bits);
	int L = (1 << (bits - 1)) - 1;
	int hi = *emax;
	if (hi == INT32_MIN) {
		float amax = 0.0f;
		for (int64_t i = 0; i < n; i++)
			if (!isinf(x[i]))
				amax = fmaxf(amax, fabsf(x[i]));
		hi = amax > 0.0f ? round_log2(amax, log_round) : 0;
	}
	if (hi > 127)
		return qs_fail(err, QS_EINVAL, "log2 emax: %d, need <= 127",
			       hi);
	*emax = hi;
	int lo = hi - L + 1;
	int64_t clip = 0;
	for (int64_t i = 0; i < n; i++) {
		float v = x[i];
		float a = fabsf(v);
		int code = 0;
		float out;
		if (v != v) {
			out = v;
		} else if (a == 0.0f) {
			out = 0.0f;
		} else {
			int e = isinf(a) ? hi + 1 : round_log2(a, log_round);
			if (e > hi) {
				e = hi;
				clip++;
			}
			if (e < lo) /* nearest of 0 and 2^lo by value */
				e = (double)a > ldexp(1.0, lo - 1) ? lo : INT32_MIN;
			if (e == INT32_MIN) {
				out = 0.0f;
			} else {
				code = e - lo + 1;
				out = ldexpf(1.0f, e);
			}
			if (v < 0) {
				code = -code;
				out = -out;
			}
		}
		if (codes)
			codes[i] = (int16_t)code;
		if (y)
			y[i] = out;
	}
	if (clipped)
		*clipped = clip;
	return QS_OK;
}
