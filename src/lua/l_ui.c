/* l_ui: the Lua table `ui`, the scripting side of the workbench.
 *
 * Every key of the workbench has a Lua equivalent here, so scripts and
 * ~/.config/qscope/init.lua drive the same state as the keyboard.  The
 * table talks to the screen only through the qs_ui_ops callbacks
 * (qs_ui.h): no curses here.  Bad arguments raise; failures of the world
 * (a file that cannot be written, no gnuplot) return nil, message. */
#include "config.h"
#include "lua/qs_ui.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/l_internal.h"

static const char *const REGKEY = "qscope.ui";

static const qs_ui_ops *ops_of(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, REGKEY);
	const qs_ui_ops *ops = lua_touserdata(L, -1);
	lua_pop(L, 1);
	if (!ops)
		luaL_error(L, "the workbench is not running");
	return ops;
}

/* Raise (bad argument) or return nil, message after a failed callback;
 * fname names the Lua function in the message. */
static int failed(lua_State *L, int st, const char *fname, const char *err)
{
	if (st == QS_UI_EFAIL)
		return ql_pushfail(L, err);
	if (st == QS_UI_EINTR)
		return luaL_error(L, "interrupted!");
	return luaL_error(L, "bad argument #1 to '%s' (%s)", fname, err);
}

/* A setting value as text: numbers, booleans, strings and {lo, hi}. */
static const char *value_text(lua_State *L, int idx, const char *key)
{
	idx = lua_absindex(L, idx);
	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
		return lua_tostring(L, idx);
	case LUA_TBOOLEAN:
		return lua_toboolean(L, idx) ? "true" : "false";
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx)) {
			char buf[32];
			snprintf(buf, sizeof buf, "%lld",
				 (long long)lua_tointeger(L, idx));
			return lua_pushstring(L, buf);
		} else {
			char buf[64];
			snprintf(buf, sizeof buf, "%.17g", lua_tonumber(L, idx));
			return lua_pushstring(L, buf);
		}
	case LUA_TTABLE: {
		lua_geti(L, idx, 1); /* ... a */
		lua_geti(L, idx, 2); /* ... a b */
		if (!lua_isnumber(L, -2) || !lua_isnumber(L, -1))
			luaL_error(L, "bad argument #1 to 'set' ('%s' wants "
				      "a number pair {lo, hi})", key);
		char buf[96];
		snprintf(buf, sizeof buf, "%.17g,%.17g", lua_tonumber(L, -2),
			 lua_tonumber(L, -1));
		lua_pop(L, 2);
		return lua_pushstring(L, buf);
	}
	default:
		luaL_error(L, "bad argument #1 to 'set' ('%s' cannot be a %s)",
			   key, luaL_typename(L, idx));
		return NULL;
	}
}

/* ui.set{key = value, ...}: change several settings at once. */
static int u_set(lua_State *L)
{
	const qs_ui_ops *ops = ops_of(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	int n = 0;
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		lua_pop(L, 1);
		n++;
	}
	const char **keys = lua_newuserdatauv(L, sizeof(char *) * (size_t)(2 * n + 1), 0);
	const char **vals = keys + n;
	/* the strings stay on the stack above the scratch block */
	lua_createtable(L, 2 * n, 0); /* scratch anchors */
	int anchors = lua_gettop(L), i = 0, k = 0;
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		if (lua_type(L, -2) != LUA_TSTRING)
			return luaL_error(L, "bad argument #1 to 'set' (keys "
					     "must be strings, got a %s)",
					  luaL_typename(L, -2));
		keys[i] = lua_tostring(L, -2);
		vals[i] = value_text(L, -1, keys[i]);
		if (lua_gettop(L) > anchors + 2) /* a converted value */
			lua_rawseti(L, anchors, ++k);
		lua_pop(L, 1);
		i++;
	}
	char err[512] = "";
	int st = ops->set(ops->ud, n, keys, vals, err, sizeof err);
	if (st < 0)
		return failed(L, st, "set", err);
	return 0;
}

static void setnum(lua_State *L, const char *k, double v)
{
	lua_pushnumber(L, v);
	lua_setfield(L, -2, k);
}

static void setint(lua_State *L, const char *k, long long v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, k);
}

