/* t_fixed: dyadic requantization against the [dyadic] vectors (TFLite
 * QuantizeMultiplier, double and single rounding MultiplyByQuantized-
 * Multiplier, gemmlowp SRDHM/RDBPOT, HAWQ batch_frexp), sign-magnitude and
 * two's complement codes, fixed-point qM.N with every rounding rule, and
 * power-of-two scales. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixed.h"
#include "fmt_vectors.h"
#include "tap.h"

static void test_dyadic(void)
{
	const char *p = fv_section("dyadic");
	char line[512];
	fv_line(&p, line, sizeof line); /* column names */
	int rows = 0, bad = 0;
	while (p && fv_line(&p, line, sizeof line)) {
		char *c[8];
		if (!strncmp(line, "MultiplyBy", 10))
			break;
		if (fv_split(line, ',', c, 8) != 6)
			continue;
		double m = strtod(c[0], NULL);
		int32_t qm;
		int sh;
		int64_t hb;
		int hc;
		qs_fixed_quantize_multiplier(m, 0, &qm, &sh, NULL);
		qs_fixed_hawq_frexp(m, &hb, &hc, NULL);
		rows++;
		if (qm != atol(c[1]) || sh != atoi(c[2]) ||
		    (double)qm * ldexp(1.0, sh - 31) != strtod(c[3], NULL) ||
		    hb != atoll(c[4]) || hc != (int)strtod(c[5], NULL)) {
			bad++;
			tap_diag("M=%s: qm %d shift %d hawq %lld %d", c[0], qm,
				 sh, (long long)hb, hc);
		}
	}
	ok(rows == 10 && bad == 0,
	   "[dyadic] QuantizeMultiplier and HAWQ batch_frexp (%d rows)",
	   rows);
	rows = bad = 0;
	while (p && fv_line(&p, line, sizeof line)) {
		char *c[8];
		if (!strncmp(line, "gemmlowp", 8))
			break;
		if (fv_split(line, ',', c, 8) != 6)
			continue;
		int32_t x = atoi(c[0]);
		double m = strtod(c[1], NULL);
		int32_t qm, qms;
		int sh, shs;
		qs_fixed_quantize_multiplier(m, 0, &qm, &sh, NULL);
		qs_fixed_quantize_multiplier(m, 1, &qms, &shs, NULL);
		int64_t hb;
		int hc;
		qs_fixed_hawq_frexp(m, &hb, &hc, NULL);
		int32_t d = qs_fixed_mul_qm(x, qm, sh, 0);
		int32_t s = qs_fixed_mul_qm(x, qms, shs, 1);
		double h = qs_fixed_hawq_apply(x, hb, hc);
		double wh = strtod(c[5], NULL);
		rows++;
		if (d != atoi(c[3]) || s != atoi(c[4]) ||
		    fv_bits((float)h) != fv_bits((float)wh)) {
			bad++;
			tap_diag("x=%d M=%s: double %d single %d hawq %g", x,
				 c[1], d, s, h);
		}
	}
	ok(rows == 12 && bad == 0,
	   "[dyadic] MultiplyByQuantizedMultiplier double/single rounding, "
	   "HAWQ (%d rows)",
	   rows);
	/* "(-3,2^30)=-1 (3,2^30)=2 (INT32_MIN,INT32_MIN)=2147483647 ;
	 * RDBPOT(x,1): -3->-2 3->2 -1->-1 1->1" */
	ok(qs_fixed_srdhm(-3, 1 << 30) == -1 && qs_fixed_srdhm(3, 1 << 30) == 2 &&
		   qs_fixed_srdhm(INT32_MIN, INT32_MIN) == INT32_MAX,
	   "[dyadic] SRDHM: ties toward +inf, saturation");
	ok(qs_fixed_rdbpot(-3, 1) == -2 && qs_fixed_rdbpot(3, 1) == 2 &&
		   qs_fixed_rdbpot(-1, 1) == -1 && qs_fixed_rdbpot(1, 1) == 1,
	   "[dyadic] RDBPOT: ties away from zero");
	ok(strstr(line, "(-3,2^30)=-1") != NULL, "gemmlowp line read");
	/* single rounding caps the shift at 30 */
	int32_t qm;
	int sh;
	qs_fixed_quantize_multiplier(ldexp(1.0, 40), 1, &qm, &sh, NULL);
	ok(sh == 30 && qm == INT32_MAX, "single rounding: shift capped at 30");
	qs_fixed_quantize_multiplier(ldexp(1.0, 40), 0, &qm, &sh, NULL);
	ok(sh == 41 && qm == 1 << 30, "double rounding: shift 41");
	qs_error err;
	ok(qs_fixed_quantize_multiplier(NAN, 0, &qm, &sh, &err) == QS_EINVAL,
	   "NaN multiplier rejected: %s", err.msg);
	qs_fixed_quantize_multiplier(-0.75, 0, &qm, &sh, NULL);
	ok(qm == -1610612736 && sh == 0 &&
		   qs_fixed_mul_qm(100, qm, sh, 0) == -75,
	   "negative multiplier");
	/* x * 2^-s: the SRDHM rounds the half-step up, then RDBPOT */
	int badp = 0;
	for (int s = 1; s < 8; s++) {
		qs_fixed_quantize_multiplier(ldexp(1.0, -s), 0, &qm, &sh, NULL);
		for (int32_t x = -300; x <= 300; x++) {
			int32_t h = (int32_t)floor(x / 2.0 + 0.5); /* SRDHM */
			double v = h * ldexp(1.0, -(s - 1));
			int32_t want = (int32_t)(v < 0 ? -floor(-v + 0.5)
						       : floor(v + 0.5));
			badp += qs_fixed_mul_qm(x, qm, sh, 0) != want;
		}
	}
	ok(badp == 0, "x * 2^-s: SRDHM half-up, then RDBPOT half-away");
}

