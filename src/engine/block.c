/* block: block-scaled formats, each in its reference's float32 operation
 * order (see block.h for the list and docs/formats.md for the sources).
 *
 * Blocks are independent: the run is cut into groups of whole blocks that
 * threads share; counters are integer sums, so results never depend on the
 * thread count.  The MX and NVFP4 element step is the minifloat kernel of
 * fp.c with one scale per block (power-of-two MX scales divide exactly).
 * Pure C11 + libm (+ OpenMP); no printing. */
#include "config.h"
#include "block.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXBLOCK 4096 /* largest block (bitsandbytes' limit) */
#define GROUP 4096    /* elements per work group (whole blocks) */

static const struct blk_named {
	const char *name;
	const char *aliases; /* space-terminated */
	qs_block_kind kind;
	int block;
	const char *elem; /* element float format, NULL if none */
	int dq;
} table[] = {
	{"mxfp8_e4m3", "mxfp8 ", QS_BLK_MXFP8_E4M3, 32, "fp8_e4m3", 0},
	{"mxfp8_e5m2", "", QS_BLK_MXFP8_E5M2, 32, "fp8_e5m2", 0},
	{"mxfp6_e2m3", "mxfp6 ", QS_BLK_MXFP6_E2M3, 32, "fp6_e2m3", 0},
	{"mxfp6_e3m2", "", QS_BLK_MXFP6_E3M2, 32, "fp6_e3m2", 0},
	{"mxfp4", "mxfp4_e2m1 ", QS_BLK_MXFP4, 32, "fp4_e2m1", 0},
	{"mxint8", "", QS_BLK_MXINT8, 32, NULL, 0},
	{"nvfp4", "", QS_BLK_NVFP4, 16, "fp4_e2m1", 0},
	{"nf4", "", QS_BLK_NF4, 64, NULL, 0},
	{"nf4_dq", "nf4-dq ", QS_BLK_NF4, 64, NULL, 1},
	{"q8_0", "", QS_BLK_Q8_0, 32, NULL, 0},
	{"q4_0", "", QS_BLK_Q4_0, 32, NULL, 0},
	{"q4_1", "", QS_BLK_Q4_1, 32, NULL, 0},
	{"mxfp4_ggml", "", QS_BLK_MXFP4_GGML, 32, NULL, 0},
};
#define NTABLE ((int)(sizeof table / sizeof table[0]))

static const char *const mx_scale_names[QS_MX_SCALE_COUNT] = {
	"floor", "float_log2", "ceil", "even", "rceil"};

/* bitsandbytes NF4 code values (backends/utils.py), float32 */
static const float nf4_values[16] = {
	-1.0f,
	-0.6961928009986877f,
	-0.5250730514526367f,
	-0.39491748809814453f,
	-0.28444138169288635f,
	-0.18477343022823334f,
	-0.09105003625154495f,
	0.0f,
	0.07958029955625534f,
	0.16093020141124725f,
	0.24611230194568634f,
	0.33791524171829224f,
	0.44070982933044434f,
	0.5626170039176941f,
	0.7229568362236023f,
	1.0f,
};

/* ggml kvalues_mxfp4: E2M1 values times 2 */
static const int8_t mxfp4_kv[16] = {0,  1,  2,  3,  4,  6,  8,  12,
				    0, -1, -2, -3, -4, -6, -8, -12};

static int is_mx(qs_block_kind k)
{
	return k <= QS_BLK_MXINT8;
}

static uint32_t b_of(float f)
{
	uint32_t b;
	memcpy(&b, &f, sizeof b);
	return b;
}

static float f_of(uint32_t b)
{
	float f;
	memcpy(&f, &b, sizeof f);
	return f;
}

const char *qs_mx_scale_name(qs_mx_scale m)
{
	return (unsigned)m < QS_MX_SCALE_COUNT ? mx_scale_names[m] : NULL;
}

int qs_mx_scale_parse(const char *name, qs_mx_scale *out)
{
	for (int i = 0; i < QS_MX_SCALE_COUNT; i++)
		if (!strcmp(name, mx_scale_names[i])) {
			*out = (qs_mx_scale)i;
			return 0;
		}
	return -1;
}

int qs_blockfmt_count(void)
{
	return NTABLE;
}

const char *qs_blockfmt_name(int i)
{
	return i >= 0 && i < NTABLE ? table[i].name : NULL;
}

qs_status qs_blockfmt_lookup(const char *name, qs_blockfmt *f, qs_error *err)
{
	char low[40];
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n >= sizeof low)
		return qs_fail(err, QS_EINVAL, "block format: empty or too "
					       "long name");
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	for (int i = 0; i < NTABLE; i++) {
		int hit = !strcmp(low, table[i].name);
		for (const char *p = table[i].aliases; !hit && *p;) {
			const char *e = strchr(p, ' ');
			hit = (size_t)(e - p) == n && !strncmp(p, low, n);
			p = e + 1;
		}
		if (!hit)
			continue;
		memset(f, 0, sizeof *f);
		f->kind = table[i].kind;
		snprintf(f->name, sizeof f->name, "%s", table[i].name);
		f->block = table[i].block;
		f->scale_mode = QS_MX_FLOOR;
		f->elem_round = QS_ROUND_NEAREST;
		f->scale_round = QS_ROUND_NEAREST;
		f->double_quant = table[i].dq;
		if (table[i].elem) {
			qs_status st = qs_fpfmt_lookup(table[i].elem, &f->elem,
						       err);
			if (st != QS_OK)
				return st;
			f->elem.overflow = QS_FP_SAT;
		}
		return QS_OK;
	}
	return qs_fail(err, QS_EINVAL,
		       "unknown block format '%s' (mxfp8_e4m3, mxfp8_e5m2, "
		       "mxfp6_e2m3, mxfp6_e3m2, mxfp4, mxint8, nvfp4, nf4, "
		       "nf4_dq, q8_0, q4_0, q4_1, mxfp4_ggml)",
		       name);
}

