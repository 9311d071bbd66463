/* t_plot: the figures through a real gnuplot.  Dumb-terminal text (mono
 * and ANSI) with the expected legend and markers in the right columns;
 * png (signature, IHDR size), svg (XML root <svg) and pdf (%PDF-) files;
 * atomic replacement (a failure leaves the old file and no temporary);
 * literal quoting; non-finite values; argument errors.
 * Skipped without gnuplot.  QS_KEEP_PLOTS=dir keeps the images there. */
#include "config.h"
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plot/gp.h"
#include "plot/plot.h"
#include "tap.h"

static char dir[64];

/* Read a whole file; NULL when missing. */
static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	unsigned char *p = malloc(cap);
	for (size_t k; (k = fread(p + n, 1, cap - n, f)) > 0;) {
		n += k;
		if (n == cap)
			p = realloc(p, cap *= 2);
	}
	fclose(f);
	*len = n;
	return p;
}

static void spit(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");
	fputs(s, f);
	fclose(f);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Valid PNG of the given size: signature, then an IHDR chunk first. */
static int is_png(const char *path, uint32_t w, uint32_t h)
{
	size_t n;
	unsigned char *p = slurp(path, &n);
	static const unsigned char sig[8] = {0x89, 'P',	 'N',  'G',
					     '\r', '\n', 0x1a, '\n'};
	int good = p && n > 33 && !memcmp(p, sig, 8) && be32(p + 8) == 13 &&
		   !memcmp(p + 12, "IHDR", 4) && be32(p + 16) == w &&
		   be32(p + 20) == h && n > 1000 &&
		   !memcmp(p + n - 8, "IEND", 4);
	if (!good && p && n > 24)
		tap_diag("%s: %zu bytes, %ux%u", path, n, be32(p + 16),
			 be32(p + 20));
	free(p);
	return good;
}

/* An SVG document: an XML declaration, then (past comments and a
 * doctype) the root element <svg, closed at the end. */
static int is_svg(const char *path)
{
	size_t n;
	char *p = (char *)slurp(path, &n);
	if (!p)
		return 0;
	p = realloc(p, n + 1);
	p[n] = '\0';
	int good = !strncmp(p, "<?xml", 5);
	const char *s = good ? strstr(p, "?>") : NULL;
	while (s) {
		s += strspn(s + 2, " \t\r\n") + 2;
		if (!strncmp(s, "<!--", 4))
			s = strstr(s, "-->") ? strstr(s, "-->") + 1 : NULL;
		else if (!strncmp(s, "<!DOCTYPE", 9))
			s = strchr(s, '>') ? strchr(s, '>') - 1 : NULL;
		else
			break;
	}
	good = good && s && !strncmp(s, "<svg", 4) &&
	       (s[4] == ' ' || s[4] == '\n' || s[4] == '>') &&
	       strstr(p, "</svg>");
	free(p);
	return good;
}

static int is_pdf(const char *path)
{
	size_t n;
	unsigned char *p = slurp(path, &n);
	int good = p && n > 200 && !memcmp(p, "%PDF-", 5);
	/* the trailer: %%EOF within the last bytes */
	if (good) {
		good = 0;
		for (size_t i = n > 32 ? n - 32 : 0; i + 5 <= n; i++)
			if (!memcmp(p + i, "%%EOF", 5))
				good = 1;
	}
	free(p);
	return good;
}

/* Is everything in dir one of the listed names (no temporary files)? */
static int only_files(const char *d, const char *const *names, int n)
{
	DIR *dp = opendir(d);
	int good = dp != NULL;
	for (struct dirent *e; dp && (e = readdir(dp));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		int known = 0;
		for (int i = 0; i < n; i++)
			known |= !strcmp(e->d_name, names[i]);
		if (!known) {
			tap_diag("unexpected file %s", e->d_name);
			good = 0;
		}
	}
	if (dp)
		closedir(dp);
	return good;
}

/* The line of text starting with the n-th line (0-based), its length. */
static const char *line_at(const char *s, int n, size_t *len)
{
	for (; n > 0 && s; n--) {
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	if (!s || !*s)
		return NULL;
	const char *e = strchr(s, '\n');
	*len = e ? (size_t)(e - s) : strlen(s);
	return s;
}

/* Column of needle in the first line containing it, or -1. */
static int column_of(const char *text, const char *needle, int *row)
{
	size_t len;
	const char *l;
	for (int r = 0; (l = line_at(text, r, &len)); r++) {
		const char *hit = strstr(l, needle);
		if (hit && (size_t)(hit - l) < len) {
			if (row)
				*row = r;
			return (int)(hit - l);
		}
	}
	return -1;
}

/* Column of needle in line row, or -1. */
static int column_in_row(const char *text, int row, const char *needle)
{
	size_t len;
	const char *l = row >= 0 ? line_at(text, row, &len) : NULL;
	const char *hit = l ? strstr(l, needle) : NULL;
	return hit && (size_t)(hit - l) < len ? (int)(hit - l) : -1;
}

static void keep(const char *name)
{
	const char *k = getenv("QS_KEEP_PLOTS");
	if (!k || !*k)
		return;
	char from[128], to[512];
	snprintf(from, sizeof from, "%s/%s", dir, name);
	snprintf(to, sizeof to, "%s/%s", k, name);
	size_t n;
	unsigned char *p = slurp(from, &n);
	FILE *f = p ? fopen(to, "wb") : NULL;
	if (f) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
	free(p);
}

int main(void)
{
	char err[512];
	gp_session *g = gp_new();
	int rc = gp_start(g, err, sizeof err);
	if (rc == GP_ENOTFOUND || rc == GP_EVERSION) {
		printf("1..0 # SKIP %s\n", err);
		gp_free(g);
		return 0;
	}
	tap_plan(63);
	snprintf(dir, sizeof dir, "t_plot.XXXXXX");
	ok(mkdtemp(dir) != NULL, "scratch directory %s", dir);

	/* a histogram of a unit Gaussian on [-4, 4], int8 grid to 2.5 */
	enum { NB = 64 };
	double e[NB + 1], c[NB], grid[255], total = 0;
	for (int i = 0; i <= NB; i++)
		e[i] = -4 + 8.0 * i / NB;
	for (int i = 0; i < NB; i++) {
		double x = (e[i] + e[i + 1]) / 2;
		c[i] = floor(100000 * exp(-x * x / 2) * 0.125 / sqrt(2 * M_PI));
		total += c[i];
	}
	for (int q = -127; q <= 127; q++)
		grid[q + 127] = q * (2.5 / 127);
	plot_hist_data h = {.edges = e,
			    .counts = c,
			    .nbins = NB,
			    .clip = 1,
			    .clip_lo = -2.5,
			    .clip_hi = 2.5,
			    .grid = grid,
			    .ngrid = 255,
			    .title = "w.npy: int8, it's symmetric"};
	plot_target tt = {.mode = PLOT_TEXT, .width = 80, .height = 24};
	char *text = NULL;
	rc = plot_hist(g, &tt, &h, &text, err, sizeof err);
	ok(rc == GP_OK && text, "dumb histogram (%s)", rc ? err : "ok");
	if (!text)
		text = strdup("");
	int rows = 0, widest = 0;
	size_t len;
	for (const char *l; (l = line_at(text, rows, &len)); rows++)
		widest = (int)len > widest ? (int)len : widest;
	ok(rows == 24 && widest == 80, "24 rows of 80 columns (%d x %d)", rows,
	   widest);
	ok(!strchr(text, '\f') && !strchr(text, '\033'),
	   "no form feed, no escapes in mono text");
	ok(strstr(text, "w.npy: int8, it's symmetric"), "title, quote intact");
	char want[128];
	snprintf(want, sizeof want, "histogram: %.0f values", total);
	ok(strstr(text, want), "legend: %s", want);
	ok(strstr(text, "clipping range [-2.5, 2.5]"),
	   "legend: clipping range");
	ok(strstr(text, "clipped (est.): ") && strstr(text, " below, ") &&
		   strstr(text, " above ("),
	   "legend: clipped mass");
	ok(strstr(text, "grid: 255 levels, every ") && strstr(text, "th shown"),
	   "legend: thinned grid");
	ok(strstr(text, "count") && strstr(text, "value"), "axis labels");
	/* the clip markers: the character in front of the clipping legend,
	 * found in the plot rows between the x tic labels -3..-2 and 2..3 */
	int krow = -1, kcol = column_of(text, "clipping range", &krow);
	char mark = kcol > 0 ? line_at(text, krow, &len)[kcol - 1] : '?';
	/* the x tic labels: the row holding "-3 " */
	int xrow = -1, c_m3 = column_of(text, "-3 ", &xrow);
	int c_m2 = column_in_row(text, xrow, "-2 ");
	int c_0 = column_in_row(text, xrow, " 0 ") + 1;
	int lcol = -1, rcol = -1;
	const char *mid = line_at(text, 8, &len);
	for (size_t i = 0; mid && i < len; i++)
		if (mid[i] == mark) {
			if (lcol < 0)
				lcol = (int)i;
			rcol = (int)i;
		}
	ok(mark != '?' && mark != ' ' && lcol > 0 && rcol > lcol,
	   "clip markers '%c' at columns %d and %d", mark, lcol, rcol);
	ok(c_m3 > 0 && c_m2 > c_m3 && lcol > c_m3 && lcol < c_m2 + 1,
	   "the low marker lies between -3 (%d) and -2 (%d)", c_m3, c_m2);
	ok(c_0 > c_m2 && abs((rcol - c_0) - (c_0 - lcol)) <= 2,
	   "the markers are symmetric about 0 (%d)", c_0);
	/* the grid ticks sit on the bottom border row */
	const char *bottom = NULL;
	int brow = 0;
	for (int r = 0; r < rows; r++) {
		const char *l = line_at(text, r, &len);
		if (l && len > 20 && memchr(l, '+', len) && strstr(l, "-----"))
			bottom = l, brow = r;
	}
	int gchar = column_of(text, "grid: ", &krow);
	char gmark = gchar > 0 ? line_at(text, krow, &len)[gchar - 1] : '?';
	int nt = 0;
	const char *bl = bottom ? line_at(text, brow, &len) : NULL;
	for (size_t i = 0; bl && i < len; i++)
		nt += bl[i] == gmark;
	ok(bottom && nt >= 10 && nt <= 40,
	   "%d grid ticks '%c' on the bottom row", nt, gmark);
	if (getenv("QS_SHOW"))
		fputs(text, stdout);
	free(text);

	/* ANSI colours */
	text = NULL;
	plot_target ta = {.mode = PLOT_ANSI};
	rc = plot_hist(g, &ta, &h, &text, err, sizeof err);
	ok(rc == GP_OK && text && strstr(text, "\033[") &&
		   strstr(text, "clipping range"),
	   "ANSI text has colour escapes and the legend");
	free(text);

	/* log counts, zoom, exact clipped counts */
	h.log_y = 1;
	h.zoom = 1;
	h.xmin = -3.5;
	h.xmax = -1.5;
	h.clip_counts = 1;
	h.below = 612;
	h.above = 598;
	text = NULL;
	rc = plot_hist(g, &tt, &h, &text, err, sizeof err);
	ok(rc == GP_OK && text && strstr(text, "count (log)") &&
		   strstr(text, "in view") &&
		   strstr(text, "clipped: 612 below, 598 above (1.21%)"),
	   "log counts, zoom, exact clipped counts (%s)", rc ? err : "ok");
	ok(text && strstr(text, "1000") && strstr(text, "-3.5") &&
		   !strstr(text, " 0 "),
	   "log tics, zoomed x axis");
	free(text);
	h.log_y = h.zoom = h.clip_counts = 0;

	/* the same histogram as files */
	const char *names[8];
	int nn = 0;
	char path[128];
	plot_target tf = {.mode = PLOT_FILE, .path = path};
	snprintf(path, sizeof path, "%s/hist.png", dir);
	rc = plot_hist(g, &tf, &h, NULL, err, sizeof err);
	names[nn++] = "hist.png";
	ok(rc == GP_OK && is_png(path, 960, 600),
	   "hist.png is a 960x600 PNG (%s)", rc ? err : "ok");
	keep("hist.png");
	snprintf(path, sizeof path, "%s/hist.SVG", dir);
	rc = plot_hist(g, &tf, &h, NULL, err, sizeof err);
	names[nn++] = "hist.SVG";
	ok(rc == GP_OK && is_svg(path), "hist.SVG is SVG (%s)",
	   rc ? err : "ok");
	snprintf(path, sizeof path, "%s/hist.pdf", dir);
	rc = plot_hist(g, &tf, &h, NULL, err, sizeof err);
	names[nn++] = "hist.pdf";
	ok(rc == GP_OK && is_pdf(path), "hist.pdf is PDF (%s)",
	   rc ? err : "ok");
	h.log_y = 1;
	snprintf(path, sizeof path, "%s/hist_log.png", dir);
	tf.width = 640;
	tf.height = 400;
	rc = plot_hist(g, &tf, &h, NULL, err, sizeof err);
	names[nn++] = "hist_log.png";
	ok(rc == GP_OK && is_png(path, 640, 400), "a 640x400 log-count PNG");
	keep("hist_log.png");
	tf.width = tf.height = 0;
	h.log_y = 0;
	ok(only_files(dir, names, nn), "no temporary files left");

	/* atomic replacement */
	snprintf(path, sizeof path, "%s/old.png", dir);
	spit(path, "OLD");
	names[nn++] = "old.png";
	rc = plot_render(g, &tf, "plot $no_such_block using 1:2", NULL, err,
			 sizeof err);
	size_t n;
	unsigned char *p = slurp(path, &n);
	ok(rc == GP_ECMD && p && n == 3 && !memcmp(p, "OLD", 3),
	   "a gnuplot error leaves the old file as it was");
	free(p);
	ok(!strncmp(err, path, strlen(path)) && strstr(err, "no_such_block") &&
		   !strchr(err, '\n'),
	   "one line naming the file: %s", err);
	ok(only_files(dir, names, nn), "and no temporary file");
	rc = plot_render(g, &tf, "plot x**2 title 'new'", NULL, err,
			 sizeof err);
	ok(rc == GP_OK && is_png(path, 960, 600),
	   "success replaces the old file with the plot");
	snprintf(path, sizeof path, "%s/adir.png", dir);
	mkdir(path, 0755);
	names[nn++] = "adir.png";
	rc = plot_render(g, &tf, "plot x", NULL, err, sizeof err);
	struct stat st;
	ok(rc == GP_EIO && !strncmp(err, path, strlen(path)) &&
		   stat(path, &st) == 0 && S_ISDIR(st.st_mode),
	   "a rename that fails keeps what was there: %s", err);
	ok(only_files(dir, names, nn), "and removes its temporary file");
	snprintf(path, sizeof path, "%s/no/such/dir/x.png", dir);
	rc = plot_render(g, &tf, "plot x", NULL, err, sizeof err);
	ok(rc == GP_EIO && strstr(err, "x.png") && strstr(err, "No such file"),
	   "a missing directory: %s", err);
	snprintf(path, sizeof path, "%s/x.jpg", dir);
	rc = plot_render(g, &tf, "plot x", NULL, err, sizeof err);
	ok(rc == GP_EINVAL && strstr(err, "x.jpg") && strstr(err, ".png"),
	   "unknown extension: %s", err);
	ok(only_files(dir, names, nn), "still no stray files");
	/* a relative path is resolved in our working directory */
	char cwd[4096];
	ok(getcwd(cwd, sizeof cwd) && chdir(dir) == 0, "chdir into %s", dir);
	tf.path = "rel.svg";
	rc = plot_render(g, &tf, "plot x", NULL, err, sizeof err);
	ok(rc == GP_OK && is_svg("rel.svg"), "relative path rel.svg");
	ok(chdir(cwd) == 0, "back");
	names[nn++] = "rel.svg";
	tf.path = path;

	/* a long body goes through a script file in TMPDIR, removed after */
	char abs[4096 + 80];
	snprintf(abs, sizeof abs, "%s/%s", cwd, dir);
	setenv("TMPDIR", abs, 1);
	size_t bodycap = 200000, bo = 0;
	char *body = malloc(bodycap);
	bo += (size_t)snprintf(body + bo, bodycap - bo, "$d << EOD\n");
	for (int i = 0; i < 5000; i++)
		bo += (size_t)snprintf(body + bo, bodycap - bo, "%d %d\n", i,
				       i % 17);
	snprintf(body + bo, bodycap - bo,
		 "EOD\nset key below\nplot $d using 1:2 with lines title "
		 "'long body'\n");
	rc = plot_render(g, &tt, body, &text, err, sizeof err);
	ok(rc == GP_OK && text && strstr(text, "long body"),
	   "a %zu-byte body renders (%s)", strlen(body), rc ? err : "ok");
	free(text);
	text = NULL;
	ok(only_files(dir, names, nn), "and its script file is gone");
	strcat(body, "plot $d using 1:2 with nosuchstyle\n");
	rc = plot_render(g, &tt, body, &text, err, sizeof err);
	ok(rc == GP_ECMD && !text && strstr(err, "gnuplot: ") &&
		   strstr(err, "plot type") && !strchr(err, '\n'),
	   "an error in a long body is one line: %s", err);
	ok(only_files(dir, names, nn), "no script file after an error");
	unsetenv("TMPDIR");
	free(body);

	/* quoting and strings */
	h.title = "two\nlines";
	text = NULL;
	rc = plot_hist(g, &tt, &h, &text, err, sizeof err);
	ok(rc == GP_EINVAL && !text && strstr(err, "title") &&
		   strstr(err, "newline"),
	   "a newline in a title is refused: %s", err);
	h.title = "a@b 'q' \"dq\" \\n $x";
	rc = plot_hist(g, &tt, &h, &text, err, sizeof err);
	ok(rc == GP_OK && text && strstr(text, "a@b 'q' \"dq\" \\n $x"),
	   "title characters are literal");
	free(text);
	text = NULL;
	h.title = "form\ffeed \033[31mred";
	rc = plot_hist(g, &tt, &h, &text, err, sizeof err);
	ok(rc == GP_OK && text && strstr(text, "form feed  [31mred") &&
		   !strchr(text, '\f') && !strchr(text, '\033'),
	   "control characters in a title are blanked");
	free(text);
	text = NULL;
	h.title = NULL;

	/* non-finite values are skipped */
	c[3] = NAN;
	c[4] = INFINITY;
	grid[0] = NAN;
	rc = plot_hist(g, &tt, &h, &text, err, sizeof err);
	ok(rc == GP_OK && text, "NaN and inf counts are skipped (%s)",
	   rc ? err : "ok");
	free(text);
	text = NULL;

	/* argument checks (nothing reaches gnuplot) */
	plot_hist_data bad = h;
	bad.nbins = 0;
	ok(plot_hist(g, &tt, &bad, &text, err, sizeof err) == GP_EINVAL,
	   "no bins: %s", err);
	bad = h;
	double de[3] = {0, 2, 1}, dc[2] = {1, 1};
	bad.edges = de;
	bad.counts = dc;
	bad.nbins = 2;
	bad.grid = NULL;
	ok(plot_hist(g, &tt, &bad, &text, err, sizeof err) == GP_EINVAL &&
		   strstr(err, "ascending"),
	   "descending edges: %s", err);
	bad = h;
	bad.clip_lo = 3;
	bad.clip_hi = 2;
	ok(plot_hist(g, &tt, &bad, &text, err, sizeof err) == GP_EINVAL,
	   "lo > hi: %s", err);
	plot_target small = {.mode = PLOT_TEXT, .width = 5, .height = 3};
	ok(plot_hist(g, &small, &h, &text, err, sizeof err) == GP_EINVAL &&
		   strstr(err, "5x3"),
	   "tiny text size: %s", err);
	plot_target badmode = {.mode = (plot_mode)42};
	ok(plot_hist(g, &badmode, &h, &text, err, sizeof err) == GP_EINVAL,
	   "unknown mode: %s", err);
	plot_target nopath = {.mode = PLOT_FILE};
	ok(plot_hist(g, &nopath, &h, &text, err, sizeof err) == GP_EINVAL,
	   "file without a path: %s", err);
	ok(text == NULL, "*text untouched by failures");

	/* sweep: SQNR vs bits per method */
	const char *meth[] = {"minmax", "percentile", "mse"};
	double sx[21], sy[21];
	const char *ss[21];
	int k = 0;
	for (int b = 2; b <= 8; b++)
		for (int m = 0; m < 3; m++, k++) {
			sx[k] = b;
			sy[k] = 6.02 * b - 6 + 2.0 * m;
			ss[k] = meth[(m + b) % 3 == 0 ? 0 : m];
		}
	sy[5] = NAN;
	plot_sweep_data sw = {.x = sx,
			      .y = sy,
			      .series = ss,
			      .n = 21,
			      .title = "SQNR vs bits",
			      .xlabel = "bits",
			      .ylabel = "SQNR (dB)"};
	rc = plot_sweep(g, &tt, &sw, &text, err, sizeof err);
	ok(rc == GP_OK && text && strstr(text, "minmax") &&
		   strstr(text, "percentile") && strstr(text, "mse") &&
		   strstr(text, "SQNR (dB)") && strstr(text, "bits"),
	   "sweep text: three series, labels (%s)", rc ? err : "ok");
	int cm = column_of(text ? text : "", "minmax", &krow);
	int rm = krow, cp = column_of(text ? text : "", "percentile", &krow);
	ok(cm >= 0 && cp >= 0 && (krow > rm || (krow == rm && cp > cm)),
	   "series keep their first-appearance order in the key");
	free(text);
	text = NULL;
	snprintf(path, sizeof path, "%s/sweep.png", dir);
	rc = plot_sweep(g, &tf, &sw, NULL, err, sizeof err);
	ok(rc == GP_OK && is_png(path, 960, 600), "sweep.png");
	keep("sweep.png");
	sw.log_y = 1; /* y <= 0 rows are dropped */
	rc = plot_sweep(g, &tt, &sw, &text, err, sizeof err);
	ok(rc == GP_OK, "log y with non-positive rows (%s)", rc ? err : "ok");
	free(text);
	text = NULL;
	sw.log_y = 0;
	for (int i = 0; i < 21; i++)
		sy[i] = NAN;
	ok(plot_sweep(g, &tt, &sw, &text, err, sizeof err) == GP_EINVAL &&
		   strstr(err, "finite"),
	   "all-NaN sweep: %s", err);
	sw.series = NULL;
	sy[0] = 1;
	sy[1] = 2;
	rc = plot_sweep(g, &tt, &sw, &text, err, sizeof err);
	ok(rc == GP_OK && text && !strstr(text, "$qs"),
	   "one unnamed series has no key entry");
	free(text);
	text = NULL;

	/* channels: AIMET-style ranges and SQNR */
	enum { NC = 48 };
	double mn[NC], mx[NC], me[NC], sq[NC];
	for (int i = 0; i < NC; i++) {
		double w = 0.2 + 0.8 * fabs(sin(i * 0.7)) + (i == 17 ? 3 : 0);
		mn[i] = -w * (0.8 + 0.2 * cos(i));
		mx[i] = w;
		me[i] = 0.05 * sin(i * 1.3);
		sq[i] = 40 - 8 * log2(w / 0.2);
	}
	sq[5] = INFINITY;
	plot_channels_data ch = {.min = mn,
				 .max = mx,
				 .mean = me,
				 .sqnr = sq,
				 .n = NC,
				 .clip = 1,
				 .clip_lo = -3.8,
				 .clip_hi = 3.8,
				 .title = "conv1.weight"};
	plot_target tw = {.mode = PLOT_TEXT, .width = 100, .height = 30};
	rc = plot_channels(g, &tw, &ch, &text, err, sizeof err);
	ok(rc == GP_OK && text && strstr(text, "min..max") &&
		   strstr(text, "mean") &&
		   strstr(text, "SQNR (dB, right; 1 exact)") &&
		   strstr(text, "clipping range [-3.8, 3.8]") &&
		   strstr(text, "channel"),
	   "channels text: legend and labels (%s)", rc ? err : "ok");
	free(text);
	text = NULL;
	snprintf(path, sizeof path, "%s/channels.png", dir);
	rc = plot_channels(g, &tf, &ch, NULL, err, sizeof err);
	ok(rc == GP_OK && is_png(path, 960, 600), "channels.png");
	keep("channels.png");
	enum { NC2 = 1024 };
	double *mn2 = malloc(NC2 * sizeof *mn2),
	       *mx2 = malloc(NC2 * sizeof *mx2);
	for (int i = 0; i < NC2; i++) {
		mx2[i] = 0.5 + 0.3 * sin(i * 0.05);
		mn2[i] = -mx2[i] * 0.9;
	}
	plot_channels_data ch2 = {
		.min = mn2, .max = mx2, .n = NC2, .title = "1024 channels"};
	snprintf(path, sizeof path, "%s/channels_many.png", dir);
	rc = plot_channels(g, &tf, &ch2, NULL, err, sizeof err);
	ok(rc == GP_OK && is_png(path, 960, 600), "1024 channels as a band");
	keep("channels_many.png");
	free(mn2);
	free(mx2);

	/* transfer: an int4 staircase */
	enum { NT = 1201 };
	static double tx[NT], ty[NT];
	double sc = 1.0 / 7;
	for (int i = 0; i < NT; i++) {
		double x = -1.5 + 3.0 * i / (NT - 1), q = nearbyint(x / sc);
		q = q < -8 ? -8 : q > 7 ? 7 : q;
		tx[i] = x;
		ty[i] = q * sc;
	}
	plot_transfer_data tr = {.x = tx,
				 .y = ty,
				 .n = NT,
				 .clip = 1,
				 .clip_lo = -8 * sc,
				 .clip_hi = 7 * sc,
				 .title = "int4, scale 1/7"};
	rc = plot_transfer(g, &tt, &tr, &text, err, sizeof err);
	ok(rc == GP_OK && text && strstr(text, "y = x") &&
		   strstr(text, "quantize, dequantize") &&
		   strstr(text, "clipping range [-1.143, 1]") &&
		   strstr(text, "input") && strstr(text, "dequantized output"),
	   "transfer text (%s)", rc ? err : "ok");
	free(text);
	text = NULL;
	snprintf(path, sizeof path, "%s/transfer.png", dir);
	rc = plot_transfer(g, &tf, &tr, NULL, err, sizeof err);
	ok(rc == GP_OK && is_png(path, 960, 600), "transfer.png");
	keep("transfer.png");
	tr.n = 1;
	ok(plot_transfer(g, &tt, &tr, &text, err, sizeof err) == GP_EINVAL,
	   "one point is not a transfer function: %s", err);

	/* plot_render for user scripts; a death in between is survived */
	kill((pid_t)gp_pid(g), 9);
	struct timespec ms50 = {0, 50 * 1000 * 1000};
	nanosleep(&ms50, NULL);
	rc = plot_render(g, &tt, "set key below\nplot sin(x) title 'sine'",
			 &text, err, sizeof err);
	ok(rc == GP_OK && text && strstr(text, "sine"),
	   "plot_render after gnuplot was killed (%s)", rc ? err : "ok");
	free(text);

	/* clean up */
	DIR *dp = opendir(dir);
	for (struct dirent *de; dp && (de = readdir(dp));) {
		char f[512];
		snprintf(f, sizeof f, "%s/%s", dir, de->d_name);
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			if (unlink(f) < 0)
				rmdir(f);
	}
	if (dp)
		closedir(dp);
	ok(rmdir(dir) == 0, "scratch directory removed");
	gp_free(g);
	return tap_done();
}
