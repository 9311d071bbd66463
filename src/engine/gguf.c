/* gguf: the GGUF container of ggml (docs/gguf.md of ggml-org/ggml):
 * "GGUF", u32 version, u64 tensor count, u64 key-value count, the
 * key-values, the tensor table (name, u32 rank, u64 dims fastest-first,
 * u32 ggml type, u64 offset), padding to general.alignment (default 32),
 * then the data.  Every read is bounds-checked against the mapping.
 * Pure C11 + POSIX mmap; no printing. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"
#include "gguf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ggml types: name, elements per block, bytes per block, qs dtype or -1
 * (ggml.h enum ggml_type; block sizes from ggml-common.h). */
typedef struct gtype {
	int id;
	const char *name;
	int blck, size;
	int dt;
} gtype;

static const gtype gtypes[] = {
    {0, "F32", 1, 4, QS_DT_F32},    {1, "F16", 1, 2, QS_DT_F16},
    {2, "Q4_0", 32, 18, -1},	    {3, "Q4_1", 32, 20, -1},
    {6, "Q5_0", 32, 22, -1},	    {7, "Q5_1", 32, 24, -1},
    {8, "Q8_0", 32, 34, -1},	    {9, "Q8_1", 32, 36, -1},
    {10, "Q2_K", 256, 84, -1},	    {11, "Q3_K", 256, 110, -1},
    {12, "Q4_K", 256, 144, -1},	    {13, "Q5_K", 256, 176, -1},
    {14, "Q6_K", 256, 210, -1},	    {15, "Q8_K", 256, 292, -1},
    {16, "IQ2_XXS", 256, 66, -1},   {17, "IQ2_XS", 256, 74, -1},
    {18, "IQ3_XXS", 256, 98, -1},   {19, "IQ1_S", 256, 50, -1},
    {20, "IQ4_NL", 32, 18, -1},	    {21, "IQ3_S", 256, 110, -1},
    {22, "IQ2_S", 256, 82, -1},	    {23, "IQ4_XS", 256, 136, -1},
    {24, "I8", 1, 1, QS_DT_I8},	    {25, "I16", 1, 2, QS_DT_I16},
    {26, "I32", 1, 4, QS_DT_I32},   {27, "I64", 1, 8, QS_DT_I64},
    {28, "F64", 1, 8, QS_DT_F64},   {29, "IQ1_M", 256, 56, -1},
    {30, "BF16", 1, 2, QS_DT_BF16}, {34, "TQ1_0", 256, 54, -1},
    {35, "TQ2_0", 256, 66, -1},	    {39, "MXFP4", 32, 17, -1},
};

static const gtype *find_gtype(uint32_t id)
{
	for (size_t i = 0; i < sizeof gtypes / sizeof gtypes[0]; i++)
		if ((uint32_t)gtypes[i].id == id)
			return &gtypes[i];
	return NULL;
}

/* More tensors than this are refused; only the first MAX_META keys are
 * kept as metadata (llama.cpp files hold a few thousand tensors and a few
 * dozen keys). */
#define MAX_TENSORS 1000000
#define MAX_META 10000

/* Metadata value types (gguf_type). */
enum {
	G_U8,
	G_I8,
	G_U16,
	G_I16,
	G_U32,
	G_I32,
	G_F32,
	G_BOOL,
	G_STRING,
	G_ARRAY,
	G_U64,
	G_I64,
	G_F64,
	G_NTYPES
};

static const int scalar_size[G_NTYPES] = {1, 1, 2, 2, 4, 4, 4,
					  1, 0, 0, 8, 8, 8};

/* A cursor over the mapped file; any read past the end sets bad. */
typedef struct cur {
	const uint8_t *p;
	uint64_t pos, len;
	int bad;
} cur;

static int need(cur *c, uint64_t n)
{
	if (c->bad || n > c->len - c->pos) {
		c->bad = 1;
		return 0;
	}
	return 1;
}

static uint64_t rd(cur *c, int n)
{
	if (!need(c, (uint64_t)n))
		return 0;
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | c->p[c->pos + (uint64_t)i];
	c->pos += (uint64_t)n;
	return v;
}

