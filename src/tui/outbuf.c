/* outbuf: lines of the output pane (see outbuf.h). */
#include "config.h"
#include "tui/outbuf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

typedef struct line {
	char *s;
	size_t n;
	int kind;
} line;

struct tui_out {
	pthread_mutex_t mu;
	line *lines; /* ring of cap lines, oldest at head */
	int cap, head, count;
	long total;  /* lines ever completed */
	char *part;  /* the line being written */
	size_t npart, cappart;
	int partkind;
	unsigned long version;
};

tui_out *tui_out_new(int max_lines)
{
	tui_out *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->cap = max_lines > 16 ? max_lines : 16;
	o->lines = calloc((size_t)o->cap, sizeof *o->lines);
	if (!o->lines) {
		free(o);
		return NULL;
	}
	pthread_mutex_init(&o->mu, NULL);
	return o;
}

void tui_out_free(tui_out *o)
{
	if (!o)
		return;
	for (int i = 0; i < o->count; i++)
		free(o->lines[(o->head + i) % o->cap].s);
	free(o->lines);
	free(o->part);
	pthread_mutex_destroy(&o->mu);
	free(o);
}

static line *at(tui_out *o, int i)
{
	return &o->lines[(o->head + i) % o->cap];
}

/* Move the partial line into the ring (locked). */
static void finish(tui_out *o)
{
	char *s = malloc(o->npart + 1);
	if (!s)
		return;
	memcpy(s, o->part ? o->part : "", o->npart);
	s[o->npart] = '\0';
	line *l;
	if (o->count == o->cap) {
		l = at(o, 0);
		free(l->s);
		o->head = (o->head + 1) % o->cap;
		o->count--;
	}
	l = at(o, o->count++);
	l->s = s;
	l->n = o->npart;
	l->kind = o->partkind;
	o->npart = 0;
	o->total++;
}

void tui_out_write(tui_out *o, const char *s, size_t n, int kind)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->mu);
	for (size_t i = 0; i < n; i++) {
		if (o->npart == 0)
			o->partkind = kind;
		if (s[i] == '\n') {
			finish(o);
			continue;
		}
		if (s[i] == '\r')
			continue;
		if (o->npart + 1 >= o->cappart) {
			size_t nc = o->cappart ? o->cappart * 2 : 128;
			char *np = realloc(o->part, nc);
			if (!np)
				break;
			o->part = np;
			o->cappart = nc;
		}
		/* tabs become spaces to the next multiple of 8 */
		if (s[i] == '\t') {
			o->part[o->npart++] = ' ';
			while (o->npart % 8 && o->npart + 1 < o->cappart)
				o->part[o->npart++] = ' ';
			continue;
		}
		o->part[o->npart++] = s[i];
	}
	o->version++;
	pthread_mutex_unlock(&o->mu);
}

void tui_out_line(tui_out *o, int kind, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	tui_out_write(o, buf, (size_t)n, kind);
}

long tui_out_mark(tui_out *o)
{
	pthread_mutex_lock(&o->mu);
	long t = o->total;
	pthread_mutex_unlock(&o->mu);
	return t;
}

void tui_out_mark_error(tui_out *o, long mark, const char *msg)
{
	pthread_mutex_lock(&o->mu);
	size_t ml = strcspn(msg, "\n");
	long first = o->total - o->count; /* number of the oldest line kept */
	int in_trace = 0;
	for (long k = mark > first ? mark : first; k < o->total; k++) {
		line *l = at(o, (int)(k - first));
		if (in_trace && (l->s[0] == ' ' || strncmp(l->s, "stack traceback:", 16) == 0)) {
			l->kind = OUT_TRACE;
			continue;
		}
		in_trace = 0;
		if (ml && l->n == ml && memcmp(l->s, msg, ml) == 0) {
			l->kind = OUT_ERROR;
			in_trace = 1;
		}
	}
	o->version++;
	pthread_mutex_unlock(&o->mu);
}

unsigned long tui_out_version(tui_out *o)
{
	pthread_mutex_lock(&o->mu);
	unsigned long v = o->version;
	pthread_mutex_unlock(&o->mu);
	return v;
}

/* Bytes of s (n bytes) that fit in width columns (at least one char). */
static size_t fit(const char *s, size_t n, int width)
{
	mbstate_t st;
	memset(&st, 0, sizeof st);
	size_t i = 0;
	int w = 0;
	while (i < n) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + i, n - i, &st);
		int cw = 1;
		if (k == (size_t)-1 || k == (size_t)-2) {
			memset(&st, 0, sizeof st);
			k = 1;
		} else {
			if (k == 0)
				k = 1;
			cw = wcwidth(wc);
			if (cw < 0)
				cw = 1;
		}
		if (w + cw > width && i > 0)
			break;
		w += cw;
		i += k;
	}
	return i;
}

/* Wrapped rows of one line. */
static int rows_of(const line *l, int width)
{
	if (l->n == 0)
		return 1;
	int r = 0;
	size_t i = 0;
	while (i < l->n) {
		i += fit(l->s + i, l->n - i, width);
		r++;
	}
	return r;
}

int tui_out_render(tui_out *o, int width, int height, int *scroll, int trace,
		   void (*row)(void *ud, int y, const char *s, size_t n,
			       int kind),
		   void *ud)
{
	if (width < 1 || height < 1)
		return 0;
	pthread_mutex_lock(&o->mu);
	/* the partial line counts as the last one */
	line part = {o->part, o->npart, o->partkind};
	int nl = o->count + (o->npart ? 1 : 0);
	int total = 0;
	for (int i = 0; i < nl; i++) {
		const line *l = i < o->count ? at(o, i) : &part;
		if (l->kind != OUT_TRACE || trace)
			total += rows_of(l, width);
	}
	int maxs = total > height ? total - height : 0;
	if (*scroll > maxs)
		*scroll = maxs;
	if (*scroll < 0)
		*scroll = 0;
	/* rows [first, first + height) of all wrapped rows */
	int first = total - height - *scroll;
	int r = 0;
	for (int i = 0; i < nl && r < first + height; i++) {
		const line *l = i < o->count ? at(o, i) : &part;
		if (l->kind == OUT_TRACE && !trace)
			continue;
		size_t p = 0;
		do {
			size_t k = l->n ? fit(l->s + p, l->n - p, width) : 0;
			if (r >= first && r < first + height)
				row(ud, r - first, l->s + p, k, l->kind);
			p += k;
			r++;
		} while (p < l->n);
	}
	pthread_mutex_unlock(&o->mu);
	return total;
}
