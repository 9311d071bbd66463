/* file: format dispatch, listings, and loading a part of a tensor from a
 * file mapping (shared by the .npy, .safetensors and GGUF readers).
 * Pure C11 + POSIX file I/O and mmap (+ OpenMP); no printing. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"
#include "npy.h"
#include "npz.h"
#include "safetensors.h"

static int host_le(void)
{
	const uint16_t one = 1;
	return *(const uint8_t *)&one == 1;
}

/* ---- listings ------------------------------------------------------------ */

/* Strings and shapes live in blocks that never move, so entries may point
 * into them while the entry array grows. */
typedef struct block {
	struct block *next;
	size_t used, cap;
	_Alignas(8) unsigned char data[];
} block;

struct qs_file_builder {
	qs_file_listing *l;
	block *blocks;
	size_t cap, mcap;
};

typedef struct priv {
	block *blocks;
} priv;

static void *arena_alloc(qs_file_builder *b, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if (!b->blocks || b->blocks->cap - b->blocks->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		block *k = malloc(sizeof *k + cap);
		if (!k)
			return NULL;
		k->next = b->blocks;
		k->used = 0;
		k->cap = cap;
		b->blocks = k;
	}
	void *p = b->blocks->data + b->blocks->used;
	b->blocks->used += n;
	return p;
}

static const char *arena_str(qs_file_builder *b, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(b, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static void free_blocks(block *k)
{
	while (k) {
		block *n = k->next;
		free(k);
		k = n;
	}
}

qs_file_builder *qs_file_builder_new(const char *path, const char *format,
				     qs_error *err)
{
	qs_file_builder *b = calloc(1, sizeof *b);
	qs_file_listing *l = calloc(1, sizeof *l);
	if (!b || !l) {
		free(b);
		free(l);
		qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
		return NULL;
	}
	b->l = l;
	l->path = arena_str(b, path);
	l->format = arena_str(b, format);
	if (!l->path || !l->format) {
		qs_file_builder_free(b);
		qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
		return NULL;
	}
	return b;
}

void qs_file_builder_free(qs_file_builder *b)
{
	if (!b)
		return;
	free(b->l->entries);
	free(b->l->meta_keys);
	free(b->l->meta_values);
	free(b->l);
	free_blocks(b->blocks);
	free(b);
}

qs_status qs_file_builder_add(qs_file_builder *b, const qs_file_entry *e,
			      qs_error *err)
{
	qs_file_listing *l = b->l;
	if (l->count == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		qs_file_entry *n = realloc(l->entries, cap * sizeof *n);
		if (!n)
			return qs_fail(err, QS_ENOMEM, "%s: out of memory",
				       l->path);
		l->entries = n;
		b->cap = cap;
	}
	qs_file_entry c = *e;
	c.name = arena_str(b, e->name);
	c.dtype = arena_str(b, e->dtype);
	c.file = e->file ? arena_str(b, e->file) : l->path;
	int64_t *shape =
	    arena_alloc(b, sizeof(int64_t) * (size_t)(e->ndim ? e->ndim : 1));
	if (!c.name || !c.dtype || !c.file || !shape)
		return qs_fail(err, QS_ENOMEM, "%s: out of memory", l->path);
	memcpy(shape, e->shape, sizeof(int64_t) * (size_t)e->ndim);
	c.shape = shape;
	l->entries[l->count++] = c;
	return QS_OK;
}

qs_status qs_file_builder_meta(qs_file_builder *b, const char *key,
			       const char *value, qs_error *err)
{
	qs_file_listing *l = b->l;
	if (l->nmeta == b->mcap) {
		size_t cap = b->mcap ? 2 * b->mcap : 16;
		const char **k = realloc(l->meta_keys, cap * sizeof *k);
		if (k)
			l->meta_keys = k;
		const char **v =
		    k ? realloc(l->meta_values, cap * sizeof *v) : NULL;
		if (!v)
			return qs_fail(err, QS_ENOMEM, "%s: out of memory",
				       l->path);
		l->meta_values = v;
		b->mcap = cap;
	}
	const char *k = arena_str(b, key), *v = arena_str(b, value);
	if (!k || !v)
		return qs_fail(err, QS_ENOMEM, "%s: out of memory", l->path);
	l->meta_keys[l->nmeta] = k;
	l->meta_values[l->nmeta] = v;
	l->nmeta++;
	return QS_OK;
}

/* Natural order: runs of digits compare as numbers ("h.2" < "h.10"),
 * everything else bytewise; ties fall back to strcmp. */
static int natural_cmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a,
			    *q = (const unsigned char *)b;
	while (*p && *q) {
		if (*p >= '0' && *p <= '9' && *q >= '0' && *q <= '9') {
			const unsigned char *p0 = p, *q0 = q;
			while (*p0 == '0')
				p0++;
			while (*q0 == '0')
				q0++;
			const unsigned char *p1 = p0, *q1 = q0;
			while (*p1 >= '0' && *p1 <= '9')
				p1++;
			while (*q1 >= '0' && *q1 <= '9')
				q1++;
			if (p1 - p0 != q1 - q0)
				return p1 - p0 < q1 - q0 ? -1 : 1;
			int c = memcmp(p0, q0, (size_t)(p1 - p0));
			if (c)
				return c;
			p = p1;
			q = q1;
			continue;
		}
		if (*p != *q)
			return *p < *q ? -1 : 1;
		p++;
		q++;
	}
	if (*p || *q)
		return *p ? 1 : -1;
	return strcmp(a, b);
}

static int entry_cmp(const void *x, const void *y)
{
	const qs_file_entry *a = x, *b = y;
	return natural_cmp(a->name, b->name);
}

qs_file_listing *qs_file_builder_done(qs_file_builder *b, qs_error *err)
{
	qs_file_listing *l = b->l;
	priv *p = malloc(sizeof *p);
	if (!p) {
		qs_fail(err, QS_ENOMEM, "%s: out of memory", l->path);
		qs_file_builder_free(b);
		return NULL;
	}
	if (l->count > 1)
		qsort(l->entries, l->count, sizeof *l->entries, entry_cmp);
	p->blocks = b->blocks;
	l->priv_ = p;
	free(b);
	return l;
}

void qs_file_listing_free(qs_file_listing *l)
{
	if (!l)
		return;
	priv *p = l->priv_;
	free(l->entries);
	free(l->meta_keys);
	free(l->meta_values);
	if (p)
		free_blocks(p->blocks);
	free(p);
	free(l);
}

const qs_file_entry *qs_file_find(const qs_file_listing *l, const char *name)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->entries[i].name, name) == 0)
			return &l->entries[i];
	return NULL;
}

