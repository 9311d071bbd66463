/* quant: uniform integer quantization, calibrated per tensor, channel or
 * group, fused with its error metrics.
 *
 * The hot loop (kernel below) reads each element once: it divides by the
 * scale, rounds, adds the zero point, clamps, dequantizes and accumulates
 * every error sum in float lanes flushed to double, with no temporary the
 * size of the input.  Work is split into fixed chunks whose partial sums
 * are merged in chunk order, so results do not depend on the thread count.
 * Pure C11 + libm (+ OpenMP); no printing. */
#include "config.h"
#include "quant.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 65536 /* elements per work unit; fixed, thread-independent */
#define LANES 16

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
	!defined(__SANITIZE_ADDRESS__)
/* roundps (SSE4.1) turns nearbyintf/floorf into one instruction; baseline
 * x86-64 would call libm for each element. */
#define QS_CLONES __attribute__((target_clones("avx2", "sse4.1", "default")))
#else
#define QS_CLONES
#endif

/* ---- names --------------------------------------------------------------- */

static const char *const scheme_names[] = {"symmetric", "asymmetric"};
static const char *const gran_names[] = {"tensor", "channel", "group"};
static const char *const preset_names[QS_PRESET_COUNT] = {
	"none", "torch", "onnxruntime", "tensorrt", "ggml", "aimet"};

const char *qs_scheme_name(qs_scheme s)
{
	return (unsigned)s < 2 ? scheme_names[s] : NULL;
}

const char *qs_granularity_name(qs_granularity g)
{
	return (unsigned)g < 3 ? gran_names[g] : NULL;
}

const char *qs_preset_name(qs_preset p)
{
	return (unsigned)p < QS_PRESET_COUNT ? preset_names[p] : NULL;
}

int qs_preset_parse(const char *name, qs_preset *out)
{
	for (int i = 0; i < QS_PRESET_COUNT; i++)
		if (strcmp(name, preset_names[i]) == 0) {
			*out = (qs_preset)i;
			return 0;
		}
	return -1;
}

const char *qs_format_names(void)
{
	return "int8, uint8, intN, uintN (N = 2..16), fp16, bf16, fp8_e4m3, "
	       "fp8_e5m2, fp8_e4m3fnuz, fp8_e5m2fnuz, fp6_e2m3, fp6_e3m2, "
	       "fp4_e2m1, fpE<e>M<m>";
}

void qs_spec_default(qs_spec *s)
{
	memset(s, 0, sizeof *s);
	strcpy(s->format, "int8");
	s->bits = 8;
	s->scheme = QS_SCHEME_SYMMETRIC;
	s->granularity = QS_GRAN_TENSOR;
	s->axis = 0;
	s->group = 128;
	s->calib.method = QS_CALIB_MINMAX;
	s->rounding = QS_ROUND_NEAREST;
}

qs_status qs_spec_set_format(qs_spec *s, const char *name, qs_error *err)
{
	const char *p = name;
	int uns = 0;
	if (strncmp(p, "fp", 2) == 0 || strcmp(p, "bf16") == 0) {
		qs_fpfmt f;
		if (strlen(name) >= sizeof s->format ||
		    qs_fpfmt_lookup(name, &f, NULL) < 0)
			goto bad;
		strcpy(s->format, name);
		s->is_float = 1;
		s->fp = f;
		s->bits = f.bits;
		s->is_unsigned = 0;
		return QS_OK;
	}
	if (strncmp(p, "uint", 4) == 0) {
		uns = 1;
		p += 4;
	} else if (strncmp(p, "int", 3) == 0) {
		p += 3;
	} else {
		goto bad;
	}
	char *end;
	if (*p < '0' || *p > '9')
		goto bad;
	long n = strtol(p, &end, 10);
	if (*end || n < 2 || n > 16)
		goto bad;
	if (strlen(name) >= sizeof s->format)
		goto bad;
	strcpy(s->format, name);
	s->bits = (int)n;
	s->is_unsigned = uns;
	s->is_float = 0;
	return QS_OK;
bad:
	return qs_fail(err, QS_EINVAL, "unknown format '%s' (accepted: %s)",
		       name, qs_format_names());
}

/* ---- parameters ------------------------------------------------------- */

void qs_code_range(const qs_spec *s, int64_t *qmin, int64_t *qmax)
{
	if (s->is_float) { /* codes are bit patterns */
		*qmin = 0;
		*qmax = ((int64_t)1 << s->fp.bits) - 1;
		return;
	}
	int64_t full = ((int64_t)1 << s->bits) - 1;
	if (s->is_unsigned) {
		*qmin = 0;
		*qmax = full;
	} else {
		int64_t pos = ((int64_t)1 << (s->bits - 1)) - 1;
		*qmax = pos;
		*qmin = (s->scheme == QS_SCHEME_SYMMETRIC && s->narrow)
				? -pos
				: -pos - 1;
	}
}

