/* tap.h: a tiny TAP producer for the C unit tests (header-only).
 * ok() and friends print "ok N - name" or "not ok N - name" with the file,
 * line and values on failure; tap_done() checks the plan and returns 0 so a
 * failing test is counted once by the TAP driver. */
#ifndef QS_TESTS_TAP_H
#define QS_TESTS_TAP_H

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static __attribute__((unused)) int tap_n_, tap_planned_ = -1, tap_failed_;

static __attribute__((unused)) void tap_plan(int n)
{
	tap_planned_ = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static __attribute__((unused)) void skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	exit(0);
}

static __attribute__((unused)) void tap_diag(const char *fmt, ...)
{
	va_list ap;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static __attribute__((unused)) int tap_ok_(int cond, const char *file, int line, const char *expr,
		   const char *fmt, ...)
{
	va_list ap;
	tap_n_++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n_);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond) {
		tap_failed_++;
		printf("#   failed at %s:%d: %s\n", file, line, expr);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok_(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

/* |got - want| <= tol (tol absolute); NaN equals NaN; equal infinities pass. */
#define is_double(got, want, tol, name)                                      \
	do {                                                                 \
		double g_ = (got), w_ = (want), t_ = (tol);                  \
		int c_ = (isnan(g_) && isnan(w_)) || g_ == w_ ||            \
			 fabs(g_ - w_) <= t_;                                \
		if (!tap_ok_(c_, __FILE__, __LINE__, #got, "%s", (name)))   \
			printf("#   got %.9g, want %.9g (tol %.3g)\n", g_, w_,  \
			       t_);                                          \
	} while (0)

/* Exact bit equality of two 32-bit patterns. */
#define is_bits(got, want, name)                                             \
	do {                                                                 \
		uint32_t g_ = (uint32_t)(got), w_ = (uint32_t)(want);        \
		if (!tap_ok_(g_ == w_, __FILE__, __LINE__, #got, "%s",      \
			     (name)))                                        \
			printf("#   got 0x%08" PRIx32 ", want 0x%08" PRIx32 \
			       "\n",                                         \
			       g_, w_);                                      \
	} while (0)

static __attribute__((unused)) int tap_done(void)
{
	if (tap_planned_ < 0)
		printf("1..%d\n", tap_n_);
	else if (tap_planned_ != tap_n_)
		printf("# planned %d tests but ran %d\n", tap_planned_, tap_n_);
	fflush(stdout);
	return 0;
}

#endif
