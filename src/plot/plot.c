/* plot: figures as gnuplot scripts built from plain arrays (see plot.h).
 * libc + POSIX only; talks to gnuplot through gp.h.
 *
 * Each figure writes its data as datablocks and its settings and plot
 * command into a script body; plot_render() puts the terminal and output
 * around it, sends it, and turns the answer into text or a file. */
#include "config.h"
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "plot/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- script buffer ---------------------------------------------------- */

/* A growing script; the first failure (out of memory, a newline in a
 * string) sticks in rc/msg and later appends are ignored. */
typedef struct sbuf {
	char *p;
	size_t len, cap;
	int rc;
	char msg[200];
} sbuf;

static void sb_fail(sbuf *b, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sb_fail(sbuf *b, int rc, const char *fmt, ...)
{
	if (b->rc)
		return;
	b->rc = rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->msg, sizeof b->msg, fmt, ap);
	va_end(ap);
}

static void sb_add(sbuf *b, const char *s, size_t n)
{
	if (b->rc)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			sb_fail(b, GP_ENOMEM, "plot: out of memory");
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		sb_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		sb_fail(b, GP_ENOMEM, "plot: out of memory");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_add(b, big, (size_t)n);
	free(big);
}

/* Append s as a gnuplot single-quoted string; `what` names it in the
 * error when it holds a newline. */
static void sb_quote(sbuf *b, const char *s, const char *what)
{
	char *q = gp_quote(s ? s : "");
	if (!q) {
		if (errno == EINVAL)
			sb_fail(b, GP_EINVAL,
				"plot: %s contains a newline: use one line",
				what);
		else
			sb_fail(b, GP_ENOMEM, "plot: out of memory");
		return;
	}
	sb_puts(b, q);
	free(q);
}

/* Append a title or label: quoted, with other control characters (a
 * form feed, an escape) blanked, since they would reach the terminal or
 * end the dumb terminal's text early. */
static void sb_label(sbuf *b, const char *s, const char *what)
{
	char *c = strdup(s ? s : "");
	if (!c) {
		sb_fail(b, GP_ENOMEM, "plot: out of memory");
		return;
	}
	for (unsigned char *p = (unsigned char *)c; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\r') || *p == 0x7f)
			*p = ' ';
	sb_quote(b, c, what);
	free(c);
}

/* The locale's decimal point, for numbers written with printf. */
static char decimal_point(void)
{
	const struct lconv *lc = localeconv();
	return lc && lc->decimal_point && lc->decimal_point[0]
		       ? lc->decimal_point[0]
		       : '.';
}

/* v with %.9g (or fmt) and a '.' whatever LC_NUMERIC says. */
static const char *num(char buf[40], const char *fmt, double v)
{
	snprintf(buf, 40, fmt, v);
	char dp = decimal_point();
	if (dp != '.')
		for (char *c = buf; *c; c++)
			if (*c == dp)
				*c = '.';
	return buf;
}

/* Append the numbers of one datablock row, separated by spaces. */
static void sb_row(sbuf *b, int n, const double *v)
{
	char t[40];
	for (int i = 0; i < n; i++) {
		if (i)
			sb_add(b, " ", 1);
		sb_puts(b, num(t, "%.9g", v[i]));
	}
	sb_add(b, "\n", 1);
}

static int finite_all(int n, const double *v)
{
	for (int i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

/* ---- figure context --------------------------------------------------- */

typedef struct fig {
	sbuf sb;
	const plot_target *t;
	int text;   /* dumb terminal (TEXT or ANSI) */
	int width;  /* columns or pixels */
	int height; /* rows or pixels */
} fig;

/* Colours: muted for images; for ANSI text, ones that map cleanly onto the
 * eight terminal colours. */
enum { C_MAIN, C_CLIPPED, C_CLIP, C_GRID, C_REF, C_SECOND, C_BAND, C_N };
static const char *const img_colour[C_N] = {"#4c72b0", "#dd8452", "#c44e52",
					    "#303030", "#7f7f7f", "#dd8452",
					    "#b5cbe8"};
static const char *const ansi_colour[C_N] = {"#0000ff", "#ffff00", "#ff0000",
					     "#00ff00", "#ffffff", "#ff00ff",
					     "#00ffff"};
static const char *const img_series[] = {
	"#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3",
	"#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"};
static const char *const ansi_series[] = {"#0000ff", "#ff0000", "#00ff00",
					  "#ff00ff", "#00ffff", "#ffff00"};

static const char *colour(const fig *f, int c)
{
	return f->t->mode == PLOT_ANSI ? ansi_colour[c] : img_colour[c];
}

static const char *series_colour(const fig *f, size_t k)
{
	if (f->t->mode == PLOT_ANSI)
		return ansi_series[k %
				   (sizeof ansi_series / sizeof *ansi_series)];
	return img_series[k % (sizeof img_series / sizeof *img_series)];
}

static void fig_init(fig *f, const plot_target *t)
{
	memset(f, 0, sizeof *f);
	f->t = t;
	f->text = t->mode == PLOT_TEXT || t->mode == PLOT_ANSI;
	f->width = t->width > 0 ? t->width : f->text ? 80 : 960;
	f->height = t->height > 0 ? t->height : f->text ? 24 : 600;
}

/* Settings shared by the figures: title, axis labels, key, borders, grid.
 * The dumb terminal writes a y label sideways into the tic labels' rows,
 * so text puts the y labels in a row of their own above the plot. */
static void fig_common(fig *f, const char *title, const char *xlabel,
		       const char *ylabel, const char *y2label)
{
	sbuf *b = &f->sb;
	int yl = ylabel && *ylabel, y2l = y2label && *y2label;
	if (title && *title) {
		sb_puts(b, "set title ");
		sb_label(b, title, "the title");
		sb_puts(b, f->text ? (yl || y2l ? " offset 0,1\n" : "\n")
				   : " font ',12'\n");
	}
	if (xlabel && *xlabel) {
		sb_puts(b, "set xlabel ");
		sb_label(b, xlabel, "the x label");
		sb_puts(b, "\n");
	}
	if (f->text && (yl || y2l)) {
		sb_printf(b, "set tmargin %d\n", title && *title ? 4 : 2);
		if (yl) {
			sb_puts(b, "set label 101 ");
			sb_label(b, ylabel, "the y label");
			sb_puts(b, " at screen 0, graph 1 left offset 1,1\n");
		}
		if (y2l) {
			sb_puts(b, "set label 102 ");
			sb_label(b, y2label, "the y2 label");
			sb_puts(b, " at screen 1, graph 1 right offset -1,1\n");
		}
	} else {
		if (yl) {
			sb_puts(b, "set ylabel ");
			sb_label(b, ylabel, "the y label");
			sb_puts(b, "\n");
		}
		if (y2l) {
			sb_puts(b, "set y2label ");
			sb_label(b, y2label, "the y2 label");
			sb_puts(b, "\n");
		}
	}
	sb_puts(b, "set border 3 back\nset tics nomirror\n");
	sb_puts(b, "set key below center horizontal Left reverse\n");
	if (!f->text)
		sb_puts(b, "set border lc rgb '#404040'\n"
			   "set grid xtics ytics back lc rgb '#e5e5e5' lw 1 "
			   "dt solid\n"
			   "set key spacing 1.2 samplen 2.5\n");
}

/* "every 3rd", "every 12th", ... */
static const char *ordinal(size_t k)
{
	if (k % 100 >= 11 && k % 100 <= 13)
		return "th";
	switch (k % 10) {
	case 1:
		return "st";
	case 2:
		return "nd";
	case 3:
		return "rd";
	default:
		return "th";
	}
}

/* A count for a legend: whole numbers without decimals. */
static const char *count_str(char buf[40], double v)
{
	if (fabs(v) < 1e15 && v == floor(v))
		return num(buf, "%.0f", v);
	if (fabs(v) < 1e6)
		return num(buf, "%.1f", v);
	return num(buf, "%.4g", v);
}

/* ---- rendering -------------------------------------------------------- */

static int fail(char *err, size_t n, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t n, int code, const char *fmt, ...)
{
	if (err && n) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
		for (char *c = err; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' ';
	}
	return code;
}

/* Case-insensitive "does path end in ext". */
static int has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), k = strlen(ext);
	if (n <= k)
		return 0;
	for (size_t i = 0; i < k; i++) {
		char c = path[n - k + i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != ext[i])
			return 0;
	}
	return 1;
}

/* Create an empty temporary file next to path (same directory, so the
 * rename is atomic), with the permissions a new file gets (0666 less the
 * umask).  The name is absolute, since gnuplot resolves it in its own
 * working directory.  Returns a malloc'd name or NULL with errno. */
static char *make_temp(const char *path)
{
	static unsigned long counter;
	char cwd[4096] = "";
	if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
		return NULL;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	/* the directory part including its final '/', or "" */
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	size_t cap = strlen(cwd) + dirlen + strlen(base) + 40;
	char *tmp = malloc(cap);
	if (!tmp)
		return NULL;
	for (int attempt = 0; attempt < 100; attempt++) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long r = ((unsigned long)ts.tv_nsec ^
				   ((unsigned long)getpid() << 12) ^
				   (++counter * 2654435761UL)) &
				  0xffffffffUL;
		snprintf(tmp, cap, "%s%s%.*s.%s.%08lx.tmp", cwd,
			 cwd[0] ? "/" : "", (int)dirlen, path, base, r);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			      0666);
		if (fd >= 0) {
			close(fd);
			return tmp;
		}
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	free(tmp);
	errno = e;
	return NULL;
}

