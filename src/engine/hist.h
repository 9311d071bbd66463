/* hist: histograms of float32 runs, binned and merged the way each anchor
 * toolkit does it, and the clipping-range searches that run on them.
 *
 * A qs_hist accumulates successive batches with the merge rule of its kind
 * (PyTorch HistogramObserver, NVIDIA HistogramCalibrator, ONNX Runtime
 * HistogramCollector, AIMET TF-enhanced PDF).  The searches are pure
 * functions of a histogram; each follows its anchor's operation order so
 * that the chosen bin matches the toolkit (docs/calibration.md).
 * Pure C11 + libm (+ OpenMP for counting); no printing. */
#ifndef QS_ENGINE_HIST_H
#define QS_ENGINE_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "qs_error.h"

typedef enum qs_hist_kind {
	QS_HIST_TORCH = 0, /* PyTorch HistogramObserver: histc over [min, max] */
	QS_HIST_NVIDIA,    /* NVIDIA calibrators: histc of |x| over [0, max|x|] */
	QS_HIST_ORT,       /* ONNX Runtime collect_value: [-t, t], t = max|x| */
	QS_HIST_ORT_ABS,   /* ONNX Runtime collect_absolute_value: |x| */
	QS_HIST_AIMET,     /* AIMET TF-enhanced PDF: 512 buckets, 3x range */
	QS_HIST_KIND_COUNT
} qs_hist_kind;

/* A histogram.  Fields are read-only for callers. */
typedef struct qs_hist {
	qs_hist_kind kind;
	int64_t nbins;    /* bins in use */
	double *count;    /* nbins counts; AIMET: batch-averaged probabilities */
	int64_t nedges;   /* edges in use (nbins + 1; NVIDIA may have one more) */
	float *edges;     /* bin edges as the anchor computes them */
	float lo, hi;     /* the counting range (edges[0], last edge) */
	float xmin, xmax; /* min and max of every finite value added */
	double n;         /* finite values added */
	int64_t batches;  /* batches that held finite values */
	int started;      /* counts exist (a batch with a non-zero range came) */
	/* private */
	int64_t bins0, cap, cap_edges;
	float amin;     /* ORT_ABS: min |x| of the first batch */
	double thresh;  /* ORT: the threshold t (float64 after a growth) */
	float awidth;   /* AIMET: bucket width */
	float pend_v;   /* value of the constant batches before the start */
	double pend_w;  /* their count */
	int64_t pend_b; /* and number; AIMET: batches averaged */
} qs_hist;

/* Default bin count of a kind: 2048, AIMET 512. */
int64_t qs_hist_default_bins(qs_hist_kind kind);

/* A new empty histogram of kind with bins bins (0 = the kind's default;
 * >= 2).  NULL with QS_EINVAL or QS_ENOMEM.  Free with qs_hist_free. */
qs_hist *qs_hist_new(qs_hist_kind kind, int64_t bins, qs_error *err);
void qs_hist_free(qs_hist *h);

/* Add a batch of n values (non-finite values are skipped) with the merge
 * rule of the histogram's kind.  A histogram starts counting at the first
 * batch whose values, together with the earlier ones, span a non-zero
 * range; earlier constant batches are then added as one weighted value
 * (AIMET skips all-zero batches before its start, as AIMET does).
 * QS_ENOMEM on failure, after which the histogram must be freed. */
qs_status qs_hist_add(qs_hist *h, const float *x, size_t n, qs_error *err);

/* ---- float32 building blocks (exposed for tests and plots) ------------ */

/* torch.linspace(start, end, steps) in float32.  vectorized = 1 emulates
 * the AVX2 build of torch 1.13 (chunks of 16: fused base, then base + k *
 * step per lane); 0 is the scalar formula of later releases. */
void qs_hist_linspace_torch(float start, float end, int64_t steps,
			    int vectorized, float *out);
/* numpy.linspace(start, end, steps, dtype=float32): float64 then rounded. */
void qs_hist_linspace_numpy(double start, double end, int64_t steps,
			    float *out);
