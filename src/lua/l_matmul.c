/* l_matmul: qs.matmul (the float reference of a layer's output),
 * qs.int_matmul (integer-only: int8 codes, int32 accumulators, TFLite's
 * fixed-point requantization), qs.quantize_multiplier and qs.requantize.
 * Quantized operands are the userdata of qs.quantize, read through their
 * public fields (codes, scale, zero_point, qmin, qmax, spec).  Scratch
 * buffers are userdata, so an error raised halfway leaks nothing. */
#include "config.h"

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "engine/matmul.h"
#include "lua/l_internal.h"

/* The tensor as a matrix: (shape[0], size / shape[0]); 1-D and 0-D
 * tensors are one row. */
static void as_matrix(const qs_tensor *t, int64_t *rows, int64_t *cols)
{
	if (t->ndim >= 2 && t->shape[0] > 0) {
		*rows = t->shape[0];
		*cols = t->size / t->shape[0];
	} else {
		*rows = t->ndim >= 2 ? 0 : 1;
		*cols = t->ndim >= 2 ? 0 : t->size;
	}
}

static int opt_flag(lua_State *L, int arg, const char *key)
{
	if (lua_isnoneornil(L, arg))
		return 0;
	luaL_checktype(L, arg, LUA_TTABLE);
	lua_getfield(L, arg, key);
	int v = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return v;
}

static qs_requant check_rounding(lua_State *L, int arg, const char *s)
{
	if (!s || strcmp(s, "double") == 0)
		return QS_REQUANT_DOUBLE;
	if (strcmp(s, "single") == 0)
		return QS_REQUANT_SINGLE;
	lua_pushfstring(L, "unknown rounding '%s' (accepted: double, single)",
			s);
	luaL_argerror(L, arg, lua_tostring(L, -1));
	return QS_REQUANT_DOUBLE;
}

static void *scratch(lua_State *L, size_t n)
{
	return lua_newuserdatauv(L, n ? n : 1, 0);
}

/* qs.matmul(a, b [, {transpose_b = true}]) -> float32 tensor (M, N) */
static int l_matmul(lua_State *L)
{
	qs_tensor *a = ql_checktensor(L, 1);
	qs_tensor *b = ql_checktensor(L, 2);
	int bt = opt_flag(L, 3, "transpose_b");
	int64_t m, k, br, bc, n;
	as_matrix(a, &m, &k);
	if (b->ndim <= 1) { /* a vector: one column (or one row of Xt) */
		br = bt ? 1 : b->size;
		bc = bt ? b->size : 1;
	} else
		as_matrix(b, &br, &bc);
	if (bt ? bc != k : br != k)
		return luaL_argerror(
			L, 2,
			lua_pushfstring(L,
					"%s of %d do not match the %d columns "
					"of argument #1",
					bt ? "columns" : "rows",
					(int)(bt ? bc : br), (int)k));
	n = bt ? br : bc;
	qs_error err;
	const float *x = qs_tensor_f32(a, &err);
	const float *y = x ? qs_tensor_f32(b, &err) : NULL;
	if (!y)
		return luaL_error(L, "%s", err.msg);
	qs_tensor **ud = ql_newtensor(L);
	int64_t shape[2] = {m, n};
	*ud = qs_tensor_new(QS_DT_F32, 2, shape, &err);
	if (!*ud)
		return luaL_error(L, "%s", err.msg);
	if (qs_matmul_f32(x, y, (*ud)->data, m, k, n, bt, &err) < 0)
		return luaL_error(L, "%s", err.msg);
	return 1;
}

/* A quantized operand of qs.int_matmul, read from its fields. */
typedef struct operand {
	qs_tensor *codes;
	int8_t *c8;       /* codes as int8 (uint8 codes shifted by -128) */
	int32_t *zero;    /* per row (nrow values) */
	const float *scale;
	int64_t nrow;     /* parameters: 1, or one per row */
	int64_t qmin, qmax;
} operand;

static const char *const argname[] = {"", "weight", "input", "output"};

/* Read q (argument arg): its codes (only when need_codes), scale and
 * zero point per tensor or per row (rows_ok: per channel along axis 0). */
