/* t_calib: every calibration method against the reference numbers of
 * calibration_reference.txt (float32 hex quoted per assertion; tolerance
 * from vectors/README.md: exact for closed formulas, 1 ulp for values read
 * from histogram edges, 1e-6 relative for printed decimals), plus the edge
 * cases and parameter errors of every method. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/calib.h"
#include "engine/hist.h"
#include "calib_util.h"

static const char *const dn[3] = {"normal", "laplace", "relu"};
static float *X[3];
static size_t N;

static qs_calib cal(qs_calib_method m)
{
	qs_calib c;
	memset(&c, 0, sizeof c);
	c.method = m;
	return c;
}

static qs_grid grid8(int sym, int uns)
{
	qs_grid g;
	qs_grid_default(&g, 8, uns, sym, sym && !uns);
	return g;
}

/* Section A: min/max; PyTorch MovingAverageMinMaxObserver over 10 chunks
 * of 10000 (running min/max, c = 0.01). */
static void test_minmax_ema(void)
{
	static const float mm[3][2] = {{-0x1.368918p+2f, 0x1.0f7930p+2f},
				       {-0x1.7d9ba2p+3f, 0x1.40eea6p+3f},
				       {0.0f, 0x1.0f7930p+2f}};
	static const float em[3][2] = {{-0x1.e2696cp+1f, 0x1.e6ab98p+1f},
				       {-0x1.19c7eap+3f, 0x1.3dba76p+3f},
				       {0.0f, 0x1.e6ab98p+1f}};
	qs_grid g = grid8(0, 0);
	for (int d = 0; d < 3; d++) {
		float lo, hi;
		qs_calib c = cal(QS_CALIB_MINMAX);
		qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
		is_ulps(lo, mm[d][0], 0, "%s minmax lo", dn[d]);
		is_ulps(hi, mm[d][1], 0, "%s minmax hi", dn[d]);
		c = cal(QS_CALIB_EMA);
		c.batches = 10;
		qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
		is_ulps(lo, em[d][0], 0, "%s ema 10 chunks lo", dn[d]);
		is_ulps(hi, em[d][1], 0, "%s ema 10 chunks hi", dn[d]);
	}
}

/* Section C: NVIDIA calibrators, amax = max(-lo, hi) on a symmetric
 * grid (left bin edges of the Debian torch 1.13 linspace: 1 ulp). */
static void test_nvidia(void)
{
	static const float ent[3] = {0x1.ed18b0p+1f, 0x1.272660p+3f,
				     0x1.ed1b22p+1f};
	static const float mse[3] = {0x1.002d38p+2f, 0x1.27cd54p+3f,
				     0x1.e50524p+1f};
	static const float pct[3][3] = {
		{0x1.a70b42p+1f, 0x1.ebe228p+1f, 0x1.366246p+2f},
		{0x1.bcf5f8p+2f, 0x1.26f6acp+3f, 0x1.7d6beep+3f},
		{0x1.8dee64p+1f, 0x1.da8c58p+1f, 0x1.0f5740p+2f}};
	static const double ps[3] = {99.9, 99.99, 99.999};
	qs_grid g = grid8(1, 0);
	for (int d = 0; d < 3; d++) {
		float lo, hi;
		qs_calib c = cal(QS_CALIB_ENTROPY);
		ok(qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL) == QS_OK,
		   "%s entropy runs", dn[d]);
		is_ulps(-lo > hi ? -lo : hi, ent[d], 1, "%s NV entropy amax",
			dn[d]);
		c = cal(QS_CALIB_MSE);
		qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
		is_ulps(-lo > hi ? -lo : hi, mse[d], 1, "%s NV mse amax",
			dn[d]);
		for (int k = 0; k < 3; k++) {
			c = cal(QS_CALIB_PERCENTILE_HIST);
			c.percentile = ps[k];
			qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
			is_ulps(-lo > hi ? -lo : hi, pct[d][k], 1,
				"%s NV percentile %g amax", dn[d], ps[k]);
		}
	}
	/* relu, unsigned 8-bit: 256 levels, same bin (1860) */
	qs_grid u = grid8(1, 1);
	float lo, hi;
	qs_calib c = cal(QS_CALIB_ENTROPY);
	qs_calib_range(&c, X[2], N, &u, &lo, &hi, NULL);
	is_ulps(hi, 0x1.ed1b22p+1f, 1, "relu NV entropy unsigned amax");
	ok(lo == 0.0f, "relu entropy lo = 0");
	/* the bin indices of the reference table */
	qs_hist *h = qs_hist_new(QS_HIST_NVIDIA, 0, NULL);
	qs_hist_add(h, X[0], N, NULL);
	int64_t b1 = -1, b2 = -1, b3 = -1;
	float a;
	qs_hist_nv_entropy(h, 128, 128, &a, &b1, NULL);
	qs_hist_nv_mse(h, 8, 0, 128, &a, &b2, NULL);
	qs_hist_nv_percentile(h, 99.99, &a, &b3, NULL);
	ok(b1 == 1626 && b2 == 1689 && b3 == 1622,
	   "normal: entropy bin 1626, mse bin 1689, percentile bin 1622 "
	   "(got %lld %lld %lld)",
	   (long long)b1, (long long)b2, (long long)b3);
	qs_hist_free(h);
}

