/* fp: bit-exact minifloat codecs (IEEE-style floats of 3 to 16 bits).
 *
 * A qs_fpfmt describes a sign-exponent-mantissa format: field widths, bias,
 * subnormals on or off, the flavour of its special values and what happens
 * on overflow.  qs_fp_encode converts one float32 to the format's code with
 * any rounding rule of round.h (overflow is decided after rounding, on the
 * extended grid); qs_fp_decode is exact.  qs_fp_quantize runs the pair over
 * a contiguous array with a scale, counting underflows, subnormal results,
 * overflows and NaNs.  References: IEEE 754 (fp16), OCP OFP8 (E4M3FN, E5M2),
 * OCP MX v1.0 (FP6, FP4), ml_dtypes float8.h ConvertImpl (FNUZ, B11FNUZ),
 * PyTorch c10 BFloat16.h; semantics in docs/formats.md.
 * Pure C11 + libm (+ OpenMP); no printing. */
#ifndef QS_ENGINE_FP_H
#define QS_ENGINE_FP_H

#include <stdint.h>

#include "qs_error.h"
#include "round.h"

/* Special values of a format. */
typedef enum qs_fp_special {
	QS_FP_IEEE = 0, /* top exponent is Inf (mantissa 0) and NaN (fp16, E5M2) */
	QS_FP_FN,       /* no Inf; only all-ones magnitude is NaN (E4M3FN) */
	QS_FP_FNUZ,     /* no Inf, no -0; the code 1000..0 is the NaN */
	QS_FP_NONE,     /* no Inf, no NaN: every code is finite (FP6, FP4) */
	QS_FP_SPECIAL_COUNT
} qs_fp_special;

/* What a value beyond the largest finite one becomes (after rounding). */
typedef enum qs_fp_overflow {
	QS_FP_SAT = 0,   /* +-max, and +-Inf inputs too (OCP/ONNX SAT);
			  * FNUZ Inf and NaN stay NaN */
	QS_FP_SATFINITE, /* finite overflow to +-max, Inf inputs kept as the
			  * format's Inf/NaN (ml_dtypes kSaturate) */
	QS_FP_NONSAT,    /* "ieee": Inf (IEEE flavour) or NaN (FN, FNUZ);
			  * +-max when the rounding is toward zero for that
			  * sign (IEEE 754 7.4); NONE formats saturate */
	QS_FP_OVERFLOW_COUNT
} qs_fp_overflow;

typedef struct qs_fpfmt {
	char name[40];        /* canonical name, e.g. "fp8_e4m3", "fpE3M4" */
	int bits;             /* 1 + ebits + mbits, 3..16 */
	int ebits, mbits;     /* exponent and mantissa field widths */
	int bias;             /* value = 2^(E - bias) * 1.M for E > 0 */
	int subnormals;       /* 1: E = 0 codes are subnormals; 0: only zero */
	qs_fp_special special;
	qs_fp_overflow overflow;
	/* derived by qs_fpfmt_custom / lookup */
	uint32_t max_code;    /* magnitude code of the largest finite value */
	uint32_t nan_code;    /* canonical NaN (positive; sign added for IEEE
			       * and FN), 0 when the format has none */
	uint32_t inf_code;    /* +Inf, 0 when the format has none */
	int emin, emax;       /* unbiased exponents of min normal / max */
	float max, min_normal, min_subnormal;
} qs_fpfmt;

/* Counters of qs_fp_quantize; the function adds to them. */
typedef struct qs_fp_counts {
	int64_t underflow; /* nonzero finite input that became +-0 */
	int64_t subnormal; /* nonzero results that are subnormal in the format */
	int64_t overflow;  /* finite input beyond max after rounding */
	int64_t saturated; /* results clamped to +-max (overflow or Inf input) */
	int64_t nan;       /* NaN results (NaN input, or overflow/Inf to NaN) */
	int64_t inf;       /* infinite results */
} qs_fp_counts;