int64_t qs_block_count(const qs_blockfmt *f, int64_t n)
{
	return f->block > 0 ? (n + f->block - 1) / f->block : 0;
}

static int elem_bits(const qs_blockfmt *f)
{
	switch (f->kind) {
	case QS_BLK_MXFP8_E4M3:
	case QS_BLK_MXFP8_E5M2:
	case QS_BLK_MXINT8:
	case QS_BLK_Q8_0:
		return 8;
	case QS_BLK_MXFP6_E2M3:
	case QS_BLK_MXFP6_E3M2:
		return 6;
	default:
		return 4;
	}
}

/* Bits of one block's scale data. */
static int scale_bits(const qs_blockfmt *f)
{
	switch (f->kind) {
	case QS_BLK_NF4:
		return f->double_quant ? 8 : 32;
	case QS_BLK_Q8_0:
	case QS_BLK_Q4_0:
		return 16;
	case QS_BLK_Q4_1:
		return 32;
	default: /* E8M0, E4M3 */
		return 8;
	}
}

double qs_block_bits(const qs_blockfmt *f, int64_t n)
{
	if (n <= 0)
		n = f->block;
	int64_t nb = qs_block_count(f, n);
	double bits = (double)n * elem_bits(f) + (double)nb * scale_bits(f);
	if (f->kind == QS_BLK_NVFP4)
		bits += 32; /* float32 tensor scale */
	if (f->kind == QS_BLK_NF4 && f->double_quant)
		bits += 32.0 * (double)((nb + 255) / 256) + 32; /* + offset */
	return bits / (double)n;
}

void qs_blockfmt_props(const qs_blockfmt *f, qs_block_props *p)
{
	memset(p, 0, sizeof *p);
	p->block = f->block;
	p->elem_bits = elem_bits(f);
	p->scale_bits = scale_bits(f);
	p->bits = (double)p->elem_bits + (double)p->scale_bits / f->block;
	switch (f->kind) {
	case QS_BLK_MXINT8:
		p->elem = "int8 (x 2^-6)";
		p->scale = "e8m0";
		p->elem_max = 127.0 / 64.0;
		break;
	case QS_BLK_NVFP4:
		p->elem = f->elem.name;
		p->scale = "fp8_e4m3 x fp32 tensor scale";
		p->elem_max = f->elem.max;
		break;
	case QS_BLK_NF4:
		p->elem = "nf4";
		p->scale = f->double_quant ? "8-bit dynamic (blocks of 256) "
					     "+ offset"
					   : "fp32 absmax";
		p->elem_max = 1.0;
		break;
	case QS_BLK_Q8_0:
		p->elem = "int8";
		p->scale = "fp16";
		p->elem_max = 127;
		break;
	case QS_BLK_Q4_0:
		p->elem = "uint4 - 8";
		p->scale = "fp16";
		p->elem_max = 8;
		break;
	case QS_BLK_Q4_1:
		p->elem = "uint4";
		p->scale = "fp16 d, fp16 min";
		p->elem_max = 15;
		break;
	case QS_BLK_MXFP4_GGML:
		p->elem = "e2m1 (x2)";
		p->scale = "e8m0";
		p->elem_max = 12;
		break;
	default:
		p->elem = f->elem.name;
		p->scale = "e8m0";
		p->elem_max = f->elem.max;
		break;
	}
}

float qs_block_code_value(const qs_blockfmt *f, uint32_t code)
{
	switch (f->kind) {
	case QS_BLK_NF4:
		return nf4_values[code & 15];
	case QS_BLK_Q4_0:
		return (float)((int)(code & 15) - 8);
	case QS_BLK_Q4_1:
		return (float)(code & 15);
	case QS_BLK_MXFP4_GGML:
		return (float)mxfp4_kv[code & 15];
	case QS_BLK_Q8_0:
		return (float)(int8_t)(uint8_t)code;
	case QS_BLK_MXINT8:
		return ldexpf((float)(int8_t)(uint8_t)code, -6);
	default:
		return qs_fp_decode(&f->elem, code);
	}
}

/* ---- the bitsandbytes dynamic map ------------------------------------------ */

/* torch.linspace(start, end, steps) in float32 (the CPU kernel's two-sided
 * form: start + step*i below the halfway index, end - step*(steps-1-i)
 * from it). */