/* torch.histc(x or |x|, bins, lo, hi) added into count[0..bins): bin =
 * (int64)(((v - lo) / (hi - lo)) * bins) in float32, the last bin closed,
 * values outside [lo, hi] and NaN dropped.  Requires lo < hi. */
void qs_hist_histc(const float *x, size_t n, int absval, float lo, float hi,
		   int64_t bins, double *count);
/* numpy.histogram(x or |x|, edges) with bins + 1 float32 edges that are
 * (nearly) uniform: bin k holds edges[k] <= v < edges[k+1], the last bin
 * closed; values outside are dropped. */
void qs_hist_numpy(const float *x, size_t n, int absval, const float *edges,
		   int64_t bins, double *count);

/* numpy's pairwise float64 / float32 summation (np.sum of a 1-D array). */
double qs_hist_sum_numpy(const double *a, int64_t n);
float qs_hist_sum_numpy_f32(const float *a, int64_t n);
/* torch's float32 sum of a contiguous array (AVX2 cascade sum). */
float qs_hist_sum_torch_f32(const float *a, int64_t n);

/* ---- searches ---------------------------------------------------------- */

/* NVIDIA pytorch-quantization _compute_amax_entropy on an NVIDIA histogram:
 * bins[0] := bins[1], candidates i = start_bin .. nbins, levels quantized
 * levels (2^(bits-1+unsigned)), KL(P||Q) as scipy.stats.entropy, the last
 * minimum.  *amax = edges[i].  QS_EINVAL if h is not NVIDIA. */
qs_status qs_hist_nv_entropy(const qs_hist *h, int64_t levels,
			     int64_t start_bin, float *amax, int64_t *bin,
			     qs_error *err);
/* NVIDIA _compute_amax_mse: candidates are bin centres i = start_bin ..
 * nbins-1, error of fake_tensor_quant(centres, amax, bits, unsigned,
 * narrow) weighted by the counts (float32, torch's sum), first minimum. */
qs_status qs_hist_nv_mse(const qs_hist *h, int bits, int is_unsigned,
			 int64_t start_bin, float *amax, int64_t *bin,
			 qs_error *err);
/* NVIDIA _compute_amax_percentile: the left edge of the first bin whose
 * float64 cumulative fraction reaches p/100. */
qs_status qs_hist_nv_percentile(const qs_hist *h, double p, float *amax,
				int64_t *bin, qs_error *err);
/* ONNX Runtime HistogramCollector.get_entropy_threshold on an ORT
 * histogram: nq quantized bins, smoothed float32 distributions, the first
 * minimum; the range clamped to [xmin, xmax]. */
qs_status qs_hist_ort_entropy(const qs_hist *h, int64_t nq, float *lo,
			      float *hi, qs_error *err);
/* ONNX Runtime compute_percentile: on an ORT_ABS histogram the symmetric
 * rule (-e, e) with e the edge where the cdf reaches p/100; on an ORT
 * histogram the asymmetric rule cutting (100-p)/200 from each tail; both
 * clamped to [xmin, xmax]. */
qs_status qs_hist_ort_percentile(const qs_hist *h, double p, float *lo,
				 float *hi, qs_error *err);
/* PyTorch HistogramObserver._non_linear_param_search on a TORCH histogram
 * with 2^bits destination bins: [new_min, new_max]. */
qs_status qs_hist_torch_l2(const qs_hist *h, int bits, float *lo, float *hi,
			   qs_error *err);
/* AIMET TfEnhancedEncodingAnalyzer.computeEncoding on an AIMET histogram:
 * the best delta and offset (float32 search, gamma 3), and the encoding
 * range [enc_min, enc_max].  strict: strict symmetric; unsigned_sym: an
 * all-non-negative PDF gets an unsigned grid (AIMET's default).  When every
 * candidate's float cost overflows (|x| beyond ~1e19), or clamps to zero
 * width, it is not taken: the observed range is. */
qs_status qs_hist_aimet_sqnr(const qs_hist *h, int bits, int symmetric,
			     int strict, int unsigned_sym, double *delta,
			     double *offset, double *enc_min, double *enc_max,
			     qs_error *err);

#endif
