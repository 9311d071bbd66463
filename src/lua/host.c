/* host: the lua_State of the qscope program (script, REPL and workbench
 * modes) and the module table shared with qscope.so.
 *
 * print and warnings go to the host's write callback; every chunk runs
 * under lua_pcall with a traceback handler; qs_lua_interrupt installs a
 * hook that raises "interrupted!" at the next instruction (lua.c's way of
 * stopping runaway code from a signal handler). */
#define _POSIX_C_SOURCE 200809L
#include "config.h"
#include "lua/qs_lua.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua/l_internal.h"

struct qs_lua {
	lua_State *L;
	size_t mem, mem_limit; /* bytes allocated by Lua, and the cap */
	qs_host host;
	char err[1024];
	volatile sig_atomic_t running;
};

static const char *const REGKEY = "qscope.host";

static qs_lua *host_of(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, REGKEY);
	qs_lua *Q = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return Q;
}

static void out(qs_lua *Q, const char *s, size_t n)
{
	if (Q->host.write)
		Q->host.write(Q->host.ud, s, n);
}

/* print(...): tostring of each argument, tab-separated, to the host. */
static int h_print(lua_State *L)
{
	qs_lua *Q = host_of(L);
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_addchar(&b, '\n');
	luaL_pushresult(&b);
	size_t len;
	const char *s = lua_tolstring(L, -1, &len);
	out(Q, s, len);
	return 0;
}

static void h_warn(void *ud, const char *msg, int tocont)
{
	qs_lua *Q = ud;
	static int cont;
	if (!cont && msg[0] == '@')
		return; /* control messages: ignored */
	if (!cont)
		out(Q, "warning: ", 9);
	out(Q, msg, strlen(msg));
	if (!tocont)
		out(Q, "\n", 1);
	cont = tocont;
}

/* Message handler: the error as a string (lua.c's msghandler), with a
 * traceback when the upvalue is true (REPL), without in headless modes. */
static int msghandler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") &&
		    lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)",
				      luaL_typename(L, 1));
	}
	if (lua_toboolean(L, lua_upvalueindex(1)))
		luaL_traceback(L, L, msg, 1);
	else
		lua_pushstring(L, msg);
	return 1;
}

static void stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	luaL_error(L, "interrupted!");
}

void qs_lua_interrupt(qs_lua *Q)
{
	if (Q && Q->running)
		lua_sethook(Q->L, stop_hook,
			    LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE |
				    LUA_MASKCOUNT,
			    1);
}

/* The first line of a message (script mode prints one line). */
static void keep_error(qs_lua *Q, const char *msg)
{
	size_t n = strcspn(msg, "\n");
	if (n >= sizeof Q->err)
		n = sizeof Q->err - 1;
	memcpy(Q->err, msg, n);
	Q->err[n] = '\0';
}

/* pcall the function below nargs arguments on the stack top. */
static int docall(qs_lua *Q, int nargs, int nres, int with_trace)
{
	lua_State *L = Q->L;
	int base = lua_gettop(L) - nargs;
	lua_pushboolean(L, with_trace);
	lua_pushcclosure(L, msghandler, 1);
	lua_insert(L, base);
	Q->running = 1;
	int st = lua_pcall(L, nargs, nres, base);
	Q->running = 0;
	lua_sethook(L, NULL, 0, 0);
	lua_remove(L, base);
	return st;
}

static int report(qs_lua *Q, int st, int to_host)
{
	if (st == LUA_OK)
		return 0;
	const char *msg = lua_tostring(Q->L, -1);
	if (!msg)
		msg = "(error object is not a string)";
	keep_error(Q, msg);
	if (to_host) {
		out(Q, msg, strlen(msg));
		out(Q, "\n", 1);
	}
	lua_pop(Q->L, 1);
	return -1;
}

const char *qs_lua_error(qs_lua *Q)
{
	return Q->err;
}

lua_State *qs_lua_state(qs_lua *Q)
{
	return Q->L;
}

int qs_lua_run_string(qs_lua *Q, const char *chunk, const char *name)
{
	Q->err[0] = '\0';
	int st = luaL_loadbuffer(Q->L, chunk, strlen(chunk), name);
	if (st == LUA_OK)
		st = docall(Q, 0, 0, 0);
	return report(Q, st, 0);
}

