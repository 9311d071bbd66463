/* t_fp: minifloat codecs against the reference vectors (every row of the
 * scalar sections of formats_vectors.txt, code and value bit for bit, for
 * the three overflow policies), an exhaustive code round trip, a
 * nearest-value oracle for every rounding rule, the array kernel against
 * the scalar codec, counters, stochastic rounding and argument errors. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_vectors.h"
#include "fp.h"
#include "round.h"
#include "tap.h"

static const char *const sections[] = {
	"float8_e4m3fn", "float8_e5m2",   "float8_e4m3fnuz",
	"float8_e5m2fnuz", "float8_e4m3b11fnuz", "float16",
	"bfloat16",      "float6_e2m3fn", "float6_e3m2fn",
	"float4_e2m1fn",
};
#define NSEC ((int)(sizeof sections / sizeof sections[0]))

static qs_fpfmt with_policy(const qs_fpfmt *f, qs_fp_overflow o)
{
	qs_fpfmt g = *f;
	g.overflow = o;
	return g;
}

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Every row of a scalar section: nonsat, sat and sat_mldt codes, nonsat
 * and sat values; plus the header's properties. */
static void test_section(const char *sec)
{
	qs_fpfmt f;
	qs_error err;
	const char *hdr = fv_header(sec);
	const char *p = fv_section(sec);
	if (!ok(hdr && p && qs_fpfmt_lookup(sec, &f, &err) == QS_OK,
		"%s: section and lookup", sec))
		return;
	ok(f.bits == atoi(fv_kv(hdr, "bits")) &&
		   f.ebits == atoi(fv_kv(hdr, "ebits")) &&
		   f.mbits == atoi(fv_kv(hdr, "mbits")) &&
		   f.bias == atoi(fv_kv(hdr, "bias")),
	   "%s: fields and bias", sec);
	ok(f.max == (float)strtod(fv_kv(hdr, "max"), NULL) &&
		   f.min_normal ==
			   (float)strtod(fv_kv(hdr, "min_normal"), NULL) &&
		   f.min_subnormal ==
			   (float)strtod(fv_kv(hdr, "min_subnormal"), NULL),
	   "%s: max %g, min normal %g, min subnormal %g", sec, f.max,
	   f.min_normal, f.min_subnormal);
	is_bits(f.max_code, strtoul(fv_kv(hdr, "max_code"), NULL, 16),
		"max code");
	const char *nc = fv_kv(hdr, "nan_code");
	if (strcmp(nc, "n/a") == 0)
		ok(f.special == QS_FP_NONE, "%s: no NaN", sec);
	else
		is_bits(f.special == QS_FP_FNUZ ? f.nan_code : f.nan_code,
			strtoul(nc, NULL, 16), "nan code");

	qs_fpfmt fn = with_policy(&f, QS_FP_NONSAT);
	qs_fpfmt fs = with_policy(&f, QS_FP_SAT);
	qs_fpfmt fm = with_policy(&f, QS_FP_SATFINITE);
	char line[512];
	fv_line(&p, line, sizeof line); /* column names */
	float xs[64];
	uint32_t want_n[64], want_s[64];
	int valid[64];
	int nrow = 0;
	while (fv_line(&p, line, sizeof line)) {
		char *c[16];
		int nf = fv_split(line, ',', c, 16);
		if (nf < 9)
			continue;
		uint32_t xb = (uint32_t)strtoul(c[1], NULL, 16);
		float x = fv_float(xb);
		if (strcmp(c[3], "n/a") == 0) {
			/* NaN into FP6/FP4: implementation-defined; ours is
			 * +0 (documented). */
			is_bits(qs_fp_encode(&fn, x, QS_ROUND_NEAREST, 0), 0,
				"NaN in a format without NaN -> +0");
			continue;
		}
		uint32_t wn = (uint32_t)strtoul(c[3], NULL, 16);
		uint32_t ws = (uint32_t)strtoul(c[5], NULL, 16);
		uint32_t wm = (uint32_t)strtoul(c[7], NULL, 16);
		float vn = (float)strtod(c[4], NULL);
		float vs = (float)strtod(c[6], NULL);
		char name[160];
		snprintf(name, sizeof name, "%s %s (0x%08X)", sec, c[0],
			 (unsigned)xb);
		uint32_t gn = qs_fp_encode(&fn, x, QS_ROUND_NEAREST, 0);
		uint32_t gs = qs_fp_encode(&fs, x, QS_ROUND_NEAREST, 0);
		uint32_t gm = qs_fp_encode(&fm, x, QS_ROUND_NEAREST, 0);
		int okc = gn == wn && gs == ws && gm == wm;
		if (!ok(okc, "%s: codes nonsat/sat/satfinite", name))
			tap_diag("got 0x%X 0x%X 0x%X want 0x%X 0x%X 0x%X",
				 gn, gs, gm, wn, ws, wm);
		float dn = qs_fp_decode(&f, wn), ds = qs_fp_decode(&f, ws);
		if (!ok(fv_same(dn, vn, 1) && fv_same(ds, vs, 1),
			"%s: decoded values", name))
			tap_diag("got %.9g %.9g want %.9g %.9g", dn, ds, vn,
				 vs);
		if (nrow < 64) {
			xs[nrow] = x;
			want_n[nrow] = wn;
			want_s[nrow] = ws;
			valid[nrow] = 1;
			nrow++;
		}
	}
	/* the array kernel on the same inputs, directly and scaled by 2^-3
	 * (the scaled inputs are exact except the float32-subnormal rows) */
	float y[64], ys[64], xsc[64];
	uint16_t cd[64], cs[64];
	qs_fp_counts cnt;
	memset(&cnt, 0, sizeof cnt);
	int good = qs_fp_quantize(&fn, xs, nrow, 1.0f, QS_ROUND_NEAREST, 0, 0,
				  y, cd, &cnt, &err) == QS_OK;
	int good2 = qs_fp_quantize(&fs, xs, nrow, 1.0f, QS_ROUND_NEAREST, 0, 0,
				   ys, cs, NULL, &err) == QS_OK;
	int bad = 0;
	for (int i = 0; i < nrow && good && good2; i++) {
		if (!valid[i])
			continue;
		if (cd[i] != want_n[i] || cs[i] != want_s[i] ||
		    !fv_same(y[i], qs_fp_decode(&f, want_n[i]), 1) ||
		    !fv_same(ys[i], qs_fp_decode(&f, want_s[i]), 1)) {
			if (bad++ < 5)
				tap_diag("row %d: x=%a codes 0x%X 0x%X", i,
					 xs[i], cd[i], cs[i]);
		}
	}
	ok(good && good2 && bad == 0, "%s: array kernel = vectors (%d rows)",
	   sec, nrow);
	for (int i = 0; i < nrow; i++)
		xsc[i] = ldexpf(xs[i], -3);
	good = qs_fp_quantize(&fs, xsc, nrow, 0.125f, QS_ROUND_NEAREST, 0, 0,
			      ys, cs, NULL, &err) == QS_OK;
	bad = 0;
	for (int i = 0; i < nrow && good; i++) {
		if (ldexpf(xsc[i], 3) != xs[i] && !isnan(xs[i]))
			continue; /* not exact after scaling */
		if (cs[i] != want_s[i] ||
		    !fv_same(ys[i], qs_fp_decode(&f, want_s[i]) * 0.125f, 1))
			bad++;
	}
	ok(good && bad == 0, "%s: array kernel with scale 2^-3", sec);
}

