/* matmul: float reference and integer-only layer outputs with TFLite's
 * fixed-point requantization.  Pure C11 + libm (+ OpenMP); no printing.
 * References: TFLite tensorflow/lite/kernels/internal/quantization_util.cc
 * (QuantizeMultiplier), tensorflow/lite/kernels/internal/common.h
 * (MultiplyByQuantizedMultiplier, both rounding variants), gemmlowp
 * fixedpoint/fixedpoint.h (SaturatingRoundingDoublingHighMul,
 * RoundingDivideByPOT); the exact semantics are those of
 * /work/shared/reference/FORMATS.md section 11 and its [dyadic] vectors. */
#include "config.h"
#include "matmul.h"

#include <math.h>
#include <stdlib.h>

#include "fixed.h"

static const int64_t I32MAX = 2147483647;
static const int64_t I32MIN = -2147483647 - 1;

/* floor(v / 2^e) for 0 <= e <= 62, without relying on the right shift of
 * a negative number (implementation-defined in C). */
static int64_t floor_shift(int64_t v, int e)
{
	return v >= 0 ? v >> e : ~(~v >> e);
}

static int32_t sat32(int64_t v)
{
	return (int32_t)(v > I32MAX ? I32MAX : v < I32MIN ? I32MIN : v);
}

/* gemmlowp RoundingDivideByPOT: x / 2^e, ties away from zero. */
static int64_t rdbpot(int64_t x, int e)
{
	if (e == 0)
		return x;
	int64_t mask = (INT64_C(1) << e) - 1;
	int64_t fl = floor_shift(x, e);
	int64_t rem = x - fl * (INT64_C(1) << e); /* x & mask, in [0, mask] */
	int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
	return fl + (rem > threshold ? 1 : 0);
}

qs_status qs_matmul_multiplier(double mult, qs_requant mode, int32_t *qm,
			       int *shift, qs_error *err)
{
	if (!(mult >= 0) || !isfinite(mult))
		return qs_fail(err, QS_EINVAL,
			       "multiplier %g: must be finite and >= 0", mult);
	/* TFLite QuantizeMultiplier, as in fixed.c */
	return qs_fixed_quantize_multiplier(mult, mode == QS_REQUANT_SINGLE, qm,
					    shift, err);
}

int32_t qs_matmul_requant(int32_t x, int32_t qm, int shift, qs_requant mode)
{
	if (mode == QS_REQUANT_SINGLE) {
		/* shift in [-31, 30]: total in [1, 62], no int64 overflow */
		int total = 31 - shift;
		if (total < 1)
			total = 1;
		if (total > 62)
			total = 62;
		int64_t r = (int64_t)x * (int64_t)qm +
			    (INT64_C(1) << (total - 1));
		return sat32(floor_shift(r, total));
	}
	if (shift > 0) {
		/* SRDHM(x 2^shift, qm) = floor((x qm 2^shift + 2^30) / 2^31),
		 * computed without forming x 2^shift, which may not fit int32 */
		int64_t p = (int64_t)x * (int64_t)qm;
		if (shift >= 31) {
			if (p == 0)
				return 0;
			if (shift > 62 || llabs(p) > (I32MAX >> (shift - 31)))
				return p > 0 ? (int32_t)I32MAX : (int32_t)I32MIN;
			return sat32(p * (INT64_C(1) << (shift - 31)));
		}
		return sat32(floor_shift(p + (INT64_C(1) << (30 - shift)),
					 31 - shift));
	}
	int right = -shift > 62 ? 62 : -shift;
	return sat32(rdbpot(qs_fixed_srdhm(x, qm), right));
}

qs_status qs_matmul_f32(const float *a, const float *b, float *c, int64_t m,
			int64_t k, int64_t n, int b_trans, qs_error *err)
{
	if (m < 0 || k < 0 || n < 0)
		return qs_fail(err, QS_EINVAL,
			       "matmul: negative dimension (%lld x %lld x %lld)",
			       (long long)m, (long long)k, (long long)n);
	if ((m > 0 && k > 0 && !a) || (k > 0 && n > 0 && !b) ||
	    (m > 0 && n > 0 && !c))
		return qs_fail(err, QS_EINVAL, "matmul: NULL data");
	if (m == 0 || n == 0)
		return QS_OK;
	/* b as k x n rows, so the inner loop runs along contiguous j */
	float *bt = NULL;
	const float *bk = b;
	if (b_trans && k > 0) {
		bt = malloc(sizeof *bt * (size_t)k * (size_t)n);
		if (!bt)
			return qs_fail(err, QS_ENOMEM, "matmul: out of memory");
		for (int64_t j = 0; j < n; j++)
			for (int64_t kk = 0; kk < k; kk++)
				bt[kk * n + j] = b[j * k + kk];
		bk = bt;
	}
	int failed = 0;
#pragma omp parallel for schedule(static)
	for (int64_t i = 0; i < m; i++) {
		double *acc = calloc((size_t)n, sizeof *acc);
		if (!acc) {
#pragma omp atomic write
			failed = 1;
			continue;
		}
		const float *ai = a + i * k;
		for (int64_t kk = 0; kk < k; kk++) {
			double av = ai[kk];
			const float *br = bk + kk * n;
			for (int64_t j = 0; j < n; j++)
				acc[j] += av * (double)br[j];
		}
		for (int64_t j = 0; j < n; j++)
			c[i * n + j] = (float)acc[j];
		free(acc);
	}
	free(bt);
	if (failed)
		return qs_fail(err, QS_ENOMEM, "matmul: out of memory");
	return QS_OK;
}