/* The terminal line for t, or an error. */
static int terminal_cmd(gp_session *g, const fig *f, sbuf *s, char *err,
			size_t n)
{
	const plot_target *t = f->t;
	int w = f->width, h = f->height;
	switch (t->mode) {
	case PLOT_TEXT:
	case PLOT_ANSI:
		sb_printf(s,
			  "set terminal dumb size %d,%d feed noenhanced %s\n",
			  w, h, t->mode == PLOT_ANSI ? "ansi" : "mono");
		return GP_OK;
	case PLOT_FILE:
		if (has_ext(t->path, ".png")) {
			if (gp_has_terminal(g, "pngcairo"))
				sb_printf(s,
					  "set terminal pngcairo size %d,%d "
					  "noenhanced font 'Sans,10' "
					  "background '#ffffff'\n",
					  w, h);
			else if (gp_has_terminal(g, "png"))
				sb_printf(s,
					  "set terminal png size %d,%d "
					  "noenhanced truecolor\n",
					  w, h);
			else
				return fail(err, n, GP_ETERM,
					    "%s: this gnuplot has neither the "
					    "pngcairo nor the png terminal",
					    t->path);
		} else if (has_ext(t->path, ".svg")) {
			if (!gp_has_terminal(g, "svg"))
				return fail(err, n, GP_ETERM,
					    "%s: this gnuplot has no svg "
					    "terminal",
					    t->path);
			sb_printf(s,
				  "set terminal svg size %d,%d noenhanced "
				  "font 'Sans,10' background '#ffffff'\n",
				  w, h);
		} else if (has_ext(t->path, ".pdf")) {
			if (!gp_has_terminal(g, "pdfcairo"))
				return fail(
					err, n, GP_ETERM,
					"%s: pdf needs gnuplot's pdfcairo "
					"terminal, which this gnuplot lacks",
					t->path);
			/* inches at 96 pixels per inch, so fonts look alike */
			char a[40], b[40];
			sb_printf(s,
				  "set terminal pdfcairo size %sin,%sin "
				  "noenhanced font 'Sans,8'\n",
				  num(a, "%.3g", w / 96.0),
				  num(b, "%.3g", h / 96.0));
		} else {
			return fail(
				err, n, GP_EINVAL,
				"%s: unknown plot file type: use .png, .svg "
				"or .pdf",
				t->path);
		}
		return GP_OK;
	case PLOT_SIXEL:
		if (!gp_has_terminal(g, "sixelgd"))
			return fail(err, n, GP_ETERM,
				    "this gnuplot has no sixelgd terminal "
				    "(Debian's gnuplot-nox has it)");
		sb_printf(
			s,
			"set terminal sixelgd size %d,%d truecolor noenhanced "
			"font 'Sans,9'\n",
			w, h);
		return GP_OK;
	case PLOT_WINDOW: {
		const char *disp = getenv("DISPLAY");
		const char *way = getenv("WAYLAND_DISPLAY");
		if (!(disp && *disp) && !(way && *way))
			return fail(err, n, GP_ETERM,
				    "no display for a plot window (DISPLAY and "
				    "WAYLAND_DISPLAY are unset)");
		static const char *const win[] = {"qt", "wxt", "x11"};
		for (size_t i = 0; i < 3; i++)
			if (gp_has_terminal(g, win[i])) {
				sb_printf(s,
					  "set terminal %s persist size %d,%d "
					  "noenhanced\n",
					  win[i], w, h);
				return GP_OK;
			}
		return fail(
			err, n, GP_ETERM,
			"this gnuplot has no window terminal (qt, wxt, x11): "
			"install the Debian package gnuplot-qt");
	}
	}
	return fail(err, n, GP_EINVAL, "plot: unknown output mode %d",
		    (int)t->mode);
}