void qs_qparams(const qs_spec *s, float lo, float hi, float *scale,
		float *zero_point)
{
	if (s->is_float) {
		/* amax onto the largest finite value; plain cast for "none" */
		float amax = fabsf(lo) > fabsf(hi) ? fabsf(lo) : fabsf(hi);
		float sc = s->calib.method == QS_CALIB_NONE ? 1.0f
							    : amax / s->fp.max;
		if (!(sc > 0.0f) || !isfinite(sc))
			sc = 1.0f;
		*scale = sc;
		*zero_point = 0.0f;
		return;
	}
	int64_t qmin, qmax;
	qs_code_range(s, &qmin, &qmax);
	float lo0 = lo < 0.0f ? lo : 0.0f; /* the range always holds 0 */
	float hi0 = hi > 0.0f ? hi : 0.0f;
	float sc, zp = 0.0f;
	if (s->scheme == QS_SCHEME_SYMMETRIC) {
		if (s->is_unsigned) {
			/* unsigned symmetric: zero point 0, [0, hi] */
			sc = hi0 / (float)qmax;
		} else {
			float amax = -lo0 > hi0 ? -lo0 : hi0;
			float pos = (float)(((int64_t)1 << (s->bits - 1)) - 1);
			sc = amax / pos;
		}
		if (!(sc > 0.0f) || !isfinite(sc))
			sc = 1.0f;
	} else {
		sc = (hi0 - lo0) / (float)(((int64_t)1 << s->bits) - 1);
		if (!(sc > 0.0f) || !isfinite(sc))
			sc = 1.0f;
		zp = (float)qmin - nearbyintf(lo0 / sc);
		if (zp < (float)qmin)
			zp = (float)qmin;
		if (zp > (float)qmax)
			zp = (float)qmax;
	}
	*scale = sc;
	*zero_point = zp;
}

/* ---- the fused kernel ------------------------------------------------- */

static inline float rnd(float t, qs_rounding mode, uint64_t seed,
			uint64_t idx)
{
	float f, d;
	switch (mode) {
	case QS_ROUND_NEAREST:
		return nearbyintf(t);
	case QS_ROUND_FLOOR:
		return floorf(t);
	case QS_ROUND_CEIL:
		return ceilf(t);
	case QS_ROUND_TRUNC:
		return truncf(t);
	case QS_ROUND_AWAY:
		f = floorf(t);
		d = t - f;
		return (d > 0.5f || (d == 0.5f && f >= 0.0f)) ? f + 1.0f : f;
	case QS_ROUND_UP:
		f = floorf(t);
		return t - f >= 0.5f ? f + 1.0f : f;
	case QS_ROUND_STOCHASTIC:
		f = floorf(t);
		return qs_rand_u01(seed, idx) < t - f ? f + 1.0f : f;
	default:
		return nearbyintf(t);
	}
}

typedef struct kargs {
	const float *x;
	size_t n;
	const float *S, *Z; /* per-element parameters (vec) or [0] */
	float qmin, qmax;
	qs_rounding mode;
	uint64_t seed, idx0;
	float *qout, *yout; /* optional outputs */
} kargs;

/* One run of elements with its parameters; `vec` selects per-element
 * parameters, `out` writes codes/dequantized values.  Inlined into a copy
 * per (mode, vec, out) so each copy vectorizes. */
static inline __attribute__((always_inline)) void
kernel(const kargs *k, qs_acc *a, const qs_rounding mode, const int vec,
       const int out)
{
	const float *x = k->x;
	const float lo = k->qmin, hi = k->qmax;
	size_t n = k->n, i = 0;
	while (i < n) {
		float se[LANES] = {0}, ae[LANES] = {0}, er[LANES] = {0},
		      x2[LANES] = {0}, y2[LANES] = {0}, xy[LANES] = {0},
		      mx[LANES] = {0}, cl[LANES] = {0}, nn[LANES] = {0},
		      ni[LANES] = {0};
		size_t stop = n - i > LANES * 16 ? i + LANES * 16 : n;
#define QS_BODY(J, IDX)                                                          \
	do {                                                                     \
		float v = x[IDX];                                                \
		float s = vec ? k->S[IDX] : k->S[0];                             \
		float z = vec ? k->Z[IDX] : k->Z[0];                             \
		int isn = v != v;                                                \
		int fin = fabsf(v) <= FLT_MAX;                                   \
		float xv = fin ? v : 0.0f;                                       \
		float t = xv / s; /* may be +-inf for a tiny s: clamped */      \
		float r = rnd(t, mode, k->seed, k->idx0 + (IDX)) + z;            \
		float c = (float)((r < lo) | (r > hi));                          \
		r = r < lo ? lo : r;                                             \
		r = r > hi ? hi : r;                                             \
		float yv = (r - z) * s;                                          \
		float e = yv - xv, ab = fabsf(e);                                \
		if (out == 1)                                                    \
			k->qout[IDX] = r;                                        \
		if (out == 2)                                                    \
			k->yout[IDX] = yv;                                       \
		se[J] += e * e;                                                  \
		ae[J] += ab;                                                     \
		er[J] += e;                                                      \
		x2[J] += xv * xv;                                                \
		y2[J] += yv * yv;                                                \
		xy[J] += xv * yv;                                                \
		mx[J] = ab > mx[J] ? ab : mx[J];                                 \
		cl[J] += c;                                                      \
		nn[J] += (float)isn;                                             \
		ni[J] += (float)(!fin & !isn);                                   \
	} while (0)
		for (; i + LANES <= stop; i += LANES)
			for (int j = 0; j < LANES; j++)
				QS_BODY(j, i + j);
		for (; i < stop; i++)
			QS_BODY(0, i);
#undef QS_BODY
		for (int j = 0; j < LANES; j++) {
			a->se += se[j];
			a->ae += ae[j];
			a->err += er[j];
			a->sx2 += x2[j];
			a->sy2 += y2[j];
			a->sxy += xy[j];
			a->maxae = mx[j] > a->maxae ? mx[j] : a->maxae;
			a->clipped += (int64_t)cl[j];
			a->nan += (int64_t)nn[j];
			a->inf += (int64_t)ni[j];
		}
	}
	a->count += (int64_t)n;
}

