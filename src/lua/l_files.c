/* l_files: checkpoints from Lua: qs.list(path), the multi-format
 * qs.load(path, name [, part]) (qs.load of a .npy path alone stays in
 * l_tensor.c), and qs.save_tensors(path, tensors [, opts]).  Bad arguments
 * raise; failures of the world return nil, message. */
#include "config.h"

#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#include "engine/file.h"
#include "lua/l_internal.h"

#define QL_LISTING "qscope.listing"

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

/* __gc of the box holding a listing while it is copied into Lua. */
static int listing_gc(lua_State *L)
{
	qs_file_listing **box = luaL_checkudata(L, 1, QL_LISTING);
	qs_file_listing_free(*box);
	*box = NULL;
	return 0;
}

/* qs.list(path) -> list of {name, dtype, file_dtype, shape, size, bytes,
 * supported, file, offset}, with fields format, path and metadata; or
 * nil, message. */
static int l_list(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	qs_file_listing **box = lua_newuserdatauv(L, sizeof *box, 0);
	*box = NULL;
	luaL_setmetatable(L, QL_LISTING); /* box */
	qs_error err;
	qs_file_listing *l = *box = qs_file_list(path, &err);
	if (!l)
		return ql_pushfail(L, err.msg);
	lua_createtable(L, (int)(l->count < 1u << 30 ? l->count : 0), 4);
	for (size_t i = 0; i < l->count; i++) {
		const qs_file_entry *e = &l->entries[i];
		lua_createtable(L, 0, 9); /* box list e */
		set_str(L, "name", e->name);
		set_str(L, "dtype",
			e->supported ? qs_dtype_name(e->dt) : e->dtype);
		set_str(L, "file_dtype", e->dtype);
		ql_pushshape(L, e->ndim, e->shape);
		lua_setfield(L, -2, "shape");
		set_int(L, "size", e->count);
		set_int(L, "bytes", (lua_Integer)e->nbytes);
		lua_pushboolean(L, e->supported);
		lua_setfield(L, -2, "supported");
		set_str(L, "file", e->file);
		set_int(L, "offset", (lua_Integer)e->offset);
		lua_rawseti(L, -2, (lua_Integer)i + 1); /* box list */
	}
	set_str(L, "format", l->format);
	set_str(L, "path", l->path);
	lua_createtable(L, 0, (int)(l->nmeta < 1u << 20 ? l->nmeta : 0));
	for (size_t i = 0; i < l->nmeta; i++)
		set_str(L, l->meta_keys[i], l->meta_values[i]);
	lua_setfield(L, -2, "metadata");
	qs_file_listing_free(l);
	*box = NULL;
	return 1;
}

/* An integer field of the options table at idx, or def when absent. */
static lua_Integer opt_int(lua_State *L, int idx, const char *k,
			   lua_Integer def, int *present)
{
	lua_getfield(L, idx, k);
	*present = !lua_isnil(L, -1);
	lua_Integer v = def;
	if (*present) {
		int isint;
		v = lua_tointegerx(L, -1, &isint);
		if (!isint)
			luaL_error(L,
				   "bad option '%s' to 'load' (an integer "
				   "expected, got %s)",
				   k, luaL_typename(L, -1));
	}
	lua_pop(L, 1);
	return v;
}

/* A {a, b} pair of non-negative integers a <= b in field k. */
static int opt_range(lua_State *L, int idx, const char *k, int64_t *a,
		     int64_t *b)
{
	lua_getfield(L, idx, k);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	if (!lua_istable(L, -1) || luaL_len(L, -1) != 2)
		luaL_error(L,
			   "bad option '%s' to 'load' (a pair {start, "
			   "stop} expected)",
			   k);
	lua_Integer v[2];
	for (int i = 0; i < 2; i++) {
		int isint;
		lua_geti(L, -1, i + 1);
		v[i] = lua_tointegerx(L, -1, &isint);
		lua_pop(L, 1);
		if (!isint || v[i] < 0)
			luaL_error(L,
				   "bad option '%s' to 'load' (start and "
				   "stop must be non-negative integers)",
				   k);
	}
	if (v[0] > v[1])
		luaL_error(L, "bad option '%s' to 'load' (start %I > stop %I)",
			   k, (LUAI_UACINT)v[0], (LUAI_UACINT)v[1]);
	lua_pop(L, 1);
	*a = v[0];
	*b = v[1];
	return 1;
}

