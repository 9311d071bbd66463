/* preset: each anchor toolkit's scale and zero-point conventions.
 *
 * From a calibrated range [lo, hi] and a grid description, reproduce the
 * exact scale, zero point and code range a toolkit derives (PyTorch
 * _calculate_qparams, ONNX Runtime compute_scale_zp, NVIDIA
 * pytorch-quantization/TensorRT amax scaling, AIMET libpymo encodings,
 * ggml Q8_0), and describe how that toolkit then quantizes a value
 * (qs_preset_rules): reciprocal multiply or division, its rounding rule,
 * whether the zero point was clamped, whether the input is clamped first.
 * docs/calibration.md gives the formulas.  Pure C11 + libm. */
#ifndef QS_ENGINE_PRESET_H
#define QS_ENGINE_PRESET_H

#include <stdint.h>

#include "qs_error.h"
#include "quant.h"
#include "round.h"

/* How a toolkit quantizes and dequantizes with its parameters.  Filled by
 * qs_preset_qparams; qs_preset_quantize/dequantize apply it. */
typedef struct qs_preset_rules {
	int preset;           /* qs_preset */
	float scale;          /* the step: (q - zero_point) * scale */
	float zero_point;     /* integral */
	int64_t qmin, qmax;   /* code range */
	int divide;           /* 1: v = x / scale; 0: v = x * inv_scale */
	float inv_scale;      /* the toolkit's multiplier when !divide */
	qs_rounding rounding; /* QS_ROUND_NEAREST (ties even) or _AWAY */
	int dequant_divide;   /* 1: x~ = q / inv_scale (NVIDIA), else
				 (q - zero_point) * scale */
	int f64;              /* parameters and the AIMET quantizer in double */
	double scale64;       /* scale before rounding to float (ORT, AIMET) */
	double offset64;      /* AIMET offset (-zero_point) */
	int clamp_input;      /* AIMET: x clamped to [enc_min, enc_max] */
	double enc_min, enc_max; /* AIMET encoding range */
	int zp_clamped;       /* the zero point is clamped into [qmin, qmax] */
	float eps;            /* smallest scale (PyTorch), else 0 */
} qs_preset_rules;

/* The parameters of toolkit preset (QS_PRESET_TORCH .. _AIMET) for the
 * range [lo, hi] on a grid of bits (2..16) with the given flags:
 *   is_unsigned  codes from 0 (quint8-like)
 *   symmetric    symmetric scheme (amax = max(|lo|, |hi|))
 *   narrow       symmetric narrow range ([-127, 127] for 8 bits)
 *   reduce_range 7-bit ranges of PyTorch ([0,127]/[-64,63]) and ONNX
 *                Runtime ([0,127]/[-64,64])
 * Writes *scale, *zero_point, *qmin, *qmax and, if rules is not NULL, the
 * full rules.  QS_EINVAL for an unknown preset, bits outside 2..16 or a
 * combination the toolkit does not have (TensorRT and ggml: symmetric
 * only; reduce_range only for torch and onnxruntime). */
qs_status qs_preset_qparams(int preset, float lo, float hi, int bits,
			    int is_unsigned, int symmetric, int narrow,
			    int reduce_range, float *scale, float *zero_point,
			    int64_t *qmin, int64_t *qmax,
			    qs_preset_rules *rules, qs_error *err);

/* The integer code of x under rules (NaN gives the zero point). */
int64_t qs_preset_quantize(const qs_preset_rules *r, float x);
/* The value of code q under rules. */
float qs_preset_dequantize(const qs_preset_rules *r, int64_t q);
/* Quantize then dequantize one value. */
float qs_preset_fake(const qs_preset_rules *r, float x);

#endif
