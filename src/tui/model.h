/* model: the workbench's tensors, settings and results, without curses.
 *
 * A tensor's statistics and histogram are computed once, when it is
 * added.  Every change of the settings bumps a generation number; two
 * worker threads do the slow work so the screen never waits: one
 * quantizes the current spec (then breaks its error down per channel),
 * the other fills the compare table (every calibration method under the
 * current format and granularity), row by row.  Results are immutable
 * once published; each publication writes a byte to the notify fd.
 * Per-tensor calibrated ranges are cached, so rounding or format changes
 * redo only the fused quantization pass.  All functions are for the UI
 * thread unless said otherwise; the workers only call the engine. */
#ifndef QS_TUI_MODEL_H
#define QS_TUI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/qs_engine.h"
#include "lua/qs_ui.h"

typedef struct wb_tensor {
	qs_tensor *t;    /* owned */
	char *name;      /* display name, owned */
	const float *x;  /* float32 values (t's data or its cached copy) */
	qs_stats stats;
	double hlo, hhi; /* range of the base histogram */
	int nbins;
	int64_t *hist;   /* nbins counts of the finite values */
} wb_tensor;

/* What the user chose. */
typedef struct wb_settings {
	int tensor;                 /* index, -1 when none is loaded */
	qs_spec spec;               /* calib FIXED: range set by hand */
	qs_calib_method calibrated; /* the method `reset` goes back to */
} wb_settings;

/* One quantization of the current settings (immutable, refcounted). */
typedef struct wb_result {
	int refs;       /* private */
	uint64_t gen;   /* settings generation it answers */
	int tensor;
	qs_spec spec;   /* as asked (calib method as chosen) */
	qs_quant *q;    /* NULL on error or without tensor */
	char error[256];
	double ms;      /* wall time of calibration + quantization */
	double lo, hi;  /* clipping range (extremes over parameters) */
	double smin, smax, zmin, zmax; /* scale and zero point spread */
} wb_result;

typedef struct wb wb;

/* A model whose workers write a byte to notify_fd (non-blocking) after
 * each published result.  NULL when out of memory or threads fail. */
wb *wb_new(int notify_fd);
/* Stop and join the workers, free everything. */
void wb_free(wb *m);

/* Add a tensor (ownership taken, also on failure) under name: computes
 * its statistics and histogram.  Returns its index or -1 with err. */
int wb_add(wb *m, qs_tensor *t, const char *name, qs_error *err);
int wb_count(wb *m);
/* Borrowed; valid until wb_free.  NULL when out of range. */
wb_tensor *wb_tensor_at(wb *m, int i);

void wb_settings_get(wb *m, wb_settings *out);
/* Install new settings and start their computation. */
void wb_settings_set(wb *m, const wb_settings *s);
uint64_t wb_generation(wb *m);

/* The latest published result (a reference: release with wb_put), or
 * NULL before the first one. */
wb_result *wb_get(wb *m);
void wb_put(wb *m, wb_result *r);

/* Wait up to ms for the current generation's result (1) or time out
 * (0).  cancel, if set, is polled every 20 ms. */
int wb_wait_current(wb *m, int ms, volatile int *cancel);
/* Wait for every compare row / the channel breakdown of the current
 * settings. */
int wb_wait_compare(wb *m, int ms, volatile int *cancel);
int wb_wait_channels(wb *m, int ms, volatile int *cancel);

/* The compare table, best (highest SQNR) first, pending rows last, the
 * current method marked; a row for the hand-set range when there is
 * one.  Returns the row count (<= max). */
int wb_compare(wb *m, qs_ui_row *rows, int max, int *pending);

/* The channel breakdown of the current settings: *total rows (worst
 * first when they carry metrics).  Copies rows [start, start + max).
 * Returns the count copied; *ready is 0 while it is being computed. */
int64_t wb_channels(wb *m, int64_t start, qs_ui_channel *out, int64_t max,
		    int64_t *total, int *ready);

/* Calibration methods to cycle through (the engine's, without none and
 * fixed), and format families ("int", "uint", then any further format
 * the engine accepts). */
int wb_methods(const qs_calib_method **out);
int wb_formats(const char *const **out);
/* Set spec's format from a family and bit width ("int", 4 -> int4;
 * families without a width ignore bits).  0 or -1. */
int wb_format_apply(qs_spec *s, const char *family, int bits);
/* The family of a spec's format. */
const char *wb_format_family(const qs_spec *s);

/* Counts of the finite values of t in ncols equal columns over
 * [vlo, vhi): from the base histogram when it is fine enough, else one
 * pass over the data.  out has ncols entries. */
void wb_hist(const wb_tensor *t, double vlo, double vhi, int ncols,
	     double *out);

/* Seconds on the monotonic clock. */
double wb_clock(void);

#endif
