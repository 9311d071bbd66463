/* calib: clipping-range methods.  Each method is a pure function of a
 * contiguous run of float32 values and of the target grid; non-finite
 * values are skipped.  Histogram methods build the anchor's histogram
 * (hist.c) and run its search; docs/calibration.md gives each method's
 * source and formula.  Pure C11 + libm (+ OpenMP); no printing. */
#include "config.h"
#include "calib.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

#define CHUNK 65536

/* Names of the methods, indexed by qs_calib_method. */
static const char *const names[QS_CALIB_COUNT] = {
	[QS_CALIB_NONE] = "none",
	[QS_CALIB_MINMAX] = "minmax",
	[QS_CALIB_EMA] = "ema",
	[QS_CALIB_PERCENTILE] = "percentile",
	[QS_CALIB_PERCENTILE_HIST] = "percentile_hist",
	[QS_CALIB_ENTROPY] = "entropy",
	[QS_CALIB_ENTROPY_ORT] = "entropy_ort",
	[QS_CALIB_MSE] = "mse",
	[QS_CALIB_MSE_EXACT] = "mse_exact",
	[QS_CALIB_HIST_L2] = "hist_l2",
	[QS_CALIB_ACIQ] = "aciq",
	[QS_CALIB_SQNR] = "sqnr",
	[QS_CALIB_FIXED] = "fixed",
};

static const char *const prior_names[] = {"auto", "laplace", "gauss"};

const char *qs_calib_name(qs_calib_method m)
{
	return (unsigned)m < QS_CALIB_COUNT ? names[m] : NULL;
}

int qs_calib_parse(const char *name, qs_calib_method *out)
{
	if (!name)
		return -1;
	for (int i = 0; i < QS_CALIB_COUNT; i++)
		if (names[i] && strcmp(name, names[i]) == 0) {
			*out = (qs_calib_method)i;
			return 0;
		}
	return -1;
}

const char *qs_calib_names(void)
{
	/* every entry of names[], comma separated (kept in step by hand) */
	return "none, minmax, ema, percentile, percentile_hist, entropy, "
	       "entropy_ort, mse, mse_exact, hist_l2, aciq, sqnr, fixed";
}

const char *qs_aciq_prior_name(qs_aciq_prior p)
{
	return (unsigned)p < 3 ? prior_names[p] : NULL;
}

int qs_aciq_prior_parse(const char *name, qs_aciq_prior *out)
{
	for (int i = 0; name && i < 3; i++)
		if (strcmp(name, prior_names[i]) == 0) {
			*out = (qs_aciq_prior)i;
			return 0;
		}
	return -1;
}

int qs_calib_uses_hist(qs_calib_method m)
{
	return m == QS_CALIB_PERCENTILE_HIST || m == QS_CALIB_ENTROPY ||
	       m == QS_CALIB_ENTROPY_ORT || m == QS_CALIB_MSE ||
	       m == QS_CALIB_HIST_L2 || m == QS_CALIB_SQNR;
}

int64_t qs_calib_default_bins(qs_calib_method m)
{
	return m == QS_CALIB_SQNR ? 512 : 2048;
}

qs_status qs_calib_check(const qs_calib *c, qs_error *err)
{
	if (!c)
		return qs_fail(err, QS_EINVAL, "calibration: no parameters");
	if ((unsigned)c->method >= QS_CALIB_COUNT || !names[c->method])
		return qs_fail(err, QS_EINVAL,
			       "unknown calibration method %d (accepted: %s)",
			       (int)c->method, qs_calib_names());
	if (c->percentile != 0 &&
	    !(c->percentile > 0 && c->percentile <= 100))
		return qs_fail(err, QS_EINVAL,
			       "percentile %g out of range (accepted: (0, 100])",
			       c->percentile);
	if (c->bins != 0 && (c->bins < 2 || c->bins > (1 << 24)))
		return qs_fail(err, QS_EINVAL,
			       "bins %d out of range (accepted: 2..16777216)",
			       c->bins);
	if (c->c != 0 && !(c->c > 0 && c->c <= 1))
		return qs_fail(err, QS_EINVAL,
			       "EMA constant c %g out of range (accepted: "
			       "(0, 1])",
			       c->c);
	if (c->batches < 0)
		return qs_fail(err, QS_EINVAL,
			       "batches %lld out of range (accepted: >= 0)",
			       (long long)c->batches);
	if ((unsigned)c->prior > QS_ACIQ_GAUSS)
		return qs_fail(err, QS_EINVAL,
			       "ACIQ prior %d unknown (accepted: auto, laplace, "
			       "gauss)",
			       (int)c->prior);
	if (c->method == QS_CALIB_FIXED &&
	    !(isfinite(c->lo) && isfinite(c->hi) && c->lo <= c->hi))
		return qs_fail(err, QS_EINVAL,
			       "fixed range needs finite lo <= hi (got %g, %g)",
			       c->lo, c->hi);
	return QS_OK;
}

