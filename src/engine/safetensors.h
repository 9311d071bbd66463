/* safetensors: Hugging Face .safetensors files and sharded checkpoints
 * (model.safetensors.index.json).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 * (parsed with Jansson), then the data; each tensor is
 * {"dtype": "BF16", "shape": [...], "data_offsets": [begin, end]} with
 * offsets relative to the data, and "__metadata__" maps strings to
 * strings.  Dtypes loaded: F64 F32 F16 BF16 F8_E4M3 F8_E5M2 I8 I16 I32
 * I64 U8 U16 U32 U64 BOOL; others are listed but not loaded.
 *
 * Data is memory-mapped: a loaded tensor (or a row range of it) owns one
 * mapping of its own page-aligned byte range, so tensors outlive the file
 * handle and each other, and nothing is copied unless a part must be
 * gathered or converted.  Headers over 100,000,000 bytes (the reference
 * implementation's cap) are refused before anything is read.
 * Pure C11 + POSIX + Jansson; no printing. */
#ifndef QS_ENGINE_SAFETENSORS_H
#define QS_ENGINE_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "file.h"
#include "qs_error.h"
#include "tensor.h"

/* The reference implementation's limit on the JSON header (bytes). */
#define QS_SAFETENSORS_MAX_HEADER 100000000
/* Limit on the size of a model.safetensors.index.json file (bytes). */
#define QS_SAFETENSORS_MAX_INDEX 100000000
/* Limit on the JSON values of a header or index, counted before parsing
 * as its ',' '{' '[' bytes: about 250,000 tensors, a parse tree of about
 * 300 MB.  A 100 MB header of tensor entries (about 10^6 tensors, a
 * 1.1 GB tree) is refused at once. */
#define QS_SAFETENSORS_MAX_VALUES 2000000

/* List the tensors of a .safetensors file (header only).  Errors name the
 * file and, for a bad entry, the tensor: header too large or past the end
 * of the file, JSON syntax (with line and column), a shape that is not a
 * list of non-negative integers, an element count that overflows,
 * data_offsets outside the data or not matching shape and dtype. */
qs_file_listing *qs_safetensors_list(const char *path, qs_error *err);
/* The same on an open file of fsize bytes (fd stays open). */
qs_file_listing *qs_safetensors_list_fd(int fd, const char *path,
					uint64_t fsize, qs_error *err);

/* Load tensor `name` (NULL: the only one) restricted to sel (NULL: all);
 * see qs_file_load. */
qs_tensor *qs_safetensors_load(const char *path, const char *name,
			       const qs_select *sel, qs_error *err);
qs_tensor *qs_safetensors_load_fd(int fd, const char *path, uint64_t fsize,
				  const char *name, const qs_select *sel,
				  qs_error *err);

/* Sharded checkpoints: the index's "weight_map" names, for each tensor,
 * the shard file in the index's directory (a plain file name: no '/', no
 * "..").  Listing reads the index and every shard's header. */
qs_file_listing *qs_safetensors_index_list(const char *path, qs_error *err);
qs_tensor *qs_safetensors_index_load(const char *path, const char *name,
				     const qs_select *sel, qs_error *err);

/* Write n tensors (any dtype) under names, in order of decreasing element
 * size then name so that every tensor is aligned, with an 8-byte aligned
 * header; see qs_file_save for atomicity and flags. */
qs_status qs_safetensors_save(const char *path, const char *const *names,
			      const qs_tensor *const *tensors, size_t n,
			      unsigned flags, qs_error *err);

#endif
