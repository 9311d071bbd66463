/* fixed: integer code mappings, fixed-point qM.N, power-of-two scales and
 * dyadic requantization, each in its reference's integer arithmetic.
 * Pure C11 + libm; no printing. */
#include "config.h"
#include "fixed.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- integer codes ----------------------------------------------------------- */

uint32_t qs_fixed_sm_encode(int32_t q, int bits)
{
	if (bits < 2)
		bits = 2;
	if (bits > 32)
		bits = 32;
	uint32_t maxmag = (uint32_t)((1ull << (bits - 1)) - 1);
	uint32_t mag = q < 0 ? (uint32_t)0 - (uint32_t)q : (uint32_t)q;
	if (mag > maxmag)
		mag = maxmag;
	return (q < 0 ? (uint32_t)(1ull << (bits - 1)) : 0u) | mag;
}

int32_t qs_fixed_sm_decode(uint32_t code, int bits)
{
	if (bits < 2)
		bits = 2;
	if (bits > 32)
		bits = 32;
	uint32_t sbit = (uint32_t)(1ull << (bits - 1));
	uint32_t mag = code & (sbit - 1);
	return (code & sbit) ? -(int32_t)mag : (int32_t)mag;
}

uint32_t qs_fixed_tc_encode(int32_t q, int bits)
{
	if (bits >= 32)
		return (uint32_t)q;
	return (uint32_t)q & (uint32_t)((1ull << bits) - 1);
}

int32_t qs_fixed_tc_decode(uint32_t code, int bits)
{
	if (bits >= 32)
		return (int32_t)code;
	uint32_t sbit = 1u << (bits - 1);
	code &= (sbit << 1) - 1;
	return (int32_t)((int64_t)(code ^ sbit) - (int64_t)sbit);
}

/* ---- fixed point ----------------------------------------------------------------- */

qs_status qs_fixed_parse(const char *name, qs_qfmt *f, qs_error *err)
{
	const char *s = name;
	int uns = 0;
	if (!s)
		return qs_fail(err, QS_EINVAL, "fixed-point format: no name");
	if (tolower((unsigned char)s[0]) == 'u') {
		uns = 1;
		s++;
	}
	char *e;
	if (tolower((unsigned char)s[0]) != 'q' || !isdigit((unsigned char)s[1]))
		goto bad;
	long m = strtol(s + 1, &e, 10);
	if (*e != '.' || !isdigit((unsigned char)e[1]))
		goto bad;
	long n = strtol(e + 1, &e, 10);
	if (*e)
		goto bad;
	if (m > 64 || n > 64)
		return qs_fail(err, QS_EINVAL,
			       "fixed-point format '%s': at most 32 bits", name);
	long bits = m + n + (uns ? 0 : 1);
	if (m < 0 || n < 0 || bits < 1 || bits > (uns ? 31 : 32))
		return qs_fail(err, QS_EINVAL,
			       "fixed-point format '%s': %ld bits, need 1..%d",
			       name, bits, uns ? 31 : 32);
	memset(f, 0, sizeof *f);
	f->m = (int)m;
	f->n = (int)n;
	f->is_unsigned = uns;
	f->bits = (int)bits;
	if (uns) {
		f->qmin = 0;
		f->qmax = ((int64_t)1 << bits) - 1;
	} else {
		f->qmin = -((int64_t)1 << (bits - 1));
		f->qmax = ((int64_t)1 << (bits - 1)) - 1;
	}
	f->step = ldexp(1.0, -(int)n);
	snprintf(f->name, sizeof f->name, "%sq%d.%d", uns ? "u" : "", f->m & 63,
		 f->n & 63);
	return QS_OK;
bad:
	return qs_fail(err, QS_EINVAL,
		       "fixed-point format '%s': need qM.N or uqM.N "
		       "(e.g. q3.4, uq0.8)",
		       name);
}

/* Round v (a double) with rule r; u is the stochastic draw. */
static double round_d(double v, qs_rounding r, float u)
{
	double f = floor(v);
	switch (r) {
	case QS_ROUND_AWAY:
		return round(v);
	case QS_ROUND_UP:
		return floor(v + 0.5); /* exact: |v| < 2^52 or v integral */
	case QS_ROUND_FLOOR:
		return f;
	case QS_ROUND_CEIL:
		return ceil(v);
	case QS_ROUND_TRUNC:
		return trunc(v);
	case QS_ROUND_STOCHASTIC:
		return (double)u < v - f ? f + 1.0 : f;
	default:
		return nearbyint(v);
	}
}

qs_status qs_fixed_quantize(const qs_qfmt *f, const float *x, int64_t n,
			    qs_rounding r, uint64_t seed, int64_t idx0,
			    float *y, int32_t *codes, int64_t *clipped,
			    qs_error *err)
{
	if (n < 0)
		return qs_fail(err, QS_EINVAL, "n: %lld, need >= 0",
			       (long long)n);
	if ((unsigned)r >= QS_ROUND_COUNT)
		return qs_fail(err, QS_EINVAL, "rounding: %d out of range",
			       (int)r);
	int64_t clip = 0;
	double lo = (double)f->qmin, hi = (double)f->qmax;
	for (int64_t i = 0; i < n; i++) {
		float xv = x[i];
		if (xv != xv) {
			if (codes)
				codes[i] = 0;
			if (y)
				y[i] = xv;
			continue;
		}
		float u = r == QS_ROUND_STOCHASTIC
				  ? qs_rand_u01(seed, (uint64_t)(idx0 + i))
				  : 0.0f;
		double q = round_d(ldexp((double)xv, f->n), r, u);
		if (q < lo || q > hi) {
			clip++;
			q = q < lo ? lo : hi;
		}
		if (codes)
			codes[i] = (int32_t)(int64_t)q;
		if (y)
			y[i] = (float)ldexp(q, -f->n);
	}
	if (clipped)
		*clipped = clip;
	return QS_OK;
}