/* ---- selections ------------------------------------------------------ */

qs_status qs_file_check_memory(uint64_t bytes, const char *what, qs_error *err)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || psz <= 0)
		return QS_OK; /* unknown: let malloc decide */
	uint64_t phys = (uint64_t)pages * (uint64_t)psz;
	if (bytes > phys || bytes > (uint64_t)SIZE_MAX / 2)
		return qs_fail(err, QS_ENOMEM,
			       "%s: needs %llu bytes, more than this machine's "
			       "%llu bytes of memory (load a part: rows or a "
			       "channel)",
			       what, (unsigned long long)bytes,
			       (unsigned long long)phys);
	return QS_OK;
}

qs_status qs_file_select_shape(const qs_select *sel, int ndim,
			       const int64_t *shape, const char *what,
			       int *ondim, int64_t *oshape, int64_t *outer,
			       int64_t *dim, int64_t *inner, qs_error *err)
{
	/* shapes come checked (qs_shape_count), but with a zero dimension
	 * the others may multiply past INT64_MAX: multiply only without */
	int64_t count = 1;
	for (int i = 0; i < ndim; i++)
		if (shape[i] == 0)
			count = 0;
	for (int i = 0; count && i < ndim; i++)
		count *= shape[i];
	if (!sel || sel->all) {
		*ondim = ndim;
		memcpy(oshape, shape, sizeof(int64_t) * (size_t)ndim);
		*outer = 1;
		*dim = 1;
		*inner = count;
		return QS_OK;
	}
	if (ndim == 0)
		return qs_fail(err, QS_EINVAL,
			       "%s: a 0-d tensor has no axis to select along",
			       what);
	int axis = sel->axis < 0 ? sel->axis + ndim : sel->axis;
	if (axis < 0 || axis >= ndim)
		return qs_fail(err, QS_EINVAL,
			       "%s: axis %d out of range for a %d-d tensor "
			       "(0..%d)",
			       what, sel->axis, ndim, ndim - 1);
	int64_t n = shape[axis];
	if (sel->start < 0 || sel->stop < sel->start || sel->stop > n)
		return qs_fail(err, QS_EINVAL,
			       "%s: range [%lld, %lld) outside axis %d of "
			       "length %lld",
			       what, (long long)sel->start,
			       (long long)sel->stop, axis, (long long)n);
	if (sel->drop && sel->stop != sel->start + 1)
		return qs_fail(err, QS_EINVAL,
			       "%s: dropping axis %d needs a range of one",
			       what, axis);
	int64_t o = 0, in = 0; /* nothing to read when count is 0 */
	if (count) {
		o = in = 1;
		for (int i = 0; i < axis; i++)
			o *= shape[i];
		for (int i = axis + 1; i < ndim; i++)
			in *= shape[i];
	}
	int k = 0;
	for (int i = 0; i < ndim; i++) {
		if (i == axis) {
			if (!sel->drop)
				oshape[k++] = sel->stop - sel->start;
		} else {
			oshape[k++] = shape[i];
		}
	}
	*ondim = k;
	*outer = o;
	*dim = n;
	*inner = in;
	return QS_OK;
}

