/* panes: drawing of the workbench panes (see panes.h).  Everything is
 * drawn on stdscr inside the rectangle it is given. */
#include "config.h"
#include "tui/panes.h"

#include <langinfo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui/keys.h"

static int ascii_only; /* not a UTF-8 locale: symbols become ASCII */

enum {
	P_TITLE = 1,
	P_BAR,
	P_CLIP,
	P_MARK,
	P_GRID,
	P_ERR,
	P_GOOD,
	P_FAIR,
	P_HL,
	P_VIEW,
	P_CMD,
	P_NOTE,
	P_ANSI = 16 /* 16..23: ANSI colours 0..7 for gnuplot's text */
};

void pane_theme_init(pane_theme *th)
{
	memset(th, 0, sizeof *th);
	th->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	ascii_only = !th->utf8;
	th->colors = has_colors();
	th->text = A_NORMAL;
	th->bold = A_BOLD;
	th->dim = A_DIM;
	if (th->colors) {
		start_color();
		use_default_colors();
		init_pair(P_TITLE, COLOR_CYAN, -1);
		init_pair(P_BAR, COLOR_CYAN, -1);
		init_pair(P_CLIP, COLOR_RED, -1);
		init_pair(P_MARK, COLOR_YELLOW, -1);
		init_pair(P_GRID, COLOR_GREEN, -1);
		init_pair(P_ERR, COLOR_RED, -1);
		init_pair(P_GOOD, COLOR_GREEN, -1);
		init_pair(P_FAIR, COLOR_YELLOW, -1);
		init_pair(P_HL, COLOR_BLACK, COLOR_CYAN);
		init_pair(P_VIEW, COLOR_BLACK, COLOR_GREEN);
		init_pair(P_CMD, COLOR_BLACK, COLOR_YELLOW);
		init_pair(P_NOTE, COLOR_MAGENTA, -1);
		for (int i = 0; i < 8; i++)
			init_pair((short)(P_ANSI + i), (short)i, -1);
		th->title = COLOR_PAIR(P_TITLE) | A_BOLD;
		th->bar = COLOR_PAIR(P_BAR);
		th->clip = COLOR_PAIR(P_CLIP);
		th->mark = COLOR_PAIR(P_MARK) | A_BOLD;
		th->grid = COLOR_PAIR(P_GRID);
		th->err = COLOR_PAIR(P_ERR) | A_BOLD;
		th->good = COLOR_PAIR(P_GOOD) | A_BOLD;
		th->fair = COLOR_PAIR(P_FAIR) | A_BOLD;
		th->poor = COLOR_PAIR(P_ERR) | A_BOLD;
		th->hl = COLOR_PAIR(P_HL);
		th->mode_view = COLOR_PAIR(P_VIEW) | A_BOLD;
		th->mode_cmd = COLOR_PAIR(P_CMD) | A_BOLD;
		th->status = A_NORMAL;
		th->echo = A_BOLD;
		th->note = COLOR_PAIR(P_NOTE);
	} else {
		th->title = A_BOLD;
		th->bar = A_NORMAL;
		th->clip = A_DIM;
		th->mark = A_BOLD;
		th->grid = A_NORMAL;
		th->err = A_BOLD;
		th->good = A_BOLD;
		th->fair = A_BOLD;
		th->poor = A_BOLD | A_UNDERLINE;
		th->hl = A_REVERSE;
		th->mode_view = A_REVERSE | A_BOLD;
		th->mode_cmd = A_REVERSE | A_BOLD;
		th->status = A_NORMAL;
		th->echo = A_BOLD;
		th->note = A_UNDERLINE;
	}
}

/* ---- text helpers ------------------------------------------------------ */


/* The ASCII stand-ins of the symbols the panes use. */
static const char *const ascii_map[][2] = {
	{"\u00b7", "|"},  {"\u2026", "..."}, {"\u2248", "~"},
	{"\u25c0", "<"},  {"\u25b6", ">"},   {"\u23f3", "*"},
	{"\u2190", "<-"}, {"\u2192", "->"},  {"\u2191", "^"},
	{"\u2193", "v"},  {"\u2500", "-"},   {"\u2502", "|"},
	{"\u252c", "+"},  {"\u25b2", "^"},   {"\u251c", "["},
	{"\u2524", "]"},  {"\u253c", "+"},   {"\u250c", "+"},
	{"\u2510", "+"},  {"\u2514", "+"},   {"\u2518", "+"},
	{NULL, NULL}};

/* s with the symbols replaced by ASCII, in buf. */
static const char *to_ascii(const char *s, char *buf, size_t n)
{
	size_t k = 0;
	while (*s && k + 4 < n) {
		int hit = 0;
		if ((unsigned char)*s >= 0x80)
			for (int i = 0; ascii_map[i][0]; i++) {
				size_t l = strlen(ascii_map[i][0]);
				if (strncmp(s, ascii_map[i][0], l) == 0) {
					size_t m = strlen(ascii_map[i][1]);
					memcpy(buf + k, ascii_map[i][1], m);
					k += m;
					s += l;
					hit = 1;
					break;
				}
			}
		if (!hit)
			buf[k++] = *s++;
	}
	buf[k] = '\0';
	return buf;
}

/* Write s at (y, x) using at most maxw columns; returns columns used. */
static int put(int y, int x, int maxw, attr_t a, const char *s)
{
	if (maxw <= 0 || !s)
		return 0;
	char abuf[1024];
	if (ascii_only)
		s = to_ascii(s, abuf, sizeof abuf);
	mbstate_t st;
	memset(&st, 0, sizeof st);
	size_t n = strlen(s), i = 0;
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
		if (w + cw > maxw)
			break;
		w += cw;
		i += k;
	}
	attr_t old;
	short pair;
	attr_get(&old, &pair, NULL);
	attrset(a);
	mvaddnstr(y, x, s, (int)i);
	attr_set(old, pair, NULL);
	return w;
}

