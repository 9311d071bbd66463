/* plot: figures for qscope built as gnuplot scripts from plain arrays.
 *
 * Every figure goes through a gp_session (gp.h) to a plot_target: text
 * from gnuplot's dumb terminal (mono or ANSI colours) returned as a string
 * for a curses pane or a test; a png, svg or pdf file chosen by the
 * extension, written to a temporary file in the target directory and
 * renamed into place only when gnuplot succeeded (a failure leaves any old
 * file as it was); sixel image text (sixelgd); or a persistent window
 * (qt, wxt or x11, when a display exists).
 *
 * Data is written as datablocks with %.9g; rows holding a non-finite
 * value are skipped.  Titles and labels are used literally (no enhanced
 * text); they must not contain newlines (GP_EINVAL).
 *
 * Errors as in gp.h: GP_OK or a negative GP_E* code with one line in err
 * (errlen bytes, may be NULL).  File errors name the file.  On success
 * *text (when text is not NULL) receives a new NUL-terminated string the
 * caller frees with free() for PLOT_TEXT, PLOT_ANSI and PLOT_SIXEL, and
 * NULL for PLOT_FILE and PLOT_WINDOW; it is untouched on failure.
 *
 * Depends on libc, POSIX and gp only; no engine types. */
#ifndef QS_PLOT_PLOT_H
#define QS_PLOT_PLOT_H

#include <stddef.h>

#include "plot/gp.h"

typedef enum plot_mode {
	PLOT_TEXT = 0, /* dumb terminal, plain characters */
	PLOT_ANSI,     /* dumb terminal with ANSI colours (SGR 30-37, 90-97) */
	PLOT_FILE,  /* path: .png (pngcairo, else png), .svg, .pdf (pdfcairo) */
	PLOT_SIXEL, /* sixelgd image as text (ESC P ... ESC \) */
	PLOT_WINDOW /* a persistent qt, wxt or x11 window (needs a display) */
} plot_mode;

typedef struct plot_target {
	plot_mode mode;
	const char *path; /* PLOT_FILE only; the extension picks the format */
	int width;	  /* text: columns (0: 80); else pixels (0: 960) */
	int height;	  /* text: rows (0: 24); else pixels (0: 600) */
} plot_target;

/* Render a gnuplot script body (plot commands and the settings they need,
 * no `set terminal` or `set output`) to t.  The session is reset first
 * (`reset`, old datablocks undefined).  Used by the figures below and for
 * user scripts. */
int plot_render(gp_session *g, const plot_target *t, const char *body,
		char **text, char *err, size_t errlen);

/* A histogram of a tensor's values with its quantizer: bars, the clipping
 * range as two vertical markers with the clipped bins in a second colour
 * and their count in the legend, and the quantization grid as thin ticks
 * along the bottom (every k-th level when there are more than the width
 * can show; the legend says which). */
typedef struct plot_hist_data {
	const double *edges;  /* nbins + 1 ascending bin edges */
	const double *counts; /* nbins counts (>= 0) */
	size_t nbins;	      /* >= 1 */
	int log_y;	      /* logarithmic count axis (empty bins vanish) */
	int clip;	      /* draw the clipping range [clip_lo, clip_hi] */
	double clip_lo, clip_hi;
	int clip_counts; /* with clip: below and above are exact counts
			  * of clipped values; else they are estimated
			  * from the bins (uniform within a bin) */
	double below, above;
	const double *grid; /* ngrid representable values, or NULL */
	size_t ngrid;
	int zoom; /* x range [xmin, xmax] instead of all data */
	double xmin, xmax;
	const char *title;  /* or NULL */
	const char *xlabel; /* or NULL: "value" */
} plot_hist_data;

int plot_hist(gp_session *g, const plot_target *t, const plot_hist_data *d,
	      char **text, char *err, size_t errlen);

/* Curves of a sweep: rows (x[i], y[i], series[i]); rows with equal series
 * labels form one line, drawn in the order the labels first appear, each
 * sorted by x.  E.g. SQNR against bits, one line per calibration method. */
typedef struct plot_sweep_data {
	const double *x, *y;	   /* n each */
	const char *const *series; /* n labels, or NULL: one unnamed series */
	size_t n;		   /* >= 1 */
	int log_x, log_y;	   /* logarithmic axes (values <= 0 skipped) */
	const char *title, *xlabel, *ylabel; /* or NULL */
} plot_sweep_data;

int plot_sweep(gp_session *g, const plot_target *t, const plot_sweep_data *d,
	       char **text, char *err, size_t errlen);

/* Per-channel ranges (like AIMET's weight range plot): the band from min
 * to max per channel index 0..n-1, the mean, optionally the per-tensor
 * clipping range as horizontal lines, and optionally the SQNR of each
 * channel (dB) on the right axis. */
typedef struct plot_channels_data {
	const double *min, *max; /* n each */
	const double *mean;	 /* n, or NULL */
	const double *sqnr;	 /* n SQNR in dB, or NULL */
	size_t n;		 /* >= 1 */
	int clip;		 /* draw [clip_lo, clip_hi] */
	double clip_lo, clip_hi;
	const char *title, *xlabel; /* or NULL; xlabel default "channel" */
} plot_channels_data;

int plot_channels(gp_session *g, const plot_target *t,
		  const plot_channels_data *d, char **text, char *err,
		  size_t errlen);

/* The transfer function of a quantizer: input x[i] -> dequantized y[i]
 * (sample densely to see the staircase), the identity y = x for
 * reference, and the clipping range as vertical markers. */
typedef struct plot_transfer_data {
	const double *x, *y; /* n each, x ascending */
	size_t n;	     /* >= 2 */
	int clip;
	double clip_lo, clip_hi;
	const char *title, *xlabel, *ylabel; /* or NULL */
} plot_transfer_data;

int plot_transfer(gp_session *g, const plot_target *t,
		  const plot_transfer_data *d, char **text, char *err,
		  size_t errlen);

#endif
