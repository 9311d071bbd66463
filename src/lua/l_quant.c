/* l_quant: qs.quantize, qs.calibrate, qs.error and the quantized-tensor
 * userdata.  A spec is a Lua table; unknown keys or values raise an error
 * that lists what is accepted. */
#include "config.h"

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/l_internal.h"

static const char *const spec_keys[] = {
	"format", "scheme",  "narrow",   "granularity", "axis",
	"group",  "calib",   "rounding", "seed",        "preset",
	"percentile", "bins", "c",       "batches",     "lo",
	"hi",     "amax",    "prior",    "overflow", NULL,
};

static void key_list(lua_State *L, const char *const *keys)
{
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 0; keys[i]; i++) {
		if (i)
			luaL_addstring(&b, ", ");
		luaL_addstring(&b, keys[i]);
	}
	luaL_pushresult(&b);
}

/* Raise "bad argument #arg to 'fn' (...)" with a formatted reason. */
static int spec_error(lua_State *L, int arg, const char *fmt, const char *a,
		      const char *b)
{
	lua_pushfstring(L, fmt, a, b);
	return luaL_argerror(L, arg, lua_tostring(L, -1));
}

static const char *opt_string(lua_State *L, int arg, const char *key)
{
	const char *s = NULL;
	if (lua_getfield(L, arg, key) != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			spec_error(L, arg, "spec.%s must be a string, not %s",
				   key, luaL_typename(L, -1));
		s = lua_tostring(L, -1);
	}
	lua_pop(L, 1); /* the string stays alive in the spec table */
	return s;
}

static int opt_number(lua_State *L, int arg, const char *key, double *out)
{
	int have = 0;
	if (lua_getfield(L, arg, key) != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TNUMBER)
			spec_error(L, arg, "spec.%s must be a number, not %s",
				   key, luaL_typename(L, -1));
		*out = lua_tonumber(L, -1);
		have = 1;
	}
	lua_pop(L, 1);
	return have;
}

static int opt_integer(lua_State *L, int arg, const char *key,
		       lua_Integer *out)
{
	int have = 0;
	if (lua_getfield(L, arg, key) != LUA_TNIL) {
		int isint;
		*out = lua_tointegerx(L, -1, &isint);
		if (!isint)
			spec_error(L, arg, "spec.%s must be an integer%s", key,
				   "");
		have = 1;
	}
	lua_pop(L, 1);
	return have;
}

static int opt_bool(lua_State *L, int arg, const char *key, int *out)
{
	int have = 0;
	if (lua_getfield(L, arg, key) != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TBOOLEAN)
			spec_error(L, arg, "spec.%s must be a boolean, not %s",
				   key, luaL_typename(L, -1));
		*out = lua_toboolean(L, -1);
		have = 1;
	}
	lua_pop(L, 1);
	return have;
}

static int has_key(lua_State *L, int arg, const char *key)
{
	int t = lua_getfield(L, arg, key) != LUA_TNIL;
	lua_pop(L, 1);
	return t;
}

