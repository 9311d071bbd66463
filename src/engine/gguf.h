/* gguf: GGUF files (ggml / llama.cpp, versions 2 and 3, little-endian).
 *
 * Listing parses the key-value metadata (string and scalar values are
 * kept; arrays are skipped) and the tensor table; every tensor is listed
 * with its ggml type name.  F32, F16, BF16, F64, I8, I16, I32 and I64
 * tensors load (memory-mapped like .safetensors); block-quantized types
 * (Q4_0, Q8_0, Q4_K...) are listed but not loaded.  ggml's dimensions run
 * fastest-first; shapes here are in numpy order (reversed).
 * Pure C11 + POSIX mmap; no printing. */
#ifndef QS_ENGINE_GGUF_H
#define QS_ENGINE_GGUF_H

#include <stdint.h>

#include "file.h"
#include "qs_error.h"
#include "tensor.h"

/* List the tensors of the open GGUF file fd of fsize bytes. */
qs_file_listing *qs_gguf_list_fd(int fd, const char *path, uint64_t fsize,
				 qs_error *err);

/* Load tensor `name` (NULL: the only one) restricted to sel. */
qs_tensor *qs_gguf_load_fd(int fd, const char *path, uint64_t fsize,
			   const char *name, const qs_select *sel,
			   qs_error *err);

#endif