void qs_grid_default(qs_grid *g, int bits, int is_unsigned, int symmetric,
		     int narrow)
{
	memset(g, 0, sizeof *g);
	g->bits = bits;
	g->is_unsigned = is_unsigned;
	g->symmetric = symmetric;
	g->narrow = narrow;
	if (bits < 1 || bits > 16)
		return;
	int64_t full = ((int64_t)1 << bits) - 1;
	if (is_unsigned) {
		g->qmin = 0;
		g->qmax = full;
	} else {
		int64_t pos = ((int64_t)1 << (bits - 1)) - 1;
		g->qmax = pos;
		g->qmin = symmetric && narrow ? -pos : -pos - 1;
	}
}

/* ---- finite statistics -------------------------------------------------- */

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
#define SEL(m, a, b) ((v4f)(((m) & (v4i)(a)) | (~(m) & (v4i)(b))))

/* Count, min and max of the finite values (four lanes; v - v is NaN for
 * NaN and +-Inf); n <= CHUNK keeps the lane counters small.  Returns the
 * count; lo/hi are 0 when it is 0. */
static size_t finite_minmax(const float *x, size_t n, float *lo, float *hi)
{
	const v4f z = {0}, pinf = z + INFINITY, ninf = z - INFINITY;
	v4f l = pinf, h = ninf;
	v4i cnt = {0};
	size_t i = 0, m;
	for (; i + 4 <= n; i += 4) {
		v4f v;
		memcpy(&v, x + i, sizeof v);
		v4i fin = (v - v) == z;
		cnt -= fin;
		v4f vl = SEL(fin, v, pinf), vh = SEL(fin, v, ninf);
		l = SEL(vl < l, vl, l);
		h = SEL(vh > h, vh, h);
	}
	float a = INFINITY, b = -INFINITY;
	m = 0;
	for (int k = 0; k < 4; k++) {
		a = l[k] < a ? l[k] : a;
		b = h[k] > b ? h[k] : b;
		m += (size_t)(uint32_t)cnt[k];
	}
	for (; i < n; i++)
		if (isfinite(x[i])) {
			m++;
			a = x[i] < a ? x[i] : a;
			b = x[i] > b ? x[i] : b;
		}
	if (!m) {
		*lo = *hi = 0.0f;
		return 0;
	}
	*lo = a;
	*hi = b;
	return m;
}

/* finite_minmax over chunks (lane counters stay far from overflow),
 * OpenMP over chunks for long runs. */
static size_t stats(const float *x, size_t n, float *lo, float *hi)
{
	int64_t nch = (int64_t)((n + CHUNK - 1) / CHUNK);
	size_t m = 0;
	float a = INFINITY, b = -INFINITY;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (n >= 4 * CHUNK)                \
	reduction(+ : m) reduction(min : a) reduction(max : b)
#endif
	for (int64_t c = 0; c < nch; c++) {
		size_t s = (size_t)c * CHUNK, e = s + CHUNK < n ? s + CHUNK : n;
		float l, h;
		size_t k = finite_minmax(x + s, e - s, &l, &h);
		if (k) {
			m += k;
			a = l < a ? l : a;
			b = h > b ? h : b;
		}
	}
	if (!m) {
		*lo = *hi = 0.0f;
		return 0;
	}
	*lo = a;
	*hi = b;
	return m;
}

/* ---- EMA ------------------------------------------------------------------ */

/* PyTorch MovingAverageMinMaxObserver: the first batch sets min/max, each
 * later batch moves them by c * (batch value - current), in float32.
 * Batches without finite values are skipped. */