/* Parse the spec table at arg (absent = defaults) into s. */
static void check_spec(lua_State *L, int arg, qs_spec *s)
{
	qs_spec_default(s);
	if (lua_isnoneornil(L, arg))
		return;
	luaL_checktype(L, arg, LUA_TTABLE);
	/* every key must be known */
	lua_pushnil(L);
	while (lua_next(L, arg)) {
		lua_pop(L, 1);
		int known = 0;
		if (lua_type(L, -1) == LUA_TSTRING) {
			const char *k = lua_tostring(L, -1);
			for (int i = 0; spec_keys[i]; i++)
				known |= strcmp(k, spec_keys[i]) == 0;
		}
		if (!known) {
			const char *k = luaL_tolstring(L, -1, NULL);
			key_list(L, spec_keys);
			spec_error(L, arg,
				   "unknown spec key '%s' (accepted: %s)", k,
				   lua_tostring(L, -1));
		}
	}
	qs_error err;
	const char *v;
	if ((v = opt_string(L, arg, "format")) &&
	    qs_spec_set_format(s, v, &err) < 0)
		luaL_argerror(L, arg, err.msg);
	if ((v = opt_string(L, arg, "scheme"))) {
		if (strcmp(v, "symmetric") == 0)
			s->scheme = QS_SCHEME_SYMMETRIC;
		else if (strcmp(v, "asymmetric") == 0)
			s->scheme = QS_SCHEME_ASYMMETRIC;
		else
			spec_error(L, arg,
				   "unknown scheme '%s' (accepted: %s)", v,
				   "symmetric, asymmetric");
	}
	opt_bool(L, arg, "narrow", &s->narrow);
	if ((v = opt_string(L, arg, "granularity"))) {
		if (strcmp(v, "tensor") == 0)
			s->granularity = QS_GRAN_TENSOR;
		else if (strcmp(v, "channel") == 0)
			s->granularity = QS_GRAN_CHANNEL;
		else if (strcmp(v, "group") == 0)
			s->granularity = QS_GRAN_GROUP;
		else
			spec_error(L, arg,
				   "unknown granularity '%s' (accepted: %s)",
				   v, "tensor, channel, group");
	}
	lua_Integer iv;
	if (opt_integer(L, arg, "axis", &iv)) {
		if (iv < -QS_MAX_NDIM || iv >= QS_MAX_NDIM)
			spec_error(L, arg, "spec.axis out of range%s%s", "",
				   "");
		s->axis = (int)iv;
	}
	if (opt_integer(L, arg, "group", &iv)) {
		if (iv < 1)
			spec_error(L, arg, "spec.group must be >= 1%s%s", "",
				   "");
		s->group = iv;
		if (lua_getfield(L, arg, "granularity") == LUA_TNIL)
			s->granularity = QS_GRAN_GROUP;
		lua_pop(L, 1);
	}
	if ((v = opt_string(L, arg, "overflow"))) {
		qs_fp_overflow o;
		if (!s->is_float)
			spec_error(L, arg, "spec.overflow applies to float "
					   "formats, not %s%s",
				   s->format, "");
		if (qs_fp_overflow_parse(v, &o) < 0)
			spec_error(L, arg,
				   "unknown overflow '%s' (accepted: %s)", v,
				   "saturate, satfinite, ieee");
		s->fp.overflow = o;
	}
	/* fp16 and bf16 are plain casts unless a calibration is asked for */
	if (s->is_float &&
	    (strcmp(s->fp.name, "fp16") == 0 || strcmp(s->fp.name, "bf16") == 0) &&
	    !has_key(L, arg, "calib") && !has_key(L, arg, "lo") &&
	    !has_key(L, arg, "amax"))
		s->calib.method = QS_CALIB_NONE;
	if ((v = opt_string(L, arg, "calib")) &&
	    qs_calib_parse(v, &s->calib.method) < 0)
		spec_error(L, arg, "unknown calib '%s' (accepted: %s)", v,
			   qs_calib_names());
	if ((v = opt_string(L, arg, "rounding")) &&
	    qs_rounding_parse(v, &s->rounding) < 0)
		spec_error(L, arg, "unknown rounding '%s' (accepted: %s)", v,
			   "nearest, away, up, floor, ceil, trunc, "
			   "stochastic");
	if (opt_integer(L, arg, "seed", &iv))
		s->seed = (uint64_t)iv;
	if ((v = opt_string(L, arg, "preset")) &&
	    qs_preset_parse(v, &s->preset) < 0)
		spec_error(L, arg, "unknown preset '%s' (accepted: %s)", v,
			   "none, torch, onnxruntime, tensorrt, ggml, aimet");
	double d;
	if (opt_number(L, arg, "percentile", &d)) {
		if (!(d > 0 && d <= 100))
			spec_error(L, arg,
				   "spec.percentile must be in (0, 100]%s%s",
				   "", "");
		s->calib.percentile = d;
	}
	if (opt_integer(L, arg, "bins", &iv)) {
		if (iv < 2 || iv > (1 << 24))
			spec_error(L, arg,
				   "spec.bins must be in 2..16777216%s%s", "",
				   "");
		s->calib.bins = (int)iv;
	}
	if (opt_number(L, arg, "c", &d))
		s->calib.c = d;
	if (opt_integer(L, arg, "batches", &iv))
		s->calib.batches = iv;
	int have_lo = opt_number(L, arg, "lo", &s->calib.lo);
	int have_hi = opt_number(L, arg, "hi", &s->calib.hi);
	if (opt_number(L, arg, "amax", &d)) {
		if (have_lo || have_hi)
			spec_error(L, arg, "give spec.amax or spec.lo/hi, "
					   "not both%s%s", "", "");
		s->calib.lo = -fabs(d);
		s->calib.hi = fabs(d);
		have_lo = have_hi = 1;
	}
	if (have_lo || have_hi) {
		if (!(have_lo && have_hi))
			spec_error(L, arg, "spec.lo and spec.hi go together%s%s",
				   "", "");
		if (lua_getfield(L, arg, "calib") == LUA_TNIL)
			s->calib.method = QS_CALIB_FIXED;
		lua_pop(L, 1);
	}
	if ((v = opt_string(L, arg, "prior"))) {
		if (strcmp(v, "auto") == 0)
			s->calib.prior = QS_ACIQ_AUTO;
		else if (strcmp(v, "laplace") == 0)
			s->calib.prior = QS_ACIQ_LAPLACE;
		else if (strcmp(v, "gauss") == 0)
			s->calib.prior = QS_ACIQ_GAUSS;
		else
			spec_error(L, arg, "unknown prior '%s' (accepted: %s)",
				   v, "auto, laplace, gauss");
	}
	if (qs_calib_check(&s->calib, &err) < 0)
		luaL_argerror(L, arg, err.msg);
}

