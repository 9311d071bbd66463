/* l_tensor: the tensor userdata and qs.load / qs.save / qs.tensor /
 * qs.clock.  Bad arguments raise; failures of the world (missing file,
 * corrupt .npy) return nil, message. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <lua.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "lua/l_internal.h"

int ql_pushfail(lua_State *L, const char *msg)
{
	luaL_pushfail(L);
	lua_pushstring(L, msg);
	return 2;
}

qs_tensor **ql_newtensor(lua_State *L)
{
	qs_tensor **ud = lua_newuserdatauv(L, sizeof *ud, 1);
	*ud = NULL;
	luaL_setmetatable(L, QL_TENSOR);
	return ud;
}

qs_tensor *ql_totensor(lua_State *L, int idx)
{
	qs_tensor **ud = luaL_testudata(L, idx, QL_TENSOR);
	return ud ? *ud : NULL;
}

qs_tensor *ql_checktensor(lua_State *L, int idx)
{
	qs_tensor **ud = luaL_checkudata(L, idx, QL_TENSOR);
	if (!*ud)
		luaL_error(L, "attempt to use a freed tensor");
	return *ud;
}

void ql_pushshape(lua_State *L, int ndim, const int64_t *shape)
{
	lua_createtable(L, ndim, 0);
	for (int i = 0; i < ndim; i++) {
		lua_pushinteger(L, shape[i]);
		lua_rawseti(L, -2, i + 1);
	}
}

/* Push element i exactly: integers as Lua integers (uint64 above
 * INT64_MAX as a float), floating types as floats. */
static void push_elem(lua_State *L, const qs_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case QS_DT_I64:
		lua_pushinteger(L, ((const int64_t *)t->data)[i]);
		return;
	case QS_DT_U64: {
		uint64_t u = ((const uint64_t *)t->data)[i];
		if (u <= (uint64_t)INT64_MAX)
			lua_pushinteger(L, (lua_Integer)u);
		else
			lua_pushnumber(L, (lua_Number)u);
		return;
	}
	case QS_DT_F16:
	case QS_DT_BF16:
	case QS_DT_F8_E4M3:
	case QS_DT_F8_E5M2:
	case QS_DT_F32:
	case QS_DT_F64:
		lua_pushnumber(L, qs_tensor_get(t, i));
		return;
	case QS_DT_BOOL:
		lua_pushboolean(L, ((const uint8_t *)t->data)[i] != 0);
		return;
	default:
		lua_pushinteger(L, (lua_Integer)qs_tensor_get(t, i));
		return;
	}
}

/* __gc and __close: free once, idempotent. */
static int t_free(lua_State *L)
{
	qs_tensor **ud = luaL_checkudata(L, 1, QL_TENSOR);
	qs_tensor_free(*ud);
	*ud = NULL;
	return 0;
}

static int t_stats(lua_State *L)
{
	qs_tensor *t = ql_checktensor(L, 1);
	qs_error err;
	const float *x = qs_tensor_f32(t, &err);
	if (!x)
		return luaL_error(L, "%s", err.msg);
	qs_stats s;
	qs_stats_compute(x, (size_t)t->size, &s);
	lua_createtable(L, 0, 8);
	lua_pushnumber(L, s.min);
	lua_setfield(L, -2, "min");
	lua_pushnumber(L, s.max);
	lua_setfield(L, -2, "max");
	lua_pushnumber(L, s.mean);
	lua_setfield(L, -2, "mean");
	lua_pushnumber(L, s.std);
	lua_setfield(L, -2, "std");
	lua_pushnumber(L, s.absmax);
	lua_setfield(L, -2, "absmax");
	lua_pushinteger(L, s.nan);
	lua_setfield(L, -2, "nan");
	lua_pushinteger(L, s.inf);
	lua_setfield(L, -2, "inf");
	lua_pushinteger(L, s.count);
	lua_setfield(L, -2, "count");
	return 1;
}

