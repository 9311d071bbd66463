/* tui: the workbench's main loop, layout, keys and the `ui` callbacks.
 *
 * One thread runs curses, readline and Lua; the model's workers compute
 * (model.c) and a small thread copies whatever is written to stdout and
 * stderr (io.write, child processes) into the output pane, so nothing
 * but curses writes to the terminal.  The loop polls the terminal and a
 * self-pipe written by signal handlers, the workers and that thread.
 * Order of set-up and the readline rules: STYLE §9. */
#include "config.h"
#include "tui/tui.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curses.h>

#include "lua/qs_lua.h"
#include "lua/qs_ui.h"
#include "tui/keys.h"
#include "tui/lineedit.h"
#include "tui/model.h"
#include "tui/outbuf.h"
#include "tui/panes.h"

enum { LOWER_COMPARE = 0, LOWER_CHANNELS = 1 };

typedef struct layout {
	pane_rect hist, stats, compare, channels, output, status;
	int sep_x, sep_y0, sep_y1; /* vertical rule left of the stats */
	int both;                  /* compare and channels side by side */
} layout;

typedef struct tui {
	qs_lua *Q;
	wb *m;
	tui_out *out;
	pane_theme th;
	SCREEN *scr;
	FILE *fin, *fout;
	WINDOW *inwin;
	int active; /* curses is up */
	int lines, cols;
	layout L;
	int cmd_mode, help, quit, lua_running, show_trace;
	int log_scale, zoomed;
	double vlo, vhi;      /* explicit view when zoomed */
	double fvlo, fvhi;    /* the whole view, last draw */
	double hist_cw;       /* data units per histogram column, last draw */
	int lower;
	int cmp_scroll, out_scroll;
	int64_t ch_scroll;
	char msg[256];
	double msg_until;
	char *pending;        /* incomplete Lua chunk */
	/* histogram cache */
	double *hcounts;
	int hcols, htensor;
	double cvlo, cvhi;
	/* latency of the last change: key press to its result on screen */
	double t_change, last_latency;
	uint64_t gen_change, gen_drawn;
	/* file descriptors */
	int wake[2], cap[2];
	int saved[3]; /* the terminal's stdin, stdout, stderr */
	pthread_t cap_thread;
	int cap_started;
	double last_paint;
	char history[4096];
	qs_ui_ops ops;
	int from_lua;         /* an action runs on behalf of Lua */
} tui;

static tui T;
static volatile sig_atomic_t got_sigint, got_winch, got_term;

/* ---- small helpers -------------------------------------------------------- */

static void wake_up(void)
{
	char b = 's';
	if (T.wake[1] >= 0 && write(T.wake[1], &b, 1) < 0) {
		/* full: a wake-up is pending anyway */
	}
}

static void message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void message(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(T.msg, sizeof T.msg, fmt, ap);
	va_end(ap);
	T.msg_until = wb_clock() + 4.0;
}

static void seterr(char *err, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
}

/* The tensor's name without directory. */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* ---- signals and terminal restore ------------------------------------------ */

static void on_sigint(int sig)
{
	(void)sig;
	got_sigint = 1;
	if (T.Q)
		qs_lua_interrupt(T.Q); /* acts only while Lua runs */
	wake_up();
}

static void on_winch(int sig)
{
	(void)sig;
	got_winch = 1;
	wake_up();
}

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
	if (T.Q)
		qs_lua_interrupt(T.Q);
	wake_up();
}

/* Put the terminal back: curses off, stdin/stdout/stderr on the tty. */
static void restore_terminal(void)
{
	if (T.active) {
		if (!isendwin())
			endwin();
		T.active = 0;
		for (int i = 0; i < 3; i++)
			if (T.saved[i] >= 0)
				dup2(T.saved[i], i);
	}
}