/* Every code decodes to a value that encodes back to it (NaN codes to the
 * canonical NaN; -0 of FNUZ does not exist). */
static void test_roundtrip(const char *name)
{
	qs_fpfmt f;
	qs_error err;
	if (!ok(qs_fpfmt_lookup(name, &f, &err) == QS_OK, "lookup %s", name))
		return;
	f.overflow = QS_FP_SATFINITE; /* keeps Inf */
	uint32_t ncode = 1u << f.bits, bad = 0, first = 0;
	for (uint32_t c = 0; c < ncode; c++) {
		float v = qs_fp_decode(&f, c);
		uint32_t back = qs_fp_encode(&f, v, QS_ROUND_NEAREST, 0);
		uint32_t want = c;
		if (!f.subnormals && (c & ((1u << (f.bits - 1)) - 1)) &&
		    v == 0.0f)
			continue; /* unused E = 0 codes decode as zero */
		if (isnan(v)) {
			want = f.special == QS_FP_FNUZ
				       ? 1u << (f.bits - 1)
				       : (c & (1u << (f.bits - 1))) |
						 f.nan_code;
		}
		if (back != want && !bad++)
			first = c;
	}
	if (!ok(bad == 0, "%s: %u codes decode and encode back", name,
		ncode))
		tap_diag("first bad code 0x%X", first);
}

/* Oracle: the grid value chosen by rule r for x, by search over all
 * finite values of f (|x| <= max). Returns the code. */