static uint16_t ld16(const uint8_t *p, int swap)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return swap ? (uint16_t)(v >> 8 | v << 8) : v;
}

static void swap_elem(uint8_t *d, const uint8_t *s, size_t sz)
{
	for (size_t k = 0; k < sz; k++)
		d[k] = s[sz - 1 - k];
}

/* Convert n elements of dtype dt at src (byte-swapped when swap) to
 * float32 at dst; f8 holds the 256 decoded float8 values of dt. */
static void to_f32(float *dst, const uint8_t *src, int64_t n, qs_dtype dt,
		   int swap, const float *f8)
{
	size_t sz = qs_dtype_size(dt);
	switch (dt) {
	case QS_DT_BF16:
		for (int64_t i = 0; i < n; i++) {
			uint32_t b = (uint32_t)ld16(src + 2 * i, swap) << 16;
			memcpy(dst + i, &b, 4);
		}
		return;
	case QS_DT_F16:
		for (int64_t i = 0; i < n; i++)
			dst[i] = qs_half_to_float(ld16(src + 2 * i, swap));
		return;
	case QS_DT_F8_E4M3:
	case QS_DT_F8_E5M2:
		for (int64_t i = 0; i < n; i++)
			dst[i] = f8[src[i]];
		return;
	case QS_DT_F32:
		if (!swap) {
			memcpy(dst, src, (size_t)n * 4);
			return;
		}
		for (int64_t i = 0; i < n; i++)
			swap_elem((uint8_t *)(dst + i), src + 4 * i, 4);
		return;
	default: {
		/* the rest through one native element at a time */
		qs_tensor one;
		uint64_t cell;
		memset(&one, 0, sizeof one);
		one.dtype = dt;
		one.size = 1;
		one.data = &cell;
		for (int64_t i = 0; i < n; i++) {
			if (swap)
				swap_elem((uint8_t *)&cell,
					  src + sz * (size_t)i, sz);
			else
				memcpy(&cell, src + sz * (size_t)i, sz);
			dst[i] = (float)qs_tensor_get(&one, 0);
		}
		return;
	}
	}
}

/* Copy n elements (same dtype) from src to dst, swapping bytes when asked
 * and normalizing bools to 0/1. */
static void copy_elems(uint8_t *dst, const uint8_t *src, int64_t n, qs_dtype dt,
		       int swap)
{
	size_t sz = qs_dtype_size(dt);
	if (dt == QS_DT_BOOL) {
		for (int64_t i = 0; i < n; i++)
			dst[i] = src[i] != 0;
	} else if (swap && sz > 1) {
		for (int64_t i = 0; i < n; i++)
			swap_elem(dst + sz * (size_t)i, src + sz * (size_t)i,
				  sz);
	} else {
		memcpy(dst, src, (size_t)n * sz);
	}
}

/* The 256 float32 values of a float8 dtype. */
static void f8_table(qs_dtype dt, float *f8)
{
	if (dt == QS_DT_F8_E4M3 || dt == QS_DT_F8_E5M2)
		for (int c = 0; c < 256; c++)
			f8[c] = dt == QS_DT_F8_E4M3
				    ? qs_f8e4m3_to_float((uint8_t)c)
				    : qs_f8e5m2_to_float((uint8_t)c);
}

