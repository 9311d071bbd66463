/* tensor: allocation, dtype tables, float32 views and summary statistics.
 * Pure C11 + POSIX munmap; no printing. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"
#include "tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const struct {
	const char *name;
	size_t size;
} dtypes[QS_DT_COUNT] = {
	[QS_DT_BOOL] = {"bool", 1},    [QS_DT_I8] = {"int8", 1},
	[QS_DT_I16] = {"int16", 2},    [QS_DT_I32] = {"int32", 4},
	[QS_DT_I64] = {"int64", 8},    [QS_DT_U8] = {"uint8", 1},
	[QS_DT_U16] = {"uint16", 2},   [QS_DT_U32] = {"uint32", 4},
	[QS_DT_U64] = {"uint64", 8},   [QS_DT_F16] = {"float16", 2},
	[QS_DT_BF16] = {"bfloat16", 2}, [QS_DT_F32] = {"float32", 4},
	[QS_DT_F64] = {"float64", 8},  [QS_DT_F8_E4M3] = {"float8_e4m3fn", 1},
	[QS_DT_F8_E5M2] = {"float8_e5m2", 1},
};

const char *qs_dtype_name(qs_dtype dt)
{
	return (unsigned)dt < QS_DT_COUNT ? dtypes[dt].name : "unknown";
}

size_t qs_dtype_size(qs_dtype dt)
{
	return (unsigned)dt < QS_DT_COUNT ? dtypes[dt].size : 0;
}

int qs_dtype_parse(const char *name, qs_dtype *out)
{
	for (int i = 0; i < QS_DT_COUNT; i++)
		if (strcmp(name, dtypes[i].name) == 0) {
			*out = (qs_dtype)i;
			return 0;
		}
	return -1;
}

int qs_shape_count(int ndim, const int64_t *shape, size_t elem,
		   int64_t *count)
{
	int64_t n = 1;
	int64_t limit = INT64_MAX / (int64_t)(elem ? elem : 1);
	int zero = 0;
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0)
			return -1;
		if (shape[i] == 0)
			zero = 1;
	}
	if (zero) {
		*count = 0;
		return 0;
	}
	for (int i = 0; i < ndim; i++) {
		if (n > limit / shape[i])
			return -1;
		n *= shape[i];
	}
	*count = n;
	return 0;
}

qs_tensor *qs_tensor_new(qs_dtype dt, int ndim, const int64_t *shape,
			 qs_error *err)
{
	int64_t n;
	if ((unsigned)dt >= QS_DT_COUNT) {
		qs_fail(err, QS_EINVAL, "unknown dtype %d", (int)dt);
		return NULL;
	}
	if (ndim < 0 || ndim > QS_MAX_NDIM) {
		qs_fail(err, QS_EINVAL, "rank %d out of range 0..%d", ndim,
			QS_MAX_NDIM);
		return NULL;
	}
	if (qs_shape_count(ndim, shape, qs_dtype_size(dt), &n) < 0 ||
	    (uint64_t)n > SIZE_MAX / qs_dtype_size(dt)) {
		qs_fail(err, QS_EINVAL,
			"shape has a negative dimension or too many elements");
		return NULL;
	}
	qs_tensor *t = calloc(1, sizeof *t);
	if (!t) {
		qs_fail(err, QS_ENOMEM, "out of memory");
		return NULL;
	}
	size_t bytes = (size_t)n * qs_dtype_size(dt);
	t->buf_ = calloc(bytes ? bytes : 1, 1);
	if (!t->buf_) {
		free(t);
		qs_fail(err, QS_ENOMEM, "out of memory allocating %zu bytes",
			bytes);
		return NULL;
	}
	t->dtype = dt;
	t->ndim = ndim;
	for (int i = 0; i < ndim; i++)
		t->shape[i] = shape[i];
	t->size = n;
	t->data = t->buf_;
	return t;
}

qs_tensor *qs_tensor_dup(const qs_tensor *s, qs_error *err)
{
	qs_tensor *t = qs_tensor_new(s->dtype, s->ndim, s->shape, err);
	if (!t)
		return NULL;
	memcpy(t->data, s->data, (size_t)s->size * qs_dtype_size(s->dtype));
	if (s->name && qs_tensor_set_name(t, s->name, err) < 0) {
		qs_tensor_free(t);
		return NULL;
	}
	return t;
}

void qs_tensor_free(qs_tensor *t)
{
	if (!t)
		return;
	if (t->map_)
		munmap(t->map_, t->map_len_);
	free(t->buf_);
	free(t->f32_);
	free(t->name);
	free(t);
}

qs_status qs_tensor_set_name(qs_tensor *t, const char *name, qs_error *err)
{
	char *copy = NULL;
	if (name) {
		size_t n = strlen(name) + 1;
		copy = malloc(n);
		if (!copy)
			return qs_fail(err, QS_ENOMEM, "out of memory");
		memcpy(copy, name, n);
	}
	free(t->name);
	t->name = copy;
	return QS_OK;
}

/* IEEE binary16 -> binary32, exact. */
float qs_half_to_float(uint16_t h)
{
	uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31,
		 m = h & 0x3FF, b;
	if (e == 31)
		b = s | 0x7F800000u | (m << 13);
	else if (e)
		b = s | ((e + 112) << 23) | (m << 13);
	else if (m) {
		/* subnormal: value m * 2^-24 */
		float f = (float)m * 0x1p-24f;
		return s ? -f : f;
	} else
		b = s;
	float f;
	memcpy(&f, &b, 4);
	return f;
}

