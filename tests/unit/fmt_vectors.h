/* fmt_vectors.h: reads tests/data/formats/formats_vectors.txt (a copy of
 * the reference vectors, see tests/data/formats/README.md) for the format
 * tests.  Header-only; the file is read once into memory. */
#ifndef QS_TESTS_FMT_VECTORS_H
#define QS_TESTS_FMT_VECTORS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef QS_TEST_DATA
#define QS_TEST_DATA "tests/data"
#endif

static char *fv_text_;

/* The whole vector file, NUL-terminated (NULL if missing). */
static __attribute__((unused)) const char *fv_load(void)
{
	if (fv_text_)
		return fv_text_;
	const char *path = QS_TEST_DATA "/formats/formats_vectors.txt";
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	fv_text_ = malloc((size_t)n + 1);
	if (!fv_text_ || fread(fv_text_, 1, (size_t)n, fp) != (size_t)n) {
		fclose(fp);
		free(fv_text_);
		fv_text_ = NULL;
		return NULL;
	}
	fv_text_[n] = 0;
	fclose(fp);
	return fv_text_;
}

/* Start of the line after the header "[name]..." (NULL if absent). */
static __attribute__((unused)) const char *fv_section(const char *name)
{
	const char *t = fv_load();
	if (!t)
		return NULL;
	size_t n = strlen(name);
	for (const char *p = t; p && *p;) {
		if (p[0] == '[' && !strncmp(p + 1, name, n) && p[1 + n] == ']') {
			const char *e = strchr(p, '\n');
			return e ? e + 1 : NULL;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* The header line of a section (static buffer). */
static __attribute__((unused)) const char *fv_header(const char *name)
{
	static char buf[1024];
	const char *t = fv_load();
	size_t n = strlen(name);
	for (const char *p = t; p && *p;) {
		if (p[0] == '[' && !strncmp(p + 1, name, n) && p[1 + n] == ']') {
			size_t l = strcspn(p, "\n");
			if (l >= sizeof buf)
				l = sizeof buf - 1;
			memcpy(buf, p, l);
			buf[l] = 0;
			return buf;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* Copy the line at *p into buf (without newline), advance *p; returns 0
 * at the end of the section (blank line, next "[" or end of text). */
static __attribute__((unused)) int fv_line(const char **p, char *buf,
					   size_t cap)
{
	const char *s = *p;
	if (!s || !*s || *s == '\n' || *s == '[')
		return 0;
	size_t l = strcspn(s, "\n");
	if (l >= cap)
		l = cap - 1;
	memcpy(buf, s, l);
	buf[l] = 0;
	s += strcspn(s, "\n");
	*p = *s ? s + 1 : s;
	return 1;
}

/* Split buf in place at sep; returns the number of fields (<= max). */
static __attribute__((unused)) int fv_split(char *buf, char sep, char **f,
					    int max)
{
	int n = 0;
	char *s = buf;
	while (n < max) {
		f[n++] = s;
		char *c = strchr(s, sep);
		if (!c)
			break;
		*c = 0;
		s = c + 1;
	}
	return n;
}

/* Value of "key=" in a header line as a string (static buffer). */
static __attribute__((unused)) const char *fv_kv(const char *line,
						 const char *key)
{
	static char buf[128];
	size_t n = strlen(key);
	for (const char *p = line; (p = strstr(p, key)); p++) {
		if ((p == line || p[-1] == ' ' || p[-1] == ',') && p[n] == '=') {
			size_t l = strcspn(p + n + 1, " ,\n");
			if (l >= sizeof buf)
				l = sizeof buf - 1;
			memcpy(buf, p + n + 1, l);
			buf[l] = 0;
			return buf;
		}
	}
	return NULL;
}

/* Parse whitespace-separated numbers from s into v (strtod, so hex, nan,
 * inf work); returns how many. */
static __attribute__((unused)) int fv_floats(const char *s, float *v,
					     int max)
{
	int n = 0;
	char *e;
	while (n < max) {
		while (*s == ' ' || *s == '[' || *s == ',' || *s == '\'')
			s++;
		double d = strtod(s, &e);
		if (e == s)
			break;
		v[n++] = (float)d;
		s = e;
		while (*s == '\'')
			s++;
	}
	return n;
}

static __attribute__((unused)) uint32_t fv_bits(float f)
{
	uint32_t b;
	memcpy(&b, &f, sizeof b);
	return b;
}

static __attribute__((unused)) float fv_float(uint32_t b)
{
	float f;
	memcpy(&f, &b, sizeof f);
	return f;
}

/* Same float32, or both NaN, or both zero (the reference prints the
 * dequantized -0 of block formats as 0.0: it computes with rationals). */
static __attribute__((unused)) int fv_same(float a, float b, int zero_sign)
{
	if (a != a && b != b)
		return 1;
	if (!zero_sign && a == 0.0f && b == 0.0f)
		return 1;
	return fv_bits(a) == fv_bits(b);
}

#endif