void qs_file_convert(void *dst, qs_dtype odt, const void *src, qs_dtype dt,
		     int swap, int64_t n)
{
	if (odt == dt) {
		copy_elems(dst, src, n, dt, swap);
		return;
	}
	float f8[256];
	f8_table(dt, f8);
	to_f32(dst, src, n, dt, swap, f8);
}

#define CHUNK 65536

/* Gather the selected runs of src into t (already shaped): outer runs of
 * run elements, stride dim*inner elements, the first at start*inner.
 * Parallel over runs, or over chunks of a single long run. */
static void gather(qs_tensor *t, const uint8_t *src, qs_dtype dt, int swap,
		   int64_t outer, int64_t stride, int64_t run)
{
	size_t sz = qs_dtype_size(dt);
	float f8[256];
	f8_table(dt, f8);
	int conv = t->dtype != dt;
	size_t osz = qs_dtype_size(t->dtype);
	uint8_t *out = t->data;
	if (outer == 1) {
		int64_t nch = (run + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) if (run > 4 * CHUNK)
		for (int64_t c = 0; c < nch; c++) {
			int64_t a = c * CHUNK,
				n = run - a < CHUNK ? run - a : CHUNK;
			if (conv)
				to_f32((float *)(out + osz * (size_t)a),
				       src + sz * (size_t)a, n, dt, swap, f8);
			else
				copy_elems(out + osz * (size_t)a,
					   src + sz * (size_t)a, n, dt, swap);
		}
		return;
	}
#pragma omp parallel for schedule(static) if (outer * run > 4 * CHUNK)
	for (int64_t o = 0; o < outer; o++) {
		const uint8_t *s = src + sz * (size_t)(o * stride);
		uint8_t *d = out + osz * (size_t)(o * run);
		if (conv)
			to_f32((float *)d, s, run, dt, swap, f8);
		else
			copy_elems(d, s, run, dt, swap);
	}
}

