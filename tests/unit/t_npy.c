/* t_npy: .npy reading (versions, byte orders, Fortran order, ranks, header
 * layouts), every bad-file case, and atomic writing. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/qs_engine.h"
#include "tap.h"

static char dir[256];
#define HDR23 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
#define HDR1 "{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }"


/* Build a .npy image: magic, version, header (padded to 64 unless pad is
 * 0), data. */
static size_t image(uint8_t *out, int major, const char *dict, int pad,
		    const void *data, size_t n)
{
	size_t pre = major == 1 ? 10 : 12, hl = strlen(dict);
	size_t total = pad ? (pre + hl + 1 + pad - 1) / pad * pad : pre + hl + 1;
	size_t hlen = total - pre;
	memcpy(out, "\x93NUMPY", 6);
	out[6] = (uint8_t)major;
	out[7] = 0;
	if (major == 1) {
		out[8] = (uint8_t)hlen;
		out[9] = (uint8_t)(hlen >> 8);
	} else {
		for (int i = 0; i < 4; i++)
			out[8 + i] = (uint8_t)(hlen >> (8 * i));
	}
	memcpy(out + pre, dict, hl);
	memset(out + pre + hl, ' ', hlen - hl - 1);
	out[total - 1] = '\n';
	if (n)
		memcpy(out + total, data, n);
	return total + n;
}

static char *write_file(const char *name, const void *buf, size_t n)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	fwrite(buf, 1, n, f);
	fclose(f);
	return path;
}

static qs_tensor *load_img(const char *name, int major, const char *dict,
			   int pad, const void *data, size_t n, qs_error *err)
{
	static uint8_t buf[1 << 16];
	size_t len = image(buf, major, dict, pad, data, n);
	return qs_npy_load(write_file(name, buf, len), err);
}