/* ---- the fast path: nearest rounding, one scale, metrics only ---------
 * GCC vector extensions, one copy per instruction set chosen at run time:
 * 16 lanes with AVX-512, 8 with AVX2, 4 with baseline SSE2.  Rounding to
 * nearest even is (t + 1.5*2^23) - 1.5*2^23, exact for |t| < 2^22; larger
 * |t| lie far outside every code range (at most 2^16 codes) and clamp the
 * same way.  A block whose sums are not finite held a NaN or Inf: it is
 * redone by the careful kernel above, which counts and skips them. */

#define QS_SEL(m, a, b) (((m) & (a)) | (~(m) & (b)))

#define QS_FAST_KERNEL(NAME, W, ATTR)                                          \
	typedef float NAME##_vf __attribute__((vector_size(W * 4)));           \
	typedef int32_t NAME##_vi __attribute__((vector_size(W * 4)));         \
	ATTR static size_t NAME(const float *restrict x, size_t n, float s,    \
				float z, float lo, float hi, qs_acc *a)        \
	{                                                                      \
		typedef NAME##_vf vf;                                          \
		typedef NAME##_vi vi;                                          \
		const vf zero = {0}, magic = zero + 12582912.0f;               \
		const vf vs = zero + s, vz = zero + z, vlo = zero + lo,        \
			 vhi = zero + hi;                                      \
		size_t i = 0;                                                  \
		while (i + W <= n) {                                           \
			vf se = zero, ae = zero, er = zero, x2 = zero,         \
			   y2 = zero, xy = zero, mx = zero;                    \
			vi cl = {0};                                           \
			size_t start = i;                                      \
			size_t stop = n - i > W * 16 ? i + W * 16 : n;         \
			for (; i + W <= stop; i += W) {                        \
				vf xv;                                         \
				memcpy(&xv, x + i, sizeof xv);                 \
				vf r = (xv / vs + magic) - magic + vz;         \
				vf rc = (vf)QS_SEL(r < vlo, (vi)vlo, (vi)r);   \
				rc = (vf)QS_SEL(rc > vhi, (vi)vhi, (vi)rc);    \
				cl -= rc != r;                                 \
				vf yv = (rc - vz) * vs;                        \
				vf e = yv - xv;                                \
				vf ab = (vf)((vi)e & 0x7FFFFFFF);              \
				se += e * e;                                   \
				ae += ab;                                      \
				er += e;                                       \
				x2 += xv * xv;                                 \
				y2 += yv * yv;                                 \
				xy += xv * yv;                                 \
				mx = (vf)QS_SEL(ab > mx, (vi)ab, (vi)mx);      \
			}                                                      \
			qs_acc b;                                              \
			qs_acc_init(&b);                                       \
			for (int j = 0; j < W; j++) {                          \
				b.se += se[j];                                 \
				b.ae += ae[j];                                 \
				b.err += er[j];                                \
				b.sx2 += x2[j];                                \
				b.sy2 += y2[j];                                \
				b.sxy += xy[j];                                \
				b.maxae = mx[j] > b.maxae ? mx[j] : b.maxae;   \
				b.clipped += cl[j];                            \
			}                                                      \
			if (!isfinite(b.se) || !isfinite(b.sx2) ||             \
			    !isfinite(b.sxy) || b.maxae != b.maxae)            \
				return start; /* careful path from here */     \
			b.count = (int64_t)(i - start);                        \
			qs_acc_merge(a, &b);                                   \
		}                                                              \
		return i;                                                      \
	}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
QS_FAST_KERNEL(fast_v4, 16, __attribute__((target("arch=x86-64-v4"))))
QS_FAST_KERNEL(fast_v3, 8, __attribute__((target("arch=x86-64-v3"))))
#endif
QS_FAST_KERNEL(fast_generic, 4, )

typedef size_t (*fastfn)(const float *restrict, size_t, float, float, float,
			 float, qs_acc *);

/* The widest kernel this processor runs (chosen once). */
static fastfn fast_kernel(void)
{
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq"))
		return fast_v4;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return fast_v3;
#endif
	return fast_generic;
}

#define QS_KERNEL_VARIANT(NAME, VEC, OUT)                                      \
	QS_CLONES static void NAME(const kargs *k, qs_acc *a)                  \
	{                                                                      \
		switch (k->mode) {                                             \
		case QS_ROUND_FLOOR:                                           \
			kernel(k, a, QS_ROUND_FLOOR, VEC, OUT);                \
			break;                                                 \
		case QS_ROUND_CEIL:                                            \
			kernel(k, a, QS_ROUND_CEIL, VEC, OUT);                 \
			break;                                                 \
		case QS_ROUND_TRUNC:                                           \
			kernel(k, a, QS_ROUND_TRUNC, VEC, OUT);                \
			break;                                                 \
		case QS_ROUND_AWAY:                                            \
			kernel(k, a, QS_ROUND_AWAY, VEC, OUT);                 \
			break;                                                 \
		case QS_ROUND_UP:                                              \
			kernel(k, a, QS_ROUND_UP, VEC, OUT);                   \
			break;                                                 \
		case QS_ROUND_STOCHASTIC:                                      \
			kernel(k, a, QS_ROUND_STOCHASTIC, VEC, OUT);           \
			break;                                                 \
		default:                                                       \
			kernel(k, a, QS_ROUND_NEAREST, VEC, OUT);              \
			break;                                                 \
		}                                                              \
	}