/* t:tolist(): the values as a flat Lua list (small tensors). */
static int t_tolist(lua_State *L)
{
	qs_tensor *t = ql_checktensor(L, 1);
	luaL_argcheck(L, t->size <= (1 << 24), 1,
		      "tensor too large for a Lua list");
	lua_createtable(L, (int)t->size, 0);
	for (int64_t i = 0; i < t->size; i++) {
		push_elem(L, t, i);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static const luaL_Reg t_methods[] = {
	{"stats", t_stats},
	{"tolist", t_tolist},
	{NULL, NULL},
};

static int t_index(lua_State *L)
{
	qs_tensor *t = ql_checktensor(L, 1);
	if (lua_type(L, 2) == LUA_TNUMBER) {
		lua_Integer i;
		if (!lua_isinteger(L, 2)) {
			double d = lua_tonumber(L, 2);
			if (d != floor(d))
				return luaL_error(L, "tensor index %f is not an "
						     "integer", d);
			i = (lua_Integer)d;
		} else {
			i = lua_tointeger(L, 2);
		}
		if (i < 1 || i > t->size)
			return luaL_error(L,
					  "tensor index %I out of range "
					  "(1..%I)",
					  (LUAI_UACINT)i, (LUAI_UACINT)t->size);
		push_elem(L, t, i - 1);
		return 1;
	}
	const char *k = luaL_checkstring(L, 2);
	if (strcmp(k, "shape") == 0)
		ql_pushshape(L, t->ndim, t->shape);
	else if (strcmp(k, "dtype") == 0)
		lua_pushstring(L, qs_dtype_name(t->dtype));
	else if (strcmp(k, "size") == 0)
		lua_pushinteger(L, t->size);
	else if (strcmp(k, "ndim") == 0)
		lua_pushinteger(L, t->ndim);
	else if (strcmp(k, "name") == 0)
		lua_pushstring(L, t->name); /* nil when unnamed */
	else {
		for (const luaL_Reg *r = t_methods; r->name; r++)
			if (strcmp(k, r->name) == 0) {
				lua_pushcfunction(L, r->func);
				return 1;
			}
		lua_pushnil(L);
	}
	return 1;
}

static int t_newindex(lua_State *L)
{
	return luaL_error(L, "tensors are read-only");
}

static int t_len(lua_State *L)
{
	lua_pushinteger(L, ql_checktensor(L, 1)->size);
	return 1;
}

static int t_tostring(lua_State *L)
{
	qs_tensor **ud = luaL_checkudata(L, 1, QL_TENSOR);
	if (!*ud) {
		lua_pushliteral(L, "tensor (freed)");
		return 1;
	}
	qs_tensor *t = *ud;
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	luaL_addstring(&b, "tensor ");
	luaL_addstring(&b, qs_dtype_name(t->dtype));
	luaL_addstring(&b, " (");
	for (int i = 0; i < t->ndim; i++) {
		lua_pushfstring(L, "%I%s", (LUAI_UACINT)t->shape[i],
				t->ndim == 1 ? "," : i + 1 < t->ndim ? ", " : "");
		luaL_addvalue(&b);
	}
	luaL_addstring(&b, ")");
	if (t->name) {
		luaL_addstring(&b, " ");
		luaL_addstring(&b, t->name);
	}
	luaL_pushresult(&b);
	return 1;
}

/* qs.load(path): a .npy file here; a name, a part or another format go
 * to l_files.c. */
static int l_load(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	size_t n = strlen(path);
	if (lua_gettop(L) > 1 || n < 4 || strcmp(path + n - 4, ".npy") != 0)
		return ql_load_file(L);
	qs_tensor **ud = ql_newtensor(L);
	qs_error err;
	*ud = qs_npy_load(path, &err);
	if (!*ud)
		return ql_pushfail(L, err.msg);
	return 1;
}

static int l_save(lua_State *L)
{
	qs_tensor *t = ql_checktensor(L, 1);
	const char *path = luaL_checkstring(L, 2);
	qs_error err;
	if (qs_npy_save(t, path, &err) < 0)
		return ql_pushfail(L, err.msg);
	lua_pushboolean(L, 1);
	return 1;
}

/* qs.tensor(list [, shape]) -> float32 tensor */
static int l_tensor(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_Integer n = luaL_len(L, 1);
	int64_t shape[QS_MAX_NDIM];
	int ndim = 1;
	shape[0] = n;
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_Integer nd = luaL_len(L, 2);
		luaL_argcheck(L, nd <= QS_MAX_NDIM, 2, "too many dimensions");
		ndim = (int)nd;
		int64_t count = 1;
		for (int i = 0; i < ndim; i++) {
			lua_geti(L, 2, i + 1);
			int isint;
			lua_Integer d = lua_tointegerx(L, -1, &isint);
			lua_pop(L, 1);
			if (!isint || d < 0)
				return luaL_argerror(L, 2,
						     "shape entries must be "
						     "non-negative integers");
			shape[i] = d;
			if (d && count > INT64_MAX / d)
				return luaL_argerror(L, 2, "shape too large");
			count *= d;
		}
		if (count != n)
			return luaL_error(L,
					  "bad argument #2 to 'tensor' (shape "
					  "holds %I elements, list has %I)",
					  (LUAI_UACINT)count, (LUAI_UACINT)n);
	}
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, 1, i);
		if (lua_type(L, -1) != LUA_TNUMBER)
			return luaL_error(L,
					  "bad argument #1 to 'tensor' "
					  "(element %I is %s, not a number)",
					  (LUAI_UACINT)i, luaL_typename(L, -1));
		lua_pop(L, 1);
	}
	qs_tensor **ud = ql_newtensor(L);
	qs_error err;
	*ud = qs_tensor_new(QS_DT_F32, ndim, shape, &err);
	if (!*ud)
		return luaL_error(L, "%s", err.msg);
	float *f = (*ud)->data;
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, 1, i);
		f[i - 1] = (float)lua_tonumber(L, -1);
		lua_pop(L, 1);
	}
	return 1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* qs.listdir(path) -> sorted list of entry names (no "." or ".."), or
 * nil, message. */