static uint32_t oracle(const qs_fpfmt *f, float x, qs_rounding r)
{
	uint32_t sbit = 1u << (f->bits - 1);
	double xv = x;
	double lo = -INFINITY, hi = INFINITY;
	uint32_t clo = 0, chi = 0;
	for (uint32_t c = 0; c < (sbit << 1); c++) {
		float v = qs_fp_decode(f, c);
		if (isnan(v) || isinf(v))
			continue;
		uint32_t mag = c & (sbit - 1);
		if (!f->subnormals && mag && mag < (1u << f->mbits))
			continue; /* unused E = 0 codes */
		/* prefer the zero whose sign matches x */
		if (v == 0.0f && ((c & sbit) != 0) != (signbit(x) != 0) &&
		    f->special != QS_FP_FNUZ)
			continue;
		if (v <= xv && v > lo) {
			lo = v;
			clo = c;
		}
		if (v >= xv && v < hi) {
			hi = v;
			chi = c;
		}
	}
	if (lo == hi)
		return clo;
	double dl = xv - lo, dh = hi - xv;
	int even_lo = (clo & 1) == 0;
	switch (r) {
	case QS_ROUND_FLOOR:
		return clo;
	case QS_ROUND_CEIL:
		return chi;
	case QS_ROUND_TRUNC:
		return x > 0 ? clo : chi;
	case QS_ROUND_AWAY:
		return dl < dh ? clo : dh < dl ? chi : (x > 0 ? chi : clo);
	case QS_ROUND_UP:
		return dl < dh ? clo : dh < dl ? chi : chi;
	default:
		if (dl != dh)
			return dl < dh ? clo : chi;
		if (even_lo && (chi & 1) == 0) /* 0 vs min normal (no
						* subnormals): toward zero */
			return fabs(lo) < fabs(hi) ? clo : chi;
		return even_lo ? clo : chi;
	}
}

static void test_oracle(const char *name)
{
	qs_fpfmt f;
	qs_error err;
	if (!ok(qs_fpfmt_lookup(name, &f, &err) == QS_OK, "lookup %s", name))
		return;
	int bad = 0;
	for (int r = 0; r < QS_ROUND_STOCHASTIC; r++) {
		int nb = 0;
		for (int t = 0; t < 1500; t++) {
			/* random values in range, half of them on midpoints */
			uint32_t c = (uint32_t)rnd64() & ((1u << f.bits) - 1);
			uint32_t c2 = c + 1;
			float a = qs_fp_decode(&f, c), b = qs_fp_decode(&f, c2);
			float x;
			if (t & 1)
				x = (float)(((double)a + (double)b) / 2);
			else
				x = a + (b - a) * (float)(rnd64() >> 40) *
						0x1p-24f;
			if (isnan(x) || isinf(x) || fabsf(x) > f.max)
				continue;
			if ((double)x != ((double)a + (double)b) / 2 && (t & 1))
				continue; /* midpoint not a float32 */
			uint32_t got = qs_fp_encode(&f, x, (qs_rounding)r, 0);
			uint32_t want = oracle(&f, x, (qs_rounding)r);
			if (f.special == QS_FP_FNUZ &&
			    qs_fp_decode(&f, want) == 0.0f)
				want = 0;
			if (got != want && nb++ < 3)
				tap_diag("%s %s x=%a got 0x%X want 0x%X", name,
					 qs_rounding_name((qs_rounding)r), x,
					 got, want);
		}
		bad += nb;
	}
	ok(bad == 0, "%s: every rule agrees with a nearest-value search", name);
}

/* The kernel (vectorized path) against the scalar codec on random float32
 * bit patterns and values near the format's range, every rule and policy. */
