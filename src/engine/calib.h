/* calib: choosing the clipping range [lo, hi] of a quantizer.
 *
 * Every method is a pure function of a contiguous float32 run (one tensor,
 * one channel or one group; the caller gathers strided channels) and of the
 * target grid.  Non-finite values are skipped, never folded into a range.
 * Each method follows one anchor toolkit exactly; docs/calibration.md names
 * the source and formula of each.  Histogram methods run on a qs_hist
 * (hist.h); qs_observer (observer.h) accumulates them over batches.
 * Pure C11 + libm (+ OpenMP): no printing, no Lua, no UI. */
#ifndef QS_ENGINE_CALIB_H
#define QS_ENGINE_CALIB_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "qs_error.h"

typedef enum qs_calib_method {
	QS_CALIB_NONE = 0,        /* no range: plain cast (float formats) */
	QS_CALIB_MINMAX,          /* min and max of the finite values */
	QS_CALIB_EMA,             /* PyTorch MovingAverageMinMaxObserver */
	QS_CALIB_PERCENTILE,      /* exact order statistic (selection) */
	QS_CALIB_PERCENTILE_HIST, /* NVIDIA / ONNX Runtime histogram percentile */
	QS_CALIB_ENTROPY,         /* NVIDIA KL-divergence search */
	QS_CALIB_ENTROPY_ORT,     /* ONNX Runtime KL-divergence search */
	QS_CALIB_MSE,             /* NVIDIA histogram MSE search */
	QS_CALIB_MSE_EXACT,       /* true MSE on the data, minimized */
	QS_CALIB_HIST_L2,         /* PyTorch HistogramObserver L2 search */
	QS_CALIB_ACIQ,            /* analytic clipping, Laplace/Gauss priors */
	QS_CALIB_SQNR,            /* AIMET TF-enhanced search */
	QS_CALIB_FIXED,           /* user range lo/hi (or amax) */
	QS_CALIB_COUNT
} qs_calib_method;

typedef enum qs_aciq_prior {
	QS_ACIQ_AUTO = 0, /* the prior whose range quantizes the run with the
			     lower measured MSE (ACIQ's mix mode) */
	QS_ACIQ_LAPLACE,
	QS_ACIQ_GAUSS
} qs_aciq_prior;

/* Method and parameters; zero values mean "the method's default". */
typedef struct qs_calib {
	qs_calib_method method;
	double percentile; /* (0, 100]; 0 = default (99.99) */
	int bins;          /* histogram bins, >= 2; 0 = method default (2048,
			      sqnr 512) */
	double c;          /* EMA constant in (0, 1]; 0 = 0.01 */
	int64_t batches;   /* EMA: the run is this many equal batches; 0,1 = one */
	double lo, hi;     /* QS_CALIB_FIXED range (lo <= hi) */
	qs_aciq_prior prior;
} qs_calib;

/* The integer grid that the range is chosen for. */
typedef struct qs_grid {
	int bits;        /* 1..16 */
	int is_unsigned; /* codes start at 0 */
	int symmetric;   /* symmetric scheme: the range is [-amax, amax] */
	int narrow;      /* symmetric narrow range */
	int64_t qmin, qmax; /* codes; qmin >= qmax means "the defaults" */
} qs_grid;

/* Fill g with bits and flags and the default codes: unsigned [0, 2^N-1],
 * signed [-2^(N-1), 2^(N-1)-1], symmetric narrow [-(2^(N-1)-1), ...]. */
void qs_grid_default(qs_grid *g, int bits, int is_unsigned, int symmetric,
		     int narrow);

/* Name ("minmax", "entropy", ...) of a method, or NULL. */
const char *qs_calib_name(qs_calib_method m);
/* Parse a method name: 0 and *out, or -1 if unknown. */
int qs_calib_parse(const char *name, qs_calib_method *out);
/* Comma-separated list of every method name, for error messages. */
const char *qs_calib_names(void);

/* Validate parameters (percentile in (0,100], bins >= 2, c in (0,1],
 * lo <= hi, ...): 0, or QS_EINVAL with a message listing what is accepted. */
qs_status qs_calib_check(const qs_calib *c, qs_error *err);

/* The clipping range of n values x for grid g with method c (g NULL:
 * int8 symmetric).  Writes *lo <= *hi on success.  Every data method gives
 * [0, 0] for an empty or all-NaN run and [v, v] for a constant run
 * (one element included); fixed gives its range.  Returns QS_ENOMEM or
 * QS_EINVAL (bad parameters, grid bits outside 1..16) otherwise.  Memory:
 * percentile copies the finite values; histogram methods allocate their
 * histogram; nothing else is allocated in proportion to n. */
qs_status qs_calib_range(const qs_calib *c, const float *x, size_t n,
			 const qs_grid *g, float *lo, float *hi, qs_error *err);

/* The range of a histogram method (percentile_hist, entropy, entropy_ort,
 * mse, hist_l2, sqnr) from a histogram of the matching kind (see
 * qs_calib_hist_kind): what qs_calib_range computes after building it.
 * An empty histogram gives [0, 0], one that never started (constant data)
 * [xmin, xmax].  QS_EINVAL for another method or a histogram of the wrong
 * kind. */
qs_status qs_calib_from_hist(const qs_calib *c, const qs_hist *h,
			     const qs_grid *g, float *lo, float *hi,
			     qs_error *err);
/* 1 if method m runs on a histogram. */
int qs_calib_uses_hist(qs_calib_method m);
/* The bins a histogram method uses when c->bins is 0: 2048, sqnr 512. */
int64_t qs_calib_default_bins(qs_calib_method m);
/* The histogram kind method m needs for grid g (-1 if none):
 * percentile_hist NVIDIA (symmetric grid) or ORT, entropy and mse NVIDIA,
 * entropy_ort ORT, hist_l2 TORCH, sqnr AIMET. */
int qs_calib_hist_kind(qs_calib_method m, const qs_grid *g);

/* Names of the ACIQ priors ("auto", "laplace", "gauss"). */
const char *qs_aciq_prior_name(qs_aciq_prior p);
int qs_aciq_prior_parse(const char *name, qs_aciq_prior *out);
/* ACIQ optimal clip in units of b (Laplace) or sigma (Gauss) for bits
 * 1..17; NaN outside. */
double qs_calib_aciq_ratio(qs_aciq_prior prior, int bits);
/* ACIQ estimators over the finite values: mean, b = mean |x - mean| and
 * the unbiased standard deviation.  QS_EINVAL when there are none. */
qs_status qs_calib_aciq_stats(const float *x, size_t n, double *mean,
			      double *b, double *sigma);

/* The k-th smallest (0-based) of v[0..n), k < n, by introselect (O(n)
 * worst case); v is reordered around it.  No NaN in v. */
float qs_calib_select(float *v, size_t n, size_t k);

#endif