static void test_codes(void)
{
	int bad = 0;
	for (int bits = 2; bits <= 8; bits++) {
		int lim = (1 << (bits - 1)) - 1;
		for (int q = -lim; q <= lim; q++) {
			uint32_t c = qs_fixed_sm_encode(q, bits);
			bad += qs_fixed_sm_decode(c, bits) != q;
			bad += (q < 0) != ((c >> (bits - 1)) & 1);
			uint32_t t = qs_fixed_tc_encode(q, bits);
			bad += qs_fixed_tc_decode(t, bits) != q;
			bad += t >= (1u << bits);
		}
	}
	ok(bad == 0, "sign-magnitude and two's complement round trips");
	ok(qs_fixed_sm_encode(-3, 4) == 0xB && qs_fixed_sm_encode(9, 4) == 0x7 &&
		   qs_fixed_sm_decode(0x8, 4) == 0 &&
		   qs_fixed_tc_encode(-8, 4) == 0x8 &&
		   qs_fixed_tc_decode(0xF, 4) == -1,
	   "4-bit codes: -3 = 1011 (sm), clamp to 7, -0, -8 = 1000 (tc)");
	ok(qs_fixed_tc_decode(0x80000000u, 32) == INT32_MIN &&
		   qs_fixed_sm_encode(INT32_MIN, 32) == 0xFFFFFFFFu,
	   "32-bit codes");
}