/* Section D: ONNX Runtime (re-implementation of calibrate.py). */
static void test_ort(void)
{
	static const float ent[3][2] = {{-0x1.fd78ecp+1f, 0x1.fe1430p+1f},
					{-0x1.3a27e0p+3f, 0x1.3a8746p+3f},
					{0.0f, 0x1.53df38p+1f}};
	static const float mm[3][2] = {{-0x1.368918p+2f, 0x1.0f7930p+2f},
				       {-0x1.7d9ba2p+3f, 0x1.40eea6p+3f},
				       {0.0f, 0x1.0f7930p+2f}};
	static const float pa[3][2] = {{-0x1.368918p+2f, 0x1.0f6a52p+2f},
				       {-0x1.7d9ba2p+3f, 0x1.40dd1cp+3f},
				       {0.0f, 0x1.0f3552p+2f}};
	static const float psy[3][2] = {{-0x1.366246p+2f, 0x1.0f7930p+2f},
					{-0x1.7d6beep+3f, 0x1.40eea6p+3f},
					{0.0f, 0x1.0f5740p+2f}};
	qs_grid g = grid8(0, 0);
	for (int d = 0; d < 3; d++) {
		float lo, hi;
		qs_calib c = cal(QS_CALIB_ENTROPY_ORT);
		qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
		is_ulps(lo, ent[d][0], 1, "%s ORT entropy 2048/128 lo", dn[d]);
		is_ulps(hi, ent[d][1], 1, "%s ORT entropy 2048/128 hi", dn[d]);
		c.bins = 128; /* ORT's API default: one candidate = minmax */
		qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
		ok(lo == mm[d][0] && hi == mm[d][1],
		   "%s ORT entropy 128 bins = minmax", dn[d]);
		c = cal(QS_CALIB_PERCENTILE_HIST);
		c.percentile = 99.999;
		qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
		is_ulps(lo, pa[d][0], 1, "%s ORT percentile asym lo", dn[d]);
		is_ulps(hi, pa[d][1], 1, "%s ORT percentile asym hi", dn[d]);
		/* symmetric rule on the |x| histogram (collect_absolute_value) */
		qs_hist *h = qs_hist_new(QS_HIST_ORT_ABS, 0, NULL);
		qs_hist_add(h, X[d], N, NULL);
		qs_hist_ort_percentile(h, 99.999, &lo, &hi, NULL);
		is_ulps(lo, psy[d][0], 1, "%s ORT percentile sym lo", dn[d]);
		is_ulps(hi, psy[d][1], 1, "%s ORT percentile sym hi", dn[d]);
		qs_hist_free(h);
	}
}

/* Section B: HistogramObserver, "modern" single batch: [new_min, new_max]
 * (the search is two-sided whatever the scheme). */
static void test_hist_l2(void)
{
	static const float r[3][2] = {{-0x1.368918p+2f, 0x1.ecee30p+1f},
				      {-0x1.7d9ba2p+3f, 0x1.2f6ff6p+3f},
				      {0.0f, 0x1.e67a6ap+1f}};
	for (int s = 0; s < 2; s++) {
		qs_grid g = grid8(s, !s);
		for (int d = 0; d < 3; d++) {
			float lo, hi;
			qs_calib c = cal(QS_CALIB_HIST_L2);
			qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
			is_ulps(lo, r[d][0], 1, "%s hist_l2 lo (%s grid)",
				dn[d], s ? "symmetric" : "affine");
			is_ulps(hi, r[d][1], 1, "%s hist_l2 hi (%s grid)",
				dn[d], s ? "symmetric" : "affine");
		}
	}
}

