/* t_matmul: the float reference matmul, int8 matmul with int32
 * accumulation, and TFLite's QuantizeMultiplier / MultiplyByQuantizedMultiplier
 * against the [dyadic] reference vectors (tests/data/matmul/dyadic.txt). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/matmul.h"
#include "tap.h"

#ifndef QS_TEST_DATA
#define QS_TEST_DATA "tests/data"
#endif

static uint64_t rng = 88172645463325252u;
static uint32_t next_u32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

/* The [dyadic] vectors: QuantizeMultiplier rows, then
 * MultiplyByQuantizedMultiplier rows (double and single rounding). */
static void dyadic_vectors(void)
{
	FILE *f = fopen(QS_TEST_DATA "/matmul/dyadic.txt", "r");
	ok(f != NULL, "open %s", QS_TEST_DATA "/matmul/dyadic.txt");
	if (!f)
		return;
	char line[512];
	int part = 0, nq = 0, nm = 0, bad_q = 0, bad_d = 0, bad_s = 0;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		if (strncmp(line, "M,qm", 4) == 0) {
			part = 1;
			continue;
		}
		if (strncmp(line, "MultiplyBy", 10) == 0) {
			part = 2;
			continue;
		}
		if (part == 1) {
			double m, approx;
			long long qm;
			int shift;
			if (sscanf(line, "%lf,%lld,%d,%lf", &m, &qm, &shift,
				   &approx) != 4)
				continue;
			nq++;
			int32_t gq;
			int gs;
			qs_error e;
			if (qs_matmul_multiplier(m, QS_REQUANT_DOUBLE, &gq, &gs,
						 &e) < 0 ||
			    gq != qm || gs != shift ||
			    ldexp((double)gq, gs - 31) != approx) {
				bad_q++;
				tap_diag("M=%.17g: got (%ld, %d), want (%lld, %d)",
					 m, (long)gq, gs, qm, shift);
			}
		} else if (part == 2) {
			long long x, wd, ws;
			double m, exact;
			if (sscanf(line, "%lld,%lf,%lf,%lld,%lld", &x, &m, &exact,
				   &wd, &ws) != 5)
				continue;
			nm++;
			int32_t qm;
			int shift;
			qs_matmul_multiplier(m, QS_REQUANT_DOUBLE, &qm, &shift,
					     NULL);
			int32_t d = qs_matmul_requant((int32_t)x, qm, shift,
						      QS_REQUANT_DOUBLE);
			qs_matmul_multiplier(m, QS_REQUANT_SINGLE, &qm, &shift,
					     NULL);
			int32_t s = qs_matmul_requant((int32_t)x, qm, shift,
						      QS_REQUANT_SINGLE);
			if (d != wd) {
				bad_d++;
				tap_diag("x=%lld M=%g double: got %ld want %lld",
					 x, m, (long)d, wd);
			}
			if (s != ws) {
				bad_s++;
				tap_diag("x=%lld M=%g single: got %ld want %lld",
					 x, m, (long)s, ws);
			}
		}
	}
	fclose(f);
	ok(nq == 10 && bad_q == 0,
	   "QuantizeMultiplier: %d reference rows, %d wrong", nq, bad_q);
	ok(nm == 12 && bad_d == 0,
	   "MultiplyByQuantizedMultiplier, double rounding: %d rows, %d wrong",
	   nm, bad_d);
	ok(nm == 12 && bad_s == 0,
	   "MultiplyByQuantizedMultiplier, single rounding: %d rows, %d wrong",
	   nm, bad_s);
}