static void test_kernel_vs_scalar(const char *name)
{
	qs_fpfmt f0;
	qs_error err;
	if (!ok(qs_fpfmt_lookup(name, &f0, &err) == QS_OK, "lookup %s", name))
		return;
	enum { N = 6000 };
	static float x[N], y[N], y2[N];
	static uint16_t c[N];
	int bad = 0;
	for (int pol = 0; pol < QS_FP_OVERFLOW_COUNT; pol++) {
		qs_fpfmt f = with_policy(&f0, (qs_fp_overflow)pol);
		for (int r = 0; r <= QS_ROUND_STOCHASTIC; r++) {
			for (int i = 0; i < N; i++) {
				uint64_t z = rnd64();
				if (i % 3 == 0)
					x[i] = fv_float((uint32_t)z);
				else
					x[i] = ldexpf((float)((int64_t)(z >> 40) -
							      (1 << 23)) *
							      0x1p-23f,
						      (int)((z >> 8) & 63) +
							      f.emin - 20);
			}
			float scale = (r & 1) ? 1.0f : 0.3f;
			qs_fp_counts k1, k2;
			memset(&k1, 0, sizeof k1);
			memset(&k2, 0, sizeof k2);
			qs_fp_quantize(&f, x, N, scale, (qs_rounding)r, 77, 5, y,
				       c, &k1, &err);
			/* the values-only variant of the kernel */
			qs_fp_quantize(&f, x, N, scale, (qs_rounding)r, 77, 5,
				       y2, NULL, NULL, &err);
			if (memcmp(y, y2, sizeof y) != 0 && bad++ < 5)
				tap_diag("%s: values differ without codes",
					 name);
			for (int i = 0; i < N; i++) {
				float v = x[i] / scale;
				uint32_t w = qs_fp_encode(&f, v, (qs_rounding)r,
							  qs_rand_u01(77, 5 + (uint64_t)i));
				float wy = qs_fp_decode(&f, w);
				if (isnan(v))
					wy = NAN;
				wy = scale == 1.0f ? wy : wy * scale;
				if (c[i] != w || !fv_same(y[i], wy, 1)) {
					if (bad++ < 5)
						tap_diag("%s %s %s x=%a: 0x%X "
							 "%a, want 0x%X %a",
							 name,
							 qs_fp_overflow_name(f.overflow),
							 qs_rounding_name((qs_rounding)r),
							 x[i], c[i], y[i], w, wy);
				}
				/* counts one by one */
				int fl_under = v != 0 && !isnan(v) && !isinf(v) &&
					       qs_fp_decode(&f, w) == 0.0f;
				k2.underflow += fl_under;
			}
			if (k1.underflow != k2.underflow && bad++ < 5)
				tap_diag("%s: underflow count %lld want %lld",
					 name, (long long)k1.underflow,
					 (long long)k2.underflow);
		}
	}
	ok(bad == 0, "%s: kernel = scalar codec (3 policies x 7 rules x %d)",
	   name, N);
}

/* The [rounding] table through E4M3 in [8, 16), where the step is 1:
 * round(x) + 8 sign(x) = decode(encode(x + 8 sign(x))). */
static void test_rounding_table(void)
{
	qs_fpfmt f;
	qs_error err;
	qs_fpfmt_lookup("fp8_e4m3", &f, &err);
	const char *p = fv_section("rounding");
	char line[256];
	int rows = 0, bad = 0;
	static const qs_rounding col[6] = {QS_ROUND_NEAREST, QS_ROUND_AWAY,
					   QS_ROUND_UP,      QS_ROUND_FLOOR,
					   QS_ROUND_CEIL,    QS_ROUND_TRUNC};
	while (p && fv_line(&p, line, sizeof line)) {
		if (line[0] == '#')
			continue;
		char *c[8];
		if (fv_split(line, ',', c, 8) != 7)
			continue;
		float x = (float)strtod(c[0], NULL);
		float sh = x < 0 ? -8.0f : 8.0f;
		rows++;
		for (int k = 0; k < 6; k++) {
			float want = (float)strtod(c[1 + k], NULL) + sh;
			float got = qs_fp_decode(
				&f, qs_fp_encode(&f, x + sh, col[k], 0));
			if (got != want && bad++ < 5)
				tap_diag("x=%g %s: got %g want %g", x,
					 qs_rounding_name(col[k]), got, want);
		}
	}
	ok(rows == 11 && bad == 0,
	   "[rounding] probes: 11 values x 6 rules through E4M3 (%d rows)",
	   rows);
}