QS_KERNEL_VARIANT(run_scalar, 0, 0)
QS_KERNEL_VARIANT(run_vec, 1, 0)
QS_KERNEL_VARIANT(run_scalar_q, 0, 1)
QS_KERNEL_VARIANT(run_vec_q, 1, 1)
QS_KERNEL_VARIANT(run_scalar_y, 0, 2)
QS_KERNEL_VARIANT(run_vec_y, 1, 2)

typedef void (*runfn)(const kargs *, qs_acc *);

/* ---- element -> parameter layout ------------------------------------- */

typedef struct layout {
	qs_granularity g;
	int64_t size;
	int64_t inner, nch;  /* channel: p = (i / inner) % nch */
	int64_t rowlen, grp, ngrp; /* group: p = row*ngrp + col/grp */
} layout;

/* Parameter index of element i and the end of its run (exclusive). */
static inline int64_t run_at(const layout *L, int64_t i, int64_t *end)
{
	switch (L->g) {
	case QS_GRAN_CHANNEL: {
		int64_t b = i / L->inner;
		*end = (b + 1) * L->inner;
		return b % L->nch;
	}
	case QS_GRAN_GROUP: {
		int64_t row = i / L->rowlen, col = i % L->rowlen;
		int64_t g = col / L->grp;
		int64_t e = (g + 1) * L->grp;
		*end = row * L->rowlen + (e < L->rowlen ? e : L->rowlen);
		return row * L->ngrp + g;
	}
	default:
		*end = L->size;
		return 0;
	}
}

/* One chunk [a, b): every run inside it through the right kernel. */
static void pass_chunk(const layout *L, const float *x, int64_t a, int64_t b,
		       const float *scale, const float *zp, float qmin,
		       float qmax, qs_rounding mode, uint64_t seed,
		       float *qout, float *yout, qs_acc *acc)
{
	kargs k = {.qmin = qmin, .qmax = qmax, .mode = mode, .seed = seed};
	int vec = L->g == QS_GRAN_CHANNEL && L->inner == 1;
	runfn fv = qout ? run_vec_q : yout ? run_vec_y : run_vec;
	runfn fs = qout ? run_scalar_q : yout ? run_scalar_y : run_scalar;
	if (vec) {
		/* channel axis is the last: parameters cycle per element;
		 * walk the chunk row by row with per-element arrays. */
		int64_t i = a;
		while (i < b) {
			int64_t c0 = i % L->nch;
			int64_t e = i - c0 + L->nch;
			if (e > b)
				e = b;
			k.x = x + i;
			k.n = (size_t)(e - i);
			k.S = scale + c0;
			k.Z = zp + c0;
			k.idx0 = (uint64_t)i;
			k.qout = qout ? qout + (i - a) : NULL;
			k.yout = yout ? yout + (i - a) : NULL;
			fv(&k, acc);
			i = e;
		}
		return;
	}
	int64_t i = a;
	while (i < b) {
		int64_t end;
		int64_t p = run_at(L, i, &end);
		if (end > b)
			end = b;
		k.x = x + i;
		k.n = (size_t)(end - i);
		k.S = scale + p;
		k.Z = zp + p;
		k.idx0 = (uint64_t)i;
		k.qout = qout ? qout + (i - a) : NULL;
		k.yout = yout ? yout + (i - a) : NULL;
		if (!qout && !yout && mode == QS_ROUND_NEAREST) {
			static fastfn fast;
			if (!fast)
				fast = fast_kernel(); /* idempotent race */
			size_t done = fast(k.x, k.n, scale[p], zp[p], qmin,
					   qmax, acc);
			k.x += done;
			k.n -= done;
			k.idx0 += done;
		}
		if (k.n)
			fs(&k, acc);
		i = end;
	}
}

static qs_status make_layout(const qs_spec *s, const qs_tensor *t,
			     layout *L, int64_t *nparams, int *pndim,
			     int64_t *pshape, qs_error *err)
{
	memset(L, 0, sizeof *L);
	L->g = s->granularity;
	L->size = t->size;
	switch (s->granularity) {
	case QS_GRAN_TENSOR:
		*nparams = 1;
		*pndim = 0;
		return QS_OK;
	case QS_GRAN_CHANNEL: {
		if (t->ndim < 1)
			return qs_fail(err, QS_EINVAL,
				       "per-channel quantization needs a "
				       "tensor of rank >= 1");
		int ax = s->axis < 0 ? s->axis + t->ndim : s->axis;
		if (ax < 0 || ax >= t->ndim)
			return qs_fail(err, QS_EINVAL,
				       "axis %d out of range for a rank-%d "
				       "tensor (accepted: %d..%d)",
				       s->axis, t->ndim, -t->ndim,
				       t->ndim - 1);
		int64_t inner = 1;
		for (int d = ax + 1; d < t->ndim; d++)
			inner *= t->shape[d];
		L->inner = inner ? inner : 1;
		L->nch = t->shape[ax] ? t->shape[ax] : 1;
		*nparams = t->shape[ax];
		*pndim = 1;
		pshape[0] = t->shape[ax];
		return QS_OK;
	}
	case QS_GRAN_GROUP: {
		if (s->group < 1)
			return qs_fail(err, QS_EINVAL,
				       "group size %lld must be >= 1",
				       (long long)s->group);
		int64_t rowlen = t->ndim ? t->shape[t->ndim - 1] : 1;
		L->rowlen = rowlen ? rowlen : 1;
		L->grp = s->group;
		L->ngrp = (rowlen + s->group - 1) / s->group;
		int64_t rows = rowlen ? t->size / rowlen : 0;
		*nparams = rows * L->ngrp;
		*pndim = t->ndim ? t->ndim : 1;
		for (int d = 0; d + 1 < t->ndim; d++)
			pshape[d] = t->shape[d];
		pshape[*pndim - 1] = L->ngrp;
		return QS_OK;
	}
	}
	return qs_fail(err, QS_EINVAL, "bad granularity");
}

