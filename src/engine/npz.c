/* npz: .npz archives through libzip (numpy/lib/npyio.py's savez writes a
 * zip of .npy members).  Members are streamed; only what is asked is kept.
 * Pure C11 + libzip; no printing. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"
#include "npz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "npy.h"

/* More members than this are refused (listing reads each header). */
#define MAX_MEMBERS 1000000
/* Bytes read or skipped at a time. */
#define BUF 65536

static int host_le(void)
{
	const uint16_t one = 1;
	return *(const uint8_t *)&one == 1;
}

static zip_t *open_zip(const char *path, uint64_t *zsize, qs_error *err)
{
	struct stat sb;
	if (stat(path, &sb) < 0) {
		qs_fail(err, QS_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	*zsize = (uint64_t)sb.st_size;
	int ze = 0;
	zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!z) {
		zip_error_t e;
		zip_error_init_with_code(&e, ze);
		qs_fail(err,
			ze == ZIP_ER_OPEN || ze == ZIP_ER_NOENT ||
				ze == ZIP_ER_READ
			    ? QS_EIO
			    : QS_EFORMAT,
			"%s: %s", path, zip_error_strerror(&e));
		zip_error_fini(&e);
	}
	return z;
}

/* Read exactly n bytes (fewer only at the end of the member): the count,
 * or -1 with err filled. */
static int64_t read_full(zip_file_t *f, void *buf, size_t n, const char *what,
			 qs_error *err)
{
	size_t got = 0;
	while (got < n) {
		zip_int64_t r = zip_fread(f, (char *)buf + got, n - got);
		if (r < 0) {
			qs_fail(err, QS_EFORMAT, "%s: %s", what,
				zip_file_strerror(f));
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (int64_t)got;
}

/* An open member positioned after its .npy header. */
typedef struct member {
	zip_file_t *f;
	zip_stat_t st;
	qs_npy_info info;
	char what[512]; /* "archive:member" for messages */
} member;

/* Check a member can be read at all, and that its sizes in the zip
 * directory are possible for an archive of zsize bytes: that bounds what
 * a lying directory can make us allocate. */
static qs_status check_member(const zip_stat_t *st, uint64_t zsize,
			      const char *what, qs_error *err)
{
	if (st->encryption_method != ZIP_EM_NONE)
		return qs_fail(err, QS_EUNSUPPORTED,
			       "%s: encrypted members are not supported", what);
	if (st->comp_method != ZIP_CM_STORE &&
	    st->comp_method != ZIP_CM_DEFLATE)
		return qs_fail(err, QS_EUNSUPPORTED,
			       "%s: compression method %d is not supported "
			       "(accepted: stored, deflated)",
			       what, (int)st->comp_method);
	if (st->comp_size > zsize)
		return qs_fail(
		    err, QS_EFORMAT,
		    "%s: %llu compressed bytes in an archive of %llu", what,
		    (unsigned long long)st->comp_size,
		    (unsigned long long)zsize);
	if (st->comp_method == ZIP_CM_STORE && st->size != st->comp_size)
		return qs_fail(err, QS_EFORMAT,
			       "%s: stored member of %llu bytes claims %llu "
			       "uncompressed",
			       what, (unsigned long long)st->comp_size,
			       (unsigned long long)st->size);
	/* deflate expands at most 1032:1 (258-byte matches in 2 bits) */
	if (st->comp_method == ZIP_CM_DEFLATE &&
	    st->size / 1032 > st->comp_size + 1)
		return qs_fail(
		    err, QS_EFORMAT,
		    "%s: claims %llu bytes from %llu deflated bytes, "
		    "more than deflate can produce",
		    what, (unsigned long long)st->size,
		    (unsigned long long)st->comp_size);
	return QS_OK;
}

/* Open member idx and parse its .npy header; the data is not read. */
static qs_status open_member(zip_t *z, uint64_t zsize, zip_uint64_t idx,
			     const char *path, member *m, qs_error *err)
{
	memset(m, 0, sizeof *m);
	if (zip_stat_index(z, idx, 0, &m->st) < 0)
		return qs_fail(err, QS_EFORMAT, "%s: %s", path,
			       zip_strerror(z));
	snprintf(m->what, sizeof m->what, "%s:%s", path, m->st.name);
	qs_status s = check_member(&m->st, zsize, m->what, err);
	if (s < 0)
		return s;
	m->f = zip_fopen_index(z, idx, 0);
	if (!m->f)
		return qs_fail(err, QS_EFORMAT, "%s: %s", m->what,
			       zip_strerror(z));
	/* magic, version and length first, then exactly the header */
	unsigned char buf[12 + QS_NPY_MAX_HEADER];
	int64_t got = read_full(m->f, buf, 12, m->what, err);
	if (got < 0)
		goto fail;
	size_t need = (size_t)got;
	if (got == 12 && memcmp(buf, "\x93NUMPY", 6) == 0) {
		size_t hlen =
		    buf[6] == 1
			? ((size_t)buf[8] | (size_t)buf[9] << 8) + 10
			: ((size_t)buf[8] | (size_t)buf[9] << 8 |
			   (size_t)buf[10] << 16 | (size_t)buf[11] << 24) +
			      12;
		if (hlen <= sizeof buf && hlen > 12) {
			int64_t more =
			    read_full(m->f, buf + 12, hlen - 12, m->what, err);
			if (more < 0)
				goto fail;
			need += (size_t)more;
		}
	}
	if ((s = qs_npy_read_header(buf, need, m->what, &m->info, err)) < 0)
		goto fail_s;
	if (m->info.offset > m->st.size ||
	    m->info.bytes > m->st.size - m->info.offset) {
		s = qs_fail(
		    err, QS_EFORMAT,
		    "%s: the .npy header declares %zu data bytes, the "
		    "member holds %llu",
		    m->what, m->info.bytes,
		    (unsigned long long)(m->st.size > m->info.offset
					     ? m->st.size - m->info.offset
					     : 0));
		goto fail_s;
	}
	return QS_OK;
fail:
	s = err ? err->code : QS_EFORMAT;
fail_s:
	zip_fclose(m->f);
	m->f = NULL;
	return s;
}

static int is_npy_name(const char *n)
{
	size_t l = strlen(n);
	return l > 4 && strcmp(n + l - 4, ".npy") == 0;
}

qs_file_listing *qs_npz_list(const char *path, qs_error *err)
{
	uint64_t zsize;
	zip_t *z = open_zip(path, &zsize, err);
	if (!z)
		return NULL;
	qs_file_builder *b = NULL;
	zip_int64_t n = zip_get_num_entries(z, 0);
	if (n < 0 || n > MAX_MEMBERS) {
		qs_fail(err, QS_EUNSUPPORTED,
			"%s: %lld members, more than the limit of %d", path,
			(long long)n, MAX_MEMBERS);
		goto fail;
	}
	if (!(b = qs_file_builder_new(path, "npz", err)))
		goto fail;
	for (zip_int64_t i = 0; i < n; i++) {
		const char *nm = zip_get_name(z, (zip_uint64_t)i, 0);
		if (!nm || !is_npy_name(nm))
			continue;
		member m;
		if (open_member(z, zsize, (zip_uint64_t)i, path, &m, err) < 0)
			goto fail;
		zip_fclose(m.f);
		char name[512], descr[8];
		size_t l = strlen(nm) - 4;
		if (l >= sizeof name)
			l = sizeof name - 1;
		memcpy(name, nm, l);
		name[l] = '\0';
		qs_file_npy_descr(m.info.dtype,
				  m.info.swap ? host_le() : !host_le(), descr);
		qs_file_entry e = {
		    .name = name,
		    .dtype = descr,
		    .supported = 1,
		    .dt = m.info.dtype,
		    .ndim = m.info.ndim,
		    .shape = m.info.shape,
		    .count = m.info.count,
		    .nbytes = m.info.bytes,
		    .file = path,
		    .offset = 0,
		};
		if (qs_file_builder_add(b, &e, err) < 0)
			goto fail;
	}
	zip_discard(z);
	return qs_file_builder_done(b, err);
fail:
	qs_file_builder_free(b);
	zip_discard(z);
	return NULL;
}

/* Find the member for name: "name.npy", else "name"; NULL name: the only
 * .npy member. */
static zip_int64_t locate(zip_t *z, const char *path, const char *name,
			  qs_error *err)
{
	if (!name) {
		zip_int64_t n = zip_get_num_entries(z, 0), one = -1, k = 0;
		for (zip_int64_t i = 0; i < n && k < 2; i++) {
			const char *nm = zip_get_name(z, (zip_uint64_t)i, 0);
			if (nm && is_npy_name(nm)) {
				one = i;
				k++;
			}
		}
		if (k != 1) {
			qs_fail(err, QS_EINVAL,
				"%s: holds %s .npy members; name the one to "
				"load",
				path, k ? "several" : "no");
			return -1;
		}
		return one;
	}
	size_t l = strlen(name);
	char *full = malloc(l + 5);
	if (!full) {
		qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
		return -1;
	}
	memcpy(full, name, l);
	memcpy(full + l, ".npy", 5);
	zip_int64_t i = zip_name_locate(z, full, 0);
	free(full);
	if (i < 0)
		i = zip_name_locate(z, name, 0);
	if (i < 0) {
		char nb[96];
		size_t k = 0;
		for (; name[k] && k < 80; k++)
			nb[k] = (unsigned char)name[k] < 32 ? '?' : name[k];
		nb[k] = '\0';
		qs_fail(err, QS_EINVAL, "%s: no member '%s'", path, nb);
	}
	return i;
}

/* Skip n bytes of a member: seek when stored, else read and drop. */
static qs_status skip(member *m, uint64_t pos, uint64_t n, uint8_t *buf,
		      qs_error *err)
{
	if (!n)
		return QS_OK;
	if (m->st.comp_method == ZIP_CM_STORE &&
	    zip_fseek(m->f, (zip_int64_t)(m->info.offset + pos + n),
		      SEEK_SET) == 0)
		return QS_OK;
	while (n) {
		size_t k = n < BUF ? (size_t)n : BUF;
		int64_t r = read_full(m->f, buf, k, m->what, err);
		if (r < 0)
			return QS_EFORMAT;
		if ((size_t)r < k)
			return qs_fail(err, QS_EFORMAT,
				       "%s: truncated member data", m->what);
		n -= k;
	}
	return QS_OK;
}

/* Read the selected runs of a C-order member into t. */
static qs_status read_runs(member *m, qs_tensor *t, int64_t outer,
			   int64_t stride, int64_t first, int64_t run,
			   qs_error *err)
{
	qs_dtype dt = m->info.dtype;
	size_t sz = qs_dtype_size(dt), osz = qs_dtype_size(t->dtype);
	int direct = t->dtype == dt && !m->info.swap && dt != QS_DT_BOOL;
	uint8_t *buf = malloc(BUF);
	if (!buf)
		return qs_fail(err, QS_ENOMEM, "%s: out of memory", m->what);
	uint8_t *out = t->data;
	uint64_t pos = 0; /* data bytes consumed */
	qs_status s = QS_OK;
	for (int64_t o = 0; o < outer && s == QS_OK; o++) {
		uint64_t at = (uint64_t)(first + o * stride) * sz;
		if ((s = skip(m, pos, at - pos, buf, err)) < 0)
			break;
		pos = at;
		int64_t left = run;
		while (left > 0) {
			int64_t k = direct ? left
					   : (left < (int64_t)(BUF / sz)
						  ? left
						  : (int64_t)(BUF / sz));
			uint8_t *dst = direct ? out : buf;
			int64_t r =
			    read_full(m->f, dst, (size_t)k * sz, m->what, err);
			if (r < 0) {
				s = QS_EFORMAT;
				break;
			}
			if ((size_t)r < (size_t)k * sz) {
				s = qs_fail(
				    err, QS_EFORMAT,
				    "%s: truncated member data: "
				    "the stream ends at byte %llu",
				    m->what,
				    (unsigned long long)(pos + (uint64_t)r));
				break;
			}
			if (!direct)
				qs_file_convert(out, t->dtype, buf, dt,
						m->info.swap, k);
			out += (size_t)k * osz;
			pos += (uint64_t)k * sz;
			left -= k;
		}
	}
	free(buf);
	return s;
}

/* A Fortran-order member: read it whole, let the .npy reader convert it
 * to C order, then take the part (twice the member's memory at most). */
static qs_tensor *load_fortran(zip_t *z, zip_uint64_t idx, member *m,
			       const qs_select *sel, const char *tname,
			       qs_error *err)
{
	size_t len = m->info.offset + m->info.bytes;
	if (qs_file_check_memory(2 * (uint64_t)len, tname, err) < 0)
		return NULL;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		qs_fail(err, QS_ENOMEM, "%s: out of memory (%zu bytes)", tname,
			len);
		return NULL;
	}
	zip_fclose(m->f);
	m->f = zip_fopen_index(z, idx, 0);
	qs_tensor *t = NULL;
	if (!m->f) {
		qs_fail(err, QS_EFORMAT, "%s: %s", m->what, zip_strerror(z));
		goto done;
	}
	int64_t r = read_full(m->f, buf, len, m->what, err);
	if (r < 0)
		goto done;
	if ((size_t)r < len) {
		qs_fail(err, QS_EFORMAT,
			"%s: truncated member data: the stream ends at byte "
			"%lld",
			m->what, (long long)r);
		goto done;
	}
	qs_tensor *whole = qs_npy_parse(buf, len, tname, err);
	if (!whole)
		goto done;
	if (!sel || (sel->all && !sel->to_f32)) {
		t = whole;
		goto done;
	}
	t = qs_file_select(whole, sel, tname, err);
	qs_tensor_free(whole);
done:
	free(buf);
	return t;
}

qs_tensor *qs_npz_load(const char *path, const char *name, const qs_select *sel,
		       qs_error *err)
{
	uint64_t zsize;
	zip_t *z = open_zip(path, &zsize, err);
	if (!z)
		return NULL;
	qs_tensor *t = NULL;
	char *tname = NULL;
	member m = {0};
	zip_int64_t idx = locate(z, path, name, err);
	if (idx < 0)
		goto done;
	if (open_member(z, zsize, (zip_uint64_t)idx, path, &m, err) < 0)
		goto done;
	{
		/* "path:name" with the member's name minus ".npy" */
		size_t l = strlen(m.st.name);
		if (is_npy_name(m.st.name))
			l -= 4;
		size_t tl = strlen(path) + l + 2;
		tname = malloc(tl);
		if (!tname) {
			qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
			goto done;
		}
		snprintf(tname, tl, "%s:%.*s", path, (int)l, m.st.name);
	}
	if (m.info.fortran) {
		t = load_fortran(z, (zip_uint64_t)idx, &m, sel, tname, err);
		goto done;
	}
	int ondim;
	int64_t oshape[QS_MAX_NDIM], outer, dim, inner;
	if (qs_file_select_shape(sel, m.info.ndim, m.info.shape, tname, &ondim,
				 oshape, &outer, &dim, &inner, err) < 0)
		goto done;
	int64_t start = sel && !sel->all ? sel->start : 0,
		stop = sel && !sel->all ? sel->stop : 1;
	qs_dtype odt = sel && sel->to_f32 ? QS_DT_F32 : m.info.dtype;
	int64_t run = (stop - start) * inner;
	if (qs_file_check_memory((uint64_t)(outer * run) * qs_dtype_size(odt),
				 tname, err) < 0)
		goto done;
	t = qs_tensor_new(odt, ondim, oshape, err);
	if (!t || qs_tensor_set_name(t, tname, err) < 0)
		goto fail;
	if (outer * run > 0 &&
	    read_runs(&m, t, outer, dim * inner, start * inner, run, err) < 0)
		goto fail;
	goto done;
fail:
	qs_tensor_free(t);
	t = NULL;
done:
	if (m.f)
		zip_fclose(m.f);
	free(tname);
	zip_discard(z);
	return t;
}