static void test_stochastic(void)
{
	qs_fpfmt f;
	qs_error err;
	qs_fpfmt_lookup("fp8_e4m3", &f, &err);
	/* vectors: x = 1.03 between 1.0 and 1.125, P(up) = 0.23999977 */
	float x = 1.03f;
	static const float u[5] = {0.0f, 0.2f, 0.23f, 0.24f, 0.9f};
	static const uint32_t want[5] = {0x39, 0x39, 0x39, 0x38, 0x38};
	int bad = 0;
	for (int i = 0; i < 5; i++)
		bad += qs_fp_encode(&f, x, QS_ROUND_STOCHASTIC, u[i]) != want[i];
	ok(bad == 0, "SR to E4M3 with explicit draws (vectors)");
	/* negative: symmetric in magnitude */
	ok(qs_fp_encode(&f, -x, QS_ROUND_STOCHASTIC, 0.23f) == 0xB9 &&
		   qs_fp_encode(&f, -x, QS_ROUND_STOCHASTIC, 0.24f) == 0xB8,
	   "SR of -1.03 rounds the magnitude");
	/* unbiased: mean of 200000 draws of 1.03 */
	enum { N = 200000 };
	static float xs[N], ys[N];
	for (int i = 0; i < N; i++)
		xs[i] = x;
	qs_fp_quantize(&f, xs, N, 1.0f, QS_ROUND_STOCHASTIC, 7, 0, ys, NULL,
		       NULL, &err);
	double s = 0;
	for (int i = 0; i < N; i++)
		s += ys[i];
	is_double(s / N, (double)x, 0.125 * 3 * 0.43 / sqrt(N) * 4,
		  "SR mean of 200000 draws is x");
	/* independent of how the array is split (keyed by idx0 + i) */
	static float y2[N];
	qs_fp_quantize(&f, xs, 1000, 1.0f, QS_ROUND_STOCHASTIC, 7, 0, y2,
		       NULL, NULL, &err);
	qs_fp_quantize(&f, xs + 1000, N - 1000, 1.0f, QS_ROUND_STOCHASTIC, 7,
		       1000, y2 + 1000, NULL, NULL, &err);
	ok(memcmp(ys, y2, sizeof ys) == 0, "SR keyed by global index");
	/* fp16 SR of a value between two grid points, tiny fraction */
	qs_fpfmt h;
	qs_fpfmt_lookup("fp16", &h, &err);
	float t = 1.0f + 0x1p-20f; /* 1/1024 of an fp16 step above 1 */
	ok(qs_fp_encode(&h, t, QS_ROUND_STOCHASTIC, 0x1p-11f) == 0x3C01 &&
		   qs_fp_encode(&h, t, QS_ROUND_STOCHASTIC, 0x1p-10f) ==
			   0x3C00,
	   "SR probability is the exact fraction (2^-10)");
}

static void test_counts(void)
{
	qs_fpfmt f;
	qs_error err;
	qs_fpfmt_lookup("fp8_e4m3", &f, &err);
	float x[10] = {1.0f,   0.0009f, 0.003f, 500.0f,  -1000.0f,
		       INFINITY, NAN,   0.0f,   -0.0f,  0.0001f};
	float y[10];
	qs_fp_counts c;
	memset(&c, 0, sizeof c);
	qs_fp_quantize(&f, x, 10, 1.0f, QS_ROUND_NEAREST, 0, 0, y, NULL, &c,
		       &err);
	ok(c.underflow == 2 && c.subnormal == 1 && c.overflow == 2 &&
		   c.saturated == 3 && c.nan == 1 && c.inf == 0,
	   "E4M3 sat counters: under %lld sub %lld ovf %lld sat %lld nan "
	   "%lld",
	   (long long)c.underflow, (long long)c.subnormal,
	   (long long)c.overflow, (long long)c.saturated, (long long)c.nan);
	ok(y[3] == 448.0f && y[4] == -448.0f && y[5] == 448.0f &&
		   isnan(y[6]) && y[9] == 0.0f,
	   "E4M3 sat values");
	qs_fpfmt g = with_policy(&f, QS_FP_NONSAT);
	memset(&c, 0, sizeof c);
	qs_fp_quantize(&g, x, 10, 1.0f, QS_ROUND_NEAREST, 0, 0, y, NULL, &c,
		       &err);
	ok(c.overflow == 2 && c.saturated == 0 && c.nan == 4 && c.inf == 0 &&
		   isnan(y[3]) && isnan(y[5]),
	   "E4M3 nonsat: overflow and Inf become NaN");
	qs_fpfmt h;
	qs_fpfmt_lookup("fp16", &h, &err);
	float z[4] = {70000.0f, -70000.0f, 1e-8f, 65519.0f};
	memset(&c, 0, sizeof c);
	qs_fp_quantize(&h, z, 4, 1.0f, QS_ROUND_NEAREST, 0, 0, y, NULL, &c,
		       &err);
	ok(c.overflow == 2 && c.inf == 2 && c.underflow == 1 &&
		   isinf(y[0]) && y[1] < 0 && y[3] == 65504.0f,
	   "fp16 ieee: overflow to Inf, 65519 -> 65504");
	/* IEEE 754: round toward zero overflows to max, not Inf */
	qs_fp_quantize(&h, z, 2, 1.0f, QS_ROUND_TRUNC, 0, 0, y, NULL, NULL,
		       &err);
	ok(y[0] == 65504.0f && y[1] == -65504.0f,
	   "fp16 ieee trunc: overflow to +-max");
	qs_fp_quantize(&h, z, 2, 1.0f, QS_ROUND_FLOOR, 0, 0, y, NULL, NULL,
		       &err);
	ok(y[0] == 65504.0f && isinf(y[1]), "fp16 ieee floor: +max, -Inf");
}