/* binary32 -> binary16 bits, round to nearest even, overflow to Inf;
 * NaN keeps its sign and becomes quiet (0x7E00). */
uint16_t qs_float_to_half(float f)
{
	uint32_t b;
	memcpy(&b, &f, 4);
	uint32_t s = (b >> 16) & 0x8000u, a = b & 0x7FFFFFFFu;
	if (a > 0x7F800000u)
		return (uint16_t)(s | 0x7E00u);
	if (a >= 0x477FF000u) /* >= 65520 rounds to Inf */
		return (uint16_t)(s | 0x7C00u);
	if (a < 0x38800000u) { /* below 2^-14: subnormal or zero */
		/* value in units of 2^-24, rounded to nearest even */
		float v;
		memcpy(&v, &a, 4);
		return (uint16_t)(s | (uint32_t)nearbyintf(v * 0x1p24f));
	}
	uint32_t m = a + 0x0FFFu + ((a >> 13) & 1u) - (112u << 23);
	return (uint16_t)(s | (m >> 13));
}

float qs_bf16_to_float(uint16_t x)
{
	uint32_t b = (uint32_t)x << 16;
	float f;
	memcpy(&f, &b, 4);
	return f;
}

uint16_t qs_float_to_bf16(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	if ((u & 0x7FFFFFFFu) > 0x7F800000u)
		return (uint16_t)((u >> 16) | 0x40u);
	return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

/* OCP OFP8 decode (FORMATS.md section 1, ONNX float8.md formulas):
 * E != 0: (-1)^s 2^(E-bias) (1 + M/2^m); E == 0: (-1)^s 2^(1-bias) M/2^m.
 * Every code is exact in float32 (ldexpf of a small integer). */
float qs_f8e4m3_to_float(uint8_t v)
{
	int e = (v >> 3) & 15, m = v & 7;
	float f;
	if (e == 15 && m == 7)
		f = NAN; /* E4M3FN has no Inf; S.1111.111 is NaN */
	else if (e == 0)
		f = ldexpf((float)m, -9); /* 2^(1-7) * m/8 */
	else
		f = ldexpf((float)(8 + m), e - 10); /* 2^(e-7) * (8+m)/8 */
	return v & 0x80 ? -f : f;
}

float qs_f8e5m2_to_float(uint8_t v)
{
	int e = (v >> 2) & 31, m = v & 3;
	float f;
	if (e == 31)
		f = m ? NAN : INFINITY;
	else if (e == 0)
		f = ldexpf((float)m, -16); /* 2^(1-15) * m/4 */
	else
		f = ldexpf((float)(4 + m), e - 17); /* 2^(e-15) * (4+m)/4 */
	return v & 0x80 ? -f : f;
}

double qs_tensor_get(const qs_tensor *t, int64_t i)
{
	const void *p = t->data;
	switch (t->dtype) {
	case QS_DT_BOOL:
		return ((const uint8_t *)p)[i] != 0;
	case QS_DT_I8:
		return ((const int8_t *)p)[i];
	case QS_DT_I16:
		return ((const int16_t *)p)[i];
	case QS_DT_I32:
		return ((const int32_t *)p)[i];
	case QS_DT_I64:
		return (double)((const int64_t *)p)[i];
	case QS_DT_U8:
		return ((const uint8_t *)p)[i];
	case QS_DT_U16:
		return ((const uint16_t *)p)[i];
	case QS_DT_U32:
		return ((const uint32_t *)p)[i];
	case QS_DT_U64:
		return (double)((const uint64_t *)p)[i];
	case QS_DT_F16:
		return qs_half_to_float(((const uint16_t *)p)[i]);
	case QS_DT_BF16:
		return qs_bf16_to_float(((const uint16_t *)p)[i]);
	case QS_DT_F32:
		return ((const float *)p)[i];
	case QS_DT_F64:
		return ((const double *)p)[i];
	case QS_DT_F8_E4M3:
		return qs_f8e4m3_to_float(((const uint8_t *)p)[i]);
	case QS_DT_F8_E5M2:
		return qs_f8e5m2_to_float(((const uint8_t *)p)[i]);
	default:
		return NAN;
	}
}

const float *qs_tensor_f32(qs_tensor *t, qs_error *err)
{
	if (t->dtype == QS_DT_F32)
		return t->data;
	if (t->f32_)
		return t->f32_;
	float *f = malloc((size_t)(t->size ? t->size : 1) * sizeof *f);
	if (!f) {
		qs_fail(err, QS_ENOMEM,
			"out of memory converting %lld elements to float32",
			(long long)t->size);
		return NULL;
	}
	for (int64_t i = 0; i < t->size; i++)
		f[i] = (float)qs_tensor_get(t, i);
	t->f32_ = f;
	return f;
}

#define STATS_CHUNK 65536

void qs_stats_compute(const float *x, size_t n, qs_stats *out)
{
	/* Chunked: float partials per chunk, merged in chunk order in
	 * double, so the result does not depend on threads. */
	double sum = 0, mn = INFINITY, mx = -INFINITY;
	int64_t cnt = 0, nan = 0, inf = 0;
	for (size_t c0 = 0; c0 < n; c0 += STATS_CHUNK) {
		size_t c1 = n - c0 < STATS_CHUNK ? n : c0 + STATS_CHUNK;
		double s = 0;
		float lo = INFINITY, hi = -INFINITY;
		int64_t k = 0;
		for (size_t i = c0; i < c1; i++) {
			float v = x[i];
			if (isnan(v)) {
				nan++;
				continue;
			}
			if (isinf(v)) {
				inf++;
				continue;
			}
			s += v;
			k++;
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
		sum += s;
		cnt += k;
		if (lo < mn)
			mn = lo;
		if (hi > mx)
			mx = hi;
	}
	out->count = cnt;
	out->nan = nan;
	out->inf = inf;
	if (!cnt) {
		out->min = out->max = out->mean = out->std = out->absmax = NAN;
		return;
	}
	double mean = sum / (double)cnt, ss = 0;
	for (size_t c0 = 0; c0 < n; c0 += STATS_CHUNK) {
		size_t c1 = n - c0 < STATS_CHUNK ? n : c0 + STATS_CHUNK;
		double s = 0;
		for (size_t i = c0; i < c1; i++) {
			float v = x[i];
			if (isfinite(v)) {
				double d = v - mean;
				s += d * d;
			}
		}
		ss += s;
	}
	out->min = mn;
	out->max = mx;
	out->mean = mean;
	out->std = sqrt(ss / (double)cnt);
	out->absmax = fabs(mn) > fabs(mx) ? fabs(mn) : fabs(mx);
}