static qs_status check_spec(const qs_spec *s, qs_error *err)
{
	if (!s->is_float && (s->bits < 2 || s->bits > 16))
		return qs_fail(err, QS_EINVAL,
			       "bits %d out of range (accepted: 2..16)",
			       s->bits);
	if ((unsigned)s->scheme > QS_SCHEME_ASYMMETRIC)
		return qs_fail(err, QS_EINVAL, "bad scheme");
	if ((unsigned)s->rounding >= QS_ROUND_COUNT)
		return qs_fail(err, QS_EINVAL, "bad rounding");
	return qs_calib_check(&s->calib, err);
}

/* Min and max of the finite values of a run (+inf/-inf when none):
 * vector lanes first (NaN never compares, so it is never kept); a run
 * whose result is infinite held an Inf and is redone one by one. */
static void minmax_run(const float *restrict x, size_t n, float *lo,
		       float *hi)
{
	typedef float vf __attribute__((vector_size(16)));
	typedef int32_t vi __attribute__((vector_size(16)));
	vf l0 = {0}, h0 = {0};
	l0 += INFINITY;
	h0 -= INFINITY;
	vf l1 = l0, h1 = h0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		vf v, w;
		memcpy(&v, x + i, sizeof v);
		memcpy(&w, x + i + 4, sizeof w);
		l0 = (vf)QS_SEL(v < l0, (vi)v, (vi)l0);
		h0 = (vf)QS_SEL(v > h0, (vi)v, (vi)h0);
		l1 = (vf)QS_SEL(w < l1, (vi)w, (vi)l1);
		h1 = (vf)QS_SEL(w > h1, (vi)w, (vi)h1);
	}
	float a = INFINITY, b = -INFINITY;
	for (int j = 0; j < 4; j++) {
		a = l0[j] < a ? l0[j] : a;
		b = h0[j] > b ? h0[j] : b;
		a = l1[j] < a ? l1[j] : a;
		b = h1[j] > b ? h1[j] : b;
	}
	for (; i < n; i++) {
		a = x[i] < a ? x[i] : a;
		b = x[i] > b ? x[i] : b;
	}
	if (isinf(a) || isinf(b)) {
		a = INFINITY;
		b = -INFINITY;
		for (i = 0; i < n; i++)
			if (isfinite(x[i])) {
				a = x[i] < a ? x[i] : a;
				b = x[i] > b ? x[i] : b;
			}
	}
	*lo = a;
	*hi = b;
}

/* Per-parameter min/max of the finite values, in one pass. */
static void minmax_pass(const layout *L, const float *x, int64_t nparams,
			float *lo, float *hi)
{
	for (int64_t p = 0; p < nparams; p++) {
		lo[p] = INFINITY;
		hi[p] = -INFINITY;
	}
	if (L->g == QS_GRAN_TENSOR) {
		int64_t n = L->size, nch = (n + CHUNK - 1) / CHUNK;
		float mn = INFINITY, mx = -INFINITY;
#pragma omp parallel for schedule(static) reduction(min : mn) reduction(max : mx)
		for (int64_t c = 0; c < nch; c++) {
			int64_t a = c * CHUNK, b = a + CHUNK < n ? a + CHUNK : n;
			float l, h;
			minmax_run(x + a, (size_t)(b - a), &l, &h);
			mn = l < mn ? l : mn;
			mx = h > mx ? h : mx;
		}
		lo[0] = mn;
		hi[0] = mx;
		return;
	}
	int64_t i = 0;
	while (i < L->size) {
		int64_t end;
		int64_t p;
		if (L->g == QS_GRAN_CHANNEL && L->inner == 1) {
			p = i % L->nch;
			end = i + 1;
		} else {
			p = run_at(L, i, &end);
		}
		float l, h;
		minmax_run(x + i, (size_t)(end - i), &l, &h);
		l = l < lo[p] ? l : lo[p];
		h = h > hi[p] ? h : hi[p];
		lo[p] = l;
		hi[p] = h;
		i = end;
	}
}

/* Copy the values of parameter p (a channel or group) into buf; returns
 * the count. */
static size_t gather(const layout *L, const float *x, int64_t p, float *buf)
{
	size_t n = 0;
	if (L->g == QS_GRAN_CHANNEL) {
		int64_t outer = L->size / (L->inner * L->nch);
		for (int64_t o = 0; o < outer; o++) {
			const float *src = x + (o * L->nch + p) * L->inner;
			memcpy(buf + n, src, sizeof(float) * (size_t)L->inner);
			n += (size_t)L->inner;
		}
	} else {
		int64_t row = p / L->ngrp, g = p % L->ngrp;
		int64_t a = g * L->grp, b = a + L->grp;
		if (b > L->rowlen)
			b = L->rowlen;
		memcpy(buf, x + row * L->rowlen + a,
		       sizeof(float) * (size_t)(b - a));
		n = (size_t)(b - a);
	}
	return n;
}