static void ema(const float *x, size_t n, int64_t batches, float c, float *lo,
		float *hi)
{
	if (batches < 2 || (size_t)batches > n) {
		stats(x, n, lo, hi);
		return;
	}
	size_t per = n / (size_t)batches;
	int have = 0;
	float mn = 0, mx = 0;
	for (int64_t b = 0; b < batches; b++) {
		size_t a = (size_t)b * per;
		size_t e = b + 1 == batches ? n : a + per;
		float l, h;
		if (!stats(x + a, e - a, &l, &h))
			continue;
		if (!have) {
			mn = l;
			mx = h;
			have = 1;
		} else {
			mn = mn + c * (l - mn);
			mx = mx + c * (h - mx);
		}
	}
	*lo = mn;
	*hi = mx;
}

/* ---- exact percentile: introselect -------------------------------------- */

static inline void swapf(float *a, float *b)
{
	float t = *a;
	*a = *b;
	*b = t;
}

/* Insertion sort of v[lo..hi]. */
static void isort(float *v, size_t lo, size_t hi)
{
	for (size_t i = lo + 1; i <= hi; i++) {
		float t = v[i];
		size_t j = i;
		while (j > lo && v[j - 1] > t) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = t;
	}
}

static float select_kth(float *v, size_t lo, size_t hi, size_t k, int depth);

/* Median of medians of five over v[lo..hi] (BFPRT pivot): the medians are
 * gathered at the front and their median selected recursively.  Used
 * only when quickselect has made too many poor partitions, it bounds the
 * whole selection to O(n). */
static float mom_pivot(float *v, size_t lo, size_t hi)
{
	size_t n = hi - lo + 1, g = 0;
	for (size_t i = lo; i + 4 <= hi; i += 5) {
		isort(v, i, i + 4);
		swapf(&v[lo + g], &v[i + 2]);
		g++;
	}
	if (g == 0) {
		isort(v, lo, hi);
		return v[lo + n / 2];
	}
	return select_kth(v, lo, lo + g - 1, lo + g / 2, 0);
}

/* The k-th smallest (0-based, absolute index) of v[lo..hi]: Hoare
 * quickselect with a median-of-three pivot, switching to the median of
 * medians once depth runs out (introselect).  v is reordered so that
 * v[lo..k) <= v[k] <= v(k..hi]. */
static float select_kth(float *v, size_t lo, size_t hi, size_t k, int depth)
{
	while (lo < hi) {
		if (hi - lo < 16) {
			isort(v, lo, hi);
			return v[k];
		}
		float p;
		if (depth-- > 0) {
			size_t mid = lo + (hi - lo) / 2;
			float a = v[lo], b = v[mid], c = v[hi];
			p = a < b ? (b < c ? b : (a < c ? c : a))
				  : (a < c ? a : (b < c ? c : b));
		} else {
			p = mom_pivot(v, lo, hi);
		}
		/* three-way partition: < p | == p | > p */
		size_t lt = lo, i = lo, gt = hi;
		while (i <= gt) {
			if (v[i] < p) {
				swapf(&v[lt++], &v[i++]);
			} else if (v[i] > p) {
				swapf(&v[i], &v[gt]);
				if (gt == 0)
					break;
				gt--;
			} else {
				i++;
			}
		}
		if (k < lt)
			hi = lt - 1;
		else if (k > gt)
			lo = gt + 1;
		else
			return p;
	}
	return v[k];
}

static int depth_for(size_t n)
{
	int d = 0;
	while (n > 1) {
		n >>= 1;
		d++;
	}
	return 2 * d + 2;
}

/* Brevitas' exact percentile rank: the k-th smallest value with
 * k = floor(0.01 * q * N + 0.5), 1-based, clamped to [1, N]. */
static size_t rank_of(double q, size_t n)
{
	double k = floor(0.01 * q * (double)n + 0.5);
	if (k < 1)
		k = 1;
	if (k > (double)n)
		k = (double)n;
	return (size_t)k - 1;
}

float qs_calib_select(float *v, size_t n, size_t k)
{
	return select_kth(v, 0, n - 1, k, depth_for(n));
}