static void on_crash(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void at_exit(void)
{
	/* os.exit() from Lua: leave a usable terminal and the history */
	if (T.active) {
		le_shutdown();
		restore_terminal();
	}
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_sigint; /* no SA_RESTART: poll sees EINTR */
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ---- stdout/stderr capture -------------------------------------------------- */

static void *capture_main(void *arg)
{
	(void)arg;
	char buf[4096];
	for (;;) {
		ssize_t k = read(T.cap[0], buf, sizeof buf);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		tui_out_write(T.out, buf, (size_t)k, OUT_TEXT);
		wake_up();
	}
	return NULL;
}

/* ---- settings helpers --------------------------------------------------------- */

static void apply(const wb_settings *s)
{
	T.t_change = wb_clock();
	wb_settings_set(T.m, s);
	T.gen_change = wb_generation(T.m);
}

static wb_tensor *cur_tensor(void)
{
	wb_settings s;
	wb_settings_get(T.m, &s);
	return wb_tensor_at(T.m, s.tensor);
}

/* The effective clipping range [lo, hi] of a spec and a calibrated range:
 * the range always holds 0; a signed symmetric grid is [-a, a] and an
 * unsigned symmetric one [0, hi] (docs/lua-api.md conventions). */
static void effective_range(const qs_spec *sp, double lo, double hi,
			    double *elo, double *ehi)
{
	lo = lo < 0 ? lo : 0;
	hi = hi > 0 ? hi : 0;
	if (sp->scheme == QS_SCHEME_SYMMETRIC) {
		if (sp->is_unsigned) {
			lo = 0;
		} else {
			double a = -lo > hi ? -lo : hi;
			lo = -a;
			hi = a;
		}
	}
	*elo = lo;
	*ehi = hi;
}

/* The full histogram range of tensor w including the markers. */
static void full_view(const wb_tensor *w, int markers, double mlo, double mhi,
		      double *vlo, double *vhi)
{
	double a = w->hlo, b = w->hhi;
	if (markers) {
		a = mlo < a ? mlo : a;
		b = mhi > b ? mhi : b;
	}
	double pad = (b - a) * 0.04;
	if (!(pad > 0))
		pad = 0.5;
	*vlo = a - pad;
	*vhi = b + pad;
}

/* ---- actions (every key, by name) ------------------------------------------- */

typedef int (*action_fn)(char *err, size_t n);

static int cycle_index(int i, int n, int dir)
{
	return n ? ((i + dir) % n + n) % n : 0;
}

static int a_calib(int dir, char *err, size_t n)
{
	const qs_calib_method *ms;
	int nm = wb_methods(&ms);
	if (nm == 0) {
		seterr(err, n, "the engine offers no calibration method");
		return QS_UI_EFAIL;
	}
	wb_settings s;
	wb_settings_get(T.m, &s);
	qs_calib_method cur = s.spec.calib.method == QS_CALIB_FIXED
				      ? s.calibrated
				      : s.spec.calib.method;
	int i = 0;
	for (int k = 0; k < nm; k++)
		if (ms[k] == cur)
			i = k;
	/* from a hand-set range, the first press returns to its method */
	if (s.spec.calib.method != QS_CALIB_FIXED)
		i = cycle_index(i, nm, dir);
	s.spec.calib.method = ms[i];
	s.spec.calib.lo = s.spec.calib.hi = 0;
	s.calibrated = ms[i];
	apply(&s);
	return 0;
}
static int a_calib_next(char *e, size_t n) { return a_calib(1, e, n); }
static int a_calib_prev(char *e, size_t n) { return a_calib(-1, e, n); }

static int a_format(int dir, char *err, size_t n)
{
	const char *const *fs;
	int nf = wb_formats(&fs);
	wb_settings s;
	wb_settings_get(T.m, &s);
	const char *fam = wb_format_family(&s.spec);
	int i = 0;
	for (int k = 0; k < nf; k++)
		if (strcmp(fs[k], fam) == 0)
			i = k;
	for (int tries = 0; tries < nf; tries++) {
		i = cycle_index(i, nf, dir);
		if (wb_format_apply(&s.spec, fs[i], s.spec.bits) == 0) {
			apply(&s);
			return 0;
		}
	}
	seterr(err, n, "no other format");
	return QS_UI_EFAIL;
}
static int a_format_next(char *e, size_t n) { return a_format(1, e, n); }
static int a_format_prev(char *e, size_t n) { return a_format(-1, e, n); }

static int a_bits(int dir, char *err, size_t n)
{
	wb_settings s;
	wb_settings_get(T.m, &s);
	const char *fam = wb_format_family(&s.spec);
	if (strcmp(fam, "int") && strcmp(fam, "uint")) {
		seterr(err, n, "format %s has a fixed width", s.spec.format);
		return QS_UI_EFAIL;
	}
	int b = s.spec.bits + dir;
	if (b < 2 || b > 16) {
		seterr(err, n, "bit width stays in 2..16");
		return QS_UI_EFAIL;
	}
	wb_format_apply(&s.spec, fam, b);
	apply(&s);
	return 0;
}
static int a_bits_up(char *e, size_t n) { return a_bits(1, e, n); }
static int a_bits_down(char *e, size_t n) { return a_bits(-1, e, n); }

static int a_scheme(char *err, size_t n)
{
	(void)err;
	(void)n;
	wb_settings s;
	wb_settings_get(T.m, &s);
	s.spec.scheme = s.spec.scheme == QS_SCHEME_SYMMETRIC
				? QS_SCHEME_ASYMMETRIC
				: QS_SCHEME_SYMMETRIC;
	apply(&s);
	return 0;
}

static int a_narrow(char *err, size_t n)
{
	(void)err;
	(void)n;
	wb_settings s;
	wb_settings_get(T.m, &s);
	s.spec.narrow = !s.spec.narrow;
	apply(&s);
	return 0;
}

static int a_granularity(char *err, size_t n)
{
	(void)err;
	(void)n;
	wb_settings s;
	wb_settings_get(T.m, &s);
	s.spec.granularity = (qs_granularity)((s.spec.granularity + 1) % 3);
	apply(&s);
	return 0;
}

static int a_axis(char *err, size_t n)
{
	wb_settings s;
	wb_settings_get(T.m, &s);
	wb_tensor *w = wb_tensor_at(T.m, s.tensor);
	if (!w || w->t->ndim == 0) {
		seterr(err, n, "the tensor has no axis");
		return QS_UI_EFAIL;
	}
	int nd = w->t->ndim;
	int ax = s.spec.axis < 0 ? s.spec.axis + nd : s.spec.axis;
	if (s.spec.granularity == QS_GRAN_CHANNEL)
		ax = (ax + 1) % nd;
	s.spec.axis = ax < 0 || ax >= nd ? 0 : ax;
	s.spec.granularity = QS_GRAN_CHANNEL;
	apply(&s);
	return 0;
}

static int a_group(int larger, char *err, size_t n)
{
	wb_settings s;
	wb_settings_get(T.m, &s);
	int64_t g = s.spec.group;
	if (s.spec.granularity == QS_GRAN_GROUP)
		g = larger ? g * 2 : g / 2;
	if (g < 1 || g > ((int64_t)1 << 24)) {
		seterr(err, n, "group size stays in 1..%lld", 1LL << 24);
		return QS_UI_EFAIL;
	}
	s.spec.group = g;
	s.spec.granularity = QS_GRAN_GROUP;
	apply(&s);
	return 0;
}
static int a_group_larger(char *e, size_t n) { return a_group(1, e, n); }
static int a_group_smaller(char *e, size_t n) { return a_group(0, e, n); }

static int a_rounding(int dir, char *err, size_t n)
{
	(void)err;
	(void)n;
	wb_settings s;
	wb_settings_get(T.m, &s);
	int nr = 0;
	while (qs_rounding_name((qs_rounding)nr))
		nr++;
	s.spec.rounding = (qs_rounding)cycle_index((int)s.spec.rounding, nr, dir);
	apply(&s);
	return 0;
}
static int a_rounding_next(char *e, size_t n) { return a_rounding(1, e, n); }
static int a_rounding_prev(char *e, size_t n) { return a_rounding(-1, e, n); }

/* The clipping range shown now: the hand-set one, or the result's. */
static int current_range(const wb_settings *s, double *lo, double *hi,
			 char *err, size_t n)
{
	if (s->spec.calib.method == QS_CALIB_FIXED) {
		*lo = s->spec.calib.lo;
		*hi = s->spec.calib.hi;
		return 0;
	}
	if (T.from_lua)
		wb_wait_current(T.m, 600000, (volatile int *)&got_sigint);
	wb_result *r = wb_get(T.m);
	int ok = r && r->q && r->tensor == s->tensor;
	if (ok) {
		*lo = r->lo;
		*hi = r->hi;
	}
	wb_put(T.m, r);
	if (!ok) {
		seterr(err, n, "no calibrated range yet");
		return QS_UI_EFAIL;
	}
	return 0;
}

/* Move the ends of the clipping range by one histogram column (which
 * becomes finer when zoomed): a fixed-range calibration. */
static int nudge(int dlo, int dhi, char *err, size_t n)
{
	wb_settings s;
	wb_settings_get(T.m, &s);
	if (s.tensor < 0) {
		seterr(err, n, "no tensor");
		return QS_UI_EFAIL;
	}
	double lo, hi;
	if (current_range(&s, &lo, &hi, err, n) < 0)
		return QS_UI_EFAIL;
	effective_range(&s.spec, lo, hi, &lo, &hi);
	double step = T.hist_cw;
	if (!(step > 0))
		step = (hi - lo) / 100;
	if (!(step > 0))
		step = 1e-3;
	if (s.spec.scheme == QS_SCHEME_SYMMETRIC && !s.spec.is_unsigned) {
		/* one amax: any end moves both, mirrored */
		int d = dhi ? dhi : -dlo;
		double a = hi + d * step;
		if (a < step)
			a = step;
		lo = -a;
		hi = a;
	} else if (s.spec.scheme == QS_SCHEME_SYMMETRIC) {
		if (dlo && !dhi) {
			seterr(err, n, "lo is 0 on an unsigned symmetric grid");
			return QS_UI_EFAIL;
		}
		hi += dhi * step;
		if (hi < step)
			hi = step;
		lo = 0;
	} else {
		lo += dlo * step;
		hi += dhi * step;
		if (lo > 0)
			lo = 0; /* the range always holds 0 */
		if (hi < 0)
			hi = 0;
		if (hi - lo < step)
			hi = lo + step;
	}
	s.spec.calib.method = QS_CALIB_FIXED;
	s.spec.calib.lo = lo;
	s.spec.calib.hi = hi;
	apply(&s);
	return 0;
}
static int a_lo_left(char *e, size_t n) { return nudge(-1, 0, e, n); }
static int a_lo_right(char *e, size_t n) { return nudge(1, 0, e, n); }
static int a_hi_left(char *e, size_t n) { return nudge(0, -1, e, n); }
static int a_hi_right(char *e, size_t n) { return nudge(0, 1, e, n); }
static int a_shrink(char *e, size_t n) { return nudge(1, -1, e, n); }
static int a_grow(char *e, size_t n) { return nudge(-1, 1, e, n); }

static int a_reset(char *err, size_t n)
{
	(void)err;
	(void)n;
	wb_settings s;
	wb_settings_get(T.m, &s);
	if (s.spec.calib.method == QS_CALIB_FIXED) {
		s.spec.calib.method = s.calibrated;
		s.spec.calib.lo = s.spec.calib.hi = 0;
		apply(&s);
	}
	return 0;
}

static void view_reset(void)
{
	T.zoomed = 0;
	T.cmp_scroll = 0;
	T.ch_scroll = 0;
}

static int a_tensor(int dir, char *err, size_t n)
{
	wb_settings s;
	wb_settings_get(T.m, &s);
	int nt = wb_count(T.m);
	if (nt == 0) {
		seterr(err, n, "no tensor loaded");
		return QS_UI_EFAIL;
	}
	s.tensor = cycle_index(s.tensor, nt, dir);
	/* a hand-set range belongs to the old tensor */
	if (s.spec.calib.method == QS_CALIB_FIXED)
		s.spec.calib.method = s.calibrated;
	view_reset();
	apply(&s);
	return 0;
}
static int a_tensor_next(char *e, size_t n) { return a_tensor(1, e, n); }
static int a_tensor_prev(char *e, size_t n) { return a_tensor(-1, e, n); }

static int a_log(char *err, size_t n)
{
	(void)err;
	(void)n;
	T.log_scale = !T.log_scale;
	return 0;
}

/* The view range now (zoomed or full). */
static void view_now(double *a, double *b)
{
	if (T.zoomed) {
		*a = T.vlo;
		*b = T.vhi;
	} else {
		*a = T.fvlo;
		*b = T.fvhi;
	}
}

static int a_zoom(double f, char *err, size_t n)
{
	double a, b;
	view_now(&a, &b);
	if (!(b > a)) {
		seterr(err, n, "nothing to zoom");
		return QS_UI_EFAIL;
	}
	double c = (a + b) / 2, h = (b - a) / 2 * f;
	wb_tensor *w = cur_tensor();
	if (f > 1 && w) {
		double fa = T.fvlo, fb = T.fvhi;
		if (T.zoomed && (fb - fa) <= 2 * h) {
			T.zoomed = 0; /* back to the whole range */
			return 0;
		}
	}
	if (h < 1e-30) {
		seterr(err, n, "zoomed in as far as it goes");
		return QS_UI_EFAIL;
	}
	T.vlo = c - h;
	T.vhi = c + h;
	T.zoomed = 1;
	return 0;
}
static int a_zoom_in(char *e, size_t n) { return a_zoom(0.5, e, n); }
static int a_zoom_out(char *e, size_t n) { return a_zoom(2.0, e, n); }
static int a_zoom_reset(char *e, size_t n)
{
	(void)e;
	(void)n;
	T.zoomed = 0;
	return 0;
}

static int a_pan(int dir, char *err, size_t n)
{
	if (!T.zoomed) {
		seterr(err, n, "zoom in first (z)");
		return QS_UI_EFAIL;
	}
	double d = (T.vhi - T.vlo) / 4 * dir;
	T.vlo += d;
	T.vhi += d;
	return 0;
}
static int a_pan_left(char *e, size_t n) { return a_pan(-1, e, n); }
static int a_pan_right(char *e, size_t n) { return a_pan(1, e, n); }

static int a_view(char *err, size_t n)
{
	(void)err;
	(void)n;
	T.lower = T.lower == LOWER_COMPARE ? LOWER_CHANNELS : LOWER_COMPARE;
	return 0;
}

static int a_list(int dir, char *err, size_t n)
{
	(void)err;
	(void)n;
	if (T.L.both || T.lower == LOWER_CHANNELS) {
		T.ch_scroll += dir * (T.L.channels.h > 4 ? T.L.channels.h - 3 : 1);
		if (T.ch_scroll < 0)
			T.ch_scroll = 0;
	}
	if (T.L.both || T.lower == LOWER_COMPARE)
		T.cmp_scroll += dir;
	return 0;
}
static int a_list_down(char *e, size_t n) { return a_list(1, e, n); }
static int a_list_up(char *e, size_t n) { return a_list(-1, e, n); }

static int a_output(int dir, char *err, size_t n)
{
	(void)err;
	(void)n;
	int page = T.L.output.h > 2 ? T.L.output.h - 2 : 1;
	T.out_scroll += dir * page;
	if (T.out_scroll < 0)
		T.out_scroll = 0;
	return 0;
}
static int a_output_up(char *e, size_t n) { return a_output(1, e, n); }
static int a_output_down(char *e, size_t n) { return a_output(-1, e, n); }

static int a_terminal(char *err, size_t n)
{
	seterr(err, n, "the histogram is drawn natively (gnuplot terminals "
		       "need the plot module)");
	return QS_UI_EFAIL;
}

static void do_layout(void);

static void set_mode(int cmd)
{
	T.cmd_mode = cmd;
	if (T.lines)
		do_layout();
	if (T.inwin) {
		keypad(T.inwin, cmd ? FALSE : TRUE);
		curs_set(cmd ? 1 : 0);
	}
}

/* A file name for saving: tensor, format and method. */
static void save_name(char *buf, size_t n, const char *ext)
{
	wb_settings s;
	wb_settings_get(T.m, &s);
	wb_tensor *w = wb_tensor_at(T.m, s.tensor);
	char base[128] = "qscope";
	if (w) {
		snprintf(base, sizeof base, "%s", base_name(w->name));
		char *dot = strrchr(base, '.');
		if (dot && strcmp(dot, ".npy") == 0)
			*dot = '\0';
	}
	const char *cal = s.spec.calib.method == QS_CALIB_FIXED
				  ? "fixed"
				  : qs_calib_name(s.spec.calib.method);
	snprintf(buf, n, "%s_%s_%s%s", base, s.spec.format, cal ? cal : "",
		 ext);
}

/* Open the prompt with a ui.* call to edit and run. */
static void prefill_call(const char *fn, const char *ext)
{
	char name[256], line[320];
	save_name(name, sizeof name, ext);
	int k = snprintf(line, sizeof line, "%s(\"%s\")", fn, name);
	(void)k;
	set_mode(1);
	/* cursor just before the extension: edit the name, Enter saves */
	le_prefill(line, (int)(strlen(fn) + 2 + strlen(name) - strlen(ext)));
}

static int a_plot_save(char *err, size_t n)
{
	(void)err;
	(void)n;
	prefill_call("ui.plot", ".png");
	return 0;
}

static int a_tensor_save(char *err, size_t n)
{
	(void)err;
	(void)n;
	prefill_call("ui.save", ".npy");
	return 0;
}

static int a_command(char *err, size_t n)
{
	(void)err;
	(void)n;
	set_mode(1);
	return 0;
}

static int a_help(char *err, size_t n)
{
	(void)err;
	(void)n;
	T.help = !T.help;
	return 0;
}

static int a_redraw(char *err, size_t n)
{
	(void)err;
	(void)n;
	clearok(curscr, TRUE);
	return 0;
}

static int a_quit(char *err, size_t n)
{
	(void)err;
	(void)n;
	T.quit = 1;
	return 0;
}

static const struct {
	const char *name;
	action_fn fn;
} actions[] = {
	{"calib_next", a_calib_next},	{"calib_prev", a_calib_prev},
	{"format_next", a_format_next}, {"format_prev", a_format_prev},
	{"bits_up", a_bits_up},		{"bits_down", a_bits_down},
	{"scheme_toggle", a_scheme},	{"narrow_toggle", a_narrow},
	{"granularity_next", a_granularity},
	{"axis_next", a_axis},		{"group_larger", a_group_larger},
	{"group_smaller", a_group_smaller},
	{"rounding_next", a_rounding_next},
	{"rounding_prev", a_rounding_prev},
	{"lo_left", a_lo_left},		{"lo_right", a_lo_right},
	{"hi_left", a_hi_left},		{"hi_right", a_hi_right},
	{"range_shrink", a_shrink},	{"range_grow", a_grow},
	{"range_reset", a_reset},	{"tensor_next", a_tensor_next},
	{"tensor_prev", a_tensor_prev}, {"log_toggle", a_log},
	{"zoom_in", a_zoom_in},		{"zoom_out", a_zoom_out},
	{"zoom_reset", a_zoom_reset},	{"pan_left", a_pan_left},
	{"pan_right", a_pan_right},	{"view_toggle", a_view},
	{"list_down", a_list_down},	{"list_up", a_list_up},
	{"output_up", a_output_up},	{"output_down", a_output_down},
	{"terminal_next", a_terminal},	{"plot_save", a_plot_save},
	{"tensor_save", a_tensor_save}, {"command", a_command},
	{"help", a_help},		{"redraw", a_redraw},
	{"quit", a_quit},		{NULL, NULL}};

static int run_action(const char *name, char *err, size_t n)
{
	for (int i = 0; actions[i].name; i++)
		if (strcmp(actions[i].name, name) == 0)
			return actions[i].fn(err, n);
	size_t k = (size_t)snprintf(err, n, "unknown action '%s' (accepted:", name);
	for (int i = 0; actions[i].name && k < n; i++)
		k += (size_t)snprintf(err + k, n - k, "%s %s", i ? "," : "",
				      actions[i].name);
	if (k < n)
		snprintf(err + k, n - k, ")");
	return QS_UI_EARG;
}

/* ---- layout ------------------------------------------------------------------- */

static void do_layout(void)
{
	int L = T.lines, C = T.cols;
	layout *y = &T.L;
	memset(y, 0, sizeof *y);
	y->status = (pane_rect){L - 2, 0, 1, C};
	int avail = L - 2;
	int out_h = L <= 26 ? 4 : avail / 5;
	if (out_h > 14)
		out_h = 14;
	if (out_h < 3)
		out_h = avail > 8 ? 3 : 1;
	int main_h = avail - out_h;
	int sw = C < 100 ? 30 : C / 4;
	if (sw > 44)
		sw = 44;
	if (C < 60)
		sw = 0;
	int lw = sw ? C - sw - 1 : C;
	y->both = C >= 140 && main_h >= 24;
	int hist_h = (int)(main_h * 0.58);
	if (hist_h < 6)
		hist_h = main_h > 6 ? 6 : main_h;
	int low_h = main_h - hist_h;
	if (T.cmd_mode && out_h < 10 && !y->both) {
		/* typing Lua: the output takes the tables' place */
		y->output = (pane_rect){hist_h, 0, avail - hist_h, C};
		y->hist = (pane_rect){0, 0, hist_h, lw};
		y->stats = (pane_rect){0, lw + 1, hist_h, sw};
		y->sep_x = sw ? lw : -1;
		y->sep_y0 = 1;
		y->sep_y1 = hist_h;
		y->compare = y->channels = (pane_rect){hist_h, 0, 0, lw};
		return;
	}
	y->output = (pane_rect){main_h, 0, out_h, C};
	y->hist = (pane_rect){0, 0, hist_h, lw};
	if (y->both) {
		/* stats beside the histogram, the two tables below */
		y->stats = (pane_rect){0, lw + 1, hist_h, sw};
		y->sep_x = lw;
		y->sep_y0 = 1;
		y->sep_y1 = hist_h;
		int cw = C * 3 / 5;
		if (cw > 100)
			cw = 100;
		y->compare = (pane_rect){hist_h, 0, low_h, cw};
		y->channels = (pane_rect){hist_h, cw + 1, low_h, C - cw - 1};
	} else {
		y->stats = (pane_rect){0, lw + 1, main_h, sw};
		y->sep_x = sw ? lw : -1;
		y->sep_y0 = 1;
		y->sep_y1 = main_h;
		y->compare = y->channels = (pane_rect){hist_h, 0, low_h, lw};
	}
}

/* ---- drawing ------------------------------------------------------------------ */

static void paint_output(void)
{
	pane_output(&T.th, T.L.output, T.out, &T.out_scroll, T.show_trace);
}

/* "int8 sym · per channel · nearest" for the table titles. */
static void spec_text(char *buf, size_t n, const qs_spec *p)
{
	char g[40];
	if (p->granularity == QS_GRAN_GROUP)
		snprintf(g, sizeof g, "group %lld", (long long)p->group);
	else if (p->granularity == QS_GRAN_CHANNEL)
		snprintf(g, sizeof g, "channel axis %d", p->axis);
	else
		snprintf(g, sizeof g, "tensor");
	snprintf(buf, n, "%s %s \u00b7 %s \u00b7 %s", p->format,
		 p->scheme == QS_SCHEME_SYMMETRIC ? "sym" : "asym", g,
		 qs_rounding_name(p->rounding));
}

static void draw(void)
{
	if (!T.active)
		return;
	wb_settings s;
	wb_settings_get(T.m, &s);
	wb_tensor *w = wb_tensor_at(T.m, s.tensor);
	uint64_t gen = wb_generation(T.m);
	wb_result *r = wb_get(T.m);
	if (r && r->tensor != s.tensor) {
		wb_put(T.m, r);
		r = NULL;
	}
	int stale = !r || r->gen != gen;
	if (!stale && r->gen != T.gen_drawn && r->gen == T.gen_change &&
	    T.t_change > 0)
		T.last_latency = (wb_clock() - T.t_change) * 1e3;
	if (!stale)
		T.gen_drawn = r->gen;

	/* histogram: clipping markers, grid, view range, counts */
	pane_hist_data hd;
	memset(&hd, 0, sizeof hd);
	hd.t = w;
	hd.log = T.log_scale;
	hd.stale = stale && w;
	if (w) {
		if (s.spec.calib.method == QS_CALIB_FIXED) {
			hd.markers = 1; /* known at once, before the result */
			effective_range(&s.spec, s.spec.calib.lo,
					s.spec.calib.hi, &hd.mlo, &hd.mhi);
		} else if (r && r->q) {
			hd.markers = 1;
			effective_range(&r->spec, r->lo, r->hi, &hd.mlo,
					&hd.mhi);
			hd.per_param = r->q->nparams > 1;
		}
		if (r && r->q && r->q->nparams == 1) {
			hd.grid_scale = &r->q->scale[0];
			hd.grid_zp = r->q->zero_point[0];
			hd.qmin = r->q->qmin;
			hd.qmax = r->q->qmax;
		}
		full_view(w, hd.markers, hd.mlo, hd.mhi, &T.fvlo, &T.fvhi);
		hd.vlo = T.zoomed ? T.vlo : T.fvlo;
		hd.vhi = T.zoomed ? T.vhi : T.fvhi;
		int cols = T.L.hist.w > 0 ? T.L.hist.w : 1;
		if (cols != T.hcols || s.tensor != T.htensor ||
		    hd.vlo != T.cvlo || hd.vhi != T.cvhi) {
			double *c = realloc(T.hcounts, sizeof *c * (size_t)cols);
			if (c) {
				T.hcounts = c;
				wb_hist(w, hd.vlo, hd.vhi, cols, c);
				T.hcols = cols;
				T.htensor = s.tensor;
				T.cvlo = hd.vlo;
				T.cvhi = hd.vhi;
			}
		}
		hd.counts = T.hcounts;
		if (!hd.counts)
			hd.t = NULL;
		T.hist_cw = (hd.vhi - hd.vlo) / cols;
	}
	pane_hist(&T.th, T.L.hist, &hd);
	if (T.L.stats.w > 0)
		pane_stats(&T.th, T.L.stats, w, &s, r, stale, T.last_latency);
	if (T.L.sep_x >= 0 && T.L.stats.w > 0) {
		pane_vrule(&T.th, T.L.sep_x, T.L.sep_y0, T.L.sep_y1);
	}

	char what[96];
	spec_text(what, sizeof what, &s.spec);
	int busy = stale && w;
	if (w && T.L.compare.h > 0 && (T.L.both || T.lower == LOWER_COMPARE)) {
		qs_ui_row rows[QS_CALIB_COUNT + 1];
		int pending = 0;
		int n = wb_compare(T.m, rows, QS_CALIB_COUNT + 1, &pending);
		pane_compare(&T.th, T.L.compare, rows, n, pending, &T.cmp_scroll,
			     what);
		busy |= pending > 0;
	}
	if (T.L.channels.h > 0 && (T.L.both || T.lower == LOWER_CHANNELS)) {
		int vis = T.L.channels.h - 2;
		qs_ui_channel ch[256];
		if (vis > 256)
			vis = 256;
		if (vis < 0)
			vis = 0;
		int64_t total = 0;
		int ready = 0;
		wb_channels(T.m, 0, NULL, 0, &total, &ready);
		if (T.ch_scroll > total - vis)
			T.ch_scroll = total - vis;
		if (T.ch_scroll < 0)
			T.ch_scroll = 0;
		int64_t n = wb_channels(T.m, T.ch_scroll, ch, vis, &total, &ready);
		char cwhat[64];
		if (s.spec.granularity == QS_GRAN_GROUP)
			snprintf(cwhat, sizeof cwhat, "groups of %lld",
				 (long long)s.spec.group);
		else if (s.spec.granularity == QS_GRAN_CHANNEL)
			snprintf(cwhat, sizeof cwhat, "axis %d", s.spec.axis);
		else
			snprintf(cwhat, sizeof cwhat, "axis %d, one scale",
				 s.spec.axis);
		int64_t per_row = 0;
		if (w && s.spec.granularity == QS_GRAN_GROUP && s.spec.group > 0) {
			int64_t last = w->t->ndim ? w->t->shape[w->t->ndim - 1] : 1;
			per_row = (last + s.spec.group - 1) / s.spec.group;
		}
		pane_channels(&T.th, T.L.channels, ch, n, total, ready,
			      T.ch_scroll, w, cwhat, per_row);
		busy |= w && !ready;
	}
	paint_output();
	const char *msg = wb_clock() < T.msg_until ? T.msg : "";
	pane_status(&T.th, T.L.status, T.cmd_mode, msg, busy);
	if (T.help)
		pane_help(&T.th, T.lines, T.cols);
	wnoutrefresh(stdscr);
	le_draw(T.cmd_mode);
	doupdate();
	T.last_paint = wb_clock();
	wb_put(T.m, r);
}

static void resize(void)
{
	struct winsize ws;
	if (ioctl(fileno(T.fout), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	T.lines = LINES;
	T.cols = COLS;
	do_layout();
	wresize(T.inwin, 1, T.cols);
	mvwin(T.inwin, T.lines - 1, 0);
	le_resize(T.lines, T.cols);
	clearok(curscr, TRUE);
}

/* ---- Lua ------------------------------------------------------------------------ */

static void host_write(void *ud, const char *s, size_t n)
{
	(void)ud;
	tui_out_write(T.out, s, n, OUT_TEXT);
	T.out_scroll = 0;
	/* a long script shows its progress */
	if (T.lua_running && T.active && wb_clock() - T.last_paint > 0.1) {
		paint_output();
		wnoutrefresh(stdscr);
		doupdate();
		T.last_paint = wb_clock();
	}
}

/* Run a chunk at the prompt; errors go to the output pane. */
static void run_chunk(const char *chunk)
{
	long mark = tui_out_mark(T.out);
	T.lua_running = 1;
	got_sigint = 0;
	int st = qs_lua_repl_line(T.Q, chunk);
	T.lua_running = 0;
	fflush(stdout);
	fflush(stderr);
	if (st < 0)
		tui_out_mark_error(T.out, mark, qs_lua_error(T.Q));
	got_sigint = 0;
	T.out_scroll = 0;
}

static void on_line(void *ud, char *line)
{
	(void)ud;
	if (!line) { /* Ctrl-D on an empty line */
		T.quit = 1;
		return;
	}
	tui_out_line(T.out, OUT_ECHO, "%s%s", T.pending ? "qscope>> " : "qscope> ",
		     line);
	char *chunk = line;
	if (T.pending) {
		size_t a = strlen(T.pending), b = strlen(line);
		chunk = malloc(a + b + 2);
		if (!chunk) {
			free(line);
			return;
		}
		memcpy(chunk, T.pending, a);
		chunk[a] = '\n';
		memcpy(chunk + a + 1, line, b + 1);
		free(T.pending);
		T.pending = NULL;
		free(line);
	}
	if (*chunk && chunk[0] != '=' && qs_lua_incomplete(T.Q, chunk)) {
		T.pending = chunk;
		le_set_prompt("qscope>> ");
		return;
	}
	run_chunk(chunk);
	free(chunk);
	if (!T.quit)
		le_set_prompt("qscope> ");
}

static void on_matches(void *ud, char **matches, int n)
{
	(void)ud;
	char buf[1024];
	size_t k = 0;
	for (int i = 0; i < n && k < sizeof buf - 2; i++)
		k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s",
				      i ? "  " : "", matches[i]);
	tui_out_line(T.out, OUT_NOTE, "%s", buf);
}

static void on_le_key(void *ud, const char *action)
{
	(void)ud;
	char err[256];
	run_action(action, err, sizeof err);
}

/* ---- the ui callbacks ------------------------------------------------------------ */

static int parse_bool(const char *v, int *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcmp(v, "on") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
	    strcmp(v, "off") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

static int parse_num(const char *v, double *out)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || d != d)
		return -1;
	*out = d;
	return 0;
}

static int parse_pair(const char *v, double *a, double *b)
{
	char *end;
	*a = strtod(v, &end);
	if (end == v || *end != ',')
		return -1;
	const char *p = end + 1;
	*b = strtod(p, &end);
	if (end == p || *end)
		return -1;
	return 0;
}

static const char *const set_keys[] = {
	"tensor", "format", "bits", "scheme", "narrow", "granularity", "axis",
	"group", "rounding", "seed", "calib", "percentile", "bins", "lo",
	"hi", "amax", "range", "log", "zoom", "view", "terminal", "traceback",
	"focus", NULL};

static int key_rank(const char *k)
{
	for (int i = 0; set_keys[i]; i++)
		if (strcmp(set_keys[i], k) == 0)
			return i;
	return -1;
}

/* The view-side state ui.set may change, applied only on success. */
typedef struct view_state {
	int log, zoomed, lower, trace, cmd;
	double vlo, vhi;
} view_state;

static int list_error(char *err, size_t n, const char *what, const char *v,
		      const char *accepted)
{
	seterr(err, n, "unknown %s '%s' (accepted: %s)", what, v, accepted);
	return QS_UI_EARG;
}

static int set_one(wb_settings *s, view_state *vs, int *fixed_set,
		   double *flo, double *fhi, const char *k, const char *v,
		   char *err, size_t n)
{
	double d;
	int b;
	qs_spec *p = &s->spec;
	if (strcmp(k, "tensor") == 0) {
		int nt = wb_count(T.m);
		if (parse_num(v, &d) == 0) {
			if (d != floor(d) || d < 1 || d > nt) {
				seterr(err, n, "tensor %s out of range (1..%d)", v, nt);
				return QS_UI_EARG;
			}
			s->tensor = (int)d - 1;
		} else {
			int found = -1;
			for (int i = 0; i < nt && found < 0; i++) {
				wb_tensor *w = wb_tensor_at(T.m, i);
				if (strcmp(w->name, v) == 0 ||
				    strcmp(base_name(w->name), v) == 0)
					found = i;
			}
			if (found < 0) {
				seterr(err, n, "no tensor named '%s'", v);
				return QS_UI_EARG;
			}
			s->tensor = found;
		}
		if (p->calib.method == QS_CALIB_FIXED)
			p->calib.method = s->calibrated;
		vs->zoomed = 0;
	} else if (strcmp(k, "format") == 0) {
		qs_error e;
		int bits = p->bits;
		if (strcmp(v, "int") == 0 || strcmp(v, "uint") == 0) {
			if (wb_format_apply(p, v, bits) < 0)
				return list_error(err, n, "format", v, qs_format_names());
		} else if (qs_spec_set_format(p, v, &e) < 0) {
			seterr(err, n, "%s", e.msg);
			return QS_UI_EARG;
		}
	} else if (strcmp(k, "bits") == 0) {
		const char *fam = wb_format_family(p);
		if (parse_num(v, &d) < 0 || d != floor(d) || d < 2 || d > 16) {
			seterr(err, n, "bits must be an integer in 2..16, not '%s'", v);
			return QS_UI_EARG;
		}
		if (strcmp(fam, "int") && strcmp(fam, "uint")) {
			seterr(err, n, "format %s has a fixed width", p->format);
			return QS_UI_EARG;
		}
		wb_format_apply(p, fam, (int)d);
	} else if (strcmp(k, "scheme") == 0) {
		if (strcmp(v, "symmetric") == 0)
			p->scheme = QS_SCHEME_SYMMETRIC;
		else if (strcmp(v, "asymmetric") == 0)
			p->scheme = QS_SCHEME_ASYMMETRIC;
		else
			return list_error(err, n, "scheme", v, "symmetric, asymmetric");
	} else if (strcmp(k, "narrow") == 0) {
		if (parse_bool(v, &b) < 0)
			return list_error(err, n, "narrow value", v, "true, false");
		p->narrow = b;
	} else if (strcmp(k, "granularity") == 0) {
		int g = -1;
		for (int i = 0; i < 3; i++)
			if (strcmp(v, qs_granularity_name((qs_granularity)i)) == 0)
				g = i;
		if (g < 0)
			return list_error(err, n, "granularity", v, "tensor, channel, group");
		p->granularity = (qs_granularity)g;
	} else if (strcmp(k, "axis") == 0) {
		if (parse_num(v, &d) < 0 || d != floor(d) || fabs(d) > 64) {
			seterr(err, n, "axis must be an integer, not '%s'", v);
			return QS_UI_EARG;
		}
		p->axis = (int)d;
	} else if (strcmp(k, "group") == 0) {
		if (parse_num(v, &d) < 0 || d != floor(d) || d < 1 || d > 1e9) {
			seterr(err, n, "group must be an integer >= 1, not '%s'", v);
			return QS_UI_EARG;
		}
		p->group = (int64_t)d;
	} else if (strcmp(k, "rounding") == 0) {
		qs_rounding rr;
		if (qs_rounding_parse(v, &rr) < 0) {
			char acc[160];
			size_t m = 0;
			for (int i = 0; qs_rounding_name((qs_rounding)i) && m < sizeof acc; i++)
				m += (size_t)snprintf(acc + m, sizeof acc - m, "%s%s",
						      i ? ", " : "",
						      qs_rounding_name((qs_rounding)i));
			return list_error(err, n, "rounding", v, acc);
		}
		p->rounding = rr;
	} else if (strcmp(k, "seed") == 0) {
		if (parse_num(v, &d) < 0 || d < 0 || d != floor(d)) {
			seterr(err, n, "seed must be an integer >= 0");
			return QS_UI_EARG;
		}
		p->seed = (uint64_t)d;
	} else if (strcmp(k, "calib") == 0) {
		qs_calib_method m;
		if (qs_calib_parse(v, &m) < 0 || m == QS_CALIB_NONE)
			return list_error(err, n, "calib", v, qs_calib_names());
		if (m == QS_CALIB_FIXED) {
			if (!*fixed_set) {
				double lo, hi;
				if (current_range(s, &lo, &hi, err, n) < 0)
					return QS_UI_EARG;
				effective_range(p, lo, hi, flo, fhi);
				*fixed_set = 1;
			}
		} else {
			p->calib.method = m;
			p->calib.lo = p->calib.hi = 0;
			s->calibrated = m;
		}
	} else if (strcmp(k, "percentile") == 0) {
		if (parse_num(v, &d) < 0 || !(d > 0 && d <= 100)) {
			seterr(err, n, "percentile must be in (0, 100], not '%s'", v);
			return QS_UI_EARG;
		}
		p->calib.percentile = d;
	} else if (strcmp(k, "bins") == 0) {
		if (parse_num(v, &d) < 0 || d != floor(d) || d < 2 || d > 1e7) {
			seterr(err, n, "bins must be an integer >= 2, not '%s'", v);
			return QS_UI_EARG;
		}
		p->calib.bins = (int)d;
	} else if (strcmp(k, "lo") == 0 || strcmp(k, "hi") == 0 ||
		   strcmp(k, "amax") == 0 || strcmp(k, "range") == 0) {
		if (!*fixed_set) {
			double lo = 0, hi = 0;
			if (p->calib.method == QS_CALIB_FIXED) {
				lo = p->calib.lo;
				hi = p->calib.hi;
			} else if (strcmp(k, "lo") == 0 || strcmp(k, "hi") == 0) {
				if (current_range(s, &lo, &hi, err, n) < 0)
					return QS_UI_EARG;
			}
			*flo = lo;
			*fhi = hi;
			*fixed_set = 1;
		}
		if (strcmp(k, "range") == 0) {
			if (parse_pair(v, flo, fhi) < 0) {
				seterr(err, n, "range wants {lo, hi}");
				return QS_UI_EARG;
			}
		} else if (parse_num(v, &d) < 0 || isinf(d)) {
			seterr(err, n, "%s must be a finite number, not '%s'", k, v);
			return QS_UI_EARG;
		} else if (k[0] == 'l') {
			*flo = d;
		} else if (k[0] == 'h') {
			*fhi = d;
		} else {
			*flo = -fabs(d);
			*fhi = fabs(d);
		}
	} else if (strcmp(k, "log") == 0) {
		if (parse_bool(v, &b) < 0)
			return list_error(err, n, "log value", v, "true, false");
		vs->log = b;
	} else if (strcmp(k, "zoom") == 0) {
		double a, e;
		if (parse_bool(v, &b) == 0 && !b) {
			vs->zoomed = 0;
		} else if (strcmp(v, "reset") == 0) {
			vs->zoomed = 0;
		} else if (parse_pair(v, &a, &e) == 0 && e > a) {
			vs->zoomed = 1;
			vs->vlo = a;
			vs->vhi = e;
		} else {
			seterr(err, n, "zoom wants {lo, hi} with lo < hi, or false");
			return QS_UI_EARG;
		}
	} else if (strcmp(k, "view") == 0) {
		if (strcmp(v, "compare") == 0)
			vs->lower = LOWER_COMPARE;
		else if (strcmp(v, "channels") == 0)
			vs->lower = LOWER_CHANNELS;
		else
			return list_error(err, n, "view", v, "compare, channels");
	} else if (strcmp(k, "terminal") == 0) {
		if (strcmp(v, "native") != 0) {
			seterr(err, n, "terminal '%s' is not available (accepted: native)", v);
			return QS_UI_EARG;
		}
	} else if (strcmp(k, "traceback") == 0) {
		if (parse_bool(v, &b) < 0)
			return list_error(err, n, "traceback value", v, "true, false");
		vs->trace = b;
	} else if (strcmp(k, "focus") == 0) {
		if (strcmp(v, "keys") == 0 || strcmp(v, "view") == 0)
			vs->cmd = 0;
		else if (strcmp(v, "command") == 0 || strcmp(v, "lua") == 0)
			vs->cmd = 1;
		else
			return list_error(err, n, "focus", v, "keys, command");
	}
	return 0;
}

static int set_all(int n, const char *const *keys, const char *const *vals,
		   char *err, size_t errlen);

static int op_set(void *ud, int n, const char *const *keys,
		  const char *const *vals, char *err, size_t errlen)
{
	(void)ud;
	for (int i = 0; i < n; i++)
		if (key_rank(keys[i]) < 0) {
			size_t k = (size_t)snprintf(err, errlen,
						    "unknown key '%s' (accepted:", keys[i]);
			for (int j = 0; set_keys[j] && k < errlen; j++)
				k += (size_t)snprintf(err + k, errlen - k, "%s %s",
						      j ? "," : "", set_keys[j]);
			if (k < errlen)
				snprintf(err + k, errlen - k, ")");
			return QS_UI_EARG;
		}
	T.from_lua = 1; /* a range to fix may have to be waited for */
	int st = set_all(n, keys, vals, err, errlen);
	T.from_lua = 0;
	return st;
}

/* ui.set's work (op_set). */
static int set_all(int n, const char *const *keys, const char *const *vals,
		   char *err, size_t errlen)
{
	wb_settings s;
	wb_settings_get(T.m, &s);
	view_state vs = {T.log_scale, T.zoomed, T.lower, T.show_trace,
			 T.cmd_mode, T.vlo, T.vhi};
	int fixed_set = 0, group_given = 0, gran_given = 0;
	double flo = 0, fhi = 0;
	/* in a fixed order: tensor first, the range last */
	for (int rank = 0; set_keys[rank]; rank++)
		for (int i = 0; i < n; i++) {
			if (key_rank(keys[i]) != rank)
				continue;
			group_given |= strcmp(keys[i], "group") == 0;
			gran_given |= strcmp(keys[i], "granularity") == 0;
			int st = set_one(&s, &vs, &fixed_set, &flo, &fhi,
					 keys[i], vals[i], err, errlen);
			if (st < 0)
				return st;
		}
	if (group_given && !gran_given)
		s.spec.granularity = QS_GRAN_GROUP; /* as in qs.quantize */
	if (fixed_set) {
		if (!(flo <= fhi)) {
			seterr(err, errlen, "lo (%g) must not exceed hi (%g)", flo, fhi);
			return QS_UI_EARG;
		}
		s.spec.calib.method = QS_CALIB_FIXED;
		s.spec.calib.lo = flo;
		s.spec.calib.hi = fhi;
	}
	T.log_scale = vs.log;
	T.zoomed = vs.zoomed;
	T.vlo = vs.vlo;
	T.vhi = vs.vhi;
	T.lower = vs.lower;
	T.show_trace = vs.trace;
	if (vs.cmd != T.cmd_mode)
		set_mode(vs.cmd);
	apply(&s);
	return 0;
}

static int op_action(void *ud, const char *name, char *err, size_t n)
{
	(void)ud;
	T.from_lua = 1;
	int st = run_action(name, err, n);
	T.from_lua = 0;
	return st;
}

/* Wait for a computation on behalf of Lua; Ctrl-C interrupts. */
static int lua_wait(int (*fn)(wb *, int, volatile int *), char *err, size_t n)
{
	while (!fn(T.m, 200, (volatile int *)&got_sigint)) {
		if (got_sigint || got_term) {
			seterr(err, n, "interrupted!");
			return QS_UI_EINTR;
		}
	}
	return 0;
}

static int op_state(void *ud, qs_ui_state *o, char *err, size_t n)
{
	(void)ud;
	if (lua_wait(wb_wait_current, err, n) < 0)
		return QS_UI_EINTR;
	wb_settings s;
	wb_settings_get(T.m, &s);
	wb_tensor *w = wb_tensor_at(T.m, s.tensor);
	memset(o, 0, sizeof *o);
	o->count = wb_count(T.m);
	o->spec = s.spec;
	o->calibrated = s.calibrated;
	if (w) {
		o->tensor = w->t;
		snprintf(o->name, sizeof o->name, "%s", w->name);
		o->index = s.tensor + 1;
		o->stats = w->stats;
	}
	wb_result *r = wb_get(T.m);
	if (r && r->tensor == s.tensor && r->gen == wb_generation(T.m)) {
		if (r->q) {
			o->ready = 1;
			o->metrics = r->q->metrics;
			o->bits = r->q->bits;
			o->nparams = r->q->nparams;
			o->qmin = r->q->qmin;
			o->qmax = r->q->qmax;
			o->lo = r->lo;
			o->hi = r->hi;
			o->scale_min = r->smin;
			o->scale_max = r->smax;
			o->zp_min = r->zmin;
			o->zp_max = r->zmax;
			o->ms = r->ms;
			o->latency_ms = T.last_latency;
		} else {
			snprintf(o->error, sizeof o->error, "%s", r->error);
		}
	}
	wb_put(T.m, r);
	o->log_scale = T.log_scale;
	o->view_lo = T.zoomed ? T.vlo : T.fvlo;
	o->view_hi = T.zoomed ? T.vhi : T.fvhi;
	o->view = T.lower == LOWER_CHANNELS ? "channels" : "compare";
	o->terminal = "native";
	o->focus = T.cmd_mode ? "command" : "keys";
	return 0;
}

static int op_compare(void *ud, qs_ui_row *rows, int max, char *err, size_t n)
{
	(void)ud;
	if (lua_wait(wb_wait_current, err, n) < 0 ||
	    lua_wait(wb_wait_compare, err, n) < 0)
		return QS_UI_EINTR;
	return wb_compare(T.m, rows, max, NULL);
}

static int64_t op_channels(void *ud, qs_ui_channel *out, int64_t max,
			   char *err, size_t n)
{
	(void)ud;
	if (lua_wait(wb_wait_current, err, n) < 0 ||
	    lua_wait(wb_wait_channels, err, n) < 0)
		return QS_UI_EINTR;
	int64_t total = 0;
	if (!out)
		return wb_channels(T.m, 0, NULL, 0, &total, NULL), total;
	return wb_channels(T.m, 0, out, max, &total, NULL);
}

static int op_plot(void *ud, const char *path, char *err, size_t n)
{
	(void)ud;
	(void)path;
	seterr(err, n, "saving plots needs gnuplot through the plot module, "
		       "which this build does not have");
	return QS_UI_EFAIL;
}

static int op_save(void *ud, const char *path, int codes, char *err, size_t n)
{
	(void)ud;
	if (lua_wait(wb_wait_current, err, n) < 0)
		return QS_UI_EINTR;
	wb_result *r = wb_get(T.m);
	wb_tensor *w = r ? wb_tensor_at(T.m, r->tensor) : NULL;
	if (!r || !r->q || !w) {
		seterr(err, n, "%s", r && r->error[0] ? r->error : "nothing quantized");
		wb_put(T.m, r);
		return QS_UI_EFAIL;
	}
	qs_error e;
	qs_tensor *out = codes ? qs_quant_codes(r->q, w->t, &e)
			       : qs_quant_dequant(r->q, w->t, &e);
	wb_put(T.m, r);
	if (!out || qs_npy_save(out, path, &e) < 0) {
		qs_tensor_free(out);
		seterr(err, n, "%s", e.msg);
		return QS_UI_EFAIL;
	}
	qs_tensor_free(out);
	message("saved %s", path);
	return 0;
}

/* Show tensor i (just added). */
static void show_tensor(int i)
{
	wb_settings s;
	wb_settings_get(T.m, &s);
	s.tensor = i;
	if (s.spec.calib.method == QS_CALIB_FIXED)
		s.spec.calib.method = s.calibrated;
	view_reset();
	apply(&s);
}

static int op_open(void *ud, const char *path, char *err, size_t n)
{
	(void)ud;
	qs_error e;
	qs_tensor *t = qs_npy_load(path, &e);
	if (!t) {
		seterr(err, n, "%s", e.msg);
		return QS_UI_EFAIL;
	}
	int i = wb_add(T.m, t, path, &e);
	if (i < 0) {
		seterr(err, n, "%s", e.msg);
		return QS_UI_EFAIL;
	}
	show_tensor(i);
	return i + 1;
}

static int op_add(void *ud, qs_tensor *t, const char *name, char *err,
		  size_t n)
{
	(void)ud;
	qs_error e;
	int i = wb_add(T.m, t, name, &e);
	if (i < 0) {
		seterr(err, n, "%s", e.msg);
		return QS_UI_EFAIL;
	}
	show_tensor(i);
	return i + 1;
}

/* ---- keys ------------------------------------------------------------------------ */

/* A key in view mode. */
static void view_key(int c)
{
	if (T.help) {
		T.help = 0;
		return;
	}
	if (c == 27)
		return;
	const tui_binding *b = tui_binding_for(c);
	if (!b) {
		if (c >= 32 && c < 127)
			message("'%c' is not a key here: ? for help, : for Lua", c);
		return;
	}
	char err[256] = "";
	if (run_action(b->action, err, sizeof err) < 0)
		message("%s", err);
}

/* A byte in command mode: Esc alone leaves for view mode; the rest goes
 * to readline. */
static void command_byte(int c)
{
	if (T.help) {
		T.help = 0;
		if (c == 27) {
			/* the rest of an F1 sequence may follow */
			wtimeout(T.inwin, 30);
			int d;
			while ((d = wgetch(T.inwin)) != ERR)
				;
			nodelay(T.inwin, TRUE);
		}
		return;
	}
	if (c == 27) {
		wtimeout(T.inwin, 40);
		int d = wgetch(T.inwin);
		nodelay(T.inwin, TRUE);
		if (d == ERR) {
			set_mode(0);
			return;
		}
		le_feed(27);
		le_feed(d);
		return;
	}
	le_feed(c);
}

/* ---- set-up and the loop ------------------------------------------------------------ */

static void run_init_lua(void)
{
	char path[4096];
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(path, sizeof path, "%s/qscope/init.lua", xdg);
	else if (home && *home)
		snprintf(path, sizeof path, "%s/.config/qscope/init.lua", home);
	else
		return;
	if (access(path, R_OK) != 0)
		return;
	long mark = tui_out_mark(T.out);
	T.lua_running = 1;
	int st = qs_lua_run_file(T.Q, path, 0, NULL);
	T.lua_running = 0;
	fflush(stdout);
	fflush(stderr);
	if (st < 0) {
		tui_out_line(T.out, OUT_ERROR, "%s", qs_lua_error(T.Q));
		tui_out_mark_error(T.out, mark, qs_lua_error(T.Q));
	} else {
		tui_out_line(T.out, OUT_NOTE, "ran %s", path);
	}
}

static int set_cloexec_nonblock(int fd, int nonblock)
{
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -1;
	if (nonblock) {
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return -1;
	}
	return 0;
}

/* Curses on duplicates of the terminal; stdout and stderr into the
 * capture pipe, stdin from /dev/null (io.read cannot steal keys). */
static int start_screen(void)
{
	for (int i = 0; i < 3; i++)
		T.saved[i] = -1;
	int in = dup(STDIN_FILENO), out = dup(STDOUT_FILENO);
	if (in < 0 || out < 0)
		goto fail_fds;
	set_cloexec_nonblock(in, 0);
	set_cloexec_nonblock(out, 0);
	T.fin = fdopen(in, "r");
	T.fout = fdopen(out, "w");
	if (!T.fin || !T.fout)
		goto fail_fds;
	T.scr = newterm(NULL, T.fout, T.fin);
	if (!T.scr)
		goto fail_fds;
	set_term(T.scr);
	T.active = 1;
	for (int i = 0; i < 3; i++) {
		T.saved[i] = dup(i);
		if (T.saved[i] >= 0)
			set_cloexec_nonblock(T.saved[i], 0);
	}
	if (pipe(T.cap) == 0) {
		set_cloexec_nonblock(T.cap[0], 0);
		set_cloexec_nonblock(T.cap[1], 0);
		fflush(stdout);
		fflush(stderr);
		dup2(T.cap[1], STDOUT_FILENO);
		dup2(T.cap[1], STDERR_FILENO);
		close(T.cap[1]);
		T.cap[1] = -1;
		setvbuf(stdout, NULL, _IOLBF, 0);
		if (pthread_create(&T.cap_thread, NULL, capture_main, NULL) == 0)
			T.cap_started = 1;
	}
	int nul = open("/dev/null", O_RDONLY);
	if (nul >= 0) {
		dup2(nul, STDIN_FILENO);
		close(nul);
	}
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	leaveok(stdscr, TRUE);
	set_escdelay(40);
	T.lines = LINES;
	T.cols = COLS;
	T.inwin = newwin(1, COLS, LINES - 1, 0);
	nodelay(T.inwin, TRUE);
	pane_theme_init(&T.th);
	do_layout();
	return 0;
fail_fds:
	if (T.fin)
		fclose(T.fin);
	else if (in >= 0)
		close(in);
	if (T.fout)
		fclose(T.fout);
	else if (out >= 0)
		close(out);
	T.fin = T.fout = NULL;
	return -1;
}

static void stop_screen(void)
{
	if (T.inwin)
		delwin(T.inwin);
	T.inwin = NULL;
	restore_terminal();
	if (T.cap_started) {
		/* fds 1 and 2 are the terminal again: the pipe's writers are
		 * gone and the thread sees EOF */
		pthread_join(T.cap_thread, NULL);
		T.cap_started = 0;
	}
	if (T.cap[0] >= 0)
		close(T.cap[0]);
	for (int i = 0; i < 3; i++)
		if (T.saved[i] >= 0)
			close(T.saved[i]);
	if (T.scr)
		delscreen(T.scr);
	T.scr = NULL;
	if (T.fin)
		fclose(T.fin);
	if (T.fout)
		fclose(T.fout);
}

static void loop(void)
{
	unsigned long outv = 0;
	uint64_t seen_gen = 0;
	int dirty = 1;
	while (!T.quit && !got_term) {
		if (got_winch) {
			got_winch = 0;
			resize();
			dirty = 1;
		}
		if (got_sigint) {
			got_sigint = 0;
			if (T.cmd_mode) {
				free(T.pending);
				T.pending = NULL;
				le_cancel();
				le_set_prompt("qscope> ");
			} else {
				message("Ctrl-C: q quits");
			}
			dirty = 1;
		}
		unsigned long v = tui_out_version(T.out);
		if (v != outv) {
			outv = v;
			dirty = 1;
		}
		if (dirty) {
			draw();
			dirty = 0;
		}
		struct pollfd p[2] = {{.fd = fileno(T.fin), .events = POLLIN},
				      {.fd = T.wake[0], .events = POLLIN}};
		int timeout = -1;
		double now = wb_clock();
		if (T.msg_until > now)
			timeout = (int)((T.msg_until - now) * 1e3) + 10;
		int r = poll(p, 2, timeout);
		if (r < 0 && errno != EINTR)
			break;
		if (r == 0 && T.msg_until > 0 && wb_clock() >= T.msg_until) {
			T.msg_until = 0;
			dirty = 1;
		}
		if (r > 0 && (p[1].revents & POLLIN)) {
			char buf[256];
			while (read(T.wake[0], buf, sizeof buf) > 0)
				;
			dirty = 1;
		}
		uint64_t g = wb_generation(T.m);
		if (g != seen_gen) {
			seen_gen = g;
			dirty = 1;
		}
		if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			int c, any = 0;
			while (!T.quit && (c = wgetch(T.inwin)) != ERR) {
				any = 1;
				/* resizeterm queues KEY_RESIZE: handled by
				 * SIGWINCH already */
				if (c == KEY_RESIZE || (T.cmd_mode && c > 255))
					continue;
				if (T.cmd_mode)
					command_byte(c);
				else
					view_key(c);
			}
			if (!any && (p[0].revents & (POLLHUP | POLLERR)))
				break; /* the terminal is gone */
			dirty = 1;
		}
	}
}

int qs_tui_main(int nfiles, char **files)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return QS_TUI_NOTERM;
	const char *term = getenv("TERM");
	if (!term || !*term || strcmp(term, "dumb") == 0)
		return QS_TUI_NOTERM;
	memset(&T, 0, sizeof T);
	T.wake[0] = T.wake[1] = T.cap[0] = T.cap[1] = -1;
	T.htensor = -1;
	setlocale(LC_CTYPE, "");
	if (pipe(T.wake) < 0)
		return fputs("qscope: cannot create a pipe\n", stderr), 1;
	set_cloexec_nonblock(T.wake[0], 1);
	set_cloexec_nonblock(T.wake[1], 1);
	T.out = tui_out_new(5000);
	T.m = wb_new(T.wake[1]);
	if (!T.out || !T.m) {
		fputs("qscope: out of memory\n", stderr);
		return 1;
	}
	/* tensors first: a bad file fails before the screen changes */
	for (int i = 0; i < nfiles; i++) {
		qs_error e;
		qs_tensor *t = qs_npy_load(files[i], &e);
		if (!t || wb_add(T.m, t, files[i], &e) < 0) {
			fprintf(stderr, "qscope: %s\n", e.msg);
			wb_free(T.m);
			tui_out_free(T.out);
			return 1;
		}
	}
	install_signals();
	if (start_screen() < 0) {
		wb_free(T.m);
		tui_out_free(T.out);
		close(T.wake[0]);
		close(T.wake[1]);
		signal(SIGINT, SIG_DFL);
		signal(SIGWINCH, SIG_DFL);
		return QS_TUI_NOTERM;
	}
	atexit(at_exit);
	qs_host host = {.write = host_write, .ud = NULL};
	T.Q = qs_lua_new(&host);
	T.ops = (qs_ui_ops){op_set,	op_action, op_state, op_compare,
			    op_channels, op_plot,   op_save,  op_open,
			    op_add,	tui_ui_keys(), NULL};
	if (!T.Q || qs_ui_register(T.Q, &T.ops) < 0) {
		stop_screen();
		fputs("qscope: cannot create the Lua state (out of memory)\n",
		      stderr);
		wb_free(T.m);
		return 1;
	}
	const char *home = getenv("HOME");
	if (home && *home)
		snprintf(T.history, sizeof T.history, "%s/.qscope_history", home);
	le_hooks hooks = {on_line, on_matches, on_le_key, NULL};
	le_init(T.inwin, T.Q, &hooks, T.history[0] ? T.history : NULL);
	set_mode(0);
	tui_out_line(T.out, OUT_NOTE,
		     "qscope %s: keys change the quantizer (? lists them); "
		     ": or Tab opens the Lua prompt (qs.*, ui.*)",
		     PACKAGE_VERSION);
	for (int i = 0; i < nfiles; i++)
		if (qs_lua_open_tensor(T.Q, files[i]) < 0)
			tui_out_line(T.out, OUT_ERROR, "%s", qs_lua_error(T.Q));
	if (nfiles > 0)
		show_tensor(0);
	run_init_lua();
	loop();
	le_shutdown();
	qs_lua_close(T.Q);
	T.Q = NULL;
	wb_free(T.m);
	T.m = NULL;
	stop_screen();
	tui_out_free(T.out);
	free(T.hcounts);
	free(T.pending);
	close(T.wake[0]);
	close(T.wake[1]);
	return 0;
}