static qs_grid grid_of(const qs_spec *s)
{
	qs_grid g;
	memset(&g, 0, sizeof g);
	g.bits = s->bits;
	g.is_unsigned = s->is_unsigned;
	g.symmetric = s->scheme == QS_SCHEME_SYMMETRIC;
	g.narrow = s->narrow;
	qs_code_range(s, &g.qmin, &g.qmax);
	return g;
}

/* Calibrated ranges for every parameter. */
static qs_status calibrate_all(const qs_spec *s, const layout *L,
			       const float *x, int t_ndim, int64_t t_shape0,
			       int64_t nparams, float *lo, float *hi,
			       qs_error *err)
{
	if (s->calib.method == QS_CALIB_MINMAX) {
		minmax_pass(L, x, nparams, lo, hi);
		for (int64_t p = 0; p < nparams; p++)
			if (lo[p] > hi[p]) /* no finite value */
				lo[p] = hi[p] = 0.0f;
		return QS_OK;
	}
	qs_grid g = grid_of(s);
	if (L->g == QS_GRAN_TENSOR) {
		qs_calib c = s->calib;
		/* EMA over a tensor: its batches are the slices of axis 0 */
		if (c.method == QS_CALIB_EMA && c.batches == 0 && t_ndim > 0)
			c.batches = t_shape0;
		return qs_calib_range(&c, x, (size_t)L->size, &g, &lo[0],
				      &hi[0], err);
	}
	size_t cap = L->g == QS_GRAN_CHANNEL
			     ? (size_t)(L->size / (L->nch ? L->nch : 1))
			     : (size_t)L->grp;
	float *buf = malloc((cap ? cap : 1) * sizeof *buf);
	if (!buf)
		return qs_fail(err, QS_ENOMEM, "out of memory");
	for (int64_t p = 0; p < nparams; p++) {
		size_t n = gather(L, x, p, buf);
		qs_status st = qs_calib_range(&s->calib, buf, n, &g, &lo[p],
					      &hi[p], err);
		if (st < 0) {
			free(buf);
			return st;
		}
	}
	free(buf);
	return QS_OK;
}

void qs_quant_free(qs_quant *q)
{
	if (!q)
		return;
	free(q->scale);
	free(q->zero_point);
	free(q->lo);
	free(q->hi);
	free(q);
}

/* Float formats: each run through fp.h's kernel into a chunk-sized
 * scratch, then the error sums; codes (bit patterns) and dequantized
 * values optional. */
static qs_status float_chunk(const qs_quant *q, const layout *L,
			     const float *x, int64_t a, int64_t b, float *yout,
			     uint16_t *cout, qs_acc *acc, qs_error *err)
{
	float scratch[4096];
	int64_t i = a;
	while (i < b) {
		int64_t end, p;
		if (L->g == QS_GRAN_CHANNEL && L->inner == 1) {
			p = i % L->nch;
			end = i + 1;
		} else {
			p = run_at(L, i, &end);
		}
		if (end > b)
			end = b;
		for (int64_t j = i; j < end; j += 4096) {
			int64_t m = end - j < 4096 ? end - j : 4096;
			float *y = yout ? yout + (j - a) : scratch;
			qs_fp_counts fc;
			memset(&fc, 0, sizeof fc);
			qs_status st = qs_fp_quantize(
				&q->spec.fp, x + j, m, q->scale[p],
				q->spec.rounding, q->spec.seed, j, y,
				cout ? cout + (j - a) : NULL, &fc, err);
			if (st < 0)
				return st;
			int64_t nan_in = acc->nan;
			qs_acc_add(acc, x + j, y, (size_t)m);
			nan_in = acc->nan - nan_in;
			acc->underflow += fc.underflow;
			acc->subnormal += fc.subnormal;
			acc->overflow += fc.overflow;
			acc->nan_out += fc.nan - nan_in;
		}
		i = end;
	}
	return QS_OK;
}

static qs_status float_pass(const qs_quant *q, const layout *L,
			    const float *x, float *yout, uint16_t *cout,
			    qs_acc *total, qs_error *err)
{
	int64_t n = q->size, nchunks = (n + CHUNK - 1) / CHUNK;
	qs_acc_init(total);
	qs_acc *part = calloc((size_t)(nchunks ? nchunks : 1), sizeof *part);
	if (!part)
		return qs_fail(err, QS_ENOMEM, "out of memory");
	qs_status st = QS_OK;
	for (int64_t c = 0; c < nchunks && st == QS_OK; c++) {
		int64_t a = c * CHUNK, b = a + CHUNK < n ? a + CHUNK : n;
		st = float_chunk(q, L, x, a, b, yout ? yout + a : NULL,
				 cout ? cout + a : NULL, &part[c], err);
	}
	for (int64_t c = 0; c < nchunks; c++)
		qs_acc_merge(total, &part[c]);
	free(part);
	return st;
}