static void srdhm_cases(void)
{
	/* shift 0: the result is SRDHM(x, qm) itself */
	ok(qs_matmul_requant(-3, 1 << 30, 0, QS_REQUANT_DOUBLE) == -1,
	   "SRDHM(-3, 2^30) = -1 (ties toward +inf)");
	ok(qs_matmul_requant(3, 1 << 30, 0, QS_REQUANT_DOUBLE) == 2,
	   "SRDHM(3, 2^30) = 2");
	ok(qs_matmul_requant(INT32_MIN, INT32_MIN, 0, QS_REQUANT_DOUBLE) ==
		   INT32_MAX,
	   "SRDHM(INT32_MIN, INT32_MIN) saturates to INT32_MAX");
	/* M = 0.5 exactly: qm = 2^30, shift 0; then RDBPOT by 1 with M=0.25 */
	ok(qs_matmul_requant(-3, 1 << 30, -1, QS_REQUANT_DOUBLE) == -1 &&
		   qs_matmul_requant(3, 1 << 30, -1, QS_REQUANT_DOUBLE) == 1,
	   "x * 0.25 for x = -3, 3 (RDBPOT ties away)");
	/* left shift saturates instead of overflowing */
	ok(qs_matmul_requant(INT32_MAX, 1 << 30, 3, QS_REQUANT_DOUBLE) ==
		   INT32_MAX,
	   "x * 4 past int32 saturates");
	ok(qs_matmul_requant(1 << 30, 1 << 30, 1, QS_REQUANT_DOUBLE) ==
		   1 << 30,
	   "x * 1 with x 2^shift past int32 is still exact");
	ok(qs_matmul_requant(-5, 1 << 30, 2, QS_REQUANT_DOUBLE) == -10 &&
		   qs_matmul_requant(-5, 1610612736, 2, QS_REQUANT_DOUBLE) ==
			   -15,
	   "x * 2 and x * 3 with left shifts");
	int32_t qm;
	int sh;
	qs_error e;
	ok(qs_matmul_multiplier(-1.0, QS_REQUANT_DOUBLE, &qm, &sh, &e) ==
			   QS_EINVAL &&
		   strstr(e.msg, "multiplier") != NULL,
	   "a negative multiplier is an error: %s", e.msg);
	ok(qs_matmul_multiplier(0x1p40, QS_REQUANT_SINGLE, &qm, &sh, NULL) ==
			   0 &&
		   sh == 30 && qm == INT32_MAX,
	   "single rounding caps the shift at 30");
	ok(qs_matmul_multiplier(0.0, QS_REQUANT_DOUBLE, &qm, &sh, NULL) == 0 &&
		   qm == 0 && sh == 0,
	   "multiplier 0 -> (0, 0)");
}

static void float_matmul(void)
{
	const float a[6] = {1, 2, 3, 4, 5, 6};        /* 2 x 3 */
	const float b[6] = {7, 8, 9, 10, 11, 12};     /* 3 x 2 */
	const float bt[6] = {7, 9, 11, 8, 10, 12};    /* b transposed */
	float c[4], d[4];
	ok(qs_matmul_f32(a, b, c, 2, 3, 2, 0, NULL) == 0 && c[0] == 58 &&
		   c[1] == 64 && c[2] == 139 && c[3] == 154,
	   "2x3 times 3x2 = [58 64; 139 154]");
	ok(qs_matmul_f32(a, bt, d, 2, 3, 2, 1, NULL) == 0 &&
		   memcmp(c, d, sizeof c) == 0,
	   "b transposed gives the same product");
	/* double accumulation: 1e8 + 1 - 1e8 in float would lose the 1 */
	const float x[3] = {1e8f, 1, -1e8f}, y[3] = {1, 1, 1};
	float z;
	qs_matmul_f32(x, y, &z, 1, 3, 1, 0, NULL);
	ok(z == 1.0f, "products are summed in double (got %g)", z);
	qs_error e;
	ok(qs_matmul_f32(a, b, c, -1, 3, 2, 0, &e) == QS_EINVAL,
	   "negative dimension: %s", e.msg);
}