static void setstr(lua_State *L, const char *k, const char *v)
{
	if (!v)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static void setbool(lua_State *L, const char *k, int v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

/* The error metrics as a table with qs.error's keys. */
static void push_metrics(lua_State *L, const qs_metrics *m)
{
	lua_createtable(L, 0, 12);
	setnum(L, "mse", m->mse);
	setnum(L, "rmse", m->rmse);
	setnum(L, "sqnr_db", m->sqnr_db);
	setnum(L, "max_abs", m->max_abs);
	setnum(L, "mean_abs", m->mean_abs);
	setnum(L, "cosine", m->cosine);
	setnum(L, "clipped", m->clipped);
	setnum(L, "bias", m->bias);
	setint(L, "count", m->count);
	setint(L, "n_clipped", m->n_clipped);
	setint(L, "nan", m->nan);
	setint(L, "inf", m->inf);
}

/* ui.get() -> table: the tensor, the spec, the result and the view. */
static int u_get(lua_State *L)
{
	const qs_ui_ops *ops = ops_of(L);
	qs_ui_state s;
	char err[512] = "";
	memset(&s, 0, sizeof s);
	int st = ops->state(ops->ud, &s, err, sizeof err);
	if (st < 0)
		return failed(L, st, "get", err);
	lua_createtable(L, 0, 40);
	setint(L, "index", s.index);
	setint(L, "count", s.count);
	if (s.tensor) {
		setstr(L, "tensor", s.name);
		ql_pushshape(L, s.tensor->ndim, s.tensor->shape);
		lua_setfield(L, -2, "shape");
		setstr(L, "dtype", qs_dtype_name(s.tensor->dtype));
		lua_createtable(L, 0, 8);
		setnum(L, "min", s.stats.min);
		setnum(L, "max", s.stats.max);
		setnum(L, "mean", s.stats.mean);
		setnum(L, "std", s.stats.std);
		setnum(L, "absmax", s.stats.absmax);
		setint(L, "count", s.stats.count);
		setint(L, "nan", s.stats.nan);
		setint(L, "inf", s.stats.inf);
		lua_setfield(L, -2, "stats");
	}
	const qs_spec *p = &s.spec;
	setstr(L, "format", p->format);
	setint(L, "bits", p->bits);
	setstr(L, "scheme", qs_scheme_name(p->scheme));
	setbool(L, "narrow", p->narrow);
	setstr(L, "granularity", qs_granularity_name(p->granularity));
	setint(L, "axis", p->axis);
	setint(L, "group", p->group);
	setstr(L, "calib", qs_calib_name(p->calib.method));
	setstr(L, "calibrated", qs_calib_name(s.calibrated));
	setbool(L, "fixed", p->calib.method == QS_CALIB_FIXED);
	setstr(L, "rounding", qs_rounding_name(p->rounding));
	setbool(L, "ready", s.ready);
	if (s.error[0])
		setstr(L, "error", s.error);
	if (s.ready) {
		setnum(L, "lo", s.lo);
		setnum(L, "hi", s.hi);
		if (s.nparams == 1) {
			setnum(L, "scale", s.scale_min);
			setnum(L, "zero_point", s.zp_min);
		} else {
			lua_createtable(L, 2, 0);
			lua_pushnumber(L, s.scale_min);
			lua_rawseti(L, -2, 1);
			lua_pushnumber(L, s.scale_max);
			lua_rawseti(L, -2, 2);
			lua_setfield(L, -2, "scale");
			lua_createtable(L, 2, 0);
			lua_pushnumber(L, s.zp_min);
			lua_rawseti(L, -2, 1);
			lua_pushnumber(L, s.zp_max);
			lua_rawseti(L, -2, 2);
			lua_setfield(L, -2, "zero_point");
		}
		setint(L, "nparams", s.nparams);
		setint(L, "qmin", s.qmin);
		setint(L, "qmax", s.qmax);
		setnum(L, "storage_bits", s.bits);
		setnum(L, "ms", s.ms);
		if (s.latency_ms > 0)
			setnum(L, "latency_ms", s.latency_ms);
		push_metrics(L, &s.metrics);
		lua_setfield(L, -2, "metrics");
		setnum(L, "sqnr_db", s.metrics.sqnr_db);
		setnum(L, "mse", s.metrics.mse);
	}
	setbool(L, "log", s.log_scale);
	lua_createtable(L, 2, 0);
	lua_pushnumber(L, s.view_lo);
	lua_rawseti(L, -2, 1);
	lua_pushnumber(L, s.view_hi);
	lua_rawseti(L, -2, 2);
	lua_setfield(L, -2, "zoom");
	setstr(L, "view", s.view);
	setstr(L, "terminal", s.terminal);
	setstr(L, "focus", s.focus);
	return 1;
}

/* ui.action(name): what the key bound to name does. */
static int u_action(lua_State *L)
{
	const qs_ui_ops *ops = ops_of(L);
	const char *name = luaL_checkstring(L, 1);
	char err[512] = "";
	int st = ops->action(ops->ud, name, err, sizeof err);
	if (st < 0)
		return failed(L, st, "action", err);
	return 0;
}

/* Aliases for the commonest actions. */
static int u_reset(lua_State *L)
{
	lua_settop(L, 0);
	lua_pushliteral(L, "range_reset");
	return u_action(L);
}

static int u_quit(lua_State *L)
{
	lua_settop(L, 0);
	lua_pushliteral(L, "quit");
	return u_action(L);
}

/* Wrap a list as qs.rows(list, columns) when lib.lua is loaded, so it
 * prints as an aligned table. */
static void as_rows(lua_State *L, const char *const *cols)
{
	lua_getglobal(L, "qs");             /* list qs */
	if (lua_type(L, -1) == LUA_TTABLE) {
		lua_getfield(L, -1, "rows");  /* list qs rows */
		if (lua_isfunction(L, -1)) {
			lua_pushvalue(L, -3); /* list qs rows list */
			lua_newtable(L);
			for (int i = 0; cols[i]; i++) {
				lua_pushstring(L, cols[i]);
				lua_rawseti(L, -2, i + 1);
			}
			if (lua_pcall(L, 2, 1, 0) == LUA_OK)
				lua_pop(L, 1); /* rows() returns the list */
			else
				lua_pop(L, 1); /* the message */
			lua_pop(L, 1);
			return;
		}
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
}

/* ui.keys() -> list of {keys, action, help}. */
static int u_keys(lua_State *L)
{
	const qs_ui_ops *ops = ops_of(L);
	lua_newtable(L);
	int n = 0;
	for (const qs_ui_key *k = ops->keys; k && k->action; k++) {
		lua_createtable(L, 0, 3);
		setstr(L, "keys", k->keys);
		setstr(L, "action", k->action);
		setstr(L, "help", k->help);
		lua_rawseti(L, -2, ++n);
	}
	static const char *const cols[] = {"keys", "action", "help", NULL};
	as_rows(L, cols);
	return 1;
}

/* ui.compare() -> rows: every calibration method under the current
 * format and granularity, best first, the current one marked. */
static int u_compare(lua_State *L)
{
	const qs_ui_ops *ops = ops_of(L);
	qs_ui_row *rows = lua_newuserdatauv(L, sizeof *rows * (QS_CALIB_COUNT + 1), 0);
	char err[512] = "";
	int n = ops->compare(ops->ud, rows, QS_CALIB_COUNT + 1, err, sizeof err);
	if (n < 0)
		return failed(L, n, "compare", err);
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		const qs_ui_row *r = &rows[i];
		lua_createtable(L, 0, 16);
		setstr(L, "calib", qs_calib_name(r->method));
		setbool(L, "current", r->current);
		if (r->done == 1) {
			setnum(L, "sqnr_db", r->metrics.sqnr_db);
			setnum(L, "mse", r->metrics.mse);
			setnum(L, "max_abs", r->metrics.max_abs);
			setnum(L, "mean_abs", r->metrics.mean_abs);
			setnum(L, "cosine", r->metrics.cosine);
			setnum(L, "clipped", r->metrics.clipped);
			setnum(L, "bias", r->metrics.bias);
			setnum(L, "lo", r->lo);
			setnum(L, "hi", r->hi);
			setnum(L, "scale", r->scale);
			setnum(L, "zero_point", r->zero_point);
			setnum(L, "ms", r->ms);
		} else if (r->done < 0) {
			setstr(L, "error", r->error);
		}
		lua_rawseti(L, -2, i + 1);
	}
	static const char *const cols[] = {"calib", "sqnr_db", "mse",
					   "clipped", "lo", "hi",
					   "current", NULL};
	as_rows(L, cols);
	return 1;
}

/* ui.channels([n]) -> rows: per-channel (or group) ranges and errors,
 * worst first; at most n rows (default all). */
static int u_channels(lua_State *L)
{
	const qs_ui_ops *ops = ops_of(L);
	lua_Integer max = luaL_optinteger(L, 1, -1);
	char err[512] = "";
	int64_t n = ops->channels(ops->ud, NULL, 0, err, sizeof err);
	if (n < 0)
		return failed(L, (int)n, "channels", err);
	if (max >= 0 && n > max)
		n = max;
	qs_ui_channel *ch = lua_newuserdatauv(L, sizeof *ch * (size_t)(n ? n : 1), 0);
	n = ops->channels(ops->ud, ch, n, err, sizeof err);
	if (n < 0)
		return failed(L, (int)n, "channels", err);
	lua_createtable(L, (int)n, 0);
	for (int64_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 8);
		setint(L, "index", ch[i].index);
		setnum(L, "lo", ch[i].lo);
		setnum(L, "hi", ch[i].hi);
		if (ch[i].has_metrics) {
			setnum(L, "sqnr_db", ch[i].metrics.sqnr_db);
			setnum(L, "mse", ch[i].metrics.mse);
			setnum(L, "max_abs", ch[i].metrics.max_abs);
			setnum(L, "clipped", ch[i].metrics.clipped);
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	static const char *const cols[] = {"index", "lo",      "hi",
					   "sqnr_db", "mse", "max_abs",
					   "clipped", NULL};
	as_rows(L, cols);
	return 1;
}

/* ui.plot(path) -> true | nil, message */
static int u_plot(lua_State *L)
{
	const qs_ui_ops *ops = ops_of(L);
	const char *path = luaL_checkstring(L, 1);
	char err[512] = "";
	int st = ops->plot(ops->ud, path, err, sizeof err);
	if (st < 0)
		return failed(L, st, "plot", err);
	lua_pushboolean(L, 1);
	return 1;
}

/* ui.save(path [, "dequant" | "codes"]) -> true | nil, message */
static int u_save(lua_State *L)
{
	const qs_ui_ops *ops = ops_of(L);
	const char *path = luaL_checkstring(L, 1);
	static const char *const what[] = {"dequant", "codes", NULL};
	int codes = luaL_checkoption(L, 2, "dequant", what);
	char err[512] = "";
	int st = ops->save(ops->ud, path, codes, err, sizeof err);
	if (st < 0)
		return failed(L, st, "save", err);
	lua_pushboolean(L, 1);
	return 1;
}

/* ui.open(path) -> index | nil, message */
static int u_open(lua_State *L)
{
	const qs_ui_ops *ops = ops_of(L);
	const char *path = luaL_checkstring(L, 1);
	char err[512] = "";
	int st = ops->open(ops->ud, path, err, sizeof err);
	if (st < 0)
		return failed(L, st, "open", err);
	lua_pushinteger(L, st);
	return 1;
}

/* ui.add(t [, name]) -> index: show a tensor made in Lua (copied). */
static int u_add(lua_State *L)
{
	const qs_ui_ops *ops = ops_of(L);
	qs_tensor *t = ql_checktensor(L, 1);
	const char *name = luaL_optstring(L, 2, t->name ? t->name : "(lua)");
	qs_error e;
	qs_tensor *c = qs_tensor_dup(t, &e);
	if (!c)
		return luaL_error(L, "%s", e.msg);
	char err[512] = "";
	int st = ops->add(ops->ud, c, name, err, sizeof err);
	if (st < 0)
		return failed(L, st, "add", err);
	lua_pushinteger(L, st);
	return 1;
}

static const luaL_Reg funcs[] = {
	{"set", u_set},         {"get", u_get},     {"action", u_action},
	{"reset", u_reset},     {"quit", u_quit},   {"keys", u_keys},
	{"compare", u_compare}, {"channels", u_channels},
	{"plot", u_plot},       {"save", u_save},   {"open", u_open},
	{"add", u_add},         {NULL, NULL}};

static int open_ui(lua_State *L)
{
	const qs_ui_ops *ops = lua_touserdata(L, 1);
	lua_pushlightuserdata(L, (void *)ops);
	lua_setfield(L, LUA_REGISTRYINDEX, REGKEY);
	luaL_newlib(L, funcs);
	lua_setglobal(L, "ui");
	return 0;
}

int qs_ui_register(qs_lua *Q, const qs_ui_ops *ops)
{
	lua_State *L = qs_lua_state(Q);
	lua_pushcfunction(L, open_ui);
	lua_pushlightuserdata(L, (void *)ops);
	return lua_pcall(L, 1, 0, 0) == LUA_OK ? 0 : (lua_pop(L, 1), -1);
}