/* Display width of a UTF-8 string. */
static int swidth(const char *s)
{
	mbstate_t st;
	memset(&st, 0, sizeof st);
	size_t n = strlen(s), i = 0;
	int w = 0;
	while (i < n) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + i, n - i, &st);
		if (k == (size_t)-1 || k == (size_t)-2) {
			memset(&st, 0, sizeof st);
			w++;
			i++;
			continue;
		}
		int cw = wcwidth(wc);
		w += cw < 0 ? 1 : cw;
		i += k ? k : 1;
	}
	return w;
}

/* Right-aligned s ending at column x + w. */
static void put_right(int y, int x, int w, attr_t a, const char *s)
{
	int sw = swidth(s);
	if (sw > w)
		sw = w;
	put(y, x + w - sw, sw, a, s);
}

static void clear_rect(pane_rect r)
{
	for (int y = 0; y < r.h; y++)
		mvhline(r.y + y, r.x, ' ', r.w);
}

const char *pane_num(char *buf, size_t n, double v, int sig)
{
	if (v != v)
		snprintf(buf, n, "nan");
	else if (isinf(v))
		snprintf(buf, n, v > 0 ? "inf" : "-inf");
	else if (v == 0)
		snprintf(buf, n, "0");
	else
		snprintf(buf, n, "%.*g", sig, v);
	return buf;
}

/* Quality attribute of an SQNR in dB. */
static attr_t quality(const pane_theme *th, double db)
{
	if (db != db)
		return th->dim;
	return db >= 40 ? th->good : db >= 20 ? th->fair : th->poor;
}

/* A horizontal rule from x over w columns. */
static void hrule(const pane_theme *th, int y, int x, int w, attr_t a)
{
	attr_t old;
	short pair;
	attr_get(&old, &pair, NULL);
	attrset(a);
	if (th->utf8)
		for (int i = 0; i < w; i++)
			mvaddstr(y, x + i, "\u2500");
	else
		mvhline(y, x, '-', w);
	attr_set(old, pair, NULL);
}

void pane_vrule(const pane_theme *th, int x, int y0, int y1)
{
	for (int y = y0; y < y1; y++)
		put(y, x, 1, th->dim, "\u2502");
	if (y0 > 0)
		put(y0 - 1, x, 1, th->dim, "\u252c");
}

void pane_title(const pane_theme *th, pane_rect r, const char *title,
		const char *extra)
{
	hrule(th, r.y, r.x, r.w, th->dim);
	int x = r.x + 1;
	x += put(r.y, x, r.w - 2, th->title, " ");
	x += put(r.y, x, r.x + r.w - x - 1, th->title, title);
	x += put(r.y, x, r.x + r.w - x - 1, th->title, " ");
	if (extra && *extra && r.x + r.w - x > 4) {
		x += 1;
		x += put(r.y, x, r.x + r.w - x - 1, th->text, " ");
		x += put(r.y, x, r.x + r.w - x - 1, th->text, extra);
		put(r.y, x, r.x + r.w - x - 1, th->text, " ");
	}
}

/* ---- histogram ----------------------------------------------------------- */

/* Approximate fractions of the finite values below lo and above hi, from
 * the tensor's base histogram (linear inside a bin). */
static void clipped_split(const wb_tensor *t, double lo, double hi,
			  double *below, double *above)
{
	double bw = (t->hhi - t->hlo) / t->nbins, b = 0, a = 0;
	for (int i = 0; i < t->nbins; i++) {
		double b0 = t->hlo + i * bw, b1 = b0 + bw, c = (double)t->hist[i];
		if (b1 <= lo)
			b += c;
		else if (b0 < lo)
			b += c * (lo - b0) / bw;
		if (b0 >= hi)
			a += c;
		else if (b1 > hi)
			a += c * (b1 - hi) / bw;
	}
	double n = t->stats.count ? (double)t->stats.count : 1;
	*below = b / n;
	*above = a / n;
}