int qs_lua_run_file(qs_lua *Q, const char *path, int argc, char **argv)
{
	lua_State *L = Q->L;
	Q->err[0] = '\0';
	/* arg table as lua.c builds it */
	lua_createtable(L, argc, 1);
	lua_pushstring(L, path);
	lua_rawseti(L, -2, 0);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setglobal(L, "arg");
	int st = luaL_loadfile(L, path);
	if (st == LUA_OK) {
		for (int i = 0; i < argc; i++)
			lua_pushstring(L, argv[i]);
		st = docall(Q, argc, 0, 0);
	}
	return report(Q, st, 0);
}

int qs_lua_open_tensor(qs_lua *Q, const char *path)
{
	static const char chunk[] =
		"local path = ...\n"
		"local x, msg = qs.load(path)\n"
		"if not x then error(msg, 0) end\n"
		"tensors = tensors or {}\n"
		"tensors[#tensors + 1] = x\n"
		"if #tensors == 1 then t = x end\n"
		"print(('%s = %s'):format(#tensors == 1 and 't' or "
		"'tensors[' .. #tensors .. ']', tostring(x)))\n";
	lua_State *L = Q->L;
	Q->err[0] = '\0';
	int st = luaL_loadbuffer(L, chunk, sizeof chunk - 1, "=open");
	if (st == LUA_OK) {
		lua_pushstring(L, path);
		st = docall(Q, 1, 0, 0);
	}
	return report(Q, st, 0);
}

int qs_lua_incomplete(qs_lua *Q, const char *line)
{
	lua_State *L = Q->L;
	int st = luaL_loadbuffer(L, line, strlen(line), "=stdin");
	int inc = 0;
	if (st == LUA_ERRSYNTAX) {
		size_t lmsg;
		const char *msg = lua_tolstring(L, -1, &lmsg);
		const char *eof = "<eof>";
		size_t le = strlen(eof);
		inc = lmsg >= le && strcmp(msg + lmsg - le, eof) == 0;
	}
	lua_pop(L, 1);
	return inc;
}

int qs_lua_repl_line(qs_lua *Q, const char *line)
{
	lua_State *L = Q->L;
	Q->err[0] = '\0';
	const char *expr = line[0] == '=' ? line + 1 : line;
	int top = lua_gettop(L);
	const char *ret = lua_pushfstring(L, "return %s;", expr);
	int st = luaL_loadbuffer(L, ret, strlen(ret), "=stdin");
	lua_remove(L, -2); /* the "return" string */
	if (st != LUA_OK) {
		lua_pop(L, 1);
		st = luaL_loadbuffer(L, line, strlen(line), "=stdin");
	}
	if (st == LUA_OK)
		st = docall(Q, 0, LUA_MULTRET, 1);
	if (st != LUA_OK)
		return report(Q, st, 1);
	int n = lua_gettop(L) - top;
	if (n > 0) {
		lua_getglobal(L, "print");
		lua_insert(L, top + 1);
		if (lua_pcall(L, n, 0, 0) != LUA_OK)
			return report(Q, LUA_ERRRUN, 1);
	}
	lua_settop(L, top);
	return 0;
}

void qs_lua_complete(qs_lua *Q, const char *prefix,
		     void (*add)(void *ud, const char *match), void *ud)
{
	lua_State *L = Q->L;
	int top = lua_gettop(L);
	const char *dot = strrchr(prefix, '.');
	const char *colon = strrchr(prefix, ':');
	if (colon && (!dot || colon > dot))
		dot = colon;
	lua_pushglobaltable(L);
	const char *p = prefix;
	const char *last = dot ? dot + 1 : prefix;
	/* walk the table path a.b.c */
	while (dot && p < dot) {
		const char *e = p + strcspn(p, ".:");
		lua_pushlstring(L, p, (size_t)(e - p));
		if (lua_type(L, -2) != LUA_TTABLE) {
			lua_settop(L, top);
			return;
		}
		lua_rawget(L, -2);
		lua_remove(L, -2);
		p = e + 1;
	}
	if (lua_type(L, -1) != LUA_TTABLE) {
		lua_settop(L, top);
		return;
	}
	size_t base = (size_t)(last - prefix), ll = strlen(last);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING)
			continue;
		const char *k = lua_tostring(L, -1);
		if (strncmp(k, last, ll) == 0) {
			size_t kl = strlen(k);
			char *m = malloc(base + kl + 1);
			if (!m)
				break;
			memcpy(m, prefix, base);
			memcpy(m + base, k, kl + 1);
			add(ud, m);
			free(m);
		}
	}
	lua_settop(L, top);
}

/* The directory of qscope's shipped Lua code: $QSCOPE_LUA_DIR, else the
 * installed one, else the source tree's (an uninstalled build). */