/* A new tensor without storage (the caller sets data and ownership). */
static qs_tensor *bare_tensor(qs_dtype dt, int ndim, const int64_t *shape,
			      int64_t count, const char *tname, qs_error *err)
{
	qs_tensor *t = calloc(1, sizeof *t);
	if (!t) {
		qs_fail(err, QS_ENOMEM, "%s: out of memory", tname);
		return NULL;
	}
	t->dtype = dt;
	t->ndim = ndim;
	memcpy(t->shape, shape, sizeof(int64_t) * (size_t)ndim);
	t->size = count;
	if (qs_tensor_set_name(t, tname, err) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

qs_tensor *qs_file_load_raw(int fd, const char *path, uint64_t offset,
			    qs_dtype dt, int big_endian, int ndim,
			    const int64_t *shape, const qs_select *sel,
			    const char *tname, qs_error *err)
{
	int ondim;
	int64_t oshape[QS_MAX_NDIM], outer, dim, inner;
	if (qs_file_select_shape(sel, ndim, shape, tname, &ondim, oshape,
				 &outer, &dim, &inner, err) < 0)
		return NULL;
	int64_t start = sel && !sel->all ? sel->start : 0,
		stop = sel && !sel->all ? sel->stop : 1;
	size_t sz = qs_dtype_size(dt);
	int64_t run = (stop - start) * inner, count = outer * run;
	int swap = sz > 1 && big_endian == host_le();
	qs_dtype odt = sel && sel->to_f32 ? QS_DT_F32 : dt;
	/* bytes spanned in the file: from the first selected element to the
	 * end of the last run */
	uint64_t first = (uint64_t)(start * inner) * sz;
	uint64_t span =
	    count ? ((uint64_t)((outer - 1) * dim * inner) + (uint64_t)run) * sz
		  : 0;
	uint64_t src_off = offset + first;
	(void)path;
	if (count == 0) {
		qs_tensor *t = qs_tensor_new(odt, ondim, oshape, err);
		if (t && qs_tensor_set_name(t, tname, err) < 0) {
			qs_tensor_free(t);
			return NULL;
		}
		return t;
	}
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t base = src_off - src_off % (uint64_t)(pg > 0 ? pg : 4096);
	uint64_t mlen = src_off - base + span;
	if (mlen > (uint64_t)SIZE_MAX) {
		qs_fail(err, QS_ENOMEM, "%s: %llu bytes do not fit in memory",
			tname, (unsigned long long)mlen);
		return NULL;
	}
	void *map =
	    mmap(NULL, (size_t)mlen, PROT_READ, MAP_PRIVATE, fd, (off_t)base);
	if (map == MAP_FAILED) {
		qs_fail(err, errno == ENOMEM ? QS_ENOMEM : QS_EIO,
			"%s: cannot map %llu bytes: %s", tname,
			(unsigned long long)mlen, strerror(errno));
		return NULL;
	}
	const uint8_t *src = (const uint8_t *)map + (src_off - base);
	int in_place = outer == 1 && odt == dt && !swap && dt != QS_DT_BOOL &&
		       (uintptr_t)src % sz == 0;
	if (in_place) {
		qs_tensor *t =
		    bare_tensor(dt, ondim, oshape, count, tname, err);
		if (!t) {
			munmap(map, (size_t)mlen);
			return NULL;
		}
		t->data = (void *)src;
		t->map_ = map;
		t->map_len_ = (size_t)mlen;
		posix_madvise(map, (size_t)mlen, POSIX_MADV_WILLNEED);
		return t;
	}
	if (qs_file_check_memory((uint64_t)count * qs_dtype_size(odt), tname,
				 err) < 0) {
		munmap(map, (size_t)mlen);
		return NULL;
	}
	qs_tensor *t = qs_tensor_new(odt, ondim, oshape, err);
	if (!t || qs_tensor_set_name(t, tname, err) < 0) {
		qs_tensor_free(t);
		munmap(map, (size_t)mlen);
		return NULL;
	}
	gather(t, src, dt, swap, outer, dim * inner, run);
	munmap(map, (size_t)mlen);
	return t;
}

qs_tensor *qs_file_select(const qs_tensor *s, const qs_select *sel,
			  const char *what, qs_error *err)
{
	int ondim;
	int64_t oshape[QS_MAX_NDIM], outer, dim, inner;
	if (qs_file_select_shape(sel, s->ndim, s->shape, what, &ondim, oshape,
				 &outer, &dim, &inner, err) < 0)
		return NULL;
	int64_t start = sel && !sel->all ? sel->start : 0,
		stop = sel && !sel->all ? sel->stop : 1;
	int64_t run = (stop - start) * inner;
	qs_dtype odt = sel && sel->to_f32 ? QS_DT_F32 : s->dtype;
	qs_tensor *t = qs_tensor_new(odt, ondim, oshape, err);
	if (!t)
		return NULL;
	if (qs_tensor_set_name(t, s->name, err) < 0) {
		qs_tensor_free(t);
		return NULL;
	}
	if (outer * run > 0)
		gather(t,
		       (const uint8_t *)s->data +
			   (size_t)(start * inner) * qs_dtype_size(s->dtype),
		       s->dtype, 0, outer, dim * inner, run);
	return t;
}

/* ---- .npy through the same door ---------------------------------------- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* The entry name of a .npy file: its base name without ".npy". */
static void npy_entry_name(const char *path, char *out, size_t cap)
{
	const char *b = base_name(path);
	size_t n = strlen(b);
	if (n > 4 && strcmp(b + n - 4, ".npy") == 0)
		n -= 4;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, b, n);
	out[n] = '\0';
}

void qs_file_npy_descr(qs_dtype dt, int big, char *out)
{
	static const char *const code[QS_DT_COUNT] = {
	    [QS_DT_BOOL] = "b1", [QS_DT_I8] = "i1",  [QS_DT_I16] = "i2",
	    [QS_DT_I32] = "i4",	 [QS_DT_I64] = "i8", [QS_DT_U8] = "u1",
	    [QS_DT_U16] = "u2",	 [QS_DT_U32] = "u4", [QS_DT_U64] = "u8",
	    [QS_DT_F16] = "f2",	 [QS_DT_F32] = "f4", [QS_DT_F64] = "f8",
	};
	const char *c = (unsigned)dt < QS_DT_COUNT && code[dt] ? code[dt] : "?";
	out[0] = qs_dtype_size(dt) == 1 ? '|' : big ? '>' : '<';
	strcpy(out + 1, c);
}

/* Read and parse the header of the open .npy file fd. */
static qs_status npy_header(int fd, const char *path, uint64_t fsize,
			    qs_npy_info *info, qs_error *err)
{
	unsigned char buf[12 + QS_NPY_MAX_HEADER];
	size_t want = fsize < sizeof buf ? (size_t)fsize : sizeof buf, got = 0;
	while (got < want) {
		ssize_t r = pread(fd, buf + got, want - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return qs_fail(err, QS_EIO, "%s: %s", path,
				       strerror(errno));
		if (r == 0)
			break;
		got += (size_t)r;
	}
	qs_status st = qs_npy_read_header(buf, got, path, info, err);
	if (st < 0)
		return st;
	if (info->bytes > fsize - info->offset)
		return qs_fail(err, QS_EFORMAT,
			       "%s: truncated data: need %zu bytes, have %llu",
			       path, info->bytes,
			       (unsigned long long)(fsize - info->offset));
	return QS_OK;
}

static qs_file_listing *npy_list(int fd, const char *path, uint64_t fsize,
				 qs_error *err)
{
	qs_npy_info info;
	if (npy_header(fd, path, fsize, &info, err) < 0)
		return NULL;
	char name[256], descr[8];
	npy_entry_name(path, name, sizeof name);
	qs_file_npy_descr(info.dtype, info.swap ? host_le() : !host_le(),
			  descr);
	qs_file_entry e = {
	    .name = name,
	    .dtype = descr,
	    .supported = 1,
	    .dt = info.dtype,
	    .ndim = info.ndim,
	    .shape = info.shape,
	    .count = info.count,
	    .nbytes = info.bytes,
	    .file = path,
	    .offset = info.offset,
	};
	qs_file_builder *b = qs_file_builder_new(path, "npy", err);
	if (!b)
		return NULL;
	if (qs_file_builder_add(b, &e, err) < 0) {
		qs_file_builder_free(b);
		return NULL;
	}
	return qs_file_builder_done(b, err);
}

static qs_tensor *npy_load(int fd, const char *path, uint64_t fsize,
			   const char *name, const qs_select *sel,
			   qs_error *err)
{
	char own[256];
	npy_entry_name(path, own, sizeof own);
	if (name && strcmp(name, own) != 0) {
		qs_fail(err, QS_EINVAL,
			"%s: no tensor '%s' (a .npy file holds one, '%s')",
			path, name, own);
		return NULL;
	}
	if (!sel || (sel->all && !sel->to_f32))
		return qs_npy_load(path, err);
	qs_npy_info info;
	if (npy_header(fd, path, fsize, &info, err) < 0)
		return NULL;
	if (!info.fortran)
		return qs_file_load_raw(fd, path, info.offset, info.dtype,
					info.swap ? host_le() : !host_le(),
					info.ndim, info.shape, sel, path, err);
	/* Fortran order: numpy's reader converts the whole tensor first */
	qs_tensor *whole = qs_npy_load(path, err);
	if (!whole)
		return NULL;
	qs_tensor *t = qs_file_select(whole, sel, path, err);
	qs_tensor_free(whole);
	return t;
}

/* ---- dispatch ------------------------------------------------------------ */

typedef enum kind {
	K_NPY,
	K_NPZ,
	K_ST,
	K_INDEX,
	K_GGUF,
} kind;

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* Open path (or the checkpoint in a directory) and recognize its format.
 * On success *fd is open (except for indexes, read by name) and *resolved
 * is path or a malloc'd path inside the directory. */
static qs_status sniff(const char *path, int *fd, uint64_t *fsize, kind *k,
		       char **resolved, qs_error *err)
{
	*resolved = NULL;
	struct stat st;
	if (stat(path, &st) < 0)
		return qs_fail(err, QS_EIO, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		static const char *const names[] = {
		    "model.safetensors.index.json", "model.safetensors"};
		for (size_t i = 0; i < 2; i++) {
			size_t n = strlen(path) + strlen(names[i]) + 2;
			char *p = malloc(n);
			if (!p)
				return qs_fail(err, QS_ENOMEM,
					       "%s: out of memory", path);
			snprintf(p, n, "%s/%s", path, names[i]);
			struct stat s2;
			if (stat(p, &s2) == 0 && S_ISREG(s2.st_mode)) {
				qs_status r =
				    sniff(p, fd, fsize, k, resolved, err);
				if (r < 0) {
					free(p);
					return r;
				}
				*resolved = p;
				return QS_OK;
			}
			free(p);
		}
		return qs_fail(err, QS_EIO,
			       "%s: a directory without "
			       "model.safetensors.index.json or "
			       "model.safetensors",
			       path);
	}
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return qs_fail(err, QS_EIO, "%s: %s", path, strerror(errno));
	if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(f);
		return qs_fail(err, QS_EIO, "%s: not a regular file", path);
	}
	unsigned char m[9] = {0};
	ssize_t r = pread(f, m, sizeof m, 0);
	if (r < 0) {
		qs_status s =
		    qs_fail(err, QS_EIO, "%s: %s", path, strerror(errno));
		close(f);
		return s;
	}
	*fsize = (uint64_t)st.st_size;
	*fd = f;
	if (r >= 6 && memcmp(m, "\x93NUMPY", 6) == 0)
		*k = K_NPY;
	else if (r >= 4 && (memcmp(m, "PK\x03\x04", 4) == 0 ||
			    memcmp(m, "PK\x05\x06", 4) == 0))
		*k = K_NPZ;
	else if (r >= 4 && memcmp(m, "GGUF", 4) == 0)
		*k = K_GGUF;
	else if (ends_with(path, ".json"))
		*k = K_INDEX;
	else if ((r == 9 && m[8] == '{') || ends_with(path, ".safetensors"))
		*k = K_ST;
	else if (ends_with(path, ".npy"))
		*k = K_NPY; /* qs_npy_load reports what is wrong */
	else if (ends_with(path, ".npz"))
		*k = K_NPZ;
	else if (ends_with(path, ".gguf"))
		*k = K_GGUF;
	else {
		close(f);
		return qs_fail(err, QS_EFORMAT,
			       "%s: unknown file format (accepted: .npy, .npz, "
			       ".safetensors, .safetensors.index.json, .gguf)",
			       path);
	}
	return QS_OK;
}

qs_file_listing *qs_file_list(const char *path, qs_error *err)
{
	int fd = -1;
	uint64_t fsize = 0;
	kind k;
	char *res;
	if (sniff(path, &fd, &fsize, &k, &res, err) < 0)
		return NULL;
	const char *p = res ? res : path;
	qs_file_listing *l = NULL;
	switch (k) {
	case K_NPY:
		l = npy_list(fd, p, fsize, err);
		break;
	case K_NPZ:
		l = qs_npz_list(p, err);
		break;
	case K_ST:
		l = qs_safetensors_list_fd(fd, p, fsize, err);
		break;
	case K_INDEX:
		l = qs_safetensors_index_list(p, err);
		break;
	case K_GGUF:
		l = qs_gguf_list_fd(fd, p, fsize, err);
		break;
	}
	close(fd);
	free(res);
	return l;
}

qs_tensor *qs_file_load(const char *path, const char *name,
			const qs_select *sel, qs_error *err)
{
	int fd = -1;
	uint64_t fsize = 0;
	kind k;
	char *res;
	if (sniff(path, &fd, &fsize, &k, &res, err) < 0)
		return NULL;
	const char *p = res ? res : path;
	qs_tensor *t = NULL;
	switch (k) {
	case K_NPY:
		t = npy_load(fd, p, fsize, name, sel, err);
		break;
	case K_NPZ:
		t = qs_npz_load(p, name, sel, err);
		break;
	case K_ST:
		t = qs_safetensors_load_fd(fd, p, fsize, name, sel, err);
		break;
	case K_INDEX:
		t = qs_safetensors_index_load(p, name, sel, err);
		break;
	case K_GGUF:
		t = qs_gguf_load_fd(fd, p, fsize, name, sel, err);
		break;
	}
	close(fd);
	free(res);
	return t;
}

qs_status qs_file_save(const char *path, const char *const *names,
		       const qs_tensor *const *tensors, size_t n,
		       unsigned flags, qs_error *err)
{
	if (ends_with(path, ".safetensors"))
		return qs_safetensors_save(path, names, tensors, n, flags, err);
	return qs_fail(err, QS_EUNSUPPORTED,
		       "%s: cannot write this format (accepted: .safetensors; "
		       "qs_npy_save writes .npy)",
		       path);
}