/* Section E: AIMET TF-enhanced (printed decimals: 1e-6 relative). */
static void test_sqnr(void)
{
	static const double as[3][4] = {
		{0.0355230048, -136, -4.8311286, 4.2272377},
		{0.0857593045, -139, -11.9205437, 9.94807911},
		{0.0166019108, 0, 0, 4.23348713}};
	static const double sy[3][4] = {
		{0.0356415026, -128, -4.56211233, 4.52647066},
		{0.0857393965, -128, -10.9746428, 10.8889036},
		{0.0166018996, 0, 0, 4.23348427}};
	for (int d = 0; d < 3; d++) {
		qs_hist *h = qs_hist_new(QS_HIST_AIMET, 0, NULL);
		qs_hist_add(h, X[d], N, NULL);
		for (int s = 0; s < 2; s++) {
			const double *w = s ? sy[d] : as[d];
			double dl, of, em, eM;
			qs_hist_aimet_sqnr(h, 8, s, 0, 1, &dl, &of, &em, &eM,
					   NULL);
			is_rel(dl, w[0], 1e-6, "%s TF-enhanced %s delta", dn[d],
			       s ? "sym" : "asym");
			ok(of == w[1], "%s TF-enhanced %s offset %g", dn[d],
			   s ? "sym" : "asym", of);
			is_rel(em, w[2], 1e-6, "%s TF-enhanced %s min", dn[d],
			       s ? "sym" : "asym");
			is_rel(eM, w[3], 1e-6, "%s TF-enhanced %s max", dn[d],
			       s ? "sym" : "asym");
		}
		qs_hist_free(h);
		/* through qs_calib_range: the asymmetric range is the
		 * encoding; the signed symmetric one is +-127 delta */
		float lo, hi;
		qs_calib c = cal(QS_CALIB_SQNR);
		qs_grid g = grid8(0, 0);
		qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
		is_rel(lo, as[d][2], 1e-6, "%s sqnr asym range lo", dn[d]);
		is_rel(hi, as[d][3], 1e-6, "%s sqnr asym range hi", dn[d]);
		if (d < 2) {
			qs_grid_default(&g, 8, 0, 1, 0); /* not strict */
			qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
			is_rel(hi / 127.0, sy[d][0], 1e-6,
			       "%s sqnr symmetric range: hi / 127 = delta",
			       dn[d]);
			ok(lo == -hi, "%s sqnr symmetric range is symmetric",
			   dn[d]);
		}
	}
}

