/* file: tensors in files of every supported format, through one door.
 *
 * qs_file_list names, shapes and dtypes of the tensors a file holds without
 * reading their data; qs_file_load loads one of them, or only a part of it
 * (a range of rows or channels), converting nothing but that part.  The
 * format is recognized by its magic bytes, then by the file name:
 *
 *   .npy                         one tensor (npy.h)
 *   .npz                         a zip of .npy members, stored or deflated
 *                                (npz.h, libzip)
 *   .safetensors                 memory-mapped, JSON header (safetensors.h,
 *                                Jansson)
 *   *.safetensors.index.json     a sharded checkpoint (safetensors.h)
 *   .gguf                        GGUF v2/v3, F32/F16/BF16 tensors listed and
 *                                loaded, quantized ones listed (gguf.h)
 *
 * Writers (qs_file_save) go to a temporary file in the target directory,
 * flushed with fsync and renamed into place, so a failure at any point
 * (a full disk included) leaves the old file intact; they refuse to replace
 * a file any of the tensors was loaded from unless asked.
 *
 * Pure C11 + POSIX file I/O and mmap, libzip and Jansson; no printing. */
#ifndef QS_ENGINE_FILE_H
#define QS_ENGINE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "qs_error.h"
#include "tensor.h"

/* A part of a tensor: the half-open range [start, stop) along one axis
 * (numpy's t[:, ..., start:stop, ...] with `axis` colons before it); with
 * drop set (stop == start + 1) the axis is removed, like numpy's
 * np.take(t, start, axis).  to_f32 converts the loaded part to float32.
 * A NULL selection, or all = 1, means the whole tensor. */
typedef struct qs_select {
	int all;       /* 1: the whole tensor (axis/start/stop ignored) */
	int axis;      /* 0-based; negative counts from the end */
	int64_t start; /* 0 <= start <= stop <= shape[axis] */
	int64_t stop;
	int drop;   /* remove the axis (requires stop == start + 1) */
	int to_f32; /* convert to float32 while loading */
} qs_select;

/* One tensor of a file. */
typedef struct qs_file_entry {
	const char *name;  /* tensor name (npz: member name without .npy) */
	const char *dtype; /* the file's own dtype name: "BF16", "<f4", "F16" */
	int supported;	   /* 1 when qs_file_load can load it */
	qs_dtype dt;	   /* the tensor's dtype when supported */
	int ndim;
	const int64_t *shape; /* numpy order (GGUF's reversed) */
	int64_t count;	      /* elements */
	uint64_t nbytes;      /* bytes of data (uncompressed) */
	const char *file;     /* the file holding the data (a shard) */
	uint64_t
	    offset; /* byte offset of the data in file; 0 when compressed */
} qs_file_entry;

/* What qs_file_list returns: entries sorted by name in natural order
 * ("layers.2" before "layers.10").  All strings are owned by the listing. */
typedef struct qs_file_listing {
	const char *path;
	const char *format; /* "npy" "npz" "safetensors" "safetensors-index"
			       "gguf" */
	size_t count;
	qs_file_entry *entries;
	size_t nmeta; /* free-form string metadata (safetensors __metadata__,
			 GGUF string keys), in file order */
	const char **meta_keys;
	const char **meta_values;
	void *priv_; /* storage, private to file.c */
} qs_file_listing;

/* List the tensors in path (any format above).  Reads headers only: a
 * 14 GB checkpoint lists in milliseconds.  Errors name the file and the
 * problem (QS_EIO, QS_EFORMAT, QS_EUNSUPPORTED).  Free with
 * qs_file_listing_free. */
qs_file_listing *qs_file_list(const char *path, qs_error *err);
void qs_file_listing_free(qs_file_listing *l);
/* The entry named name, or NULL. */
const qs_file_entry *qs_file_find(const qs_file_listing *l, const char *name);

