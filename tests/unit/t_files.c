/* t_files: the checkpoint readers on hostile and edge-case input (built
 * here byte by byte), how tensors and their parts are stored (mapped or
 * gathered), bounded memory on an .npz zip bomb, float8 decoding.  The
 * numpy/torch-written files and their values are checked by
 * tests/lua/t_files.lua. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/file.h"
#include "engine/gguf.h"
#include "engine/npz.h"
#include "engine/safetensors.h"
#include "tap.h"

#ifndef QS_TEST_DATA
#define QS_TEST_DATA "tests/data"
#endif
#define DATA QS_TEST_DATA "/files/"

static char dir[256];

static const char *tmp_path(const char *name)
{
	static char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(d, 1, n, f) != n) {
		printf("# cannot write %s\n", path);
		exit(1);
	}
	fclose(f);
}

/* A .safetensors image: length + header text + n data bytes (zeros). */
static const char *st_file(const char *name, const char *json, size_t data)
{
	size_t hl = strlen(json);
	unsigned char *b = calloc(1, 8 + hl + data + 1);
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)hl >> (8 * i));
	memcpy(b + 8, json, hl);
	const char *p = tmp_path(name);
	write_file(p, b, 8 + hl + data);
	free(b);
	return p;
}

/* Does loading (or listing when list is set) fail with code and a
 * message containing want?  One line, naming the file. */
static void fails(int list, const char *path, const char *name, qs_status code,
		  const char *want, const char *what)
{
	qs_error err = {0, ""};
	int failed;
	if (list) {
		qs_file_listing *l = qs_file_list(path, &err);
		failed = !l;
		qs_file_listing_free(l);
	} else {
		qs_tensor *t = qs_file_load(path, name, NULL, &err);
		failed = !t;
		qs_tensor_free(t);
	}
	ok(failed && err.code == code && strstr(err.msg, want) &&
	       strstr(err.msg, path) && !strchr(err.msg, '\n'),
	   "%s: %s", what, err.msg);
}

