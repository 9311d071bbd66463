/* t_calib_observer: static calibration over batches.  One batch gives
 * exactly qs_calib_range's answer for every method; three batches follow
 * each anchor's merge rule as recorded in tests/data/calib/observer_ref.txt
 * (made by make_observer_ref.py with the anchors' own collection code);
 * EMA over 10 chunks matches PyTorch's MovingAverageMinMaxObserver. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/calib.h"
#include "engine/hist.h"
#include "engine/observer.h"
#include "calib_util.h"

static float *X[2];
static size_t N;
static float *B[3]; /* the reference batches, 30000 each */
static const size_t BN = 30000;

static qs_calib cal(qs_calib_method m)
{
	qs_calib c;
	memset(&c, 0, sizeof c);
	c.method = m;
	return c;
}

static qs_observer *feed(qs_calib_method m, const qs_grid *g)
{
	qs_calib c = cal(m);
	qs_observer *o = qs_observer_new(&c, g, NULL);
	for (int k = 0; o && k < 3; k++)
		qs_observer_add(o, B[k], BN, NULL);
	return o;
}

static void sums(const qs_hist *h, double *s, double *c)
{
	*s = *c = 0;
	for (int64_t i = 0; i < h->nbins; i++) {
		*s += h->count[i];
		*c += (double)i * h->count[i];
	}
}

static void test_single_batch(void)
{
	int same = 1;
	for (int d = 0; d < 2; d++)
		for (int s = 0; s < 2; s++)
			for (int m = 0; m < QS_CALIB_COUNT; m++) {
				qs_grid g;
				qs_grid_default(&g, 8, 0, s, 0);
				qs_calib c = cal((qs_calib_method)m);
				c.lo = -1;
				c.hi = 2;
				qs_observer *o = qs_observer_new(&c, &g, NULL);
				qs_observer_add(o, X[d], N, NULL);
				float a, b, e, f;
				qs_status s1 = qs_observer_range(o, &c, &g, &a,
								 &b, NULL);
				qs_status s2 = qs_calib_range(&c, X[d], N, &g, &e,
							      &f, NULL);
				if (!(s1 == 0 && s2 == 0 && a == e && b == f)) {
					printf("# %s: observer [%g, %g], range "
					       "[%g, %g]\n",
					       qs_calib_name(c.method), a, b, e,
					       f);
					same = 0;
				}
				qs_observer_free(o);
			}
	ok(same, "one batch: the observer's range equals qs_calib_range "
		 "for every method, both schemes, two inputs");
}

