/* matmul: the output of a layer, in float and integer-only.
 *
 * qs_matmul_f32 is the float reference C = A B (double accumulation).
 * qs_matmul_int8_acc multiplies int8 codes with zero points into int32
 * accumulators, and qs_matmul_requantize turns them into output codes
 * with TFLite's fixed-point ("dyadic") requantization: a real multiplier
 * M = S_a S_b / S_y becomes an int32 m and a shift with M ~= m 2^(shift-31)
 * (TFLite quantization_util.cc QuantizeMultiplier), applied with
 * MultiplyByQuantizedMultiplier (TFLite kernels/internal/common.h, gemmlowp
 * fixedpoint.h): gemmlowp's double rounding by default, or
 * TFLITE_SINGLE_ROUNDING.  /work/shared/reference/FORMATS.md section 11
 * gives the exact rounding of each step.  Pure C11 + libm (+ OpenMP). */
#ifndef QS_ENGINE_MATMUL_H
#define QS_ENGINE_MATMUL_H

#include <stdint.h>

#include "qs_error.h"

/* How MultiplyByQuantizedMultiplier rounds. */
typedef enum qs_requant {
	QS_REQUANT_DOUBLE = 0, /* gemmlowp: SaturatingRoundingDoublingHighMul
				  (ties toward +inf), then RoundingDivideByPOT
				  (ties away from zero); TFLite's default */
	QS_REQUANT_SINGLE      /* TFLITE_SINGLE_ROUNDING: one rounding
				  (x m + 2^(30-shift)) >> (31-shift) */
} qs_requant;

/* c (m x n) = a (m x k) times b (k x n, or n x k when b_trans), every
 * product summed in double in k order and stored as float32.  Rows are
 * independent, so the result does not depend on the thread count.
 * QS_EINVAL on a negative dimension or NULL data. */
qs_status qs_matmul_f32(const float *a, const float *b, float *c, int64_t m,
			int64_t k, int64_t n, int b_trans, qs_error *err);

/* TFLite QuantizeMultiplier: the real multiplier mult >= 0 as *qm in
 * [2^30, 2^31) (0 for mult = 0) and *shift with mult ~= qm 2^(shift-31);
 * q = frexp(mult), qm = round-half-away(q 2^31), qm = 2^31 is halved with
 * shift + 1, shift < -31 gives (0, 0).  With QS_REQUANT_SINGLE the shift
 * is capped at 30 (qm = 2^31 - 1), as TFLITE_SINGLE_ROUNDING does.
 * QS_EINVAL for a negative or non-finite mult. */
qs_status qs_matmul_multiplier(double mult, qs_requant mode, int32_t *qm,
			       int *shift, qs_error *err);

/* TFLite MultiplyByQuantizedMultiplier(x, qm, shift): x times
 * qm 2^(shift-31), rounded as mode says.  Double rounding: where
 * TFLite's left shift x 2^shift overflows int32 (undefined there), the
 * exact product is rounded the same way (SRDHM, ties toward +inf) and
 * saturated; SRDHM saturates its one overflow case (INT32_MIN squared).  Single
 * rounding needs shift in [-31, 30].  qm must be >= 0. */
int32_t qs_matmul_requant(int32_t x, int32_t qm, int shift, qs_requant mode);

/* acc (m x n) = sum over k of (a[i][k] - a_zero[i]) (b[k][j] - b_zero):
 * int8 codes, one zero point per row of a (a_zero NULL: all 0) and one
 * for b; b is k x n, or n x k when b_trans.  Accumulates in int32: fails
 * with QS_EINVAL, before computing anything, when
 * k max|a - a_zero| max|b - b_zero| could exceed INT32_MAX. */
qs_status qs_matmul_int8_acc(const int8_t *a, const int32_t *a_zero,
			     const int8_t *b, int32_t b_zero, int64_t m,
			     int64_t k, int64_t n, int b_trans, int32_t *acc,
			     qs_error *err);

/* out[i][j] = clamp(y_zero + requant(acc[i][j], qm[i], shift[i]), qmin,
 * qmax): one multiplier per row (per output channel).  TFLite's order:
 * multiply, add the output zero point, clamp.  QS_EINVAL when qmin > qmax
 * or a shift is outside what mode accepts. */
qs_status qs_matmul_requantize(const int32_t *acc, int64_t m, int64_t n,
			       const int32_t *qm, const int *shift,
			       int32_t y_zero, int32_t qmin, int32_t qmax,
			       qs_requant mode, int32_t *out, qs_error *err);

#endif
