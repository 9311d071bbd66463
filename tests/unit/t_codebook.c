/* t_codebook: binary/ternary weights and 1-D k-means against the
 * [binary/ternary] and [kmeans-1d] vectors; the optimal k-means against
 * brute force (all assignments for small n, all interval partitions, and a
 * quadratic DP), Lloyd's inits, grouping, edge cases; log2 grids. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codebook.h"
#include "fmt_vectors.h"
#include "round.h"
#include "tap.h"

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (double)(rs >> 11) * 0x1p-53;
}

/* Parse "[[a, b, ...], [c, ...]]" or "[a, ...]" into v. */
static int list_floats(const char *s, float *v, int max)
{
	int n = 0;
	char *e;
	while (*s && n < max) {
		while (*s && strchr("[], '()", *s))
			s++;
		if (!*s || *s == '|')
			break;
		double d = strtod(s, &e);
		if (e == s)
			break;
		v[n++] = (float)d;
		s = e;
	}
	return n;
}

static void test_binary_ternary(void)
{
	const char *hdr = fv_header("binary/ternary");
	float w[16];
	const char *rows = strstr(hdr, "W rows: ") + 8;
	int nw = fv_floats(rows, w, 8);
	nw += fv_floats(strchr(rows, '|') + 1, w + 8, 8);
	ok(nw == 16, "W: 16 values");
	const char *p = fv_section("binary/ternary");
	char line[4096];
	while (p && fv_line(&p, line, sizeof line)) {
		if (!strncmp(line, "XNOR/BWN alpha(per row)=", 24)) {
			float al[2], wb[16];
			list_floats(line + 24, al, 2);
			list_floats(strstr(line, "Wb(sign(0)=+1)=") + 15, wb, 16);
			int bad = 0;
			for (int r = 0; r < 2; r++) {
				float a = -1, y[8];
				qs_codebook_binary(w + 8 * r, 8, 1, &a, y, NULL,
						   NULL);
				bad += fv_bits(a) != fv_bits(al[r]);
				for (int i = 0; i < 8; i++)
					bad += fv_bits(y[i]) != fv_bits(wb[8 * r + i]);
			}
			ok(bad == 0, "BWN alpha = mean|w| per row, sign(0) = +1");
		} else if (!strncmp(line, "XNOR torch.sign variant", 23)) {
			float wb[16];
			list_floats(strchr(line, ':') + 1, wb, 16);
			int bad = 0;
			for (int r = 0; r < 2; r++) {
				float a = -1, y[8];
				int8_t c[8];
				qs_codebook_binary(w + 8 * r, 8, 0, &a, y, c, NULL);
				for (int i = 0; i < 8; i++)
					bad += y[i] != wb[8 * r + i];
				bad += c[r ? 6 : 4] != 0;
			}
			ok(bad == 0, "BWN with torch.sign: sign(0) = 0");
		} else if (!strncmp(line, "TWN per-row:", 12)) {
			float da[4], wt[16];
			list_floats(strstr(line, "delta,alpha=") + 12, da, 4);
			list_floats(strstr(line, "W=") + 2, wt, 16);
			int bad = 0;
			for (int r = 0; r < 2; r++) {
				float d, a, y[8];
				qs_codebook_ternary(w + 8 * r, 8, &d, &a, y, NULL,
						    NULL);
				bad += fv_bits(d) != fv_bits(da[2 * r]);
				bad += fv_bits(a) != fv_bits(da[2 * r + 1]);
				for (int i = 0; i < 8; i++)
					bad += fv_bits(y[i]) != fv_bits(wt[8 * r + i]);
			}
			ok(bad == 0, "TWN per row: delta, alpha, W bit for bit");
		} else if (!strncmp(line, "TWN per-layer:", 14)) {
			float da[2], wt[16], y[16], d, a;
			list_floats(strstr(line, "delta,alpha=") + 12, da, 2);
			list_floats(strstr(line, "W=") + 2, wt, 16);
			qs_codebook_ternary(w, 16, &d, &a, y, NULL, NULL);
			int bad = fv_bits(d) != fv_bits(da[0]) ||
				  fv_bits(a) != fv_bits(da[1]);
			for (int i = 0; i < 16; i++)
				bad += fv_bits(y[i]) != fv_bits(wt[i]);
			ok(bad == 0, "TWN per layer (float32 pairwise means)");
		} else if (!strncmp(line, "TTQ t=0.05", 10)) {
			float dw[1], wt[16], y[16], d;
			list_floats(strstr(line, "delta=") + 6, dw, 1);
			list_floats(strstr(line, "W=") + 2, wt, 16);
			qs_codebook_ttq(w, 16, 0.05f, 0.8f, 0.6f, &d, y, NULL,
					NULL);
			int bad = fv_bits(d) != fv_bits(dw[0]);
			for (int i = 0; i < 16; i++)
				bad += y[i] != wt[i];
			ok(bad == 0, "TTQ: delta = t max|w|, +wp / -wn / 0");
		} else if (!strncmp(line, "BinaryConnect stochastic", 24)) {
			/* P(+1) = hard_sigmoid(0.2) = 0.6: check the rate */
			enum { N = 100000 };
			static float x[N], y[N];
			for (int i = 0; i < N; i++)
				x[i] = 0.2f;
			qs_codebook_binary_stochastic(x, N, 3, 0, y, NULL);
			int up = 0;
			for (int i = 0; i < N; i++)
				up += y[i] > 0;
			is_double(up / (double)N, 0.6, 0.006,
				  "BinaryConnect: P(+1) = clip((w+1)/2) = 0.6");
		}
	}
	/* edges: all zero, NaN, empty */
	float z[4] = {0, 0, -0.0f, 0}, y[4], d, a;
	int8_t c[4];
	ok(qs_codebook_ternary(z, 4, &d, &a, y, c, NULL) == QS_OK && a == 0 &&
		   y[2] == 0 && c[0] == 0,
	   "TWN all-zero run: alpha 0, no 0/0");
	a = -1;
	qs_codebook_binary(z, 4, 1, &a, y, c, NULL);
	ok(a == 0 && c[2] == 1, "binary all-zero: alpha 0, sign(-0) = +1");
	float nn[3] = {1.0f, NAN, -2.0f};
	a = -1;
	qs_codebook_binary(nn, 3, 1, &a, y, NULL, NULL);
	ok(isnan(a) && isnan(y[1]), "binary: NaN propagates into alpha");
	a = 0.5f;
	qs_codebook_binary(nn, 3, 1, &a, y, NULL, NULL);
	ok(y[0] == 0.5f && isnan(y[1]) && y[2] == -0.5f,
	   "binary with a given alpha");
	ok(qs_codebook_mean_abs(NULL, 0) == 0.0f, "mean of nothing is 0");
	/* mean_abs: pairwise float32 (numpy): 1e8 + 1 + ... */
	static float big[1000];
	for (int i = 0; i < 1000; i++)
		big[i] = (i % 3) ? 0.1f : -0.7f;
	double s = 0;
	for (int i = 0; i < 1000; i++)
		s += fabs(big[i]);
	is_double(qs_codebook_mean_abs(big, 1000), s / 1000, 1e-6,
		  "mean |x| of 1000 values (pairwise)");
}

