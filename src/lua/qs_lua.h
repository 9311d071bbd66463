/* qs_lua: the Lua 5.4 binding of the engine and the host that runs it.
 *
 * The only part of qscope that includes lua.h.  The module table ("qs")
 * is built by qs_lua_open, shared by the qscope program (package.preload)
 * and the C module qscope.so for stock lua5.4 (luaopen_qscope).  The host
 * owns one lua_State, routes print and errors through a qs_host callback
 * (stdout in script mode, a pane in the workbench), and stops runaway code
 * on request (Ctrl-C) with a hook. */
#ifndef QS_LUA_QS_LUA_H
#define QS_LUA_QS_LUA_H

#include <stddef.h>

typedef struct lua_State lua_State;

/* Where the host sends text. */
typedef struct qs_host {
	/* print, io.write, warnings and error messages */
	void (*write)(void *ud, const char *s, size_t n);
	void *ud;
} qs_host;

typedef struct qs_lua qs_lua;

/* A new state with the standard libraries and `qs` as a global; package.path
 * holds qscope's Lua directory (QSCOPE_LUA_DIR, else the installed one).
 * NULL when out of memory. */
qs_lua *qs_lua_new(const qs_host *host);
void qs_lua_close(qs_lua *Q);
lua_State *qs_lua_state(qs_lua *Q);

/* Run a chunk (name is used in messages).  0 on success; else -1 and the
 * error message (one line) is available from qs_lua_error. */
int qs_lua_run_string(qs_lua *Q, const char *chunk, const char *name);
/* Run a script file with the global `arg` set as lua.c does (arg[0] =
 * script, arg[1..] = args) and the args passed as `...`. */
int qs_lua_run_file(qs_lua *Q, const char *path, int argc, char **argv);
/* One REPL line: an expression (with or without a leading '=') prints its
 * values; otherwise it runs as a statement.  Errors are written to the
 * host with a traceback.  Returns 0, or -1 after an error. */
int qs_lua_repl_line(qs_lua *Q, const char *line);
/* Whether line is an incomplete chunk (REPL continuation). */
int qs_lua_incomplete(qs_lua *Q, const char *line);
/* Load a .npy file as the next entry of the global list `tensors` (and as
 * `t` when it is the first).  0, or -1 with the message in qs_lua_error. */
int qs_lua_open_tensor(qs_lua *Q, const char *path);
/* The last error message, or "". */
const char *qs_lua_error(qs_lua *Q);

/* Ask running Lua code to stop with "interrupted!" (async-signal-safe). */
void qs_lua_interrupt(qs_lua *Q);

/* Completion: call add(ud, match) for each global or field name that
 * extends prefix ("qs.qu" -> "qs.quantize"). */
void qs_lua_complete(qs_lua *Q, const char *prefix,
		     void (*add)(void *ud, const char *match), void *ud);

/* Push the module table (luaopen_qscope's work). */
int qs_lua_open(lua_State *L);

#endif