static void check_operand(lua_State *L, int arg, int rows_ok, int need_codes,
			  operand *o)
{
	luaL_checkudata(L, arg, QL_QUANT);
	memset(o, 0, sizeof *o);
	lua_getfield(L, arg, "spec"); /* spec */
	lua_getfield(L, -1, "granularity");
	const char *g = lua_tostring(L, -1);
	lua_getfield(L, -2, "axis");
	int axis = (int)lua_tointeger(L, -1);
	lua_pop(L, 3);
	lua_getfield(L, arg, "source");
	qs_tensor *src = ql_checktensor(L, -1);
	lua_pop(L, 1);
	int per_row = 0;
	if (g && strcmp(g, "channel") == 0 && rows_ok &&
	    (axis == 0 || (src->ndim > 0 && axis == -src->ndim)))
		per_row = 1;
	else if (!g || strcmp(g, "tensor") != 0)
		luaL_argerror(L, arg,
			      lua_pushfstring(
				      L, "the %s must be quantized per tensor%s",
				      argname[arg],
				      rows_ok ? " or per channel along axis 0"
					      : ""));
	lua_getfield(L, arg, "qmin");
	lua_getfield(L, arg, "qmax");
	o->qmin = lua_tointeger(L, -2);
	o->qmax = lua_tointeger(L, -1);
	lua_pop(L, 2);
	if (need_codes && (o->qmin < -128 || o->qmax > 255 ||
			   (o->qmin < 0 && o->qmax > 127)))
		luaL_argerror(
			L, arg,
			lua_pushfstring(L,
					"the %s has codes [%d, %d]: the integer "
					"matmul takes int8 or uint8 codes (at "
					"most 8 bits)",
					argname[arg], (int)o->qmin,
					(int)o->qmax));
	int64_t rows = 1;
	if (per_row)
		rows = src->shape[0];
	o->nrow = rows;
	/* scales: a number or a float32 tensor of rows values */
	float *sc = scratch(L, sizeof(float) * (size_t)rows);
	o->zero = scratch(L, sizeof(int32_t) * (size_t)rows);
	lua_getfield(L, arg, "scale");
	lua_getfield(L, arg, "zero_point");
	if (per_row) {
		qs_tensor *ts = ql_checktensor(L, -2);
		qs_tensor *tz = ql_checktensor(L, -1);
		for (int64_t i = 0; i < rows; i++) {
			sc[i] = ((const float *)ts->data)[i];
			o->zero[i] = (int32_t)((const float *)tz->data)[i];
		}
	} else {
		sc[0] = (float)lua_tonumber(L, -2);
		o->zero[0] = (int32_t)lua_tointeger(L, -1);
	}
	lua_pop(L, 2);
	o->scale = sc;
	/* keep the scratch buffers referenced: they sit on the stack */
	if (!need_codes)
		return;
	lua_getfield(L, arg, "codes"); /* ... codes */
	o->codes = ql_checktensor(L, -1);
	int shift = o->codes->dtype == QS_DT_U8 ? 128 : 0;
	if (o->codes->dtype != QS_DT_I8 && o->codes->dtype != QS_DT_U8)
		luaL_argerror(L, arg, "codes are not int8 or uint8");
	o->c8 = scratch(L, (size_t)o->codes->size);
	const uint8_t *u = o->codes->data;
	const int8_t *s = o->codes->data;
	for (int64_t i = 0; i < o->codes->size; i++)
		o->c8[i] = shift ? (int8_t)((int)u[i] - 128) : s[i];
	for (int64_t i = 0; i < rows; i++)
		o->zero[i] -= shift;
}

/* qs.int_matmul(qw, qx, qy [, {rounding = "double" | "single",
 *   transpose_x = bool, acc = bool}]) -> codes, dequantized, info */