static void test_qmn(void)
{
	qs_qfmt f;
	qs_error err;
	ok(qs_fixed_parse("q3.4", &f, &err) == QS_OK && f.bits == 8 &&
		   f.qmin == -128 && f.qmax == 127 && f.step == 0.0625 &&
		   !strcmp(f.name, "q3.4"),
	   "q3.4: 8 bits, step 1/16");
	ok(qs_fixed_parse("UQ0.8", &f, &err) == QS_OK && f.bits == 8 &&
		   f.qmax == 255 && !strcmp(f.name, "uq0.8"),
	   "uq0.8");
	ok(qs_fixed_parse("q15.16", &f, &err) == QS_OK && f.bits == 32,
	   "q15.16: 32 bits");
	ok(qs_fixed_parse("q16.16", &f, &err) == QS_EINVAL,
	   "33 bits rejected: %s", err.msg);
	ok(qs_fixed_parse("q3", &f, &err) == QS_EINVAL && strstr(err.msg, "qM.N"),
	   "bad name: %s", err.msg);
	qs_fixed_parse("q1.2", &f, NULL); /* [-2, 1.75], step 0.25 */
	float x[9] = {0.125f, 0.375f, -0.125f, -0.375f, 1.9f,
		      -2.2f,  NAN,    0.3f,    INFINITY};
	float y[9];
	int32_t c[9];
	int64_t clip;
	qs_fixed_quantize(&f, x, 9, QS_ROUND_NEAREST, 0, 0, y, c, &clip, &err);
	ok(y[0] == 0 && y[1] == 0.5f && y[2] == 0 && y[3] == -0.5f &&
		   y[4] == 1.75f && y[5] == -2.0f && isnan(y[6]) &&
		   y[7] == 0.25f && y[8] == 1.75f && clip == 3 && c[4] == 7 &&
		   c[5] == -8,
	   "q1.2 nearest (ties even), clipping, NaN");
	qs_fixed_quantize(&f, x, 4, QS_ROUND_AWAY, 0, 0, y, NULL, NULL, &err);
	ok(y[0] == 0.25f && y[1] == 0.5f && y[2] == -0.25f && y[3] == -0.5f,
	   "q1.2 away");
	qs_fixed_quantize(&f, x, 4, QS_ROUND_UP, 0, 0, y, NULL, NULL, &err);
	ok(y[0] == 0.25f && y[1] == 0.5f && y[2] == 0 && y[3] == -0.25f,
	   "q1.2 half up");
	qs_fixed_quantize(&f, x, 4, QS_ROUND_FLOOR, 0, 0, y, NULL, NULL, &err);
	ok(y[0] == 0 && y[1] == 0.25f && y[2] == -0.25f && y[3] == -0.5f,
	   "q1.2 floor");
	qs_fixed_quantize(&f, x, 4, QS_ROUND_TRUNC, 0, 0, y, NULL, NULL, &err);
	ok(y[0] == 0 && y[1] == 0.25f && y[2] == 0 && y[3] == -0.25f,
	   "q1.2 trunc");
	enum { N = 100000 };
	static float xs[N], ys[N];
	for (int i = 0; i < N; i++)
		xs[i] = 0.3f;
	qs_fixed_quantize(&f, xs, N, QS_ROUND_STOCHASTIC, 9, 0, ys, NULL,
			  NULL, &err);
	double s = 0;
	for (int i = 0; i < N; i++)
		s += ys[i];
	is_double(s / N, 0.3, 0.002, "q1.2 stochastic is unbiased");
	qs_fixed_parse("q15.16", &f, NULL);
	float big = 12345.678f;
	qs_fixed_quantize(&f, &big, 1, QS_ROUND_NEAREST, 0, 0, y, c, NULL,
			  &err);
	ok(c[0] == (int32_t)nearbyint(12345.678f * 65536.0) &&
		   y[0] == (float)(c[0] / 65536.0),
	   "q15.16: code exact, value rounded to float32");
}

static void test_pow2(void)
{
	float o;
	int k;
	qs_error err;
	ok(qs_fixed_pow2_scale(0.3f, QS_POW2_CEIL, &o, &k, &err) == QS_OK &&
		   o == 0.5f && k == -1,
	   "ceil(0.3) = 2^-1");
	qs_fixed_pow2_scale(0.3f, QS_POW2_FLOOR, &o, &k, &err);
	ok(o == 0.25f && k == -2, "floor(0.3) = 2^-2");
	qs_fixed_pow2_scale(0.3f, QS_POW2_NEAREST, &o, &k, &err);
	ok(o == 0.25f, "nearest(0.3) = 2^-2 (0.3 < 0.25 sqrt 2)");
	qs_fixed_pow2_scale(0.36f, QS_POW2_NEAREST, &o, &k, &err);
	ok(o == 0.5f, "nearest(0.36) = 2^-1 (0.36 > 0.3536)");
	qs_fixed_pow2_scale(0.25f, QS_POW2_CEIL, &o, &k, &err);
	ok(o == 0.25f && k == -2, "powers of two are kept");
	qs_fixed_pow2_scale(1e-45f, QS_POW2_CEIL, &o, &k, &err);
	ok(o == 0x1p-149f && k == -149, "float32 subnormal scale");
	ok(qs_fixed_pow2_scale(3e38f, QS_POW2_CEIL, &o, &k, &err) ==
			   QS_EINVAL &&
		   strstr(err.msg, "2^128"),
	   "2^128 rejected: %s", err.msg);
	ok(qs_fixed_pow2_scale(-1.0f, QS_POW2_CEIL, &o, &k, &err) == QS_EINVAL,
	   "negative scale rejected");
	/* ceil never clips more: x/s within range => x/2^k within range */
	int bad = 0;
	for (int i = 1; i < 2000; i++) {
		float s = (float)i * 0.00137f;
		qs_fixed_pow2_scale(s, QS_POW2_CEIL, &o, NULL, NULL);
		bad += !(o >= s && o < 2 * s);
	}
	ok(bad == 0, "ceil: s <= 2^k < 2s");
	qs_pow2_mode pm;
	ok(qs_pow2_mode_parse("nearest", &pm) == 0 && pm == QS_POW2_NEAREST &&
		   !strcmp(qs_pow2_mode_name(QS_POW2_CEIL), "ceil"),
	   "pow2 mode names");
}

int main(void)
{
	if (!fv_load())
		skip_all("tests/data/formats/formats_vectors.txt missing");
	test_dyadic();
	test_codes();
	test_qmn();
	test_pow2();
	return tap_done();
}