/* Brute force over every assignment of n <= 9 values to k labels. */
static double brute_assign(const double *x, int n, int k)
{
	double best = INFINITY;
	int lab[16];
	long total = 1;
	for (int i = 0; i < n; i++)
		total *= k;
	for (long t = 0; t < total; t++) {
		long u = t;
		for (int i = 0; i < n; i++) {
			lab[i] = (int)(u % k);
			u /= k;
		}
		double sse = 0;
		for (int c = 0; c < k; c++) {
			double s = 0, w = 0;
			for (int i = 0; i < n; i++)
				if (lab[i] == c) {
					s += x[i];
					w++;
				}
			if (w == 0)
				continue;
			double mu = s / w;
			for (int i = 0; i < n; i++)
				if (lab[i] == c)
					sse += (x[i] - mu) * (x[i] - mu);
		}
		if (sse < best)
			best = sse;
	}
	return best;
}

/* Quadratic reference DP on sorted values (Wang & Song 2011). */
static double ref_dp(const double *xs, int n, int k)
{
	double *D = malloc(sizeof(double) * (size_t)(k + 1) * (size_t)(n + 1));
	for (int j = 0; j <= n; j++)
		D[j] = j ? INFINITY : 0;
	for (int q = 1; q <= k; q++) {
		D[q * (n + 1)] = INFINITY;
		for (int j = 1; j <= n; j++) {
			double best = INFINITY, s = 0, s2 = 0;
			for (int i = j; i >= 1; i--) { /* last cluster i..j */
				s += xs[i - 1];
				s2 += xs[i - 1] * xs[i - 1];
				double w = j - i + 1;
				double c = s2 - s * s / w;
				double v = D[(q - 1) * (n + 1) + i - 1] + (c > 0 ? c : 0);
				if (v < best)
					best = v;
			}
			D[q * (n + 1) + j] = best;
		}
	}
	double r = D[k * (n + 1) + n];
	free(D);
	return r;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void test_kmeans_vectors(void)
{
	const char *p = fv_section("kmeans-1d");
	const char *hdr = fv_header("kmeans-1d");
	float x[16];
	int n = list_floats(strstr(hdr, "x=[") + 2, x, 16);
	char line[1024];
	while (p && fv_line(&p, line, sizeof line)) {
		if (!strncmp(line, "k=", 2)) {
			int k = atoi(line + 2);
			float wc[8], wl[16], lc[8];
			double sse = strtod(strstr(line, "SSE=") + 4, NULL);
			list_floats(strstr(line, "centroids=") + 10, wc, k);
			list_floats(strstr(line, "labels=") + 7, wl, n);
			const char *ll = strstr(line, "lloyd(linear init) centroids=");
			list_floats(ll + 30, lc, k);
			double lsse = strtod(strstr(ll, "SSE=") + 4, NULL);
			double bsse = strtod(strstr(line, "brute SSE=") + 10, NULL);
			qs_kmeans_opts o;
			qs_kmeans_default(&o);
			o.k = k;
			float c[8];
			uint16_t lab[16];
			qs_kmeans_result r;
			qs_codebook_kmeans(x, n, &o, c, lab, NULL, &r, NULL);
			int bad = 0;
			for (int i = 0; i < k; i++)
				bad += fabs(c[i] - wc[i]) > 1e-6;
			for (int i = 0; i < n; i++)
				bad += lab[i] != (uint16_t)wl[i];
			ok(bad == 0 && fabs(r.sse - sse) < 1e-6 &&
				   fabs(r.sse - bsse) < 1e-6,
			   "[kmeans-1d] k=%d optimal: centroids, labels, SSE "
			   "%.9g (brute %.9g)",
			   k, r.sse, bsse);
			double xd[16];
			for (int i = 0; i < n; i++)
				xd[i] = x[i];
			is_double(brute_assign(xd, n, k), bsse, 1e-6,
				  "our brute force agrees");
			o.init = QS_KMEANS_LINEAR;
			qs_codebook_kmeans(x, n, &o, c, lab, NULL, &r, NULL);
			bad = 0;
			for (int i = 0; i < k; i++)
				bad += fabs(c[i] - lc[i]) > 1e-6;
			ok(bad == 0 && fabs(r.sse - lsse) < 1e-6,
			   "[kmeans-1d] k=%d Lloyd from linear init: SSE %.9g",
			   k, r.sse);
		} else if (!strncmp(line, "x=", 2)) {
			float x2[16];
			int n2 = list_floats(line + 2, x2, 16);
			qs_kmeans_opts o;
			qs_kmeans_default(&o);
			o.k = 3;
			float c[3];
			qs_kmeans_result r;
			qs_codebook_kmeans(x2, n2, &o, c, NULL, NULL, &r, NULL);
			ok(n2 == 10 && c[0] == 0 && c[1] == 1 && c[2] == 10 &&
				   r.sse == 0,
			   "[kmeans-1d] zeros, 1, 10: optimal SSE 0");
			o.init = QS_KMEANS_LINEAR;
			qs_codebook_kmeans(x2, n2, &o, c, NULL, NULL, &r, NULL);
			ok(fabs(c[0] - 1.0 / 9) < 1e-6 && c[1] == 5.0f &&
				   fabs(r.sse - 0.888888888889) < 1e-9,
			   "[kmeans-1d] linear init keeps an empty cluster at 5 "
			   "(SSE %.9g)",
			   r.sse);
		}
	}
}

static void test_kmeans_brute(void)
{
	/* all assignments, small n */
	int bad = 0, cases = 0;
	for (int t = 0; t < 60; t++) {
		int n = 3 + t % 6, k = 1 + t % 4;
		float x[9];
		double xd[9];
		for (int i = 0; i < n; i++) {
			x[i] = (float)(urand() * 10 - 5);
			if (t % 5 == 0 && i > 1)
				x[i] = x[i - 2]; /* duplicates */
			xd[i] = x[i];
		}
		qs_kmeans_opts o;
		qs_kmeans_default(&o);
		o.k = k;
		float c[4];
		qs_kmeans_result r;
		qs_codebook_kmeans(x, n, &o, c, NULL, NULL, &r, NULL);
		double b = brute_assign(xd, n, k);
		cases++;
		if (fabs(r.sse - b) > 1e-9 * (1 + b) + 1e-9 && bad++ < 3)
			tap_diag("n=%d k=%d: %.12g vs brute %.12g", n, k, r.sse,
				 b);
	}
	ok(bad == 0, "optimal = brute force over all k^n assignments (%d cases)",
	   cases);
	/* quadratic DP, n = 400, various k, with Lloyd never better */
	bad = 0;
	int lloyd_worse = 0;
	for (int t = 0; t < 12; t++) {
		enum { N = 400 };
		float x[N];
		double xs[N];
		for (int i = 0; i < N; i++) {
			double u = urand();
			x[i] = (float)(t % 2 ? pow(u, 3) * 50 : (u - 0.5) * 4 +
								     (i % 5) * 3);
			if (t % 3 == 0)
				x[i] = roundf(x[i] * 4) / 4; /* many ties */
			xs[i] = x[i];
		}
		qsort(xs, N, sizeof xs[0], cmpd);
		int k = 2 + t * 3;
		qs_kmeans_opts o;
		qs_kmeans_default(&o);
		o.k = k;
		float c[64];
		uint16_t lab[N];
		float y[N];
		qs_kmeans_result r;
		qs_codebook_kmeans(x, N, &o, c, lab, y, &r, NULL);
		double ref = ref_dp(xs, N, k < r.k_used ? k : r.k_used);
		double chk = 0;
		for (int i = 0; i < N; i++) {
			chk += ((double)x[i] - c[lab[i]]) * ((double)x[i] - c[lab[i]]);
			bad += y[i] != c[lab[i]];
		}
		if (fabs(r.sse - ref) > 1e-7 * (1 + ref) ||
		    fabs(chk - r.sse) > 1e-7 * (1 + ref)) {
			if (bad++ < 3)
				tap_diag("t=%d k=%d: %.12g ref %.12g labels %.12g",
					 t, k, r.sse, ref, chk);
		}
		for (int in = 0; in < 3; in++) {
			qs_kmeans_result rl;
			o.init = (qs_kmeans_init)in;
			o.seed = (uint64_t)t;
			qs_codebook_kmeans(x, N, &o, c, NULL, NULL, &rl, NULL);
			lloyd_worse += rl.sse < r.sse * (1 - 1e-12) - 1e-12;
		}
	}
	ok(bad == 0, "optimal = quadratic reference DP (n = 400, k = 2..35)");
	/* large enough for the rows to be cut into pieces (threads) */
	{
		enum { N = 4500 };
		static float x[N];
		static double xs[N];
		for (int i = 0; i < N; i++) {
			x[i] = (float)(urand() * urand() * 10);
			xs[i] = x[i];
		}
		qsort(xs, N, sizeof xs[0], cmpd);
		qs_kmeans_opts o;
		qs_kmeans_default(&o);
		o.k = 4;
		float c[4];
		qs_kmeans_result r;
		qs_codebook_kmeans(x, N, &o, c, NULL, NULL, &r, NULL);
		double ref = ref_dp(xs, N, 4);
		ok(r.points > 4100 && fabs(r.sse - ref) <= 1e-9 * ref,
		   "optimal = reference DP on %lld points (rows in pieces): "
		   "%.12g vs %.12g",
		   (long long)r.points, r.sse, ref);
	}
	ok(lloyd_worse == 0, "no Lloyd run beats the optimum");
}

static void test_kmeans_misc(void)
{
	qs_kmeans_opts o;
	qs_kmeans_default(&o);
	qs_error err;
	float c[8];
	qs_kmeans_result r;
	/* fewer distinct values than k */
	float x[6] = {2, 2, -1, 2, -1, 5};
	uint16_t lab[6];
	float y[6];
	o.k = 5;
	ok(qs_codebook_kmeans(x, 6, &o, c, lab, y, &r, &err) == QS_OK &&
		   r.k_used == 3 && c[0] == -1 && c[1] == 2 && c[2] == 5 &&
		   c[4] == 5 && r.sse == 0 && lab[5] == 2 && y[2] == -1,
	   "3 distinct values, k = 5: each value is a centroid");
	o.k = 1;
	qs_codebook_kmeans(x, 6, &o, c, NULL, NULL, &r, NULL);
	ok(fabsf(c[0] - 1.5f) < 1e-6, "k = 1: the mean");
	o.k = 2;
	float nz[4] = {-0.0f, 0.0f, 1, 1};
	qs_codebook_kmeans(nz, 4, &o, c, NULL, NULL, &r, NULL);
	ok(r.k_used == 2 && c[0] == 0 && c[1] == 1, "-0 and +0 are one value");
	float bad[3] = {1, NAN, 2};
	ok(qs_codebook_kmeans(bad, 3, &o, c, NULL, NULL, &r, &err) ==
			   QS_EINVAL &&
		   strstr(err.msg, "x[1]"),
	   "NaN rejected: %s", err.msg);
	o.k = 0;
	ok(qs_codebook_kmeans(x, 6, &o, c, NULL, NULL, &r, &err) == QS_EINVAL,
	   "k = 0 rejected: %s", err.msg);
	o.k = 4;
	ok(qs_codebook_kmeans(x, 0, &o, c, NULL, NULL, &r, &err) == QS_OK &&
		   r.k_used == 0,
	   "empty run");
	/* grouping for large n*k: never better than exact, close to it */
	enum { N = 20000 };
	static float xs[N];
	for (int i = 0; i < N; i++)
		xs[i] = (float)(sin(i * 0.7) * exp(urand()));
	qs_kmeans_result re, rg;
	o.k = 8;
	qs_codebook_kmeans(xs, N, &o, c, NULL, NULL, &re, NULL);
	o.max_cells = 8 * 500;
	qs_codebook_kmeans(xs, N, &o, c, NULL, NULL, &rg, NULL);
	ok(re.grouped == 0 && rg.grouped == 1 && rg.points <= 500 &&
		   rg.sse >= re.sse * (1 - 1e-12) && rg.sse < re.sse * 1.05,
	   "grouped DP (%lld groups): SSE %.6g vs exact %.6g",
	   (long long)rg.points, rg.sse, re.sse);
	/* seeds: deterministic, different seeds may differ */
	qs_kmeans_result a1, a2;
	float c1[8], c2[8];
	o.max_cells = (int64_t)1 << 25;
	o.init = QS_KMEANS_PLUSPLUS;
	o.seed = 5;
	qs_codebook_kmeans(xs, N, &o, c1, NULL, NULL, &a1, NULL);
	qs_codebook_kmeans(xs, N, &o, c2, NULL, NULL, &a2, NULL);
	ok(!memcmp(c1, c2, sizeof c1) && a1.sse == a2.sse && a1.iterations > 0,
	   "k-means++ is deterministic for a seed (%d iterations)",
	   a1.iterations);
	o.init = QS_KMEANS_RANDOM;
	qs_codebook_kmeans(xs, N, &o, c1, NULL, NULL, &a1, NULL);
	ok(a1.sse >= re.sse * (1 - 1e-12) && a1.k_used == 8,
	   "random init: SSE %.6g >= optimum", a1.sse);
	qs_kmeans_init in;
	ok(qs_kmeans_init_parse("kmeans++", &in) == 0 &&
		   in == QS_KMEANS_PLUSPLUS &&
		   qs_kmeans_init_parse("optimal", &in) == 0 &&
		   qs_kmeans_init_parse("best", &in) < 0 &&
		   !strcmp(qs_kmeans_init_name(QS_KMEANS_LINEAR), "linear"),
	   "init names");
}

static void test_log2(void)
{
	float x[8] = {1.0f, 1.41f, 1.42f, -3.0f, 0.01f, 0.0f, 100.0f, 1.5f};
	float y[8];
	int16_t c[8];
	int64_t clip;
	int emax = 2;
	qs_error err;
	ok(qs_codebook_log2(x, 8, 4, &emax, 1, y, c, &clip, &err) == QS_OK,
	   "log2, 4 bits");
	/* L = 7 exponents: 2^-4 .. 2^2 */
	ok(y[0] == 1 && y[1] == 1 && y[2] == 2 && y[3] == -4 &&
		   y[4] == 0 && y[5] == 0 && y[6] == 4 && y[7] == 2 &&
		   clip == 1,
	   "log-domain rounding (threshold sqrt 2), clip, zero");
	ok(c[0] == 5 && c[3] == -7 && c[4] == 0 && c[6] == 7,
	   "codes: sign * (e - emin + 1)");
	qs_codebook_log2(x, 8, 4, &emax, 0, y, NULL, NULL, &err);
	ok(y[1] == 1 && y[2] == 1 && y[7] == 2 && y[3] == -4,
	   "value rounding (threshold 1.5, ties up)");
	float t[3] = {0.0625f, 0.03125f, 0.0313f};
	qs_codebook_log2(t, 3, 4, &emax, 1, y, NULL, NULL, &err);
	ok(y[0] == 0.0625f && y[1] == 0 && y[2] == 0.0625f,
	   "below 2^emin: nearest of 0 and 2^emin");
	emax = INT32_MIN;
	qs_codebook_log2(x, 8, 8, &emax, 1, y, NULL, &clip, &err);
	ok(emax == 7 && clip == 0 && y[6] == 128,
	   "automatic emax from max|x| (100 -> 2^7)");
	ok(qs_codebook_log2(x, 8, 1, &emax, 1, y, NULL, NULL, &err) ==
		   QS_EINVAL,
	   "1 bit rejected: %s", err.msg);
}

int main(void)
{
	if (!fv_load())
		skip_all("tests/data/formats/formats_vectors.txt missing");
	test_binary_ternary();
	test_kmeans_vectors();
	test_kmeans_brute();
	test_kmeans_misc();
	test_log2();
	return tap_done();
}