static int l_int_matmul(lua_State *L)
{
	const char *rs = NULL;
	int tx = opt_flag(L, 4, "transpose_x");
	int want_acc = opt_flag(L, 4, "acc");
	if (!lua_isnoneornil(L, 4)) {
		lua_getfield(L, 4, "rounding");
		rs = lua_tostring(L, -1);
		lua_pop(L, 1);
	}
	qs_requant mode = check_rounding(L, 4, rs);
	lua_settop(L, 4);
	luaL_checkstack(L, 48, "int_matmul");
	operand w, x, y;
	check_operand(L, 1, 1, 1, &w);
	check_operand(L, 2, 0, 1, &x);
	check_operand(L, 3, 0, 0, &y);
	int64_t m, k, xr, xc, n;
	as_matrix(w.codes, &m, &k);
	if (x.codes->ndim <= 1) {
		xr = tx ? 1 : x.codes->size;
		xc = tx ? x.codes->size : 1;
	} else
		as_matrix(x.codes, &xr, &xc);
	if (tx ? xc != k : xr != k)
		return luaL_argerror(
			L, 2,
			lua_pushfstring(L,
					"%s of %d do not match the %d columns "
					"of the weight",
					tx ? "columns" : "rows",
					(int)(tx ? xc : xr), (int)k));
	n = tx ? xr : xc;
	if (y.qmin < INT32_MIN || y.qmax > INT32_MAX)
		return luaL_argerror(L, 3, "output code range beyond int32");
	/* one multiplier per output row: (S_x S_w) / S_y in double, as
	 * TFLite's PopulateConvolutionQuantizationParams */
	int32_t *qm = scratch(L, sizeof(int32_t) * (size_t)m);
	int *sh = scratch(L, sizeof(int) * (size_t)m);
	double *mult = scratch(L, sizeof(double) * (size_t)m);
	qs_error err;
	for (int64_t i = 0; i < m; i++) {
		double sw = w.scale[w.nrow > 1 ? i : 0];
		mult[i] = (double)x.scale[0] * sw / (double)y.scale[0];
		if (qs_matmul_multiplier(mult[i], mode, &qm[i], &sh[i], &err) <
		    0)
			return luaL_error(L, "%s", err.msg);
	}
	int32_t *wz = w.zero;
	if (w.nrow == 1) { /* the per-tensor zero point on every row */
		wz = scratch(L, sizeof(int32_t) * (size_t)m);
		for (int64_t i = 0; i < m; i++)
			wz[i] = w.zero[0];
	}
	int64_t shape[2] = {m, n};
	qs_tensor **acc_ud = ql_newtensor(L);
	*acc_ud = qs_tensor_new(QS_DT_I32, 2, shape, &err);
	if (!*acc_ud)
		return luaL_error(L, "%s", err.msg);
	int acc_idx = lua_gettop(L);
	int32_t *acc = (*acc_ud)->data;
	if (qs_matmul_int8_acc(w.c8, wz, x.c8, x.zero[0], m, k, n, tx, acc,
			       &err) < 0)
		return luaL_error(L, "%s", err.msg);
	int32_t *out = scratch(L, sizeof(int32_t) * (size_t)(m * n));
	if (qs_matmul_requantize(acc, m, n, qm, sh, y.zero[0],
				 (int32_t)y.qmin, (int32_t)y.qmax, mode, out,
				 &err) < 0)
		return luaL_error(L, "%s", err.msg);
	/* codes in the narrowest integer type that holds the range */
	qs_dtype dt = y.qmin >= -128 && y.qmax <= 127	   ? QS_DT_I8
		      : y.qmin >= 0 && y.qmax <= 255	   ? QS_DT_U8
		      : y.qmin >= -32768 && y.qmax <= 32767 ? QS_DT_I16
		      : y.qmin >= 0 && y.qmax <= 65535	   ? QS_DT_U16
							   : QS_DT_I32;
	qs_tensor **cud = ql_newtensor(L);
	*cud = qs_tensor_new(dt, 2, shape, &err);
	if (!*cud)
		return luaL_error(L, "%s", err.msg);
	int cidx = lua_gettop(L);
	qs_tensor **dud = ql_newtensor(L);
	*dud = qs_tensor_new(QS_DT_F32, 2, shape, &err);
	if (!*dud)
		return luaL_error(L, "%s", err.msg);
	int didx = lua_gettop(L);
	float sy = y.scale[0];
	float *deq = (*dud)->data;
	int64_t amax = 0;
	for (int64_t i = 0; i < m * n; i++) {
		int32_t c = out[i];
		switch (dt) {
		case QS_DT_I8:
			((int8_t *)(*cud)->data)[i] = (int8_t)c;
			break;
		case QS_DT_U8:
			((uint8_t *)(*cud)->data)[i] = (uint8_t)c;
			break;
		case QS_DT_I16:
			((int16_t *)(*cud)->data)[i] = (int16_t)c;
			break;
		case QS_DT_U16:
			((uint16_t *)(*cud)->data)[i] = (uint16_t)c;
			break;
		default:
			((int32_t *)(*cud)->data)[i] = c;
		}
		/* qscope's dequantization: (q - zero_point) * scale, float32 */
		deq[i] = (float)((int64_t)c - y.zero[0]) * sy;
		int64_t a = acc[i] < 0 ? -(int64_t)acc[i] : acc[i];
		if (a > amax)
			amax = a;
	}
	/* info table */
	lua_pushvalue(L, cidx);
	lua_pushvalue(L, didx);
	lua_createtable(L, 0, 6);
	lua_createtable(L, (int)m, 0); /* info multiplier */
	lua_createtable(L, (int)m, 0); /* info multiplier qm */
	lua_createtable(L, (int)m, 0); /* info multiplier qm shift */
	for (int64_t i = 0; i < m; i++) {
		lua_pushnumber(L, mult[i]);
		lua_rawseti(L, -4, i + 1);
		lua_pushinteger(L, qm[i]);
		lua_rawseti(L, -3, i + 1);
		lua_pushinteger(L, sh[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -4, "shift");
	lua_setfield(L, -3, "qm");
	lua_setfield(L, -2, "multiplier");
	lua_pushinteger(L, (lua_Integer)amax);
	lua_setfield(L, -2, "acc_max");
	lua_pushstring(L, mode == QS_REQUANT_SINGLE ? "single" : "double");
	lua_setfield(L, -2, "rounding");
	lua_pushinteger(L, (lua_Integer)k);
	lua_setfield(L, -2, "k");
	if (want_acc) {
		lua_pushvalue(L, acc_idx);
		lua_setfield(L, -2, "acc");
	}
	return 3;
}

/* qs.quantize_multiplier(M [, "double" | "single"]) -> qm, shift */
static int l_quantize_multiplier(lua_State *L)
{
	double mult = luaL_checknumber(L, 1);
	qs_requant mode = check_rounding(L, 2, luaL_optstring(L, 2, NULL));
	int32_t qm;
	int shift;
	qs_error err;
	if (qs_matmul_multiplier(mult, mode, &qm, &shift, &err) < 0)
		return luaL_argerror(L, 1, err.msg);
	lua_pushinteger(L, qm);
	lua_pushinteger(L, shift);
	return 2;
}

/* qs.requantize(x, qm, shift [, "double" | "single"]) -> integer */
static int l_requantize(lua_State *L)
{
	lua_Integer x = luaL_checkinteger(L, 1);
	lua_Integer qm = luaL_checkinteger(L, 2);
	lua_Integer shift = luaL_checkinteger(L, 3);
	qs_requant mode = check_rounding(L, 4, luaL_optstring(L, 4, NULL));
	luaL_argcheck(L, x >= INT32_MIN && x <= INT32_MAX, 1,
		      "must fit in int32");
	luaL_argcheck(L, qm >= 0 && qm <= INT32_MAX, 2,
		      "must be in [0, 2^31 - 1]");
	if (mode == QS_REQUANT_SINGLE)
		luaL_argcheck(L, shift >= -31 && shift <= 30, 3,
			      "must be in [-31, 30] with single rounding");
	else
		luaL_argcheck(L, shift >= -62 && shift <= 62, 3,
			      "must be in [-62, 62]");
	lua_pushinteger(L, qs_matmul_requant((int32_t)x, (int32_t)qm,
					     (int)shift, mode));
	return 1;
}

static const luaL_Reg funcs[] = {
	{"matmul", l_matmul},
	{"int_matmul", l_int_matmul},
	{"quantize_multiplier", l_quantize_multiplier},
	{"requantize", l_requantize},
	{NULL, NULL},
};

void ql_open_matmul(lua_State *L)
{
	luaL_setfuncs(L, funcs, 0);
}