/* Names of the specials and overflow policies ("ieee", "fn", "fnuz",
 * "none"; "sat", "satfinite", "ieee"), NULL when out of range. */
const char *qs_fp_special_name(qs_fp_special s);
const char *qs_fp_overflow_name(qs_fp_overflow o);
/* Parse a policy name: "sat"/"saturate", "satfinite", "ieee"/"nonsat".
 * Returns 0, or -1 for an unknown name. */
int qs_fp_overflow_parse(const char *name, qs_fp_overflow *out);

/* Build a format: ebits >= 1, mbits >= 0, 1 + ebits + mbits <= 16; bias
 * QS_FP_BIAS_DEFAULT means 2^(ebits-1) - 1.  Every value must be a float32
 * (max <= FLT_MAX, bias <= 127, smallest step >= 2^-149); IEEE needs
 * mbits >= 1 and there must be at least one normal binade.  The name is
 * "fpE<e>M<m>" plus "-<special>", "-b<bias>", "-nosub" for non-defaults
 * (defaults: IEEE specials, default bias, subnormals).  QS_EINVAL names
 * the offending argument. */
#define QS_FP_BIAS_DEFAULT (-100000)
qs_status qs_fpfmt_custom(qs_fpfmt *f, int ebits, int mbits, int bias,
			  int subnormals, qs_fp_special special,
			  qs_fp_overflow overflow, qs_error *err);

/* Look a format up by name, case-insensitive: fp16 (half, float16), bf16
 * (bfloat16), fp8_e4m3 (e4m3, fp8_e4m3fn, float8_e4m3fn), fp8_e5m2 (e5m2,
 * float8_e5m2), fp8_e4m3fnuz, fp8_e5m2fnuz, fp8_e4m3b11fnuz, fp6_e2m3
 * (e2m3, float6_e2m3fn), fp6_e3m2 (e3m2, float6_e3m2fn), fp4_e2m1 (fp4,
 * e2m1, float4_e2m1fn), or a custom "fpE<e>M<m>[-ieee|-fn|-fnuz|-none]
 * [-b<bias>][-nosub]".  Overflow policy: QS_FP_NONSAT for fp16 and bf16
 * (cast semantics), QS_FP_SAT for every other format.  QS_EINVAL lists the
 * accepted names. */
qs_status qs_fpfmt_lookup(const char *name, qs_fpfmt *f, qs_error *err);

/* The named formats, in table order: name i for 0 <= i < count, NULL
 * past the end. */
int qs_fpfmt_count(void);
const char *qs_fpfmt_name(int i);

/* Encode x (float32) with rule r; u in [0, 1) is the uniform draw of the
 * stochastic rule (rounds up iff u < the fraction of the step above the
 * lower neighbour), ignored otherwise.  Returns the code in the low
 * f->bits bits, sign in the top one.  NaN in a NONE format gives +0. */
uint32_t qs_fp_encode(const qs_fpfmt *f, float x, qs_rounding r, float u);

/* Exact value of a code (bits above f->bits ignored).  Codes of a format
 * without subnormals that have E = 0 decode as +-0. */
float qs_fp_decode(const qs_fpfmt *f, uint32_t code);

/* y[i] = decode(encode(x[i] / scale)) * scale for i < n, in float32
 * (the quotient is a float32 division, as a fake-quantizing framework
 * computes it).  scale must be finite and > 0; a power of two (1
 * included) is applied as an exact reciprocal multiply, which gives the
 * same result.  codes (n
 * uint16, may be NULL) receive the codes, y (may be NULL, may alias x)
 * the values, counts (may be NULL) are added to.  NaN inputs give NaN in
 * y even for NONE formats (their code is 0).  The stochastic rule draws
 * u = qs_rand_u01(seed, idx0 + i), so results do not depend on how a
 * caller splits the array.  Large n runs in parallel (OpenMP) in fixed
 * chunks.  QS_EINVAL for a bad scale or n < 0. */