static void linspace_f32(float start, float end, int steps, float *out)
{
	float step = (end - start) / (float)(steps - 1);
	int half = steps / 2;
	for (int i = 0; i < steps; i++)
		out[i] = i < half ? start + step * (float)i
				  : end - step * (float)(steps - 1 - i);
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
 * for i in 0..6, 2^i + 1 boundaries in [0.1, 1], their float32 midpoints
 * times float32(10^(i-6)), both signs; then 0 and 1; sorted. */
void qs_block_dynamic_map(float map[256])
{
	static const double pow10[7] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
	float b[65];
	int n = 0;
	for (int i = 0; i < 7; i++) {
		int items = (1 << i) + 1;
		linspace_f32(0.1f, 1.0f, items, b);
		float k = (float)pow10[i];
		for (int j = 0; j + 1 < items; j++) {
			float mean = (b[j] + b[j + 1]) / 2.0f;
			map[n++] = k * mean;
			map[n++] = -k * mean;
		}
	}
	map[n++] = 0.0f;
	map[n++] = 1.0f;
	qsort(map, (size_t)n, sizeof map[0], cmp_float);
}

/* Index of the nearest value of the ascending table cv[0..nc) to s as
 * torch.argmin(|s - cv|) computes it: float32 differences, first index on
 * ties (so exact midpoints go to the lower value). */
static int nearest_index(const float *cv, int nc, float s)
{
	int lo = 0, hi = nc - 1;
	if (!(s > cv[0]))
		return 0;
	if (s >= cv[nc - 1])
		return nc - 1;
	while (hi - lo > 1) { /* cv[lo] < s <= cv[hi] */
		int mid = (lo + hi) / 2;
		if (cv[mid] < s)
			lo = mid;
		else
			hi = mid;
	}
	float dl = fabsf(s - cv[lo]), dh = fabsf(s - cv[hi]);
	if (dh < dl)
		return hi;
	while (lo > 0 && fabsf(s - cv[lo - 1]) == dl)
		lo--;
	return lo;
}

/* ---- MX ---------------------------------------------------------------------- */

/* Element parameters of an MX kind: emax (exponent of the largest power
 * of two), mantissa bits (EVEN rounding) and the largest value. */
static void mx_elem(const qs_blockfmt *f, int *emax, int *mbits, float *maxp)
{
	if (f->kind == QS_BLK_MXINT8) {
		*emax = 0;
		*mbits = 6; /* k/64 in [1, 2) */
		*maxp = 127.0f / 64.0f;
	} else {
		*emax = f->elem.emax;
		*mbits = f->elem.mbits;
		*maxp = f->elem.max;
	}
}

/* The E8M0 scale byte of a block with absolute maximum amax (NaN when the
 * block holds NaN or Inf); 0xFF is NaN. */
static uint32_t mx_scale_byte(float amax, qs_mx_scale mode, int emax,
			      int mbits, float maxp)
{
	if (isnan(amax) || isinf(amax))
		return 0xFF;
	uint32_t b = b_of(amax);
	int e;
	switch (mode) {
	case QS_MX_FLOAT_LOG2:
		/* microxcaling / ggml: floorf(log2f(amax)); amax == 0 gives
		 * -inf, clamped below */
		if (amax == 0.0f)
			e = -127;
		else
			e = (int)floorf(log2f(amax)) - emax;
		break;
	case QS_MX_CEIL: /* torchao CEIL */
		e = (int)((b >> 23) & 0xFF) - 127 + ((b & 0x7FFFFF) != 0) -
		    emax;
		break;
	case QS_MX_EVEN: { /* torchao EVEN: round amax to mbits first */
		uint32_t r = (b + (1u << (22 - mbits))) & 0xFF800000u;
		if ((r >> 23) == 0xFF)
			return 0xFF;
		e = (int)(r >> 23) - 127 - emax;
		break;
	}
	case QS_MX_RCEIL: { /* torchao _f32_to_e8m0_rceil(amax * (1/max)) */
		float d = amax * (float)(1.0 / (double)maxp);
		uint32_t db = b_of(d);
		uint32_t ex = db >> 23, man = db & 0x7FFFFF;
		uint32_t up = ex == 0 ? man > 0x400000u : man != 0;
		uint32_t c = ex + up;
		return c > 0xFF ? 0xFF : c;
	}
	default: /* FLOOR: exponent field of amax */
		e = (int)((b >> 23) & 0xFF) - 127 - emax;
		break;
	}
	if (e < -127)
		e = -127;
	if (e > 127)
		e = 127;
	return (uint32_t)(e + 127);
}

/* Absolute maximum with NaN propagation. */
static float absmax_nan(const float *x, int64_t n)
{
	float m = 0.0f;
	int nan = 0;
	for (int64_t i = 0; i < n; i++) {
		float a = fabsf(x[i]);
		nan |= a != a;
		m = a > m ? a : m;
	}
	return nan ? NAN : m;
}

typedef struct counts3 {
	int64_t clipped, zeroed, nan_blocks;
} counts3;

/* Blocks [b0, b1) of an MX FP kind. */
static void mx_fp_group(const qs_blockfmt *f, const float *x, int64_t n,
			int64_t b0, int64_t b1, qs_block_out *out,
			counts3 *c)
{
	int emax, mbits;
	float maxp;
	mx_elem(f, &emax, &mbits, &maxp);
	int64_t bs = f->block;
	float sc[GROUP];
	uint16_t c16[GROUP];
	float ybuf[GROUP];
	int64_t o0 = b0 * bs;
	int64_t o1 = b1 * bs < n ? b1 * bs : n;
	for (int64_t b = b0; b < b1; b++) {
		int64_t o = b * bs;
		int64_t len = n - o < bs ? n - o : bs;
		uint32_t sb = mx_scale_byte(absmax_nan(x + o, len),
					    f->scale_mode, emax, mbits, maxp);
		sc[b - b0] = qs_fp_e8m0_decode((uint8_t)sb);
		if (out->scale_codes)
			out->scale_codes[b] = sb;
		if (out->scales)
			out->scales[b] = sc[b - b0];
		c->nan_blocks += sb == 0xFF;
	}
	qs_fp_counts k;
	memset(&k, 0, sizeof k);
	float *y = out->y ? out->y + o0 : ybuf;
	qs_fp_quantize_blocks(&f->elem, x + o0, o1 - o0, bs, sc, f->elem_round,
			      0, o0, y, out->codes ? c16 : NULL, &k, NULL);
	c->clipped += k.saturated;
	for (int64_t i = 0; i < o1 - o0; i++) {
		float xv = x[o0 + i];
		c->zeroed += xv != 0.0f && !isnan(xv) && !isinf(xv) &&
			     y[i] == 0.0f;
	}
	if (out->codes)
		for (int64_t i = 0; i < o1 - o0; i++)
			out->codes[o0 + i] = (uint8_t)c16[i];
}

/* Blocks [b0, b1) of MXINT8: code = clamp(round(x / X * 64), +-127)
 * (microxcaling clamps to +-max_norm, never -128). */
static void mx_int8_group(const qs_blockfmt *f, const float *x, int64_t n,
			  int64_t b0, int64_t b1, qs_block_out *out,
			  counts3 *c)
{
	int emax, mbits;
	float maxp;
	mx_elem(f, &emax, &mbits, &maxp);
	int64_t bs = f->block;
	for (int64_t b = b0; b < b1; b++) {
		int64_t o = b * bs;
		int64_t len = n - o < bs ? n - o : bs;
		uint32_t sb = mx_scale_byte(absmax_nan(x + o, len),
					    f->scale_mode, emax, mbits, maxp);
		if (out->scale_codes)
			out->scale_codes[b] = sb;
		if (out->scales)
			out->scales[b] = qs_fp_e8m0_decode((uint8_t)sb);
		if (sb == 0xFF) {
			c->nan_blocks++;
			for (int64_t i = 0; i < len; i++) {
				if (out->codes)
					out->codes[o + i] = 0;
				if (out->y)
					out->y[o + i] = NAN;
			}
			continue;
		}
		int e = (int)sb - 127;
		/* x 2^(6-e) and q 2^(e-6) as float products: exact powers of
		 * two, so the same correctly rounded results as ldexpf */
		float up = 6 - e <= 127 ? ldexpf(1.0f, 6 - e) : 0.0f;
		float dn = ldexpf(1.0f, e - 6);
		for (int64_t i = 0; i < len; i++) {
			float v = up != 0.0f ? x[o + i] * up
					     : ldexpf(x[o + i], 6 - e);
			float q = f->elem_round == QS_ROUND_AWAY ? roundf(v)
								 : nearbyintf(v);
			if (q > 127.0f || q < -127.0f) {
				c->clipped++;
				q = q > 0 ? 127.0f : -127.0f;
			}
			int qi = (int)q;
			float yv = (float)qi * dn;
			c->zeroed += x[o + i] != 0.0f && qi == 0;
			if (out->codes)
				out->codes[o + i] = (uint8_t)(int8_t)qi;
			if (out->y)
				out->y[o + i] = yv;
		}
	}
}

/* ---- NVFP4 -------------------------------------------------------------------- */

/* Blocks [b0, b1) of NVFP4 with tensor scale s2 (ModelOpt NVFP4QTensor):
 * sb = e4m3(amax_b / (6 s2)) (1.0 when amax_b = 0), d = f32(sb) * s2,
 * q = e2m1_sat(x / d), sign from x < 0 (so -0.0 gets code 0). */
static void nvfp4_group(const qs_blockfmt *f, const float *x, int64_t n,
			int64_t b0, int64_t b1, float s2, qs_block_out *out,
			counts3 *c)
{
	qs_fpfmt e4m3;
	qs_fpfmt_lookup("fp8_e4m3", &e4m3, NULL);
	e4m3.overflow = QS_FP_SAT;
	int64_t bs = f->block;
	float sc[GROUP];
	uint16_t c16[GROUP];
	float ybuf[GROUP];
	int64_t o0 = b0 * bs;
	int64_t o1 = b1 * bs < n ? b1 * bs : n;
	float six_s2 = 6.0f * s2;
	for (int64_t b = b0; b < b1; b++) {
		int64_t o = b * bs;
		int64_t len = n - o < bs ? n - o : bs;
		float amax = absmax_nan(x + o, len);
		float sbf = s2 > 0.0f ? amax / six_s2 : 0.0f;
		if (sbf == 0.0f)
			sbf = 1.0f;
		uint32_t byte = qs_fp_encode(&e4m3, sbf, f->scale_round, 0);
		float d = qs_fp_decode(&e4m3, byte) * s2;
		if (out->scale_codes)
			out->scale_codes[b] = byte;
		if (out->scales)
			out->scales[b] = d;
		/* d == 0 (all-zero tensor, or an E4M3 underflow): x / 0 is
		 * +-Inf, saturating to +-6, times 0: the block becomes 0 */
		sc[b - b0] = d > 0.0f ? d : NAN;
	}
	qs_fp_counts k;
	memset(&k, 0, sizeof k);
	float *y = out->y ? out->y + o0 : ybuf;
	qs_fp_quantize_blocks(&f->elem, x + o0, o1 - o0, bs, sc,
			      QS_ROUND_NEAREST, 0, o0, y, c16, &k, NULL);
	c->clipped += k.saturated;
	for (int64_t i = 0; i < o1 - o0; i++) {
		float xv = x[o0 + i];
		int64_t b = (o0 + i) / bs;
		if (isnan(sc[b - b0])) { /* d == 0 */
			c16[i] = xv == 0.0f ? 0 : (uint16_t)(xv < 0 ? 0xF : 0x7);
			y[i] = 0.0f;
		} else if (xv == 0.0f) {
			c16[i] = 0;
			y[i] = 0.0f;
		}
		c->zeroed += xv != 0.0f && y[i] == 0.0f;
		if (out->codes)
			out->codes[o0 + i] = (uint8_t)c16[i];
	}
}

/* ---- NF4 ------------------------------------------------------------------------ */

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
	!defined(__SANITIZE_ADDRESS__)
#define QS_CLONES                                                              \
	__attribute__((target_clones("avx2", "default"),                      \
		       optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define QS_CLONES
#endif

/* NF4 codes of one block, bitsandbytes default backend: scaled =
 * clamp(x * (1/absmax), -1, 1), code = argmin |scaled - nf4| in float32,
 * first index on ties (an exact midpoint goes to the lower code).  0 *
 * (1/0) is taken as 0, so an all-zero block gets code 7 (0.0).  The code
 * values below each scaled value are counted in vector lanes; the float32
 * argmin is then one of the two neighbours (ties rarely reach further). */
QS_CLONES
static void nf4_codes(const float *restrict x, int len, float recip,
		      uint8_t *restrict q)
{
	float s[MAXBLOCK];
	int32_t hi[MAXBLOCK];
	for (int i = 0; i < len; i++) {
		float v = x[i] * recip;
		v = v != v ? 0.0f : v;
		v = v < -1.0f ? -1.0f : v;
		s[i] = v > 1.0f ? 1.0f : v;
		hi[i] = 0;
	}
	for (int t = 0; t < 16; t++) {
		const float cv = nf4_values[t];
		for (int i = 0; i < len; i++)
			hi[i] += cv < s[i];
	}
	for (int i = 0; i < len; i++) {
		int h = hi[i];
		if (h == 0 || h == 16) {
			q[i] = (uint8_t)(h ? 15 : 0);
			continue;
		}
		float v = s[i];
		int lo = h - 1;
		float dl = fabsf(v - nf4_values[lo]), dh = fabsf(v - nf4_values[h]);
		int c = dh < dl ? h : lo;
		while (c == lo && lo > 0 && fabsf(v - nf4_values[lo - 1]) == dl)
			c = --lo;
		q[i] = (uint8_t)c;
	}
}

static void nf4_group(const qs_blockfmt *f, const float *x, int64_t n,
		      int64_t b0, int64_t b1, float *absmax, qs_block_out *out,
		      counts3 *c)
{
	int64_t bs = f->block;
	for (int64_t b = b0; b < b1; b++) {
		int64_t o = b * bs;
		int64_t len = n - o < bs ? n - o : bs;
		float am = absmax_nan(x + o, len);
		absmax[b] = am;
		int bad = isnan(am) || isinf(am);
		c->nan_blocks += bad;
		if (!out->codes)
			continue; /* recomputed with the values */
		if (bad)
			memset(out->codes + o, 7, (size_t)len);
		else
			nf4_codes(x + o, (int)len, 1.0f / am, out->codes + o);
	}
}

/* Dequantized NF4 values of blocks [b0, b1) with per-block absmax am. */
static void nf4_dequant(const qs_blockfmt *f, const float *x, int64_t n,
			int64_t b0, int64_t b1, const float *am,
			qs_block_out *out, counts3 *c)
{
	int64_t bs = f->block;
	for (int64_t b = b0; b < b1; b++) {
		int64_t o = b * bs;
		int64_t len = n - o < bs ? n - o : bs;
		float a = am[b];
		int bad = isnan(a) || isinf(a);
		uint8_t qb[MAXBLOCK];
		const uint8_t *qs = out->codes ? out->codes + o : qb;
		if (!out->codes && !bad) /* codes from the block's own absmax */
			nf4_codes(x + o, (int)len, 1.0f / absmax_nan(x + o, len),
				  qb);
		for (int64_t i = 0; i < len; i++) {
			float xv = x[o + i];
			uint8_t q = bad ? 7 : qs[i];
			float yv = bad ? NAN : nf4_values[q] * a;
			c->zeroed += xv != 0.0f && !isnan(xv) && yv == 0.0f;
			if (out->y)
				out->y[o + i] = yv;
		}
	}
}

/* NF4 double quantization (quantize_4bit(compress_statistics=True)):
 * offset = mean(absmax); (absmax - offset) in blocks of 256 with the
 * dynamic map (quantize_blockwise default backend); the absmax used to
 * dequantize is dyn[q] * absmax2 + offset.  am is replaced by it. */
static void nf4_double_quant(float *am, int64_t nb, qs_block_out *out)
{
	float dyn[256];
	qs_block_dynamic_map(dyn);
	double sum = 0;
	for (int64_t b = 0; b < nb; b++)
		sum += am[b];
	float offset = (float)(sum / (double)nb);
	out->tensor_scale = offset;
	for (int64_t j = 0; j * 256 < nb; j++) {
		int64_t o = j * 256, len = nb - o < 256 ? nb - o : 256;
		float a2 = 0.0f;
		for (int64_t i = 0; i < len; i++) {
			float a = fabsf(am[o + i] - offset);
			a2 = a > a2 ? a : a2;
		}
		if (out->scales2)
			out->scales2[j] = a2;
		float recip = a2 > 0.0f ? 1.0f / a2 : 0.0f;
		for (int64_t i = 0; i < len; i++) {
			float s = (am[o + i] - offset) * recip;
			s = s < -1.0f ? -1.0f : s > 1.0f ? 1.0f : s;
			int q = nearest_index(dyn, 256, s);
			if (out->scale_codes)
				out->scale_codes[o + i] = (uint32_t)q;
			am[o + i] = dyn[q] * a2 + offset;
		}
	}
}

/* ---- ggml ------------------------------------------------------------------------ */

/* fp16 round to nearest even (GGML_FP32_TO_FP16 with F16C). */
static uint16_t to_fp16(const qs_fpfmt *h, float v)
{
	return (uint16_t)qs_fp_encode(h, v, QS_ROUND_NEAREST, 0);
}

/* A block holding NaN or Inf: ggml's own code would convert NaN to an
 * integer (undefined); mark it NaN instead. */
static int ggml_bad_block(const float *x, int64_t len, int64_t o,
			  qs_block_out *out, uint8_t code, counts3 *c)
{
	for (int64_t i = 0; i < len; i++)
		if (isnan(x[i]) || isinf(x[i])) {
			for (int64_t j = 0; j < len; j++) {
				if (out->codes)
					out->codes[o + j] = code;
				if (out->y)
					out->y[o + j] = NAN;
			}
			c->nan_blocks++;
			return 1;
		}
	return 0;
}

static void ggml_group(const qs_blockfmt *f, const float *x, int64_t n,
		       int64_t b0, int64_t b1, qs_block_out *out, counts3 *c)
{
	qs_fpfmt h;
	qs_fpfmt_lookup("fp16", &h, NULL);
	int64_t bs = f->block;
	for (int64_t b = b0; b < b1; b++) {
		int64_t o = b * bs;
		int64_t len = n - o < bs ? n - o : bs;
		const float *xb = x + o;
		uint32_t scode = 0;
		float dd = 0.0f, mm = 0.0f;
		switch (f->kind) {
		case QS_BLK_Q8_0: {
			if (ggml_bad_block(xb, len, o, out, 0, c)) {
				scode = 0x7E00;
				dd = NAN;
				break;
			}
			float amax = 0.0f;
			for (int64_t j = 0; j < len; j++)
				amax = fmaxf(amax, fabsf(xb[j]));
			const float d = amax / ((1 << 7) - 1);
			const float id = d ? 1.0f / d : 0.0f;
			scode = to_fp16(&h, d);
			dd = qs_fp_decode(&h, scode);
			for (int64_t j = 0; j < len; j++) {
				/* roundf (half away) without the libm call:
				 * |x id| <= 127, the fraction is exact */
				const float v = xb[j] * id;
				int q = (int)v;
				const float fr = v - (float)q;
				q += (fr >= 0.5f) - (fr <= -0.5f);
				float yv = (float)q * dd;
				c->zeroed += xb[j] != 0.0f && yv == 0.0f;
				if (out->codes)
					out->codes[o + j] = (uint8_t)(int8_t)q;
				if (out->y)
					out->y[o + j] = yv;
			}
			break;
		}
		case QS_BLK_Q4_0: {
			if (ggml_bad_block(xb, len, o, out, 8, c)) {
				scode = 0x7E00;
				dd = NAN;
				break;
			}
			float amax = 0.0f, max = 0.0f;
			for (int64_t j = 0; j < len; j++) {
				const float v = xb[j];
				if (amax < fabsf(v)) {
					amax = fabsf(v);
					max = v;
				}
			}
			const float d = max / -8;
			const float id = d ? 1.0f / d : 0.0f;
			scode = to_fp16(&h, d);
			dd = qs_fp_decode(&h, scode);
			for (int64_t j = 0; j < len; j++) {
				const float x0 = xb[j] * id;
				int q = (int8_t)(x0 + 8.5f);
				if (q > 15) {
					q = 15;
					c->clipped++;
				}
				float yv = (float)(q - 8) * dd;
				c->zeroed += xb[j] != 0.0f && yv == 0.0f;
				if (out->codes)
					out->codes[o + j] = (uint8_t)q;
				if (out->y)
					out->y[o + j] = yv;
			}
			break;
		}
		case QS_BLK_Q4_1: {
			if (ggml_bad_block(xb, len, o, out, 0, c)) {
				scode = 0x7E00;
				dd = mm = NAN;
				break;
			}
			float min = FLT_MAX, max = -FLT_MAX;
			for (int64_t j = 0; j < len; j++) {
				const float v = xb[j];
				if (v < min)
					min = v;
				if (v > max)
					max = v;
			}
			const float d = (max - min) / ((1 << 4) - 1);
			const float id = d ? 1.0f / d : 0.0f;
			scode = to_fp16(&h, d);
			dd = qs_fp_decode(&h, scode);
			mm = qs_fp_decode(&h, to_fp16(&h, min));
			for (int64_t j = 0; j < len; j++) {
				const float x0 = (xb[j] - min) * id;
				int q = (int8_t)(x0 + 0.5f);
				if (q > 15) {
					q = 15;
					c->clipped++;
				}
				float yv = (float)q * dd + mm;
				c->zeroed += xb[j] != 0.0f && yv == 0.0f;
				if (out->codes)
					out->codes[o + j] = (uint8_t)q;
				if (out->y)
					out->y[o + j] = yv;
			}
			break;
		}
		default: { /* QS_BLK_MXFP4_GGML: quantize_row_mxfp4_ref */
			if (ggml_bad_block(xb, len, o, out, 0, c)) {
				scode = 0xFF;
				dd = NAN;
				break;
			}
			float amax = 0.0f;
			for (int64_t j = 0; j < len; j++)
				if (amax < fabsf(xb[j]))
					amax = fabsf(xb[j]);
			int e = amax > 0.0f ? (int)(floorf(log2f(amax)) - 2 + 127)
					    : 0;
			e = e < 0 ? 0 : e > 254 ? 254 : e;
			scode = (uint32_t)e;
			/* GGML_E8M0_TO_FP32_HALF: 2^(e - 128) */
			const float d = e < 2 ? f_of(0x00200000u << e)
					      : f_of((uint32_t)(e - 1) << 23);
			dd = d;
			for (int64_t j = 0; j < len; j++) {
				const float v = xb[j];
				int best = 0;
				float berr = fabsf(mxfp4_kv[0] * d - v);
				for (int i = 1; i < 16; i++) {
					float err = fabsf(mxfp4_kv[i] * d - v);
					if (err < berr) {
						best = i;
						berr = err;
					}
				}
				c->clipped += fabsf(v) > 12.0f * d;
				float yv = mxfp4_kv[best] * d;
				c->zeroed += v != 0.0f && yv == 0.0f;
				if (out->codes)
					out->codes[o + j] = (uint8_t)best;
				if (out->y)
					out->y[o + j] = yv;
			}
			break;
		}
		}
		if (out->scale_codes)
			out->scale_codes[b] = scode;
		if (out->scales)
			out->scales[b] = dd;
		if (out->mins)
			out->mins[b] = mm;
	}
}

/* ---- driver ------------------------------------------------------------------------ */

qs_status qs_block_quantize(const qs_blockfmt *f, const float *x, int64_t n,
			    float tensor_amax, qs_block_out *out, qs_error *err)
{
	if ((unsigned)f->kind >= QS_BLK_KIND_COUNT)
		return qs_fail(err, QS_EINVAL, "block format: bad kind %d",
			       (int)f->kind);
	if (f->block < 1 || f->block > MAXBLOCK)
		return qs_fail(err, QS_EINVAL,
			       "%s: block size %d, need 1..%d", f->name,
			       f->block, MAXBLOCK);
	if (n < 0)
		return qs_fail(err, QS_EINVAL, "n: %lld, need >= 0",
			       (long long)n);
	if (is_mx(f->kind) && (unsigned)f->scale_mode >= QS_MX_SCALE_COUNT)
		return qs_fail(err, QS_EINVAL, "%s: bad scale mode %d",
			       f->name, (int)f->scale_mode);
	if (is_mx(f->kind) && f->elem_round != QS_ROUND_NEAREST &&
	    f->elem_round != QS_ROUND_AWAY)
		return qs_fail(err, QS_EINVAL,
			       "%s: element rounding '%s', need nearest or away",
			       f->name, qs_rounding_name(f->elem_round));
	if (f->kind == QS_BLK_NVFP4 && f->scale_round != QS_ROUND_NEAREST &&
	    f->scale_round != QS_ROUND_CEIL)
		return qs_fail(err, QS_EINVAL,
			       "%s: scale rounding '%s', need nearest or ceil",
			       f->name, qs_rounding_name(f->scale_round));
	out->tensor_scale = 1.0f;
	out->clipped = out->zeroed = out->nan_blocks = 0;
	int64_t nb = qs_block_count(f, n);
	float s2 = 0.0f;
	if (f->kind == QS_BLK_NVFP4) {
		float amax = tensor_amax < 0.0f ? absmax_nan(x, n) : tensor_amax;
		if (isnan(amax) || isinf(amax))
			return qs_fail(err, QS_EINVAL,
				       "nvfp4: tensor amax is %g (NaN or Inf "
				       "in the data?), need a finite value",
				       (double)amax);
		s2 = amax / (6.0f * 448.0f); /* weights_scaling_factor_2 */
		out->tensor_scale = s2;
	}
	float *am = NULL;
	if (f->kind == QS_BLK_NF4) {
		am = malloc((size_t)(nb > 0 ? nb : 1) * sizeof *am);
		if (!am)
			return qs_fail(err, QS_ENOMEM,
				       "nf4: no memory for %lld block maxima",
				       (long long)nb);
	}
	int64_t per = GROUP / f->block;
	if (per < 1)
		per = 1;
	int64_t ngroup = (nb + per - 1) / per;
	int64_t clipped = 0, zeroed = 0, nanb = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (ngroup > 1) \
	reduction(+ : clipped, zeroed, nanb)
#endif
	for (int64_t g = 0; g < ngroup; g++) {
		int64_t b0 = g * per, b1 = b0 + per < nb ? b0 + per : nb;
		counts3 c = {0, 0, 0};
		switch (f->kind) {
		case QS_BLK_MXINT8:
			mx_int8_group(f, x, n, b0, b1, out, &c);
			break;
		case QS_BLK_NVFP4:
			nvfp4_group(f, x, n, b0, b1, s2, out, &c);
			break;
		case QS_BLK_NF4:
			nf4_group(f, x, n, b0, b1, am, out, &c);
			break;
		case QS_BLK_Q8_0:
		case QS_BLK_Q4_0:
		case QS_BLK_Q4_1:
		case QS_BLK_MXFP4_GGML:
			ggml_group(f, x, n, b0, b1, out, &c);
			break;
		default:
			mx_fp_group(f, x, n, b0, b1, out, &c);
			break;
		}
		clipped += c.clipped;
		zeroed += c.zeroed;
		nanb += c.nan_blocks;
	}
	if (f->kind == QS_BLK_NF4) {
		if (f->double_quant && nb > 0)
			nf4_double_quant(am, nb, out);
		else if (out->scale_codes)
			for (int64_t b = 0; b < nb; b++)
				out->scale_codes[b] = b_of(am[b]);
		if (out->scales)
			memcpy(out->scales, am, (size_t)nb * sizeof *am);
		counts3 c = {0, 0, 0};
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (ngroup > 1) reduction(+ : zeroed)
#endif
		for (int64_t g = 0; g < ngroup; g++) {
			int64_t b0 = g * per, b1 = b0 + per < nb ? b0 + per : nb;
			counts3 cg = {0, 0, 0};
			nf4_dequant(f, x, n, b0, b1, am, out, &cg);
			zeroed += cg.zeroed;
		}
		(void)c;
		free(am);
	}
	out->clipped = clipped;
	out->zeroed = zeroed;
	out->nan_blocks = nanb;
	return QS_OK;
}

/* ---- packing ------------------------------------------------------------------------ */

int64_t qs_block_packed_size(const qs_blockfmt *f, int64_t n)
{
	if (elem_bits(f) == 4)
		return (n + 1) / 2;
	return n; /* 8-bit and unpacked FP6 */
}

int64_t qs_block_pack(const qs_blockfmt *f, const uint8_t *codes, int64_t n,
		      uint8_t *bytes, qs_error *err)
{
	if (n < 0)
		return qs_fail(err, QS_EINVAL, "n: %lld, need >= 0",
			       (long long)n);
	switch (f->kind) {
	case QS_BLK_MXFP4:
	case QS_BLK_NVFP4: /* element 2i in the low nibble */
		for (int64_t i = 0; i < n; i += 2)
			bytes[i / 2] = (uint8_t)((codes[i] & 15) |
						 (i + 1 < n ? (codes[i + 1] & 15)
								      << 4
							    : 0));
		return (n + 1) / 2;
	case QS_BLK_NF4: /* first element in the high nibble */
		for (int64_t i = 0; i < n; i += 2)
			bytes[i / 2] = (uint8_t)((codes[i] & 15) << 4 |
						 (i + 1 < n ? codes[i + 1] & 15
							    : 0));
		return (n + 1) / 2;
	case QS_BLK_Q4_0:
	case QS_BLK_Q4_1:
	case QS_BLK_MXFP4_GGML: /* byte j = q[j] | q[j + 16] << 4 per block */
		if (f->block != 32 || n % 32 != 0)
			return qs_fail(err, QS_EINVAL,
				       "%s: packing needs whole 32-element "
				       "blocks (n = %lld, block %d)",
				       f->name, (long long)n, f->block);
		for (int64_t b = 0; b < n; b += 32)
			for (int j = 0; j < 16; j++)
				bytes[b / 2 + j] =
					(uint8_t)((codes[b + j] & 15) |
						  (codes[b + j + 16] & 15) << 4);
		return n / 2;
	default:
		memcpy(bytes, codes, (size_t)n);
		return n;
	}
}