/* Parse the part table at idx into sel (raises on misuse). */
static void check_part(lua_State *L, int idx, qs_select *sel)
{
	static const char *const keys[] = {"rows",    "axis",  "range",
					   "channel", "dtype", NULL};
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		int ok = 0;
		if (lua_type(L, -2) == LUA_TSTRING)
			for (int i = 0; keys[i]; i++)
				ok |= strcmp(lua_tostring(L, -2), keys[i]) == 0;
		if (!ok)
			luaL_error(L,
				   "bad argument to 'load' (unknown option "
				   "'%s' (accepted: rows, axis, range, "
				   "channel, dtype))",
				   luaL_tolstring(L, -2, NULL));
		lua_pop(L, 1);
	}
	memset(sel, 0, sizeof *sel);
	sel->all = 1;
	int have_axis, have_ch;
	lua_Integer axis = opt_int(L, idx, "axis", 0, &have_axis);
	lua_Integer ch = opt_int(L, idx, "channel", 0, &have_ch);
	int64_t a, b;
	int have_rows = opt_range(L, idx, "rows", &a, &b);
	int64_t ra = 0, rb = 0;
	int have_range = opt_range(L, idx, "range", &ra, &rb);
	if (have_rows + have_range + have_ch > 1)
		luaL_error(L, "bad argument to 'load' (give one of rows, "
			      "range, channel)");
	if (have_rows && have_axis)
		luaL_error(L, "bad argument to 'load' (rows is axis 0: use "
			      "axis with range or channel)");
	if (have_axis && !have_range && !have_ch)
		luaL_error(L, "bad argument to 'load' (axis needs range or "
			      "channel)");
	if (axis < -QS_MAX_NDIM || axis >= QS_MAX_NDIM)
		luaL_error(L, "bad option 'axis' to 'load' (out of range)");
	if (have_ch && ch < 0)
		luaL_error(L, "bad option 'channel' to 'load' (must be a "
			      "non-negative integer)");
	if (have_rows || have_range || have_ch) {
		sel->all = 0;
		sel->axis = (int)axis;
		sel->start = have_rows ? a : have_range ? ra : ch;
		sel->stop = have_rows ? b : have_range ? rb : ch + 1;
		sel->drop = have_ch;
	}
	lua_getfield(L, idx, "dtype");
	if (!lua_isnil(L, -1)) {
		const char *d = lua_tostring(L, -1);
		if (!d || strcmp(d, "float32") != 0)
			luaL_error(L, "bad option 'dtype' to 'load' (accepted: "
				      "float32)");
		sel->to_f32 = 1;
	}
	lua_pop(L, 1);
}

/* qs.load(path, [name], [part]) for any format; see docs/files.md. */
int ql_load_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *name = NULL;
	int part = 0;
	if (lua_type(L, 2) == LUA_TTABLE)
		part = 2;
	else {
		name = luaL_optstring(L, 2, NULL);
		if (!lua_isnoneornil(L, 3)) {
			luaL_checktype(L, 3, LUA_TTABLE);
			part = 3;
		}
	}
	qs_select sel;
	if (part)
		check_part(L, part, &sel);
	qs_tensor **ud = ql_newtensor(L);
	qs_error err;
	*ud = qs_file_load(path, name, part ? &sel : NULL, &err);
	if (!*ud)
		return ql_pushfail(L, err.msg);
	return 1;
}

/* qs.save_tensors(path, {name = tensor, ...} [, {overwrite = true}]) ->
 * true | nil, message.  Writes .safetensors. */
static int l_save_tensors(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	unsigned flags = 0;
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		lua_pushnil(L);
		while (lua_next(L, 3)) {
			if (lua_type(L, -2) != LUA_TSTRING ||
			    strcmp(lua_tostring(L, -2), "overwrite") != 0)
				return luaL_error(
				    L, "bad argument #3 to 'save_tensors' "
				       "(unknown option (accepted: "
				       "overwrite))");
			lua_pop(L, 1);
		}
		lua_getfield(L, 3, "overwrite");
		if (lua_toboolean(L, -1))
			flags |= QS_SAVE_OVERWRITE_INPUT;
		lua_pop(L, 1);
	}
	size_t n = 0;
	lua_pushnil(L);
	while (lua_next(L, 2)) {
		if (lua_type(L, -2) != LUA_TSTRING)
			return luaL_error(L, "bad argument #2 to "
					     "'save_tensors' (keys must be "
					     "tensor names)");
		ql_checktensor(L, -1);
		n++;
		lua_pop(L, 1);
	}
	/* arrays in Lua memory: nothing to free if something raises */
	const char **names =
	    lua_newuserdatauv(L, (n ? n : 1) * sizeof *names, 0);
	const qs_tensor **ts =
	    lua_newuserdatauv(L, (n ? n : 1) * sizeof *ts, 0);
	size_t i = 0;
	lua_pushnil(L);
	while (lua_next(L, 2)) {
		names[i] = lua_tostring(L, -2); /* kept alive by the table */
		ts[i] = ql_checktensor(L, -1);
		i++;
		lua_pop(L, 1);
	}
	qs_error err;
	if (qs_file_save(path, names, (const qs_tensor *const *)ts, n, flags,
			 &err) < 0)
		return ql_pushfail(L, err.msg);
	lua_pushboolean(L, 1);
	return 1;
}

static const luaL_Reg funcs[] = {
    {"list", l_list},
    {"save_tensors", l_save_tensors},
    {NULL, NULL},
};

void ql_open_files(lua_State *L)
{
	luaL_newmetatable(L, QL_LISTING); /* mod mt */
	lua_pushcfunction(L, listing_gc);
	lua_setfield(L, -2, "__gc");
	lua_pop(L, 1); /* mod */
	luaL_setfuncs(L, funcs, 0);
}