/* ---- power-of-two scales -------------------------------------------------------- */

static const char *const pow2_names[QS_POW2_MODE_COUNT] = {"ceil", "floor",
							   "nearest"};

const char *qs_pow2_mode_name(qs_pow2_mode m)
{
	return (unsigned)m < QS_POW2_MODE_COUNT ? pow2_names[m] : NULL;
}

int qs_pow2_mode_parse(const char *name, qs_pow2_mode *out)
{
	for (int i = 0; i < QS_POW2_MODE_COUNT; i++)
		if (!strcmp(name, pow2_names[i])) {
			*out = (qs_pow2_mode)i;
			return 0;
		}
	return -1;
}

qs_status qs_fixed_pow2_scale(float s, qs_pow2_mode mode, float *out,
			      int *k, qs_error *err)
{
	if (!(s > 0.0f) || isinf(s))
		return qs_fail(err, QS_EINVAL,
			       "scale %g: need a finite value > 0", (double)s);
	if ((unsigned)mode >= QS_POW2_MODE_COUNT)
		return qs_fail(err, QS_EINVAL,
			       "power-of-two mode %d (ceil, floor, nearest)",
			       (int)mode);
	int e;
	double fr = frexp((double)s, &e); /* s = fr 2^e, fr in [0.5, 1) */
	int kk = e - 1;                   /* floor(log2 s) */
	if (fr != 0.5) {
		if (mode == QS_POW2_CEIL)
			kk = e;
		else if (mode == QS_POW2_NEAREST) /* 2fr >= sqrt 2, exactly */
			kk = (2 * fr) * (2 * fr) >= 2.0 ? e : e - 1;
	}
	if (kk > 127)
		return qs_fail(err, QS_EINVAL,
			       "scale %g rounds to 2^%d, beyond float32",
			       (double)s, kk);
	*out = ldexpf(1.0f, kk);
	if (k)
		*k = kk;
	return QS_OK;
}

/* ---- dyadic -------------------------------------------------------------------------- */

qs_status qs_fixed_quantize_multiplier(double m, int single_rounding,
				       int32_t *qm, int *shift, qs_error *err)
{
	if (isnan(m) || isinf(m))
		return qs_fail(err, QS_EINVAL, "multiplier %g: need a finite "
					       "value",
			       m);
	if (m == 0.0) {
		*qm = 0;
		*shift = 0;
		return QS_OK;
	}
	int sh;
	double q = frexp(m, &sh);
	int64_t qf = (int64_t)round(q * 2147483648.0); /* TfLiteRound */
	if (qf == ((int64_t)1 << 31)) { /* TFLite corrects the positive end */
		qf /= 2;
		sh++;
	}
	if (sh < -31) {
		sh = 0;
		qf = 0;
	}
	if (single_rounding && sh > 30) {
		sh = 30;
		qf = ((int64_t)1 << 31) - 1;
	}
	*qm = (int32_t)qf;
	*shift = sh;
	return QS_OK;
}

int32_t qs_fixed_srdhm(int32_t a, int32_t b)
{
	if (a == b && a == INT32_MIN)
		return INT32_MAX;
	int64_t ab = (int64_t)a * (int64_t)b;
	int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
	return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t qs_fixed_rdbpot(int32_t x, int e)
{
	if (e <= 0)
		return x;
	if (e > 31)
		e = 31;
	int64_t mask = ((int64_t)1 << e) - 1;
	int64_t rem = (int64_t)x & mask;
	int64_t thr = (mask >> 1) + (x < 0 ? 1 : 0);
	/* arithmetic shift as floor division */
	int64_t fl = (int64_t)x >= 0 ? (int64_t)x >> e
				     : -((-(int64_t)x + mask) >> e);
	return (int32_t)(fl + (rem > thr ? 1 : 0));
}

int32_t qs_fixed_mul_qm(int32_t x, int32_t qm, int shift,
			int single_rounding)
{
	if (single_rounding) {
		int ts = 31 - shift;
		if (ts < 1)
			ts = 1;
		if (ts > 62)
			ts = 62;
		int64_t p = (int64_t)x * (int64_t)qm + ((int64_t)1 << (ts - 1));
		/* floor division by 2^ts */
		int64_t d = ((int64_t)1 << ts);
		int64_t r = p >= 0 ? p / d : -((-p + d - 1) / d);
		if (r > INT32_MAX)
			r = INT32_MAX;
		if (r < INT32_MIN)
			r = INT32_MIN;
		return (int32_t)r;
	}
	int left = shift > 0 ? shift : 0;
	int right = shift > 0 ? 0 : -shift;
	int32_t xs = left >= 32 ? 0 : (int32_t)((uint32_t)x << left);
	return qs_fixed_rdbpot(qs_fixed_srdhm(xs, qm), right);
}

qs_status qs_fixed_hawq_frexp(double m, int64_t *b, int *c, qs_error *err)
{
	if (isnan(m) || isinf(m))
		return qs_fail(err, QS_EINVAL, "multiplier %g: need a finite "
					       "value",
			       m);
	int e;
	double fr = frexp(m, &e);
	double v = ldexp(fr, 31); /* exact */
	/* Decimal ROUND_HALF_UP: ties away from zero */
	double r = v >= 0 ? floor(v + 0.5) : -floor(-v + 0.5);
	*b = (int64_t)r;
	*c = 31 - e;
	return QS_OK;
}

double qs_fixed_hawq_apply(double z, int64_t b, int c)
{
	return nearbyint(z * (double)b / ldexp(1.0, c));
}
