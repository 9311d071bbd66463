/* preset: the anchor toolkits' scale / zero-point conventions, each in
 * its toolkit's precision and operation order (docs/calibration.md).
 * Pure C11 + libm; no printing. */
#include "config.h"
#include "preset.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Python's floor division for the small integers of code ranges. */
static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* C round(): ties away from zero. */
static double rha(double v)
{
	return round(v);
}

/* PyTorch utils.calculate_qmin_qmax + ObserverBase._calculate_qparams
 * (torch.ao.quantization, unchanged from 1.13 to torchao pt2e).  8-bit
 * grids without narrow use the dtype ranges (quint8 [0, 255], qint8
 * [-128, 127], reduce_range [0, 127] / [-64, 63]); other widths and narrow
 * are a custom quant_min/quant_max (reduce_range halves them with floor
 * division) as weight_observer_range_neg_127_to_127 (eps 2^-12). */
static void torch_qparams(float lo, float hi, int bits, int uns, int sym,
			  int narrow, int reduce, qs_preset_rules *r)
{
	int custom = bits != 8 || (narrow && !uns);
	int64_t qmin, qmax;
	if (uns) {
		qmin = 0;
		qmax = ((int64_t)1 << bits) - 1;
	} else {
		qmax = ((int64_t)1 << (bits - 1)) - 1;
		qmin = narrow ? -qmax : -qmax - 1;
	}
	if (reduce) {
		qmin = floordiv(qmin, 2);
		qmax = floordiv(qmax, 2);
	}
	float eps = narrow && !uns ? 0x1p-12f : FLT_EPSILON;
	float s;
	int64_t z = 0;
	if (!(lo <= hi) || !isfinite(lo) || !isfinite(hi)) {
		s = 1.0f; /* min/max unset: scale 1, zero point 0 */
	} else {
		float mn = lo < 0.0f ? lo : 0.0f, mx = hi > 0.0f ? hi : 0.0f;
		if (sym) {
			float am = -mn > mx ? -mn : mx;
			s = am / (float)((double)(qmax - qmin) / 2);
			s = s > eps ? s : eps;
			if (uns)
				z = custom ? floordiv(qmin + qmax, 2) : 128;
		} else {
			s = (mx - mn) / (float)(qmax - qmin);
			s = s > eps ? s : eps;
			z = qmin - (int64_t)nearbyintf(mn / s);
			z = z < qmin ? qmin : z > qmax ? qmax : z;
		}
	}
	r->scale = s;
	r->zero_point = (float)z;
	r->qmin = qmin;
	r->qmax = qmax;
	r->divide = 0;
	r->inv_scale = 1.0f / s;
	r->rounding = QS_ROUND_NEAREST;
	r->zp_clamped = 1;
	r->eps = eps;
}

/* ONNX Runtime quant_utils: get_qmin_qmax_for_qType (ONNX_INT_TYPE_RANGE,
 * _SYMMETRIC_RANGE for 8 and 16 bits, _REDUCED_RANGE), generalized to
 * every width, then compute_scale_zp: the range holds 0, a symmetric
 * range is +-max(|rmin|, |rmax|), scale = f64(rmax - rmin in f32) /
 * (qmax - qmin), zero point rne((qmin + qmax) / 2) (symmetric) or
 * rne(qmin - rmin / scale) in f64, not clamped. */
static void ort_qparams(float lo, float hi, int bits, int uns, int sym,
			int narrow, int reduce, qs_preset_rules *r)
{
	int64_t qmin, qmax, half = (int64_t)1 << (bits - 1);
	if (reduce) {
		if (uns) {
			qmin = 0;
			qmax = half - 1;
		} else {
			qmin = -(half / 2);
			qmax = bits >= 8 ? half / 2 : half / 2 - 1;
		}
	} else if (sym && (bits >= 8 || narrow)) {
		qmin = uns ? 0 : -(half - 1);
		qmax = uns ? 2 * half - 2 : half - 1;
	} else {
		qmin = uns ? 0 : -half;
		qmax = uns ? 2 * half - 1 : half - 1;
	}
	float mn = lo < 0.0f ? lo : 0.0f, mx = hi > 0.0f ? hi : 0.0f;
	if (sym) {
		float am = fabsf(mn) > fabsf(mx) ? fabsf(mn) : fabsf(mx);
		mn = -am;
		mx = am;
	}
	double sc = (double)(mx - mn) / ((double)qmax - (double)qmin);
	double z;
	if (!(sc >= FLT_MIN)) {
		sc = 1.0;
		z = 0.0;
	} else if (sym) {
		z = nearbyintf((float)(qmin + qmax) / 2.0f);
	} else {
		z = nearbyint((double)qmin - (double)mn / sc);
	}
	r->scale = (float)sc;
	r->scale64 = sc;
	r->zero_point = (float)z;
	r->qmin = qmin;
	r->qmax = qmax;
	r->divide = 1;
	r->inv_scale = 1.0f / r->scale;
	r->rounding = QS_ROUND_NEAREST;
	r->f64 = 1;
	r->zp_clamped = 0;
}

