/* fp: minifloat codecs, exact by integer arithmetic on float32 bits.
 *
 * Encoding rounds the magnitude m * 2^(E-23) (m a 24-bit significand) to
 * the format's grid: the step is 2^(E - mbits) in a normal binade and
 * 2^(emin - mbits) below it (2^emin without subnormals), so the rounded
 * count of steps n = round(m >> s) plus (E + bias - 1) << mbits is the
 * magnitude code, the carry of a rounding up moving into the exponent
 * field by itself (ml_dtypes float8.h ConvertImpl uses the same
 * "biased exponent - 1" form).  Overflow is decided on that code, i.e.
 * after rounding.  The array kernel runs the same integer steps on every
 * lane without branches (the rounding rule only changes the constant added
 * before the shift) and leaves Inf/NaN inputs to the scalar encoder.
 * Pure C11 + libm (+ OpenMP); no printing. */
#include "config.h"
#include "fp.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
	!defined(__SANITIZE_ADDRESS__)
/* The kernel needs per-lane variable shifts (AVX2 vpsrlvd/vpsllvd); the
 * baseline build keeps a scalar loop. */
#define QS_CLONES                                                      \
	__attribute__((target_clones("avx512f", "avx2", "default"),                      \
		       optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define QS_CLONES
#endif

#define CHUNK 65536 /* elements per parallel work unit */
#define BLK 1024    /* elements per kernel block (local buffers) */

/* How the kernel divides by the scale: by an exact reciprocal multiply
 * (power-of-two scales, 1 included) or by division. */
enum { SC_MUL = 1, SC_DIV };

/* Result flags of the scalar encoder. */
enum {
	FL_OVF = 1,
	FL_SAT = 2,
	FL_NAN = 4,
	FL_INF = 8,
	FL_UNDER = 16,
	FL_SUB = 32,
};

static const char *const special_names[QS_FP_SPECIAL_COUNT] = {
	"ieee", "fn", "fnuz", "none"};
static const char *const overflow_names[QS_FP_OVERFLOW_COUNT] = {
	"sat", "satfinite", "ieee"};

const char *qs_fp_special_name(qs_fp_special s)
{
	return (unsigned)s < QS_FP_SPECIAL_COUNT ? special_names[s] : NULL;
}

const char *qs_fp_overflow_name(qs_fp_overflow o)
{
	return (unsigned)o < QS_FP_OVERFLOW_COUNT ? overflow_names[o] : NULL;
}

int qs_fp_overflow_parse(const char *name, qs_fp_overflow *out)
{
	if (!strcmp(name, "sat") || !strcmp(name, "saturate")) {
		*out = QS_FP_SAT;
		return 0;
	}
	if (!strcmp(name, "satfinite")) {
		*out = QS_FP_SATFINITE;
		return 0;
	}
	if (!strcmp(name, "ieee") || !strcmp(name, "nonsat")) {
		*out = QS_FP_NONSAT;
		return 0;
	}
	return -1;
}

static uint32_t b_of(float f)
{
	uint32_t b;
	memcpy(&b, &f, sizeof b);
	return b;
}

/* ---- descriptors ----------------------------------------------------------- */

qs_status qs_fpfmt_custom(qs_fpfmt *f, int ebits, int mbits, int bias,
			  int subnormals, qs_fp_special special,
			  qs_fp_overflow overflow, qs_error *err)
{
	if (ebits < 1 || ebits > 8)
		return qs_fail(err, QS_EINVAL,
			       "exponent bits: %d, need 1..8", ebits);
	if (mbits < 0 || 1 + ebits + mbits > 16)
		return qs_fail(err, QS_EINVAL,
			       "mantissa bits: %d, need 0..%d (16 bits in all)",
			       mbits, 15 - ebits);
	if ((unsigned)special >= QS_FP_SPECIAL_COUNT)
		return qs_fail(err, QS_EINVAL,
			       "specials: %d, need ieee, fn, fnuz or none",
			       (int)special);
	if ((unsigned)overflow >= QS_FP_OVERFLOW_COUNT)
		return qs_fail(err, QS_EINVAL,
			       "overflow: %d, need sat, satfinite or ieee",
			       (int)overflow);
	int defbias = (1 << (ebits - 1)) - 1;
	if (bias == QS_FP_BIAS_DEFAULT)
		bias = defbias;
	if (special == QS_FP_IEEE && mbits < 1)
		return qs_fail(err, QS_EINVAL,
			       "fpE%dM0 with ieee specials: Inf and NaN need "
			       "a mantissa bit (use fn, fnuz or none)",
			       ebits);
	uint32_t magmask = (1u << (ebits + mbits)) - 1;
	uint32_t max_code, nan_code = 0, inf_code = 0;
	uint32_t efmax = (1u << ebits) - 1;
	switch (special) {
	case QS_FP_IEEE:
		max_code = (efmax << mbits) - 1;
		inf_code = efmax << mbits;
		nan_code = inf_code | (1u << (mbits - 1));
		break;
	case QS_FP_FN:
		max_code = magmask - 1;
		nan_code = magmask;
		break;
	case QS_FP_FNUZ:
		max_code = magmask;
		nan_code = 1u << (ebits + mbits);
		break;
	default:
		max_code = magmask;
		break;
	}
	if (max_code < (1u << mbits))
		return qs_fail(err, QS_EINVAL,
			       "fpE%dM%d-%s has no normal numbers", ebits,
			       mbits, special_names[special]);
	int emin = 1 - bias;
	int emax = (int)(max_code >> mbits) - bias;
	if (bias > 127)
		return qs_fail(err, QS_EINVAL,
			       "bias %d: need <= 127 (normal values must be "
			       "float32 normals)",
			       bias);
	if (emax > 127)
		return qs_fail(err, QS_EINVAL,
			       "bias %d: largest value 2^%d is beyond float32",
			       bias, emax);
	if (emin - mbits < -149)
		return qs_fail(err, QS_EINVAL,
			       "bias %d: smallest step 2^%d is below float32's "
			       "2^-149",
			       bias, emin - mbits);
	memset(f, 0, sizeof *f);
	f->bits = 1 + ebits + mbits;
	f->ebits = ebits;
	f->mbits = mbits;
	f->bias = bias;
	f->subnormals = subnormals != 0;
	f->special = special;
	f->overflow = overflow;
	f->max_code = max_code;
	f->nan_code = nan_code;
	f->inf_code = inf_code;
	f->emin = emin;
	f->emax = emax;
	f->max = ldexpf((float)((max_code & ((1u << mbits) - 1)) |
				(1u << mbits)),
			emax - mbits);
	f->min_normal = ldexpf(1.0f, emin);
	f->min_subnormal =
		f->subnormals ? ldexpf(1.0f, emin - mbits) : f->min_normal;
	int n = snprintf(f->name, sizeof f->name, "fpE%dM%d", ebits, mbits);
	if (special != QS_FP_IEEE)
		n += snprintf(f->name + n, sizeof f->name - (size_t)n, "-%s",
			      special_names[special]);
	if (bias != defbias)
		n += snprintf(f->name + n, sizeof f->name - (size_t)n, "-b%d",
			      bias);
	if (!f->subnormals)
		snprintf(f->name + n, sizeof f->name - (size_t)n, "-nosub");
	return QS_OK;
}

static const struct named_fp {
	const char *name;
	const char *aliases; /* space separated, each followed by a space */
	int ebits, mbits, bias;
	qs_fp_special special;
	qs_fp_overflow overflow;
} named[] = {
	{"fp16", "half float16 ", 5, 10, 15, QS_FP_IEEE, QS_FP_NONSAT},
	{"bf16", "bfloat16 ", 8, 7, 127, QS_FP_IEEE, QS_FP_NONSAT},
	{"fp8_e4m3", "e4m3 fp8_e4m3fn float8_e4m3fn e4m3fn ", 4, 3, 7,
	 QS_FP_FN, QS_FP_SAT},
	{"fp8_e5m2", "e5m2 float8_e5m2 ", 5, 2, 15, QS_FP_IEEE, QS_FP_SAT},
	{"fp8_e4m3fnuz", "e4m3fnuz float8_e4m3fnuz ", 4, 3, 8, QS_FP_FNUZ,
	 QS_FP_SAT},
	{"fp8_e5m2fnuz", "e5m2fnuz float8_e5m2fnuz ", 5, 2, 16, QS_FP_FNUZ,
	 QS_FP_SAT},
	{"fp8_e4m3b11fnuz", "e4m3b11fnuz float8_e4m3b11fnuz ", 4, 3, 11,
	 QS_FP_FNUZ, QS_FP_SAT},
	{"fp6_e2m3", "e2m3 fp6_e2m3fn float6_e2m3fn ", 2, 3, 1, QS_FP_NONE,
	 QS_FP_SAT},
	{"fp6_e3m2", "e3m2 fp6_e3m2fn float6_e3m2fn ", 3, 2, 3, QS_FP_NONE,
	 QS_FP_SAT},
	{"fp4_e2m1", "fp4 e2m1 fp4_e2m1fn float4_e2m1fn ", 2, 1, 1,
	 QS_FP_NONE, QS_FP_SAT},
};
#define NNAMED ((int)(sizeof named / sizeof named[0]))

int qs_fpfmt_count(void)
{
	return NNAMED;
}

const char *qs_fpfmt_name(int i)
{
	return i >= 0 && i < NNAMED ? named[i].name : NULL;
}

/* Is lowercase word w (length n) one of the space-terminated aliases? */
static int in_aliases(const char *aliases, const char *w, size_t n)
{
	for (const char *p = aliases; *p;) {
		const char *e = strchr(p, ' ');
		if ((size_t)(e - p) == n && !strncmp(p, w, n))
			return 1;
		p = e + 1;
	}
	return 0;
}

/* Parse "fpE<e>M<m>[-ieee|-fn|-fnuz|-none][-b<bias>][-nosub]" (lowercased
 * input).  Returns 1 if the name has that shape (then *st is the result of
 * building it), 0 if it does not look like a custom name. */
static int parse_custom(const char *s, qs_fpfmt *f, qs_status *st,
			qs_error *err)
{
	const char *orig = s;
	if (strncmp(s, "fpe", 3) != 0 || !isdigit((unsigned char)s[3]))
		return 0;
	char *end;
	long e = strtol(s + 3, &end, 10);
	if (*end != 'm' || !isdigit((unsigned char)end[1]))
		return 0;
	long m = strtol(end + 1, &end, 10);
	int bias = QS_FP_BIAS_DEFAULT, sub = 1;
	qs_fp_special sp = QS_FP_IEEE;
	s = end;
	while (*s == '-') {
		s++;
		size_t n = strcspn(s, "-");
		int k;
		for (k = 0; k < QS_FP_SPECIAL_COUNT; k++)
			if (strlen(special_names[k]) == n &&
			    !strncmp(s, special_names[k], n))
				break;
		if (k < QS_FP_SPECIAL_COUNT) {
			sp = (qs_fp_special)k;
		} else if (n == 5 && !strncmp(s, "nosub", 5)) {
			sub = 0;
		} else if (s[0] == 'b' && n >= 1) {
			/* b<bias>, the bias may be negative: "b-2" */
			long b = strtol(s + 1, &end, 10);
			if (end > s + 1 && (*end == 0 || *end == '-'))
				n = (size_t)(end - s);
			if (end != s + n || b < -1000 || b > 1000) {
				*st = qs_fail(err, QS_EINVAL,
					      "format '%s': bad bias '%.*s'",
					      orig, (int)n, s);
				return 1;
			}
			bias = (int)b;
		} else {
			*st = qs_fail(err, QS_EINVAL,
				      "format '%s': unknown option '%.*s' "
				      "(ieee, fn, fnuz, none, b<bias>, nosub)",
				      orig, (int)n, s);
			return 1;
		}
		s += n;
	}
	if (*s) {
		*st = qs_fail(err, QS_EINVAL, "format '%s': trailing '%s'",
			      orig, s);
		return 1;
	}
	if (e > 8 || m > 15) {
		*st = qs_fail(err, QS_EINVAL,
			      "format '%s': at most 16 bits in all", orig);
		return 1;
	}
	*st = qs_fpfmt_custom(f, (int)e, (int)m, bias, sub, sp, QS_FP_SAT,
			      err);
	return 1;
}

qs_status qs_fpfmt_lookup(const char *name, qs_fpfmt *f, qs_error *err)
{
	char low[64];
	size_t n = name ? strlen(name) : 0;
	if (!name || n == 0 || n >= sizeof low)
		return qs_fail(err, QS_EINVAL, "float format: empty or too "
					       "long name");
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	for (int i = 0; i < NNAMED; i++) {
		if (strcmp(low, named[i].name) != 0 &&
		    !in_aliases(named[i].aliases, low, n))
			continue;
		qs_status st = qs_fpfmt_custom(
			f, named[i].ebits, named[i].mbits, named[i].bias, 1,
			named[i].special, named[i].overflow, err);
		if (st == QS_OK)
			snprintf(f->name, sizeof f->name, "%s", named[i].name);
		return st;
	}
	qs_status st;
	if (parse_custom(low, f, &st, err))
		return st;
	return qs_fail(err, QS_EINVAL,
		       "unknown float format '%s' (fp16, bf16, fp8_e4m3, "
		       "fp8_e5m2, fp8_e4m3fnuz, fp8_e5m2fnuz, fp8_e4m3b11fnuz, "
		       "fp6_e2m3, fp6_e3m2, fp4_e2m1, fpE<e>M<m>)",
		       name);
}

/* ---- scalar codec ----------------------------------------------------------- */

/* Round the magnitude m * 2^(E-23), m in [2^23, 2^24), onto the grid of f
 * with rule r (neg: the value is negative, for the signed rules); returns
 * the magnitude code, above f->max_code on overflow. */
static uint64_t round_mag(const qs_fpfmt *f, uint32_t m, int E, int neg,
			  qs_rounding r, float u)
{
	int d = f->emin - E;
	if (d < 0)
		d = 0;
	int flush = d > 0 && !f->subnormals;
	/* step exponent relative to m's last bit */
	int s = flush ? 23 + d : 23 - f->mbits + d;
	int sc = s > 40 ? 40 : s; /* m < 2^24: same n, rem and order */
	uint64_t mm = m;
	uint64_t n = mm >> sc, rem = mm & ((1ull << sc) - 1);
	uint64_t half = 1ull << (sc - 1);
	int up;
	switch (r) {
	case QS_ROUND_AWAY:
		up = rem >= half;
		break;
	case QS_ROUND_UP: /* floor(v + 0.5): ties toward +inf */
		up = neg ? rem > half : rem >= half;
		break;
	case QS_ROUND_FLOOR:
		up = neg && rem;
		break;
	case QS_ROUND_CEIL:
		up = !neg && rem;
		break;
	case QS_ROUND_TRUNC:
		up = 0;
		break;
	case QS_ROUND_STOCHASTIC:
		/* up iff u < rem / 2^s, compared exactly in double */
		up = rem && ldexp((double)u, s) < (double)rem;
		break;
	default: /* nearest, ties to even */
		up = rem > half || (rem == half && (n & 1));
		break;
	}
	n += (uint64_t)up;
	if (flush)
		return n << f->mbits;
	int base = E + f->bias - 1;
	if (base < 0)
		base = 0;
	return n + ((uint64_t)base << f->mbits);
}

/* Encode float32 bits b, scaled by 2^-eshift exactly; *fl gets FL_*. */
static uint32_t encode_bits(const qs_fpfmt *f, uint32_t b, int eshift,
			    qs_rounding r, float u, int *fl)
{
	uint32_t sbit = 1u << (f->bits - 1);
	int neg = (int)(b >> 31);
	uint32_t sb = neg ? sbit : 0;
	uint32_t a = b & 0x7FFFFFFFu;
	int fnuz = f->special == QS_FP_FNUZ;
	*fl = 0;
	if (a > 0x7F800000u) { /* NaN */
		*fl = FL_NAN;
		switch (f->special) {
		case QS_FP_IEEE:
		case QS_FP_FN:
			return sb | f->nan_code;
		case QS_FP_FNUZ:
			return sbit;
		default:
			return 0;
		}
	}
	if (a == 0x7F800000u) { /* Inf */
		if (fnuz) {
			*fl = FL_NAN;
			return sbit;
		}
		if (f->overflow == QS_FP_SAT || f->special == QS_FP_NONE) {
			*fl = FL_SAT;
			return sb | f->max_code;
		}
		if (f->special == QS_FP_IEEE) {
			*fl = FL_INF;
			return sb | f->inf_code;
		}
		*fl = FL_NAN;
		return sb | f->nan_code;
	}
	if (a == 0)
		return fnuz ? 0 : sb;
	int ex = (int)(a >> 23);
	uint32_t m;
	int E;
	if (ex) {
		m = (a & 0x7FFFFFu) | 0x800000u;
		E = ex - 127;
	} else { /* float32 subnormal: normalize */
		m = a;
		E = -126;
		while (!(m & 0x800000u)) {
			m <<= 1;
			E--;
		}
	}
	uint64_t cm = round_mag(f, m, E - eshift, neg, r, u);
	if (cm > f->max_code) {
		*fl = FL_OVF;
		int toward_zero = r == QS_ROUND_TRUNC ||
				  (r == QS_ROUND_FLOOR && !neg) ||
				  (r == QS_ROUND_CEIL && neg);
		if (f->overflow != QS_FP_NONSAT || toward_zero ||
		    f->special == QS_FP_NONE) {
			*fl |= FL_SAT;
			return sb | f->max_code;
		}
		if (f->special == QS_FP_IEEE) {
			*fl |= FL_INF;
			return sb | f->inf_code;
		}
		*fl |= FL_NAN;
		return fnuz ? sbit : (sb | f->nan_code);
	}
	if (cm == 0) {
		*fl = FL_UNDER;
		return fnuz ? 0 : sb;
	}
	if (cm < (1u << f->mbits))
		*fl = FL_SUB;
	return sb | (uint32_t)cm;
}

uint32_t qs_fp_encode(const qs_fpfmt *f, float x, qs_rounding r, float u)
{
	int fl;
	return encode_bits(f, b_of(x), 0, r, u, &fl);
}

uint32_t qs_fp_encode_scaled(const qs_fpfmt *f, float x, int e,
			     qs_rounding r, float u, int *ovf)
{
	int fl;
	uint32_t c = encode_bits(f, b_of(x), e, r, u, &fl);
	if (ovf)
		*ovf = (fl & FL_OVF) != 0;
	return c;
}

float qs_fp_decode(const qs_fpfmt *f, uint32_t code)
{
	uint32_t sbit = 1u << (f->bits - 1);
	uint32_t magmask = sbit - 1;
	code &= (sbit << 1) - 1;
	uint32_t cm = code & magmask;
	int neg = (code & sbit) != 0;
	uint32_t ef = cm >> f->mbits;
	uint32_t mf = cm & ((1u << f->mbits) - 1);
	switch (f->special) {
	case QS_FP_FNUZ:
		if (code == sbit)
			return NAN;
		break;
	case QS_FP_FN:
		if (cm == magmask)
			return neg ? -NAN : NAN;
		break;
	case QS_FP_IEEE:
		if (ef == (1u << f->ebits) - 1)
			return mf ? (neg ? -NAN : NAN)
				  : (neg ? -INFINITY : INFINITY);
		break;
	default:
		break;
	}
	float v;
	if (ef == 0)
		v = f->subnormals ? ldexpf((float)mf, f->emin - f->mbits)
				  : 0.0f;
	else
		v = ldexpf((float)(mf | (1u << f->mbits)),
			   (int)ef - f->bias - f->mbits);
	return neg ? -v : v;
}

/* ---- E8M0 ------------------------------------------------------------------- */

float qs_fp_e8m0_decode(uint8_t c)
{
	if (c == 0xFF)
		return NAN;
	return ldexpf(1.0f, (int)c - 127);
}

uint8_t qs_fp_e8m0_rne(float x)
{
	uint32_t b = b_of(x);
	if (isnan(x) || isinf(x) || x <= 0.0f)
		return 0xFF;
	uint32_t ex = b >> 23, man = b & 0x7FFFFFu;
	if (ex == 0) /* 2^-127 is mantissa 0x400000 */
		return man > 0x400000u ? 1 : 0;
	/* retained bit is the implicit 1 (odd): ties go up */
	uint32_t c = ex + (man >= 0x400000u);
	return c >= 0xFF ? 0xFF : (uint8_t)c;
}

uint8_t qs_fp_e8m0_floor(float x)
{
	uint32_t ex = (b_of(x) >> 23) & 0xFF;
	return (uint8_t)ex; /* 0xFF for NaN/Inf, 0 for zero/subnormal */
}

/* ---- array kernel ------------------------------------------------------------ */

/* Per-format constants of the kernel. */
typedef struct kconst {
	int32_t emin_b;    /* emin + 127: float32 biased exponent of min normal */
	int32_t shift0;    /* 23 - mbits */
	int32_t flushadd;  /* mbits without subnormals (step 2^emin), else 0 */
	int32_t mbits, biasm1;
	uint32_t max_bits; /* float32 bits of max, min normal, min positive */
	uint32_t minn_bits, minp_bits;
	uint32_t codeoff;  /* (127 - bias) << mbits */
	uint32_t max_code, sshift, fnuz;
	uint32_t ovf_sat;  /* nonzero: finite overflow always saturates */
	uint32_t ovf_code; /* magnitude code of an overflow to Inf/NaN */
	uint32_t ovf_bits; /* float bits of that result (Inf or NaN) */
} kconst;

static void kconst_init(kconst *k, const qs_fpfmt *f)
{
	k->emin_b = f->emin + 127;
	k->shift0 = 23 - f->mbits;
	k->flushadd = f->subnormals ? 0 : f->mbits;
	k->mbits = f->mbits;
	k->biasm1 = f->bias - 1;
	k->max_bits = b_of(f->max);
	k->minn_bits = b_of(f->min_normal);
	k->minp_bits = b_of(f->min_subnormal);
	k->codeoff = (uint32_t)(127 - f->bias) << f->mbits;
	k->max_code = f->max_code;
	k->sshift = (uint32_t)f->bits - 1;
	k->fnuz = f->special == QS_FP_FNUZ;
	k->ovf_sat = f->overflow != QS_FP_NONSAT || f->special == QS_FP_NONE;
	switch (f->special) {
	case QS_FP_IEEE:
		k->ovf_code = f->inf_code;
		k->ovf_bits = 0x7F800000u;
		break;
	case QS_FP_FN:
		k->ovf_code = f->nan_code;
		k->ovf_bits = 0x7FC00000u;
		break;
	default: /* FNUZ: the NaN is the sign bit alone (set below) */
		k->ovf_code = 0;
		k->ovf_bits = 0x7FC00000u;
		break;
	}
}

/* One block through the branch-free path: values into y, codes into c
 * (if wc), counts into cnt[0..5] (underflow, subnormal, overflow,
 * saturated, nan, inf); returns nonzero if some input was Inf/NaN (those
 * lanes are left for the scalar fixup).  The rounded magnitude is built
 * directly as float32 bits: n steps of 2^s units of m's last bit are
 * n << s, and adding (exe - 1) << 23 puts the implicit bit into the
 * exponent field, carries included. */
static inline __attribute__((always_inline)) int
kern(const kconst *k, const float *restrict x, int n, int sc, float scale,
     float inv, qs_rounding r, int wc, const uint32_t *restrict ku,
     float *restrict y, uint32_t *restrict c, int32_t *cnt)
{
	/* locals: stores to y must not force reloads of *k */
	const int32_t emin_b = k->emin_b, shift0 = k->shift0;
	const int32_t flushadd = k->flushadd, mbits = k->mbits;
	const uint32_t max_bits = k->max_bits, minn_bits = k->minn_bits;
	const uint32_t minp_bits = k->minp_bits, codeoff = k->codeoff;
	const uint32_t max_code = k->max_code, sshift = k->sshift;
	const uint32_t fnuz = k->fnuz, ovf_sat = k->ovf_sat;
	const uint32_t ovf_code = k->ovf_code, ovf_bits = k->ovf_bits;
	const int directed = r == QS_ROUND_FLOOR || r == QS_ROUND_CEIL ||
			     r == QS_ROUND_STOCHASTIC;
	int32_t under = 0, subn = 0, ovfc = 0, satc = 0, bigc = 0;
	uint32_t anysp = 0;
	for (int i = 0; i < n; i++) {
		float v = sc == SC_DIV ? x[i] / scale : x[i] * inv;
		uint32_t b;
		memcpy(&b, &v, 4);
		uint32_t sgn = b >> 31;
		uint32_t a = b & 0x7FFFFFFFu;
		int32_t ex = (int32_t)(a >> 23);
		int32_t exe = ex > 1 ? ex : 1;
		uint32_t m = a - ((uint32_t)(exe - 1) << 23);
		int32_t d = emin_b - exe;
		d = d > 0 ? d : 0;
		d += flushadd & -(int32_t)(d > 0);
		int32_t s = shift0 + d;
		/* stochastic: a nonzero value more than 2^8 below the
		 * smallest step needs the exact scalar comparison */
		uint32_t far = (uint32_t)(s > 31) & (uint32_t)(a != 0) &
			       (uint32_t)(r == QS_ROUND_STOCHASTIC);
		s = s > 31 ? 31 : s;
		uint32_t half = 1u << (s - 1);
		uint32_t add, tz;
		switch (r) {
		case QS_ROUND_STOCHASTIC: {
			/* up iff u < rem / 2^s with u = ku / 2^24, exactly:
			 * ku < rem << (24 - s), or ku << (s - 24) < rem */
			uint32_t rem = m & (half + half - 1u);
			int32_t s1 = 24 - s, s2 = s - 24;
			s1 = s1 > 0 ? s1 : 0;
			s2 = s2 > 0 ? s2 : 0;
			uint32_t up = s <= 24 ? (uint32_t)(ku[i] < (rem << s1))
					      : (uint32_t)((ku[i] << s2) < rem);
			add = ((half + half) & (0u - up)) - rem;
			tz = 0;
			break;
		}
		case QS_ROUND_AWAY:
			add = half;
			tz = 0;
			break;
		case QS_ROUND_UP:
			add = half - sgn;
			tz = 0;
			break;
		case QS_ROUND_FLOOR:
			add = (half + half - 1u) & (0u - sgn);
			tz = sgn ^ 1u;
			break;
		case QS_ROUND_CEIL:
			add = (half + half - 1u) & (sgn - 1u);
			tz = sgn;
			break;
		case QS_ROUND_TRUNC:
			add = 0u;
			tz = 1;
			break;
		default:
			add = half - 1u + ((m >> s) & 1u);
			tz = 0;
			break;
		}
		uint32_t nq = (m + add) >> s;
		uint32_t ym = ((uint32_t)(exe - 1) << 23) + (nq << s);
		ym &= 0u - (uint32_t)(nq != 0);
		if (directed) { /* up by less than a step from far below */
			uint32_t tiny = (uint32_t)(nq != 0) & (uint32_t)(s >= 25);
			ym = (minp_bits & (0u - tiny)) | (ym & (tiny - 1u));
		}
		uint32_t sp = (uint32_t)(ex == 255) | far;
		uint32_t ovf = (ym > max_bits) & (sp ^ 1u);
		uint32_t sat = ovf & (ovf_sat | tz);
		uint32_t big = ovf & (sat ^ 1u); /* to Inf or NaN */
		ym = (max_bits & (0u - sat)) | (ym & (sat - 1u));
		uint32_t zero = (uint32_t)(ym == 0);
		uint32_t ysg = sgn & ((zero & fnuz) ^ 1u); /* FNUZ: no -0 */
		uint32_t yb = (ovf_bits & (0u - big)) | (ym & (big - 1u));
		yb |= ysg << 31;
		float yo;
		memcpy(&yo, &yb, 4);
		y[i] = yo * scale;
		if (wc) {
			uint32_t nrm = 0u - (uint32_t)(ym >= minn_bits);
			uint32_t cm = (((ym >> shift0) - codeoff) & nrm) |
				      (nq & ~nrm);
			cm = (max_code & (0u - sat)) | (cm & (sat - 1u));
			uint32_t csg = (big & (fnuz | sgn)) | ((big ^ 1u) & ysg);
			uint32_t code = (ovf_code & (0u - big)) |
					(cm & (big - 1u));
			c[i] = code | (csg << sshift);
		}
		uint32_t live = sp ^ 1u;
		under += (int32_t)(live & (a != 0) & zero);
		subn += (int32_t)(live & (zero ^ 1u) & (ym < minn_bits));
		ovfc += (int32_t)ovf;
		satc += (int32_t)sat;
		bigc += (int32_t)big;
		anysp |= sp;
	}
	(void)mbits;
	(void)cnt;
	cnt[0] += under;
	cnt[1] += subn;
	cnt[2] += ovfc;
	cnt[3] += satc;
	cnt[4] += ovf_bits == 0x7F800000u ? 0 : bigc;
	cnt[5] += ovf_bits == 0x7F800000u ? bigc : 0;
	return anysp != 0;
}

/* Scalar path for one element (stochastic rule, Inf/NaN fixups). */
static void one(const qs_fpfmt *f, float xv, int sc, float scale, float inv,
		qs_rounding r, float u, float *y, uint16_t *c, int64_t *cnt)
{
	float v = sc == SC_DIV ? xv / scale : xv * inv;
	int fl;
	uint32_t code = encode_bits(f, b_of(v), 0, r, u, &fl);
	float d = qs_fp_decode(f, code);
	if (isnan(v))
		d = NAN;
	*y = d * scale;
	*c = (uint16_t)code;
	cnt[0] += (fl & FL_UNDER) != 0;
	cnt[1] += (fl & FL_SUB) != 0;
	cnt[2] += (fl & FL_OVF) != 0;
	cnt[3] += (fl & FL_SAT) != 0;
	cnt[4] += isnan(d) != 0;
	cnt[5] += isinf(d) != 0;
}

/* The 24 random bits of qs_rand_u01(seed, index) (round.c: SplitMix64
 * finalizer over a Weyl sequence), for vector lanes; u = bits * 2^-24. */
static inline uint32_t rand24(uint64_t seed, uint64_t index)
{
	uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	return (uint32_t)(z >> 40);
}

/* Does the kernel leave this lane to the scalar path?  Inf/NaN, and for
 * the stochastic rule nonzero values far below the smallest step. */
static int lane_special(const kconst *k, uint32_t b, qs_rounding r)
{
	uint32_t a = b & 0x7FFFFFFFu;
	int32_t ex = (int32_t)(a >> 23);
	if (ex == 255)
		return 1;
	if (r != QS_ROUND_STOCHASTIC || a == 0)
		return 0;
	int32_t d = k->emin_b - (ex > 1 ? ex : 1);
	d = d > 0 ? d + k->flushadd : 0;
	return k->shift0 + d > 31;
}

/* A run of up to CHUNK elements (idx: global index of x[0]). */
QS_CLONES
static void run_chunk(const qs_fpfmt *f, const kconst *k, const float *x,
		      int64_t n, int sc, float scale, float inv, qs_rounding r,
		      uint64_t seed, uint64_t idx, float *y, uint16_t *codes,
		      int64_t *cnt)
{
	float ybuf[BLK];
	uint32_t c32buf[BLK];
	uint32_t kbuf[BLK];
	for (int64_t o = 0; o < n; o += BLK) {
		int len = (int)(n - o < BLK ? n - o : BLK);
		const float *xo = x + o;
		/* y may alias x: the kernel's restrict lanes write apart */
		int alias = y && y + o == xo;
		float *yo = y && !alias ? y + o : ybuf;
		uint16_t *co = codes ? codes + o : (uint16_t *)c32buf;
		if (r == QS_ROUND_STOCHASTIC)
			for (int i = 0; i < len; i++)
				kbuf[i] = rand24(seed, idx + (uint64_t)o +
							       (uint64_t)i);
		int32_t c32[6] = {0, 0, 0, 0, 0, 0};
		int sp;
#define KCALL(R, S)                                                            \
	(codes ? kern(k, xo, len, S, scale, inv, R, 1, kbuf, yo, c32buf, c32)  \
	       : kern(k, xo, len, S, scale, inv, R, 0, kbuf, yo, c32buf, c32))
#define KCASE(R)                                                               \
	case R:                                                                \
		sp = sc == SC_DIV ? KCALL(R, SC_DIV) : KCALL(R, SC_MUL);       \
		break;
		switch (r) {
			KCASE(QS_ROUND_AWAY)
			KCASE(QS_ROUND_UP)
			KCASE(QS_ROUND_FLOOR)
			KCASE(QS_ROUND_CEIL)
			KCASE(QS_ROUND_TRUNC)
			KCASE(QS_ROUND_STOCHASTIC)
		default:
			KCASE(QS_ROUND_NEAREST)
		}
#undef KCASE
#undef KCALL
		for (int j = 0; j < 6; j++)
			cnt[j] += c32[j];
		if (codes) /* narrowing apart: fewer live registers above */
			for (int i = 0; i < len; i++)
				co[i] = (uint16_t)c32buf[i];
		if (sp)
			for (int i = 0; i < len; i++) {
				float v = sc == SC_DIV ? xo[i] / scale
						       : xo[i] * inv;
				if (lane_special(k, b_of(v), r))
					one(f, xo[i], sc, scale, inv, r,
					    r == QS_ROUND_STOCHASTIC
						    ? (float)kbuf[i] * 0x1p-24f
						    : 0.0f,
					    yo + i, co + i, cnt);
			}
		if (alias)
			memcpy(y + o, ybuf, (size_t)len * sizeof *ybuf);
	}
}

/* How run_chunk applies a scale: SC_MUL with an exact reciprocal for
 * powers of two (same result as dividing), else SC_DIV. */
static int scale_mode(float scale, float *inv)
{
	int e;
	*inv = 1.0f;
	if (frexpf(scale, &e) == 0.5f) {
		float r = 1.0f / scale; /* exact when finite: 2^(1-e) */
		if (!isinf(r)) {
			*inv = r;
			return SC_MUL;
		}
	}
	return SC_DIV;
}

qs_status qs_fp_quantize(const qs_fpfmt *f, const float *x, int64_t n,
			 float scale, qs_rounding r, uint64_t seed,
			 int64_t idx0, float *y, uint16_t *codes,
			 qs_fp_counts *counts, qs_error *err)
{
	if (n < 0)
		return qs_fail(err, QS_EINVAL, "n: %lld, need >= 0",
			       (long long)n);
	if (!(scale > 0.0f) || isinf(scale))
		return qs_fail(err, QS_EINVAL,
			       "scale: %g, need a finite value > 0",
			       (double)scale);
	if ((unsigned)r >= QS_ROUND_COUNT)
		return qs_fail(err, QS_EINVAL, "rounding: %d out of range",
			       (int)r);
	kconst k;
	kconst_init(&k, f);
	float inv;
	int sc = scale_mode(scale, &inv);
	int64_t nchunk = (n + CHUNK - 1) / CHUNK;
	int64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (nchunk > 1) \
	reduction(+ : c0, c1, c2, c3, c4, c5)
#endif
	for (int64_t ci = 0; ci < nchunk; ci++) {
		int64_t o = ci * CHUNK;
		int64_t len = n - o < CHUNK ? n - o : CHUNK;
		int64_t cnt[6] = {0, 0, 0, 0, 0, 0};
		run_chunk(f, &k, x + o, len, sc, scale, inv, r, seed,
			  (uint64_t)idx0 + (uint64_t)o, y ? y + o : NULL,
			  codes ? codes + o : NULL, cnt);
		c0 += cnt[0];
		c1 += cnt[1];
		c2 += cnt[2];
		c3 += cnt[3];
		c4 += cnt[4];
		c5 += cnt[5];
	}
	if (counts) {
		counts->underflow += c0;
		counts->subnormal += c1;
		counts->overflow += c2;
		counts->saturated += c3;
		counts->nan += c4;
		counts->inf += c5;
	}
	return QS_OK;
}

qs_status qs_fp_quantize_blocks(const qs_fpfmt *f, const float *x,
				int64_t n, int64_t block, const float *scales,
				qs_rounding r, uint64_t seed, int64_t idx0,
				float *y, uint16_t *codes,
				qs_fp_counts *counts, qs_error *err)
{
	if (n < 0)
		return qs_fail(err, QS_EINVAL, "n: %lld, need >= 0",
			       (long long)n);
	if (block < 1)
		return qs_fail(err, QS_EINVAL, "block: %lld, need >= 1",
			       (long long)block);
	if ((unsigned)r >= QS_ROUND_COUNT)
		return qs_fail(err, QS_EINVAL, "rounding: %d out of range",
			       (int)r);
	int64_t nb = (n + block - 1) / block;
	for (int64_t b = 0; b < nb; b++)
		if (!isnan(scales[b]) && (!(scales[b] > 0.0f) || isinf(scales[b])))
			return qs_fail(err, QS_EINVAL,
				       "scales[%lld]: %g, need a finite value "
				       "> 0 or NaN",
				       (long long)b, (double)scales[b]);
	kconst k;
	kconst_init(&k, f);
	uint32_t nanc = f->special == QS_FP_NONE   ? 0
			: f->special == QS_FP_FNUZ ? 1u << (f->bits - 1)
						   : f->nan_code;
	/* groups of whole blocks, about CHUNK elements each */
	int64_t per = block >= CHUNK ? 1 : CHUNK / block;
	int64_t ngroup = (nb + per - 1) / per;
	int64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (ngroup > 1) \
	reduction(+ : c0, c1, c2, c3, c4, c5)
#endif
	for (int64_t g = 0; g < ngroup; g++) {
		int64_t cnt[6] = {0, 0, 0, 0, 0, 0};
		int64_t bend = (g + 1) * per < nb ? (g + 1) * per : nb;
		for (int64_t b = g * per; b < bend; b++) {
			int64_t o = b * block;
			int64_t len = n - o < block ? n - o : block;
			float sc = scales[b];
			if (isnan(sc)) {
				for (int64_t i = 0; i < len; i++) {
					if (y)
						y[o + i] = NAN;
					if (codes)
						codes[o + i] = (uint16_t)nanc;
				}
				cnt[4] += len;
				continue;
			}
			float inv;
			int mode = scale_mode(sc, &inv);
			run_chunk(f, &k, x + o, len, mode, sc, inv, r, seed,
				  (uint64_t)idx0 + (uint64_t)o,
				  y ? y + o : NULL, codes ? codes + o : NULL,
				  cnt);
		}
		c0 += cnt[0];
		c1 += cnt[1];
		c2 += cnt[2];
		c3 += cnt[3];
		c4 += cnt[4];
		c5 += cnt[5];
	}
	if (counts) {
		counts->underflow += c0;
		counts->subnormal += c1;
		counts->overflow += c2;
		counts->saturated += c3;
		counts->nan += c4;
		counts->inf += c5;
	}
	return QS_OK;
}

/* ---- teaching helpers ---------------------------------------------------- */

void qs_fpfmt_props(const qs_fpfmt *f, qs_fp_props *p)
{
	memset(p, 0, sizeof *p);
	p->bits = f->bits;
	p->ebits = f->ebits;
	p->mbits = f->mbits;
	p->bias = f->bias;
	p->subnormals = f->subnormals;
	p->special = f->special;
	p->max = f->max;
	p->min_normal = f->min_normal;
	p->min_subnormal = f->min_subnormal;
	p->epsilon = ldexp(1.0, -f->mbits);
	p->has_inf = f->special == QS_FP_IEEE;
	p->has_nan = f->special != QS_FP_NONE;
	p->has_negzero = f->special != QS_FP_FNUZ;
	p->max_code = f->max_code;
	p->nan_code = f->nan_code;
	p->inf_code = f->inf_code;
	p->emin = f->emin;
	p->emax = f->emax;
	p->dynamic_range_db = 20.0 * log10(p->max / p->min_subnormal);
}

void qs_fp_describe(const qs_fpfmt *f, float x, qs_rounding r, float u,
		    qs_fp_desc *d)
{
	memset(d, 0, sizeof *d);
	int fl;
	uint32_t code = encode_bits(f, b_of(x), 0, r, u, &fl);
	uint32_t sbit = 1u << (f->bits - 1);
	d->x = x;
	d->code = code;
	d->sign = (code & sbit) != 0;
	d->exp_field = (code & (sbit - 1)) >> f->mbits;
	d->man_field = code & ((1u << f->mbits) - 1);
	d->value = qs_fp_decode(f, code);
	d->overflow = (fl & FL_OVF) != 0;
	d->saturated = (fl & FL_SAT) != 0;
	d->underflow = (fl & FL_UNDER) != 0;
	d->subnormal = (fl & FL_SUB) != 0;
	d->exponent = d->exp_field ? (int)d->exp_field - f->bias : f->emin;
	if (isnan(d->value))
		d->kind = "nan";
	else if (isinf(d->value))
		d->kind = "inf";
	else if (d->value == 0.0f)
		d->kind = "zero";
	else if (d->exp_field == 0)
		d->kind = "subnormal";
	else
		d->kind = "normal";
	if (isnan(x) || isnan(d->value)) {
		d->error = NAN;
		d->direction = 0;
	} else {
		d->error = (double)d->value - (double)x;
		d->direction = (double)d->value > (double)x   ? 1
			       : (double)d->value < (double)x ? -1
							      : 0;
	}
	/* "s eeee mmm" */
	char *p = d->bitstr;
	*p++ = d->sign ? '1' : '0';
	*p++ = ' ';
	for (int i = f->ebits - 1; i >= 0; i--)
		*p++ = (d->exp_field >> i) & 1 ? '1' : '0';
	if (f->mbits) {
		*p++ = ' ';
		for (int i = f->mbits - 1; i >= 0; i--)
			*p++ = (d->man_field >> i) & 1 ? '1' : '0';
	}
	*p = 0;
}
