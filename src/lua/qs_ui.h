/* qs_ui: what the Lua table `ui` needs from the workbench.
 *
 * The workbench (src/tui) fills a qs_ui_ops with callbacks and registers
 * it; l_ui.c builds the global table `ui` on top of it.  The Lua layer
 * never includes curses or readline: it reaches the screen only through
 * these callbacks, which run on the thread that runs Lua.
 *
 * Errors: a callback returns QS_UI_EARG for a bad argument (the Lua
 * function raises) or QS_UI_EFAIL when the world failed (a file could not
 * be written, gnuplot is missing: the Lua function returns nil, message),
 * after writing one line into err (errlen bytes); QS_UI_EINTR when Ctrl-C
 * stopped a wait (the Lua function raises "interrupted!"). */
#ifndef QS_LUA_QS_UI_H
#define QS_LUA_QS_UI_H

#include <stddef.h>
#include <stdint.h>

#include "engine/qs_engine.h"
#include "lua/qs_lua.h"

enum { QS_UI_OK = 0, QS_UI_EARG = -1, QS_UI_EFAIL = -2, QS_UI_EINTR = -3 };

/* A snapshot of the workbench: the current tensor, spec and result. */
typedef struct qs_ui_state {
	const qs_tensor *tensor; /* borrowed for the call; NULL: none loaded */
	char name[256];          /* display name of the tensor */
	int index, count;        /* 1-based current tensor, tensors loaded */
	qs_stats stats;          /* of the tensor's finite values */
	qs_spec spec;            /* calib.method is QS_CALIB_FIXED when the
				  * range was set by hand */
	qs_calib_method calibrated; /* the method `reset` returns to */
	int ready;               /* 1: the fields below describe spec */
	char error[256];         /* why the quantization failed, or "" */
	qs_metrics metrics;
	double bits;             /* storage bits per element */
	int64_t nparams;         /* 1, channels or groups */
	int64_t qmin, qmax;
	double lo, hi;           /* clipping range; extremes over params */
	double scale_min, scale_max, zp_min, zp_max;
	double ms;               /* time the result took to compute */
	double latency_ms;       /* last change: from the key (or ui call)
				  * to its result on the screen; 0 unknown */
	int log_scale;           /* histogram counts on a log scale */
	double view_lo, view_hi; /* histogram x range */
	const char *view;        /* lower pane: "compare" or "channels" */
	const char *terminal;    /* histogram: "native", "dumb", "sixel",
				  * "window" */
	const char *focus;       /* "view" or "command" */
} qs_ui_state;

/* One row of the compare table (one calibration method). */
typedef struct qs_ui_row {
	qs_calib_method method;
	int done;     /* 1 computed, -1 failed (error), 0 still pending */
	int current;  /* the current spec's method */
	qs_metrics metrics;
	double lo, hi, scale, zero_point; /* per tensor; extremes otherwise */
	double ms;
	char error[160];
} qs_ui_row;

/* One channel (or group) of the channels view. */
typedef struct qs_ui_channel {
	int64_t index; /* 0-based along the axis (or group number) */
	double lo, hi; /* min and max of its finite values */
	int has_metrics;
	qs_metrics metrics; /* its error under the current quantizer */
} qs_ui_channel;

/* A key binding, for ui.keys() and the help overlay. */
typedef struct qs_ui_key {
	const char *keys;   /* "c", "Left", "F1", "? F1" */
	const char *action; /* name for ui.action */
	const char *help;   /* one line */
} qs_ui_key;

typedef struct qs_ui_ops {
	/* Apply n settings key = value (values as text: numbers "%.17g",
	 * booleans "true"/"false", ranges "lo,hi") all at once: on error
	 * nothing changes. */
	int (*set)(void *ud, int n, const char *const *keys,
		   const char *const *vals, char *err, size_t errlen);
	/* Perform the action bound to a key ("calib_next", "bits_up"...). */
	int (*action)(void *ud, const char *name, char *err, size_t errlen);
	/* Fill *out; waits (Ctrl-C interrupts) until the result of the
	 * current spec is ready. */
	int (*state)(void *ud, qs_ui_state *out, char *err, size_t errlen);
	/* Copy up to max compare rows, best first, after waiting for all of
	 * them; returns the count (>= 0) or an error. */
	int (*compare)(void *ud, qs_ui_row *rows, int max, char *err,
		       size_t errlen);
	/* Copy up to max channels, worst first (in index order when the
	 * quantizer is per tensor); returns the count or an error.  With out
	 * NULL, only the count of channels available. */
	int64_t (*channels)(void *ud, qs_ui_channel *out, int64_t max,
			    char *err, size_t errlen);
	/* Save the histogram plot (png, svg or pdf by the extension). */
	int (*plot)(void *ud, const char *path, char *err, size_t errlen);
	/* Save the quantized tensor as .npy: dequantized float32, or the
	 * integer codes when codes is set. */
	int (*save)(void *ud, const char *path, int codes, char *err,
		    size_t errlen);
	/* Load a .npy file as a new tensor and show it; returns its 1-based
	 * index or an error. */
	int (*open)(void *ud, const char *path, char *err, size_t errlen);
	/* Take ownership of t (a private copy) under name and show it;
	 * returns its 1-based index or an error (t is freed then too). */
	int (*add)(void *ud, qs_tensor *t, const char *name, char *err,
		   size_t errlen);
	const qs_ui_key *keys; /* bindings, ended by a NULL action */
	void *ud;
} qs_ui_ops;

/* Create the global table `ui` in Q's state bound to ops (which must
 * outlive the state).  0, or -1 when out of memory. */
int qs_ui_register(qs_lua *Q, const qs_ui_ops *ops);

#endif
