/* npy: reading and writing NumPy .npy files (format described in numpy's
 * numpy/lib/format.py).  Native-endian C-order data is used in place from a
 * read-only mapping; anything else is converted into an owned buffer.
 * Pure C11 + POSIX file I/O; no printing. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"
#include "npy.h"
#include "atomic.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int host_little(void)
{
	const uint16_t one = 1;
	return *(const uint8_t *)&one == 1;
}

/* ---- header parsing ------------------------------------------------------ */

typedef struct hdr {
	char descr[32];
	int have_descr, have_fortran, have_shape;
	int fortran;
	int ndim;
	int64_t shape[QS_MAX_NDIM];
} hdr;

typedef struct cur {
	const char *p, *end;
} cur;

static void skip_ws(cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int eat(cur *c, char ch)
{
	skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

/* A Python string literal in single or double quotes, no escapes needed
 * for the keys and dtype strings numpy writes. */
static int parse_str(cur *c, char *out, size_t cap)
{
	skip_ws(c);
	if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
		return -1;
	char q = *c->p++;
	size_t n = 0;
	while (c->p < c->end && *c->p != q) {
		if (*c->p == '\\' || n + 1 >= cap)
			return -1;
		out[n++] = *c->p++;
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	out[n] = '\0';
	return 0;
}

static int parse_int(cur *c, int64_t *v)
{
	skip_ws(c);
	int neg = 0;
	if (c->p < c->end && (*c->p == '-' || *c->p == '+'))
		neg = *c->p++ == '-';
	if (c->p >= c->end || !isdigit((unsigned char)*c->p))
		return -1;
	int64_t x = 0;
	int overflow = 0;
	while (c->p < c->end && isdigit((unsigned char)*c->p)) {
		int d = *c->p++ - '0';
		if (x > (INT64_MAX - d) / 10)
			overflow = 1;
		else
			x = x * 10 + d;
	}
	if (c->p < c->end && (*c->p == 'L' || *c->p == 'l'))
		c->p++; /* Python 2 long literal */
	if (overflow)
		return -2;
	*v = neg ? -x : x;
	return 0;
}

static int starts(cur *c, const char *w)
{
	size_t n = strlen(w);
	skip_ws(c);
	if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
		c->p += n;
		return 1;
	}
	return 0;
}

static qs_status parse_header(const char *s, size_t len, const char *name,
			      hdr *h, qs_error *err)
{
	cur c = {s, s + len};
	memset(h, 0, sizeof *h);
	if (!eat(&c, '{'))
		return qs_fail(err, QS_EFORMAT,
			       "%s: bad header: not a Python dict", name);
	for (;;) {
		char key[32];
		if (eat(&c, '}'))
			break;
		if (parse_str(&c, key, sizeof key) < 0 || !eat(&c, ':'))
			return qs_fail(err, QS_EFORMAT,
				       "%s: bad header: expected 'key': value",
				       name);
		if (strcmp(key, "descr") == 0) {
			skip_ws(&c);
			if (c.p < c.end && (*c.p == '[' || *c.p == '('))
				return qs_fail(err, QS_EUNSUPPORTED,
					       "%s: structured dtype is not "
					       "supported",
					       name);
			if (parse_str(&c, h->descr, sizeof h->descr) < 0)
				return qs_fail(err, QS_EFORMAT,
					       "%s: bad header: descr is not "
					       "a dtype string",
					       name);
			h->have_descr = 1;
		} else if (strcmp(key, "fortran_order") == 0) {
			if (starts(&c, "True"))
				h->fortran = 1;
			else if (starts(&c, "False"))
				h->fortran = 0;
			else
				return qs_fail(err, QS_EFORMAT,
					       "%s: bad header: fortran_order "
					       "is not True or False",
					       name);
			h->have_fortran = 1;
		} else if (strcmp(key, "shape") == 0) {
			if (!eat(&c, '('))
				return qs_fail(err, QS_EFORMAT,
					       "%s: bad header: shape is not "
					       "a tuple",
					       name);
			h->ndim = 0;
			while (!eat(&c, ')')) {
				int64_t v;
				int r = parse_int(&c, &v);
				if (r == -2)
					return qs_fail(err, QS_EFORMAT,
						       "%s: shape dimension "
						       "overflows int64",
						       name);
				if (r < 0)
					return qs_fail(err, QS_EFORMAT,
						       "%s: bad header: bad "
						       "shape tuple",
						       name);
				if (v < 0)
					return qs_fail(err, QS_EFORMAT,
						       "%s: negative dimension "
						       "%lld in shape",
						       name, (long long)v);
				if (h->ndim >= QS_MAX_NDIM)
					return qs_fail(err, QS_EUNSUPPORTED,
						       "%s: more than %d "
						       "dimensions",
						       name, QS_MAX_NDIM);
				h->shape[h->ndim++] = v;
				if (!eat(&c, ',')) {
					if (!eat(&c, ')'))
						return qs_fail(
							err, QS_EFORMAT,
							"%s: bad header: bad "
							"shape tuple",
							name);
					break;
				}
			}
			h->have_shape = 1;
		} else {
			return qs_fail(err, QS_EFORMAT,
				       "%s: bad header: unexpected key '%s'",
				       name, key);
		}
		if (!eat(&c, ',')) {
			if (!eat(&c, '}'))
				return qs_fail(err, QS_EFORMAT,
					       "%s: bad header: expected ',' "
					       "or '}'",
					       name);
			break;
		}
	}
	if (!h->have_descr || !h->have_fortran || !h->have_shape)
		return qs_fail(err, QS_EFORMAT,
			       "%s: bad header: missing key '%s'", name,
			       !h->have_descr     ? "descr"
			       : !h->have_fortran ? "fortran_order"
						  : "shape");
	return QS_OK;
}

/* descr -> dtype and whether bytes must be swapped. */
static qs_status parse_descr(const char *d, const char *name, qs_dtype *dt,
			     int *swap, qs_error *err)
{
	char order = d[0];
	if (order != '<' && order != '>' && order != '|' && order != '=')
		return qs_fail(err, QS_EUNSUPPORTED,
			       "%s: unsupported dtype '%s'", name, d);
	static const struct {
		const char *code;
		qs_dtype dt;
	} map[] = {
		{"f2", QS_DT_F16}, {"f4", QS_DT_F32}, {"f8", QS_DT_F64},
		{"i1", QS_DT_I8},  {"i2", QS_DT_I16}, {"i4", QS_DT_I32},
		{"i8", QS_DT_I64}, {"u1", QS_DT_U8},  {"u2", QS_DT_U16},
		{"u4", QS_DT_U32}, {"u8", QS_DT_U64}, {"b1", QS_DT_BOOL},
	};
	if (strcmp(d + 1, "O") == 0)
		return qs_fail(err, QS_EUNSUPPORTED,
			       "%s: object dtype '%s' (pickled Python "
			       "objects) is not supported",
			       name, d);
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(d + 1, map[i].code) == 0) {
			*dt = map[i].dt;
			size_t sz = qs_dtype_size(*dt);
			int little = host_little();
			*swap = sz > 1 && ((order == '<' && !little) ||
					   (order == '>' && little));
			return QS_OK;
		}
	return qs_fail(err, QS_EUNSUPPORTED,
		       "%s: unsupported dtype '%s' (accepted: f2 f4 f8 i1 i2 "
		       "i4 i8 u1 u2 u4 u8 b1)",
		       name, d);
}

static void swap_bytes(void *p, size_t n, size_t sz)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++, b += sz)
		for (size_t k = 0; k < sz / 2; k++) {
			uint8_t t = b[k];
			b[k] = b[sz - 1 - k];
			b[sz - 1 - k] = t;
		}
}