static qs_status percentile(const qs_calib *c, const float *x, size_t n,
			    const qs_grid *g, float *lo, float *hi,
			    qs_error *err)
{
	double p = c->percentile ? c->percentile : 99.99;
	float *v = malloc((n ? n : 1) * sizeof *v);
	if (!v)
		return qs_fail(err, QS_ENOMEM, "out of memory");
	size_t m = 0;
	int neg = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(x[i])) {
			v[m++] = g->symmetric ? fabsf(x[i]) : x[i];
			neg |= x[i] < 0;
		}
	if (!m) {
		*lo = *hi = 0.0f;
	} else if (g->symmetric) {
		float a = qs_calib_select(v, m, rank_of(p, m));
		*lo = neg ? -a : 0.0f;
		*hi = a;
	} else {
		size_t kh = rank_of(p, m), kl = rank_of(100.0 - p, m);
		*hi = qs_calib_select(v, m, kh);
		/* v[0..kh) <= v[kh] now: the low rank lies in that part */
		*lo = kl < kh ? select_kth(v, 0, kh, kl, depth_for(kh + 1))
			      : *hi;
	}
	free(v);
	return QS_OK;
}

/* ---- the engine's quantizer model (mse_exact) ---------------------------- */

/* Codes of a grid: qmin/qmax as given, or the defaults of bits. */
static void grid_codes(const qs_grid *g, double *qmin, double *qmax)
{
	if (g->qmin < g->qmax) {
		*qmin = (double)g->qmin;
		*qmax = (double)g->qmax;
		return;
	}
	qs_grid d;
	qs_grid_default(&d, g->bits, g->is_unsigned, g->symmetric, g->narrow);
	*qmin = (double)d.qmin;
	*qmax = (double)d.qmax;
}

/* Scale and zero point of the range [lo, hi] under the engine's default
 * conventions (quant.h): symmetric amax / (2^(N-1) - 1) or, unsigned,
 * hi / qmax; asymmetric (hi - lo) / (2^N - 1) with zp = qmin - rne(lo/s)
 * clamped; the range always holds 0. */
static void model_qparams(const qs_grid *g, float lo, float hi, float *sc,
			  float *zp)
{
	double qmin, qmax;
	grid_codes(g, &qmin, &qmax);
	float lo0 = lo < 0.0f ? lo : 0.0f, hi0 = hi > 0.0f ? hi : 0.0f, s;
	float z = 0.0f;
	if (g->symmetric) {
		if (g->is_unsigned) {
			s = hi0 / (float)qmax;
		} else {
			float am = -lo0 > hi0 ? -lo0 : hi0;
			s = am / (float)(((int64_t)1 << (g->bits - 1)) - 1);
		}
		if (!(s > 0.0f) || !isfinite(s))
			s = 1.0f;
	} else {
		s = (hi0 - lo0) / (float)(((int64_t)1 << g->bits) - 1);
		if (!(s > 0.0f) || !isfinite(s))
			s = 1.0f;
		z = (float)qmin - nearbyintf(lo0 / s);
		z = z < (float)qmin ? (float)qmin : z;
		z = z > (float)qmax ? (float)qmax : z;
	}
	*sc = s;
	*zp = z;
}

/* Squared quantization error of one chunk: q = clamp(rne(x/s) + z),
 * (q - z) * s; four lanes, rounding by the 1.5*2^23 trick (exact while
 * |x/s| < 2^22; beyond that every grid clamps anyway). */
static double chunk_sse(const float *x, size_t n, float s, float z,
			float qlo, float qhi)
{
	const v4f zero = {0}, mg = zero + 12582912.0f, vs = zero + s,
		  vz = zero + z, vl = zero + qlo, vh = zero + qhi,
		  big = zero + 4194304.0f;
	v4f acc = zero;
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		v4f xv;
		memcpy(&xv, x + i, sizeof xv);
		v4i fin = (xv - xv) == zero;
		v4f t = SEL(fin, xv / vs, zero);
		t = SEL(t > big, big, t);
		t = SEL(t < -big, -big, t);
		v4f r = (t + mg) - mg + vz;
		r = SEL(r < vl, vl, r);
		r = SEL(r > vh, vh, r);
		v4f e = (r - vz) * vs - xv;
		acc += SEL(fin, e * e, zero);
	}
	double sum = (double)acc[0] + acc[1] + acc[2] + acc[3];
	for (; i < n; i++) {
		if (!isfinite(x[i]))
			continue;
		float r = nearbyintf(x[i] / s) + z;
		r = r < qlo ? qlo : r > qhi ? qhi : r;
		float e = (r - z) * s - x[i];
		sum += (double)e * e;
	}
	return sum;
}

