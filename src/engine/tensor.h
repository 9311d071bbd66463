/* tensor: an n-dimensional array in C order, native byte order.
 *
 * A tensor owns its storage: a malloc'd buffer or a read-only file mapping
 * (see npy.h).  Computation works on float32; other dtypes get a float32
 * copy on demand (qs_tensor_f32).  Pure C11 + POSIX mmap: no printing. */
#ifndef QS_ENGINE_TENSOR_H
#define QS_ENGINE_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "qs_error.h"

typedef enum qs_dtype {
	QS_DT_BOOL = 0,
	QS_DT_I8,
	QS_DT_I16,
	QS_DT_I32,
	QS_DT_I64,
	QS_DT_U8,
	QS_DT_U16,
	QS_DT_U32,
	QS_DT_U64,
	QS_DT_F16,
	QS_DT_BF16,
	QS_DT_F32,
	QS_DT_F64,
	QS_DT_F8_E4M3, /* OCP E4M3FN: bias 7, no Inf, NaN 0x7F/0xFF */
	QS_DT_F8_E5M2, /* OCP E5M2: bias 15, IEEE Inf/NaN */
	QS_DT_COUNT
} qs_dtype;

#define QS_MAX_NDIM 64 /* numpy 2's limit */

typedef struct qs_tensor {
	qs_dtype dtype;
	int ndim;                     /* 0 for a scalar (one element) */
	int64_t shape[QS_MAX_NDIM];
	int64_t size;                 /* product of shape (1 for ndim 0) */
	void *data;                   /* size elements, C order, native order */
	char *name;                   /* file name or NULL; owned */
	/* storage, private to tensor.c / npy.c */
	void *buf_;                   /* malloc'd block to free, or NULL */
	void *map_;                   /* mmap'd region to munmap, or NULL */
	size_t map_len_;
	float *f32_;                  /* cached float32 copy (non-f32 dtypes) */
} qs_tensor;

/* numpy name of a dtype ("float32", "int8", "bool", "bfloat16"...). */
const char *qs_dtype_name(qs_dtype dt);
/* Parse a numpy dtype name; 0 and *out, or -1. */
int qs_dtype_parse(const char *name, qs_dtype *out);
/* Bytes per element. */
size_t qs_dtype_size(qs_dtype dt);

/* New zero-filled tensor; shape may be NULL when ndim is 0.  Fails with
 * QS_EINVAL on a negative dimension or an element count whose byte size
 * overflows, QS_ENOMEM when out of memory.  Free with qs_tensor_free. */
qs_tensor *qs_tensor_new(qs_dtype dt, int ndim, const int64_t *shape,
			 qs_error *err);
/* A deep copy (owned, never mapped). */
qs_tensor *qs_tensor_dup(const qs_tensor *t, qs_error *err);
/* Free t and its storage; NULL is a no-op. */
void qs_tensor_free(qs_tensor *t);
/* Replace t's name by a copy of name (NULL clears); QS_ENOMEM on failure. */
qs_status qs_tensor_set_name(qs_tensor *t, const char *name, qs_error *err);

/* Element count of a shape with overflow check: 0 and *count, or -1 when
 * a dimension is negative or the product exceeds INT64_MAX / elem. */
int qs_shape_count(int ndim, const int64_t *shape, size_t elem,
		   int64_t *count);

/* Element i (0-based, flat C order) as a double. */
double qs_tensor_get(const qs_tensor *t, int64_t i);

/* The tensor's values as float32: the data itself for float32 tensors, a
 * cached converted copy (owned by t) otherwise.  NULL on QS_ENOMEM. */
const float *qs_tensor_f32(qs_tensor *t, qs_error *err);

/* Summary statistics over the finite values (NaN and +-Inf are counted
 * apart).  std is the population standard deviation (numpy's ddof=0).
 * With no finite value, min/max/mean/std/absmax are NaN. */
typedef struct qs_stats {
	double min, max, mean, std, absmax;
	int64_t count; /* finite values */
	int64_t nan, inf;
} qs_stats;

void qs_stats_compute(const float *x, size_t n, qs_stats *out);

/* Convert between float32 and IEEE half / bfloat16 bits (RNE). */
float qs_half_to_float(uint16_t h);
uint16_t qs_float_to_half(float f);
float qs_bf16_to_float(uint16_t b);
uint16_t qs_float_to_bf16(float f);
/* Decode OCP float8 E4M3FN / E5M2 bits to float32, exact. */
float qs_f8e4m3_to_float(uint8_t v);
float qs_f8e5m2_to_float(uint8_t v);

#endif