static int l_listdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	DIR *d = opendir(path);
	if (!d)
		return ql_pushfail(L, lua_pushfstring(L, "%s: %s", path,
						       strerror(errno)));
	/* collect into a Lua table first (raises cleanly on OOM after
	 * closedir below would leak d: so names go through the stack) */
	lua_newtable(L);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		lua_pushstring(L, e->d_name);
		lua_rawseti(L, -2, ++n);
	}
	closedir(d);
	/* sort by byte order */
	const char **v = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *v, 0);
	for (int i = 0; i < n; i++) {
		lua_rawgeti(L, -2, i + 1);
		v[i] = lua_tostring(L, -1);
		lua_pop(L, 1); /* still referenced by the table */
	}
	qsort(v, (size_t)n, sizeof *v, cmp_names);
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		lua_pushstring(L, v[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static int l_clock(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (double)ts.tv_sec + ts.tv_nsec * 1e-9);
	return 1;
}

/* qs.threads([n]) -> the thread count (after setting it when n is given;
 * 0 means every processor). */
static int l_threads(lua_State *L)
{
	if (!lua_isnoneornil(L, 1)) {
		lua_Integer n = luaL_checkinteger(L, 1);
		luaL_argcheck(L, n >= 0 && n <= 4096, 1,
			      "thread count must be in 0..4096 (0 = all)");
		qs_threads_set((int)n);
	}
	lua_pushinteger(L, qs_threads_get());
	return 1;
}

static const luaL_Reg funcs[] = {
	{"threads", l_threads},
	{"load", l_load},     {"save", l_save},   {"tensor", l_tensor},
	{"clock", l_clock},   {"listdir", l_listdir},   {NULL, NULL},
};

void ql_open_tensor(lua_State *L)
{
	static const luaL_Reg meta[] = {
		{"__index", t_index},   {"__newindex", t_newindex},
		{"__len", t_len},       {"__tostring", t_tostring},
		{"__gc", t_free},       {"__close", t_free},
		{NULL, NULL},
	};
	luaL_newmetatable(L, QL_TENSOR); /* mod mt */
	luaL_setfuncs(L, meta, 0);
	lua_pushliteral(L, "tensor");
	lua_setfield(L, -2, "__name");
	lua_pop(L, 1); /* mod */
	luaL_setfuncs(L, funcs, 0);
}