/* Sum of squared errors of the range [lo, hi] over the run: fixed chunks,
 * partial sums added in chunk order (thread-count independent). */
static double range_sse(const float *x, size_t n, const qs_grid *g, float lo,
			float hi, double *part)
{
	double qmin, qmax;
	grid_codes(g, &qmin, &qmax);
	float s, z;
	model_qparams(g, lo, hi, &s, &z);
	int64_t nch = (int64_t)((n + CHUNK - 1) / CHUNK);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (n >= 4 * CHUNK)
#endif
	for (int64_t c = 0; c < nch; c++) {
		size_t a = (size_t)c * CHUNK, b = a + CHUNK < n ? a + CHUNK : n;
		part[c] = chunk_sse(x + a, b - a, s, z, (float)qmin,
				    (float)qmax);
	}
	double sum = 0.0;
	for (int64_t c = 0; c < nch; c++)
		sum += part[c];
	return sum;
}

typedef struct mse_ctx {
	const float *x;
	size_t n;
	const qs_grid *g;
	double *part;
	float lo0, hi0; /* the full range */
	int mode;       /* 0: [t lo0, t hi0]; 1: [t lo0, hi0]; 2: [lo0, t hi0] */
	float flo, fhi; /* fixed end for modes 1 and 2 */
} mse_ctx;

static void mse_range(const mse_ctx *c, double t, float *lo, float *hi)
{
	*lo = c->mode == 2 ? c->flo : (float)(t * c->lo0);
	*hi = c->mode == 1 ? c->fhi : (float)(t * c->hi0);
}

static double mse_eval(const mse_ctx *c, double t)
{
	float lo, hi;
	mse_range(c, t, &lo, &hi);
	return range_sse(c->x, c->n, c->g, lo, hi, c->part);
}

/* Golden-section refinement of f on [a, b]; updates the best point. */
static void golden(const mse_ctx *c, double a, double b, int iters,
		   double *bt, double *bv)
{
	const double gr = 0.6180339887498949;
	double x1 = b - gr * (b - a), x2 = a + gr * (b - a);
	double f1 = mse_eval(c, x1), f2 = mse_eval(c, x2);
	for (int it = 0;; it++) {
		if (f1 < *bv || (f1 == *bv && x1 < *bt)) {
			*bv = f1;
			*bt = x1;
		}
		if (f2 < *bv || (f2 == *bv && x2 < *bt)) {
			*bv = f2;
			*bt = x2;
		}
		if (it == iters)
			break;
		if (f1 <= f2) {
			b = x2;
			x2 = x1;
			f2 = f1;
			x1 = b - gr * (b - a);
			f1 = mse_eval(c, x1);
		} else {
			a = x1;
			x1 = x2;
			f1 = f2;
			x2 = a + gr * (b - a);
			f2 = mse_eval(c, x2);
		}
	}
}

#define GRID 128
#define KEEP 3

/* One-parameter search of f(t) on (0, 1]: a grid t = k / GRID, then a
 * golden-section refinement between the neighbours of each of the KEEP
 * best grid points; the best point evaluated anywhere wins (ties: the
 * smaller t).  The error curve has many shallow local minima (rounding),
 * hence several starts. */
static double search_1d(const mse_ctx *c, int iters, double *best_t)
{
	double v[GRID + 1], bt = 1.0, bv = INFINITY;
	for (int k = 1; k <= GRID; k++) {
		v[k] = mse_eval(c, (double)k / GRID);
		if (v[k] < bv) {
			bv = v[k];
			bt = (double)k / GRID;
		}
	}
	int used[GRID + 1] = {0};
	for (int r = 0; r < KEEP; r++) {
		int bk = 0;
		for (int k = 1; k <= GRID; k++)
			if (!used[k] && (bk == 0 || v[k] < v[bk]))
				bk = k;
		if (!bk || !isfinite(v[bk]))
			break;
		used[bk] = 1;
		double a = (double)(bk - 1) / GRID;
		double b = bk < GRID ? (double)(bk + 1) / GRID : 1.0;
		golden(c, a > 0 ? a : 0.5 / GRID, b, iters, &bt, &bv);
	}
	*best_t = bt;
	return bv;
}

