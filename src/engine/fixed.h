/* fixed: integer code mappings, fixed-point qM.N, power-of-two scales and
 * dyadic (multiplier + shift) requantization.
 *
 * References: ARM Q-format notation (qM.N: sign + M integer + N fraction
 * bits); TFLite quantization_util.cc QuantizeMultiplier and
 * MultiplyByQuantizedMultiplier (double rounding through gemmlowp's
 * SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, or
 * TFLITE_SINGLE_ROUNDING); HAWQ-V3 quant_utils.py batch_frexp.  Details in
 * docs/formats.md.  Pure C11 + libm; no printing. */
#ifndef QS_ENGINE_FIXED_H
#define QS_ENGINE_FIXED_H

#include <stdint.h>

#include "qs_error.h"
#include "round.h"

/* ---- integer codes ------------------------------------------------------- */

/* Sign-magnitude code of q in `bits` bits (2..32): sign in the top bit,
 * |q| below it, clamped to 2^(bits-1) - 1 (so both +0 and -0 exist and
 * the range is symmetric); decode gives the integer back (-0 -> 0). */
uint32_t qs_fixed_sm_encode(int32_t q, int bits);
int32_t qs_fixed_sm_decode(uint32_t code, int bits);
/* Two's complement: the low `bits` bits of q; decode sign-extends. */
uint32_t qs_fixed_tc_encode(int32_t q, int bits);
int32_t qs_fixed_tc_decode(uint32_t code, int bits);

/* ---- fixed point qM.N ------------------------------------------------------ */

typedef struct qs_qfmt {
	char name[24];   /* "q3.4", "uq4.4" */
	int m, n;        /* integer and fraction bits */
	int is_unsigned;
	int bits;        /* 1 + m + n signed, m + n unsigned */
	int64_t qmin, qmax; /* code range */
	double step;     /* 2^-n */
} qs_qfmt;

/* Parse "qM.N" (signed: sign + M + N bits, at most 32) or "uqM.N"
 * (unsigned: M + N bits, at most 31), case-insensitive.  QS_EINVAL. */
qs_status qs_fixed_parse(const char *name, qs_qfmt *f, qs_error *err);

/* y[i] = clamp(round(x[i] * 2^N), qmin, qmax) * 2^-N with rule r (the
 * product is exact in double; y is the float32 nearest to the code's
 * value, exact up to 24 significant bits).  codes (may be NULL) get the
 * integers; *clipped (may be NULL) counts the values clamped (Inf
 * included).  NaN gives code 0 and y NaN.  Stochastic draws use
 * qs_rand_u01(seed, idx0 + i). */
qs_status qs_fixed_quantize(const qs_qfmt *f, const float *x, int64_t n,
			    qs_rounding r, uint64_t seed, int64_t idx0,
			    float *y, int32_t *codes, int64_t *clipped,
			    qs_error *err);

/* ---- power-of-two scales ----------------------------------------------------- */

typedef enum qs_pow2_mode {
	QS_POW2_CEIL = 0, /* smallest 2^k >= s: the range only grows, so
			   * nothing clips that did not clip with s */
	QS_POW2_FLOOR,    /* largest 2^k <= s: finer steps, more clipping */
	QS_POW2_NEAREST,  /* nearest in log2 (geometric midpoint 2^(k+1/2)) */
	QS_POW2_MODE_COUNT
} qs_pow2_mode;

/* Round a scale s (finite, > 0) to a power of two, exactly (from its
 * bits): *out = 2^k, *k (may be NULL) the exponent.  QS_EINVAL for a bad
 * s or a result beyond float32 (2^128). */
qs_status qs_fixed_pow2_scale(float s, qs_pow2_mode mode, float *out,
			      int *k, qs_error *err);
const char *qs_pow2_mode_name(qs_pow2_mode m);
int qs_pow2_mode_parse(const char *name, qs_pow2_mode *out);

/* ---- dyadic requantization ------------------------------------------------------ */

/* TFLite QuantizeMultiplier: m ~= qm * 2^(shift - 31), qm in [2^30, 2^31)
 * (negative m: negative qm), q = frexp(m), qm = round-half-away(q 2^31),
 * qm == 2^31 -> 2^30 and shift + 1; shift < -31 -> (0, 0) (flush);
 * single_rounding caps shift at 30 with qm = 2^31 - 1
 * (TFLITE_SINGLE_ROUNDING).  m = 0 gives (0, 0).  QS_EINVAL for NaN or
 * Inf m. */
qs_status qs_fixed_quantize_multiplier(double m, int single_rounding,
				       int32_t *qm, int *shift, qs_error *err);

/* gemmlowp SaturatingRoundingDoublingHighMul: (a b + 2^30) >> 31 rounded
 * half toward +inf; a = b = INT32_MIN gives INT32_MAX. */
int32_t qs_fixed_srdhm(int32_t a, int32_t b);
/* gemmlowp RoundingDivideByPOT: x / 2^e, ties away from zero (e 0..31). */
int32_t qs_fixed_rdbpot(int32_t x, int e);

/* TFLite MultiplyByQuantizedMultiplier(x, qm, shift): double rounding
 * RDBPOT(SRDHM(x << max(shift, 0), qm), max(-shift, 0)) (the left shift
 * wraps like the reference's int32 arithmetic), or single rounding
 * (x qm + 2^(30 - shift)) >> (31 - shift) in 64 bits, saturated. */
int32_t qs_fixed_mul_qm(int32_t x, int32_t qm, int shift,
			int single_rounding);

/* HAWQ-V3 batch_frexp: m ~= b / 2^c with b = round-half-up(frac * 2^31)
 * of frexp(m) = frac 2^e (no correction when b = 2^31, no flush) and
 * c = 31 - e.  QS_EINVAL for NaN or Inf m. */
qs_status qs_fixed_hawq_frexp(double m, int64_t *b, int *c, qs_error *err);
/* HAWQ requantization in double: round-half-even(z * b / 2^c). */
double qs_fixed_hawq_apply(double z, int64_t b, int c);

#endif