/* gnuplot's dumb output with ANSI colours, drawn into r. */
static void draw_ansi(const pane_theme *th, pane_rect r, const char *text)
{
	int y = 0, x = 0;
	attr_t a = th->text;
	const char *p = text;
	while (*p && y < r.h) {
		if (*p == '\n') {
			y++;
			x = 0;
			p++;
			continue;
		}
		if (*p == '\f' || *p == '\r') {
			p++;
			continue;
		}
		if (*p == '\033' && p[1] == '[') {
			/* SGR: 0 reset, 1 bold, 30-37 / 90-97 colours */
			p += 2;
			while (*p && *p != 'm' && (*p == ';' || (*p >= '0' && *p <= '9'))) {
				int v = (int)strtol(p, (char **)&p, 10);
				if (v == 0)
					a = th->text;
				else if (v == 1)
					a |= A_BOLD;
				else if (th->colors && v >= 30 && v <= 37)
					a = (a & ~A_COLOR) | COLOR_PAIR(P_ANSI + v - 30);
				else if (th->colors && v >= 90 && v <= 97)
					a = (a & ~A_COLOR) | COLOR_PAIR(P_ANSI + v - 90) | A_BOLD;
				else if (v == 39)
					a &= ~A_COLOR;
				if (*p == ';')
					p++;
			}
			if (*p)
				p++;
			continue;
		}
		if (*p == '\033') { /* other escapes: skip to a letter */
			p++;
			while (*p && !((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
				p++;
			if (*p)
				p++;
			continue;
		}
		/* one UTF-8 character */
		int k = 1;
		while (p[k] && ((unsigned char)p[k] & 0xC0) == 0x80)
			k++;
		if (x < r.w) {
			char ch[8];
			memcpy(ch, p, (size_t)(k < 7 ? k : 7));
			ch[k < 7 ? k : 7] = '\0';
			x += put(r.y + y, r.x + x, r.w - x, a, ch);
		}
		p += k;
	}
}

void pane_hist(const pane_theme *th, pane_rect r, const pane_hist_data *d)
{
	clear_rect(r);
	char extra[160] = "", b1[32], b2[32];
	if (!d->t) {
		pane_title(th, r, "Histogram", "");
		put(r.y + 2, r.x + 2, r.w - 4, th->dim,
		    "no tensor: ui.open(\"file.npy\") at the : prompt");
		return;
	}
	double cw = (d->vhi - d->vlo) / (r.w > 0 ? r.w : 1);
	/* grid: which levels show */
	long long step = 1, nlev = 0;
	double s = d->grid_scale ? *d->grid_scale : 0;
	if (s > 0) {
		nlev = d->qmax - d->qmin + 1;
		double spacing = s / cw; /* columns between levels */
		if (spacing < 2)
			step = (long long)ceil(2 / spacing);
	}
	int n = 0;
	n += snprintf(extra + n, sizeof extra - (size_t)n, "%s", d->log ? "log" : "linear");
	if (nlev)
		n += snprintf(extra + n, sizeof extra - (size_t)n,
			      " \u00b7 %lld levels", nlev);
	if (nlev && step > 1)
		n += snprintf(extra + n, sizeof extra - (size_t)n,
			      " (1 in %lld shown)", step);
	else if (d->per_param)
		n += snprintf(extra + n, sizeof extra - (size_t)n,
			      " \u00b7 one range per channel/group");
	if (d->note)
		n += snprintf(extra + n, sizeof extra - (size_t)n, " \u00b7 %s",
			      d->note);
	if (d->stale)
		snprintf(extra + n, sizeof extra - (size_t)n, " \u00b7 computing\u2026");
	pane_title(th, r, "Histogram", extra);
	int ph = r.h - 3; /* plot rows */
	if (d->text) {
		pane_rect pr = {r.y + 1, r.x, r.h - 1, r.w};
		draw_ansi(th, pr, d->text);
		return;
	}
	if (ph < 1)
		return;
	double vmax = 0;
	for (int x = 0; x < r.w; x++)
		vmax = d->counts[x] > vmax ? d->counts[x] : vmax;
	static const char *const eighths[] = {" ", "\u2581", "\u2582", "\u2583",
					      "\u2584", "\u2585", "\u2586",
					      "\u2587", "\u2588"};
	static const char *const ascii[] = {" ", ".", ".", "_", "_", "=",
					    "=", "#", "#"};
	/* what is clipped: with a known grid, values that round outside the
	 * codes (beyond half a step past the end levels); else outside the
	 * markers */
	double clo = d->mlo, chi = d->mhi;
	if (s > 0) {
		clo = ((double)d->qmin - d->grid_zp - 0.5) * s;
		chi = ((double)d->qmax - d->grid_zp + 0.5) * s;
	}
	int mx0 = -1, mx1 = -1;
	if (d->markers) {
		mx0 = (int)floor((d->mlo - d->vlo) / cw);
		mx1 = (int)floor((d->mhi - d->vlo) / cw);
		if (mx1 >= r.w && d->mhi <= d->vhi)
			mx1 = r.w - 1;
	}
	for (int x = 0; x < r.w; x++) {
		double c = d->counts[x], f = 0;
		if (vmax > 0 && c > 0)
			f = d->log ? log1p(c) / log1p(vmax) : c / vmax;
		int h8 = (int)lround(f * ph * 8);
		if (c > 0 && h8 == 0)
			h8 = 1;
		double v = d->vlo + (x + 0.5) * cw;
		int out = d->markers && (v < clo || v > chi);
		attr_t a = out ? th->clip : th->bar;
		int marker = x == mx0 || x == mx1;
		for (int k = 0; k < ph; k++) {
			int cell = h8 - 8 * k;
			cell = cell < 0 ? 0 : cell > 8 ? 8 : cell;
			int yy = r.y + 1 + ph - 1 - k;
			if (marker && cell == 0) {
				put(yy, r.x + x, 1, th->mark, th->utf8 ? "\u2502" : "|");
				continue;
			}
			const char *g = th->utf8 ? eighths[cell] : ascii[cell];
			if (!th->utf8 && out && cell == 8)
				g = ":"; /* shaded without colour */
			put(yy, r.x + x, 1, marker ? th->mark : a, g);
		}
	}
	/* axis: baseline, grid ticks, range markers */
	int ay = r.y + 1 + ph;
	hrule(th, ay, r.x, r.w, th->dim);
	if (s > 0) {
		double z = d->grid_zp;
		/* levels q with (q - z) % step == 0, so that 0 is one */
		long long q0 = d->qmin, q1 = d->qmax;
		double lo_q = ceil(d->vlo / s + z), hi_q = floor(d->vhi / s + z);
		if (lo_q > q0)
			q0 = (long long)lo_q;
		if (hi_q < q1)
			q1 = (long long)hi_q;
		long long zi = (long long)z;
		for (long long q = q0; q <= q1; q++) {
			if (((q - zi) % step + step) % step)
				continue;
			double v = ((double)q - z) * s;
			int x = (int)floor((v - d->vlo) / cw);
			if (x >= 0 && x < r.w)
				put(ay, r.x + x, 1, th->grid, th->utf8 ? "\u252c" : "+");
		}
	}
	if (mx0 >= 0 && mx0 < r.w)
		put(ay, r.x + mx0, 1, th->mark, th->utf8 ? "\u25b2" : "^");
	if (mx1 >= 0 && mx1 < r.w)
		put(ay, r.x + mx1, 1, th->mark, th->utf8 ? "\u25b2" : "^");
	/* labels: view ends, zero, lo and hi without overlaps */
	int ly = r.y + r.h - 1;
	char used[1024];
	int W = r.w < (int)sizeof used ? r.w : (int)sizeof used;
	memset(used, 0, sizeof used);
	struct lab {
		int x, right;
		attr_t a;
		char s[40];
	} labs[5];
	int nl = 0;
	if (d->markers && mx0 >= 0 && mx0 < r.w) {
		labs[nl] = (struct lab){mx0, 1, th->mark, ""};
		snprintf(labs[nl++].s, 40, "lo %s", pane_num(b1, sizeof b1, d->mlo, 4));
	}
	if (d->markers && mx1 >= 0 && mx1 < r.w) {
		labs[nl] = (struct lab){mx1, 0, th->mark, ""};
		snprintf(labs[nl++].s, 40, "hi %s", pane_num(b1, sizeof b1, d->mhi, 4));
	}
	labs[nl] = (struct lab){0, 0, th->dim, ""};
	pane_num(labs[nl++].s, 40, d->vlo, 4);
	labs[nl] = (struct lab){W - 1, 1, th->dim, ""};
	pane_num(labs[nl++].s, 40, d->vhi, 4);
	if (d->vlo < 0 && d->vhi > 0) {
		int zx = (int)floor((0 - d->vlo) / cw);
		labs[nl] = (struct lab){zx, 0, th->dim, "0"};
		nl++;
	}
	for (int i = 0; i < nl; i++) {
		int w = swidth(labs[i].s);
		int x0 = labs[i].right ? labs[i].x - w + 1 : labs[i].x;
		if (labs[i].right && labs[i].x == mx0 && i == 0)
			x0 = labs[i].x - w + 1; /* lo: text to the left */
		if (x0 < 0)
			x0 = 0;
		if (x0 + w > W)
			x0 = W - w;
		if (x0 < 0)
			continue;
		int clash = 0;
		for (int k = x0 > 0 ? x0 - 1 : 0; k < x0 + w + 1 && k < W; k++)
			clash |= used[k];
		if (clash)
			continue;
		memset(used + x0, 1, (size_t)w);
		put(ly, r.x + x0, w, labs[i].a, labs[i].s);
	}
	/* the mass outside [lo, hi], in the top corners */
	if (d->markers && d->t->stats.count) {
		double below, above;
		clipped_split(d->t, clo, chi, &below, &above);
		if (below > 0) {
			snprintf(b1, sizeof b1, th->utf8 ? "\u25c0 \u2248%s%%" : "< ~%s%%",
				 pane_num(b2, sizeof b2, 100 * below, 2));
			put(r.y + 1, r.x, r.w, th->clip | A_BOLD, b1);
		}
		if (above > 0) {
			snprintf(b1, sizeof b1, th->utf8 ? "\u2248%s%% \u25b6" : "~%s%% >",
				 pane_num(b2, sizeof b2, 100 * above, 2));
			put_right(r.y + 1, r.x, r.w, th->clip | A_BOLD, b1);
		}
	}
}

/* ---- stats --------------------------------------------------------------- */

typedef struct kv {
	const char *k;
	char v[48];
	attr_t a;
} kv;

static void shape_text(char *buf, size_t n, const qs_tensor *t)
{
	size_t k = 0;
	k += (size_t)snprintf(buf + k, n - k, "(");
	for (int d = 0; d < t->ndim && k < n; d++)
		k += (size_t)snprintf(buf + k, n - k, d ? ", %lld" : "%lld",
				      (long long)t->shape[d]);
	if (k < n)
		snprintf(buf + k, n - k, t->ndim == 1 ? ",)" : ")");
}

/* Key-value pairs in ncols columns from row y; each column's keys are
 * as wide as its longest.  Returns the next row. */
static int pairs(const pane_theme *th, int y, int ymax, int x, int w,
		 const kv *items, int n, int ncols)
{
	int cw = w / ncols;
	int kw[4] = {0}, vw[4] = {0};
	for (int i = 0; i < n; i++) {
		int k = swidth(items[i].k), v = swidth(items[i].v);
		if (k > kw[i % ncols])
			kw[i % ncols] = k;
		if (v > vw[i % ncols])
			vw[i % ncols] = v;
	}
	for (int i = 0; i < n && y < ymax; i += ncols, y++)
		for (int j = 0; j < ncols && i + j < n; j++) {
			int xx = x + j * cw, room = j == ncols - 1 ? w - j * cw : cw - 1;
			/* aligned values when they fit, else right after the key */
			int kx = kw[j] + 1 + vw[j] <= room ? kw[j] + 1
							   : swidth(items[i + j].k) + 1;
			put(y, xx, room, th->dim, items[i + j].k);
			put(y, xx + kx, room - kx, items[i + j].a, items[i + j].v);
		}
	return y;
}

void pane_stats(const pane_theme *th, pane_rect r, const wb_tensor *t,
		const wb_settings *s, const wb_result *res, int stale,
		double latency_ms)
{
	clear_rect(r);
	(void)latency_ms;
	char b[160], c[48], e[48];
	int y = r.y, x = r.x + 1, w = r.w - 2, ymax = r.y + r.h;
	int wide = w >= 40, sig = wide ? 5 : 4;
	if (!t) {
		pane_title(th, r, "Stats", "");
		put(y + 2, x, w, th->dim, "no tensor loaded");
		return;
	}
	pane_title(th, r, "Tensor", "");
	y++;
	{
		/* a long path keeps its end (the file name) visible */
		const char *nm = t->name ? t->name : "";
		size_t len = strlen(nm);
		if (w > 4 && len > (size_t)w) {
			const char *tail = nm + len - (size_t)(w - 1);
			while ((*tail & 0xC0) == 0x80)
				tail++;
			snprintf(b, sizeof b, "%s%s", th->utf8 ? "…" : "<",
				 tail);
			put(y++, x, w, th->bold, b);
		} else {
			put(y++, x, w, th->bold, nm);
		}
	}
	int brief = r.h < 17;
	shape_text(b, sizeof b, t->t);
	int k = put(y, x, w, th->text, b);
	snprintf(c, sizeof c, " %s", qs_dtype_name(t->t->dtype));
	/* a short pane keeps the quantizer and its error: the tensor's
	 * shape and statistics go first */
	if (!brief) {
		k += put(y, x + k, w - k, th->dim, c);
		snprintf(c, sizeof c, "  %lld values", (long long)t->t->size);
		if (k + swidth(c) <= w)
			put(y, x + k, w - k, th->dim, c);
		y++;
	} else {
		mvhline(y, x, ' ', w);
	}
	const qs_stats *ss = &t->stats;
	kv st[6] = {{"min", "", th->text},  {"max", "", th->text},
		    {"mean", "", th->text}, {"std", "", th->text},
		    {"absmax", "", th->text}, {"nan/inf", "", ss->nan || ss->inf ? th->err : th->text}};
	pane_num(st[0].v, 48, ss->min, sig);
	pane_num(st[1].v, 48, ss->max, sig);
	pane_num(st[2].v, 48, ss->mean, sig - 1);
	pane_num(st[3].v, 48, ss->std, sig - 1);
	pane_num(st[4].v, 48, ss->absmax, sig);
	snprintf(st[5].v, 48, "%lld/%lld", (long long)ss->nan, (long long)ss->inf);
	if (!brief)
		y = pairs(th, y, ymax, x, w, st, 6, 2);
	if (y >= ymax)
		return;
	/* the spec */
	const qs_spec *p = &s->spec;
	pane_title(th, (pane_rect){y, r.x, 1, r.w}, "Quantizer", "");
	y++;
	if (p->granularity == QS_GRAN_CHANNEL)
		snprintf(c, sizeof c, "channel axis %d", p->axis);
	else if (p->granularity == QS_GRAN_GROUP)
		snprintf(c, sizeof c, "group %lld", (long long)p->group);
	else
		snprintf(c, sizeof c, "per tensor");
	snprintf(b, sizeof b, "%s %s%s, %s", p->format,
		 p->scheme == QS_SCHEME_SYMMETRIC ? "sym" : "asym",
		 p->narrow ? " narrow" : "", c);
	put(y++, x, w, th->bold, b);
	if (y >= ymax)
		return;
	if (p->calib.method == QS_CALIB_FIXED)
		snprintf(b, sizeof b, "calib fixed (0: %s)",
			 qs_calib_name(s->calibrated));
	else
		snprintf(b, sizeof b, "calib %s", qs_calib_name(p->calib.method));
	k = put(y, x, w, p->calib.method == QS_CALIB_FIXED ? th->mark : th->text, b);
	snprintf(b, sizeof b, "  round %s", qs_rounding_name(p->rounding));
	if (k + swidth(b) <= w)
		put(y, x + k, w - k, th->text, b);
	else if (y + 1 < ymax)
		put(++y, x, w, th->text, b + 2);
	y++;
	if (y >= ymax)
		return;
	if (!res || (!res->q && !res->error[0])) {
		put(y, x, w, th->dim, "computing\u2026");
		return;
	}
	attr_t va = stale ? th->dim : th->text;
	if (!res->q) {
		/* the message may be long: wrap it at spaces over the rows
		 * left */
		const char *m = res->error;
		while (*m && y < ymax) {
			size_t len = strlen(m), take = len;
			if (take > (size_t)w) {
				take = (size_t)w;
				size_t sp = take;
				while (sp > 0 && m[sp] != ' ')
					sp--;
				if (sp > 0)
					take = sp;
			}
			char line[256];
			if (take > 255)
				take = 255;
			memcpy(line, m, take);
			line[take] = '\0';
			put(y++, x, w, th->err, line);
			m += take;
			while (*m == ' ')
				m++;
		}
		return;
	}
	const qs_quant *q = res->q;
	if (q->nparams == 1) {
		snprintf(b, sizeof b, "scale %s  zp %s",
			 pane_num(c, sizeof c, res->smin, sig + 1),
			 pane_num(e, sizeof e, res->zmin, 5));
	} else if (res->zmin == res->zmax) {
		char d1[24];
		snprintf(b, sizeof b, "scale %s..%s  zp %s",
			 pane_num(c, sizeof c, res->smin, 3),
			 pane_num(e, sizeof e, res->smax, 3),
			 pane_num(d1, sizeof d1, res->zmin, 3));
	} else {
		char d1[24], d2[24];
		snprintf(b, sizeof b, "scale %s..%s  zp %s..%s",
			 pane_num(c, sizeof c, res->smin, 3),
			 pane_num(e, sizeof e, res->smax, 3),
			 pane_num(d1, sizeof d1, res->zmin, 3),
			 pane_num(d2, sizeof d2, res->zmax, 3));
	}
	put(y++, x, w, va, b);
	if (y < ymax && !brief) {
		snprintf(b, sizeof b, "%s [%s, %s]",
			 q->nparams > 1 ? "ranges" : "range",
			 pane_num(c, sizeof c, res->lo, sig),
			 pane_num(e, sizeof e, res->hi, sig));
		put(y++, x, w, va, b);
	}
	if (y >= ymax)
		return;
	char lat[48] = "";
	if (!stale)
		snprintf(lat, sizeof lat, res->ms < 10 ? "%.1f ms" : "%.0f ms",
			 res->ms);
	pane_title(th, (pane_rect){y, r.x, 1, r.w},
		   stale ? "Error (computing\u2026)" : "Error", lat);
	y++;
	const qs_metrics *m = &q->metrics;
	if (y < ymax) {
		if (isinf(m->sqnr_db))
			snprintf(b, sizeof b, "exact");
		else
			snprintf(b, sizeof b, "%.2f dB", m->sqnr_db);
		put(y, x, w, th->dim, "SQNR");
		k = 5 + put(y, x + 5, w - 5,
			    stale ? th->dim : quality(th, m->sqnr_db) | A_BOLD, b);
		snprintf(b, sizeof b, "%.3f bit/el", q->bits);
		if (k + 2 + swidth(b) <= w)
			put_right(y, x, w, th->dim, b);
		y++;
	}
	int dig = wide ? 4 : 3;
	kv mt[7] = {{"MSE", "", va},    {"RMSE", "", va},
		    {"max|e|", "", va}, {wide ? "mean|e|" : "avg|e|", "", va},
		    {"cos", "", va},    {"bias", "", va},
		    {"clipped", "", m->n_clipped ? th->clip | A_BOLD : va}};
	pane_num(mt[0].v, 48, m->mse, dig);
	pane_num(mt[1].v, 48, m->rmse, dig);
	pane_num(mt[2].v, 48, m->max_abs, dig);
	pane_num(mt[3].v, 48, m->mean_abs, dig);
	snprintf(mt[4].v, 48, wide ? "%.7f" : "%.5f", m->cosine);
	pane_num(mt[5].v, 48, m->bias, dig - 1);
	snprintf(mt[6].v, 48, "%s%% (%lld)",
		 pane_num(c, sizeof c, 100 * m->clipped, 3),
		 (long long)m->n_clipped);
	if (ymax - y >= 7 && !wide) {
		pairs(th, y, ymax, x, w, mt, 7, 1);
	} else {
		y = pairs(th, y, ymax, x, w, mt, 6, 2);
		pairs(th, y, ymax, x, w, mt + 6, 1, 1);
	}
}

/* ---- compare ------------------------------------------------------------- */

typedef struct col {
	const char *head;
	int w;
} col;

void pane_compare(const pane_theme *th, pane_rect r, const qs_ui_row *rows,
		  int n, int pending, int *scroll, const char *what)
{
	clear_rect(r);
	/* keep the current row visible */
	int body = r.h - 2, cur = -1;
	for (int i = 0; i < n; i++)
		if (rows[i].current)
			cur = i;
	if (cur >= 0 && cur >= *scroll + body)
		*scroll = cur - body + 1;
	if (*scroll > n - body)
		*scroll = n - body;
	if (*scroll < 0)
		*scroll = 0;
	char extra[160];
	int k = snprintf(extra, sizeof extra, "%s", what);
	if (n > body && body > 0)
		k += snprintf(extra + k, sizeof extra - (size_t)k, " \u00b7 %d-%d of %d",
			      *scroll + 1, *scroll + body < n ? *scroll + body : n, n);
	if (pending)
		snprintf(extra + k, sizeof extra - (size_t)k, " \u00b7 %d to go\u2026", pending);
	pane_title(th, r, "Compare", extra);
	static const col cols[] = {{"#", 2},        {"calib", 15},
				   {"SQNR dB", 8},  {"MSE", 10},
				   {"clip %", 8},   {"lo", 10},
				   {"hi", 10},      {"max|e|", 10},
				   {"ms", 7}};
	int nc = 0, used = 1;
	while (nc < (int)(sizeof cols / sizeof cols[0]) &&
	       used + cols[nc].w + 1 <= r.w)
		used += cols[nc++].w + 1;
	if (r.h < 3)
		return;
	int y = r.y + 1, x = r.x + 1;
	for (int c = 0; c < nc; c++) {
		if (c <= 1)
			put(y, x, cols[c].w, th->dim, cols[c].head);
		else
			put_right(y, x, cols[c].w, th->dim, cols[c].head);
		x += cols[c].w + 1;
	}
	for (int i = *scroll; i < n && i - *scroll < body; i++) {
		const qs_ui_row *row = &rows[i];
		y = r.y + 2 + i - *scroll;
		attr_t base = row->current ? th->hl : th->text;
		if (row->current)
			mvhline(y, r.x, ' ', r.w);
		if (row->current) {
			attr_t old;
			short pair;
			attr_get(&old, &pair, NULL);
			attrset(th->hl);
			mvhline(y, r.x, ' ', r.w);
			attr_set(old, pair, NULL);
		}
		x = r.x + 1;
		char b[48];
		for (int c = 0; c < nc; c++) {
			attr_t a = base;
			b[0] = '\0';
			switch (c) {
			case 0:
				if (row->done == 1)
					snprintf(b, sizeof b, "%d", i + 1);
				break;
			case 1:
				snprintf(b, sizeof b, "%s%s",
					 row->method == QS_CALIB_FIXED ? "fixed (hand)"
								       : qs_calib_name(row->method),
					 "");
				if (row->current)
					a |= A_BOLD;
				break;
			default:
				if (row->done == 0) {
					snprintf(b, sizeof b, th->utf8 ? "\u2026" : "...");
					a = row->current ? base : th->dim;
					break;
				}
				if (row->done < 0) {
					if (c == 2)
						put(y, x, r.x + r.w - x - 1,
						    row->current ? base : th->err,
						    row->error);
					b[0] = '\0';
					break;
				}
				if (c == 2) {
					if (isinf(row->metrics.sqnr_db))
						snprintf(b, sizeof b, "exact");
					else
						snprintf(b, sizeof b, "%.2f",
							 row->metrics.sqnr_db);
					if (!row->current)
						a = quality(th, row->metrics.sqnr_db);
				} else if (c == 3)
					pane_num(b, sizeof b, row->metrics.mse, 4);
				else if (c == 4)
					pane_num(b, sizeof b, 100 * row->metrics.clipped, 3);
				else if (c == 5)
					pane_num(b, sizeof b, row->lo, 5);
				else if (c == 6)
					pane_num(b, sizeof b, row->hi, 5);
				else if (c == 7)
					pane_num(b, sizeof b, row->metrics.max_abs, 4);
				else if (c == 8)
					snprintf(b, sizeof b, "%.0f", row->ms);
			}
			if (row->done < 0 && c >= 2)
				break;
			if (c <= 1)
				put(y, x, cols[c].w, a, b);
			else
				put_right(y, x, cols[c].w, a, b);
			x += cols[c].w + 1;
		}
	}
}

/* ---- channels ------------------------------------------------------------ */

void pane_channels(const pane_theme *th, pane_rect r, const qs_ui_channel *ch,
		   int64_t n, int64_t total, int ready, int64_t scroll,
		   const wb_tensor *t, const char *what, int64_t per_row)
{
	clear_rect(r);
	char extra[128];
	int metrics = n > 0 && ch[0].has_metrics;
	if (total > r.h - 2)
		snprintf(extra, sizeof extra, "%s \u00b7 %s \u00b7 %lld-%lld of %lld%s",
			 what, metrics ? "worst first" : "in order",
			 (long long)scroll + 1, (long long)(scroll + n),
			 (long long)total, ready ? "" : " \u00b7 computing\u2026");
	else
		snprintf(extra, sizeof extra, "%s \u00b7 %s%s", what,
			 metrics ? "worst first" : "in order",
			 ready ? "" : " \u00b7 computing\u2026");
	pane_title(th, r, "Channels", extra);
	if (r.h < 3 || !t)
		return;
	int wi = 7, wl = 9, wh = 9, ws = metrics ? 8 : 0;
	int bw = r.w - 2 - wi - wl - wh - ws - 4;
	int y = r.y + 1, x = r.x + 1;
	put(y, x, wi, th->dim, per_row ? "row:grp" : "index");
	if (bw >= 8) {
		char h[64];
		char b1[24], b2[24];
		snprintf(h, sizeof h, "%s", pane_num(b1, sizeof b1, t->stats.min, 3));
		put(y, x + wi + 1, bw, th->dim, h);
		put_right(y, x + wi + 1, bw, th->dim, pane_num(b2, sizeof b2, t->stats.max, 3));
	}
	int xx = x + wi + 1 + (bw >= 8 ? bw + 1 : 0);
	put_right(y, xx, wl, th->dim, "min");
	put_right(y, xx + wl + 1, wh, th->dim, "max");
	if (ws)
		put_right(y, xx + wl + wh + 2, ws, th->dim, "SQNR dB");
	if (total == 0) {
		put(y + 1, x, r.w - 2, th->dim,
		    ready ? "no channels (a 0-d tensor)" : "computing\u2026");
		return;
	}
	double tmin = t->stats.min, tmax = t->stats.max;
	if (!(tmax > tmin)) {
		tmin -= 1;
		tmax += 1;
	}
	for (int64_t i = 0; i < n && i < r.h - 2; i++) {
		const qs_ui_channel *c = &ch[i];
		y = r.y + 2 + (int)i;
		char b[48];
		if (per_row)
			snprintf(b, sizeof b, "%lld:%lld", (long long)(c->index / per_row),
				 (long long)(c->index % per_row));
		else
			snprintf(b, sizeof b, "%lld", (long long)c->index);
		put(y, x, wi, th->text, b);
		if (bw >= 8) {
			int bx = x + wi + 1;
			int a = (int)floor((c->lo - tmin) / (tmax - tmin) * (bw - 1));
			int e = (int)floor((c->hi - tmin) / (tmax - tmin) * (bw - 1));
			int z = (int)floor((0 - tmin) / (tmax - tmin) * (bw - 1));
			a = a < 0 ? 0 : a >= bw ? bw - 1 : a;
			e = e < 0 ? 0 : e >= bw ? bw - 1 : e;
			attr_t ba = c->has_metrics ? quality(th, c->metrics.sqnr_db) & ~A_BOLD : th->bar;
			for (int k = a; k <= e; k++) {
				const char *g = th->utf8 ? "\u2500" : "-";
				if (k == a)
					g = th->utf8 ? "\u251c" : "[";
				else if (k == e)
					g = th->utf8 ? "\u2524" : "]";
				else if (k == z)
					g = th->utf8 ? "\u253c" : "+";
				put(y, bx + k, 1, ba, g);
			}
			if (z >= 0 && z < bw && (z < a || z > e))
				put(y, bx + z, 1, th->dim, th->utf8 ? "\u2502" : "|");
		}
		put_right(y, xx, wl, th->text, pane_num(b, sizeof b, c->lo, 4));
		put_right(y, xx + wl + 1, wh, th->text, pane_num(b, sizeof b, c->hi, 4));
		if (ws && c->has_metrics) {
			if (isinf(c->metrics.sqnr_db))
				snprintf(b, sizeof b, "exact");
			else
				snprintf(b, sizeof b, "%.2f", c->metrics.sqnr_db);
			put_right(y, xx + wl + wh + 2, ws, quality(th, c->metrics.sqnr_db), b);
		}
	}
}

/* ---- output -------------------------------------------------------------- */

typedef struct out_ctx {
	const pane_theme *th;
	pane_rect r;
} out_ctx;

static void out_row(void *ud, int y, const char *s, size_t n, int kind)
{
	out_ctx *c = ud;
	const pane_theme *th = c->th;
	attr_t a = kind == OUT_ERROR ? th->err
		   : kind == OUT_ECHO ? th->echo
		   : kind == OUT_NOTE ? th->note
		   : kind == OUT_TRACE ? th->dim
				       : th->text;
	char buf[1024];
	size_t k = n < sizeof buf - 1 ? n : sizeof buf - 1;
	memcpy(buf, s, k);
	buf[k] = '\0';
	put(c->r.y + y, c->r.x, c->r.w, a, buf);
}

void pane_output(const pane_theme *th, pane_rect r, tui_out *o, int *scroll,
		 int trace)
{
	clear_rect(r);
	if (r.h < 2)
		return;
	pane_rect body = {r.y + 1, r.x + 1, r.h - 1, r.w - 2};
	out_ctx c = {th, body};
	int total = tui_out_render(o, body.w, body.h, scroll, trace, out_row, &c);
	char extra[64] = "";
	if (*scroll > 0)
		snprintf(extra, sizeof extra, "scrolled back %d of %d rows \u00b7 PgDn", *scroll, total);
	else if (total > body.h)
		snprintf(extra, sizeof extra, "PgUp scrolls back");
	/* the title goes on top of the body rows: draw it last */
	pane_title(th, (pane_rect){r.y, r.x, 1, r.w}, "Output", extra);
}

/* ---- status and help ----------------------------------------------------- */

void pane_status(const pane_theme *th, pane_rect r, int command_mode,
		 const char *message, int busy)
{
	attr_t old;
	short pair;
	attr_get(&old, &pair, NULL);
	attrset(th->status);
	mvhline(r.y, r.x, ' ', r.w);
	attr_set(old, pair, NULL);
	int x = r.x;
	x += put(r.y, x, r.w, command_mode ? th->mode_cmd : th->mode_view,
		 command_mode ? " LUA " : " KEYS ");
	x += 1;
	const char *hint =
		command_mode
			? (th->utf8 ? "Esc: keys \u00b7 Tab complete \u00b7 \u2191\u2193 history \u00b7 PgUp/PgDn output \u00b7 ^C stop \u00b7 ^D quit \u00b7 F1 help"
				    : "Esc: keys | Tab complete | Up/Down history | PgUp/PgDn output | ^C stop | ^D quit | F1 help")
			: (th->utf8 ? "? help \u00b7 : Lua \u00b7 q quit \u00b7 c calib \u00b7 f format \u00b7 +- bits \u00b7 g gran \u00b7 s scheme \u00b7 r round \u00b7 \u2190\u2192\u2191\u2193 clip \u00b7 0 reset \u00b7 v view \u00b7 z zoom \u00b7 l log \u00b7 n next"
				    : "? help | : Lua | q quit | c calib | f format | +- bits | g gran | s scheme | r round | arrows clip | 0 reset | v view | z zoom | l log | n next");
	int mw = message && *message ? swidth(message) + 2 : 0;
	if (busy)
		mw += 2;
	int room = r.x + r.w - x - mw;
	put(r.y, x, room, th->dim, hint);
	if (mw) {
		int mx = r.x + r.w - mw;
		if (mx < x)
			mx = x;
		if (busy)
			mx += put(r.y, mx, 2, th->note, th->utf8 ? "\u23f3" : "* ");
		if (message && *message)
			put(r.y, mx + 1, r.x + r.w - mx - 1, th->note, message);
	}
}

void pane_help(const pane_theme *th, int lines, int cols)
{
	int n = 0;
	for (const tui_help_line *l = tui_help; l->keys; l++)
		n++;
	int colw = 38;
	int ncols = (cols - 4) / colw;
	if (ncols > 2)
		ncols = 2;
	if (ncols < 1)
		ncols = 1;
	if (ncols == 1)
		colw = cols - 4;
	int rows = (n + ncols - 1) / ncols;
	int h = rows + 5, w = ncols * colw + 3;
	if (w > cols)
		w = cols;
	if (h > lines)
		h = lines;
	int y0 = (lines - h) / 2, x0 = (cols - w) / 2;
	attr_t old;
	short pair;
	attr_get(&old, &pair, NULL);
	attrset(th->text);
	for (int y = 0; y < h; y++)
		mvhline(y0 + y, x0, ' ', w);
	attr_set(old, pair, NULL);
	/* the frame in Unicode (or ASCII): ACS is unreliable in UTF-8 */
	hrule(th, y0, x0, w, th->title);
	hrule(th, y0 + h - 1, x0, w, th->title);
	for (int y = 1; y < h - 1; y++) {
		put(y0 + y, x0, 1, th->title, "\u2502");
		put(y0 + y, x0 + w - 1, 1, th->title, "\u2502");
	}
	put(y0, x0, 1, th->title, "\u250c");
	put(y0, x0 + w - 1, 1, th->title, "\u2510");
	put(y0 + h - 1, x0, 1, th->title, "\u2514");
	put(y0 + h - 1, x0 + w - 1, 1, th->title, "\u2518");
	put(y0, x0 + 2, w - 4, th->title, " qscope keys ");
	int i = 0;
	for (const tui_help_line *l = tui_help; l->keys; l++, i++) {
		int cx = x0 + 2 + (i / rows) * colw, cy = y0 + 1 + i % rows;
		if (cy >= y0 + h - 3)
			continue;
		const char *k = l->keys;
		char ascii[16];
		if (!th->utf8 && (unsigned char)k[0] >= 0x80) {
			snprintf(ascii, sizeof ascii, "%s",
				 strstr(l->help, "lo") ? "Left Right" : "Down Up");
			k = ascii;
		}
		put(cy, cx, 10, th->mark, k);
		put(cy, cx + 11, colw - 12, th->text, l->help);
	}
	put(y0 + h - 3, x0 + 2, w - 4, th->dim,
	    "At the Lua prompt: Tab completes, Up/Down history, ^C stops");
	put(y0 + h - 2, x0 + 2, w - 4, th->dim,
	    "a script, ^D quits.  From Lua: ui.set{...}, ui.action(name).");
	put(y0 + h - 1, x0 + w - 20, 18, th->title, " any key closes ");
}