/* ---- the quantized-tensor userdata -------------------------------------- */
/* user values: 1 = source tensor, 2 = cached codes tensor */

typedef struct lquant {
	qs_quant *q;
} lquant;

static lquant *check_quant(lua_State *L, int idx)
{
	lquant *lq = luaL_checkudata(L, idx, QL_QUANT);
	if (!lq->q)
		luaL_error(L, "attempt to use a freed quantized tensor");
	return lq;
}

static int q_free(lua_State *L)
{
	lquant *lq = luaL_checkudata(L, 1, QL_QUANT);
	qs_quant_free(lq->q);
	lq->q = NULL;
	return 0;
}

/* Push per-parameter values: a number for per-tensor, else a tensor. */
static void push_params(lua_State *L, const qs_quant *q, const float *v)
{
	if (q->spec.granularity == QS_GRAN_TENSOR) {
		lua_pushnumber(L, v[0]);
		return;
	}
	qs_tensor **ud = ql_newtensor(L);
	qs_error err;
	*ud = qs_tensor_new(QS_DT_F32, q->param_ndim, q->param_shape, &err);
	if (!*ud)
		luaL_error(L, "%s", err.msg);
	memcpy((*ud)->data, v, sizeof(float) * (size_t)q->nparams);
}

/* Metric tables print as one line of name=value pairs. */
static int metrics_tostring(lua_State *L)
{
	static const char *const keys[] = {"sqnr_db", "mse",    "rmse",
					   "max_abs", "mean_abs", "cosine",
					   "clipped", "bias",   NULL};
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 0; keys[i]; i++) {
		char tmp[64];
		lua_getfield(L, 1, keys[i]);
		snprintf(tmp, sizeof tmp, "%s%s %.6g", i ? "  " : "", keys[i],
			 lua_tonumber(L, -1));
		lua_pop(L, 1);
		luaL_addstring(&b, tmp);
	}
	luaL_pushresult(&b);
	return 1;
}