/* Check the target's fields before anything runs. */
static int check_target(const plot_target *t, const fig *f, char *err, size_t n)
{
	if (!t)
		return fail(err, n, GP_EINVAL, "plot: no target");
	if ((unsigned)t->mode > PLOT_WINDOW)
		return fail(err, n, GP_EINVAL, "plot: unknown output mode %d",
			    (int)t->mode);
	if (t->mode == PLOT_FILE && (!t->path || !*t->path))
		return fail(err, n, GP_EINVAL,
			    "plot: a file target needs a path");
	if (t->mode == PLOT_FILE && strpbrk(t->path, "\n\r"))
		return fail(err, n, GP_EINVAL,
			    "plot: the file name contains a newline");
	if (f->text && (f->width < 20 || f->width > 2000 || f->height < 8 ||
			f->height > 1000))
		return fail(err, n, GP_EINVAL,
			    "plot: text size %dx%d out of range (20..2000 "
			    "columns, 8..1000 rows)",
			    f->width, f->height);
	if (!f->text && (f->width < 64 || f->width > 20000 || f->height < 48 ||
			 f->height > 20000))
		return fail(err, n, GP_EINVAL,
			    "plot: image size %dx%d out of range (64..20000 by "
			    "48..20000 pixels)",
			    f->width, f->height);
	return GP_OK;
}