static void test_merges(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/calib/observer_ref.txt", QS_TEST_DATA);
	FILE *f = fopen(path, "r");
	char line[1024];
	long long nb = 0, ne = 0, first = 0, last = 0;
	double le = 0, s = 0, c = 0, p = 0, e = 0, mn = 0, mx = 0, lo = 0,
	       hi = 0, th = 0;
	int seen = 0;
	while (f && fgets(line, sizeof line, f)) {
		qs_grid gs, ga;
		qs_grid_default(&gs, 8, 0, 1, 1);
		qs_grid_default(&ga, 8, 0, 0, 0);
		double hs, hc;
		float a, b;
		if (sscanf(line,
			   "nvidia nbins %lld nedges %lld last_edge %la sum "
			   "%lf checksum %lf p9999 %la entropy %la",
			   &nb, &ne, &le, &s, &c, &p, &e) == 7) {
			seen++;
			qs_observer *o = feed(QS_CALIB_ENTROPY, &gs);
			const qs_hist *h = qs_observer_hist(o);
			sums(h, &hs, &hc);
			ok(h->nbins == nb && h->nedges == ne,
			   "NVIDIA merge: %lld bins, %lld edges (arange)",
			   (long long)h->nbins, (long long)h->nedges);
			is_ulps(h->edges[h->nedges - 1], (float)le, 0,
				"NVIDIA merge: last edge");
			ok(hs == s && hc == c, "NVIDIA merge: counts (sum %.0f, "
					       "checksum %.0f)",
			   hs, hc);
			qs_calib pc = cal(QS_CALIB_PERCENTILE_HIST);
			qs_observer_range(o, &pc, &gs, &a, &b, NULL);
			is_ulps(-a > b ? -a : b, (float)p, 1,
				"NVIDIA merged percentile 99.99 amax");
			pc = cal(QS_CALIB_ENTROPY);
			qs_observer_range(o, &pc, &gs, &a, &b, NULL);
			is_ulps(-a > b ? -a : b, (float)e, 1,
				"NVIDIA merged entropy amax");
			qs_observer_free(o);
		} else if (sscanf(line,
				  "torch min %la max %la sum %lf checksum %lf "
				  "search %la %la",
				  &mn, &mx, &s, &c, &lo, &hi) == 6) {
			seen++;
			qs_observer *o = feed(QS_CALIB_HIST_L2, &ga);
			const qs_hist *h = qs_observer_hist(o);
			sums(h, &hs, &hc);
			ok(h->lo == (float)mn && h->hi == (float)mx,
			   "PyTorch merge: range is the running min/max");
			is_rel(hs, s, 1e-12, "PyTorch merge: total");
			is_rel(hc, c, 1e-12, "PyTorch merge: checksum "
					     "(upscale x16, bucketize, "
					     "bincount)");
			qs_calib pc = cal(QS_CALIB_HIST_L2);
			qs_observer_range(o, &pc, &ga, &a, &b, NULL);
			is_ulps(a, (float)lo, 1, "PyTorch merged search lo");
			is_ulps(b, (float)hi, 1, "PyTorch merged search hi");
			qs_observer_free(o);
		} else if (sscanf(line,
				  "ort nbins %lld threshold %lf first_edge %la "
				  "sum %lf checksum %lf p9999 %la %la",
				  &nb, &th, &le, &s, &c, &lo, &hi) == 7) {
			seen++;
			qs_observer *o = feed(QS_CALIB_ENTROPY_ORT, &ga);
			const qs_hist *h = qs_observer_hist(o);
			sums(h, &hs, &hc);
			ok(h->nbins == nb && h->thresh == th,
			   "ORT merge: %lld bins, threshold %.17g",
			   (long long)h->nbins, h->thresh);
			is_ulps(h->edges[0], (float)le, 0, "ORT merge: first "
							   "edge");
			ok(hs == s && hc == c, "ORT merge: counts");
			qs_calib pc = cal(QS_CALIB_PERCENTILE_HIST);
			qs_observer_range(o, &pc, &ga, &a, &b, NULL);
			is_ulps(a, (float)lo, 1, "ORT merged percentile lo");
			is_ulps(b, (float)hi, 1, "ORT merged percentile hi");
			qs_observer_free(o);
		} else if (sscanf(line,
				  "aimet first %lld last %lld sum %lf checksum "
				  "%lf",
				  &first, &last, &s, &c) == 4) {
			seen++;
			qs_observer *o = feed(QS_CALIB_SQNR, &ga);
			const qs_hist *h = qs_observer_hist(o);
			sums(h, &hs, &hc);
			long long f0 = -1, f1 = -1;
			for (int64_t i = 0; i < h->nbins; i++)
				if (h->count[i] > 0) {
					f1 = i;
					if (f0 < 0)
						f0 = i;
				}
			ok(f0 == first && f1 == last,
			   "AIMET merge: buckets %lld..%lld", f0, f1);
			is_rel(hs, s, 1e-12, "AIMET merge: probabilities sum");
			is_rel(hc, c, 1e-12, "AIMET merge: batch-averaged PDF");
			qs_observer_free(o);
		}
	}
	if (f)
		fclose(f);
	ok(seen == 4, "observer_ref.txt: four anchors read");
}