static void test_edges(void)
{
	qs_fpfmt f;
	qs_error err;
	qs_fpfmt_lookup("fp8_e5m2", &f, &err);
	ok(qs_fp_quantize(&f, NULL, 0, 1.0f, QS_ROUND_NEAREST, 0, 0, NULL,
			  NULL, NULL, &err) == QS_OK,
	   "empty run");
	float x = 1.0f, y;
	ok(qs_fp_quantize(&f, &x, 1, 0.0f, QS_ROUND_NEAREST, 0, 0, &y, NULL,
			  NULL, &err) == QS_EINVAL &&
		   strstr(err.msg, "scale"),
	   "scale 0 rejected: %s", err.msg);
	ok(qs_fp_quantize(&f, &x, 1, NAN, QS_ROUND_NEAREST, 0, 0, &y, NULL,
			  NULL, &err) == QS_EINVAL,
	   "scale NaN rejected");
	ok(qs_fp_quantize(&f, &x, -1, 1.0f, QS_ROUND_NEAREST, 0, 0, &y, NULL,
			  NULL, &err) == QS_EINVAL,
	   "n < 0 rejected");
	/* in place */
	float a[3] = {1.1f, -0.0f, 3.3f};
	qs_fp_quantize(&f, a, 3, 1.0f, QS_ROUND_NEAREST, 0, 0, a, NULL, NULL,
		       &err);
	ok(a[0] == 1.0f && fv_bits(a[1]) == 0x80000000u && a[2] == 3.5f,
	   "in place, -0 kept");
	/* float32 subnormal inputs: 0 in FP8, kept in BF16 */
	qs_fpfmt b;
	qs_fpfmt_lookup("bf16", &b, &err);
	float sub = fv_float(0x00012345u);
	ok(qs_fp_encode(&f, sub, QS_ROUND_NEAREST, 0) == 0 &&
		   qs_fp_encode(&b, sub, QS_ROUND_NEAREST, 0) == 0x0001 &&
		   qs_fp_encode(&b, -sub, QS_ROUND_CEIL, 0) == 0x8001 &&
		   qs_fp_encode(&f, sub, QS_ROUND_CEIL, 0) == 0x01,
	   "float32 subnormal inputs");
	/* bf16: PyTorch round_to_nearest_even agrees on all non-NaN input */
	int bad = 0;
	for (int i = 0; i < 200000; i++) {
		uint32_t u = (uint32_t)rnd64();
		float v = fv_float(u);
		if (isnan(v))
			continue;
		uint32_t want = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
		bad += qs_fp_encode(&b, v, QS_ROUND_NEAREST, 0) != want;
	}
	ok(bad == 0, "bf16 = (u + 0x7FFF + lsb) >> 16 on 200000 patterns");
	/* fp16 against the hardware-free reference: every float32 whose
	 * top 16 bits vary, compared with a double-rounding-free search */
	qs_fpfmt h;
	qs_fpfmt_lookup("fp16", &h, &err);
	bad = 0;
	for (uint32_t hi = 0; hi < 0x10000u; hi += 7) {
		float v = fv_float(hi << 16 | 0x8000u);
		if (isnan(v) || isinf(v) || fabsf(v) > 65504.0f)
			continue;
		uint32_t c = qs_fp_encode(&h, v, QS_ROUND_NEAREST, 0);
		float d = qs_fp_decode(&h, c);
		float dn = qs_fp_decode(&h, c + 1), dp = qs_fp_decode(&h, c - 1);
		double e = fabs((double)d - v);
		if ((c & 0x7FFF) != 0x7BFF && fabs((double)dn - v) < e)
			bad++;
		if ((c & 0x7FFF) != 0 && fabs((double)dp - v) < e)
			bad++;
	}
	ok(bad == 0, "fp16: no neighbour code is nearer");
}

