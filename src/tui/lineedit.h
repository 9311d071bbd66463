/* lineedit: GNU Readline hosted inside the curses screen (STYLE §9).
 *
 * Readline runs in callback mode: the workbench reads the keyboard and
 * feeds bytes with le_feed; we draw the line into a one-line window.
 * Readline never touches the terminal (no prep/deprep, output to
 * /dev/null).  History, Emacs keys and Tab completion of Lua names (file
 * names inside strings) work as in the plain REPL.  The only workbench
 * file that includes readline/readline.h. */
#ifndef QS_TUI_LINEEDIT_H
#define QS_TUI_LINEEDIT_H

#include <curses.h>

#include "lua/qs_lua.h"

typedef struct le_hooks {
	/* An accepted line (malloc'd, the hook frees it), or NULL for
	 * Ctrl-D on an empty line. */
	void (*line)(void *ud, char *line);
	/* Completion candidates to show (more than one match). */
	void (*matches)(void *ud, char **matches, int n);
	/* A key bound to a workbench action while typing: "help",
	 * "output_up", "output_down". */
	void (*key)(void *ud, const char *action);
	void *ud;
} le_hooks;

/* Set up readline on win (one line) with completion from Q; history in
 * history_path (may be NULL).  Call after newterm. */
void le_init(WINDOW *win, qs_lua *Q, const le_hooks *hooks,
	     const char *history_path);
/* The window after a resize. */
void le_set_window(WINDOW *win);
/* Feed one input byte to readline. */
void le_feed(int byte);
/* Draw the prompt and line; active shows the cursor, else dims it.
 * Uses wnoutrefresh: the caller calls doupdate. */
void le_draw(int active);
/* Drop the line being typed (Ctrl-C). */
void le_cancel(void);
/* Change the prompt. */
void le_set_prompt(const char *prompt);
/* Replace the line with text, cursor at byte point (-1: end). */
void le_prefill(const char *text, int point);
/* The screen size changed. */
void le_resize(int lines, int cols);
/* Remove the handler and save the history. */
void le_shutdown(void);

#endif