/* mse_exact: the range minimizing the true quantization MSE of the run
 * under the engine's quantizer.  Symmetric grids search amax = t max|x|;
 * asymmetric grids search [t lo, t hi], then refine each end alone. */
static qs_status mse_exact(const float *x, size_t n, const qs_grid *g,
			   float mn, float mx, float *lo, float *hi,
			   qs_error *err)
{
	int64_t nch = (int64_t)((n + CHUNK - 1) / CHUNK);
	double *part = malloc((size_t)(nch ? nch : 1) * sizeof *part);
	if (!part)
		return qs_fail(err, QS_ENOMEM, "out of memory");
	mse_ctx c = {x, n, g, part, 0, 0, 0, 0, 0};
	double t;
	if (g->symmetric) {
		float am = fabsf(mn) > fabsf(mx) ? fabsf(mn) : fabsf(mx);
		if (g->is_unsigned)
			am = mx > 0 ? mx : 0.0f;
		c.lo0 = -am;
		c.hi0 = am;
		search_1d(&c, 24, &t);
		float a = (float)(t * am);
		*lo = -a > mn ? -a : mn;
		*hi = a < mx ? a : mx;
	} else {
		c.lo0 = mn < 0 ? mn : 0.0f;
		c.hi0 = mx > 0 ? mx : 0.0f;
		search_1d(&c, 24, &t);
		float l = (float)(t * c.lo0), h = (float)(t * c.hi0);
		if (c.lo0 < 0) { /* the low end alone, high end fixed */
			c.mode = 1;
			c.fhi = h;
			search_1d(&c, 16, &t);
			l = (float)(t * c.lo0);
		}
		if (c.hi0 > 0) { /* then the high end */
			c.mode = 2;
			c.flo = l;
			search_1d(&c, 16, &t);
			h = (float)(t * c.hi0);
		}
		*lo = l > mn ? l : mn;
		*hi = h < mx ? h : mx;
	}
	free(part);
	return QS_OK;
}

/* ---- ACIQ ------------------------------------------------------------------- */

/* Optimal clip alpha / b (Laplace(0, b)) and alpha / sigma (Gauss(0,
 * sigma)) for M bits: the minimizers of the closed-form error models of
 * Banner et al. (CALIBRATION.md 2.7).  M = 1..8 are the reference table
 * (scipy minimize_scalar); 9..17 come from the same models minimized by
 * tests/data/calib/aciq_table.py. */
static const double aciq_laplace[18] = {
	0.0,          1.86281686,   2.83068299,   3.89722946,   5.02864014,
	6.20476633,   7.41312622,   8.64561995,   9.89675982,   11.162685059,
	12.440591303, 13.728384733, 15.024464805, 16.327583127, 17.636748673,
	18.951162500, 20.270171668, 21.593236356};
static const double aciq_gauss[18] = {
	0.0,         1.23990529,  1.71063516,  2.15159274,  2.55913647,
	2.93620071,  3.28691432,  3.61511392,  3.92403223,  4.216332821,
	4.494162757, 4.759294774, 5.013243594, 5.257127628, 5.492073843,
	5.718978607, 5.938000288, 6.149504828};

double qs_calib_aciq_ratio(qs_aciq_prior prior, int bits)
{
	if (bits < 1 || bits > 17)
		return NAN;
	return prior == QS_ACIQ_GAUSS ? aciq_gauss[bits] : aciq_laplace[bits];
}

qs_status qs_calib_aciq_stats(const float *x, size_t n, double *mean,
			      double *b, double *sigma)
{
	double s = 0.0;
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(x[i])) {
			s += x[i];
			m++;
		}
	if (!m)
		return QS_EINVAL;
	double mu = s / (double)m, ab = 0.0, sq = 0.0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(x[i])) {
			double d = (double)x[i] - mu;
			ab += fabs(d);
			sq += d * d;
		}
	*mean = mu;
	*b = ab / (double)m;
	*sigma = m > 1 ? sqrt(sq / (double)(m - 1)) : 0.0;
	return QS_OK;
}

