/* outbuf: the text of the output pane (print, io.write, errors).
 *
 * A bounded list of lines, each with a kind that chooses its colour.
 * Writers may be any thread (the stdout capture thread appends too); the
 * UI thread renders it wrapped to the pane width, scrolled back by a
 * number of rows.  No curses here: rendering calls back with row text. */
#ifndef QS_TUI_OUTBUF_H
#define QS_TUI_OUTBUF_H

#include <stddef.h>

enum {
	OUT_TEXT = 0, /* print output */
	OUT_ECHO,     /* a command line as typed */
	OUT_ERROR,    /* an error message */
	OUT_TRACE,    /* traceback lines, hidden unless asked for */
	OUT_NOTE      /* workbench messages */
};

typedef struct tui_out tui_out;

/* A buffer keeping the last max_lines lines.  NULL when out of memory. */
tui_out *tui_out_new(int max_lines);
void tui_out_free(tui_out *o);
/* Append text of a kind; a line is complete at '\n'. Thread-safe. */
void tui_out_write(tui_out *o, const char *s, size_t n, int kind);
/* Print-style convenience: one complete line. */
void tui_out_line(tui_out *o, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* After a failed chunk: the lines written since mark whose text is the
 * error message become OUT_ERROR, the traceback after it OUT_TRACE. */
void tui_out_mark_error(tui_out *o, long mark, const char *msg);
/* A position for tui_out_mark_error (lines appended so far). */
long tui_out_mark(tui_out *o);
/* Changes since the last call (a counter compare). */
unsigned long tui_out_version(tui_out *o);

/* Render the last rows: wrapped to width columns, skipping OUT_TRACE
 * lines unless trace, scrolled back *scroll rows (clamped and written
 * back); calls row(ud, y, text, bytes, kind) for y = 0..height-1 that
 * hold text.  Returns the total number of wrapped rows. */
int tui_out_render(tui_out *o, int width, int height, int *scroll, int trace,
		   void (*row)(void *ud, int y, const char *s, size_t n,
			       int kind),
		   void *ud);

#endif
