/* t_quant: integer quantization against a direct scalar implementation of
 * the documented conventions, hand-computed cases, granularities, rounding
 * rules, NaN/Inf handling and metric definitions. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/qs_engine.h"
#include "tap.h"

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) * 0x1p-53;
}
static float nrand(void)
{
	double u = urand() + 1e-300, v = urand();
	return (float)(sqrt(-2 * log(u)) * cos(2 * M_PI * v));
}

static qs_tensor *tensor(int ndim, const int64_t *shape)
{
	qs_tensor *t = qs_tensor_new(QS_DT_F32, ndim, shape, NULL);
	float *x = t->data;
	for (int64_t i = 0; i < t->size; i++)
		x[i] = nrand() * (float)(1 + i % 7);
	return t;
}

/* The scalar reference of one element (documented conventions). */
static float ref_one(float x, float s, float z, float qmin, float qmax,
		     qs_rounding r, uint64_t seed, uint64_t idx, float *code)
{
	if (!isfinite(x))
		x = 0;
	float q = qs_round1(x / s, r, seed, idx) + z;
	q = q < qmin ? qmin : q > qmax ? qmax : q;
	*code = q;
	return (q - z) * s;
}

/* Compare the engine's codes and dequantized values with the reference
 * computed from the engine's own scale/zero point (checked elsewhere). */
static int matches_reference(qs_tensor *t, const qs_spec *sp,
			     const char *what)
{
	qs_error err;
	qs_quant *q = qs_quantize(t, sp, &err);
	if (!q) {
		tap_diag("%s: %s", what, err.msg);
		return 0;
	}
	qs_tensor *c = qs_quant_codes(q, t, &err);
	qs_tensor *y = qs_quant_dequant(q, t, &err);
	const float *x = t->data;
	int good = c && y;
	double se = 0;
	for (int64_t i = 0; good && i < t->size; i++) {
		int64_t p = 0;
		if (sp->granularity == QS_GRAN_CHANNEL) {
			int ax = sp->axis < 0 ? sp->axis + t->ndim : sp->axis;
			int64_t inner = 1;
			for (int d = ax + 1; d < t->ndim; d++)
				inner *= t->shape[d];
			p = (i / inner) % t->shape[ax];
		} else if (sp->granularity == QS_GRAN_GROUP) {
			int64_t L = t->shape[t->ndim - 1];
			int64_t ng = (L + sp->group - 1) / sp->group;
			p = (i / L) * ng + (i % L) / sp->group;
		}
		float code;
		float want = ref_one(x[i], q->scale[p], q->zero_point[p],
				     (float)q->qmin, (float)q->qmax,
				     sp->rounding, sp->seed, (uint64_t)i, &code);
		float got = ((float *)y->data)[i];
		double gc = qs_tensor_get(c, i);
		if (memcmp(&got, &want, 4) != 0 || gc != code) {
			tap_diag("%s: element %lld: x %.9g code %g want %g, "
				 "y %.9g want %.9g",
				 what, (long long)i, x[i], gc, code, got, want);
			good = 0;
		}
		if (isfinite(x[i]))
			se += ((double)want - x[i]) * ((double)want - x[i]);
	}
	if (good) {
		double mse = se / (double)q->metrics.count;
		if (fabs(q->metrics.mse - mse) > 1e-6 * mse + 1e-30) {
			tap_diag("%s: mse %.12g want %.12g", what,
				 q->metrics.mse, mse);
			good = 0;
		}
	}
	qs_tensor_free(c);
	qs_tensor_free(y);
	qs_quant_free(q);
	return good;
}

static qs_spec spec(const char *fmt, qs_scheme sch, qs_granularity g)
{
	qs_spec s;
	qs_spec_default(&s);
	qs_spec_set_format(&s, fmt, NULL);
	s.scheme = sch;
	s.granularity = g;
	return s;
}