static void int8_matmul(void)
{
	enum { M = 7, K = 300, N = 5 };
	static int8_t a[M * K], b[K * N], bt[N * K];
	int32_t za[M], acc[M * N], acc2[M * N];
	for (int i = 0; i < M * K; i++)
		a[i] = (int8_t)(int)(next_u32() % 255 - 127);
	for (int i = 0; i < K * N; i++)
		b[i] = (int8_t)(int)(next_u32() % 256 - 128);
	for (int j = 0; j < N; j++)
		for (int k = 0; k < K; k++)
			bt[j * K + k] = b[k * N + j];
	for (int i = 0; i < M; i++)
		za[i] = i - 3;
	int32_t zb = -5;
	ok(qs_matmul_int8_acc(a, za, b, zb, M, K, N, 0, acc, NULL) == 0,
	   "int8 matmul runs");
	int bad = 0;
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			int64_t s = 0;
			for (int k = 0; k < K; k++)
				s += ((int64_t)a[i * K + k] - za[i]) *
				     ((int64_t)b[k * N + j] - zb);
			bad += s != acc[i * N + j];
		}
	ok(bad == 0, "int32 accumulators equal int64 sums (%d differ)", bad);
	ok(qs_matmul_int8_acc(a, za, bt, zb, M, K, N, 1, acc2, NULL) == 0 &&
		   memcmp(acc, acc2, sizeof acc) == 0,
	   "b transposed gives the same accumulators");

	/* overflow guard: k * 255 * 255 > 2^31 - 1 for k >= 33026 */
	int64_t k = 40000;
	int8_t *big = malloc((size_t)k);
	int32_t out1;
	for (int64_t i = 0; i < k; i++)
		big[i] = -128;
	int32_t zbig = 127;
	qs_error e;
	ok(qs_matmul_int8_acc(big, &zbig, big, 127, 1, k, 1, 0, &out1, &e) ==
			   QS_EINVAL &&
		   strstr(e.msg, "overflow") != NULL,
	   "a possible int32 overflow is refused: %s", e.msg);
	out1 = 0;
	qs_status st = qs_matmul_int8_acc(big, NULL, big, 0, 1, 30000, 1, 0,
					  &out1, &e);
	ok(st == 0 && out1 == 30000 * 128 * 128,
	   "k 30000 with |a|=|b|=128 fits (%ld)", (long)out1);
	free(big);

	/* requantize: within one unit of acc * M, and clamped */
	int32_t qm[M], out[M * N];
	int sh[M];
	double mult[M];
	for (int i = 0; i < M; i++) {
		mult[i] = 0.0001 * (i + 1) + 1e-5;
		qs_matmul_multiplier(mult[i], QS_REQUANT_DOUBLE, &qm[i], &sh[i],
				     NULL);
	}
	ok(qs_matmul_requantize(acc, M, N, qm, sh, 3, -128, 127,
				QS_REQUANT_DOUBLE, out, NULL) == 0,
	   "requantize runs");
	int far = 0, range = 0;
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double want = 3 + acc[i * N + j] * mult[i];
			double cl = want < -128 ? -128 : want > 127 ? 127 : want;
			far += fabs(out[i * N + j] - cl) > 1.0;
			range += out[i * N + j] < -128 || out[i * N + j] > 127;
		}
	ok(far == 0 && range == 0,
	   "requantized codes are within 1 of acc*M + z (%d far, %d out of "
	   "range)",
	   far, range);
	ok(qs_matmul_requantize(acc, M, N, qm, sh, 0, 5, 4, QS_REQUANT_DOUBLE,
				out, &e) == QS_EINVAL,
	   "empty code range: %s", e.msg);
	sh[0] = 31;
	ok(qs_matmul_requantize(acc, M, N, qm, sh, 0, -128, 127,
				QS_REQUANT_SINGLE, out, &e) == QS_EINVAL,
	   "single rounding refuses shift 31: %s", e.msg);
}

int main(void)
{
	tap_plan(27);
	dyadic_vectors();
	srdhm_cases();
	float_matmul();
	int8_matmul();
	return tap_done();
}
