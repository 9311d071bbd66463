/* calib: choosing the clipping range [lo, hi] of a quantizer.
 *
 * Every method is a pure function of a contiguous float32 run (one tensor,
 * one channel or one group; the caller gathers strided channels) and of the
 * target grid.  Non-finite values are skipped, never folded into a range.
 * Each method follows one anchor toolkit exactly; docs/calibration.md names
 * the source of each.  Pure C11 + libm: no printing, no Lua, no UI. */
#ifndef QS_ENGINE_CALIB_H
#define QS_ENGINE_CALIB_H

#include <stddef.h>
#include <stdint.h>

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
	QS_ACIQ_AUTO = 0, /* the prior whose modelled MSE is lower */
	QS_ACIQ_LAPLACE,
	QS_ACIQ_GAUSS
} qs_aciq_prior;

/* Method and parameters; zero values mean "the method's default". */
typedef struct qs_calib {
	qs_calib_method method;
	double percentile; /* (0, 100]; 0 = default (99.99) */
	int bins;          /* histogram bins, >= 2; 0 = method default */
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
	int64_t qmin, qmax;
} qs_grid;

/* Name ("minmax", "entropy", ...) of a method, or NULL. */
const char *qs_calib_name(qs_calib_method m);
/* Parse a method name: 0 and *out, or -1 if unknown. */
int qs_calib_parse(const char *name, qs_calib_method *out);
/* Comma-separated list of every method name, for error messages. */
const char *qs_calib_names(void);

/* Validate parameters (percentile in (0,100], bins >= 2, c in (0,1],
 * lo <= hi, ...): 0, or QS_EINVAL with a message listing what is accepted. */
qs_status qs_calib_check(const qs_calib *c, qs_error *err);

/* The clipping range of n values x for grid g with method c.
 * Writes *lo <= *hi on success.  An empty, all-NaN or constant run gives a
 * documented range (see docs/calibration.md) and QS_OK.  Returns QS_ENOMEM
 * or QS_EINVAL (bad parameters) otherwise. */
qs_status qs_calib_range(const qs_calib *c, const float *x, size_t n,
			 const qs_grid *g, float *lo, float *hi, qs_error *err);

#endif