/* The ACIQ range of clip alpha on grid g (one-sided: M+1 table). */
static void aciq_range(double a, double mu, int one, const qs_grid *g,
		       float mn, float mx, float *lo, float *hi)
{
	if (!(a > 0)) {
		*lo = mn;
		*hi = mx;
	} else if (one) { /* [0, mean + alpha] */
		double h = (mu > 0 ? mu : 0.0) + a;
		*lo = mn;
		*hi = h < mx ? (float)h : mx;
	} else if (g->symmetric) { /* clip to +-alpha */
		*lo = -a > mn ? (float)-a : mn;
		*hi = a < mx ? (float)a : mx;
	} else if (a >= ((double)mx - mn) / 2) { /* wider than the data */
		*lo = mn;
		*hi = mx;
	} else { /* 2 alpha wide, starting at max(min, mean - alpha) */
		double l = mu - a > mn ? mu - a : mn;
		*lo = (float)l;
		*hi = (float)(l + 2 * a) < mx ? (float)(l + 2 * a) : mx;
	}
}

static qs_status aciq(const qs_calib *c, const float *x, size_t n,
		      const qs_grid *g, float mn, float mx, float *lo,
		      float *hi, qs_error *err)
{
	double mu, b, sg;
	qs_calib_aciq_stats(x, n, &mu, &b, &sg);
	/* one-sided data use every level on one side: the table of M + 1 */
	int M = g->bits > 16 ? 16 : g->bits < 1 ? 1 : g->bits;
	int one = mn >= 0.0f, Mt = one ? M + 1 : M;
	double aL = aciq_laplace[Mt] * b, aG = aciq_gauss[Mt] * sg;
	if (c->prior != QS_ACIQ_AUTO) {
		aciq_range(c->prior == QS_ACIQ_GAUSS ? aG : aL, mu, one, g, mn,
			   mx, lo, hi);
		return QS_OK;
	}
	/* auto: the prior whose range has the lower measured quantization
	 * error on the data (ACIQ's "mix" mode); Laplace on a tie */
	int64_t nch = (int64_t)((n + CHUNK - 1) / CHUNK);
	double *part = malloc((size_t)(nch ? nch : 1) * sizeof *part);
	if (!part)
		return qs_fail(err, QS_ENOMEM, "out of memory");
	float l1, h1, l2, h2;
	aciq_range(aL, mu, one, g, mn, mx, &l1, &h1);
	aciq_range(aG, mu, one, g, mn, mx, &l2, &h2);
	double e1 = range_sse(x, n, g, l1, h1, part);
	double e2 = range_sse(x, n, g, l2, h2, part);
	free(part);
	*lo = e2 < e1 ? l2 : l1;
	*hi = e2 < e1 ? h2 : h1;
	return QS_OK;
}

/* ---- histogram methods ------------------------------------------------------ */

int qs_calib_hist_kind(qs_calib_method m, const qs_grid *g)
{
	switch (m) {
	case QS_CALIB_PERCENTILE_HIST:
		return g && !g->symmetric ? QS_HIST_ORT : QS_HIST_NVIDIA;
	case QS_CALIB_ENTROPY:
	case QS_CALIB_MSE:
		return QS_HIST_NVIDIA;
	case QS_CALIB_ENTROPY_ORT:
		return QS_HIST_ORT;
	case QS_CALIB_HIST_L2:
		return QS_HIST_TORCH;
	case QS_CALIB_SQNR:
		return QS_HIST_AIMET;
	default:
		return -1;
	}
}

static qs_status with_hist(const qs_calib *c, const float *x, size_t n,
			   const qs_grid *g, float *lo, float *hi, qs_error *err)
{
	qs_hist_kind kind = (qs_hist_kind)qs_calib_hist_kind(c->method, g);
	qs_hist *h = qs_hist_new(kind, c->bins, err);
	if (!h)
		return err ? err->code : QS_ENOMEM;
	qs_status st = qs_hist_add(h, x, n, err);
	if (st == QS_OK)
		st = qs_calib_from_hist(c, h, g, lo, hi, err);
	qs_hist_free(h);
	return st;
}