/* A string: u64 length + bytes (not NUL-terminated in the file). */
static const char *rd_str(cur *c, uint64_t *n)
{
	*n = rd(c, 8);
	if (!need(c, *n))
		return NULL;
	const char *s = (const char *)c->p + c->pos;
	c->pos += *n;
	return s;
}

/* Skip a value of type t (arrays nest at most 4 deep). */
static void skip_value(cur *c, uint32_t t, int depth)
{
	if (depth > 4) {
		c->bad = 3;
		return;
	}
	if (t >= G_NTYPES) {
		c->bad = 2;
		return;
	}
	if (t == G_STRING) {
		uint64_t n;
		rd_str(c, &n);
	} else if (t == G_ARRAY) {
		uint32_t et = (uint32_t)rd(c, 4);
		uint64_t n = rd(c, 8);
		if (et >= G_NTYPES) {
			c->bad = 2;
			return;
		}
		if (et != G_STRING && et != G_ARRAY) {
			uint64_t sz = (uint64_t)scalar_size[et];
			if (n > (c->len - c->pos) / sz)
				c->bad = 1;
			else
				c->pos += n * sz;
			return;
		}
		for (uint64_t i = 0; i < n && !c->bad; i++)
			skip_value(c, et, depth + 1);
	} else {
		need(c, (uint64_t)scalar_size[t]);
		if (!c->bad)
			c->pos += (uint64_t)scalar_size[t];
	}
}

typedef struct gfile {
	const uint8_t *map;
	uint64_t len;
	uint64_t ntensors;
	uint64_t tinfo;	    /* offset of the tensor table */
	uint64_t alignment; /* general.alignment */
	uint64_t data;	    /* offset of the data section */
} gfile;

typedef struct ginfo {
	const char *name;
	uint64_t name_len;
	int ndim;
	int64_t shape[QS_MAX_NDIM]; /* numpy order */
	int64_t count;
	uint32_t type;
	const gtype *gt;
	uint64_t offset; /* relative to the data section */
	uint64_t nbytes;
} ginfo;

static qs_status bad_cursor(const cur *c, const char *path, const char *what,
			    qs_error *err)
{
	if (c->bad == 3)
		return qs_fail(err, QS_EFORMAT,
			       "%s: arrays nested deeper than 4 in %s at byte "
			       "%llu",
			       path, what, (unsigned long long)c->pos);
	if (c->bad == 2)
		return qs_fail(err, QS_EFORMAT,
			       "%s: bad value type in %s at byte %llu", path,
			       what, (unsigned long long)c->pos);
	return qs_fail(
	    err, QS_EFORMAT,
	    "%s: truncated %s: runs past the end of the file at byte "
	    "%llu",
	    path, what, (unsigned long long)c->pos);
}

/* Parse the fixed header and the key-values; collect string and scalar
 * metadata into b when b is not NULL. */