/* Fortran-order src -> C-order dst (same element size). */
static void fortran_to_c(uint8_t *dst, const uint8_t *src, int ndim,
			 const int64_t *shape, int64_t n, size_t sz)
{
	int64_t idx[QS_MAX_NDIM] = {0}, fstride[QS_MAX_NDIM];
	int64_t s = 1;
	for (int d = 0; d < ndim; d++) {
		fstride[d] = s;
		s *= shape[d];
	}
	int64_t off = 0; /* Fortran offset of the current C index */
	for (int64_t i = 0; i < n; i++) {
		memcpy(dst + (size_t)i * sz, src + (size_t)off * sz, sz);
		for (int d = ndim - 1; d >= 0; d--) {
			if (++idx[d] < shape[d]) {
				off += fstride[d];
				break;
			}
			off -= fstride[d] * (shape[d] - 1);
			idx[d] = 0;
		}
	}
}

typedef struct parsed {
	qs_dtype dt;
	int swap;
	hdr h;
	size_t offset;
	int64_t count;
	size_t bytes;
} parsed;

/* Magic, version and header of an image of len bytes (the data may be
 * missing). */
static qs_status parse_prefix(const uint8_t *buf, size_t len, const char *name,
			      parsed *p, qs_error *err)
{
	if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
		return qs_fail(err, QS_EFORMAT,
			       "%s: not a .npy file (bad magic)", name);
	int major = buf[6], minor = buf[7];
	size_t hlen, start;
	if (major == 1) {
		hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
		start = 10;
	} else if (major == 2 || major == 3) {
		if (len < 12)
			return qs_fail(err, QS_EFORMAT,
				       "%s: truncated header", name);
		hlen = (size_t)buf[8] | (size_t)buf[9] << 8 |
		       (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
		start = 12;
	} else {
		return qs_fail(err, QS_EUNSUPPORTED,
			       "%s: unsupported .npy version %d.%d", name,
			       major, minor);
	}
	if (minor != 0)
		return qs_fail(err, QS_EUNSUPPORTED,
			       "%s: unsupported .npy version %d.%d", name,
			       major, minor);
	if (hlen > QS_NPY_MAX_HEADER)
		return qs_fail(err, QS_EFORMAT,
			       "%s: header of %zu bytes exceeds numpy's limit "
			       "of %d",
			       name, hlen, QS_NPY_MAX_HEADER);
	if (len - start < hlen)
		return qs_fail(err, QS_EFORMAT,
			       "%s: truncated header: need %zu bytes, have %zu",
			       name, start + hlen, len);
	qs_status st = parse_header((const char *)buf + start, hlen, name,
				    &p->h, err);
	if (st < 0)
		return st;
	st = parse_descr(p->h.descr, name, &p->dt, &p->swap, err);
	if (st < 0)
		return st;
	size_t sz = qs_dtype_size(p->dt);
	if (qs_shape_count(p->h.ndim, p->h.shape, sz, &p->count) < 0)
		return qs_fail(err, QS_EFORMAT,
			       "%s: shape's element count overflows", name);
	p->offset = start + hlen;
	p->bytes = (size_t)p->count * sz;
	return QS_OK;
}

/* The header and the check that the data fits in len bytes. */
static qs_status parse_image(const uint8_t *buf, size_t len, const char *name,
			     parsed *p, qs_error *err)
{
	qs_status st = parse_prefix(buf, len, name, p, err);
	if (st < 0)
		return st;
	if (p->bytes > len - p->offset)
		return qs_fail(err, QS_EFORMAT,
			       "%s: truncated data: need %zu bytes, have %zu",
			       name, p->bytes, len - p->offset);
	return QS_OK;
}

/* Build an owned tensor from the data of a parsed image. */
static qs_tensor *convert(const parsed *p, const uint8_t *data,
			  const char *name, qs_error *err)
{
	qs_tensor *t = qs_tensor_new(p->dt, p->h.ndim, p->h.shape, err);
	if (!t)
		return NULL;
	size_t sz = qs_dtype_size(p->dt);
	if (p->h.fortran && p->h.ndim > 1 && p->count > 0)
		fortran_to_c(t->data, data, p->h.ndim, p->h.shape, p->count,
			     sz);
	else
		memcpy(t->data, data, p->bytes);
	if (p->swap)
		swap_bytes(t->data, (size_t)p->count, sz);
	if (p->dt == QS_DT_BOOL) {
		uint8_t *b = t->data;
		for (int64_t i = 0; i < p->count; i++)
			b[i] = b[i] != 0;
	}
	if (qs_tensor_set_name(t, name, err) < 0) {
		qs_tensor_free(t);
		return NULL;
	}
	return t;
}

qs_status qs_npy_read_header(const void *buf, size_t len, const char *name,
			     qs_npy_info *out, qs_error *err)
{
	parsed p;
	qs_status st = parse_prefix(buf, len, name, &p, err);
	if (st < 0)
		return st;
	out->dtype = p.dt;
	out->swap = p.swap;
	out->fortran = p.h.fortran && p.h.ndim > 1;
	out->ndim = p.h.ndim;
	memcpy(out->shape, p.h.shape, sizeof(int64_t) * (size_t)p.h.ndim);
	out->count = p.count;
	out->offset = p.offset;
	out->bytes = p.bytes;
	return QS_OK;
}

qs_tensor *qs_npy_parse(const void *buf, size_t len, const char *name,
			qs_error *err)
{
	parsed p;
	if (parse_image(buf, len, name, &p, err) < 0)
		return NULL;
	return convert(&p, (const uint8_t *)buf + p.offset, name, err);
}

qs_tensor *qs_npy_load(const char *path, qs_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		qs_fail(err, QS_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		qs_fail(err, QS_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		qs_fail(err, QS_EIO, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	size_t len = (size_t)st.st_size;
	if (len < 10) {
		close(fd);
		qs_fail(err, QS_EFORMAT,
			"%s: not a .npy file (only %zu bytes)", path, len);
		return NULL;
	}
	void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		qs_fail(err, QS_EIO, "%s: cannot map: %s", path,
			strerror(errno));
		return NULL;
	}
	parsed p;
	if (parse_image(map, len, path, &p, err) < 0) {
		munmap(map, len);
		return NULL;
	}
	size_t sz = qs_dtype_size(p.dt);
	int in_place = !p.swap && (!p.h.fortran || p.h.ndim <= 1) &&
		       p.offset % sz == 0 && p.dt != QS_DT_BOOL;
	qs_tensor *t;
	if (in_place) {
		t = calloc(1, sizeof *t);
		if (!t) {
			munmap(map, len);
			qs_fail(err, QS_ENOMEM, "out of memory");
			return NULL;
		}
		t->dtype = p.dt;
		t->ndim = p.h.ndim;
		memcpy(t->shape, p.h.shape, sizeof(int64_t) * (size_t)p.h.ndim);
		t->size = p.count;
		t->data = (uint8_t *)map + p.offset;
		t->map_ = map;
		t->map_len_ = len;
		posix_madvise(map, len, POSIX_MADV_WILLNEED);
		if (qs_tensor_set_name(t, path, err) < 0) {
			qs_tensor_free(t);
			return NULL;
		}
		return t;
	}
	t = convert(&p, (const uint8_t *)map + p.offset, path, err);
	munmap(map, len);
	return t;
}

/* ---- writing ----------------------------------------------------------- */

static const char *descr_of(qs_dtype dt)
{
	int le = host_little();
	switch (dt) {
	case QS_DT_BOOL: return "|b1";
	case QS_DT_I8: return "|i1";
	case QS_DT_U8: return "|u1";
	case QS_DT_I16: return le ? "<i2" : ">i2";
	case QS_DT_I32: return le ? "<i4" : ">i4";
	case QS_DT_I64: return le ? "<i8" : ">i8";
	case QS_DT_U16: return le ? "<u2" : ">u2";
	case QS_DT_U32: return le ? "<u4" : ">u4";
	case QS_DT_U64: return le ? "<u8" : ">u8";
	case QS_DT_F16: return le ? "<f2" : ">f2";
	case QS_DT_F32: return le ? "<f4" : ">f4";
	case QS_DT_F64: return le ? "<f8" : ">f8";
	default: return NULL;
	}
}

qs_status qs_npy_save(const qs_tensor *t, const char *path, qs_error *err)
{
	const char *descr = descr_of(t->dtype);
	if (!descr)
		return qs_fail(err, QS_EUNSUPPORTED,
			       "%s: dtype %s has no .npy equivalent", path,
			       qs_dtype_name(t->dtype));
	/* dict text: shape needs up to 21 chars per dimension */
	size_t cap = 128 + (size_t)t->ndim * 24;
	char *h = malloc(cap + 64);
	if (!h)
		return qs_fail(err, QS_ENOMEM, "out of memory");
	int n = snprintf(h, cap, "{'descr': '%s', 'fortran_order': False, "
			 "'shape': (", descr);
	for (int i = 0; i < t->ndim; i++)
		n += snprintf(h + n, cap - (size_t)n, "%lld,%s",
			      (long long)t->shape[i],
			      i + 1 < t->ndim ? " " : "");
	if (t->ndim > 1)
		n--; /* numpy writes (2, 3) but (3,) */
	n += snprintf(h + n, cap - (size_t)n, "), }");
	size_t hl = (size_t)n;
	/* pad with spaces and a final newline to a multiple of 64 */
	size_t pre = hl + 1 + 10 > 65535 ? 12 : 10;
	size_t total = (pre + hl + 1 + 63) / 64 * 64;
	size_t pad = total - pre - hl - 1;
	memset(h + hl, ' ', pad);
	hl += pad;
	h[hl++] = '\n';
	uint8_t head[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', pre == 10 ? 1 : 2, 0};
	if (pre == 10) {
		head[8] = (uint8_t)hl;
		head[9] = (uint8_t)(hl >> 8);
	} else {
		for (int i = 0; i < 4; i++)
			head[8 + i] = (uint8_t)(hl >> (8 * i));
	}
	qs_atomic out;
	qs_status st = qs_atomic_open(&out, path, err);
	if (st == QS_OK) {
		qs_atomic_write(&out, head, pre);
		qs_atomic_write(&out, h, hl);
		qs_atomic_write(&out, t->data,
				(size_t)t->size * qs_dtype_size(t->dtype));
		st = qs_atomic_commit(&out, err);
	}
	free(h);
	return st;
}