static const char *lua_dir(void)
{
	const char *dir = getenv("QSCOPE_LUA_DIR");
	if (dir && *dir)
		return dir;
	if (access(QS_PKGDATADIR "/lua/qscope/lib.lua", R_OK) == 0)
		return QS_PKGDATADIR "/lua";
	return QS_SRCDIR "/lua";
}

/* Run lua/qscope/lib.lua with the module table: the part of the API
 * written in Lua (compare tables, sweeps, reports).  Without the file the
 * C functions alone are there. */
static void load_lib(lua_State *L)
{
	lua_pushfstring(L, "%s/qscope/lib.lua", lua_dir()); /* mod path */
	const char *path = lua_tostring(L, -1);
	if (access(path, R_OK) != 0) {
		lua_pop(L, 1);
		return;
	}
	if (luaL_loadfile(L, path) != LUA_OK)
		lua_error(L);
	lua_remove(L, -2);    /* mod chunk */
	lua_pushvalue(L, -2); /* mod chunk mod */
	lua_call(L, 1, 0);    /* mod */
}

int qs_lua_open(lua_State *L)
{
	lua_newtable(L);
	ql_open_tensor(L);
	ql_open_quant(L);
	ql_open_files(L);
	ql_open_matmul(L);
	lua_pushliteral(L, PACKAGE_VERSION);
	lua_setfield(L, -2, "version");
	lua_pushstring(L, lua_dir());
	lua_setfield(L, -2, "lua_dir");
	load_lib(L);
	return 1;
}

/* package.path: qscope's Lua directory first; no relative entries. */
static void set_paths(lua_State *L)
{
	const char *dir = lua_dir();
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "path"); /* pkg path */
	const char *old = lua_tostring(L, -1);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", dir, dir);
	luaL_addvalue(&b);
	/* keep the system's absolute entries, drop "./?.lua"-style ones */
	const char *p = old ? old : "";
	while (*p) {
		const char *e = p + strcspn(p, ";");
		if (*p == '/') {
			luaL_addchar(&b, ';');
			luaL_addlstring(&b, p, (size_t)(e - p));
		}
		p = *e ? e + 1 : e;
	}
	luaL_pushresult(&b);
	lua_setfield(L, -3, "path");
	lua_pop(L, 1);
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "cpath");
	/* require "qscope" gives the built-in module */
	lua_getfield(L, -1, "preload");
	lua_pushcfunction(L, qs_lua_open);
	lua_setfield(L, -2, "qscope");
	lua_pop(L, 2);
}

static int init_state(lua_State *L)
{
	luaL_openlibs(L);
	lua_pushcfunction(L, h_print);
	lua_setglobal(L, "print");
	set_paths(L);
	luaL_requiref(L, "qscope", qs_lua_open, 0);
	lua_setglobal(L, "qs");
	return 0;
}

/* Lua's allocator with a cap (QSCOPE_LUA_MEMORY, in MiB): past it an
 * allocation fails and Lua raises "not enough memory", which the
 * protected call catches, instead of the process eating every page. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	qs_lua *Q = ud;
	if (!ptr)
		osize = 0;
	if (nsize == 0) {
		free(ptr);
		Q->mem -= osize;
		return NULL;
	}
	if (nsize > osize && Q->mem_limit &&
	    Q->mem + (nsize - osize) > Q->mem_limit)
		return NULL;
	void *p = realloc(ptr, nsize);
	if (p)
		Q->mem = Q->mem - osize + nsize;
	return p;
}

qs_lua *qs_lua_new(const qs_host *host)
{
	qs_lua *Q = calloc(1, sizeof *Q);
	if (!Q)
		return NULL;
	Q->host = *host;
	const char *lim = getenv("QSCOPE_LUA_MEMORY");
	if (lim && *lim)
		Q->mem_limit = (size_t)strtoull(lim, NULL, 10) << 20;
	const char *th = getenv("QSCOPE_THREADS");
	if (th && *th)
		qs_threads_set(atoi(th));
	Q->L = lua_newstate(capped_alloc, Q);
	if (!Q->L) {
		free(Q);
		return NULL;
	}
	lua_pushlightuserdata(Q->L, Q);
	lua_setfield(Q->L, LUA_REGISTRYINDEX, REGKEY);
	lua_setwarnf(Q->L, h_warn, Q);
	lua_pushcfunction(Q->L, init_state);
	if (lua_pcall(Q->L, 0, 0, 0) != LUA_OK) {
		lua_close(Q->L);
		free(Q);
		return NULL;
	}
	return Q;
}

void qs_lua_close(qs_lua *Q)
{
	if (!Q)
		return;
	lua_close(Q->L);
	free(Q);
}