static qs_status parse_head(gfile *g, const char *path, qs_file_builder *b,
			    qs_error *err)
{
	cur c = {g->map, 0, g->len, 0};
	if (g->len < 24 || memcmp(g->map, "GGUF", 4) != 0)
		return qs_fail(err, QS_EFORMAT, "%s: not a GGUF file", path);
	c.pos = 4;
	uint32_t ver = (uint32_t)rd(&c, 4);
	if (ver != 2 && ver != 3) {
		if (ver == 0x02000000u || ver == 0x03000000u)
			return qs_fail(err, QS_EUNSUPPORTED,
				       "%s: big-endian GGUF is not supported",
				       path);
		return qs_fail(err, QS_EUNSUPPORTED,
			       "%s: unsupported GGUF version %u (accepted: 2, "
			       "3)",
			       path, ver);
	}
	g->ntensors = rd(&c, 8);
	uint64_t nkv = rd(&c, 8);
	if (g->ntensors > MAX_TENSORS)
		return qs_fail(err, QS_EUNSUPPORTED,
			       "%s: %llu tensors, more than the limit of %d",
			       path, (unsigned long long)g->ntensors,
			       MAX_TENSORS);
	g->alignment = 32;
	for (uint64_t i = 0; i < nkv && !c.bad; i++) {
		uint64_t kl;
		const char *k = rd_str(&c, &kl);
		uint32_t t = (uint32_t)rd(&c, 4);
		if (c.bad)
			break;
		uint64_t at = c.pos;
		char val[64];
		const char *vs = NULL;
		uint64_t vl = 0;
		if (t == G_STRING) {
			vs = rd_str(&c, &vl);
		} else if (t < G_NTYPES && t != G_ARRAY &&
			   need(&c, (uint64_t)scalar_size[t])) {
			uint64_t u = rd(&c, scalar_size[t]);
			switch (t) {
			case G_I8:
				snprintf(val, sizeof val, "%d", (int8_t)u);
				break;
			case G_I16:
				snprintf(val, sizeof val, "%d", (int16_t)u);
				break;
			case G_I32:
				snprintf(val, sizeof val, "%d", (int32_t)u);
				break;
			case G_I64:
				snprintf(val, sizeof val, "%lld",
					 (long long)(int64_t)u);
				break;
			case G_BOOL:
				snprintf(val, sizeof val, "%s",
					 u ? "true" : "false");
				break;
			case G_F32: {
				uint32_t b32 = (uint32_t)u;
				float f;
				memcpy(&f, &b32, 4);
				snprintf(val, sizeof val, "%.9g", f);
				break;
			}
			case G_F64: {
				double d;
				memcpy(&d, &u, 8);
				snprintf(val, sizeof val, "%.17g", d);
				break;
			}
			default:
				snprintf(val, sizeof val, "%llu",
					 (unsigned long long)u);
				break;
			}
			vs = val;
			vl = strlen(val);
			if (kl == 17 &&
			    memcmp(k, "general.alignment", 17) == 0) {
				if (t != G_U32 || u == 0 || (u & (u - 1)) ||
				    u > 65536)
					return qs_fail(err, QS_EFORMAT,
						       "%s: general.alignment "
						       "must be a u32 power of "
						       "two up to 65536",
						       path);
				g->alignment = u;
			}
		} else {
			c.pos = at;
			skip_value(&c, t, 0);
		}
		if (c.bad)
			break;
		if (b && vs && kl < 256 && vl < 4096 && i < MAX_META &&
		    !memchr(k, 0, (size_t)kl) && !memchr(vs, 0, (size_t)vl)) {
			char kb[256], *vb = malloc((size_t)vl + 1);
			if (!vb)
				return qs_fail(err, QS_ENOMEM,
					       "%s: out of memory", path);
			memcpy(kb, k, (size_t)kl);
			kb[kl] = '\0';
			memcpy(vb, vs, (size_t)vl);
			vb[vl] = '\0';
			qs_status s = qs_file_builder_meta(b, kb, vb, err);
			free(vb);
			if (s < 0)
				return s;
		}
	}
	if (c.bad)
		return bad_cursor(&c, path, "metadata", err);
	g->tinfo = c.pos;
	return QS_OK;
}

/* Read one tensor-table entry at *c. */
static qs_status parse_info(cur *c, const char *path, ginfo *ti, qs_error *err)
{
	ti->name = rd_str(c, &ti->name_len);
	uint32_t nd = (uint32_t)rd(c, 4);
	if (c->bad)
		return bad_cursor(c, path, "tensor table", err);
	if (nd > QS_MAX_NDIM)
		return qs_fail(err, QS_EFORMAT,
			       "%s: a tensor of rank %u (more than %d)", path,
			       nd, QS_MAX_NDIM);
	ti->ndim = (int)nd;
	for (uint32_t d = 0; d < nd; d++) {
		uint64_t v = rd(c, 8);
		if (v > (uint64_t)INT64_MAX)
			return qs_fail(err, QS_EFORMAT,
				       "%s: dimension %llu overflows", path,
				       (unsigned long long)v);
		ti->shape[nd - 1 - d] = (int64_t)v; /* fastest-first */
	}
	ti->type = (uint32_t)rd(c, 4);
	ti->offset = rd(c, 8);
	if (c->bad)
		return bad_cursor(c, path, "tensor table", err);
	if (qs_shape_count(ti->ndim, ti->shape, 1, &ti->count) < 0)
		return qs_fail(err, QS_EFORMAT,
			       "%s: a tensor's element count overflows", path);
	ti->gt = find_gtype(ti->type);
	ti->nbytes = 0;
	if (ti->gt) {
		uint64_t blocks =
		    ((uint64_t)ti->count + (uint64_t)ti->gt->blck - 1) /
		    (uint64_t)ti->gt->blck;
		if (blocks > UINT64_MAX / 2 / (uint64_t)ti->gt->size)
			return qs_fail(err, QS_EFORMAT,
				       "%s: a tensor's byte size overflows",
				       path);
		ti->nbytes = blocks * (uint64_t)ti->gt->size;
	}
	return QS_OK;
}