/* Copy [s, s+len) into a new string. */
static char *dup_range(const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Take the plot out of the transcript: text after the dumb terminal's
 * form feed, or the sixel sequence. */
static char *extract(const gp_session *g, plot_mode mode, int *found)
{
	size_t len;
	const char *t = gp_output(g, &len);
	*found = 0;
	if (mode == PLOT_SIXEL) {
		const char *a = NULL, *z = NULL;
		for (size_t i = 0; i + 1 < len; i++) {
			if (t[i] == '\033' && t[i + 1] == 'P' && !a)
				a = t + i;
			if (t[i] == '\033' && t[i + 1] == '\\')
				z = t + i + 2;
		}
		if (!a || !z || z <= a)
			return NULL;
		*found = 1;
		return dup_range(a, (size_t)(z - a));
	}
	const char *ff = NULL;
	for (size_t i = len; i-- > 0;)
		if (t[i] == '\f') {
			ff = t + i;
			break;
		}
	if (!ff)
		return NULL;
	*found = 1;
	return dup_range(ff + 1, len - (size_t)(ff + 1 - t));
}

/* Bodies longer than this are loaded from a temporary file (measured:
 * 1024 histogram bins take 17 ms through the pipe, 2 ms loaded). */
#define LOAD_THRESHOLD 4096

/* Write body into a new temporary script file (TMPDIR or /tmp); its
 * malloc'd name, or NULL (then the body goes down the pipe). */
static char *write_script(const char *body)
{
	const char *td = getenv("TMPDIR");
	if (!td || td[0] != '/' || strpbrk(td, "\n\r"))
		td = "/tmp";
	size_t k = strlen(td) + 32;
	char *name = malloc(k);
	if (!name)
		return NULL;
	snprintf(name, k, "%s/qscope-plot-XXXXXX", td);
	int fd = mkstemp(name);
	if (fd < 0) {
		free(name);
		return NULL;
	}
	size_t len = strlen(body), off = 0;
	while (off < len) {
		ssize_t w = write(fd, body + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (close(fd) < 0 || off < len) {
		unlink(name);
		free(name);
		return NULL;
	}
	return name;
}

/* Render body with the figure's target; the shared back end. */
static int render(gp_session *g, fig *f, const char *body, char **text,
		  char *err, size_t n)
{
	const plot_target *t = f->t;
	int rc = check_target(t, f, err, n);
	if (rc)
		return rc;
	if (!g)
		return fail(err, n, GP_EINVAL, "plot: no gnuplot session");
	rc = gp_start(g, err, n);
	if (rc)
		return rc;
	sbuf s = {0};
	sb_puts(&s, "unset output\nreset\nundefine $*\n");
	rc = terminal_cmd(g, f, &s, err, n);
	if (rc) {
		free(s.p);
		return rc;
	}
	char *tmp = NULL, *script = NULL;
	if (t->mode == PLOT_FILE) {
		tmp = make_temp(t->path);
		if (!tmp) {
			int e = errno;
			free(s.p);
			return fail(err, n, GP_EIO,
				    "%s: cannot create a temporary file next "
				    "to it: %s",
				    t->path, strerror(e));
		}
		sb_puts(&s, "set output ");
		sb_quote(&s, tmp, "the file name");
		sb_puts(&s, "\n");
	} else {
		sb_puts(&s, "set output\n"); /* standard output: the pipe */
	}
	sb_puts(&s, "set encoding utf8\n");
	/* gnuplot reads a pipe one byte per read(): about 10 us a line.  A
	 * large body goes through a file it reads with stdio instead. */
	if (strlen(body) > LOAD_THRESHOLD)
		script = write_script(body);
	if (script) {
		sb_puts(&s, "load ");
		sb_quote(&s, script, "the script file name");
		sb_puts(&s, "\n");
	} else {
		sb_puts(&s, body);
		if (s.len && s.p[s.len - 1] != '\n')
			sb_puts(&s, "\n");
	}
	/* closes the file (complete before the marker) */
	sb_puts(&s, t->mode == PLOT_FILE ? "unset output\n" : "");
	if (s.rc) {
		rc = fail(err, n, s.rc, "%s", s.msg);
		goto out;
	}
	rc = gp_cmd(g, s.p, err, n);
	if (rc) {
		if (t->mode == PLOT_FILE) {
			/* gnuplot's message, naming the file it was for */
			char msg[400];
			snprintf(msg, sizeof msg, "%s", err && n ? err : "");
			fail(err, n, rc, "%s: %s", t->path, msg);
		}
		goto out;
	}
	if (t->mode == PLOT_FILE) {
		struct stat st;
		if (stat(tmp, &st) < 0 || st.st_size == 0) {
			rc = fail(err, n, GP_EIO,
				  "%s: gnuplot wrote nothing (%s)", t->path,
				  gp_messages(g)[0] ? gp_messages(g)
						    : "no message");
			goto out;
		}
		if (rename(tmp, t->path) < 0) {
			int e = errno;
			rc = fail(err, n, GP_EIO, "%s: cannot replace it: %s",
				  t->path, strerror(e));
			goto out;
		}
		free(tmp);
		tmp = NULL;
		if (text)
			*text = NULL;
	} else if (t->mode == PLOT_WINDOW) {
		if (text)
			*text = NULL;
	} else {
		int found;
		char *p = extract(g, t->mode, &found);
		if (!p) {
			rc = found ? fail(err, n, GP_ENOMEM,
					  "plot: out of memory")
				   : fail(err, n, GP_ECMD,
					  "gnuplot produced no plot%s%s",
					  gp_messages(g)[0] ? ": " : "",
					  gp_messages(g));
			goto out;
		}
		if (text)
			*text = p;
		else
			free(p);
	}
out:
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	if (script) {
		unlink(script);
		free(script);
	}
	free(s.p);
	return rc;
}

int plot_render(gp_session *g, const plot_target *t, const char *body,
		char **text, char *err, size_t errlen)
{
	if (!t || !body)
		return fail(err, errlen, GP_EINVAL,
			    "plot: no target or no script");
	fig f;
	fig_init(&f, t);
	return render(g, &f, body, text, err, errlen);
}

/* Finish a figure: render its body, free it. */
static int fig_render(gp_session *g, fig *f, char **text, char *err, size_t n)
{
	int rc;
	if (f->sb.rc)
		rc = fail(err, n, f->sb.rc, "%s", f->sb.msg);
	else
		rc = render(g, f, f->sb.p ? f->sb.p : "", text, err, n);
	free(f->sb.p);
	f->sb.p = NULL;
	return rc;
}

/* ---- histogram -------------------------------------------------------- */

/* A round tic step near x: 1, 2 or 5 times a power of ten. */
static double nice_step(double x)
{
	if (!(x > 0) || !isfinite(x))
		return 1;
	double p = pow(10, floor(log10(x)));
	double m = x / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Vertical markers at lo and hi over the whole height (axis y2 is [0:1]),
 * as one datablock so they share one legend entry. */
static void clip_block(sbuf *b, double lo, double hi)
{
	double r[2];
	sb_puts(b, "$qs_clip << EOD\n");
	r[0] = lo, r[1] = 0;
	sb_row(b, 2, r);
	r[1] = 1;
	sb_row(b, 2, r);
	sb_puts(b, "\n\n");
	r[0] = hi, r[1] = 0;
	sb_row(b, 2, r);
	r[1] = 1;
	sb_row(b, 2, r);
	sb_puts(b, "EOD\n");
}

/* One box [a, b) of height c into the current datablock. */
static void box_row(sbuf *b, double a, double z, double c)
{
	double r[3] = {(a + z) / 2, c, z - a};
	if (z > a && finite_all(3, r))
		sb_row(b, 3, r);
}

int plot_hist(gp_session *g, const plot_target *t, const plot_hist_data *d,
	      char **text, char *err, size_t errlen)
{
	if (!t || !d || !d->edges || !d->counts || d->nbins == 0)
		return fail(
			err, errlen, GP_EINVAL,
			"plot_hist: need edges, counts and at least one bin");
	for (size_t i = 0; i < d->nbins; i++)
		if (!(d->edges[i] <= d->edges[i + 1]))
			return fail(err, errlen, GP_EINVAL,
				    "plot_hist: bin edges must be finite and "
				    "ascending (edge %zu)",
				    i);
	if (!isfinite(d->edges[0]) || !isfinite(d->edges[d->nbins]))
		return fail(err, errlen, GP_EINVAL,
			    "plot_hist: bin edges must be finite");
	int clip = d->clip;
	if (clip && !(isfinite(d->clip_lo) && isfinite(d->clip_hi) &&
		      d->clip_lo <= d->clip_hi))
		return fail(err, errlen, GP_EINVAL,
			    "plot_hist: clipping range [%g, %g] must be finite "
			    "with lo <= hi",
			    d->clip_lo, d->clip_hi);
	if (d->zoom &&
	    !(isfinite(d->xmin) && isfinite(d->xmax) && d->xmin < d->xmax))
		return fail(
			err, errlen, GP_EINVAL,
			"plot_hist: zoom range [%g, %g] must be finite with "
			"xmin < xmax",
			d->xmin, d->xmax);
	fig f;
	fig_init(&f, t);
	sbuf *b = &f.sb;
	double lo = d->clip_lo, hi = d->clip_hi;

	/* bars: inside the clipping range, and outside it (split bins) */
	double total = 0, below = 0, above = 0;
	size_t nin = 0, nout = 0;
	sb_puts(b, "$qs_in << EOD\n");
	for (size_t i = 0; i < d->nbins; i++) {
		double a = d->edges[i], z = d->edges[i + 1], c = d->counts[i];
		if (!isfinite(c) || c < 0)
			continue;
		total += c;
		if (d->log_y && c <= 0)
			continue;
		if (!clip) {
			box_row(b, a, z, c), nin++;
			continue;
		}
		double ia = a > lo ? a : lo, iz = z < hi ? z : hi;
		if (iz > ia)
			box_row(b, ia, iz, c), nin++;
	}
	sb_puts(b, "EOD\n$qs_out << EOD\n");
	if (clip) {
		for (size_t i = 0; i < d->nbins; i++) {
			double a = d->edges[i], z = d->edges[i + 1];
			double c = d->counts[i], w = z - a;
			if (!isfinite(c) || c <= 0)
				continue;
			if (a < lo) {
				double e = z < lo ? z : lo;
				below += w > 0 ? c * (e - a) / w : c;
				box_row(b, a, e, c), nout++;
			}
			if (z > hi) {
				double s = a > hi ? a : hi;
				above += w > 0 ? c * (z - s) / w : c;
				box_row(b, s, z, c), nout++;
			}
		}
		if (d->clip_counts) {
			below = d->below;
			above = d->above;
		}
	}
	sb_puts(b, "EOD\n");
	if (clip)
		clip_block(b, lo, hi);

	/* the visible x range */
	double vx0 = d->edges[0], vx1 = d->edges[d->nbins];
	if (clip) {
		vx0 = lo < vx0 ? lo : vx0;
		vx1 = hi > vx1 ? hi : vx1;
	}
	if (d->zoom) {
		vx0 = d->xmin;
		vx1 = d->xmax;
	} else {
		double r = vx1 - vx0;
		if (!(r > 0))
			r = fabs(vx0) > 0 ? fabs(vx0) : 1;
		vx0 -= 0.02 * r;
		vx1 += 0.02 * r;
	}

	/* quantization grid: visible levels, thinned to the width */
	size_t nvis = 0, stride = 1, shown = 0;
	double strip = 0; /* share of the height below zero for the ticks */
	if (d->grid && d->ngrid) {
		double *v = malloc(d->ngrid * sizeof *v);
		if (!v) {
			free(b->p);
			return fail(err, errlen, GP_ENOMEM,
				    "plot: out of memory");
		}
		for (size_t i = 0; i < d->ngrid; i++)
			if (isfinite(d->grid[i]) && d->grid[i] >= vx0 &&
			    d->grid[i] <= vx1)
				v[nvis++] = d->grid[i];
		qsort(v, nvis, sizeof *v, cmp_double);
		/* room: one tick per 2 columns or 3 pixels of the span the
		 * visible levels cover */
		double span = nvis > 1 ? (v[nvis - 1] - v[0]) / (vx1 - vx0) : 0;
		double plotw = f.text ? (f.width > 24 ? f.width - 14 : 10)
				      : f.width * 0.85;
		size_t room = (size_t)(span * plotw / (f.text ? 2 : 3));
		if (room < 2)
			room = 2;
		if (nvis > room)
			stride = (nvis + room - 1) / room;
		size_t z = 0; /* keep the level nearest zero */
		for (size_t i = 1; i < nvis; i++)
			if (fabs(v[i]) < fabs(v[z]))
				z = i;
		/* linear counts: the ticks stand in a strip below zero; log
		 * counts: over the bars' feet */
		strip = d->log_y ? 0
			: f.text ? 1.2 / (f.height > 14 ? f.height - 10 : 4)
				 : 0.05;
		double h =
			d->log_y
				? (f.text ? 1.2 / (f.height > 14 ? f.height - 10
								 : 4)
					  : 0.035)
				: strip * (f.text ? 0.25 : 0.7);
		if (h > 0.2)
			h = 0.2;
		sb_puts(b, "$qs_grid << EOD\n");
		for (size_t i = z % stride; i < nvis; i += stride) {
			double r[2] = {v[i], h};
			sb_row(b, 2, r);
			shown++;
		}
		sb_puts(b, "EOD\n");
		free(v);
	}

	fig_common(&f, d->title, d->xlabel ? d->xlabel : "value",
		   d->log_y ? "count (log)" : "count", NULL);
	char n0[40], n1[40], n2[40];
	sb_printf(b, "set xrange [%s:%s]\n", num(n0, "%.9g", vx0),
		  num(n1, "%.9g", vx1));
	if (d->log_y) {
		sb_puts(b, "set logscale y\nset yrange [0.5:*]\n");
	} else if (strip > 0 && shown) {
		/* the tallest visible bar fixes the top, so the strip below
		 * zero has a known share of the height */
		double ymax = 0;
		for (size_t i = 0; i < d->nbins; i++)
			if (d->edges[i + 1] > vx0 && d->edges[i] < vx1 &&
			    isfinite(d->counts[i]) && d->counts[i] > ymax)
				ymax = d->counts[i];
		double top = ymax > 0 ? ymax * 1.05 : 1;
		double step = nice_step(top / (f.text ? 4 : 8));
		sb_printf(b, "set yrange [%s:%s]\nset ytics 0, %s\n",
			  num(n0, "%.9g", -strip * top / (1 - strip)),
			  num(n1, "%.9g", top), num(n2, "%.9g", step));
	} else {
		sb_puts(b, "set yrange [0:*]\n");
	}
	sb_puts(b, "set y2range [0:1]\nunset y2tics\n");
	sb_puts(b, f.text ? "set style fill empty\n"
			  : "set style fill solid 0.85 noborder\n");

	/* legend texts */
	char t_in[160], t_out[200] = "", t_clip[200] = "", t_grid[200] = "";
	snprintf(t_in, sizeof t_in, "histogram: %s values",
		 count_str(n0, total));
	if (clip) {
		snprintf(t_clip, sizeof t_clip, "clipping range [%s, %s]",
			 num(n0, "%.4g", lo), num(n1, "%.4g", hi));
		double cl = below + above;
		if (cl > 0) {
			double pct = total > 0 ? 100 * cl / total : 0;
			snprintf(t_out, sizeof t_out,
				 "clipped%s: %s below, %s above (%s%%)",
				 d->clip_counts ? "" : " (est.)",
				 count_str(n0, below), count_str(n1, above),
				 num(n2, pct >= 0.1 ? "%.2f" : "%.2g", pct));
		} else {
			size_t k = strlen(t_clip);
			snprintf(t_clip + k, sizeof t_clip - k,
				 ", nothing clipped");
		}
	}
	if (shown) {
		int m = snprintf(t_grid, sizeof t_grid, "grid: %zu levels",
				 d->ngrid);
		if (nvis != d->ngrid && m > 0)
			m += snprintf(t_grid + m, sizeof t_grid - (size_t)m,
				      ", %zu in view", nvis);
		if (stride > 1 && m > 0)
			snprintf(t_grid + m, sizeof t_grid - (size_t)m,
				 ", every %zu%s shown", stride,
				 ordinal(stride));
	}

	/* the plot command: bars, clipped bars, markers, grid ticks */
	int first = 1;
	sb_puts(b, "plot ");
	if (nin) {
		sb_printf(b, "$qs_in using 1:2:3 with boxes lc rgb '%s' title ",
			  colour(&f, C_MAIN));
		sb_label(b, t_in, "a legend");
		first = 0;
	}
	if (nout && t_out[0]) {
		sb_printf(b,
			  "%s$qs_out using 1:2:3 with boxes lc rgb '%s' title ",
			  first ? "" : ", \\\n  ", colour(&f, C_CLIPPED));
		sb_label(b, t_out, "a legend");
		first = 0;
	}
	if (clip) {
		sb_printf(b,
			  "%s$qs_clip using 1:2 axes x1y2 with lines dt 2 lw 2 "
			  "lc rgb '%s' title ",
			  first ? "" : ", \\\n  ", colour(&f, C_CLIP));
		sb_label(b, t_clip, "a legend");
		first = 0;
	}
	if (shown) {
		sb_printf(b,
			  "%s$qs_grid using 1:2 axes x1y2 with impulses lw 1 "
			  "lc rgb '%s' title ",
			  first ? "" : ", \\\n  ", colour(&f, C_GRID));
		sb_label(b, t_grid, "a legend");
		first = 0;
	}
	if (first) {
		free(b->p);
		return fail(err, errlen, GP_EINVAL,
			    "plot_hist: nothing to draw (no bars with finite, "
			    "positive counts)");
	}
	sb_puts(b, "\n");
	return fig_render(g, &f, text, err, errlen);
}

/* ---- sweep ------------------------------------------------------------ */

typedef struct srow {
	double x, y;
	size_t series; /* rank of first appearance */
	size_t order;
} srow;

static int cmp_srow(const void *a, const void *b)
{
	const srow *p = a, *q = b;
	if (p->series != q->series)
		return p->series < q->series ? -1 : 1;
	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return p->order < q->order ? -1 : p->order > q->order;
}

int plot_sweep(gp_session *g, const plot_target *t, const plot_sweep_data *d,
	       char **text, char *err, size_t errlen)
{
	if (!t || !d || !d->x || !d->y || d->n == 0)
		return fail(err, errlen, GP_EINVAL,
			    "plot_sweep: need x, y and at least one row");
	srow *r = malloc(d->n * sizeof *r);
	size_t *first_row = malloc(d->n * sizeof *first_row);
	if (!r || !first_row) {
		free(r);
		free(first_row);
		return fail(err, errlen, GP_ENOMEM, "plot: out of memory");
	}
	/* series rank by first appearance (quadratic in the number of
	 * distinct labels, which is small) */
	size_t nser = 0, nr = 0;
	for (size_t i = 0; i < d->n; i++) {
		const char *lab = d->series && d->series[i] ? d->series[i] : "";
		size_t k;
		for (k = 0; k < nser; k++) {
			const char *o = d->series && d->series[first_row[k]]
						? d->series[first_row[k]]
						: "";
			if (!strcmp(o, lab))
				break;
		}
		if (k == nser)
			first_row[nser++] = i;
		double x = d->x[i], y = d->y[i];
		if (!isfinite(x) || !isfinite(y) || (d->log_x && x <= 0) ||
		    (d->log_y && y <= 0))
			continue;
		r[nr++] = (srow){x, y, k, i};
	}
	if (nr == 0) {
		free(r);
		free(first_row);
		return fail(err, errlen, GP_EINVAL,
			    "plot_sweep: no row with finite x and y%s",
			    d->log_x || d->log_y ? " (> 0 on log axes)" : "");
	}
	qsort(r, nr, sizeof *r, cmp_srow);

	fig f;
	fig_init(&f, t);
	sbuf *b = &f.sb;
	/* one datablock per series that has rows */
	for (size_t i = 0; i < nr;) {
		size_t k = r[i].series;
		sb_printf(b, "$qs_s%zu << EOD\n", k);
		for (; i < nr && r[i].series == k; i++) {
			double v[2] = {r[i].x, r[i].y};
			sb_row(b, 2, v);
		}
		sb_puts(b, "EOD\n");
	}
	fig_common(&f, d->title, d->xlabel, d->ylabel, NULL);
	if (d->log_x)
		sb_puts(b, "set logscale x\n");
	if (d->log_y)
		sb_puts(b, "set logscale y\n");
	sb_puts(b,
		"set offsets graph 0.02, graph 0.02, graph 0.05, graph 0.05\n");
	sb_puts(b, "plot ");
	size_t drawn = 0;
	static const int pts[] = {7, 5, 9, 11, 13, 15};
	for (size_t i = 0; i < nr;) {
		size_t k = r[i].series;
		while (i < nr && r[i].series == k)
			i++;
		const char *lab = d->series && d->series[first_row[k]]
					  ? d->series[first_row[k]]
					  : "";
		if (f.text) /* dumb draws points as letters: lines only */
			sb_printf(b,
				  "%s$qs_s%zu using 1:2 with lines lc rgb '%s'",
				  drawn ? ", \\\n  " : "", k,
				  series_colour(&f, drawn));
		else
			sb_printf(b,
				  "%s$qs_s%zu using 1:2 with linespoints lw 2 "
				  "pt %d ps 0.9 lc rgb '%s'",
				  drawn ? ", \\\n  " : "", k, pts[drawn % 6],
				  series_colour(&f, drawn));
		if (*lab) {
			sb_puts(b, " title ");
			sb_label(b, lab, "a series label");
		} else {
			sb_puts(b, " notitle");
		}
		drawn++;
	}
	sb_puts(b, "\n");
	free(r);
	free(first_row);
	return fig_render(g, &f, text, err, errlen);
}

/* ---- channels --------------------------------------------------------- */

int plot_channels(gp_session *g, const plot_target *t,
		  const plot_channels_data *d, char **text, char *err,
		  size_t errlen)
{
	if (!t || !d || !d->min || !d->max || d->n == 0)
		return fail(err, errlen, GP_EINVAL,
			    "plot_channels: need min, max and at least one "
			    "channel");
	if (d->clip && !(isfinite(d->clip_lo) && isfinite(d->clip_hi) &&
			 d->clip_lo <= d->clip_hi))
		return fail(err, errlen, GP_EINVAL,
			    "plot_channels: clipping range [%g, %g] must be "
			    "finite with lo <= hi",
			    d->clip_lo, d->clip_hi);
	fig f;
	fig_init(&f, t);
	sbuf *b = &f.sb;
	size_t nr = 0, nm = 0, ns = 0, ninf = 0;
	sb_puts(b, "$qs_rng << EOD\n");
	for (size_t i = 0; i < d->n; i++) {
		double v[3] = {(double)i, d->min[i], d->max[i]};
		if (finite_all(3, v))
			sb_row(b, 3, v), nr++;
	}
	sb_puts(b, "EOD\n");
	if (d->mean) {
		sb_puts(b, "$qs_mean << EOD\n");
		for (size_t i = 0; i < d->n; i++) {
			double v[2] = {(double)i, d->mean[i]};
			if (finite_all(2, v))
				sb_row(b, 2, v), nm++;
		}
		sb_puts(b, "EOD\n");
	}
	if (d->sqnr) {
		sb_puts(b, "$qs_sqnr << EOD\n");
		for (size_t i = 0; i < d->n; i++) {
			double v[2] = {(double)i, d->sqnr[i]};
			if (finite_all(2, v))
				sb_row(b, 2, v), ns++;
			else if (isinf(d->sqnr[i]) && d->sqnr[i] > 0)
				ninf++;
		}
		sb_puts(b, "EOD\n");
	}
	if (nr == 0) {
		free(b->p);
		return fail(
			err, errlen, GP_EINVAL,
			"plot_channels: no channel with a finite min and max");
	}
	char n0[40], n1[40];
	if (d->clip) {
		double x0 = -0.5, x1 = (double)d->n - 0.5;
		double v[2];
		sb_puts(b, "$qs_cliph << EOD\n");
		v[0] = x0, v[1] = d->clip_lo;
		sb_row(b, 2, v);
		v[0] = x1;
		sb_row(b, 2, v);
		sb_puts(b, "\n\n");
		v[0] = x0, v[1] = d->clip_hi;
		sb_row(b, 2, v);
		v[0] = x1;
		sb_row(b, 2, v);
		sb_puts(b, "EOD\n");
	}
	fig_common(&f, d->title, d->xlabel ? d->xlabel : "channel", "value",
		   ns ? "SQNR (dB)" : NULL);
	sb_printf(b, "set xrange [%s:%s]\n", num(n0, "%.9g", -0.5),
		  num(n1, "%.9g", (double)d->n - 0.5));
	sb_puts(b, "set offsets 0, 0, graph 0.05, graph 0.05\n");
	if (d->n <= 40)
		sb_puts(b, "set xtics 1\n");
	if (ns) {
		sb_puts(b,
			"set border 11 back\nset y2tics\nset ytics nomirror\n");
		if (!f.text)
			sb_puts(b, "set border lc rgb '#404040'\n");
	}
	/* a bar from min to max per channel while they are at least about
	 * 1.5 pixels apart, else a band; text always gets bars */
	double px = f.text ? 0 : f.width * 0.8 / (double)d->n;
	int bars = f.text || px >= 1.5;
	int marks = !f.text && px >= 8;
	sb_puts(b, "plot ");
	if (bars) {
		double lw = px * 0.45;
		lw = lw < 1 ? 1 : lw > 10 ? 10 : lw;
		sb_printf(b,
			  "$qs_rng using 1:2:(0):($3-$2) with vectors nohead "
			  "lw %s lc rgb '%s' title 'min..max'",
			  num(n0, "%.2g", lw), colour(&f, C_MAIN));
	} else {
		sb_printf(b,
			  "$qs_rng using 1:2:3 with filledcurves fs solid 0.6 "
			  "noborder lc rgb '%s' title 'min..max', \\\n  "
			  "$qs_rng using 1:2 with lines lw 1 lc rgb '%s' "
			  "notitle, "
			  "\\\n  $qs_rng using 1:3 with lines lw 1 lc rgb '%s' "
			  "notitle",
			  colour(&f, C_BAND), colour(&f, C_MAIN),
			  colour(&f, C_MAIN));
	}
	if (nm)
		sb_printf(b,
			  ", \\\n  $qs_mean using 1:2 with %s lc rgb '%s' "
			  "title 'mean'",
			  marks ? "points pt 7 ps 0.5" : "lines lw 1",
			  colour(&f, C_REF));
	if (d->clip) {
		char tt[120];
		snprintf(tt, sizeof tt, "clipping range [%s, %s]",
			 num(n0, "%.4g", d->clip_lo),
			 num(n1, "%.4g", d->clip_hi));
		sb_printf(b,
			  ", \\\n  $qs_cliph using 1:2 with lines dt 2 lw 2 lc "
			  "rgb '%s' title ",
			  colour(&f, C_CLIP));
		sb_label(b, tt, "a legend");
	}
	if (ns) {
		char tt[120];
		if (ninf)
			snprintf(tt, sizeof tt, "SQNR (dB, right; %zu exact)",
				 ninf);
		else
			snprintf(tt, sizeof tt, "SQNR (dB, right)");
		sb_printf(b,
			  ", \\\n  $qs_sqnr using 1:2 axes x1y2 with %s lw 1.5 "
			  "lc rgb '%s' title ",
			  marks ? "linespoints pt 5 ps 0.6" : "lines",
			  colour(&f, C_SECOND));
		sb_label(b, tt, "a legend");
	}
	sb_puts(b, "\n");
	return fig_render(g, &f, text, err, errlen);
}

/* ---- transfer --------------------------------------------------------- */

int plot_transfer(gp_session *g, const plot_target *t,
		  const plot_transfer_data *d, char **text, char *err,
		  size_t errlen)
{
	if (!t || !d || !d->x || !d->y || d->n < 2)
		return fail(err, errlen, GP_EINVAL,
			    "plot_transfer: need x, y and at least two points");
	if (d->clip && !(isfinite(d->clip_lo) && isfinite(d->clip_hi) &&
			 d->clip_lo <= d->clip_hi))
		return fail(err, errlen, GP_EINVAL,
			    "plot_transfer: clipping range [%g, %g] must be "
			    "finite with lo <= hi",
			    d->clip_lo, d->clip_hi);
	fig f;
	fig_init(&f, t);
	sbuf *b = &f.sb;
	double x0 = INFINITY, x1 = -INFINITY;
	size_t nr = 0;
	sb_puts(b, "$qs_tf << EOD\n");
	for (size_t i = 0; i < d->n; i++) {
		double v[2] = {d->x[i], d->y[i]};
		if (!finite_all(2, v))
			continue;
		sb_row(b, 2, v);
		nr++;
		x0 = v[0] < x0 ? v[0] : x0;
		x1 = v[0] > x1 ? v[0] : x1;
	}
	sb_puts(b, "EOD\n");
	if (nr < 2 || !(x1 > x0)) {
		free(b->p);
		return fail(err, errlen, GP_EINVAL,
			    "plot_transfer: need two finite points with "
			    "different x");
	}
	double id[2] = {x0, x0};
	sb_puts(b, "$qs_id << EOD\n");
	sb_row(b, 2, id);
	id[0] = id[1] = x1;
	sb_row(b, 2, id);
	sb_puts(b, "EOD\n");
	if (d->clip)
		clip_block(b, d->clip_lo, d->clip_hi);
	fig_common(&f, d->title, d->xlabel ? d->xlabel : "input",
		   d->ylabel ? d->ylabel : "dequantized output", NULL);
	char n0[40], n1[40];
	sb_printf(b, "set xrange [%s:%s]\n", num(n0, "%.9g", x0),
		  num(n1, "%.9g", x1));
	sb_puts(b, "set y2range [0:1]\nunset y2tics\n"
		   "set offsets 0, 0, graph 0.05, graph 0.05\n");
	sb_printf(b,
		  "plot $qs_id using 1:2 with lines dt 3 lw 1 lc rgb '%s' "
		  "title 'y = x', \\\n  $qs_tf using 1:2 with steps lw 2 lc "
		  "rgb '%s' title 'quantize, dequantize'",
		  colour(&f, C_REF), colour(&f, C_MAIN));
	if (d->clip) {
		char tt[120];
		snprintf(tt, sizeof tt, "clipping range [%s, %s]",
			 num(n0, "%.4g", d->clip_lo),
			 num(n1, "%.4g", d->clip_hi));
		sb_printf(
			b,
			", \\\n  $qs_clip using 1:2 axes x1y2 with lines dt 2 "
			"lw 2 lc rgb '%s' title ",
			colour(&f, C_CLIP));
		sb_label(b, tt, "a legend");
	}
	sb_puts(b, "\n");
	return fig_render(g, &f, text, err, errlen);
}