/* Section F: ACIQ estimators and alphas (7 digits: 1e-6 relative). */
static void test_aciq(void)
{
	static const double st[2][2] = {{0.79470956, 0.997344675},
					{1.00194535, 1.41598909}};
	static const double al[2][2][7] = {
		/* normal: laplace prior, gauss prior, M = 2..8 */
		{{2.249571, 3.097166, 3.996308, 4.930987, 5.891282, 6.870757,
		  7.865050},
		 {1.706093, 2.145880, 2.552341, 2.928404, 3.278186, 3.605515,
		  3.913613}},
		/* laplace */
		{{2.836190, 3.904811, 5.038423, 6.216837, 7.427547, 8.662439,
		  9.916012},
		 {2.422241, 3.046632, 3.623709, 4.157628, 4.654235, 5.118962,
		  5.556387}}};
	for (int d = 0; d < 2; d++) {
		double mu, b, sg;
		qs_calib_aciq_stats(X[d], N, &mu, &b, &sg);
		is_rel(b, st[d][0], 1e-7, "%s ACIQ b = mean|x - mean|", dn[d]);
		is_rel(sg, st[d][1], 1e-7, "%s ACIQ sigma (ddof 1)", dn[d]);
		for (int p = 0; p < 2; p++)
			for (int M = 2; M <= 8; M++) {
				qs_aciq_prior pr =
					p ? QS_ACIQ_GAUSS : QS_ACIQ_LAPLACE;
				double a = qs_calib_aciq_ratio(pr, M) *
					   (p ? sg : b);
				is_rel(a, al[d][p][M - 2], 1e-6,
				       "%s ACIQ %s alpha, %d bits", dn[d],
				       p ? "gauss" : "laplace", M);
				qs_calib c = cal(QS_CALIB_ACIQ);
				c.prior = pr;
				qs_grid g;
				qs_grid_default(&g, M, 0, 1, 0);
				float lo, hi;
				qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
				float mx = d ? 0x1.40eea6p+3f : 0x1.0f7930p+2f;
				double want = a < mx ? a : mx;
				is_rel(hi, want, 1e-6,
				       "%s aciq %s %d bits: hi = min(alpha, "
				       "max)",
				       dn[d], p ? "gauss" : "laplace", M);
			}
	}
	/* auto picks the prior with the lower modelled error: Gauss on the
	 * normal data, Laplace on the laplace data (8 bits) */
	qs_calib c = cal(QS_CALIB_ACIQ);
	qs_grid g = grid8(1, 0);
	float lo, hi;
	qs_calib_range(&c, X[0], N, &g, &lo, &hi, NULL);
	is_rel(hi, 3.913613, 1e-6, "normal aciq auto = gauss");
	qs_calib_range(&c, X[1], N, &g, &lo, &hi, NULL);
	is_rel(hi, 9.916012, 1e-6, "laplace aciq auto = laplace");
	/* the tables minimize the models: 9..17 bits grow monotonically */
	int mono = 1;
	for (int M = 2; M <= 17; M++)
		mono &= qs_calib_aciq_ratio(QS_ACIQ_LAPLACE, M) >
				qs_calib_aciq_ratio(QS_ACIQ_LAPLACE, M - 1) &&
			qs_calib_aciq_ratio(QS_ACIQ_GAUSS, M) >
				qs_calib_aciq_ratio(QS_ACIQ_GAUSS, M - 1);
	ok(mono && isnan(qs_calib_aciq_ratio(QS_ACIQ_GAUSS, 18)),
	   "ACIQ tables 1..17 increase, 18 is NaN");
}

