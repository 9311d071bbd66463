/* complete: Tab completion of Lua names (qs.*, globals, fields) for GNU
 * Readline, shared by the plain REPL and the workbench's command line;
 * inside a string literal Readline's file-name completion applies. */
#ifndef QS_TUI_COMPLETE_H
#define QS_TUI_COMPLETE_H

#include "lua/qs_lua.h"

/* Point Readline's completion at Q's names (sets the completion function,
 * word-break and quote characters). */
void qs_complete_install(qs_lua *Q);
/* Free the last match list. */
void qs_complete_free(void);

#endif