/* Load the tensor `name` of path, or the file's only tensor when name is
 * NULL (an error lists how many there are otherwise), restricted to sel
 * (NULL: all of it).  Whole tensors and row ranges of little-endian,
 * aligned, uncompressed data are memory-mapped (the tensor owns a mapping
 * of its page-aligned byte range), so they cost no memory but page cache;
 * other parts are gathered into an owned buffer.  QS_EINVAL for a
 * selection outside the shape, QS_ENOMEM for a part larger than the
 * machine's memory.  The tensor's name is "path:name" ("path" for .npy). */
qs_tensor *qs_file_load(const char *path, const char *name,
			const qs_select *sel, qs_error *err);

/* Flags of qs_file_save. */
enum { QS_SAVE_OVERWRITE_INPUT = 1 };

/* Save n tensors under names to path as .safetensors (the only writable
 * multi-tensor format; F8 and BF16 included).  Temporary file + fsync +
 * rename: on failure the old file is intact and no temporary remains.
 * Refuses (QS_EINVAL) to replace a file one of the tensors was loaded from
 * unless flags has QS_SAVE_OVERWRITE_INPUT; duplicate names are QS_EINVAL. */
qs_status qs_file_save(const char *path, const char *const *names,
		       const qs_tensor *const *tensors, size_t n,
		       unsigned flags, qs_error *err);

/* ---- shared by the format modules ------------------------------------- */

/* Load a C-order tensor of shape (ndim, shape) and dtype dt whose data
 * starts at byte `offset` of the open file fd (already checked to lie
 * inside the file) in little- or big-endian byte order, restricted to sel;
 * the tensor is named tname (also the name in error messages). */
qs_tensor *qs_file_load_raw(int fd, const char *path, uint64_t offset,
			    qs_dtype dt, int big_endian, int ndim,
			    const int64_t *shape, const qs_select *sel,
			    const char *tname, qs_error *err);

/* Apply sel to an in-memory tensor: a new owned tensor (t is borrowed). */
qs_tensor *qs_file_select(const qs_tensor *t, const qs_select *sel,
			  const char *what, qs_error *err);

/* Check sel against a shape; on success fill the selected shape and the
 * outer/dim/inner decomposition (outer runs of (stop-start)*inner
 * elements, dim*inner elements apart, starting at start*inner). */
qs_status qs_file_select_shape(const qs_select *sel, int ndim,
			       const int64_t *shape, const char *what,
			       int *ondim, int64_t *oshape, int64_t *outer,
			       int64_t *dim, int64_t *inner, qs_error *err);

/* Convert n elements of dtype dt at src (bytes swapped when swap) into
 * dst of dtype odt, which is dt (a copy, bools made 0/1) or float32. */
void qs_file_convert(void *dst, qs_dtype odt, const void *src, qs_dtype dt,
		     int swap, int64_t n);

/* numpy's descr of dt in a byte order ("<f4", ">i2", "|u1") into out
 * (at least 8 bytes). */
void qs_file_npy_descr(qs_dtype dt, int big_endian, char *out);

/* QS_ENOMEM unless `bytes` fits in the machine's physical memory. */
qs_status qs_file_check_memory(uint64_t bytes, const char *what, qs_error *err);

/* A listing under construction (format modules only). */
typedef struct qs_file_builder qs_file_builder;
qs_file_builder *qs_file_builder_new(const char *path, const char *format,
				     qs_error *err);
/* Add an entry (strings and shape copied); QS_ENOMEM on failure. */
qs_status qs_file_builder_add(qs_file_builder *b, const qs_file_entry *e,
			      qs_error *err);
qs_status qs_file_builder_meta(qs_file_builder *b, const char *key,
			       const char *value, qs_error *err);
/* Sort, finish and hand over the listing (b is consumed, also on error). */
qs_file_listing *qs_file_builder_done(qs_file_builder *b, qs_error *err);
void qs_file_builder_free(qs_file_builder *b);

#endif