static void test_streams(void)
{
	/* EMA over 10 chunks: PyTorch MovingAverageMinMaxObserver */
	qs_calib c = cal(QS_CALIB_EMA);
	qs_observer *o = qs_observer_new(&c, NULL, NULL);
	for (int k = 0; k < 10; k++)
		qs_observer_add(o, X[0] + 10000 * k, 10000, NULL);
	float lo, hi;
	qs_observer_range(o, &c, NULL, &lo, &hi, NULL);
	is_ulps(lo, -0x1.e2696cp+1f, 0, "EMA observer 10 chunks lo");
	is_ulps(hi, 0x1.e6ab98p+1f, 0, "EMA observer 10 chunks hi");
	qs_calib mm = cal(QS_CALIB_MINMAX);
	qs_observer_range(o, &mm, NULL, &lo, &hi, NULL);
	ok(lo == -0x1.368918p+2f && hi == 0x1.0f7930p+2f,
	   "the same observer answers minmax");
	ok(qs_observer_batches(o) == 10 && qs_observer_count(o) == 1e5,
	   "10 batches, 100000 values");
	qs_observer_free(o);
	/* data methods keep the values: chunks = one run */
	c = cal(QS_CALIB_PERCENTILE);
	c.percentile = 99.9;
	qs_grid g;
	qs_grid_default(&g, 8, 0, 0, 0);
	o = qs_observer_new(&c, &g, NULL);
	for (int k = 0; k < 7; k++)
		qs_observer_add(o, X[1] + 10000 * k, 10000, NULL);
	float a, b;
	qs_observer_range(o, &c, &g, &lo, &hi, NULL);
	qs_calib_range(&c, X[1], 70000, &g, &a, &b, NULL);
	ok(lo == a && hi == b, "percentile observer over 7 chunks = one run");
	c.method = QS_CALIB_ACIQ;
	qs_observer_range(o, &c, &g, &lo, &hi, NULL);
	qs_calib_range(&c, X[1], 70000, &g, &a, &b, NULL);
	ok(lo == a && hi == b, "and answers aciq from the same values");
	qs_error err;
	c.method = QS_CALIB_ENTROPY;
	ok(qs_observer_range(o, &c, &g, &lo, &hi, &err) == QS_EINVAL &&
		   strstr(err.msg, "histogram"),
	   "no histogram kept: %s", err.msg);
	qs_observer_free(o);
	/* a constant batch before the histogram starts is kept as a weight */
	float z[100] = {0};
	c = cal(QS_CALIB_ENTROPY);
	o = qs_observer_new(&c, NULL, NULL);
	qs_observer_add(o, z, 100, NULL);
	qs_observer_range(o, &c, NULL, &lo, &hi, NULL);
	ok(lo == 0 && hi == 0 && qs_observer_hist(o)->started == 0,
	   "all-zero first batch: range [0, 0], histogram not started");
	qs_observer_add(o, X[0], N, NULL);
	double s, cs;
	sums(qs_observer_hist(o), &s, &cs);
	ok(s == 100 + 1e5 && qs_observer_hist(o)->count[0] >= 100,
	   "then the zeros land in bin 0 of the started histogram");
	c.method = QS_CALIB_HIST_L2;
	ok(qs_observer_range(o, &c, NULL, &lo, &hi, &err) == QS_EINVAL,
	   "another histogram kind: %s", err.msg);
	qs_observer_free(o);
	/* empty and non-finite batches */
	c = cal(QS_CALIB_MSE);
	o = qs_observer_new(&c, NULL, NULL);
	qs_observer_range(o, &c, NULL, &lo, &hi, NULL);
	ok(lo == 0 && hi == 0, "no batch: [0, 0]");
	float nn[3] = {NAN, INFINITY, NAN};
	qs_observer_add(o, nn, 3, NULL);
	qs_observer_add(o, NULL, 0, NULL);
	qs_observer_range(o, &c, NULL, &lo, &hi, NULL);
	ok(lo == 0 && hi == 0 && qs_observer_batches(o) == 2 &&
		   qs_observer_count(o) == 0,
	   "non-finite and empty batches count as batches, add nothing");
	qs_observer_free(o);
	c = cal(QS_CALIB_PERCENTILE);
	c.percentile = 250;
	ok(qs_observer_new(&c, NULL, &err) == NULL &&
		   strstr(err.msg, "(0, 100]"),
	   "bad parameters: %s", err.msg);
}

int main(void)
{
	X[0] = tc_load("normal", &N);
	size_t n2 = 0;
	X[1] = tc_load("laplace", &n2);
	if (!X[0] || !X[1] || n2 != N)
		skip_all("tests/data/calib inputs missing");
	for (int k = 0; k < 3; k++)
		B[k] = malloc(BN * sizeof(float));
	for (size_t i = 0; i < BN; i++) {
		B[0][i] = X[0][i];
		B[1][i] = X[1][i] * 0.7f;
		B[2][i] = X[0][30000 + i] * 0.5f;
	}
	tap_plan(33);
	test_single_batch();
	test_merges();
	test_streams();
	for (int k = 0; k < 3; k++)
		free(B[k]);
	free(X[0]);
	free(X[1]);
	return tap_done();
}
