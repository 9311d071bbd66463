/* repl: the plain read-eval-print loop (GNU Readline, no curses). */
#ifndef QS_TUI_REPL_H
#define QS_TUI_REPL_H

#include "lua/qs_lua.h"

/* Run the REPL on the terminal until Ctrl-D or os.exit.  History lives in
 * ~/.qscope_history; Tab completes qs. names and file paths; Ctrl-C stops a
 * running chunk or clears the line.  Returns the exit status. */
int qs_repl_plain(qs_lua *Q);

#endif