int main(void)
{
	tap_plan(51);
	qs_error err;

	/* hand-computed: int8 symmetric, scale = amax/127 */
	int64_t n5 = 5;
	qs_tensor *t = qs_tensor_new(QS_DT_F32, 1, &n5, NULL);
	float v5[5] = {-1.0f, -0.5f, 0.0f, 0.25f, 1.27f};
	memcpy(t->data, v5, sizeof v5);
	qs_spec s = spec("int8", QS_SCHEME_SYMMETRIC, QS_GRAN_TENSOR);
	qs_quant *q = qs_quantize(t, &s, &err);
	ok(q && q->scale[0] == 1.27f / 127.0f && q->zero_point[0] == 0 &&
		   q->qmin == -128 && q->qmax == 127,
	   "int8 symmetric: scale = amax/127, zp 0, codes [-128, 127]");
	qs_tensor *c = qs_quant_codes(q, t, &err);
	ok(c && c->dtype == QS_DT_I8 && qs_tensor_get(c, 0) == -100 &&
		   qs_tensor_get(c, 4) == 127 && qs_tensor_get(c, 3) == 25,
	   "int8 codes -100 .. 127");
	qs_tensor_free(c);
	ok(q && q->bits == 8.0 + 32.0 / 5.0, "bits = 8 + 32/size");
	qs_quant_free(q);
	s.narrow = 1;
	q = qs_quantize(t, &s, &err);
	ok(q && q->qmin == -127, "narrow range [-127, 127]");
	qs_quant_free(q);

	/* asymmetric uint8 */
	s = spec("uint8", QS_SCHEME_ASYMMETRIC, QS_GRAN_TENSOR);
	q = qs_quantize(t, &s, &err);
	float sc = (1.27f - -1.0f) / 255.0f;
	ok(q && q->scale[0] == sc &&
		   q->zero_point[0] == 0.0f - nearbyintf(-1.0f / sc),
	   "uint8 asymmetric: scale (max-min)/255, zp = -round(min/s)");
	ok(q && q->bits == 8.0 + 40.0 / 5.0, "asymmetric bits count the zp");
	qs_quant_free(q);
	s = spec("int8", QS_SCHEME_ASYMMETRIC, QS_GRAN_TENSOR);
	q = qs_quantize(t, &s, &err);
	ok(q && q->zero_point[0] == -128.0f - nearbyintf(-1.0f / sc),
	   "int8 asymmetric zp = -128 - round(min/s)");
	qs_quant_free(q);
	/* all-positive data: asymmetric range still holds 0 */
	float pos[5] = {1, 2, 3, 4, 5};
	memcpy(t->data, pos, sizeof pos);
	s = spec("uint8", QS_SCHEME_ASYMMETRIC, QS_GRAN_TENSOR);
	q = qs_quantize(t, &s, &err);
	ok(q && q->scale[0] == 5.0f / 255.0f && q->zero_point[0] == 0,
	   "range is widened to hold 0");
	qs_quant_free(q);
	s = spec("uint4", QS_SCHEME_SYMMETRIC, QS_GRAN_TENSOR);
	q = qs_quantize(t, &s, &err);
	ok(q && q->scale[0] == 5.0f / 15.0f && q->qmin == 0 && q->qmax == 15,
	   "uint4 symmetric: zp 0, scale max/15");
	qs_quant_free(q);

	/* zero range: scale 1, no division by zero */
	memset(t->data, 0, 5 * sizeof(float));
	s = spec("int4", QS_SCHEME_SYMMETRIC, QS_GRAN_TENSOR);
	q = qs_quantize(t, &s, &err);
	ok(q && q->scale[0] == 1.0f && q->metrics.mse == 0 &&
		   q->metrics.cosine == 1.0,
	   "all-zero tensor: scale 1, exact");
	qs_quant_free(q);
	s = spec("uint8", QS_SCHEME_ASYMMETRIC, QS_GRAN_TENSOR);
	q = qs_quantize(t, &s, &err);
	ok(q && q->scale[0] == 1.0f && q->metrics.mse == 0,
	   "all-zero asymmetric: scale 1");
	qs_quant_free(q);

	/* NaN and Inf are counted, not folded into the scale */
	float nanv[5] = {NAN, 1.0f, -2.0f, INFINITY, 0.5f};
	memcpy(t->data, nanv, sizeof nanv);
	s = spec("int8", QS_SCHEME_SYMMETRIC, QS_GRAN_TENSOR);
	q = qs_quantize(t, &s, &err);
	ok(q && q->scale[0] == 2.0f / 127.0f, "NaN/Inf do not reach the scale");
	ok(q && q->metrics.nan == 1 && q->metrics.inf == 1 &&
		   q->metrics.count == 3,
	   "NaN and Inf counted");
	ok(q && isfinite(q->metrics.mse) && isfinite(q->metrics.sqnr_db),
	   "metrics stay finite");
	qs_quant_free(q);
	qs_tensor_free(t);

	/* against the scalar reference, all granularities and formats */
	int64_t sh3[3] = {6, 5, 70};
	t = tensor(3, sh3);
	const char *fmts[] = {"int8", "int4", "int2", "int16", "uint8", "uint3"};
	for (int f = 0; f < 6; f++)
		for (int sch = 0; sch < 2; sch++) {
			s = spec(fmts[f], (qs_scheme)sch, QS_GRAN_TENSOR);
			char what[64];
			snprintf(what, sizeof what, "%s %s per tensor", fmts[f],
				 sch ? "asymmetric" : "symmetric");
			ok(matches_reference(t, &s, what), "%s", what);
		}
	for (int ax = -1; ax < 3; ax++) {
		s = spec("int4", QS_SCHEME_ASYMMETRIC, QS_GRAN_CHANNEL);
		s.axis = ax;
		char what[64];
		snprintf(what, sizeof what, "int4 asymmetric per channel axis %d",
			 ax);
		ok(matches_reference(t, &s, what), "%s", what);
	}
	for (int ax = 0; ax < 3; ax += 2) {
		s = spec("int4", QS_SCHEME_SYMMETRIC, QS_GRAN_CHANNEL);
		s.axis = ax;
		q = qs_quantize(t, &s, &err);
		qs_metrics pm[70];
		double se = 0;
		int64_t cnt = 0;
		double worst = 1e300;
		ok(qs_quant_param_metrics(q, t, pm, &err) == QS_OK,
		   "per-channel metrics, axis %d", ax);
		for (int64_t p = 0; p < q->nparams; p++) {
			se += pm[p].mse * (double)pm[p].count;
			cnt += pm[p].count;
			worst = pm[p].sqnr_db < worst ? pm[p].sqnr_db : worst;
		}
		ok(cnt == t->size &&
			   fabs(se / (double)cnt - q->metrics.mse) <=
				   1e-6 * q->metrics.mse &&
			   worst <= q->metrics.sqnr_db + 1e-9,
		   "per-channel errors add up to the total (axis %d)", ax);
		qs_quant_free(q);
	}
	s = spec("int8", QS_SCHEME_SYMMETRIC, QS_GRAN_GROUP);
	s.group = 32; /* 70 = 32 + 32 + 6: a shorter last group */
	q = qs_quantize(t, &s, &err);
	ok(q && q->nparams == 6 * 5 * 3 && q->param_ndim == 3 &&
		   q->param_shape[2] == 3,
	   "per-group parameters shape (6, 5, 3)");
	qs_quant_free(q);
	ok(matches_reference(t, &s, "int8 per group 32"), "int8 per group 32");
	s.scheme = QS_SCHEME_ASYMMETRIC;
	s.group = 7;
	ok(matches_reference(t, &s, "asym per group 7"), "asym per group 7");
	s = spec("int8", QS_SCHEME_SYMMETRIC, QS_GRAN_CHANNEL);
	s.axis = 3;
	q = qs_quantize(t, &s, &err);
	ok(!q && err.code == QS_EINVAL && strstr(err.msg, "axis 3"),
	   "axis out of range: %s", err.msg);

	/* rounding rules */
	const qs_rounding rules[] = {QS_ROUND_AWAY, QS_ROUND_UP, QS_ROUND_FLOOR,
				     QS_ROUND_CEIL, QS_ROUND_TRUNC,
				     QS_ROUND_STOCHASTIC};
	for (int r = 0; r < 6; r++) {
		s = spec("int4", QS_SCHEME_SYMMETRIC, QS_GRAN_TENSOR);
		s.rounding = rules[r];
		s.seed = 7;
		ok(matches_reference(t, &s, qs_rounding_name(rules[r])),
		   "rounding %s", qs_rounding_name(rules[r]));
	}
	float probes[6] = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f};
	float want_rne[6] = {-2, -2, 0, 0, 2, 2}, want_rna[6] = {-3, -2, -1, 1, 2, 3},
	      want_up[6] = {-2, -1, 0, 1, 2, 3};
	int good = 1;
	for (int i = 0; i < 6; i++)
		good &= qs_round1(probes[i], QS_ROUND_NEAREST, 0, 0) ==
				want_rne[i] &&
			qs_round1(probes[i], QS_ROUND_AWAY, 0, 0) == want_rna[i] &&
			qs_round1(probes[i], QS_ROUND_UP, 0, 0) == want_up[i];
	ok(good, "tie probes: nearest-even, away, up");
	/* stochastic rounding is unbiased */
	double sum = 0;
	for (int i = 0; i < 100000; i++)
		sum += qs_round1(2.3f, QS_ROUND_STOCHASTIC, 1, (uint64_t)i);
	is_double(sum / 100000, 2.3, 0.005, "stochastic mean of 2.3");
	qs_tensor_free(t);

	/* large tensor: chunked, threaded sums equal a serial reference */
	int64_t big = 1000003;
	t = tensor(1, &big);
	s = spec("int8", QS_SCHEME_SYMMETRIC, QS_GRAN_TENSOR);
	q = qs_quantize(t, &s, &err);
	qs_tensor *y = qs_quant_dequant(q, t, &err);
	double se = 0, sx = 0, sy = 0, sxy = 0, mx = 0;
	const float *x = t->data, *yy = y->data;
	for (int64_t i = 0; i < big; i++) {
		double e = (double)yy[i] - x[i];
		se += e * e;
		sx += (double)x[i] * x[i];
		sy += (double)yy[i] * yy[i];
		sxy += (double)x[i] * yy[i];
		mx = fabs(e) > mx ? fabs(e) : mx;
	}
	is_double(q->metrics.mse, se / big, 1e-6 * se / big, "mse on 1M");
	is_double(q->metrics.sqnr_db, 10 * log10(sx / se), 1e-6,
		  "sqnr on 1M");
	is_double(q->metrics.cosine, sxy / sqrt(sx * sy), 1e-7, "cosine on 1M");
	ok(q->metrics.max_abs == mx, "max abs error exact");
	qs_metrics m2;
	qs_metrics_compute(x, yy, (size_t)big, &m2);
	is_double(m2.mse, q->metrics.mse, 1e-9 * se / big,
		  "generic metrics agree with the fused pass");
	qs_tensor_free(y);
	qs_quant_free(q);
	qs_tensor_free(t);
	return tap_done();
}
