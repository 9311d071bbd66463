/* t_block: block formats against the reference vectors: every [MX] row
 * (scale byte, element codes, dequantized values for each scale mode and
 * element rounding), the [NVFP4], [NF4] and [ggml] blocks (codes, scales,
 * packed bytes, values), plus packing, partial blocks, NaN blocks, thread
 * independence and argument errors. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "fmt_vectors.h"
#include "fp.h"
#include "tap.h"

/* The named block value lists of the [MX] section ("#  name: values"). */
static int mx_block_values(const char *name, float *v)
{
	const char *p = fv_section("MX");
	char line[4096];
	while (p && fv_line(&p, line, sizeof line)) {
		if (strncmp(line, "#  ", 3) != 0)
			continue;
		char *colon = strstr(line, ": ");
		if (!colon)
			continue;
		*colon = 0;
		if (strcmp(line + 3, name) == 0)
			return fv_floats(colon + 2, v, 64);
	}
	return 0;
}

static int mx_kind(const char *s, qs_blockfmt *f)
{
	static const char *const map[][2] = {
		{"MXFP8_E4M3", "mxfp8_e4m3"}, {"MXFP8_E5M2", "mxfp8_e5m2"},
		{"MXFP6_E3M2", "mxfp6_e3m2"}, {"MXFP6_E2M3", "mxfp6_e2m3"},
		{"MXFP4_E2M1", "mxfp4"},      {"MXINT8", "mxint8"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(s, map[i][0]))
			return qs_blockfmt_lookup(map[i][1], f, NULL) == QS_OK;
	return 0;
}

static void test_mx(void)
{
	const char *p = fv_section("MX");
	char line[4096];
	int rows = 0;
	while (p && fv_line(&p, line, sizeof line)) {
		if (line[0] == '#')
			continue;
		/* format,scale_mode,elem_round,<block name>,scale,codes,dequant;
		 * the block name may hold commas */
		char *f3[3];
		char *rest = line;
		for (int i = 0; i < 3; i++) {
			f3[i] = rest;
			rest = strchr(rest, ',');
			*rest++ = 0;
		}
		char *deq = strrchr(rest, ',');
		*deq++ = 0;
		char *codes = strrchr(rest, ',');
		*codes++ = 0;
		char *scale = strrchr(rest, ',');
		*scale++ = 0;
		const char *bname = rest;
		qs_blockfmt f;
		if (!ok(mx_kind(f3[0], &f), "MX kind %s", f3[0]))
			continue;
		qs_mx_scale_parse(f3[1], &f.scale_mode);
		f.elem_round = !strcmp(f3[2], "rna") ? QS_ROUND_AWAY
						     : QS_ROUND_NEAREST;
		float x[64], want[64], y[32];
		int nx = mx_block_values(bname, x);
		int nw = fv_floats(deq, want, 64);
		uint8_t c[32];
		uint32_t sc;
		float scf;
		qs_block_out o;
		memset(&o, 0, sizeof o);
		o.codes = c;
		o.y = y;
		o.scale_codes = &sc;
		o.scales = &scf;
		qs_error err;
		qs_status st = qs_block_quantize(&f, x, nx, -1, &o, &err);
		rows++;
		char name[200];
		snprintf(name, sizeof name, "[MX] %s %s %s %s", f3[0], f3[1],
			 f3[2], bname);
		uint32_t wsc = (uint32_t)strtoul(scale, NULL, 16);
		int good = st == QS_OK && nx == 32 && nw == 32 && sc == wsc;
		int nan_codes = strncmp(codes, "NaN", 3) == 0;
		char *cp = codes;
		int bad_code = -1;
		for (int i = 0; i < 32 && !nan_codes; i++) {
			unsigned long wc = strtoul(cp, &cp, 16);
			if (c[i] != wc && bad_code < 0)
				bad_code = i;
		}
		int bad_val = -1;
		for (int i = 0; i < 32 && i < nw; i++)
			if (!fv_same(y[i], want[i], 0) && bad_val < 0)
				bad_val = i;
		if (nan_codes)
			good = good && o.nan_blocks == 1 && isnan(scf);
		if (!ok(good && bad_code < 0 && bad_val < 0, "%s", name))
			tap_diag("scale 0x%X want 0x%X, first bad code %d, "
				 "first bad value %d (%g want %g)",
				 sc, wsc, bad_code, bad_val,
				 bad_val >= 0 ? y[bad_val] : 0.0,
				 bad_val >= 0 ? want[bad_val] : 0.0);
	}
	ok(rows == 70, "[MX]: %d rows", rows);

	/* packing: arange/2-5 in MXFP4 */
	qs_blockfmt f;
	qs_blockfmt_lookup("mxfp4", &f, NULL);
	float x[64];
	int nx = mx_block_values("arange/2-5", x);
	uint8_t c[32], bytes[16];
	qs_block_out o;
	memset(&o, 0, sizeof o);
	o.codes = c;
	qs_block_quantize(&f, x, nx, -1, &o, NULL);
	static const uint8_t want[16] = {0xCC, 0xCC, 0xAB, 0xAA, 0x89, 0x00,
					 0x21, 0x22, 0x43, 0x44, 0x54, 0x55,
					 0x66, 0x66, 0x66, 0x76};
	int64_t nbytes = qs_block_pack(&f, c, 32, bytes, NULL);
	ok(nbytes == 16 && !memcmp(bytes, want, 16),
	   "MXFP4 packed bytes, low nibble first");
}

static void test_nvfp4(void)
{
	const char *p = fv_section("NVFP4");
	char line[4096];
	float x[64];
	int nx = 0;
	for (const char *q = p; q && fv_line(&q, line, sizeof line);)
		if (!strncmp(line, "# input: ", 9))
			nx = fv_floats(line + 9, x, 64);
	ok(nx == 32, "NVFP4 input: %d values", nx);
	while (p && fv_line(&p, line, sizeof line)) {
		if (strncmp(line, "scale_round=", 12) != 0)
			continue;
		qs_blockfmt f;
		qs_blockfmt_lookup("nvfp4", &f, NULL);
		f.scale_round = !strncmp(line + 12, "ru", 2) ? QS_ROUND_CEIL
							     : QS_ROUND_NEAREST;
		const char *s2s = strstr(line, "(0x");
		uint32_t ws2 = (uint32_t)strtoul(s2s + 1, NULL, 16);
		const char *bss = strstr(line, "block_scales=") + 13;
		char *e;
		uint32_t wb0 = (uint32_t)strtoul(bss, &e, 16);
		uint32_t wb1 = (uint32_t)strtoul(e, NULL, 16);
		char cl[512], pl[512], dl[2048];
		fv_line(&p, cl, sizeof cl);
		fv_line(&p, pl, sizeof pl);
		fv_line(&p, dl, sizeof dl);
		uint8_t c[32], packed[16];
		uint32_t sc[2];
		float y[32], want[32];
		qs_block_out o;
		memset(&o, 0, sizeof o);
		o.codes = c;
		o.scale_codes = sc;
		o.y = y;
		qs_error err;
		qs_status st = qs_block_quantize(&f, x, nx, -1, &o, &err);
		int badc = 0;
		char *cp = strchr(cl, '=') + 1;
		for (int i = 0; i < 32; i++)
			badc += c[i] != strtoul(cp, &cp, 16);
		qs_block_pack(&f, c, 32, packed, NULL);
		int badp = 0;
		cp = strchr(pl, '=') + 1;
		for (int i = 0; i < 16; i++)
			badp += packed[i] != strtoul(cp, &cp, 16);
		int nw = fv_floats(strchr(dl, '=') + 1, want, 32);
		int badv = 0;
		for (int i = 0; i < nw; i++)
			badv += !fv_same(y[i], want[i], 0);
		ok(st == QS_OK && fv_bits(o.tensor_scale) == ws2 &&
			   sc[0] == wb0 && sc[1] == wb1,
		   "[NVFP4] %s: s2 0x%08X, block scales 0x%X 0x%X",
		   f.scale_round == QS_ROUND_CEIL ? "ru" : "rne",
		   fv_bits(o.tensor_scale), sc[0], sc[1]);
		ok(badc == 0 && badp == 0 && nw == 32 && badv == 0,
		   "[NVFP4] codes, packed bytes, dequantized values (%d %d %d)",
		   badc, badp, badv);
	}
	/* block-scale rounding: 330 -> 320 (RNE) vs 352 (up) */
	qs_fpfmt e4m3;
	qs_fpfmt_lookup("fp8_e4m3", &e4m3, NULL);
	ok(qs_fp_encode(&e4m3, 330.0f, QS_ROUND_NEAREST, 0) == 0x7A &&
		   qs_fp_encode(&e4m3, 330.0f, QS_ROUND_CEIL, 0) == 0x7B,
	   "E4M3 block scale 330: RNE 0x7A, round-up 0x7B");
	/* element ties with d = 1 (tensor amax 2688, block amax 6) */
	qs_blockfmt f;
	qs_blockfmt_lookup("nvfp4", &f, NULL);
	float t[16] = {6.0f, 0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f,
		       5.1f, -0.0f, -0.75f, 0.0f, -0.1f, 0, 0, 0};
	static const uint8_t wt[16] = {7, 0, 2, 2, 4, 4, 6, 6,
				       7, 0, 0xA, 0, 8, 0, 0, 0};
	uint8_t c[16];
	float y[16], sc;
	qs_block_out o;
	memset(&o, 0, sizeof o);
	o.codes = c;
	o.y = y;
	o.scales = &sc;
	qs_block_quantize(&f, t, 16, 2688.0f, &o, NULL);
	ok(sc == 1.0f && !memcmp(c, wt, 16) && y[8] == 6.0f &&
		   fv_bits(y[9]) == 0,
	   "NVFP4 element ties (ModelOpt _cast_fp4), -0.0 -> code 0");
	/* block scale underflow: the block dequantizes to 0 */
	float u[32];
	for (int i = 0; i < 32; i++)
		u[i] = i < 16 ? (i == 0 ? 1000.0f : 500.0f) : 1e-4f * (i - 20);
	uint32_t scc[2];
	o.scale_codes = scc;
	o.scales = NULL;
	uint8_t cu[32];
	float yu[32];
	o.codes = cu;
	o.y = yu;
	qs_block_quantize(&f, u, 32, -1, &o, NULL);
	int zero = 1;
	for (int i = 16; i < 32; i++)
		zero &= yu[i] == 0.0f;
	if (!ok(scc[1] == 0 && zero && o.zeroed == 15,
	   "NVFP4 E4M3 scale underflow: block dequantizes to 0"))
		tap_diag("scale 0x%X, zeroed %lld", scc[1], (long long)o.zeroed);
	qs_error err;
	float bad[2] = {1.0f, NAN};
	ok(qs_block_quantize(&f, bad, 2, -1, &o, &err) == QS_EINVAL &&
		   strstr(err.msg, "nvfp4"),
	   "NVFP4 NaN tensor amax rejected: %s", err.msg);
}

static void test_nf4(void)
{
	const char *p = fv_section("NF4");
	char line[4096];
	float x[64];
	int nx = 0;
	for (const char *q = p; q && fv_line(&q, line, sizeof line);)
		if (!strncmp(line, "# input: ", 9) && nx == 0)
			nx = fv_floats(line + 9, x, 64);
	qs_blockfmt f;
	qs_blockfmt_lookup("nf4", &f, NULL);
	/* code values */
	fv_line(&p, line, sizeof line);
	int badv = 0;
	char *cp = line;
	for (int i = 0; i < 16; i++) {
		cp = strchr(cp, ':') + 1;
		badv += qs_block_code_value(&f, (uint32_t)i) !=
			(float)strtod(cp, &cp);
	}
	ok(badv == 0, "NF4 code values");
	while (p && fv_line(&p, line, sizeof line)) {
		if (!strncmp(line, "nf4 block64 absmax=", 19)) {
			uint32_t wam = (uint32_t)strtoul(strstr(line, "(0x") + 1,
							 NULL, 16);
			char cl[512], pl[512], dl[4096];
			fv_line(&p, cl, sizeof cl);
			fv_line(&p, pl, sizeof pl);
			fv_line(&p, dl, sizeof dl);
			uint8_t c[64], packed[32];
			uint32_t sc;
			float y[64], want[64];
			qs_block_out o;
			memset(&o, 0, sizeof o);
			o.codes = c;
			o.y = y;
			o.scale_codes = &sc;
			qs_status st = qs_block_quantize(&f, x, nx, -1, &o, NULL);
			int badc = 0, badp = 0, badq = 0;
			cp = strchr(cl, '=') + 1;
			for (int i = 0; i < 64; i++)
				badc += c[i] != strtoul(cp, &cp, 16);
			qs_block_pack(&f, c, 64, packed, NULL);
			cp = strchr(pl, '=') + 1;
			for (int i = 0; i < 32; i++)
				badp += packed[i] != strtoul(cp, &cp, 16);
			int nw = fv_floats(strchr(dl, '=') + 1, want, 64);
			for (int i = 0; i < nw; i++)
				badq += !fv_same(y[i], want[i], 0);
			ok(st == QS_OK && nx == 64 && sc == wam,
			   "[NF4] block of 64: absmax 0x%08X", sc);
			ok(badc == 0 && badp == 0 && nw == 64 && badq == 0,
			   "[NF4] codes, packed (high nibble first), values "
			   "(%d %d %d)",
			   badc, badp, badq);
		} else if (!strncmp(line, "nf4 single values", 17)) {
			cp = strstr(line, "): ") + 3;
			int bad = 0, n = 0;
			while (*cp) {
				float v = (float)strtod(cp, &cp);
				cp += 2; /* "->" */
				unsigned w = (unsigned)strtoul(cp, &cp, 16);
				float b[2] = {1.0f, v};
				uint8_t c[2];
				qs_block_out o;
				memset(&o, 0, sizeof o);
				o.codes = c;
				qs_block_quantize(&f, b, 2, -1, &o, NULL);
				bad += c[1] != w;
				n++;
				while (*cp == ',' || *cp == ' ')
					cp++;
			}
			ok(n == 9 && bad == 0,
			   "[NF4] single values with absmax 1 (ties low)");
		} else if (!strncmp(line, "nf4 all-zero block", 18)) {
			float z[64] = {0};
			uint8_t c[64];
			float y[64];
			qs_block_out o;
			memset(&o, 0, sizeof o);
			o.codes = c;
			o.y = y;
			qs_block_quantize(&f, z, 64, -1, &o, NULL);
			ok(c[0] == 7 && c[63] == 7 && y[0] == 0.0f,
			   "[NF4] all-zero block: code 7");
		} else if (!strncmp(line, "double-quant", 12)) {
			/* the listed q -> dequant pairs through the map */
			float dyn[256];
			qs_block_dynamic_map(dyn);
			float off = (float)strtod(strstr(line, "offset=") + 7,
						  NULL);
			float a2 = (float)strtod(strstr(line, "absmax2=['") + 10,
						 NULL);
			int q[4];
			cp = strstr(line, "first q=[") + 9;
			for (int i = 0; i < 4; i++) {
				q[i] = (int)strtol(cp, &cp, 10);
				cp++;
			}
			float wd[4];
			fv_floats(strstr(line, "first dequant=[") + 15, wd, 4);
			int bad = 0;
			for (int i = 0; i < 4; i++)
				bad += dyn[q[i]] * a2 + off != wd[i];
			ok(bad == 0,
			   "[NF4] double quant: dyn[q] * absmax2 + offset for "
			   "q = 185, 53, 69, 159");
		}
	}
	/* dynamic map shape */
	float dyn[256];
	qs_block_dynamic_map(dyn);
	int sorted = 1, sym = 1;
	for (int i = 1; i < 256; i++)
		sorted &= dyn[i] > dyn[i - 1];
	for (int i = 0; i < 127; i++)
		sym &= dyn[i] == -dyn[254 - i];
	ok(sorted && dyn[255] == 1.0f && dyn[127] == 0.0f && sym &&
		   dyn[0] == -dyn[254],
	   "dynamic map: 256 ascending values, 0 and 1, symmetric");
	/* double quantization on 600 blocks: absmax within a step */
	qs_blockfmt g;
	qs_blockfmt_lookup("nf4_dq", &g, NULL);
	enum { NB = 600 };
	static float xs[NB * 64], ys[NB * 64], am[NB], amq[NB], a2[3];
	static uint32_t q8[NB];
	for (int i = 0; i < NB * 64; i++)
		xs[i] = (float)sin(i * 0.37) * (1.0f + (float)(i % 1000) / 300);
	qs_block_out o;
	memset(&o, 0, sizeof o);
	o.scales = amq;
	o.scale_codes = q8;
	o.scales2 = a2;
	o.y = ys;
	qs_error err;
	ok(qs_block_quantize(&g, xs, NB * 64, -1, &o, &err) == QS_OK,
	   "nf4_dq runs");
	double maxerr = 0, mean = 0;
	for (int b = 0; b < NB; b++) {
		float a = 0;
		for (int i = 0; i < 64; i++)
			a = fmaxf(a, fabsf(xs[b * 64 + i]));
		am[b] = a;
		mean += a;
	}
	mean /= NB;
	for (int b = 0; b < NB; b++)
		maxerr = fmax(maxerr, fabs(amq[b] - am[b]) / a2[b / 256]);
	ok(fabs(o.tensor_scale - mean) < 1e-6 && maxerr < 0.05 &&
		   a2[2] > 0 && q8[0] < 256,
	   "nf4_dq: offset = mean absmax, absmax error %.4f of absmax2",
	   maxerr);
	ok(fabs(qs_block_bits(&g, NB * 64) - (4 + 8.0 / 64 + 32.0 * 3 / (NB * 64) +
					       32.0 / (NB * 64))) < 1e-12 &&
		   qs_block_bits(&f, 64) == 4.5,
	   "NF4 bits per element: %.4f (dq), %.2f", qs_block_bits(&g, NB * 64),
	   qs_block_bits(&f, 64));
}

static void test_ggml(void)
{
	const char *p = fv_section("ggml");
	char line[4096];
	float x[64];
	int nx = 0;
	for (const char *q = p; q && fv_line(&q, line, sizeof line);)
		if (!strncmp(line, "# input: ", 9))
			nx = fv_floats(line + 9, x, 64);
	ok(nx == 32, "ggml input: %d values", nx);
	while (p && fv_line(&p, line, sizeof line)) {
		const char *name = NULL;
		if (!strncmp(line, "Q8_0,", 5))
			name = "q8_0";
		else if (!strncmp(line, "Q4_0,", 5))
			name = "q4_0";
		else if (!strncmp(line, "Q4_1,", 5))
			name = "q4_1";
		else if (!strncmp(line, "MXFP4(ggml),", 12))
			name = "mxfp4_ggml";
		if (name) {
			qs_blockfmt f;
			qs_blockfmt_lookup(name, &f, NULL);
			uint8_t c[32], packed[16];
			uint32_t sc;
			float y[32], mins, want[32];
			qs_block_out o;
			memset(&o, 0, sizeof o);
			o.codes = c;
			o.y = y;
			o.scale_codes = &sc;
			o.mins = &mins;
			qs_block_quantize(&f, x, 32, -1, &o, NULL);
			const char *ds = strstr(line, ",d=") ? strstr(line, ",d=") + 3
							      : strstr(line, ",e=") + 3;
			uint32_t wd = (uint32_t)strtoul(ds, NULL, 16);
			int good = sc == wd;
			if (f.kind == QS_BLK_Q4_1) {
				uint32_t wm = (uint32_t)strtoul(strstr(line, "m=") + 2,
								NULL, 16);
				qs_fpfmt h;
				qs_fpfmt_lookup("fp16", &h, NULL);
				good &= mins == qs_fp_decode(&h, wm);
			}
			char *cp = strstr(line, ",q=") + 3;
			int badc = 0;
			for (int i = 0; i < 32; i++) {
				long w = strtol(cp, &cp, 10);
				badc += (f.kind == QS_BLK_Q8_0 ? (long)(int8_t)c[i]
							       : (long)c[i]) != w;
			}
			int badp = 0;
			if (f.kind != QS_BLK_Q8_0) {
				char pl[512];
				fv_line(&p, pl, sizeof pl);
				qs_block_pack(&f, c, 32, packed, NULL);
				cp = strchr(pl, '=') + 1;
				for (int i = 0; i < 16; i++)
					badp += packed[i] != strtoul(cp, &cp, 16);
			}
			char dl[2048];
			fv_line(&p, dl, sizeof dl);
			int nw = fv_floats(strchr(dl, '=') + 1, want, 32);
			int badv = 0;
			for (int i = 0; i < nw; i++)
				badv += !fv_same(y[i], want[i], 0);
			ok(good && badc == 0 && badp == 0 && nw == 32 &&
				   badv == 0,
			   "[ggml] %s: scale 0x%X, codes, packed, values "
			   "(%d %d %d)",
			   name, sc, badc, badp, badv);
		}
	}
	/* edge blocks */
	float z[32] = {0};
	static const char *const nm[3] = {"q8_0", "q4_0", "q4_1"};
	static const uint32_t wd[3] = {0x0000, 0x8000, 0x0000};
	static const uint8_t wq[3] = {0, 8, 0};
	for (int k = 0; k < 3; k++) {
		qs_blockfmt f;
		qs_blockfmt_lookup(nm[k], &f, NULL);
		uint8_t c[32];
		uint32_t sc;
		float y[32];
		qs_block_out o;
		memset(&o, 0, sizeof o);
		o.codes = c;
		o.scale_codes = &sc;
		o.y = y;
		qs_block_quantize(&f, z, 32, -1, &o, NULL);
		ok(sc == wd[k] && c[0] == wq[k] && y[0] == 0.0f,
		   "[ggml] %s all-zero block: d=0x%04X q[0]=%d", nm[k], sc,
		   c[0]);
	}
	qs_blockfmt f;
	qs_blockfmt_lookup("q4_0", &f, NULL);
	float b1[32] = {8.0f}, b2[32] = {-8.0f, 8.0f};
	uint8_t c[32];
	uint32_t sc;
	float y[32];
	qs_block_out o;
	memset(&o, 0, sizeof o);
	o.codes = c;
	o.scale_codes = &sc;
	o.y = y;
	qs_block_quantize(&f, b1, 32, -1, &o, NULL);
	ok(sc == 0xBC00 && c[0] == 0 && c[1] == 8 && y[0] == 8.0f,
	   "[ggml] Q4_0 max=+8: d = -1.0 (0xBC00)");
	qs_block_quantize(&f, b2, 32, -1, &o, NULL);
	ok(sc == 0x3C00 && c[0] == 0 && c[1] == 15 && y[1] == 7.0f &&
		   o.clipped == 1,
	   "[ggml] Q4_0 [-8, 8]: +8 clipped to 7");
	ok(qs_block_bits(&f, 32) == 4.5, "Q4_0: 4.5 bits per element");
}

static void test_misc(void)
{
	qs_blockfmt f;
	qs_error err;
	int n = qs_blockfmt_count(), good = 1;
	for (int i = 0; i < n; i++)
		good &= qs_blockfmt_lookup(qs_blockfmt_name(i), &f, &err) ==
				QS_OK &&
			!strcmp(f.name, qs_blockfmt_name(i));
	ok(n == 13 && good && qs_blockfmt_name(n) == NULL,
	   "13 block formats, each looks itself up");
	ok(qs_blockfmt_lookup("q3_k", &f, &err) == QS_EINVAL &&
		   strstr(err.msg, "mxfp4"),
	   "unknown block format: %s", err.msg);
	qs_blockfmt_lookup("MXFP8", &f, &err);
	ok(f.kind == QS_BLK_MXFP8_E4M3 && f.block == 32 &&
		   qs_block_bits(&f, 32) == 8.25,
	   "mxfp8 alias, 8.25 bits per element");
	/* partial last block = the same elements alone */
	enum { N = 100 };
	float x[N], y1[N], y2[N];
	for (int i = 0; i < N; i++)
		x[i] = (float)sin(i * 1.3) * (i % 7 + 1);
	static const char *const names[] = {"mxfp8_e4m3", "mxfp6_e3m2",
					    "mxfp4",      "mxint8",
					    "nvfp4",      "nf4",
					    "q8_0",       "q4_0",
					    "mxfp4_ggml"};
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		qs_blockfmt_lookup(names[k], &f, NULL);
		qs_block_out o;
		memset(&o, 0, sizeof o);
		o.y = y1;
		float amax = 0;
		for (int i = 0; i < N; i++)
			amax = fmaxf(amax, fabsf(x[i]));
		qs_block_quantize(&f, x, N, amax, &o, NULL);
		int64_t last = (N - 1) / f.block * f.block;
		o.y = y2;
		qs_block_quantize(&f, x + last, N - last, amax, &o, NULL);
		ok(!memcmp(y1 + last, y2, (size_t)(N - last) * sizeof(float)),
		   "%s: the last (partial) block is quantized on its own",
		   names[k]);
	}
	/* NaN inside an MX block: only that block is NaN */
	qs_blockfmt_lookup("mxfp8_e4m3", &f, NULL);
	float xn[64];
	for (int i = 0; i < 64; i++)
		xn[i] = 0.5f;
	xn[40] = NAN;
	float yn[64];
	uint32_t sc[2];
	qs_block_out o;
	memset(&o, 0, sizeof o);
	o.y = yn;
	o.scale_codes = sc;
	qs_block_quantize(&f, xn, 64, -1, &o, NULL);
	ok(yn[0] == 0.5f && isnan(yn[33]) && sc[1] == 0xFF &&
		   o.nan_blocks == 1,
	   "MX: a NaN poisons its block only");
	/* large runs: threads give the same result as one block at a time */
	enum { BIG = 300000 };
	static float xb[BIG], ya[BIG], yb[BIG];
	static uint8_t ca[BIG], cb[BIG];
	for (int i = 0; i < BIG; i++)
		xb[i] = (float)sin(i * 0.001) * (float)(1 + i % 13);
	static const char *const big[] = {"mxfp4", "nf4_dq", "q4_1"};
	for (int k = 0; k < 3; k++) {
		qs_blockfmt_lookup(big[k], &f, NULL);
		memset(&o, 0, sizeof o);
		o.y = ya;
		o.codes = ca;
		qs_block_quantize(&f, xb, BIG, -1, &o, NULL);
		int64_t clipped = o.clipped;
		memset(&o, 0, sizeof o);
		o.y = yb;
		o.codes = cb;
		int same = 1;
		if (f.double_quant) { /* whole-run statistics: compare runs */
			qs_block_quantize(&f, xb, BIG, -1, &o, NULL);
		} else {
			for (int64_t s = 0; s < BIG; s += 4096) {
				int64_t len = BIG - s < 4096 ? BIG - s : 4096;
				qs_block_out p;
				memset(&p, 0, sizeof p);
				p.y = yb + s;
				p.codes = cb + s;
				qs_block_quantize(&f, xb + s, len, -1, &p, NULL);
				o.clipped += p.clipped;
			}
			same = o.clipped == clipped;
		}
		ok(same && !memcmp(ya, yb, sizeof ya) && !memcmp(ca, cb, sizeof ca),
		   "%s: %d elements in one call = piecewise", big[k], BIG);
	}
	ok(qs_block_quantize(&f, xb, -1, -1, &o, &err) == QS_EINVAL,
	   "n < 0 rejected");
	f.block = 0;
	ok(qs_block_quantize(&f, xb, 10, -1, &o, &err) == QS_EINVAL &&
		   strstr(err.msg, "block size"),
	   "block size 0 rejected: %s", err.msg);
	qs_blockfmt_lookup("mxfp4", &f, NULL);
	f.elem_round = QS_ROUND_FLOOR;
	ok(qs_block_quantize(&f, xb, 10, -1, &o, &err) == QS_EINVAL,
	   "MX element rounding other than nearest/away rejected");
	qs_blockfmt_lookup("q4_0", &f, NULL);
	uint8_t pk[8];
	ok(qs_block_pack(&f, ca, 10, pk, &err) < 0,
	   "ggml packing needs whole blocks: %s", err.msg);
	memset(&o, 0, sizeof o);
	ok(qs_block_quantize(&f, xb, 0, -1, &o, &err) == QS_OK,
	   "empty run");
	qs_block_props pr;
	qs_blockfmt_lookup("nvfp4", &f, NULL);
	qs_blockfmt_props(&f, &pr);
	ok(pr.block == 16 && pr.elem_bits == 4 && pr.bits == 4.5 &&
		   pr.elem_max == 6.0,
	   "props of nvfp4");
}

int main(void)
{
	if (!fv_load())
		skip_all("tests/data/formats/formats_vectors.txt missing");
	test_mx();
	test_nvfp4();
	test_nf4();
	test_ggml();
	test_misc();
	return tap_done();
}