static void push_metrics(lua_State *L, const qs_metrics *m)
{
	lua_createtable(L, 0, 16);
	if (luaL_newmetatable(L, "qscope.metrics")) {
		lua_pushcfunction(L, metrics_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_setmetatable(L, -2);
#define F(name)                                                                \
	lua_pushnumber(L, m->name);                                            \
	lua_setfield(L, -2, #name)
#define I(name)                                                                \
	lua_pushinteger(L, m->name);                                           \
	lua_setfield(L, -2, #name)
	F(mse);
	F(rmse);
	F(sqnr_db);
	F(max_abs);
	F(mean_abs);
	F(cosine);
	F(clipped);
	F(bias);
	I(count);
	I(n_clipped);
	I(nan);
	I(inf);
	I(underflow);
	I(subnormal);
	I(overflow);
	I(nan_out);
#undef F
#undef I
}

static void push_spec(lua_State *L, const qs_spec *s)
{
	lua_createtable(L, 0, 10);
	lua_pushstring(L, s->format);
	lua_setfield(L, -2, "format");
	lua_pushstring(L, qs_scheme_name(s->scheme));
	lua_setfield(L, -2, "scheme");
	lua_pushboolean(L, s->narrow);
	lua_setfield(L, -2, "narrow");
	lua_pushstring(L, qs_granularity_name(s->granularity));
	lua_setfield(L, -2, "granularity");
	lua_pushinteger(L, s->axis);
	lua_setfield(L, -2, "axis");
	lua_pushinteger(L, s->group);
	lua_setfield(L, -2, "group");
	lua_pushstring(L, qs_calib_name(s->calib.method));
	lua_setfield(L, -2, "calib");
	lua_pushstring(L, qs_rounding_name(s->rounding));
	lua_setfield(L, -2, "rounding");
	if (s->preset) {
		lua_pushstring(L, qs_preset_name(s->preset));
		lua_setfield(L, -2, "preset");
	}
}

static int q_dequant(lua_State *L)
{
	lquant *lq = check_quant(L, 1);
	lua_getiuservalue(L, 1, 1);
	qs_tensor *src = ql_checktensor(L, -1);
	qs_tensor **ud = ql_newtensor(L);
	qs_error err;
	*ud = qs_quant_dequant(lq->q, src, &err);
	if (!*ud)
		return luaL_error(L, "%s", err.msg);
	return 1;
}

/* q:param_error() -> list of metric tables, one per channel or group */
static int q_param_error(lua_State *L)
{
	lquant *lq = check_quant(L, 1);
	lua_getiuservalue(L, 1, 1);
	qs_tensor *src = ql_checktensor(L, -1);
	size_t np = (size_t)(lq->q->nparams ? lq->q->nparams : 1);
	qs_metrics *m = lua_newuserdatauv(L, np * sizeof *m, 0);
	qs_error err;
	if (qs_quant_param_metrics(lq->q, src, m, &err) < 0)
		return luaL_error(L, "%s", err.msg);
	lua_createtable(L, (int)np, 0);
	for (size_t p = 0; p < np; p++) {
		push_metrics(L, &m[p]);
		lua_pushinteger(L, (lua_Integer)p);
		lua_setfield(L, -2, "index");
		lua_pushnumber(L, lq->q->scale[p]);
		lua_setfield(L, -2, "scale");
		lua_pushnumber(L, lq->q->lo[p]);
		lua_setfield(L, -2, "lo");
		lua_pushnumber(L, lq->q->hi[p]);
		lua_setfield(L, -2, "hi");
		lua_rawseti(L, -2, (lua_Integer)p + 1);
	}
	return 1;
}

static int q_error(lua_State *L)
{
	lquant *lq = check_quant(L, 1);
	push_metrics(L, &lq->q->metrics);
	return 1;
}

static int q_index(lua_State *L)
{
	lquant *lq = check_quant(L, 1);
	const qs_quant *q = lq->q;
	const char *k = luaL_checkstring(L, 2);
	if (strcmp(k, "scale") == 0)
		push_params(L, q, q->scale);
	else if (strcmp(k, "zero_point") == 0) {
		if (q->spec.granularity == QS_GRAN_TENSOR)
			lua_pushinteger(L, (lua_Integer)q->zero_point[0]);
		else
			push_params(L, q, q->zero_point);
	} else if (strcmp(k, "lo") == 0)
		push_params(L, q, q->lo);
	else if (strcmp(k, "hi") == 0)
		push_params(L, q, q->hi);
	else if (strcmp(k, "bits") == 0)
		lua_pushnumber(L, q->bits);
	else if (strcmp(k, "qmin") == 0)
		lua_pushinteger(L, q->qmin);
	else if (strcmp(k, "qmax") == 0)
		lua_pushinteger(L, q->qmax);
	else if (strcmp(k, "shape") == 0)
		ql_pushshape(L, q->ndim, q->shape);
	else if (strcmp(k, "spec") == 0)
		push_spec(L, &q->spec);
	else if (strcmp(k, "metrics") == 0)
		push_metrics(L, &q->metrics);
	else if (strcmp(k, "source") == 0)
		lua_getiuservalue(L, 1, 1);
	else if (strcmp(k, "codes") == 0) {
		if (lua_getiuservalue(L, 1, 2) != LUA_TNIL)
			return 1;
		lua_pop(L, 1);
		lua_getiuservalue(L, 1, 1);
		qs_tensor *src = ql_checktensor(L, -1);
		qs_tensor **ud = ql_newtensor(L);
		qs_error err;
		*ud = qs_quant_codes(q, src, &err);
		if (!*ud)
			return luaL_error(L, "%s", err.msg);
		lua_pushvalue(L, -1);
		lua_setiuservalue(L, 1, 2);
	} else if (strcmp(k, "dequant") == 0)
		lua_pushcfunction(L, q_dequant);
	else if (strcmp(k, "error") == 0)
		lua_pushcfunction(L, q_error);
	else if (strcmp(k, "param_error") == 0)
		lua_pushcfunction(L, q_param_error);
	else
		lua_pushnil(L);
	return 1;
}

static int q_tostring(lua_State *L)
{
	lquant *lq = luaL_checkudata(L, 1, QL_QUANT);
	if (!lq->q) {
		lua_pushliteral(L, "quantized (freed)");
		return 1;
	}
	const qs_quant *q = lq->q;
	char buf[256];
	snprintf(buf, sizeof buf,
		 "quantized %s %s per-%s %s: SQNR %.4g dB, MSE %.4g, "
		 "%.3g%% clipped, %.4g bits/element",
		 q->spec.format, qs_scheme_name(q->spec.scheme),
		 qs_granularity_name(q->spec.granularity),
		 qs_calib_name(q->spec.calib.method), q->metrics.sqnr_db,
		 q->metrics.mse, 100.0 * q->metrics.clipped, q->bits);
	lua_pushstring(L, buf);
	return 1;
}

static int l_quantize(lua_State *L)
{
	qs_tensor *t = ql_checktensor(L, 1);
	qs_spec s;
	check_spec(L, 2, &s);
	lquant *lq = lua_newuserdatauv(L, sizeof *lq, 2);
	lq->q = NULL;
	luaL_setmetatable(L, QL_QUANT);
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);
	qs_error err;
	lq->q = qs_quantize(t, &s, &err);
	if (!lq->q)
		return err.code == QS_EINVAL ? luaL_argerror(L, 2, err.msg)
					     : luaL_error(L, "%s", err.msg);
	return 1;
}

static int l_calibrate(lua_State *L)
{
	qs_tensor *t = ql_checktensor(L, 1);
	qs_spec s;
	check_spec(L, 2, &s);
	qs_error err;
	float *lo, *hi;
	int64_t n;
	if (qs_calibrate(t, &s, &lo, &hi, &n, &err) < 0)
		return luaL_error(L, "%s", err.msg);
	if (s.granularity == QS_GRAN_TENSOR) {
		lua_pushnumber(L, lo[0]);
		lua_pushnumber(L, hi[0]);
		free(lo);
		free(hi);
		return 2;
	}
	/* shape of the parameters, as qs_quantize reports it */
	qs_quant tmp;
	memset(&tmp, 0, sizeof tmp);
	tmp.spec = s;
	tmp.nparams = n;
	if (s.granularity == QS_GRAN_CHANNEL) {
		tmp.param_ndim = 1;
		tmp.param_shape[0] = n;
	} else {
		tmp.param_ndim = t->ndim ? t->ndim : 1;
		for (int d = 0; d + 1 < t->ndim; d++)
			tmp.param_shape[d] = t->shape[d];
		int64_t rowlen = t->ndim ? t->shape[t->ndim - 1] : 1;
		tmp.param_shape[tmp.param_ndim - 1] =
			(rowlen + s.group - 1) / s.group;
	}
	float *box[2] = {lo, hi};
	for (int i = 0; i < 2; i++) {
		qs_tensor **ud = ql_newtensor(L);
		*ud = qs_tensor_new(QS_DT_F32, tmp.param_ndim, tmp.param_shape,
				    &err);
		if (!*ud) {
			free(lo);
			free(hi);
			return luaL_error(L, "%s", err.msg);
		}
		memcpy((*ud)->data, box[i], sizeof(float) * (size_t)n);
	}
	free(lo);
	free(hi);
	return 2;
}

/* qs.error(reference, q_or_tensor) */
static int l_error(lua_State *L)
{
	qs_tensor *ref = ql_checktensor(L, 1);
	lquant *lq = luaL_testudata(L, 2, QL_QUANT);
	qs_error err;
	if (lq) {
		if (!lq->q)
			return luaL_error(L, "attempt to use a freed "
					     "quantized tensor");
		lua_getiuservalue(L, 2, 1);
		qs_tensor *src = ql_totensor(L, -1);
		if (src == ref) {
			push_metrics(L, &lq->q->metrics);
			return 1;
		}
		if (!src)
			return luaL_error(L, "quantized tensor has no source");
		if (src->size != ref->size)
			return luaL_argerror(L, 2, "size differs from the "
						   "reference");
		/* reconstruct and compare with the given reference */
		qs_tensor **ud = ql_newtensor(L);
		*ud = qs_quant_dequant(lq->q, src, &err);
		if (!*ud)
			return luaL_error(L, "%s", err.msg);
		const float *x = qs_tensor_f32(ref, &err);
		if (!x)
			return luaL_error(L, "%s", err.msg);
		qs_metrics m;
		qs_metrics_compute(x, (*ud)->data, (size_t)ref->size, &m);
		m.n_clipped = lq->q->metrics.n_clipped;
		m.clipped = lq->q->metrics.clipped;
		push_metrics(L, &m);
		return 1;
	}
	qs_tensor *y = ql_totensor(L, 2);
	if (!y)
		return luaL_typeerror(L, 2, "tensor or quantized tensor");
	if (y->size != ref->size)
		return luaL_argerror(L, 2, "size differs from the reference");
	const float *x = qs_tensor_f32(ref, &err);
	const float *yy = x ? qs_tensor_f32(y, &err) : NULL;
	if (!yy)
		return luaL_error(L, "%s", err.msg);
	qs_metrics m;
	qs_metrics_compute(x, yy, (size_t)ref->size, &m);
	push_metrics(L, &m);
	return 1;
}

/* qs.calib_methods() -> list of calibration method names */
static int l_calib_methods(lua_State *L)
{
	lua_newtable(L);
	int k = 0;
	for (int m = 0; m < QS_CALIB_COUNT; m++) {
		const char *name = qs_calib_name((qs_calib_method)m);
		if (name) {
			lua_pushstring(L, name);
			lua_rawseti(L, -2, ++k);
		}
	}
	return 1;
}

static const luaL_Reg funcs[] = {
	{"calib_methods", l_calib_methods},
	{"quantize", l_quantize},
	{"calibrate", l_calibrate},
	{"error", l_error},
	{NULL, NULL},
};

void ql_open_quant(lua_State *L)
{
	static const luaL_Reg meta[] = {
		{"__index", q_index}, {"__tostring", q_tostring},
		{"__gc", q_free},     {"__close", q_free},
		{NULL, NULL},
	};
	luaL_newmetatable(L, QL_QUANT);
	luaL_setfuncs(L, meta, 0);
	lua_pushliteral(L, "quantized tensor");
	lua_setfield(L, -2, "__name");
	lua_pop(L, 1);
	luaL_setfuncs(L, funcs, 0);
}
