/* fuzz_common: shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c) and
 * their replay in tests/unit/t_files_fuzz.c.  The input is written to a
 * memfd and read back through its /proc/self/fd path, so the readers run
 * their real file paths (open, fstat, mmap, libzip). */
#ifndef QS_TESTS_FUZZ_COMMON_H
#define QS_TESTS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/file.h"
#include "engine/gguf.h"
#include "engine/npy.h"
#include "engine/npz.h"
#include "engine/safetensors.h"

/* The path of a file holding exactly data[0..n). */
static const char *fuzz_file(const uint8_t *data, size_t n)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("qsfuzz", 0);
		if (fd < 0)
			return "/nonexistent";
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0)
		return "/nonexistent";
	size_t done = 0;
	while (done < n) {
		ssize_t w = pwrite(fd, data + done, n - done, (off_t)done);
		if (w <= 0)
			return "/nonexistent";
		done += (size_t)w;
	}
	return path;
}

/* Touch every byte of a tensor and its float32 view (finds mappings and
 * buffers shorter than the shape says). */
static unsigned fuzz_touch(qs_tensor *t)
{
	unsigned h = 0;
	if (!t)
		return 0;
	const uint8_t *b = t->data;
	size_t bytes = (size_t)t->size * qs_dtype_size(t->dtype);
	for (size_t i = 0; i < bytes; i++)
		h = h * 31 + b[i];
	qs_error err;
	const float *f = qs_tensor_f32(t, &err);
	for (int64_t i = 0; f && i < t->size; i++)
		h += f[i] == f[i];
	qs_tensor_free(t);
	return h;
}

typedef qs_tensor *(*fuzz_loader)(const char *path, const char *name,
				  const qs_select *sel, qs_error *err);

/* Load a tensor whole and in parts: a row range, a channel on the last
 * axis, float32 conversion. */
static unsigned fuzz_parts(fuzz_loader load, const char *path, const char *name)
{
	qs_error err;
	unsigned h = fuzz_touch(load(path, name, NULL, &err));
	qs_select rows = {0, 0, 0, 1, 0, 0};
	h += fuzz_touch(load(path, name, &rows, &err));
	qs_select ch = {0, -1, 1, 2, 1, 1};
	h += fuzz_touch(load(path, name, &ch, &err));
	qs_select f32 = {1, 0, 0, 0, 0, 1};
	h += fuzz_touch(load(path, name, &f32, &err));
	return h;
}

/* List, then load up to 8 listed tensors and the default one. */
static unsigned fuzz_listed(qs_file_listing *(*list)(const char *, qs_error *),
			    fuzz_loader load, const char *path)
{
	qs_error err;
	unsigned h = 0;
	qs_file_listing *l = list(path, &err);
	for (size_t i = 0; l && i < l->count && i < 8; i++)
		if (l->entries[i].supported)
			h += fuzz_parts(load, path, l->entries[i].name);
	qs_file_listing_free(l);
	h += fuzz_touch(load(path, NULL, NULL, &err));
	return h;
}

#endif