/* NVIDIA pytorch-quantization tensor_quant (TensorRT's convention):
 * max_bound = 2^(bits-1+unsigned) - 1, scale = max_bound / amax in f32,
 * q = clamp(rne(x * scale)), x~ = q / scale; amax <= 2^-24 quantizes to
 * 0.  The reported step is amax / max_bound. */
static void nv_qparams(float lo, float hi, int bits, int uns, int narrow,
		       qs_preset_rules *r)
{
	float am = fabsf(lo) > fabsf(hi) ? fabsf(lo) : fabsf(hi);
	float mb = (float)(ldexp(1.0, bits - 1 + (uns != 0)) - 1.0);
	r->qmax = (int64_t)mb;
	r->qmin = uns ? 0 : narrow ? -(int64_t)mb : -(int64_t)mb - 1;
	r->zero_point = 0.0f;
	r->divide = 0;
	r->dequant_divide = 1;
	r->rounding = QS_ROUND_NEAREST;
	if (am <= 0x1p-24f) {
		r->inv_scale = 0.0f;
		r->scale = 0.0f;
	} else {
		r->inv_scale = mb / am;
		r->scale = am / mb;
	}
}

/* ggml Q8_0 reference (quantize_row_q8_0_ref): d = amax / (2^(bits-1) -
 * 1), id = d ? 1/d : 0, q = roundf(x * id) (ties away), x~ = q * d.  The
 * fp16 storage of d belongs to the block formats. */
static void ggml_qparams(float lo, float hi, int bits, qs_preset_rules *r)
{
	float am = fabsf(lo) > fabsf(hi) ? fabsf(lo) : fabsf(hi);
	float mb = (float)(((int64_t)1 << (bits - 1)) - 1);
	float d = am / mb;
	r->scale = d;
	r->inv_scale = d != 0.0f ? 1.0f / d : 0.0f;
	r->zero_point = 0.0f;
	r->qmax = (int64_t)mb;
	r->qmin = -(int64_t)mb;
	r->divide = 0;
	r->rounding = QS_ROUND_AWAY;
}

/* AIMET libpymo TF encoding (TfEncodingAnalyzer + getComputedEncodings,
 * f64): the range holds 0 and is at least 0.01 wide; numSteps = 2^bw - 1
 * (strict symmetric: - 1); symmetric (unless all >= 0, unsigned
 * symmetric being AIMET's default): delta = M / floor(steps/2), offset =
 * -ceil(steps/2); else delta = (max - min) / steps, offset =
 * -clamp(rha(-min/delta)).  Codes are 0..steps, zero point = -offset; the
 * quantizer clamps x to the encoding, divides, rounds ties away. */
static void aimet_qparams(float lo, float hi, int bits, int sym, int narrow,
			  qs_preset_rules *r)
{
	double mn = lo < 0.0f ? lo : 0.0, mx = hi > 0.0f ? hi : 0.0;
	mx = mx > mn + 0.01 ? mx : mn + 0.01;
	double steps = ldexp(1.0, bits) - 1.0;
	if (sym && narrow)
		steps -= 1;
	double delta, offset, emin, emax;
	if (sym && mn < 0.0) {
		double m = fabs(mx) > fabs(mn) ? fabs(mx) : fabs(mn);
		double pos = floor(steps / 2);
		delta = m / pos;
		offset = -ceil(steps / 2);
		emin = offset * delta;
		emax = delta * pos;
	} else {
		delta = (mx - mn) / steps;
		if (mn < 0 && mx > 0) {
			double bz = rha(-mn / delta);
			bz = bz < 0 ? 0 : bz > steps ? steps : bz;
			offset = -bz;
		} else {
			offset = rha(mn / delta);
		}
		emin = delta * offset;
		emax = mx - mn + emin;
	}
	r->scale = (float)delta;
	r->scale64 = delta;
	r->offset64 = offset;
	r->zero_point = (float)-offset;
	r->qmin = 0;
	r->qmax = (int64_t)steps;
	r->divide = 1;
	r->inv_scale = (float)(1.0 / delta);
	r->rounding = QS_ROUND_AWAY;
	r->f64 = 1;
	r->clamp_input = 1;
	r->enc_min = emin;
	r->enc_max = emax;
}