qs_status qs_fp_quantize(const qs_fpfmt *f, const float *x, int64_t n,
			 float scale, qs_rounding r, uint64_t seed,
			 int64_t idx0, float *y, uint16_t *codes,
			 qs_fp_counts *counts, qs_error *err);

/* qs_fp_quantize with one scale per block of `block` elements:
 * scales[b] for x[b*block ...], ceil(n/block) of them.  A NaN scale makes
 * its block NaN (codes: the NaN code, 0 without one; y: NaN); other scales
 * must be finite and > 0.  The block formats' element step. */
qs_status qs_fp_quantize_blocks(const qs_fpfmt *f, const float *x,
				int64_t n, int64_t block, const float *scales,
				qs_rounding r, uint64_t seed, int64_t idx0,
				float *y, uint16_t *codes,
				qs_fp_counts *counts, qs_error *err);

/* Encode the exact value x * 2^-e (no float rounding of the product):
 * the element step of block formats.  *ovf (may be NULL) is set to 1 when
 * a finite value overflowed (then the policy of f applied). */
uint32_t qs_fp_encode_scaled(const qs_fpfmt *f, float x, int e,
			     qs_rounding r, float u, int *ovf);

/* ---- E8M0 (OCP MX shared scale: unsigned, bias 127, no zero/Inf) -------- */

/* Value of an E8M0 byte: 2^(c - 127) (c = 0 is the float32 subnormal
 * 2^-127), NaN for 0xFF. */
float qs_fp_e8m0_decode(uint8_t c);
/* Static RNE cast float32 -> E8M0 (ml_dtypes non-saturating; PyTorch
 * fp8e8m0fnu_from_fp32_value agrees on positive input): the implicit 1
 * is the retained bit, so 1.5*2^e rounds up; NaN, Inf, x <= 0 and
 * results above 2^127 give 0xFF; float32 subnormals above 2^-127 give 1. */
uint8_t qs_fp_e8m0_rne(float x);
/* Biased exponent field of |x| (MX "floor" style): floor(log2|x|) + 127
 * for normal x, 0 for zero and float32 subnormals, 0xFF for NaN/Inf. */
uint8_t qs_fp_e8m0_floor(float x);

/* ---- teaching helpers ---------------------------------------------------- */

/* Properties of a format (for a table of formats). */
typedef struct qs_fp_props {
	int bits, ebits, mbits, bias, subnormals;
	qs_fp_special special;
	double max;           /* largest finite value */
	double min_normal;    /* 2^emin */
	double min_subnormal; /* smallest positive value (min_normal when
			       * subnormals are off) */
	double epsilon;       /* 2^-mbits: step above 1.0 relative to 1.0 */
	int has_inf, has_nan, has_negzero;
	uint32_t max_code, nan_code, inf_code;
	int emin, emax;
	double dynamic_range_db; /* 20 log10(max / min_subnormal) */
} qs_fp_props;
void qs_fpfmt_props(const qs_fpfmt *f, qs_fp_props *p);

/* One value in a format: its code and fields, the decoded value, and
 * what rounding did.  Fields of a NaN/Inf code are reported as stored. */
typedef struct qs_fp_desc {
	float x;               /* input */
	uint32_t code;         /* full code (sign in bit bits-1) */
	int sign;              /* sign bit */
	uint32_t exp_field;    /* E */
	uint32_t man_field;    /* M */
	int exponent;          /* unbiased exponent (emin for subnormals) */
	float value;           /* decoded value */
	double error;          /* value - x (in double; NaN if either is) */
	int direction;         /* -1 rounded down, 0 exact, +1 rounded up */
	int overflow;          /* finite x beyond max after rounding */
	int saturated;         /* result clamped to +-max */
	int underflow;         /* nonzero x became zero */
	int subnormal;         /* result is subnormal */
	const char *kind;      /* "zero", "subnormal", "normal", "inf", "nan" */
	char bitstr[24];       /* "s eeee mmm" with spaces between fields */
} qs_fp_desc;
void qs_fp_describe(const qs_fpfmt *f, float x, qs_rounding r, float u,
		    qs_fp_desc *d);

#endif