static void test_custom(void)
{
	qs_fpfmt f, g;
	qs_error err;
	ok(qs_fpfmt_lookup("fpE3M4", &f, &err) == QS_OK && f.bits == 8 &&
		   f.bias == 3 && f.special == QS_FP_IEEE &&
		   !strcmp(f.name, "fpE3M4"),
	   "fpE3M4: IEEE-like, bias 3");
	ok(f.max == 15.5f && f.min_subnormal == 0x1p-6f, "fpE3M4 range %g %g",
	   f.max, f.min_subnormal);
	ok(qs_fpfmt_lookup("fpE4M3-fn", &g, &err) == QS_OK &&
		   g.max == 448.0f && g.max_code == 0x7E,
	   "fpE4M3-fn = E4M3FN");
	ok(qs_fpfmt_lookup("fpE4M3-fnuz-b8", &g, &err) == QS_OK &&
		   g.max == 240.0f && !strcmp(g.name, "fpE4M3-fnuz-b8"),
	   "fpE4M3-fnuz-b8 = E4M3FNUZ, name round-trips");
	ok(qs_fpfmt_lookup("fpe2m1-none", &g, &err) == QS_OK &&
		   g.max == 6.0f && g.min_subnormal == 0.5f,
	   "fpE2M1-none = FP4 E2M1");
	/* no subnormals: grid {0, min_normal, ...}; ties at min_normal/2 go
	 * to 0 (even) */
	ok(qs_fpfmt_lookup("fpE4M3-fn-nosub", &g, &err) == QS_OK &&
		   g.min_subnormal == g.min_normal,
	   "nosub: smallest value is min normal");
	float mn = g.min_normal;
	ok(qs_fp_encode(&g, mn * 0.5f, QS_ROUND_NEAREST, 0) == 0 &&
		   qs_fp_encode(&g, mn * 0.51f, QS_ROUND_NEAREST, 0) == 0x08 &&
		   qs_fp_encode(&g, mn * 0.01f, QS_ROUND_CEIL, 0) == 0x08 &&
		   qs_fp_decode(&g, 0x03) == 0.0f,
	   "nosub rounding between 0 and min normal");
	qs_fp_counts c;
	memset(&c, 0, sizeof c);
	float xs[3] = {mn * 0.3f, mn * 0.7f, mn * 1.3f}, ys[3];
	qs_fp_quantize(&g, xs, 3, 1.0f, QS_ROUND_NEAREST, 0, 0, ys, NULL, &c,
		       &err);
	ok(ys[0] == 0 && ys[1] == mn && c.underflow == 1 && c.subnormal == 0,
	   "nosub kernel");
	ok(qs_fpfmt_lookup("fpE5M10-b15", &g, &err) == QS_OK &&
		   !strcmp(g.name, "fpE5M10"),
	   "explicit default bias is dropped from the name");
	ok(qs_fpfmt_lookup("fpE9M3", &g, &err) == QS_EINVAL,
	   "fpE9M3 rejected: %s", err.msg);
	ok(qs_fpfmt_lookup("fpE8M7-b100", &g, &err) == QS_EINVAL &&
		   strstr(err.msg, "beyond float32"),
	   "bias too small for float32: %s", err.msg);
	ok(qs_fpfmt_lookup("fpE5M0", &g, &err) == QS_EINVAL,
	   "ieee without mantissa rejected: %s", err.msg);
	ok(qs_fpfmt_lookup("fpE5M0-fn", &g, &err) == QS_OK &&
		   g.max == 32768.0f,
	   "fpE5M0-fn: powers of two, max %g", g.max);
	ok(qs_fpfmt_lookup("fpE3M4-xyz", &g, &err) == QS_EINVAL &&
		   strstr(err.msg, "xyz"),
	   "unknown option: %s", err.msg);
	ok(qs_fpfmt_lookup("fp7", &g, &err) == QS_EINVAL &&
		   strstr(err.msg, "fp8_e4m3"),
	   "unknown name lists formats: %s", err.msg);
	ok(qs_fpfmt_custom(&g, 4, 3, 7, 1, QS_FP_FN, QS_FP_SAT, &err) ==
			   QS_OK &&
		   !strcmp(g.name, "fpE4M3-fn"),
	   "custom builder");
	ok(qs_fpfmt_lookup("E4M3", &g, &err) == QS_OK &&
		   !strcmp(g.name, "fp8_e4m3") && g.overflow == QS_FP_SAT,
	   "aliases are case-insensitive; fp8 saturates by default");
	ok(qs_fpfmt_lookup("half", &g, &err) == QS_OK &&
		   g.overflow == QS_FP_NONSAT,
	   "fp16 keeps IEEE overflow by default");
	int nn = qs_fpfmt_count(), good = 1;
	for (int i = 0; i < nn; i++)
		good &= qs_fpfmt_lookup(qs_fpfmt_name(i), &g, &err) == QS_OK &&
			!strcmp(g.name, qs_fpfmt_name(i));
	ok(nn == 10 && good && qs_fpfmt_name(nn) == NULL,
	   "10 named formats, each looks itself up");
	/* a 16-bit custom format round trip and the kernel */
	test_roundtrip("fpE6M9-fnuz");
	test_roundtrip("fpE3M4");
	test_roundtrip("fpE4M3-fn-nosub");
	test_kernel_vs_scalar("fpE3M4");
	test_kernel_vs_scalar("fpE4M3-fn-nosub");
	test_kernel_vs_scalar("fpE2M5-none-b-2");
	ok(qs_fpfmt_lookup("fpE2M5-none-b-2", &g, &err) == QS_OK &&
		   g.bias == -2 && !strcmp(g.name, "fpE2M5-none-b-2") &&
		   g.min_normal == 8.0f,
	   "negative bias: fpE2M5-none-b-2, min normal 2^3");
	test_oracle("fpE2M5-none-b-2");
	test_oracle("fpE3M2-fn-nosub");
}

