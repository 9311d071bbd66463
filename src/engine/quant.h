/* quant: uniform integer quantization of a tensor, fused with its error.
 *
 * A spec names the format, scheme, granularity, calibration and rounding.
 * qs_quantize calibrates (per tensor, channel or group), derives scales and
 * zero points, then makes one pass over the data that rounds, clamps,
 * dequantizes and accumulates every error metric without writing the codes;
 * codes and dequantized values are materialized on request.
 * Conventions (docs/lua-api.md): symmetric scale = amax / (2^(N-1)-1),
 * asymmetric scale = (max(hi,0) - min(lo,0)) / (2^N - 1) and
 * zero point = qmin - round(min(lo,0)/scale) clamped; q = clamp(round(x/s)
 * + z), x~ = (q - z) * s in float32.  Pure C11 + libm (+ OpenMP). */
#ifndef QS_ENGINE_QUANT_H
#define QS_ENGINE_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "calib.h"
#include "fp.h"
#include "metrics.h"
#include "qs_error.h"
#include "round.h"
#include "tensor.h"

typedef enum qs_scheme { QS_SCHEME_SYMMETRIC = 0, QS_SCHEME_ASYMMETRIC } qs_scheme;
typedef enum qs_granularity {
	QS_GRAN_TENSOR = 0,
	QS_GRAN_CHANNEL,
	QS_GRAN_GROUP
} qs_granularity;

typedef enum qs_preset {
	QS_PRESET_NONE = 0,
	QS_PRESET_TORCH,
	QS_PRESET_ONNXRUNTIME,
	QS_PRESET_TENSORRT,
	QS_PRESET_GGML,
	QS_PRESET_AIMET,
	QS_PRESET_COUNT
} qs_preset;

typedef struct qs_spec {
	char format[40];    /* "int8", "uint4", "fp8_e4m3", ... as given */
	int bits;           /* 2..16 (storage bits of a float format) */
	int is_float;       /* an element-wise float format (fp) */
	qs_fpfmt fp;        /* its definition when is_float */
	int is_unsigned;
	qs_scheme scheme;
	int narrow;         /* symmetric: [-(2^(N-1)-1), 2^(N-1)-1] */
	qs_granularity granularity;
	int axis;           /* channel axis, 0-based, negative from the end */
	int64_t group;      /* group size along the last axis */
	qs_calib calib;
	qs_rounding rounding;
	uint64_t seed;      /* stochastic rounding */
	qs_preset preset;
} qs_spec;

/* Defaults: int8, symmetric, tensor, minmax, nearest, axis 0, group 128. */
void qs_spec_default(qs_spec *s);
/* Set the format from its name: "int8", "uintN" for N = 2..16, or a float
 * format of fp.h ("fp16", "bf16", "fp8_e4m3", "fpE3M4", ...).  Float
 * formats scale the calibrated amax to the format's largest finite value
 * (calib "none": a plain cast, scale 1). */
qs_status qs_spec_set_format(qs_spec *s, const char *name, qs_error *err);
/* Accepted format names, for error messages. */
const char *qs_format_names(void);
const char *qs_scheme_name(qs_scheme s);
const char *qs_granularity_name(qs_granularity g);
const char *qs_preset_name(qs_preset p);
int qs_preset_parse(const char *name, qs_preset *out);

/* A quantized tensor: parameters and metrics; codes on demand. */
typedef struct qs_quant {
	qs_spec spec;
	int ndim;
	int64_t shape[QS_MAX_NDIM];
	int64_t size;
	int64_t nparams;      /* 1, channels, or groups */
	int param_ndim;       /* shape of the parameter tensors: (C,) per */
	int64_t param_shape[QS_MAX_NDIM]; /* channel, shape[:-1]+(G,) per group */
	float *scale;         /* nparams each */
	float *zero_point;    /* integral values */
	float *lo, *hi;       /* calibrated clipping ranges */
	int64_t qmin, qmax;
	double bits;          /* storage bits per element incl. parameters */
	qs_metrics metrics;   /* against the input */
	/* private: element -> parameter mapping */
	int64_t inner_, nch_, rowlen_, ngrp_;
} qs_quant;

/* Quantize t with spec: calibration, parameters and error metrics in one
 * fused pass over the data.  NULL on error (QS_EINVAL for a bad spec or
 * axis, QS_ENOMEM).  Free with qs_quant_free. */
qs_quant *qs_quantize(qs_tensor *t, const qs_spec *spec, qs_error *err);
void qs_quant_free(qs_quant *q);

/* The integer codes of t under q (t must be the quantized tensor):
 * int8/uint8 for up to 8 bits, int16/uint16 up to 16.  Owned by caller. */
qs_tensor *qs_quant_codes(const qs_quant *q, qs_tensor *t, qs_error *err);
/* The dequantized float32 tensor, t's shape. */
qs_tensor *qs_quant_dequant(const qs_quant *q, qs_tensor *t, qs_error *err);

/* Error metrics of each parameter's elements (each channel or group):
 * out[p] for p < q->nparams.  t must be the quantized tensor. */
qs_status qs_quant_param_metrics(const qs_quant *q, qs_tensor *t,
				 qs_metrics *out, qs_error *err);

/* The calibrated ranges only: *n ranges in lo[], hi[] (caller frees). */
qs_status qs_calibrate(qs_tensor *t, const qs_spec *spec, float **lo,
		       float **hi, int64_t *n, qs_error *err);

/* Integer-grid parameters from a range, with the spec's conventions. */
void qs_qparams(const qs_spec *s, float lo, float hi, float *scale,
		float *zero_point);
/* The code range [qmin, qmax] of a spec. */
void qs_code_range(const qs_spec *s, int64_t *qmin, int64_t *qmax);

#endif
