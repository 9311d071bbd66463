/* safetensors: .safetensors files and sharded checkpoints.  The format as
 * the reference implementation (huggingface/safetensors, tensor.rs)
 * defines it; the JSON is parsed by Jansson, never by hand.
 * Pure C11 + POSIX file I/O and mmap + Jansson; no printing. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"
#include "safetensors.h"
#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- dtypes ------------------------------------------------------------ */

typedef struct st_dtype {
	const char *name;
	int bits; /* per element */
	int dt;	  /* qs_dtype, or -1: listed but not loadable */
} st_dtype;

static const st_dtype dtypes[] = {
    {"F64", 64, QS_DT_F64},
    {"F32", 32, QS_DT_F32},
    {"F16", 16, QS_DT_F16},
    {"BF16", 16, QS_DT_BF16},
    {"F8_E4M3", 8, QS_DT_F8_E4M3},
    {"F8_E5M2", 8, QS_DT_F8_E5M2},
    {"I8", 8, QS_DT_I8},
    {"I16", 16, QS_DT_I16},
    {"I32", 32, QS_DT_I32},
    {"I64", 64, QS_DT_I64},
    {"U8", 8, QS_DT_U8},
    {"U16", 16, QS_DT_U16},
    {"U32", 32, QS_DT_U32},
    {"U64", 64, QS_DT_U64},
    {"BOOL", 8, QS_DT_BOOL},
    /* newer dtypes of the reference, listed only */
    {"F8_E8M0", 8, -1},
    {"F6_E2M3", 6, -1},
    {"F6_E3M2", 6, -1},
    {"F4", 4, -1},
    {"C64", 64, -1},
};

#define NDTYPES (sizeof dtypes / sizeof dtypes[0])
#define ACCEPTED                                                               \
	"F64 F32 F16 BF16 F8_E4M3 F8_E5M2 I8 I16 I32 I64 U8 U16 U32 U64 BOOL"

static const st_dtype *find_dtype(const char *s)
{
	for (size_t i = 0; i < NDTYPES; i++)
		if (strcmp(dtypes[i].name, s) == 0)
			return &dtypes[i];
	return NULL;
}

static const char *st_name_of(qs_dtype dt)
{
	for (size_t i = 0; i < NDTYPES; i++)
		if (dtypes[i].dt == (int)dt)
			return dtypes[i].name;
	return NULL;
}

/* A name fit for a one-line message: at most 80 bytes, control
 * characters shown as '?'. */
static const char *show(const char *s, char *buf)
{
	size_t n = 0;
	for (; s[n] && n < 80; n++)
		buf[n] = (unsigned char)s[n] < 32 || s[n] == 127 ? '?' : s[n];
	if (s[n]) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* ---- header ------------------------------------------------------------- */

/* Refuse JSON text whose parse tree would be too large: every value but
 * the first follows a ',' or opens with '{' or '[' (counted in strings
 * too: an upper bound), and Jansson spends 40 to 150 bytes a value. */
static qs_status check_values(const char *js, size_t n, const char *path,
			      qs_error *err)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += js[i] == ',' || js[i] == '{' || js[i] == '[';
	if (k > QS_SAFETENSORS_MAX_VALUES)
		return qs_fail(err, QS_EFORMAT,
			       "%s: JSON of about %zu values, more than the "
			       "limit of %d (about 250000 tensors)",
			       path, k, QS_SAFETENSORS_MAX_VALUES);
	return QS_OK;
}

typedef struct header {
	json_t *root;
	uint64_t data_start; /* 8 + N */
	uint64_t data_len;
} header;

