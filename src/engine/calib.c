/* calib: clipping-range methods.  Each method is a pure function of a
 * contiguous run of float32 values and of the target grid; non-finite
 * values are skipped.  docs/calibration.md gives each method's source. */
#include "config.h"
#include "calib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Names of the methods implemented here, indexed by qs_calib_method;
 * NULL for those not available in this build. */
static const char *const names[QS_CALIB_COUNT] = {
	[QS_CALIB_NONE] = "none",
	[QS_CALIB_MINMAX] = "minmax",
	[QS_CALIB_EMA] = "ema",
	[QS_CALIB_PERCENTILE] = "percentile",
	[QS_CALIB_FIXED] = "fixed",
};

const char *qs_calib_name(qs_calib_method m)
{
	return (unsigned)m < QS_CALIB_COUNT ? names[m] : NULL;
}

int qs_calib_parse(const char *name, qs_calib_method *out)
{
	for (int i = 0; i < QS_CALIB_COUNT; i++)
		if (names[i] && strcmp(name, names[i]) == 0) {
			*out = (qs_calib_method)i;
			return 0;
		}
	return -1;
}

const char *qs_calib_names(void)
{
	static char list[256];
	if (!list[0]) {
		size_t n = 0;
		for (int i = 0; i < QS_CALIB_COUNT; i++)
			if (names[i]) {
				size_t l = strlen(names[i]);
				if (n + l + 3 >= sizeof list)
					break;
				if (n) {
					memcpy(list + n, ", ", 2);
					n += 2;
				}
				memcpy(list + n, names[i], l);
				n += l;
			}
		list[n] = '\0';
	}
	return list;
}

qs_status qs_calib_check(const qs_calib *c, qs_error *err)
{
	if ((unsigned)c->method >= QS_CALIB_COUNT || !names[c->method])
		return qs_fail(err, QS_EINVAL,
			       "unknown calibration method (accepted: %s)",
			       qs_calib_names());
	if (c->percentile != 0 &&
	    !(c->percentile > 0 && c->percentile <= 100))
		return qs_fail(err, QS_EINVAL,
			       "percentile %g out of range (accepted: (0, 100])",
			       c->percentile);
	if (c->bins != 0 && c->bins < 2)
		return qs_fail(err, QS_EINVAL,
			       "bins %d out of range (accepted: >= 2)", c->bins);
	if (c->c != 0 && !(c->c > 0 && c->c <= 1))
		return qs_fail(err, QS_EINVAL,
			       "EMA constant c %g out of range (accepted: "
			       "(0, 1])",
			       c->c);
	if (c->batches < 0)
		return qs_fail(err, QS_EINVAL, "batches must be >= 0");
	if (c->method == QS_CALIB_FIXED &&
	    !(isfinite(c->lo) && isfinite(c->hi) && c->lo <= c->hi))
		return qs_fail(err, QS_EINVAL,
			       "fixed range needs finite lo <= hi (got %g, %g)",
			       c->lo, c->hi);
	return QS_OK;
}

/* min and max of the finite values; 0 when there are none. */
static int finite_minmax(const float *x, size_t n, float *lo, float *hi)
{
	float a = INFINITY, b = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		float v = x[i];
		if (isfinite(v)) {
			a = v < a ? v : a;
			b = v > b ? v : b;
		}
	}
	if (a > b) {
		*lo = *hi = 0.0f;
		return 0;
	}
	*lo = a;
	*hi = b;
	return 1;
}

/* PyTorch MovingAverageMinMaxObserver: the first batch sets min/max, each
 * later batch moves them by c * (batch value - current), in float32. */
static void ema(const float *x, size_t n, int64_t batches, float c, float *lo,
		float *hi)
{
	if (batches < 2 || (size_t)batches > n) {
		finite_minmax(x, n, lo, hi);
		return;
	}
	size_t per = n / (size_t)batches;
	int have = 0;
	float mn = 0, mx = 0;
	for (int64_t b = 0; b < batches; b++) {
		size_t a = (size_t)b * per;
		size_t e = b + 1 == batches ? n : a + per;
		float l, h;
		if (!finite_minmax(x + a, e - a, &l, &h))
			continue; /* a batch with no finite value is skipped */
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

/* k-th smallest (0-based) of v[0..n) by quickselect (median of three,
 * Hoare partition); v is reordered. */
static float select_kth(float *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		float a = v[lo], b = v[mid], c = v[hi];
		float p = a < b ? (b < c ? b : (a < c ? c : a))
				: (a < c ? a : (b < c ? c : b));
		size_t i = lo, j = hi;
		for (;;) {
			while (v[i] < p)
				i++;
			while (v[j] > p)
				j--;
			if (i >= j)
				break;
			float t = v[i];
			v[i] = v[j];
			v[j] = t;
			i++;
			j--;
		}
		if (k <= j)
			hi = j;
		else
			lo = j + 1;
	}
	return v[k];
}

/* Brevitas' exact percentile: the k-th smallest value with
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
		float a = select_kth(v, m, rank_of(p, m));
		*lo = neg ? -a : 0.0f;
		*hi = a;
	} else {
		*hi = select_kth(v, m, rank_of(p, m));
		*lo = select_kth(v, m, rank_of(100.0 - p, m));
	}
	free(v);
	return QS_OK;
}

qs_status qs_calib_range(const qs_calib *c, const float *x, size_t n,
			 const qs_grid *g, float *lo, float *hi, qs_error *err)
{
	qs_status st = qs_calib_check(c, err);
	if (st < 0)
		return st;
	switch (c->method) {
	case QS_CALIB_NONE:
	case QS_CALIB_MINMAX:
		finite_minmax(x, n, lo, hi);
		return QS_OK;
	case QS_CALIB_EMA:
		ema(x, n, c->batches, c->c ? (float)c->c : 0.01f, lo, hi);
		return QS_OK;
	case QS_CALIB_PERCENTILE:
		return percentile(c, x, n, g, lo, hi, err);
	case QS_CALIB_FIXED:
		*lo = (float)c->lo;
		*hi = (float)c->hi;
		return QS_OK;
	default:
		return qs_fail(err, QS_EINVAL,
			       "calibration method not available (accepted: "
			       "%s)",
			       qs_calib_names());
	}
}