static qs_status open_gguf(int fd, const char *path, uint64_t fsize, gfile *g,
			   qs_error *err)
{
	memset(g, 0, sizeof *g);
	if (fsize < 24)
		return qs_fail(err, QS_EFORMAT,
			       "%s: not a GGUF file (only %llu bytes)", path,
			       (unsigned long long)fsize);
	if (fsize > (uint64_t)SIZE_MAX)
		return qs_fail(err, QS_EIO, "%s: too large to map", path);
	void *m = mmap(NULL, (size_t)fsize, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return qs_fail(err, QS_EIO, "%s: cannot map: %s", path,
			       strerror(errno));
	g->map = m;
	g->len = fsize;
	return QS_OK;
}

static void close_gguf(gfile *g)
{
	if (g->map)
		munmap((void *)g->map, (size_t)g->len);
}

/* Walk the tensor table: each entry checked against the data section;
 * calls fn(ti, ud) for each, stopping when it returns non-zero. */
static qs_status walk(gfile *g, const char *path,
		      int (*fn)(const ginfo *, void *, qs_error *), void *ud,
		      qs_error *err)
{
	cur c = {g->map, g->tinfo, g->len, 0};
	/* first pass: find where the table ends (the data follows it) */
	for (uint64_t i = 0; i < g->ntensors; i++) {
		ginfo ti;
		qs_status s = parse_info(&c, path, &ti, err);
		if (s < 0)
			return s;
	}
	uint64_t a = g->alignment;
	g->data = c.pos % a ? c.pos + (a - c.pos % a) : c.pos;
	if (g->data > g->len && g->ntensors)
		return qs_fail(err, QS_EFORMAT,
			       "%s: the data section starts past the end of "
			       "the file",
			       path);
	uint64_t avail = g->len > g->data ? g->len - g->data : 0;
	c.pos = g->tinfo;
	for (uint64_t i = 0; i < g->ntensors; i++) {
		ginfo ti;
		qs_status s = parse_info(&c, path, &ti, err);
		if (s < 0)
			return s;
		if (ti.gt &&
		    (ti.offset > avail || ti.nbytes > avail - ti.offset))
			return qs_fail(err, QS_EFORMAT,
				       "%s: tensor %llu: data at %llu + %llu "
				       "bytes runs past the end of the file",
				       path, (unsigned long long)i,
				       (unsigned long long)ti.offset,
				       (unsigned long long)ti.nbytes);
		int r = fn(&ti, ud, err);
		if (r < 0)
			return r;
		if (r > 0)
			break;
	}
	return QS_OK;
}

typedef struct list_ctx {
	qs_file_builder *b;
	const char *path;
	const gfile *g; /* g->data is set by walk before the entries */
} list_ctx;

static int add_one(const ginfo *ti, void *ud, qs_error *err)
{
	list_ctx *lc = ud;
	char name[1024], tb[32];
	if (ti->name_len >= sizeof name || memchr(ti->name, 0, ti->name_len))
		return qs_fail(err, QS_EFORMAT,
			       "%s: a tensor name is too long or holds NUL",
			       lc->path);
	memcpy(name, ti->name, (size_t)ti->name_len);
	name[ti->name_len] = '\0';
	if (!ti->gt)
		snprintf(tb, sizeof tb, "type %u", ti->type);
	qs_file_entry e = {
	    .name = name,
	    .dtype = ti->gt ? ti->gt->name : tb,
	    .supported = ti->gt && ti->gt->dt >= 0,
	    .dt = ti->gt && ti->gt->dt >= 0 ? (qs_dtype)ti->gt->dt : QS_DT_U8,
	    .ndim = ti->ndim,
	    .shape = ti->shape,
	    .count = ti->count,
	    .nbytes = ti->nbytes,
	    .file = lc->path,
	    .offset = lc->g->data + ti->offset,
	};
	return qs_file_builder_add(lc->b, &e, err);
}

qs_file_listing *qs_gguf_list_fd(int fd, const char *path, uint64_t fsize,
				 qs_error *err)
{
	gfile g;
	if (open_gguf(fd, path, fsize, &g, err) < 0)
		return NULL;
	qs_file_builder *b = qs_file_builder_new(path, "gguf", err);
	if (!b || parse_head(&g, path, b, err) < 0)
		goto fail;
	list_ctx lc = {b, path, &g};
	if (walk(&g, path, add_one, &lc, err) < 0)
		goto fail;
	close_gguf(&g);
	return qs_file_builder_done(b, err);
fail:
	qs_file_builder_free(b);
	close_gguf(&g);
	return NULL;
}

typedef struct find_ctx {
	const char *name;
	ginfo found;
	uint64_t n;
	int hit;
} find_ctx;

static int find_one(const ginfo *ti, void *ud, qs_error *err)
{
	(void)err;
	find_ctx *fc = ud;
	fc->n++;
	if (!fc->name) {
		fc->found = *ti;
		fc->hit = 1;
		return 0;
	}
	if (ti->name_len == strlen(fc->name) &&
	    memcmp(ti->name, fc->name, (size_t)ti->name_len) == 0) {
		fc->found = *ti;
		fc->hit = 1;
		return 1;
	}
	return 0;
}

qs_tensor *qs_gguf_load_fd(int fd, const char *path, uint64_t fsize,
			   const char *name, const qs_select *sel,
			   qs_error *err)
{
	gfile g;
	if (open_gguf(fd, path, fsize, &g, err) < 0)
		return NULL;
	qs_tensor *t = NULL;
	char *tname = NULL, nb[96];
	find_ctx fc = {name, {0}, 0, 0};
	if (parse_head(&g, path, NULL, err) < 0 ||
	    walk(&g, path, find_one, &fc, err) < 0)
		goto done;
	if (!name && fc.n != 1) {
		qs_fail(err, QS_EINVAL,
			"%s: holds %llu tensors; name the one to load", path,
			(unsigned long long)fc.n);
		goto done;
	}
	if (!fc.hit) {
		size_t k = 0;
		for (; name[k] && k < 80; k++)
			nb[k] = (unsigned char)name[k] < 32 ? '?' : name[k];
		nb[k] = '\0';
		qs_fail(err, QS_EINVAL, "%s: no tensor '%s'", path, nb);
		goto done;
	}
	ginfo *ti = &fc.found;
	if (!ti->gt || ti->gt->dt < 0) {
		qs_fail(err, QS_EUNSUPPORTED,
			"%s: tensor '%.*s' has ggml type %s, which cannot be "
			"loaded (accepted: F32 F16 BF16 F64 I8 I16 I32 I64)",
			path, (int)(ti->name_len > 80 ? 80 : ti->name_len),
			ti->name, ti->gt ? ti->gt->name : "unknown");
		goto done;
	}
	size_t tl = strlen(path) + (size_t)ti->name_len + 2;
	tname = malloc(tl);
	if (!tname) {
		qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	snprintf(tname, tl, "%s:%.*s", path, (int)ti->name_len, ti->name);
	t = qs_file_load_raw(fd, path, g.data + ti->offset,
			     (qs_dtype)ti->gt->dt, 0, ti->ndim, ti->shape, sel,
			     tname, err);
done:
	free(tname);
	close_gguf(&g);
	return t;
}