/* The fused pass over all chunks, optionally writing outputs. */
static qs_status fused_pass(const qs_quant *q, const layout *L,
			    const float *x, float *qout, float *yout,
			    qs_acc *total, qs_error *err)
{
	if (q->spec.is_float)
		return float_pass(q, L, x, yout, NULL, total, err);
	int64_t n = q->size, nchunks = (n + CHUNK - 1) / CHUNK;
	qs_acc_init(total);
	if (nchunks <= 1) {
		pass_chunk(L, x, 0, n, q->scale, q->zero_point,
			   (float)q->qmin, (float)q->qmax, q->spec.rounding,
			   q->spec.seed, qout, yout, total);
		return QS_OK;
	}
	qs_acc *part = calloc((size_t)nchunks, sizeof *part);
	if (!part)
		return qs_fail(err, QS_ENOMEM, "out of memory");
#pragma omp parallel for schedule(static)
	for (int64_t c = 0; c < nchunks; c++) {
		int64_t a = c * CHUNK, b = a + CHUNK < n ? a + CHUNK : n;
		pass_chunk(L, x, a, b, q->scale, q->zero_point,
			   (float)q->qmin, (float)q->qmax, q->spec.rounding,
			   q->spec.seed, qout ? qout + a : NULL,
			   yout ? yout + a : NULL, &part[c]);
	}
	for (int64_t c = 0; c < nchunks; c++)
		qs_acc_merge(total, &part[c]);
	free(part);
	return QS_OK;
}