qs_status qs_preset_qparams(int preset, float lo, float hi, int bits,
			    int is_unsigned, int symmetric, int narrow,
			    int reduce_range, float *scale, float *zero_point,
			    int64_t *qmin, int64_t *qmax,
			    qs_preset_rules *rules, qs_error *err)
{
	const char *pn = (unsigned)preset < QS_PRESET_COUNT
				 ? qs_preset_name((qs_preset)preset)
				 : NULL;
	if (preset <= QS_PRESET_NONE || preset >= QS_PRESET_COUNT)
		return qs_fail(err, QS_EINVAL,
			       "preset %d unknown (accepted: torch, "
			       "onnxruntime, tensorrt, ggml, aimet)",
			       preset);
	if (bits < 2 || bits > 16)
		return qs_fail(err, QS_EINVAL,
			       "bits %d out of range (accepted: 2..16)", bits);
	if (reduce_range && preset != QS_PRESET_TORCH &&
	    preset != QS_PRESET_ONNXRUNTIME)
		return qs_fail(err, QS_EINVAL,
			       "%s has no reduce_range (accepted: torch, "
			       "onnxruntime)",
			       pn);
	if ((preset == QS_PRESET_TENSORRT || preset == QS_PRESET_GGML) &&
	    !symmetric)
		return qs_fail(err, QS_EINVAL,
			       "%s quantizes symmetrically only (use scheme "
			       "symmetric)",
			       pn);
	if (preset == QS_PRESET_GGML && is_unsigned)
		return qs_fail(err, QS_EINVAL,
			       "ggml int codes are signed (use a signed "
			       "format)");
	qs_preset_rules r;
	memset(&r, 0, sizeof r);
	r.preset = preset;
	switch (preset) {
	case QS_PRESET_TORCH:
		torch_qparams(lo, hi, bits, is_unsigned, symmetric, narrow,
			      reduce_range, &r);
		break;
	case QS_PRESET_ONNXRUNTIME:
		ort_qparams(lo, hi, bits, is_unsigned, symmetric, narrow,
			    reduce_range, &r);
		break;
	case QS_PRESET_TENSORRT:
		nv_qparams(lo, hi, bits, is_unsigned, narrow, &r);
		break;
	case QS_PRESET_GGML:
		ggml_qparams(lo, hi, bits, &r);
		break;
	default:
		aimet_qparams(lo, hi, bits, symmetric, narrow, &r);
		break;
	}
	if (!r.f64)
		r.scale64 = r.scale;
	*scale = r.scale;
	*zero_point = r.zero_point;
	*qmin = r.qmin;
	*qmax = r.qmax;
	if (rules)
		*rules = r;
	return QS_OK;
}

static double round_by(double v, qs_rounding m)
{
	return m == QS_ROUND_AWAY ? round(v) : nearbyint(v);
}

int64_t qs_preset_quantize(const qs_preset_rules *r, float x)
{
	double q;
	if (isnan(x))
		return (int64_t)r->zero_point;
	if (r->clamp_input) { /* AIMET quantizeValueCpu, in double */
		double v = x < r->enc_min ? r->enc_min
			   : x > r->enc_max ? r->enc_max
					    : (double)x;
		q = round_by(v / r->scale64 - r->offset64, r->rounding);
	} else if (r->divide) {
		float t = x / r->scale;
		q = round_by(t, r->rounding) + r->zero_point;
	} else {
		float t = x * r->inv_scale;
		if (r->rounding == QS_ROUND_AWAY)
			q = roundf(t) + r->zero_point;
		else
			q = (double)(nearbyintf(t) + r->zero_point);
	}
	if (!(q >= (double)r->qmin))
		q = (double)r->qmin;
	if (q > (double)r->qmax)
		q = (double)r->qmax;
	return (int64_t)q;
}

float qs_preset_dequantize(const qs_preset_rules *r, int64_t q)
{
	if (r->clamp_input)
		return (float)(r->scale64 * ((double)q + r->offset64));
	if (r->dequant_divide)
		return r->inv_scale != 0.0f ? (float)q / r->inv_scale : 0.0f;
	return ((float)q - r->zero_point) * r->scale;
}

float qs_preset_fake(const qs_preset_rules *r, float x)
{
	return qs_preset_dequantize(r, qs_preset_quantize(r, x));
}
