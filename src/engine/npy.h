/* npy: NumPy .npy files, versions 1.0, 2.0 and 3.0 (numpy/lib/format.py).
 *
 * Reading: dtypes f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1 in any byte order,
 * C or Fortran order (converted to C order), any rank.  Native-endian C-order
 * data is memory-mapped read-only, not copied; the tensor owns the mapping.
 * Writing: v1.0 (v2.0 when the header needs it), to a temporary file in the
 * target directory renamed into place.  No printing. */
#ifndef QS_ENGINE_NPY_H
#define QS_ENGINE_NPY_H

#include <stddef.h>

#include "qs_error.h"
#include "tensor.h"

/* numpy's default cap on the header length (max_header_size). */
#define QS_NPY_MAX_HEADER 10000

/* Load path.  Errors name the file and the problem: QS_EIO (cannot open or
 * read), QS_EFORMAT (bad magic, bad header, truncated data, element count
 * overflowing or exceeding the file), QS_EUNSUPPORTED (object or structured
 * dtype, unknown dtype). */
qs_tensor *qs_npy_load(const char *path, qs_error *err);

/* Parse an in-memory .npy image (no mapping; data copied).  name is used
 * in error messages. */
qs_tensor *qs_npy_parse(const void *buf, size_t len, const char *name,
			qs_error *err);

/* What a .npy header says, without the data. */
typedef struct qs_npy_info {
	qs_dtype dtype;
	int swap;    /* data in the other byte order */
	int fortran; /* data in Fortran order (rank 2 or more) */
	int ndim;
	int64_t shape[QS_MAX_NDIM];
	int64_t count; /* elements */
	size_t offset; /* bytes before the data */
	size_t bytes;  /* data bytes: count * element size */
} qs_npy_info;

/* Parse the magic and header at the start of buf (len bytes holding at
 * least the header; the data need not follow).  Same checks and messages
 * as qs_npy_parse, except that the data is not required to fit; *out is
 * written on success only.  Lets container formats (.npz) list members
 * without reading their data. */
qs_status qs_npy_read_header(const void *buf, size_t len, const char *name,
			     qs_npy_info *out, qs_error *err);

/* Save t to path atomically (temporary file + rename).  QS_EIO on failure;
 * the previous file at path, if any, is left intact. */
qs_status qs_npy_save(const qs_tensor *t, const char *path, qs_error *err);

#endif