static void expect_error(const char *name, const uint8_t *buf, size_t len,
			 qs_status code, const char *needle)
{
	qs_error err;
	qs_tensor *t = qs_npy_load(write_file(name, buf, len), &err);
	ok(!t && err.code == code && strstr(err.msg, needle) &&
		   strstr(err.msg, name),
	   "%s: error %d '%s'", name, t ? 0 : err.code, t ? "" : err.msg);
	qs_tensor_free(t);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/qs_t_npy.XXXXXX");
	if (!mkdtemp(dir))
		skip_all("cannot make a temporary directory");
	tap_plan(45);
	qs_error err;
	float f6[6] = {1, 2, 3, 4, 5, 6};

	/* v1.0, C order, float32: mapped in place */
	qs_tensor *t = load_img("a.npy", 1,
				"{'descr': '<f4', 'fortran_order': False, "
				"'shape': (2, 3), }",
				64, f6, sizeof f6, &err);
	ok(t && t->dtype == QS_DT_F32 && t->ndim == 2 && t->shape[0] == 2 &&
		   t->shape[1] == 3 && t->size == 6,
	   "v1.0 <f4 (2,3) header");
	ok(t && t->map_ != NULL, "little-endian float32 C order is mapped");
	ok(t && qs_tensor_get(t, 5) == 6.0, "values read");
	qs_tensor_free(t);

	/* v2.0 and v3.0, keys in another order, odd spacing, no padding */
	t = load_img("b.npy", 2,
		     "{ 'shape':(6,) ,'fortran_order' : False,'descr':'<f4'}",
		     0, f6, sizeof f6, &err);
	ok(t && t->size == 6 && qs_tensor_get(t, 2) == 3.0,
	   "v2.0, keys in any order, unpadded (unaligned data copied)");
	qs_tensor_free(t);
	t = load_img("c.npy", 3,
		     "{'descr': '<f4', 'fortran_order': False, 'shape': "
		     "(6,), }",
		     16, f6, sizeof f6, &err);
	ok(t && t->size == 6 && qs_tensor_get(t, 0) == 1.0,
	   "v3.0, 16-byte padding");
	qs_tensor_free(t);

	/* Fortran order -> C order */
	t = load_img("f.npy", 1,
		     "{'descr': '<f4', 'fortran_order': True, 'shape': (2, "
		     "3), }",
		     64, f6, sizeof f6, &err);
	/* column-major data 1..6 of a 2x3: rows are [1,3,5], [2,4,6] */
	ok(t && qs_tensor_get(t, 0) == 1 && qs_tensor_get(t, 1) == 3 &&
		   qs_tensor_get(t, 2) == 5 && qs_tensor_get(t, 3) == 2 &&
		   qs_tensor_get(t, 5) == 6,
	   "fortran_order True is converted to C order");
	qs_tensor_free(t);
	float f24[24];
	for (int i = 0; i < 24; i++)
		f24[i] = (float)i;
	t = load_img("f3.npy", 1,
		     "{'descr': '<f4', 'fortran_order': True, 'shape': (2, "
		     "3, 4), }",
		     64, f24, sizeof f24, &err);
	/* C index (i,j,k) reads Fortran offset i + 2j + 6k */
	int good = t != NULL;
	for (int i = 0; good && i < 2; i++)
		for (int j = 0; j < 3; j++)
			for (int k = 0; k < 4; k++)
				good &= qs_tensor_get(t, i * 12 + j * 4 + k) ==
					(double)(i + 2 * j + 6 * k);
	ok(good, "3-D Fortran order");
	qs_tensor_free(t);

	/* big-endian int16, '|' byte order, bool, 0-d, empty */
	uint8_t be[4] = {0x01, 0x02, 0xFF, 0xFE};
	t = load_img("be.npy", 1,
		     "{'descr': '>i2', 'fortran_order': False, 'shape': "
		     "(2,), }",
		     64, be, 4, &err);
	ok(t && t->dtype == QS_DT_I16 && qs_tensor_get(t, 0) == 258 &&
		   qs_tensor_get(t, 1) == -2,
	   "big-endian >i2 swapped");
	qs_tensor_free(t);
	uint8_t u1[3] = {0, 200, 255};
	t = load_img("u1.npy", 1,
		     "{'descr': '|u1', 'fortran_order': False, 'shape': "
		     "(3,), }",
		     64, u1, 3, &err);
	ok(t && t->dtype == QS_DT_U8 && qs_tensor_get(t, 1) == 200, "|u1");
	qs_tensor_free(t);
	uint8_t b1[3] = {0, 1, 1};
	t = load_img("b1.npy", 1,
		     "{'descr': '|b1', 'fortran_order': False, 'shape': "
		     "(3,), }",
		     64, b1, 3, &err);
	ok(t && t->dtype == QS_DT_BOOL && qs_tensor_get(t, 2) == 1, "|b1");
	qs_tensor_free(t);
	double d0 = 2.5;
	t = load_img("d0.npy", 1,
		     "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
		     64, &d0, 8, &err);
	ok(t && t->ndim == 0 && t->size == 1 && qs_tensor_get(t, 0) == 2.5,
	   "0-d float64 scalar");
	qs_tensor_free(t);
	t = load_img("e.npy", 1,
		     "{'descr': '<f4', 'fortran_order': False, 'shape': "
		     "(0,), }",
		     64, NULL, 0, &err);
	ok(t && t->ndim == 1 && t->size == 0, "empty (0,)");
	qs_tensor_free(t);
	t = load_img("L.npy", 1,
		     "{'descr': '<f4', 'fortran_order': False, 'shape': "
		     "(2L, 3L), }",
		     64, f6, sizeof f6, &err);
	ok(t && t->size == 6, "Python 2 long literals 3L");
	qs_tensor_free(t);
	uint16_t h[2] = {0x3C00, 0xC000};
	t = load_img("h.npy", 1,
		     "{'descr': '<f2', 'fortran_order': False, 'shape': "
		     "(2,), }",
		     64, h, 4, &err);
	ok(t && t->dtype == QS_DT_F16 && qs_tensor_get(t, 1) == -2.0,
	   "<f2 half floats");
	const float *hf = t ? qs_tensor_f32(t, &err) : NULL;
	ok(hf && hf[0] == 1.0f, "float32 view of a float16 tensor");
	qs_tensor_free(t);
	int64_t i8[2] = {-5, 1LL << 40};
	t = load_img("i8.npy", 1,
		     "{'descr': '<i8', 'fortran_order': False, 'shape': "
		     "(2,), }",
		     64, i8, 16, &err);
	ok(t && qs_tensor_get(t, 1) == 1099511627776.0, "<i8");
	qs_tensor_free(t);

	/* bad files */
	uint8_t buf[20000];
	size_t n = image(buf, 1,
			 "{'descr': '<f4', 'fortran_order': False, 'shape': "
			 "(6,), }",
			 64, f6, sizeof f6);
	expect_error("trunc.npy", buf, n - 3, QS_EFORMAT, "truncated data");
	buf[1] = 'X';
	expect_error("magic.npy", buf, n, QS_EFORMAT, "bad magic");
	buf[1] = 'N';
	expect_error("short.npy", buf, 5, QS_EFORMAT, "not a .npy");
	expect_error("trunchdr.npy", buf, 40, QS_EFORMAT, "truncated header");
	buf[6] = 4;
	expect_error("ver.npy", buf, n, QS_EUNSUPPORTED, "version 4.0");
	buf[6] = 1;
	char big[12001];
	memset(big, ' ', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }",
	       57);
	n = image(buf, 2, big, 64, f6, sizeof f6);
	expect_error("hugehdr.npy", buf, n, QS_EFORMAT, "exceeds numpy's limit");
	n = image(buf, 1,
		  "{'descr': '<f4', 'fortran_order': False, 'shape': "
		  "(4294967296, 4294967296, 4294967296), }",
		  64, f6, sizeof f6);
	expect_error("ovf.npy", buf, n, QS_EFORMAT, "overflows");
	n = image(buf, 1,
		  "{'descr': '<f4', 'fortran_order': False, 'shape': "
		  "(99999999999999999999,), }",
		  64, f6, sizeof f6);
	expect_error("ovf2.npy", buf, n, QS_EFORMAT, "overflows int64");
	n = image(buf, 1,
		  "{'descr': '<f4', 'fortran_order': False, 'shape': "
		  "(1000000000000000,), }",
		  64, f6, sizeof f6);
	expect_error("exceeds.npy", buf, n, QS_EFORMAT, "truncated data");
	n = image(buf, 1,
		  "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
		  64, f6, 16);
	expect_error("obj.npy", buf, n, QS_EUNSUPPORTED, "object dtype");
	n = image(buf, 1,
		  "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }",
		  64, f6, 16);
	expect_error("c8.npy", buf, n, QS_EUNSUPPORTED, "unsupported dtype");
	n = image(buf, 1,
		  "{'descr': [('a', '<f4')], 'fortran_order': False, "
		  "'shape': (2,), }",
		  64, f6, 8);
	expect_error("struct.npy", buf, n, QS_EUNSUPPORTED, "structured");
	n = image(buf, 1, "['descr', '<f4']", 64, f6, 8);
	expect_error("notdict.npy", buf, n, QS_EFORMAT, "not a Python dict");
	n = image(buf, 1, "{'descr': '<f4', 'shape': (2,), }", 64, f6, 8);
	expect_error("nokey.npy", buf, n, QS_EFORMAT, "missing key");
	n = image(buf, 1,
		  "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), "
		  "}",
		  64, f6, 8);
	expect_error("neg.npy", buf, n, QS_EFORMAT, "negative dimension");
	n = image(buf, 1,
		  "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }",
		  64, f6, 8);
	expect_error("fo.npy", buf, n, QS_EFORMAT, "fortran_order");
	n = image(buf, 1,
		  "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "
		  "'extra': 1}",
		  64, f6, 8);
	expect_error("extra.npy", buf, n, QS_EFORMAT, "unexpected key");
	t = qs_npy_load("/nonexistent/x.npy", &err);
	ok(!t && err.code == QS_EIO && strstr(err.msg, "/nonexistent/x.npy"),
	   "missing file: %s", err.msg);

	/* writing: round trip, v2.0 for long headers, atomic failure */
	int64_t shp[2] = {2, 3};
	t = qs_tensor_new(QS_DT_F32, 2, shp, &err);
	memcpy(t->data, f6, sizeof f6);
	char path[512];
	snprintf(path, sizeof path, "%s/out.npy", dir);
	ok(qs_npy_save(t, path, &err) == QS_OK, "save");
	qs_tensor *u = qs_npy_load(path, &err);
	ok(u && u->ndim == 2 && u->shape[1] == 3 &&
		   memcmp(u->data, f6, sizeof f6) == 0,
	   "save/load round trip");
	FILE *f = fopen(path, "rb");
	uint8_t hd[200];
	size_t got = fread(hd, 1, sizeof hd, f);
	fclose(f);
	ok(got == 152 && hd[6] == 1 && (hd[8] | hd[9] << 8) + 10 == 128 &&
		   memcmp(hd + 10, HDR23, strlen(HDR23)) == 0 &&
		   hd[127] == '\n',
	   "header as numpy writes it, data at offset 128");
	qs_tensor_free(u);
	int64_t one = 1;
	qs_tensor *s1 = qs_tensor_new(QS_DT_I16, 1, &one, &err);
	snprintf(path, sizeof path, "%s/one.npy", dir);
	qs_npy_save(s1, path, &err);
	f = fopen(path, "rb");
	got = fread(hd, 1, 128, f);
	fclose(f);
	ok(memcmp(hd + 10, HDR1, strlen(HDR1)) == 0,
	   "1-d shape written as (1,)");
	qs_tensor_free(s1);
	int64_t many[QS_MAX_NDIM];
	for (int i = 0; i < QS_MAX_NDIM; i++)
		many[i] = 1;
	qs_tensor *m = qs_tensor_new(QS_DT_U8, QS_MAX_NDIM, many, &err);
	snprintf(path, sizeof path, "%s/many.npy", dir);
	ok(m && qs_npy_save(m, path, &err) == QS_OK, "rank-64 save");
	u = qs_npy_load(path, &err);
	ok(u && u->ndim == QS_MAX_NDIM, "rank-64 load");
	qs_tensor_free(u);
	qs_tensor_free(m);
	/* a failing save leaves the old file intact */
	snprintf(path, sizeof path, "%s/out.npy", dir);
	struct stat before, after;
	stat(path, &before);
	ok(qs_npy_save(t, "/nonexistent-dir/x.npy", &err) == QS_EIO &&
		   strstr(err.msg, "/nonexistent-dir/x.npy"),
	   "save into a missing directory: %s", err.msg);
	if (getuid() != 0) {
		chmod(dir, 0500);
		qs_status st = qs_npy_save(t, path, &err);
		chmod(dir, 0700);
		stat(path, &after);
		ok(st == QS_EIO && after.st_ino == before.st_ino,
		   "failed save keeps the old file");
	} else {
		/* root ignores permissions; a too-long name fails instead */
		char lp[1200];
		snprintf(lp, sizeof lp, "%s/%0900d.npy", dir, 0);
		qs_status st = qs_npy_save(t, lp, &err);
		stat(path, &after);
		ok(st == QS_EIO && after.st_ino == before.st_ino,
		   "failed save reports and keeps other files");
	}
	qs_tensor *bf = qs_tensor_new(QS_DT_BF16, 1, &one, &err);
	ok(qs_npy_save(bf, path, &err) == QS_EUNSUPPORTED,
	   "bfloat16 has no .npy dtype: %s", err.msg);
	qs_tensor_free(bf);
	qs_tensor_free(t);
	/* conversions */
	ok(qs_float_to_half(65520.0f) == 0x7C00 &&
		   qs_float_to_half(65519.0f) == 0x7BFF &&
		   qs_float_to_half(0x1p-25f) == 0 &&
		   qs_float_to_half(0x1.8p-25f) == 1,
	   "float16 rounding: overflow tie, subnormal ties");
	ok(qs_float_to_bf16(1.0f + 0x1p-8f) == 0x3F80 &&
		   qs_float_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3F82,
	   "bfloat16 ties to even");
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