static qs_status read_header(int fd, const char *path, uint64_t fsize,
			     header *h, qs_error *err)
{
	unsigned char b[8];
	if (fsize < 8)
		return qs_fail(err, QS_EFORMAT,
			       "%s: not a .safetensors file (only %llu bytes)",
			       path, (unsigned long long)fsize);
	ssize_t r;
	do
		r = pread(fd, b, 8, 0);
	while (r < 0 && errno == EINTR);
	if (r != 8)
		return qs_fail(err, QS_EIO, "%s: cannot read the header: %s",
			       path, r < 0 ? strerror(errno) : "short read");
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = n << 8 | b[i];
	if (n > QS_SAFETENSORS_MAX_HEADER)
		return qs_fail(err, QS_EFORMAT,
			       "%s: header of %llu bytes exceeds the limit of "
			       "%d",
			       path, (unsigned long long)n,
			       QS_SAFETENSORS_MAX_HEADER);
	if (n > fsize - 8)
		return qs_fail(err, QS_EFORMAT,
			       "%s: header of %llu bytes runs past the end of "
			       "the file (%llu bytes)",
			       path, (unsigned long long)n,
			       (unsigned long long)fsize);
	if (n < 2)
		return qs_fail(err, QS_EFORMAT,
			       "%s: header of %llu bytes cannot hold a JSON "
			       "object",
			       path, (unsigned long long)n);
	/* parse the mapped bytes in place: a large header costs page cache,
	 * not a copy */
	void *map = mmap(NULL, (size_t)(8 + n), PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return qs_fail(err, QS_EIO, "%s: cannot map the header: %s",
			       path, strerror(errno));
	json_error_t je;
	qs_status cv =
	    check_values((const char *)map + 8, (size_t)n, path, err);
	if (cv < 0) {
		munmap(map, (size_t)(8 + n));
		return cv;
	}
	h->root = json_loadb((const char *)map + 8, (size_t)n,
			     JSON_REJECT_DUPLICATES, &je);
	munmap(map, (size_t)(8 + n));
	if (!h->root)
		return qs_fail(err, QS_EFORMAT,
			       "%s: bad JSON header at line %d column %d: %s",
			       path, je.line, je.column, je.text);
	if (!json_is_object(h->root)) {
		json_decref(h->root);
		return qs_fail(err, QS_EFORMAT,
			       "%s: the JSON header is not an object", path);
	}
	h->data_start = 8 + n;
	h->data_len = fsize - 8 - n;
	return QS_OK;
}

typedef struct st_entry {
	const char *dtype_name;
	const st_dtype *dtype; /* NULL when unknown */
	int ndim;
	int64_t shape[QS_MAX_NDIM];
	int64_t count;
	uint64_t begin, end;
} st_entry;

static int get_u64(json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Check one tensor's description against the data size. */
static qs_status parse_entry(const char *path, const char *name, json_t *v,
			     uint64_t data_len, st_entry *e, qs_error *err)
{
	char nb[96];
	if (!json_is_object(v))
		return qs_fail(err, QS_EFORMAT,
			       "%s: tensor '%s': not a JSON object", path,
			       show(name, nb));
	json_t *d = json_object_get(v, "dtype"),
	       *s = json_object_get(v, "shape"),
	       *o = json_object_get(v, "data_offsets");
	if (!json_is_string(d))
		return qs_fail(err, QS_EFORMAT,
			       "%s: tensor '%s': \"dtype\" missing or not a "
			       "string",
			       path, show(name, nb));
	e->dtype_name = json_string_value(d);
	e->dtype = find_dtype(e->dtype_name);
	if (!json_is_array(s))
		return qs_fail(err, QS_EFORMAT,
			       "%s: tensor '%s': \"shape\" missing or not a "
			       "list",
			       path, show(name, nb));
	if (json_array_size(s) > QS_MAX_NDIM)
		return qs_fail(err, QS_EUNSUPPORTED,
			       "%s: tensor '%s': more than %d dimensions", path,
			       show(name, nb), QS_MAX_NDIM);
	e->ndim = (int)json_array_size(s);
	for (int i = 0; i < e->ndim; i++) {
		json_t *x = json_array_get(s, (size_t)i);
		if (!json_is_integer(x) || json_integer_value(x) < 0)
			return qs_fail(err, QS_EFORMAT,
				       "%s: tensor '%s': shape entry %d is not "
				       "a non-negative integer",
				       path, show(name, nb), i);
		e->shape[i] = (int64_t)json_integer_value(x);
	}
	if (!json_is_array(o) || json_array_size(o) != 2 ||
	    get_u64(json_array_get(o, 0), &e->begin) < 0 ||
	    get_u64(json_array_get(o, 1), &e->end) < 0)
		return qs_fail(err, QS_EFORMAT,
			       "%s: tensor '%s': \"data_offsets\" is not a "
			       "pair of non-negative integers",
			       path, show(name, nb));
	if (qs_shape_count(e->ndim, e->shape, 1, &e->count) < 0)
		return qs_fail(err, QS_EFORMAT,
			       "%s: tensor '%s': the shape's element count "
			       "overflows",
			       path, show(name, nb));
	if (e->begin > e->end || e->end > data_len)
		return qs_fail(
		    err, QS_EFORMAT,
		    "%s: tensor '%s': data_offsets [%llu, %llu] "
		    "outside the %llu bytes of data",
		    path, show(name, nb), (unsigned long long)e->begin,
		    (unsigned long long)e->end, (unsigned long long)data_len);
	if (e->dtype) {
		uint64_t c = (uint64_t)e->count,
			 bits = (uint64_t)e->dtype->bits;
		uint64_t need;
		if (bits % 8 == 0) {
			if (c > UINT64_MAX / 8 / (bits / 8))
				return qs_fail(err, QS_EFORMAT,
					       "%s: tensor '%s': the shape's "
					       "byte size overflows",
					       path, show(name, nb));
			need = c * (bits / 8);
		} else {
			need = c / 8 * bits + ((c % 8) * bits + 7) / 8;
		}
		if (e->end - e->begin != need)
			return qs_fail(err, QS_EFORMAT,
				       "%s: tensor '%s': data_offsets span "
				       "%llu bytes, shape and %s need %llu",
				       path, show(name, nb),
				       (unsigned long long)(e->end - e->begin),
				       e->dtype->name,
				       (unsigned long long)need);
	}
	return QS_OK;
}

qs_file_listing *qs_safetensors_list_fd(int fd, const char *path,
					uint64_t fsize, qs_error *err)
{
	header h;
	if (read_header(fd, path, fsize, &h, err) < 0)
		return NULL;
	qs_file_builder *b = qs_file_builder_new(path, "safetensors", err);
	if (!b) {
		json_decref(h.root);
		return NULL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(h.root, key, v)
	{
		if (strcmp(key, "__metadata__") == 0) {
			if (!json_is_object(v)) {
				qs_fail(err, QS_EFORMAT,
					"%s: \"__metadata__\" is not an object",
					path);
				goto fail;
			}
			const char *mk;
			json_t *mv;
			json_object_foreach(v, mk, mv)
			{
				if (json_is_string(mv) &&
				    qs_file_builder_meta(
					b, mk, json_string_value(mv), err) < 0)
					goto fail;
			}
			continue;
		}
		st_entry e;
		if (parse_entry(path, key, v, h.data_len, &e, err) < 0)
			goto fail;
		qs_file_entry fe = {
		    .name = key,
		    .dtype = e.dtype_name,
		    .supported = e.dtype && e.dtype->dt >= 0,
		    .dt = e.dtype && e.dtype->dt >= 0 ? (qs_dtype)e.dtype->dt
						      : QS_DT_U8,
		    .ndim = e.ndim,
		    .shape = e.shape,
		    .count = e.count,
		    .nbytes = e.end - e.begin,
		    .file = path,
		    .offset = h.data_start + e.begin,
		};
		if (qs_file_builder_add(b, &fe, err) < 0)
			goto fail;
	}
	json_decref(h.root);
	return qs_file_builder_done(b, err);
fail:
	json_decref(h.root);
	qs_file_builder_free(b);
	return NULL;
}

/* Open path read-only as a regular file: 0 and *fd, *fsize. */
static qs_status open_regular(const char *path, int *fd, uint64_t *fsize,
			      qs_error *err)
{
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return qs_fail(err, QS_EIO, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(f);
		return qs_fail(err, QS_EIO, "%s: not a regular file", path);
	}
	*fd = f;
	*fsize = (uint64_t)st.st_size;
	return QS_OK;
}

qs_file_listing *qs_safetensors_list(const char *path, qs_error *err)
{
	int fd;
	uint64_t fsize;
	if (open_regular(path, &fd, &fsize, err) < 0)
		return NULL;
	qs_file_listing *l = qs_safetensors_list_fd(fd, path, fsize, err);
	close(fd);
	return l;
}

/* The only tensor key of an object (skipping "__metadata__"), or NULL
 * with an error naming the count. */
static const char *only_key(json_t *obj, const char *path, qs_error *err)
{
	const char *key, *one = NULL;
	json_t *v;
	size_t n = 0;
	json_object_foreach(obj, key, v)
	{
		(void)v;
		if (strcmp(key, "__metadata__") == 0)
			continue;
		one = key;
		n++;
	}
	if (n != 1) {
		qs_fail(err, QS_EINVAL,
			"%s: holds %zu tensors; name the one to load", path, n);
		return NULL;
	}
	return one;
}

qs_tensor *qs_safetensors_load_fd(int fd, const char *path, uint64_t fsize,
				  const char *name, const qs_select *sel,
				  qs_error *err)
{
	header h;
	char nb[96];
	if (read_header(fd, path, fsize, &h, err) < 0)
		return NULL;
	qs_tensor *t = NULL;
	char *tname = NULL;
	if (!name && !(name = only_key(h.root, path, err)))
		goto done;
	json_t *v = strcmp(name, "__metadata__") == 0
			? NULL
			: json_object_get(h.root, name);
	if (!v) {
		qs_fail(err, QS_EINVAL, "%s: no tensor '%s'", path,
			show(name, nb));
		goto done;
	}
	st_entry e;
	if (parse_entry(path, name, v, h.data_len, &e, err) < 0)
		goto done;
	if (!e.dtype || e.dtype->dt < 0) {
		char db[96];
		qs_fail(err, QS_EUNSUPPORTED,
			"%s: tensor '%s' has dtype %s, which cannot be loaded "
			"(accepted: " ACCEPTED ")",
			path, show(name, nb), show(e.dtype_name, db));
		goto done;
	}
	size_t tl = strlen(path) + strlen(name) + 2;
	tname = malloc(tl);
	if (!tname) {
		qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	snprintf(tname, tl, "%s:%s", path, name);
	t = qs_file_load_raw(fd, path, h.data_start + e.begin,
			     (qs_dtype)e.dtype->dt, 0, e.ndim, e.shape, sel,
			     tname, err);
done:
	free(tname);
	json_decref(h.root);
	return t;
}

qs_tensor *qs_safetensors_load(const char *path, const char *name,
			       const qs_select *sel, qs_error *err)
{
	int fd;
	uint64_t fsize;
	if (open_regular(path, &fd, &fsize, err) < 0)
		return NULL;
	qs_tensor *t = qs_safetensors_load_fd(fd, path, fsize, name, sel, err);
	close(fd);
	return t;
}

/* ---- sharded checkpoints ----------------------------------------------- */

typedef struct index {
	json_t *root;
	json_t *wmap; /* borrowed from root */
	char *dir;    /* the index's directory, with a trailing '/' or "" */
} index_t;

static void index_free(index_t *ix)
{
	json_decref(ix->root);
	free(ix->dir);
}

static int plain_name(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

static qs_status read_index(const char *path, index_t *ix, qs_error *err)
{
	memset(ix, 0, sizeof *ix);
	int fd;
	uint64_t fsize;
	if (open_regular(path, &fd, &fsize, err) < 0)
		return QS_EIO;
	if (fsize > QS_SAFETENSORS_MAX_INDEX) {
		close(fd);
		return qs_fail(
		    err, QS_EFORMAT,
		    "%s: index of %llu bytes exceeds the limit of %d", path,
		    (unsigned long long)fsize, QS_SAFETENSORS_MAX_INDEX);
	}
	if (fsize == 0) {
		close(fd);
		return qs_fail(err, QS_EFORMAT, "%s: empty index file", path);
	}
	void *map = mmap(NULL, (size_t)fsize, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return qs_fail(err, QS_EIO, "%s: cannot map: %s", path,
			       strerror(errno));
	json_error_t je;
	qs_status cv = check_values(map, (size_t)fsize, path, err);
	if (cv < 0) {
		munmap(map, (size_t)fsize);
		return cv;
	}
	ix->root = json_loadb(map, (size_t)fsize, JSON_REJECT_DUPLICATES, &je);
	munmap(map, (size_t)fsize);
	if (!ix->root)
		return qs_fail(err, QS_EFORMAT,
			       "%s: bad JSON at line %d column %d: %s", path,
			       je.line, je.column, je.text);
	ix->wmap = json_object_get(ix->root, "weight_map");
	if (!json_is_object(ix->wmap)) {
		index_free(ix);
		return qs_fail(err, QS_EFORMAT,
			       "%s: no \"weight_map\" object: not a "
			       "safetensors index",
			       path);
	}
	const char *key;
	json_t *v;
	char nb[96];
	json_object_foreach(ix->wmap, key, v)
	{
		if (!json_is_string(v) || !plain_name(json_string_value(v))) {
			index_free(ix);
			return qs_fail(err, QS_EFORMAT,
				       "%s: weight_map['%s'] is not a plain "
				       "file name in the index's directory",
				       path, show(key, nb));
		}
	}
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
	ix->dir = malloc(dl + 1);
	if (!ix->dir) {
		index_free(ix);
		return qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
	}
	memcpy(ix->dir, path, dl);
	ix->dir[dl] = '\0';
	return QS_OK;
}

static char *shard_path(const index_t *ix, const char *file)
{
	size_t n = strlen(ix->dir) + strlen(file) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s", ix->dir, file);
	return p;
}

qs_file_listing *qs_safetensors_index_list(const char *path, qs_error *err)
{
	index_t ix;
	if (read_index(path, &ix, err) < 0)
		return NULL;
	qs_file_builder *b =
	    qs_file_builder_new(path, "safetensors-index", err);
	json_t *done = json_object(); /* shard files already read */
	char *sp = NULL;
	qs_file_listing *sl = NULL;
	char nb[96], fb[96];
	if (!b || !done) {
		if (b)
			qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	json_t *meta = json_object_get(ix.root, "metadata");
	if (json_is_object(meta)) {
		const char *mk;
		json_t *mv;
		json_object_foreach(meta, mk, mv)
		{
			char num[32];
			const char *s = NULL;
			if (json_is_string(mv))
				s = json_string_value(mv);
			else if (json_is_integer(mv)) {
				snprintf(num, sizeof num, "%lld",
					 (long long)json_integer_value(mv));
				s = num;
			}
			if (s && qs_file_builder_meta(b, mk, s, err) < 0)
				goto fail;
		}
	}
	const char *key;
	json_t *v;
	json_object_foreach(ix.wmap, key, v)
	{
		const char *file = json_string_value(v);
		if (json_object_get(done, file))
			continue;
		if (json_object_set_new(done, file, json_true()) < 0) {
			qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
			goto fail;
		}
		if (!(sp = shard_path(&ix, file))) {
			qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
			goto fail;
		}
		if (!(sl = qs_safetensors_list(sp, err)))
			goto fail;
		/* the shard's tensors the index assigns to it */
		size_t want = 0, got = 0;
		const char *k2;
		json_t *v2;
		json_object_foreach(ix.wmap, k2, v2) want +=
		    strcmp(json_string_value(v2), file) == 0;
		for (size_t i = 0; i < sl->count; i++) {
			json_t *f =
			    json_object_get(ix.wmap, sl->entries[i].name);
			if (!f || strcmp(json_string_value(f), file) != 0)
				continue;
			if (qs_file_builder_add(b, &sl->entries[i], err) < 0)
				goto fail;
			got++;
		}
		if (got != want) {
			json_object_foreach(ix.wmap, k2, v2)
			{
				if (strcmp(json_string_value(v2), file) == 0 &&
				    !qs_file_find(sl, k2))
					break;
			}
			qs_fail(err, QS_EFORMAT,
				"%s: the index puts tensor '%s' in %s, which "
				"does not hold it",
				path, k2 ? show(k2, nb) : "?", show(file, fb));
			goto fail;
		}
		qs_file_listing_free(sl);
		sl = NULL;
		free(sp);
		sp = NULL;
	}
	json_decref(done);
	index_free(&ix);
	return qs_file_builder_done(b, err);
fail:
	qs_file_listing_free(sl);
	free(sp);
	json_decref(done);
	qs_file_builder_free(b);
	index_free(&ix);
	return NULL;
}

qs_tensor *qs_safetensors_index_load(const char *path, const char *name,
				     const qs_select *sel, qs_error *err)
{
	index_t ix;
	char nb[96];
	if (read_index(path, &ix, err) < 0)
		return NULL;
	qs_tensor *t = NULL;
	if (!name && !(name = only_key(ix.wmap, path, err)))
		goto done;
	json_t *f = json_object_get(ix.wmap, name);
	if (!f) {
		qs_fail(err, QS_EINVAL, "%s: no tensor '%s'", path,
			show(name, nb));
		goto done;
	}
	char *sp = shard_path(&ix, json_string_value(f));
	if (!sp) {
		qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	t = qs_safetensors_load(sp, name, sel, err);
	free(sp);
done:
	index_free(&ix);
	return t;
}

/* ---- writing ------------------------------------------------------------ */

/* Write a tensor's data little-endian. */
static int write_data(qs_atomic *out, const qs_tensor *t)
{
	size_t sz = qs_dtype_size(t->dtype), bytes = (size_t)t->size * sz;
	const uint16_t one = 1;
	if (sz == 1 || *(const uint8_t *)&one == 1)
		return qs_atomic_write(out, t->data, bytes);
	uint8_t buf[65536];
	const uint8_t *s = t->data;
	size_t per = sizeof buf / sz;
	for (size_t i = 0; i < (size_t)t->size; i += per) {
		size_t n =
		    (size_t)t->size - i < per ? (size_t)t->size - i : per;
		for (size_t k = 0; k < n; k++)
			for (size_t j = 0; j < sz; j++)
				buf[k * sz + j] = s[(i + k) * sz + sz - 1 - j];
		if (qs_atomic_write(out, buf, n * sz) < 0)
			return -1;
	}
	return 0;
}

/* Does the tensor named tname come from the file st (same inode)?  The
 * name is a path, or "path:tensor" (tensor names may hold ':'). */
static int from_file(const char *tname, const struct stat *st)
{
	if (!tname)
		return 0;
	size_t n = strlen(tname);
	char *p = malloc(n + 1);
	if (!p)
		return 0;
	memcpy(p, tname, n + 1);
	int same = 0;
	for (;;) {
		struct stat s2;
		if (stat(p, &s2) == 0 && s2.st_dev == st->st_dev &&
		    s2.st_ino == st->st_ino) {
			same = 1;
			break;
		}
		char *c = strrchr(p, ':');
		if (!c)
			break;
		*c = '\0';
	}
	free(p);
	return same;
}

typedef struct order {
	const char *name;
	const qs_tensor *t;
} order;

static int order_cmp(const void *x, const void *y)
{
	const order *a = x, *b = y;
	size_t sa = qs_dtype_size(a->t->dtype), sb = qs_dtype_size(b->t->dtype);
	if (sa != sb)
		return sa > sb ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The header text, padded with spaces to a multiple of 8 bytes. */
static qs_status make_header(order *o, size_t n, char **out, size_t *len,
			     const char *path, qs_error *err)
{
	char nb[96];
	json_t *root = json_object();
	if (!root)
		goto oom;
	uint64_t off = 0;
	for (size_t i = 0; i < n; i++) {
		const qs_tensor *t = o[i].t;
		if (json_object_get(root, o[i].name)) {
			json_decref(root);
			return qs_fail(err, QS_EINVAL,
				       "%s: tensor name '%s' given twice", path,
				       show(o[i].name, nb));
		}
		json_t *shape = json_array(), *e = json_object(),
		       *offs = json_array();
		int bad = !shape || !e || !offs;
		for (int d = 0; !bad && d < t->ndim; d++)
			bad = json_array_append_new(
				  shape, json_integer(t->shape[d])) < 0;
		uint64_t bytes = (uint64_t)t->size * qs_dtype_size(t->dtype);
		bad = bad ||
		      json_array_append_new(
			  offs, json_integer((json_int_t)off)) < 0 ||
		      json_array_append_new(
			  offs, json_integer((json_int_t)(off + bytes))) < 0;
		if (bad) {
			json_decref(shape);
			json_decref(e);
			json_decref(offs);
			json_decref(root);
			goto oom;
		}
		json_object_set_new(e, "dtype",
				    json_string(st_name_of(t->dtype)));
		json_object_set_new(e, "shape", shape);
		json_object_set_new(e, "data_offsets", offs);
		if (json_object_set_new(root, o[i].name, e) < 0) {
			json_decref(root);
			goto oom;
		}
		off += bytes;
	}
	char *s = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(root);
	if (!s)
		goto oom;
	size_t l = strlen(s), pad = (8 - l % 8) % 8;
	char *h = malloc(l + pad + 1);
	if (!h) {
		free(s);
		goto oom;
	}
	memcpy(h, s, l);
	memset(h + l, ' ', pad);
	h[l + pad] = '\0';
	free(s);
	*out = h;
	*len = l + pad;
	return QS_OK;
oom:
	return qs_fail(err, QS_ENOMEM, "%s: out of memory building the header",
		       path);
}

qs_status qs_safetensors_save(const char *path, const char *const *names,
			      const qs_tensor *const *tensors, size_t n,
			      unsigned flags, qs_error *err)
{
	char nb[96];
	for (size_t i = 0; i < n; i++) {
		if (!names[i] || !tensors[i])
			return qs_fail(err, QS_EINVAL,
				       "%s: tensor %zu has no name or no data",
				       path, i);
		if (strcmp(names[i], "__metadata__") == 0)
			return qs_fail(
			    err, QS_EINVAL,
			    "%s: '__metadata__' cannot name a tensor", path);
		if (!st_name_of(tensors[i]->dtype))
			return qs_fail(err, QS_EUNSUPPORTED,
				       "%s: dtype %s has no safetensors "
				       "equivalent",
				       path, qs_dtype_name(tensors[i]->dtype));
	}
	struct stat st;
	if (!(flags & QS_SAVE_OVERWRITE_INPUT) && stat(path, &st) == 0)
		for (size_t i = 0; i < n; i++)
			if (from_file(tensors[i]->name, &st))
				return qs_fail(err, QS_EINVAL,
					       "%s: would replace the file "
					       "tensor '%s' was loaded from "
					       "(allow it with overwrite)",
					       path, show(names[i], nb));
	order *o = malloc((n ? n : 1) * sizeof *o);
	if (!o)
		return qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
	for (size_t i = 0; i < n; i++) {
		o[i].name = names[i];
		o[i].t = tensors[i];
	}
	qsort(o, n, sizeof *o, order_cmp);
	size_t hl = 0;
	char *h = NULL;
	qs_status hs = make_header(o, n, &h, &hl, path, err);
	if (hs < 0) {
		free(o);
		return hs;
	}
	qs_atomic out;
	qs_status ws = qs_atomic_open(&out, path, err);
	if (ws == QS_OK) {
		uint8_t len8[8];
		for (int i = 0; i < 8; i++)
			len8[i] = (uint8_t)((uint64_t)hl >> (8 * i));
		qs_atomic_write(&out, len8, 8);
		qs_atomic_write(&out, h, hl);
		for (size_t i = 0; i < n; i++)
			if (write_data(&out, o[i].t) < 0)
				break;
		ws = qs_atomic_commit(&out, err);
	}
	free(h);
	free(o);
	return ws;
}
