/* panes: drawing the workbench's panes into rectangles of stdscr.
 *
 * Pure drawing: every function gets what it shows as arguments and
 * writes with clipping to its rectangle (UTF-8 aware); nothing here
 * computes a quantization.  Colours degrade to attributes (bold, reverse,
 * dim) on monochrome terminals and line drawing to ASCII outside UTF-8. */
#ifndef QS_TUI_PANES_H
#define QS_TUI_PANES_H

#include <curses.h>

#include "lua/qs_ui.h"
#include "tui/model.h"
#include "tui/outbuf.h"

typedef struct pane_rect {
	int y, x, h, w;
} pane_rect;

typedef struct pane_theme {
	int utf8, colors;
	attr_t title, text, dim, bold, bar, clip, mark, grid, err, good,
		fair, poor, hl, mode_view, mode_cmd, status, echo, note;
} pane_theme;

/* Colour pairs (after start_color) or monochrome attributes. */
void pane_theme_init(pane_theme *th);

/* A pane title line: "── Title ─ extra ───". */
void pane_title(const pane_theme *th, pane_rect r, const char *title,
		const char *extra);

/* A vertical rule at column x over rows [y0, y1), joined to a title
 * line on row y0 - 1. */
void pane_vrule(const pane_theme *th, int x, int y0, int y1);

/* What the histogram pane shows. */
typedef struct pane_hist_data {
	const wb_tensor *t;      /* NULL: no tensor */
	const double *counts;    /* ncols = r.w counts over [vlo, vhi] */
	double vlo, vhi;
	int log;
	int markers;             /* draw [mlo, mhi] */
	double mlo, mhi;
	int per_param;           /* markers are extremes over channels */
	const float *grid_scale; /* per-tensor grid: (q - zp) * scale */
	float grid_zp;
	long long qmin, qmax;
	int stale;               /* the result is for older settings */
	const char *note;        /* e.g. "gnuplot missing: native plot" */
	const char *text;        /* gnuplot's dumb rendering, or NULL */
} pane_hist_data;

void pane_hist(const pane_theme *th, pane_rect r, const pane_hist_data *d);

/* The stats pane: tensor statistics, spec, parameters and metrics. */
void pane_stats(const pane_theme *th, pane_rect r, const wb_tensor *t,
		const wb_settings *s, const wb_result *res, int stale,
		double latency_ms);

/* The compare table; *scroll is clamped. */
void pane_compare(const pane_theme *th, pane_rect r, const qs_ui_row *rows,
		  int n, int pending, int *scroll, const char *what);

/* The channels view; rows [scroll, scroll + visible) are in ch.  With
 * per_row > 0 the rows are groups, per_row to a row of the tensor, shown
 * as row:group. */
void pane_channels(const pane_theme *th, pane_rect r, const qs_ui_channel *ch,
		   int64_t n, int64_t total, int ready, int64_t scroll,
		   const wb_tensor *t, const char *what, int64_t per_row);

/* The output pane. */
void pane_output(const pane_theme *th, pane_rect r, tui_out *o, int *scroll,
		 int trace);

/* The status line: mode badge, hints, message on the right. */
void pane_status(const pane_theme *th, pane_rect r, int command_mode,
		 const char *message, int busy);

/* The key help overlay, centred on the screen. */
void pane_help(const pane_theme *th, int lines, int cols);

/* Compact number text ("%.4g", nan, inf) into buf. */
const char *pane_num(char *buf, size_t n, double v, int sig);

#endif