qs_status qs_calib_from_hist(const qs_calib *c, const qs_hist *h,
			     const qs_grid *g, float *lo, float *hi,
			     qs_error *err)
{
	if (qs_calib_hist_kind(c->method, g) != (int)h->kind)
		return qs_fail(err, QS_EINVAL,
			       "calibration method %s needs another histogram",
			       qs_calib_name(c->method) ? qs_calib_name(c->method)
							: "?");
	if (h->n == 0) {
		*lo = *hi = 0.0f;
		return QS_OK;
	}
	if (!h->started) { /* constant so far (or AIMET's zeros) */
		*lo = h->xmin;
		*hi = h->xmax;
		return QS_OK;
	}
	const float mn = h->xmin, mx = h->xmax;
	float a;
	qs_status st;
	double p = c->percentile ? c->percentile : 99.99;
	int bits = g->bits < 1 ? 1 : g->bits > 16 ? 16 : g->bits;
	switch (c->method) {
	case QS_CALIB_PERCENTILE_HIST:
		if (h->kind == QS_HIST_NVIDIA) {
			st = qs_hist_nv_percentile(h, p, &a, NULL, err);
			break;
		}
		return qs_hist_ort_percentile(h, p, lo, hi, err);
	case QS_CALIB_ENTROPY: {
		int u = g->is_unsigned || mn >= 0.0f;
		st = qs_hist_nv_entropy(h, (int64_t)1 << (bits - 1 + u), 128,
					&a, NULL, err);
		break;
	}
	case QS_CALIB_MSE:
		st = qs_hist_nv_mse(h, bits, g->is_unsigned, 128, &a, NULL,
				    err);
		break;
	case QS_CALIB_ENTROPY_ORT:
		return qs_hist_ort_entropy(
			h, (int64_t)1 << (bits > 1 ? bits - 1 : 1), lo, hi, err);
	case QS_CALIB_HIST_L2:
		return qs_hist_torch_l2(h, bits, lo, hi, err);
	case QS_CALIB_SQNR: {
		double d, o, em, eM;
		st = qs_hist_aimet_sqnr(h, bits, g->symmetric, g->narrow, 1, &d,
					&o, &em, &eM, err);
		if (st < 0)
			return st;
		if (g->symmetric && o < 0) {
			/* AIMET's grid [offset d, offset d + steps d] is a
			 * symmetric grid of step d: the range whose symmetric
			 * scale is d */
			double m = d * (double)(((int64_t)1 << (bits - 1)) - 1);
			*lo = (float)-m;
			*hi = (float)m;
		} else {
			*lo = (float)em;
			*hi = (float)eM;
		}
		return QS_OK;
	}
	default:
		return qs_fail(err, QS_EINVAL,
			       "calibration method %s has no histogram search",
			       qs_calib_name(c->method) ? qs_calib_name(c->method)
							: "?");
	}
	if (st < 0)
		return st;
	/* amax methods: [-a, a] within the data */
	*lo = -a > mn ? -a : mn;
	*hi = a < mx ? a : mx;
	return QS_OK;
}

/* ---- dispatch ------------------------------------------------------------------ */

qs_status qs_calib_range(const qs_calib *c, const float *x, size_t n,
			 const qs_grid *g, float *lo, float *hi, qs_error *err)
{
	qs_status st = qs_calib_check(c, err);
	if (st < 0)
		return st;
	qs_grid dg;
	if (!g) {
		qs_grid_default(&dg, 8, 0, 1, 0);
		g = &dg;
	}
	if (g->bits < 1 || g->bits > 16)
		return qs_fail(err, QS_EINVAL,
			       "grid bits %d out of range (accepted: 1..16)",
			       g->bits);
	float l, h;
	switch (c->method) {
	case QS_CALIB_NONE:
	case QS_CALIB_MINMAX:
		stats(x, n, lo, hi);
		return QS_OK;
	case QS_CALIB_EMA:
		ema(x, n, c->batches, c->c ? (float)c->c : 0.01f, lo, hi);
		return QS_OK;
	case QS_CALIB_FIXED:
		*lo = (float)c->lo;
		*hi = (float)c->hi;
		return QS_OK;
	default:
		break;
	}
	/* data methods: an empty, all-NaN or constant run has its own
	 * range ([0, 0] or [c, c]) whatever the method */
	if (stats(x, n, &l, &h) == 0 || l == h) {
		*lo = l;
		*hi = h;
		return QS_OK;
	}
	switch (c->method) {
	case QS_CALIB_PERCENTILE:
		return percentile(c, x, n, g, lo, hi, err);
	case QS_CALIB_MSE_EXACT:
		return mse_exact(x, n, g, l, h, lo, hi, err);
	case QS_CALIB_ACIQ:
		return aciq(c, x, n, g, l, h, lo, hi, err);
	default:
		return with_hist(c, x, n, g, lo, hi, err);
	}
}