static qs_quant *prepare(qs_tensor *t, const qs_spec *spec, layout *L,
			 const float **xp, qs_error *err)
{
	if (check_spec(spec, err) < 0)
		return NULL;
	const float *x = qs_tensor_f32(t, err);
	if (!x)
		return NULL;
	qs_quant *q = calloc(1, sizeof *q);
	if (!q) {
		qs_fail(err, QS_ENOMEM, "out of memory");
		return NULL;
	}
	q->spec = *spec;
	q->ndim = t->ndim;
	memcpy(q->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
	q->size = t->size;
	if (make_layout(spec, t, L, &q->nparams, &q->param_ndim,
			q->param_shape, err) < 0) {
		free(q);
		return NULL;
	}
	size_t np = (size_t)(q->nparams ? q->nparams : 1);
	q->scale = malloc(np * sizeof(float));
	q->zero_point = malloc(np * sizeof(float));
	q->lo = malloc(np * sizeof(float));
	q->hi = malloc(np * sizeof(float));
	if (!q->scale || !q->zero_point || !q->lo || !q->hi) {
		qs_quant_free(q);
		qs_fail(err, QS_ENOMEM, "out of memory");
		return NULL;
	}
	q->inner_ = L->inner;
	q->nch_ = L->nch;
	q->rowlen_ = L->rowlen;
	q->ngrp_ = L->ngrp;
	qs_code_range(spec, &q->qmin, &q->qmax);
	if (calibrate_all(spec, L, x, t->ndim, t->ndim ? t->shape[0] : 1,
			  q->nparams, q->lo, q->hi, err) < 0) {
		qs_quant_free(q);
		return NULL;
	}
	for (int64_t p = 0; p < q->nparams; p++)
		qs_qparams(spec, q->lo[p], q->hi[p], &q->scale[p],
			   &q->zero_point[p]);
	*xp = x;
	return q;
}

qs_quant *qs_quantize(qs_tensor *t, const qs_spec *spec, qs_error *err)
{
	layout L;
	const float *x;
	qs_quant *q = prepare(t, spec, &L, &x, err);
	if (!q)
		return NULL;
	qs_acc acc;
	if (fused_pass(q, &L, x, NULL, NULL, &acc, err) < 0) {
		qs_quant_free(q);
		return NULL;
	}
	qs_acc_finish(&acc, &q->metrics);
	double side = 32.0 + (spec->scheme == QS_SCHEME_ASYMMETRIC &&
					      !spec->is_float
				      ? (double)spec->bits
				      : 0.0);
	if (spec->is_float && spec->calib.method == QS_CALIB_NONE)
		side = 0.0; /* a plain cast stores no scale */
	q->bits = (double)spec->bits +
		  (q->size ? (double)q->nparams * side / (double)q->size : 0.0);
	return q;
}

static void rebuild_layout(const qs_quant *q, layout *L)
{
	memset(L, 0, sizeof *L);
	L->g = q->spec.granularity;
	L->size = q->size;
	L->inner = q->inner_;
	L->nch = q->nch_;
	L->rowlen = q->rowlen_;
	L->grp = q->spec.group;
	L->ngrp = q->ngrp_;
}

static int same_shape(const qs_quant *q, const qs_tensor *t)
{
	if (q->ndim != t->ndim || q->size != t->size)
		return 0;
	for (int d = 0; d < t->ndim; d++)
		if (q->shape[d] != t->shape[d])
			return 0;
	return 1;
}

/* Check that t is the tensor q was made from (by shape) and view it. */
static const float *source(const qs_quant *q, qs_tensor *t, qs_error *err)
{
	if (!same_shape(q, t)) {
		qs_fail(err, QS_EINVAL,
			"tensor shape differs from the quantized one");
		return NULL;
	}
	return qs_tensor_f32(t, err);
}

qs_tensor *qs_quant_codes(const qs_quant *q, qs_tensor *t, qs_error *err)
{
	const float *x = source(q, t, err);
	if (!x)
		return NULL;
	if (q->spec.is_float) {
		/* bit patterns: uint16 straight into the tensor; uint8
		 * through a chunk-sized scratch, never an input-sized one */
		int narrow = q->spec.fp.bits <= 8;
		qs_tensor *out = qs_tensor_new(narrow ? QS_DT_U8 : QS_DT_U16,
					       q->ndim, q->shape, err);
		uint16_t *c16 = narrow ? malloc(CHUNK * sizeof *c16) : NULL;
		if (!out || (narrow && !c16)) {
			if (out)
				qs_fail(err, QS_ENOMEM, "out of memory");
			qs_tensor_free(out);
			free(c16);
			return NULL;
		}
		layout L;
		rebuild_layout(q, &L);
		for (int64_t a = 0; a < q->size; a += CHUNK) {
			int64_t b = a + CHUNK < q->size ? a + CHUNK : q->size;
			qs_acc acc;
			qs_acc_init(&acc);
			uint16_t *dst = narrow ? c16 : (uint16_t *)out->data + a;
			if (float_chunk(q, &L, x, a, b, NULL, dst, &acc, err) <
			    0) {
				qs_tensor_free(out);
				free(c16);
				return NULL;
			}
			for (int64_t i = a; narrow && i < b; i++)
				((uint8_t *)out->data)[i] = (uint8_t)c16[i - a];
		}
		free(c16);
		return out;
	}
	qs_dtype dt = q->spec.bits <= 8
			      ? (q->spec.is_unsigned ? QS_DT_U8 : QS_DT_I8)
			      : (q->spec.is_unsigned ? QS_DT_U16 : QS_DT_I16);
	qs_tensor *out = qs_tensor_new(dt, q->ndim, q->shape, err);
	float *c = malloc(CHUNK * sizeof *c);
	if (!out || !c) {
		qs_tensor_free(out);
		free(c);
		if (out)
			qs_fail(err, QS_ENOMEM, "out of memory");
		return NULL;
	}
	layout L;
	rebuild_layout(q, &L);
	/* chunk by chunk through a small scratch: no input-sized buffer */
	for (int64_t a = 0; a < q->size; a += CHUNK) {
		int64_t b = a + CHUNK < q->size ? a + CHUNK : q->size;
		qs_acc acc;
		qs_acc_init(&acc);
		pass_chunk(&L, x, a, b, q->scale, q->zero_point,
			   (float)q->qmin, (float)q->qmax, q->spec.rounding,
			   q->spec.seed, c, NULL, &acc);
		for (int64_t i = a; i < b; i++) {
			int32_t v = (int32_t)c[i - a];
			switch (dt) {
			case QS_DT_U8:
				((uint8_t *)out->data)[i] = (uint8_t)v;
				break;
			case QS_DT_I8:
				((int8_t *)out->data)[i] = (int8_t)v;
				break;
			case QS_DT_U16:
				((uint16_t *)out->data)[i] = (uint16_t)v;
				break;
			default:
				((int16_t *)out->data)[i] = (int16_t)v;
				break;
			}
		}
	}
	free(c);
	return out;
}

qs_tensor *qs_quant_dequant(const qs_quant *q, qs_tensor *t, qs_error *err)
{
	const float *x = source(q, t, err);
	if (!x)
		return NULL;
	qs_tensor *out = qs_tensor_new(QS_DT_F32, q->ndim, q->shape, err);
	if (!out)
		return NULL;
	layout L;
	rebuild_layout(q, &L);
	qs_acc acc;
	if (fused_pass(q, &L, x, NULL, out->data, &acc, err) < 0) {
		qs_tensor_free(out);
		return NULL;
	}
	return out;
}

qs_status qs_quant_param_metrics(const qs_quant *q, qs_tensor *t,
				 qs_metrics *out, qs_error *err)
{
	const float *x = source(q, t, err);
	if (!x)
		return err ? err->code : QS_EINVAL;
	size_t np = (size_t)(q->nparams ? q->nparams : 1);
	qs_acc *acc = calloc(np, sizeof *acc);
	if (!acc)
		return qs_fail(err, QS_ENOMEM, "out of memory");
	layout L;
	rebuild_layout(q, &L);
	if (q->spec.is_float) {
		/* each parameter's runs through the float kernel */
		int64_t i = 0;
		qs_status st = QS_OK;
		while (i < q->size && st == QS_OK) {
			int64_t end, p;
			if (L.g == QS_GRAN_CHANNEL && L.inner == 1) {
				p = i % L.nch;
				end = i + 1;
			} else {
				p = run_at(&L, i, &end);
			}
			st = float_chunk(q, &L, x, i, end, NULL, NULL, &acc[p],
					 err);
			i = end;
		}
		for (size_t p = 0; p < np; p++)
			qs_acc_finish(&acc[p], &out[p]);
		free(acc);
		return st;
	}
	kargs k = {.qmin = (float)q->qmin, .qmax = (float)q->qmax,
		   .mode = q->spec.rounding, .seed = q->spec.seed};
	int64_t i = 0;
	while (i < q->size) {
		int64_t end, p;
		if (L.g == QS_GRAN_CHANNEL && L.inner == 1) {
			p = i % L.nch; /* one element per run */
			end = i + 1;
		} else {
			p = run_at(&L, i, &end);
		}
		k.x = x + i;
		k.n = (size_t)(end - i);
		k.S = q->scale + p;
		k.Z = q->zero_point + p;
		k.idx0 = (uint64_t)i;
		run_scalar(&k, &acc[p]);
		i = end;
	}
	for (size_t p = 0; p < np; p++)
		qs_acc_finish(&acc[p], &out[p]);
	free(acc);
	return QS_OK;
}

qs_status qs_calibrate(qs_tensor *t, const qs_spec *spec, float **lo,
		       float **hi, int64_t *n, qs_error *err)
{
	layout L;
	const float *x;
	qs_quant *q = prepare(t, spec, &L, &x, err);
	if (!q)
		return err ? err->code : QS_EINVAL;
	*lo = q->lo;
	*hi = q->hi;
	*n = q->nparams;
	q->lo = q->hi = NULL;
	qs_quant_free(q);
	return QS_OK;
}
