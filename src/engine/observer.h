/* observer: static calibration over successive float32 batches.
 *
 * A qs_observer keeps what its method needs to choose a range after any
 * number of batches, with the anchors' accumulation rules:
 *   minmax            running min / max of the finite values
 *   ema               PyTorch MovingAverageMinMaxObserver: the first
 *                     batch sets min/max, later ones move them by
 *                     c * (batch value - current)
 *   histogram methods a histogram grown with its anchor's merge rule
 *                     (hist.h): PyTorch >= 2.4 upscale-and-rebin
 *                     (hist_l2), NVIDIA fixed bin width, growing bin
 *                     count (entropy, mse, percentile_hist symmetric),
 *                     ONNX Runtime symmetric growth by whole bins
 *                     (entropy_ort, percentile_hist asymmetric), AIMET
 *                     batch-averaged PDF on the first batch's buckets
 *                     (sqnr)
 *   percentile, mse_exact, aciq
 *                     the finite values themselves (these methods need
 *                     the data; memory grows with it)
 *   fixed, none       nothing but the count
 * Min/max and EMA are always kept, so an observer can also answer those.
 * Pure C11 + libm (+ OpenMP); no printing. */
#ifndef QS_ENGINE_OBSERVER_H
#define QS_ENGINE_OBSERVER_H

#include <stddef.h>
#include <stdint.h>

#include "calib.h"
#include "hist.h"
#include "qs_error.h"

typedef struct qs_observer qs_observer;

/* A new observer for method c (parameters are checked with
 * qs_calib_check; c->bins sizes the histogram) and grid g (the histogram
 * kind of percentile_hist depends on g->symmetric; g NULL: int8
 * symmetric).  NULL with QS_EINVAL or QS_ENOMEM.  Free with
 * qs_observer_free. */
qs_observer *qs_observer_new(const qs_calib *c, const qs_grid *g,
			     qs_error *err);
void qs_observer_free(qs_observer *o);

/* Add one batch of n values (non-finite values are skipped; a batch with
 * none changes nothing but the batch count).  QS_ENOMEM on failure. */
qs_status qs_observer_add(qs_observer *o, const float *x, size_t n,
			  qs_error *err);

/* The range after the batches so far, for method c on grid g.  c may
 * differ from the creation method in its parameters (percentile, prior,
 * c is fixed at creation for ema) or be minmax, ema or fixed; a method
 * needing statistics the observer does not keep is QS_EINVAL.  No batch
 * yet: [0, 0]. */
qs_status qs_observer_range(const qs_observer *o, const qs_calib *c,
			    const qs_grid *g, float *lo, float *hi,
			    qs_error *err);

/* Batches added, finite values seen. */
int64_t qs_observer_batches(const qs_observer *o);
double qs_observer_count(const qs_observer *o);
/* The observer's histogram (NULL for methods without one); read-only. */
const qs_hist *qs_observer_hist(const qs_observer *o);

#endif
