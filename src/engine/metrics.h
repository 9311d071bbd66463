/* metrics: the error of a reconstruction y of a reference x.
 *
 * Accumulated in fixed-size chunks with double partials, so sums do not
 * depend on thread count.  Non-finite reference values are counted and
 * left out of every sum.  Pure C11 + libm. */
#ifndef QS_ENGINE_METRICS_H
#define QS_ENGINE_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct qs_metrics {
	double mse;      /* mean (y - x)^2 over finite x */
	double rmse;     /* sqrt(mse) */
	double sqnr_db;  /* 10 log10(sum x^2 / sum (y-x)^2); +inf when exact */
	double max_abs;  /* max |y - x| */
	double mean_abs; /* mean |y - x| */
	double cosine;   /* sum xy / sqrt(sum x^2 sum y^2); 1 when both 0 */
	double clipped;  /* fraction of finite x outside the grid's range */
	double bias;     /* mean (y - x) */
	int64_t count;   /* finite reference values */
	int64_t n_clipped;
	int64_t nan, inf;          /* non-finite reference values */
	/* float formats (0 for integer grids) */
	int64_t underflow; /* nonzero x that became 0 */
	int64_t subnormal; /* results that are subnormal in the format */
	int64_t overflow;  /* finite x that saturated or became Inf/NaN */
	int64_t nan_out;   /* NaN produced from a non-NaN x */
} qs_metrics;

/* Running sums; zero-initialize (or qs_acc_init) before use. */
typedef struct qs_acc {
	double se, ae, err, sx2, sy2, sxy, maxae;
	int64_t count, clipped, nan, inf;
	int64_t underflow, subnormal, overflow, nan_out;
} qs_acc;

void qs_acc_init(qs_acc *a);
/* Add the pairs (x[i], y[i]); non-finite x are counted in nan/inf. */
void qs_acc_add(qs_acc *a, const float *x, const float *y, size_t n);
/* a += b (chunk partials are merged in chunk order). */
void qs_acc_merge(qs_acc *a, const qs_acc *b);
/* Turn sums into metrics. */
void qs_acc_finish(const qs_acc *a, qs_metrics *m);

/* Metrics of y against reference x over n elements (chunked, threaded). */
void qs_metrics_compute(const float *x, const float *y, size_t n,
			qs_metrics *out);

#endif