static void hostile_safetensors(void)
{
	/* a declared header length over the cap, in a sparse file that
	 * is big enough: refused before reading */
	const char *p = tmp_path("cap.safetensors");
	int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	unsigned char len[8] = {0x01, 0xE1, 0xF5, 0x05, 0, 0, 0, 0}; /* 1e8+1 */
	ok(fd >= 0 && write(fd, len, 8) == 8 &&
	       ftruncate(fd, 100000000 + 64) == 0,
	   "sparse file for the header cap");
	close(fd);
	fails(1, p, NULL, QS_EFORMAT,
	      "header of 100000001 bytes exceeds the limit of 100000000",
	      "header over 100 MB");
	/* exactly 100 MB declared, file far shorter */
	unsigned char len2[16] = {0x00, 0xE1, 0xF5, 0x05, 0, 0, 0, 0, '{', '}'};
	write_file(tmp_path("past.safetensors"), len2, 10);
	fails(1, tmp_path("past.safetensors"), NULL, QS_EFORMAT,
	      "header of 100000000 bytes runs past the end of the file (10 "
	      "bytes)",
	      "header past the end");
	write_file(tmp_path("short.safetensors"), "\x02\0\0", 3);
	fails(1, tmp_path("short.safetensors"), NULL, QS_EFORMAT,
	      "only 3 bytes", "file shorter than the length");
	/* 10^15 elements */
	p = st_file("huge.safetensors",
		    "{\"x\":{\"dtype\":\"F32\",\"shape\":[1000000000,1000000],"
		    "\"data_offsets\":[0,4000000000000000]}}",
		    16);
	fails(1, p, NULL, QS_EFORMAT,
	      "data_offsets [0, 4000000000000000] outside the 16 bytes of data",
	      "10^15 elements");
	p = st_file("huge2.safetensors",
		    "{\"x\":{\"dtype\":\"F32\",\"shape\":[1000000000,1000000],"
		    "\"data_offsets\":[0,16]}}",
		    16);
	fails(0, p, "x", QS_EFORMAT,
	      "data_offsets span 16 bytes, shape and F32 need "
	      "4000000000000000",
	      "10^15 elements, small offsets");
	p = st_file("neg.safetensors",
		    "{\"x\":{\"dtype\":\"F32\",\"shape\":[2,-3],"
		    "\"data_offsets\":[0,0]}}",
		    0);
	fails(1, p, NULL, QS_EFORMAT,
	      "tensor 'x': shape entry 1 is not a non-negative integer",
	      "negative dimension");
	p = st_file("ovf.safetensors",
		    "{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,"
		    "4611686018427387904],\"data_offsets\":[0,0]}}",
		    0);
	fails(1, p, NULL, QS_EFORMAT, "element count overflows",
	      "overflowing shape");
	p = st_file("ovf2.safetensors",
		    "{\"x\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],"
		    "\"data_offsets\":[0,0]}}",
		    0);
	fails(1, p, NULL, QS_EFORMAT, "byte size overflows",
	      "overflowing byte size");
	p = st_file(
	    "big.safetensors",
	    "{\"x\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],"
	    "\"data_offsets\":[0,0]}}",
	    0);
	fails(1, p, NULL, QS_EFORMAT, "bad JSON header at line 1",
	      "integer beyond int64");
	p = st_file("past2.safetensors",
		    "{\"x\":{\"dtype\":\"U8\",\"shape\":[4],"
		    "\"data_offsets\":[6,10]}}",
		    8);
	fails(1, p, NULL, QS_EFORMAT,
	      "data_offsets [6, 10] outside the 8 bytes of data",
	      "offset past the end");
	p = st_file("rev.safetensors",
		    "{\"x\":{\"dtype\":\"U8\",\"shape\":[0],"
		    "\"data_offsets\":[5,1]}}",
		    8);
	fails(1, p, NULL, QS_EFORMAT, "data_offsets [5, 1] outside",
	      "reversed offsets");
	p = st_file(
	    "dup.safetensors",
	    "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
	    "\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
	    1);
	fails(1, p, NULL, QS_EFORMAT, "duplicate object key", "duplicate key");
	p = st_file("arr.safetensors", "[1, 2]", 0);
	fails(1, p, NULL, QS_EFORMAT, "the JSON header is not an object",
	      "header not an object");
	p = st_file("trunc.safetensors", "{\"x\":{\"dtype\":\"U8\"", 0);
	fails(1, p, NULL, QS_EFORMAT, "bad JSON header", "truncated JSON");
	p = st_file("utf8.safetensors", "{\"\xff\xfe\":{}}", 0);
	fails(1, p, NULL, QS_EFORMAT, "bad JSON header", "invalid UTF-8");
	p = st_file("nul.safetensors", "{\"a\\u0000b\":{}}", 0);
	fails(1, p, NULL, QS_EFORMAT, "bad JSON header", "NUL in a key");
	{
		/* 100000 nested arrays: Jansson's depth limit, no stack
		 * overflow */
		size_t n = 100000;
		char *deep = malloc(n + 2);
		memset(deep, '[', n);
		deep[n] = '\0';
		p = st_file("deep.safetensors", deep, 0);
		free(deep);
		fails(1, p, NULL, QS_EFORMAT, "bad JSON header",
		      "deep nesting");
	}
	{
		/* a header of 2,000,003 values: refused before parsing */
		size_t k = 2000001;
		char *many = malloc(2 * k + 16);
		strcpy(many, "{\"a\":[");
		char *q = many + strlen(many);
		for (size_t i = 0; i < k; i++) {
			*q++ = '0';
			*q++ = ',';
		}
		strcpy(q, "0]}");
		p = st_file("many.safetensors", many, 0);
		free(many);
		fails(1, p, NULL, QS_EFORMAT,
		      "JSON of about 2000003 values, more than the limit of "
		      "2000000",
		      "a header of too many values");
	}
	p = st_file("meta.safetensors", "{\"__metadata__\":[1]}", 0);
	fails(1, p, NULL, QS_EFORMAT, "\"__metadata__\" is not an object",
	      "bad __metadata__");
	p = st_file("nodt.safetensors",
		    "{\"x\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
	fails(1, p, NULL, QS_EFORMAT, "tensor 'x': \"dtype\" missing",
	      "missing dtype");
	p = st_file("noff.safetensors",
		    "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],"
		    "\"data_offsets\":[0]}}",
		    1);
	fails(1, p, NULL, QS_EFORMAT,
	      "\"data_offsets\" is not a pair of non-negative integers",
	      "one offset");
	p = st_file("ctl.safetensors",
		    "{\"a\\nb\":{\"dtype\":\"U8\",\"shape\":[2],"
		    "\"data_offsets\":[0,1]}}",
		    1);
	fails(1, p, NULL, QS_EFORMAT, "tensor 'a?b'",
	      "control characters in names are not printed");
	/* unknown and newer dtypes: listed, not loaded */
	p = st_file("newer.safetensors",
		    "{\"e\":{\"dtype\":\"F8_E8M0\",\"shape\":[4],"
		    "\"data_offsets\":[0,4]},\"f4\":{\"dtype\":\"F4\","
		    "\"shape\":[3],\"data_offsets\":[4,6]},"
		    "\"z\":{\"dtype\":\"ZZ9\",\"shape\":[1],"
		    "\"data_offsets\":[6,7]}}",
		    8);
	qs_error err;
	qs_file_listing *l = qs_file_list(p, &err);
	ok(l && l->count == 3 && !l->entries[0].supported &&
	       strcmp(l->entries[0].dtype, "F8_E8M0") == 0 &&
	       l->entries[1].nbytes == 2 &&
	       strcmp(l->entries[2].dtype, "ZZ9") == 0,
	   "F8_E8M0, F4 and unknown dtypes are listed");
	qs_file_listing_free(l);
	fails(0, p, "e", QS_EUNSUPPORTED,
	      "tensor 'e' has dtype F8_E8M0, which cannot be loaded "
	      "(accepted: F64 F32",
	      "F8_E8M0 not loaded");
	p = st_file("bad4.safetensors",
		    "{\"f4\":{\"dtype\":\"F4\",\"shape\":[3],"
		    "\"data_offsets\":[0,1]}}",
		    8);
	fails(1, p, NULL, QS_EFORMAT, "span 1 bytes, shape and F4 need 2",
	      "packed 4-bit size checked");
	/* every prefix of a valid file fails cleanly or lists */
	FILE *f = fopen(DATA "dtypes.safetensors", "rb");
	unsigned char buf[4096];
	size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
	if (f)
		fclose(f);
	int bad = 0;
	for (size_t k = 0; k < n; k++) {
		write_file(tmp_path("prefix.safetensors"), buf, k);
		l = qs_file_list(tmp_path("prefix.safetensors"), &err);
		bad += l != NULL && k < n;
		qs_file_listing_free(l);
	}
	ok(n > 1000 && bad == 0,
	   "every truncation of dtypes.safetensors is "
	   "an error (%zu prefixes)",
	   n);
}

static void hostile_npz(void)
{
	fails(1, DATA "huge_decl.npz", NULL, QS_EFORMAT,
	      "x.npy: the .npy header declares 4000000000000000 data bytes, "
	      "the member holds 0",
	      "npz member declaring 10^15 elements");
	fails(0, DATA "lying.npz", "x", QS_EFORMAT,
	      "claims 3221225472 bytes from 103 deflated bytes, more than "
	      "deflate can produce",
	      "zip directory lying about the size");
	fails(0, DATA "corrupt.npz", "v", QS_EFORMAT, "v.npy: CRC error",
	      "damaged deflate stream");
	qs_error err;
	qs_file_listing *l = qs_file_list(DATA "corrupt.npz", &err);
	ok(l && l->count == 1, "damaged data still lists (headers only)");
	qs_file_listing_free(l);
	/* every prefix of a deflated archive fails cleanly */
	FILE *f = fopen(DATA "arrays_deflated.npz", "rb");
	unsigned char buf[4096];
	size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
	if (f)
		fclose(f);
	int bad = 0;
	for (size_t k = 0; k + 1 < n; k += 7) {
		write_file(tmp_path("prefix.npz"), buf, k);
		l = qs_npz_list(tmp_path("prefix.npz"), &err);
		bad += l != NULL;
		qs_file_listing_free(l);
		qs_tensor *t =
		    qs_npz_load(tmp_path("prefix.npz"), "a", NULL, &err);
		bad += t != NULL;
		qs_tensor_free(t);
	}
	ok(n > 500 && bad == 0, "truncated .npz archives are errors");
}

/* The zip bomb: 64 MiB of zeros deflated to 64 KiB.  Two rows cost a few
 * KiB: the peak resident size grows by far less than the member. */
static void bomb(void)
{
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	qs_select two = {0, 0, 10, 12, 0, 0};
	qs_error err;
	qs_tensor *t = qs_file_load(DATA "bomb.npz", "zeros", &two, &err);
	getrusage(RUSAGE_SELF, &r1);
	long grew_kb = r1.ru_maxrss - r0.ru_maxrss;
	ok(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 4096 &&
	       ((float *)t->data)[4095] == 0,
	   "two rows of the 64 MiB bomb");
	ok(grew_kb < 16 * 1024, "peak memory grew by %ld KiB (< 16 MiB)",
	   grew_kb);
	qs_tensor_free(t);
	qs_select ch = {0, 1, 7, 8, 1, 0};
	t = qs_file_load(DATA "bomb.npz", "zeros", &ch, &err);
	ok(t && t->ndim == 1 && t->shape[0] == 4096,
	   "one column of the bomb streams through");
	qs_tensor_free(t);
}

static void hostile_gguf(void)
{
	FILE *f = fopen(DATA "model.gguf", "rb");
	unsigned char buf[4096];
	size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
	if (f)
		fclose(f);
	qs_error err;
	int bad = 0;
	for (size_t k = 0; k < n; k++) {
		write_file(tmp_path("prefix.gguf"), buf, k);
		qs_file_listing *l =
		    qs_file_list(tmp_path("prefix.gguf"), &err);
		/* only the last tensor's padding may be cut */
		bad += l != NULL && k + 30 < n;
		qs_file_listing_free(l);
	}
	ok(n > 500 && bad == 0, "truncated GGUF headers are errors");
	/* a huge string length, a huge array, a bad type, a deep array */
	unsigned char g[64] = "GGUF\3\0\0\0"
			      "\0\0\0\0\0\0\0\0"
			      "\1\0\0\0\0\0\0\0"
			      "\1\0\0\0\0\0\0\0"
			      "k"
			      "\x08\0\0\0"
			      "\xff\xff\xff\xff\xff\xff\xff\x7f";
	write_file(tmp_path("str.gguf"), g, 45);
	fails(1, tmp_path("str.gguf"), NULL, QS_EFORMAT,
	      "truncated metadata: runs past the end of the file",
	      "GGUF string longer than the file");
	memcpy(g + 33,
	       "\x09\0\0\0"
	       "\x04\0\0\0"
	       "\xff\xff\xff\xff\xff\xff\xff\x0f",
	       16);
	write_file(tmp_path("arr.gguf"), g, 49);
	fails(1, tmp_path("arr.gguf"), NULL, QS_EFORMAT, "truncated metadata",
	      "GGUF array longer than the file");
	memcpy(g + 33, "\x63\0\0\0", 4);
	write_file(tmp_path("type.gguf"), g, 49);
	fails(1, tmp_path("type.gguf"), NULL, QS_EFORMAT,
	      "bad value type in metadata", "GGUF bad value type");
	unsigned char d[160];
	memcpy(d, g, 33);
	size_t k = 33;
	memcpy(d + k, "\x09\0\0\0", 4); /* an array ... */
	k += 4;
	for (int i = 0; i < 8; i++) { /* ... of one array, 8 deep */
		memcpy(d + k, "\x09\0\0\0\1\0\0\0\0\0\0\0", 12);
		k += 12;
	}
	write_file(tmp_path("deep.gguf"), d, k);
	fails(1, tmp_path("deep.gguf"), NULL, QS_EFORMAT,
	      "arrays nested deeper than 4 in metadata",
	      "GGUF arrays nested too deep");
	fails(1, DATA "lying.npz", NULL, QS_EFORMAT, "claims",
	      "listing also checks zip sizes");
	unsigned char v1[24] = "GGUF\1\0\0\0";
	write_file(tmp_path("v1.gguf"), v1, 24);
	fails(1, tmp_path("v1.gguf"), NULL, QS_EUNSUPPORTED,
	      "unsupported GGUF version 1", "GGUF v1");
}

/* Whole tensors and row ranges are mapped; channels and unaligned data
 * are gathered into owned buffers with the right values. */
static void storage(void)
{
	qs_error err;
	qs_tensor *w = qs_file_load(DATA "layout.safetensors", "w", NULL, &err);
	ok(w && w->map_ && !w->buf_ && w->shape[0] == 6 && w->shape[1] == 8,
	   "an aligned tensor is mapped");
	qs_select rows = {0, 0, 2, 4, 0, 0};
	qs_tensor *r =
	    qs_file_load(DATA "layout.safetensors", "w", &rows, &err);
	ok(r && r->map_ && r->shape[0] == 2 &&
	       ((float *)r->data)[0] == ((float *)w->data)[16],
	   "a row range is mapped too");
	qs_select ch = {0, 1, 5, 6, 1, 0};
	qs_tensor *c = qs_file_load(DATA "layout.safetensors", "w", &ch, &err);
	int good = c && !c->map_ && c->ndim == 1 && c->shape[0] == 6;
	for (int i = 0; good && i < 6; i++)
		good = ((float *)c->data)[i] == ((float *)w->data)[i * 8 + 5];
	ok(good, "a column is gathered");
	qs_select mid = {0, -1, 2, 5, 0, 1};
	qs_tensor *m = qs_file_load(DATA "layout.safetensors", "w", &mid, &err);
	good =
	    m && m->dtype == QS_DT_F32 && m->shape[0] == 6 && m->shape[1] == 3;
	for (int i = 0; good && i < 18; i++)
		good = ((float *)m->data)[i] ==
		       ((float *)w->data)[(i / 3) * 8 + 2 + i % 3];
	ok(good, "a range on the last axis");
	qs_tensor *u =
	    qs_file_load(DATA "layout.safetensors", "unaligned", NULL, &err);
	ok(u && !u->map_ && ((uintptr_t)u->data) % 4 == 0 &&
	       ((float *)u->data)[3] == 4.25f,
	   "unaligned data is copied into an aligned buffer");
	qs_tensor *e =
	    qs_file_load(DATA "layout.safetensors", "empty", NULL, &err);
	ok(e && e->size == 0 && e->ndim == 2, "an empty tensor");
	qs_tensor_free(w);
	qs_tensor_free(r);
	qs_tensor_free(c);
	qs_tensor_free(m);
	qs_tensor_free(u);
	qs_tensor_free(e);
	/* one channel of a bf16 tensor converts alone */
	qs_select one = {0, 0, 3, 4, 1, 1};
	qs_tensor *b = qs_file_load(DATA "sharded/model.safetensors.index.json",
				    "embed", &one, &err);
	ok(b && b->dtype == QS_DT_F32 && b->size == 4 &&
	       ((float *)b->data)[0] == 12 && ((float *)b->data)[3] == 15,
	   "one row of a bfloat16 tensor converted to float32");
	qs_tensor_free(b);
	/* unsupported selections */
	qs_select far = {0, 0, 5, 9, 0, 0};
	b = qs_file_load(DATA "model.gguf", "w", &far, &err);
	ok(!b && err.code == QS_EINVAL &&
	       strstr(err.msg, "range [5, 9) outside axis 0 of length 2"),
	   "GGUF part outside the shape: %s", err.msg);
	qs_select g = {0, 1, 4, 5, 1, 0};
	b = qs_file_load(DATA "model.gguf", "w", &g, &err);
	ok(b && b->size == 2 && ((float *)b->data)[0] == (4 - 3) / 8.0f &&
	       ((float *)b->data)[1] == (9 - 3) / 8.0f,
	   "GGUF column in numpy order");
	qs_tensor_free(b);
	qs_tensor *dflt = qs_file_load(DATA "sharded", NULL, NULL, &err);
	ok(!dflt && strstr(err.msg, "holds 13 tensors"),
	   "a directory resolves to its index: %s", err.msg);
}

static void float8(void)
{
	int mono = 1, sym = 1;
	for (int c = 1; c <= 0x7E; c++)
		mono &= qs_f8e4m3_to_float((uint8_t)c) >
			qs_f8e4m3_to_float((uint8_t)(c - 1));
	for (int c = 0; c < 0x80; c++)
		sym &= c == 0x7F || qs_f8e4m3_to_float((uint8_t)(c | 0x80)) ==
					-qs_f8e4m3_to_float((uint8_t)c);
	ok(mono && sym && isnan(qs_f8e4m3_to_float(0x7F)) &&
	       isnan(qs_f8e4m3_to_float(0xFF)) &&
	       qs_f8e4m3_to_float(0x7E) == 448,
	   "E4M3FN: increasing, symmetric, 448 max, NaN at S.1111.111");
	mono = 1;
	for (int c = 1; c <= 0x7C; c++)
		mono &= qs_f8e5m2_to_float((uint8_t)c) >
			qs_f8e5m2_to_float((uint8_t)(c - 1));
	ok(mono && isinf(qs_f8e5m2_to_float(0x7C)) &&
	       isnan(qs_f8e5m2_to_float(0x7D)) &&
	       qs_f8e5m2_to_float(0x7B) == 57344 &&
	       qs_f8e5m2_to_float(0x01) == 0x1p-16f,
	   "E5M2: increasing to Inf, NaN above, 57344 max");
	qs_tensor *t = qs_tensor_new(QS_DT_F8_E4M3, 0, NULL, NULL);
	((uint8_t *)t->data)[0] = 0xC3;
	ok(qs_tensor_get(t, 0) == -2.75 &&
	       strcmp(qs_dtype_name(t->dtype), "float8_e4m3fn") == 0,
	   "float8 tensors read through qs_tensor_get");
	qs_tensor_free(t);
}

static void listing_api(void)
{
	qs_error err;
	qs_file_listing *l = qs_file_list(DATA "arrays.npz", &err);
	const qs_file_entry *e = l ? qs_file_find(l, "f") : NULL;
	ok(e && e->ndim == 3 && e->shape[0] == 2 && e->dt == QS_DT_F64 &&
	       e->nbytes == 192 && strcmp(e->dtype, "<f8") == 0 &&
	       qs_file_find(l, "nope") == NULL,
	   "qs_file_find");
	qs_file_listing_free(l);
	l = qs_file_list(QS_TEST_DATA "/npy/f2_be.npy", &err);
	ok(l && l->count == 1 && strcmp(l->entries[0].name, "f2_be") == 0 &&
	       strcmp(l->entries[0].dtype, ">f2") == 0 &&
	       strcmp(l->format, "npy") == 0,
	   "a .npy file lists as one tensor");
	qs_file_listing_free(l);
	qs_file_listing_free(NULL);
}

int main(void)
{
	snprintf(dir, sizeof dir, "%s/qs_t_files.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP cannot make a temporary directory\n");
		return 0;
	}
	tap_plan(57);
	bomb(); /* first: it measures the peak resident size */
	hostile_safetensors();
	hostile_npz();
	hostile_gguf();
	storage();
	float8();
	listing_api();
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