static int cmpf(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* Exact percentile: introselect against a sort (Brevitas rank
 * k = floor(0.01 p N + 0.5)), on the data and on inputs that defeat a
 * naive quickselect. */
static void test_percentile(void)
{
	float *s = malloc(N * sizeof *s);
	for (int d = 0; d < 3; d++) {
		qs_grid g = grid8(0, 0);
		memcpy(s, X[d], N * sizeof *s);
		qsort(s, N, sizeof *s, cmpf);
		static const double ps[4] = {50, 99, 99.99, 100};
		int good = 1;
		for (int k = 0; k < 4; k++) {
			qs_calib c = cal(QS_CALIB_PERCENTILE);
			c.percentile = ps[k];
			float lo, hi;
			qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
			size_t kh = (size_t)floor(0.01 * ps[k] * N + 0.5) - 1;
			size_t kl = (size_t)floor(0.01 * (100 - ps[k]) * N + 0.5);
			kl = kl ? kl - 1 : 0;
			good &= hi == s[kh] && lo == s[kl];
		}
		ok(good, "%s asymmetric exact percentiles = sorted order "
			 "statistics", dn[d]);
	}
	/* symmetric: order statistic of |x| */
	for (size_t i = 0; i < N; i++)
		s[i] = fabsf(X[1][i]);
	qsort(s, N, sizeof *s, cmpf);
	qs_calib c = cal(QS_CALIB_PERCENTILE);
	qs_grid g = grid8(1, 0);
	float lo, hi;
	qs_calib_range(&c, X[1], N, &g, &lo, &hi, NULL);
	ok(hi == s[(size_t)floor(0.01 * 99.99 * N + 0.5) - 1] && lo == -hi,
	   "laplace symmetric 99.99: rank of |x|, lo = -hi");
	/* selection on adversarial orders */
	size_t m = 20001;
	float *v = malloc(m * sizeof *v), *w = malloc(m * sizeof *w);
	int good = 1;
	for (int pat = 0; pat < 5; pat++) {
		for (size_t i = 0; i < m; i++) {
			switch (pat) {
			case 0: v[i] = (float)i; break;		   /* sorted */
			case 1: v[i] = (float)(m - i); break;	   /* reversed */
			case 2: v[i] = 7.0f; break;		   /* constant */
			case 3: v[i] = (float)(i < m / 2 ? i : m - i); break;
			default: v[i] = (float)((i * 7919u) % 13u); break;
			}
		}
		memcpy(w, v, m * sizeof *w);
		qsort(w, m, sizeof *w, cmpf);
		for (size_t k = 0; k < m; k += 997) {
			float *t = malloc(m * sizeof *t);
			memcpy(t, v, m * sizeof *t);
			good &= qs_calib_select(t, m, k) == w[k];
			free(t);
		}
	}
	ok(good, "introselect = sort on sorted, reversed, constant, organ "
		 "pipe and repeating inputs");
	free(v);
	free(w);
	free(s);
}

/* The engine's quantizer model of mse_exact, written out independently:
 * symmetric scale amax / (2^(N-1)-1), asymmetric (hi-lo)/(2^N-1) with a
 * rounded, clamped zero point; nearest-even codes. */
static double sse_of(const float *x, size_t n, int bits, int sym, float lo,
		     float hi)
{
	float l0 = lo < 0 ? lo : 0, h0 = hi > 0 ? hi : 0, s, z = 0;
	float qmin = sym ? -(float)((1 << (bits - 1)) - 1) - 1
			 : -(float)(1 << (bits - 1));
	float qmax = (float)((1 << (bits - 1)) - 1);
	if (sym) {
		float a = -l0 > h0 ? -l0 : h0;
		s = a / qmax;
	} else {
		s = (h0 - l0) / (float)((1 << bits) - 1);
		z = qmin - nearbyintf(l0 / s);
		z = z < qmin ? qmin : z > qmax ? qmax : z;
	}
	double e = 0;
	for (size_t i = 0; i < n; i++) {
		float q = nearbyintf(x[i] / s) + z;
		q = q < qmin ? qmin : q > qmax ? qmax : q;
		double d = (double)((q - z) * s) - x[i];
		e += d * d;
	}
	return e;
}

static void test_mse_exact(void)
{
	const size_t n = 20000; /* a prefix keeps the scans quick */
	for (int bits = 4; bits <= 8; bits += 4)
		for (int sym = 0; sym < 2; sym++)
			for (int d = 0; d < 2; d++) {
				qs_grid g;
				qs_grid_default(&g, bits, 0, sym, 0);
				qs_calib c = cal(QS_CALIB_MSE_EXACT);
				float lo, hi;
				qs_calib_range(&c, X[d], n, &g, &lo, &hi, NULL);
				double e = sse_of(X[d], n, bits, sym, lo, hi);
				/* a dense scan of scaled ranges finds nothing
				 * better by more than 0.1%, min/max nothing
				 * better at all */
				double best = INFINITY;
				float mn, mx;
				qs_calib mm = cal(QS_CALIB_MINMAX);
				qs_calib_range(&mm, X[d], n, &g, &mn, &mx, NULL);
				for (int k = 1; k <= 400; k++) {
					float t = (float)k / 400;
					double v = sse_of(X[d], n, bits, sym,
							  t * mn, t * mx);
					best = v < best ? v : best;
				}
				double e1 = sse_of(X[d], n, bits, sym, mn, mx);
				ok(e <= best * 1.001 && e <= e1,
				   "%s mse_exact %d-bit %s: mse %.6g (400-point "
				   "scan %.6g, minmax %.6g)",
				   dn[d], bits, sym ? "sym" : "asym", e / n,
				   best / n, e1 / n);
			}
}

/* Empty, all-NaN, constant, single, all-zero and two-valued runs give a
 * defined range for every method; parameters are checked. */
static void test_edges(void)
{
	float nan4[4] = {NAN, NAN, INFINITY, -INFINITY};
	float cst[5] = {2.5f, 2.5f, NAN, 2.5f, 2.5f};
	float one[1] = {-3.0f};
	float zero[6] = {0, 0, 0, 0, 0, 0};
	float two[6] = {-1, 1, -1, 1, 1, -1};
	qs_grid gs = grid8(1, 0), ga = grid8(0, 0);
	int good = 1, defined = 1;
	for (int m = QS_CALIB_MINMAX; m < QS_CALIB_COUNT; m++) {
		if (m == QS_CALIB_FIXED)
			continue;
		for (int s = 0; s < 2; s++) {
			const qs_grid *g = s ? &gs : &ga;
			qs_calib c = cal((qs_calib_method)m);
			float lo = 9, hi = 9;
			good &= qs_calib_range(&c, NULL, 0, g, &lo, &hi,
					       NULL) == 0 &&
				lo == 0 && hi == 0;
			good &= qs_calib_range(&c, nan4, 4, g, &lo, &hi,
					       NULL) == 0 &&
				lo == 0 && hi == 0;
			good &= qs_calib_range(&c, cst, 5, g, &lo, &hi,
					       NULL) == 0 &&
				lo == 2.5f && hi == 2.5f;
			good &= qs_calib_range(&c, one, 1, g, &lo, &hi,
					       NULL) == 0 &&
				lo == -3 && hi == -3;
			good &= qs_calib_range(&c, zero, 6, g, &lo, &hi,
					       NULL) == 0 &&
				lo == 0 && hi == 0;
			qs_status st =
				qs_calib_range(&c, two, 6, g, &lo, &hi, NULL);
			defined &= st == 0 && lo <= hi && lo >= -1 && hi <= 1 &&
				   isfinite(lo) && isfinite(hi);
		}
	}
	ok(good, "every method: empty/all-NaN [0,0], constant [c,c], single "
		 "[v,v], zeros [0,0]");
	ok(defined, "every method: two-valued run gives a finite range "
		    "inside the data");
	/* extreme magnitudes: near FLT_MAX, denormal, huge outliers among
	 * small values (the anchors' float costs overflow there) */
	float ext[3][64];
	for (int i = 0; i < 64; i++) {
		float u = (float)((i * 37) % 64) / 64.0f - 0.5f;
		ext[0][i] = u * 3.2e38f;
		ext[1][i] = u * 1e-40f;
		ext[2][i] = i % 9 == 0 ? 1e30f : u;
	}
	int fin = 1;
	for (int k = 0; k < 3; k++)
		for (int m = QS_CALIB_MINMAX; m < QS_CALIB_COUNT; m++)
			for (int s = 0; s < 2; s++) {
				qs_calib c = cal((qs_calib_method)m);
				c.hi = 1;
				float lo, hi;
				qs_status st = qs_calib_range(&c, ext[k], 64,
							      s ? &gs : &ga, &lo,
							      &hi, NULL);
				fin &= st == 0 && isfinite(lo) &&
				       isfinite(hi) && lo <= hi;
			}
	ok(fin, "extreme magnitudes: every method gives a finite range");
	/* NaNs are ignored: the same range as without them */
	float *y = malloc((N + N / 10) * sizeof *y);
	size_t k = 0;
	for (size_t i = 0; i < N; i++) {
		y[k++] = X[0][i];
		if (i % 10 == 0)
			y[k++] = NAN;
	}
	int same = 1, near = 1;
	for (int m = QS_CALIB_MINMAX; m < QS_CALIB_FIXED; m++) {
		if (m == QS_CALIB_EMA)
			continue;
		qs_calib c = cal((qs_calib_method)m);
		float a, b, e, f;
		qs_calib_range(&c, X[0], N, &gs, &a, &b, NULL);
		qs_calib_range(&c, y, k, &gs, &e, &f, NULL);
		if (m == QS_CALIB_MSE_EXACT) /* sums regroup: 1e-3 */
			near = fabsf(a - e) <= 1e-3f * fabsf(a) &&
			       fabsf(b - f) <= 1e-3f * fabsf(b);
		else
			same &= a == e && b == f;
	}
	ok(same && near, "NaNs inside a run change no method's range "
			 "(mse_exact: its float sums regroup)");
	free(y);

	qs_error err;
	qs_calib c = cal(QS_CALIB_PERCENTILE);
	c.percentile = 100.5;
	ok(qs_calib_check(&c, &err) == QS_EINVAL &&
		   strstr(err.msg, "(0, 100]"),
	   "percentile 100.5: %s", err.msg);
	c.percentile = -1;
	ok(qs_calib_check(&c, &err) == QS_EINVAL, "percentile -1 rejected");
	c = cal(QS_CALIB_ENTROPY);
	c.bins = 1;
	ok(qs_calib_check(&c, &err) == QS_EINVAL && strstr(err.msg, "2.."),
	   "bins 1: %s", err.msg);
	c = cal(QS_CALIB_EMA);
	c.c = 1.5;
	ok(qs_calib_check(&c, &err) == QS_EINVAL && strstr(err.msg, "(0, 1]"),
	   "c 1.5: %s", err.msg);
	c.c = -0.25;
	ok(qs_calib_check(&c, &err) == QS_EINVAL, "c -0.25 rejected");
	c = cal((qs_calib_method)99);
	ok(qs_calib_check(&c, &err) == QS_EINVAL &&
		   strstr(err.msg, "entropy_ort") && strstr(err.msg, "sqnr"),
	   "unknown method lists the accepted ones: %s", err.msg);
	c = cal(QS_CALIB_FIXED);
	c.lo = 2;
	c.hi = 1;
	ok(qs_calib_check(&c, &err) == QS_EINVAL, "fixed lo > hi: %s",
	   err.msg);
	c = cal(QS_CALIB_ACIQ);
	c.prior = (qs_aciq_prior)7;
	ok(qs_calib_check(&c, &err) == QS_EINVAL && strstr(err.msg, "gauss"),
	   "unknown prior: %s", err.msg);
	c = cal(QS_CALIB_MSE);
	qs_grid g17 = grid8(1, 0);
	g17.bits = 17;
	float lo, hi;
	ok(qs_calib_range(&c, X[0], N, &g17, &lo, &hi, &err) == QS_EINVAL &&
		   strstr(err.msg, "1..16"),
	   "grid bits 17: %s", err.msg);
	int names = 1;
	for (int m = 0; m < QS_CALIB_COUNT; m++) {
		qs_calib_method p;
		names &= qs_calib_parse(qs_calib_name((qs_calib_method)m),
					&p) == 0 &&
			 (int)p == m;
	}
	qs_calib_method p;
	ok(names && qs_calib_parse("kl", &p) == -1,
	   "every method name parses back");
}

/* Other bit widths: every method returns a range inside the data (on a
 * symmetric grid, inside +-max|x|). */
static void test_bits(void)
{
	int good = 1;
	const size_t n = 20000; /* a prefix: its own min and max */
	float mn, mx;
	qs_calib mm = cal(QS_CALIB_MINMAX);
	qs_calib_range(&mm, X[1], n, NULL, &mn, &mx, NULL);
	for (int bits = 2; bits <= 16; bits++)
		for (int s = 0; s < 2; s++) {
			qs_grid g;
			qs_grid_default(&g, bits, 0, s, s);
			for (int m = QS_CALIB_PERCENTILE; m < QS_CALIB_FIXED;
			     m++) {
				qs_calib c = cal((qs_calib_method)m);
				float lo, hi;
				qs_status st = qs_calib_range(&c, X[1], n, &g,
							      &lo, &hi, NULL);
				/* symmetric grids: |lo|, |hi| <= max|x|; affine:
				 * inside [min, max]; sqnr snaps to AIMET's grid
				 * and may pass the data by a few steps */
				float am = -mn > mx ? -mn : mx;
				float sl = m == QS_CALIB_SQNR ? 0.05f * am : 0.0f;
				int in = st == 0 && lo <= hi;
				if (s)
					in &= -lo <= am + sl && hi <= am + sl;
				else
					in &= lo >= mn - sl && hi <= mx + sl;
				if (!in)
					printf("# %d bits %s %s: [%g, %g]\n",
					       bits, s ? "sym" : "asym",
					       qs_calib_name(c.method), lo, hi);
				good &= in;
			}
		}
	ok(good, "2..16 bits, both schemes: every method gives a range "
		 "inside the data");
}

int main(void)
{
	X[0] = tc_load("normal", &N);
	size_t n2 = 0;
	X[1] = tc_load("laplace", &n2);
	if (!X[0] || !X[1] || n2 != N)
		skip_all("tests/data/calib inputs missing");
	X[2] = tc_relu(X[0], N);
	tap_plan(191);
	test_minmax_ema();
	test_nvidia();
	test_ort();
	test_hist_l2();
	test_sqnr();
	test_aciq();
	test_percentile();
	test_mse_exact();
	test_edges();
	test_bits();
	tap_diag("%d of %d float comparisons bit-exact", tc_exact_, tc_ulp_);
	for (int d = 0; d < 3; d++)
		free(X[d]);
	return tap_done();
}
