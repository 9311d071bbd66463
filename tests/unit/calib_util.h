/* calib_util.h: shared helpers of the calibration tests: a tiny .npy
 * reader for the v1.0 '<f4' C-order inputs in tests/data/calib, the
 * derived relu input, and float32 ulp comparisons. */
#ifndef QS_TESTS_CALIB_UTIL_H
#define QS_TESTS_CALIB_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#ifndef QS_TEST_DATA
#define QS_TEST_DATA "tests/data"
#endif

/* Load tests/data/calib/<name>.npy ('<f4', C order); NULL on failure. */
static __attribute__((unused)) float *tc_load(const char *name, size_t *n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/calib/%s.npy", QS_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	unsigned char h[10];
	float *x = NULL;
	if (fread(h, 1, 10, f) == 10 && memcmp(h, "\x93NUMPY", 6) == 0 &&
	    h[6] == 1) {
		long off = 10 + (long)(h[8] | (h[9] << 8));
		char hdr[256] = {0};
		size_t hl = (size_t)(off - 10) < sizeof hdr - 1
				    ? (size_t)(off - 10)
				    : sizeof hdr - 1;
		if (fread(hdr, 1, hl, f) == hl && strstr(hdr, "'<f4'") &&
		    strstr(hdr, "False") && fseek(f, 0, SEEK_END) == 0) {
			long sz = ftell(f);
			size_t cnt = (size_t)(sz - off) / 4;
			x = malloc(cnt ? cnt * 4 : 4);
			if (x && fseek(f, off, SEEK_SET) == 0 &&
			    fread(x, 4, cnt, f) == cnt) {
				*n = cnt;
			} else {
				free(x);
				x = NULL;
			}
		}
	}
	fclose(f);
	return x;
}

/* relu.npy of the reference vectors is maximum(normal, 0): rebuilt here
 * (bitwise identical, checked when the data was copied). */
static __attribute__((unused)) float *tc_relu(const float *x, size_t n)
{
	float *r = malloc(n * sizeof *r);
	for (size_t i = 0; r && i < n; i++)
		r[i] = x[i] > 0.0f ? x[i] : 0.0f;
	return r;
}

/* Distance in float32 ulps (ordered bit patterns). */
static __attribute__((unused)) int64_t tc_ulps(float a, float b)
{
	int32_t ia, ib;
	memcpy(&ia, &a, 4);
	memcpy(&ib, &b, 4);
	int64_t oa = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
	int64_t ob = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
	return oa > ob ? oa - ob : ob - oa;
}

static int tc_exact_; /* comparisons that were bit-exact */
static int tc_ulp_;   /* comparisons made under an ulp tolerance */

/* got within tol float32 ulps of want (tol 0: bit-exact). */
#define is_ulps(got, want, tol, ...)                                          \
	do {                                                                  \
		float g_ = (got), w_ = (want);                                \
		int64_t d_ = tc_ulps(g_, w_);                                 \
		tc_ulp_++;                                                    \
		tc_exact_ += d_ == 0;                                         \
		if (!tap_ok_(d_ <= (tol), __FILE__, __LINE__, #got,          \
			     __VA_ARGS__))                                    \
			printf("#   got %.9g (%a), want %.9g (%a): %lld "   \
			       "ulps\n",                                      \
			       g_, g_, w_, w_, (long long)d_);                \
	} while (0)

/* Relative comparison for printed decimal statistics. */
#define is_rel(got, want, rel, ...)                                           \
	do {                                                                  \
		double g_ = (got), w_ = (want);                               \
		int c_ = fabs(g_ - w_) <= (rel)*fabs(w_);                     \
		if (!tap_ok_(c_, __FILE__, __LINE__, #got, __VA_ARGS__))      \
			printf("#   got %.10g, want %.10g (rel %.3g)\n", g_,   \
			       w_, (rel));                                    \
	} while (0)

#endif