qs_status qs_matmul_int8_acc(const int8_t *a, const int32_t *a_zero,
			     const int8_t *b, int32_t b_zero, int64_t m,
			     int64_t k, int64_t n, int b_trans, int32_t *acc,
			     qs_error *err)
{
	if (m < 0 || k < 0 || n < 0)
		return qs_fail(err, QS_EINVAL,
			       "int8 matmul: negative dimension (%lld x %lld x "
			       "%lld)",
			       (long long)m, (long long)k, (long long)n);
	if ((m > 0 && k > 0 && !a) || (k > 0 && n > 0 && !b) ||
	    (m > 0 && n > 0 && !acc))
		return qs_fail(err, QS_EINVAL, "int8 matmul: NULL data");
	/* zero points within 2^16 keep every difference far from overflow */
	if (b_zero < -65536 || b_zero > 65536)
		return qs_fail(err, QS_EINVAL,
			       "int8 matmul: zero point %ld of b outside "
			       "[-65536, 65536]",
			       (long)b_zero);
	int64_t amax = 0, bmax = 0;
	for (int64_t i = 0; i < m; i++) {
		int64_t z = a_zero ? a_zero[i] : 0;
		if (z < -65536 || z > 65536)
			return qs_fail(err, QS_EINVAL,
				       "int8 matmul: zero point %lld of row "
				       "%lld of a outside [-65536, 65536]",
				       (long long)z, (long long)i);
		for (int64_t kk = 0; kk < k; kk++) {
			int64_t d = llabs((int64_t)a[i * k + kk] - z);
			if (d > amax)
				amax = d;
		}
	}
	for (int64_t i = 0; i < k * n; i++) {
		int64_t d = llabs((int64_t)b[i] - b_zero);
		if (d > bmax)
			bmax = d;
	}
	/* every partial sum is bounded by k amax bmax */
	if (amax && bmax && k > I32MAX / amax / bmax)
		return qs_fail(err, QS_EINVAL,
			       "int8 matmul: int32 accumulator could overflow: "
			       "k %lld x max|a-za| %lld x max|b-zb| %lld > "
			       "2^31-1",
			       (long long)k, (long long)amax, (long long)bmax);
	if (m == 0 || n == 0)
		return QS_OK;
	int8_t *bt = NULL;
	const int8_t *bk = b;
	if (b_trans && k > 0) {
		bt = malloc((size_t)k * (size_t)n);
		if (!bt)
			return qs_fail(err, QS_ENOMEM,
				       "int8 matmul: out of memory");
		for (int64_t j = 0; j < n; j++)
			for (int64_t kk = 0; kk < k; kk++)
				bt[kk * n + j] = b[j * k + kk];
		bk = bt;
	}
#pragma omp parallel for schedule(static)
	for (int64_t i = 0; i < m; i++) {
		int32_t *ci = acc + i * n;
		int32_t za = a_zero ? a_zero[i] : 0;
		for (int64_t j = 0; j < n; j++)
			ci[j] = 0;
		for (int64_t kk = 0; kk < k; kk++) {
			int32_t av = (int32_t)a[i * k + kk] - za;
			if (av == 0)
				continue;
			const int8_t *br = bk + kk * n;
			for (int64_t j = 0; j < n; j++)
				ci[j] += av * ((int32_t)br[j] - b_zero);
		}
	}
	free(bt);
	return QS_OK;
}

qs_status qs_matmul_requantize(const int32_t *acc, int64_t m, int64_t n,
			       const int32_t *qm, const int *shift,
			       int32_t y_zero, int32_t qmin, int32_t qmax,
			       qs_requant mode, int32_t *out, qs_error *err)
{
	if (m < 0 || n < 0)
		return qs_fail(err, QS_EINVAL,
			       "requantize: negative dimension (%lld x %lld)",
			       (long long)m, (long long)n);
	if (qmin > qmax)
		return qs_fail(err, QS_EINVAL,
			       "requantize: code range [%ld, %ld] is empty",
			       (long)qmin, (long)qmax);
	if (m > 0 && n > 0 && (!acc || !qm || !shift || !out))
		return qs_fail(err, QS_EINVAL, "requantize: NULL data");
	for (int64_t i = 0; i < m; i++) {
		if (qm[i] < 0)
			return qs_fail(err, QS_EINVAL,
				       "requantize: multiplier %ld of row %lld "
				       "is negative",
				       (long)qm[i], (long long)i);
		if (mode == QS_REQUANT_SINGLE &&
		    (shift[i] < -31 || shift[i] > 30))
			return qs_fail(err, QS_EINVAL,
				       "requantize: shift %d of row %lld "
				       "outside [-31, 30] (single rounding)",
				       shift[i], (long long)i);
	}
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++) {
			int64_t v = (int64_t)qs_matmul_requant(
					    acc[i * n + j], qm[i], shift[i],
					    mode) +
				    y_zero;
			if (v < qmin)
				v = qmin;
			if (v > qmax)
				v = qmax;
			out[i * n + j] = (int32_t)v;
		}
	return QS_OK;
}