static void test_e8m0(void)
{
	const char *p = fv_section("e8m0");
	char line[256];
	int rows = 0, bad = 0;
	fv_line(&p, line, sizeof line);
	while (p && fv_line(&p, line, sizeof line)) {
		char *c[8];
		if (fv_split(line, ',', c, 8) < 5)
			continue;
		float x = (float)strtod(c[1], NULL);
		unsigned rne = (unsigned)strtoul(c[2], NULL, 16);
		float v = (float)strtod(c[3], NULL);
		unsigned fl = (unsigned)strtoul(c[4], NULL, 16);
		rows++;
		if (qs_fp_e8m0_rne(x) != rne ||
		    !fv_same(qs_fp_e8m0_decode((uint8_t)rne), v, 1) ||
		    qs_fp_e8m0_floor(x) != fl) {
			bad++;
			tap_diag("e8m0 %s: rne 0x%X floor 0x%X", c[0],
				 qs_fp_e8m0_rne(x), qs_fp_e8m0_floor(x));
		}
	}
	ok(rows == 13 && bad == 0, "[e8m0]: RNE cast, decode, floor (%d rows)",
	   rows);
}

static void test_describe(void)
{
	qs_fpfmt f;
	qs_error err;
	qs_fpfmt_lookup("fp8_e4m3", &f, &err);
	qs_fp_desc d;
	qs_fp_describe(&f, 0.3f, QS_ROUND_NEAREST, 0, &d);
	ok(d.code == 0x2A && d.exp_field == 5 && d.man_field == 2 &&
		   d.exponent == -2 && d.value == 0.3125f &&
		   d.direction == 1 && !strcmp(d.kind, "normal") &&
		   !strcmp(d.bitstr, "0 0101 010"),
	   "describe 0.3 in E4M3: %s %s", d.bitstr, d.kind);
	qs_fp_describe(&f, -0.004f, QS_ROUND_NEAREST, 0, &d);
	ok(d.subnormal && d.sign && d.value == -0.00390625f &&
		   d.direction == 1 && !strcmp(d.kind, "subnormal"),
	   "describe a subnormal: %s", d.bitstr);
	qs_fp_describe(&f, 1000.0f, QS_ROUND_NEAREST, 0, &d);
	ok(d.overflow && d.saturated && d.value == 448.0f && d.direction == -1,
	   "describe an overflow");
	qs_fp_describe(&f, 1e-5f, QS_ROUND_NEAREST, 0, &d);
	ok(d.underflow && !strcmp(d.kind, "zero"), "describe an underflow");
	qs_fp_props p;
	qs_fpfmt_props(&f, &p);
	ok(p.max == 448 && p.epsilon == 0.125 && !p.has_inf && p.has_nan &&
		   p.has_negzero && p.min_subnormal == 0x1p-9,
	   "props of E4M3");
	qs_fpfmt_lookup("fp8_e5m2fnuz", &f, &err);
	qs_fpfmt_props(&f, &p);
	ok(!p.has_inf && p.has_nan && !p.has_negzero && p.max == 57344,
	   "props of E5M2FNUZ");
}

int main(void)
{
	if (!fv_load())
		skip_all("tests/data/formats/formats_vectors.txt missing");
	for (int i = 0; i < NSEC; i++)
		test_section(sections[i]);
	for (int i = 0; i < qs_fpfmt_count(); i++)
		test_roundtrip(qs_fpfmt_name(i));
	for (int i = 0; i < qs_fpfmt_count(); i++)
		if (strcmp(qs_fpfmt_name(i), "fp16") &&
		    strcmp(qs_fpfmt_name(i), "bf16"))
			test_oracle(qs_fpfmt_name(i));
	for (int i = 0; i < qs_fpfmt_count(); i++)
		test_kernel_vs_scalar(qs_fpfmt_name(i));
	test_rounding_table();
	test_stochastic();
	test_counts();
	test_edges();
	test_custom();
	test_e8m0();
	test_describe();
	return tap_done();
}
