/* hist: anchor-exact histograms and the searches that run on them.
 *
 * Every number here follows the operation order of the toolkit it names,
 * in float32 where the toolkit computes in float32, because the searches
 * compare nearly equal errors and a different rounding can move the
 * chosen bin.  Counting is one pass over the data (OpenMP chunks of fixed
 * size, integer counts merged in any order give the same result).
 * Pure C11 + libm (+ OpenMP); no printing, no exit. */
#include "config.h"
#include "hist.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define CHUNK 65536 /* elements per counting work unit */
typedef float qs_v4f __attribute__((vector_size(16)));
typedef int32_t qs_v4i __attribute__((vector_size(16)));
#define QS_SEL(m, a, b) ((qs_v4f)(((m) & (qs_v4i)(a)) | (~(m) & (qs_v4i)(b))))

/* (int64)v clamped to [lo, hi], NaN -> lo: the conversions the anchors
 * leave undefined on degenerate inputs stay defined here. */
static inline int64_t to_int(double v, int64_t lo, int64_t hi)
{
	if (!(v >= (double)lo))
		return lo;
	if (v >= (double)hi)
		return hi;
	return (int64_t)v;
}
#define BLOCK 512   /* elements whose bin indices are computed at once */

int64_t qs_hist_default_bins(qs_hist_kind kind)
{
	return kind == QS_HIST_AIMET ? 512 : 2048;
}

/* ---- summation orders ----------------------------------------------------- */

/* numpy pairwise_sum (loops_utils.h): blocks of 128 with eight
 * accumulators, halves rounded down to a multiple of 8 above that. */
static double pw_d(const double *a, int64_t n)
{
	if (n < 8) {
		double r = 0.0;
		for (int64_t i = 0; i < n; i++)
			r += a[i];
		return r;
	}
	if (n <= 128) {
		double r[8];
		int64_t i;
		for (int j = 0; j < 8; j++)
			r[j] = a[j];
		for (i = 8; i < n - (n % 8); i += 8)
			for (int j = 0; j < 8; j++)
				r[j] += a[i + j];
		double res = ((r[0] + r[1]) + (r[2] + r[3])) +
			     ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	int64_t n2 = n / 2;
	n2 -= n2 % 8;
	return pw_d(a, n2) + pw_d(a + n2, n - n2);
}

static float pw_f(const float *a, int64_t n)
{
	if (n < 8) {
		float r = 0.0f;
		for (int64_t i = 0; i < n; i++)
			r += a[i];
		return r;
	}
	if (n <= 128) {
		float r[8];
		int64_t i;
		for (int j = 0; j < 8; j++)
			r[j] = a[j];
		for (i = 8; i < n - (n % 8); i += 8)
			for (int j = 0; j < 8; j++)
				r[j] += a[i + j];
		float res = ((r[0] + r[1]) + (r[2] + r[3])) +
			    ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	int64_t n2 = n / 2;
	n2 -= n2 % 8;
	return pw_f(a, n2) + pw_f(a + n2, n - n2);
}

/* np.sum: the reduction starts from the identity 0. */
double qs_hist_sum_numpy(const double *a, int64_t n)
{
	return 0.0 + pw_d(a, n);
}

float qs_hist_sum_numpy_f32(const float *a, int64_t n)
{
	return 0.0f + pw_f(a, n);
}

/* ATen cascade_sum (SumKernel.cpp, AVX2 build): row_sum over items of W
 * lanes with four interleaved partial sums (ilp) and four cascade levels
 * of 2^max(4, ceil(log2(rows))/4) rows. */
static int64_t ceil_log2(int64_t x)
{
	if (x <= 2)
		return 1;
	int64_t v = x - 1, b = 0;
	while (v) {
		b++;
		v >>= 1;
	}
	return b;
}

#define TW 8 /* float lanes of an AVX2 vector */

/* items: size items of w lanes each (w = TW or 1); out: w lanes. */
static void t_row_sum(const float *a, int64_t size, int w, float *out)
{
	int64_t rows = size / 4;
	int64_t lp = ceil_log2(rows) / 4;
	if (lp < 4)
		lp = 4;
	int64_t step = (int64_t)1 << lp, mask = step - 1;
	float acc[4][4][TW];
	memset(acc, 0, sizeof acc);
	int64_t i = 0;
	while (i + step <= rows) {
		for (int64_t j = 0; j < step; j++, i++)
			for (int k = 0; k < 4; k++)
				for (int l = 0; l < w; l++)
					acc[0][k][l] += a[(i * 4 + k) * w + l];
		for (int j = 1; j < 4; j++) {
			for (int k = 0; k < 4; k++)
				for (int l = 0; l < w; l++) {
					acc[j][k][l] += acc[j - 1][k][l];
					acc[j - 1][k][l] = 0.0f;
				}
			if ((i & (mask << (j * lp))) != 0)
				break;
		}
	}
	for (; i < rows; i++)
		for (int k = 0; k < 4; k++)
			for (int l = 0; l < w; l++)
				acc[0][k][l] += a[(i * 4 + k) * w + l];
	for (int j = 1; j < 4; j++)
		for (int k = 0; k < 4; k++)
			for (int l = 0; l < w; l++)
				acc[0][k][l] += acc[j][k][l];
	for (int64_t r = rows * 4; r < size; r++)
		for (int l = 0; l < w; l++)
			acc[0][0][l] += a[r * w + l];
	for (int k = 1; k < 4; k++)
		for (int l = 0; l < w; l++)
			acc[0][0][l] += acc[0][k][l];
	for (int l = 0; l < w; l++)
		out[l] = acc[0][0][l];
}

float qs_hist_sum_torch_f32(const float *a, int64_t n)
{
	float lanes[TW];
	if (n < TW) {
		t_row_sum(a, n, 1, lanes);
		return lanes[0];
	}
	int64_t nv = n / TW;
	t_row_sum(a, nv, TW, lanes);
	float s = 0.0f;
	for (int64_t k = nv * TW; k < n; k++)
		s += a[k];
	for (int l = 0; l < TW; l++)
		s += lanes[l];
	return s;
}

/* ---- edges ----------------------------------------------------------------- */

void qs_hist_linspace_torch(float start, float end, int64_t steps,
			    int vectorized, float *out)
{
	if (steps <= 0)
		return;
	if (steps == 1) {
		out[0] = start;
		return;
	}
	/* RangeFactoriesKernel.cpp linspace_kernel */
	float step = (end - start) / (float)(steps - 1);
	int64_t half = steps / 2, i = 0;
	if (vectorized)
		/* cpu_serial_kernel_vec: two 8-lane vectors per iteration,
		 * each Vectorized::arange(base, step), the base fused */
		for (; i + 2 * TW <= steps; i += 2 * TW)
			for (int v = 0; v < 2; v++) {
				int64_t i0 = i + v * TW;
				float base =
					i0 < half
						? fmaf(step, (float)i0, start)
						: fmaf(-step,
						       (float)(steps - i0 - 1),
						       end);
				for (int l = 0; l < TW; l++)
					out[i0 + l] = base + (float)l * step;
			}
	for (; i < steps; i++)
		out[i] = i < half ? start + step * (float)i
				  : end - step * (float)(steps - i - 1);
}

void qs_hist_linspace_numpy(double start, double end, int64_t steps,
			    float *out)
{
	if (steps <= 0)
		return;
	if (steps == 1) {
		out[0] = (float)start;
		return;
	}
	/* numpy.linspace: arange * (delta / div) + start in float64, the
	 * last point set to stop, then cast */
	double step = (end - start) / (double)(steps - 1);
	for (int64_t i = 0; i < steps - 1; i++)
		out[i] = (float)((double)i * step + start);
	out[steps - 1] = (float)end;
}

/* numpy.arange(start, stop, step) of float32 scalars, which numpy makes in
 * float64 (DOUBLE_fill: start + i * (second - start)); the values are
 * returned rounded to float32, as ONNX Runtime stores its edges.
 * Returns the count, writes at most cap values. */
static int64_t arange_numpy(float start, float stop, float step, float *out,
			    int64_t cap)
{
	double len = ceil(((double)stop - (double)start) / (double)step);
	if (!(len > 0))
		return 0;
	int64_t n = (int64_t)len;
	double s0 = start, s1 = s0 + (double)step, d = s1 - s0;
	for (int64_t i = 0; i < n && i < cap; i++)
		out[i] = (float)(i == 0 ? s0 : i == 1 ? s1 : s0 + (double)i * d);
	return n;
}

/* torch.arange(0, end, step) for float (AVX2 build): the size in float64,
 * values base + k * step per 8-lane vector with base = step * idx and the
 * step in float64, the tail scalar. */
static int64_t arange_torch_f32(float end, float step, float *out,
				int64_t cap)
{
	double len = ceil((double)end / (double)step);
	if (!(len > 0))
		return 0;
	int64_t n = (int64_t)len, i = 0;
	if (!out)
		return n;
	double st = (double)step;
	for (; i + 2 * TW <= n && i + 2 * TW <= cap; i += 2 * TW)
		for (int v = 0; v < 2; v++) {
			float base = (float)(st * (double)(i + v * TW));
			for (int l = 0; l < TW; l++)
				out[i + v * TW + l] =
					(float)((double)base + (double)l * st);
		}
	for (; i < n && i < cap; i++)
		out[i] = (float)(st * (double)i);
	return n;
}

/* ---- counting -------------------------------------------------------------- */

/* std::upper_bound over e[a..b): the first index whose edge exceeds v
 * (torch.bucketize, right=True). */
static inline int64_t upper_bound(const float *e, int64_t a, int64_t b,
				  float v)
{
	int64_t len = b - a;
	while (len > 0) {
		int64_t half = len >> 1, mid = a + half;
		if (!(v < e[mid])) {
			a = mid + 1;
			len -= half + 1;
		} else {
			len = half;
		}
	}
	return a;
}

/* torch.histc bin of v in [lo, hi]: the float32 position
 * (int64)(((v - lo) / (hi - lo)) * bins) itself (the histc kernel of
 * torch 1.13 uses no edge correction), the last bin closed. */
static inline int64_t histc_fix(float v, int64_t p, const float *e,
				int64_t bins)
{
	(void)v;
	(void)e;
	return p >= bins ? bins - 1 : p;
}

/* numpy.histogram uniform-bin fast path from the float32 guess k: one
 * step of correction against the edges, the last bin closed. */
static inline int64_t numpy_fix(float v, int64_t k, const float *e,
				int64_t bins)
{
	if (k >= bins)
		k = bins - 1;
	if (v < e[k])
		k--;
	else if (v >= e[k + 1] && k != bins - 1)
		k++;
	return k;
}

/* numpy searchsorted rule for arbitrary increasing edges, from a guess. */
static inline int64_t edges_fix(float v, int64_t k, const float *e,
				int64_t bins)
{
	if (k >= bins)
		k = bins - 1;
	if (k < 0)
		k = 0;
	while (k > 0 && v < e[k])
		k--;
	while (k < bins - 1 && v >= e[k + 1])
		k++;
	return k;
}

enum binrule { R_HISTC, R_NUMPY, R_EDGES };

/* Count one block of at most BLOCK values into the four interleaved
 * copies h[u * bins + k]: the guesses four lanes at a time (the same
 * float32 operations as the scalar formulas), then the exact corrections
 * and increments. */
static inline __attribute__((always_inline)) void
count_block(const float *x, size_t m, int absval, const float *e,
	    int64_t bins, enum binrule r, uint32_t *h)
{
	float v[BLOCK];
	int32_t g[BLOCK];
	float lo = e[0], hi = e[bins], w = hi - lo, fb = (float)bins;
	const qs_v4f z = {0}, vlo = z + lo, vhi = z + hi, vw = z + w,
		     vb = z + fb;
	const qs_v4i sign = {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF};
	size_t j = 0;
	if (r != R_EDGES)
		for (; j + 4 <= m; j += 4) {
			qs_v4f t;
			memcpy(&t, x + j, sizeof t);
			if (absval)
				t = (qs_v4f)((qs_v4i)t & sign);
			memcpy(v + j, &t, sizeof t);
			qs_v4f c = QS_SEL(t >= vlo, t, vlo); /* NaN -> lo */
			c = QS_SEL(c <= vhi, c, vhi);
			qs_v4f q = ((c - vlo) / vw) * vb;
			qs_v4i gi = __builtin_convertvector(q, qs_v4i);
			memcpy(g + j, &gi, sizeof gi);
		}
	for (; j < m; j++) {
		float t = absval ? fabsf(x[j]) : x[j];
		float c = t >= lo ? t : lo;
		c = c <= hi ? c : hi;
		v[j] = t;
		if (r != R_EDGES)
			g[j] = (int32_t)(((c - lo) / w) * fb);
		else
			g[j] = (int32_t)((((double)c - lo) / w) * fb);
	}
	uint32_t *hc[4] = {h, h + bins, h + 2 * bins, h + 3 * bins};
	for (j = 0; j < m; j++) {
		float t = v[j];
		int64_t k = g[j];
		if (!(t >= lo && t <= hi))
			continue;
		if (r == R_HISTC)
			k = histc_fix(t, k, e, bins);
		else if (r == R_NUMPY)
			k = numpy_fix(t, k, e, bins);
		else
			k = edges_fix(t, k, e, bins);
		hc[j & 3][k]++;
	}
}

/* The bin of one value under each rule (-1 when dropped). */
static int64_t bin_of(enum binrule r, float t, const float *e, int64_t bins)
{
	float lo = e[0], hi = e[bins];
	if (!(t >= lo && t <= hi))
		return -1;
	if (r == R_HISTC)
		return histc_fix(t, (int64_t)(((t - lo) / (hi - lo)) * (float)bins),
				 e, bins);
	if (r == R_NUMPY)
		return numpy_fix(t, (int64_t)(((t - lo) / (hi - lo)) * (float)bins),
				 e, bins);
	return edges_fix(t, (int64_t)((((double)t - lo) / (hi - lo)) * bins), e,
			 bins);
}

static inline __attribute__((always_inline)) void
count_rule_(const float *x, size_t n, int absval, const float *e,
	    int64_t bins, enum binrule r, double *count)
{
	int nt = 1;
#ifdef _OPENMP
	nt = n >= 2 * CHUNK ? omp_get_max_threads() : 1;
	if (nt < 1)
		nt = 1;
#endif
	size_t per = 4 * (size_t)bins;
	uint32_t *loc = calloc((size_t)nt * per, sizeof *loc);
	if (!loc) {
		nt = 1;
		loc = calloc(per, sizeof *loc);
	}
	if (!loc) { /* no memory: count straight into the output */
		for (size_t i = 0; i < n; i++) {
			float t = absval ? fabsf(x[i]) : x[i];
			if (!(t >= e[0] && t <= e[bins]))
				continue;
			count[bin_of(r, t, e, bins)] += 1.0;
		}
		return;
	}
	int64_t nch = (int64_t)((n + CHUNK - 1) / CHUNK);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt)
#endif
	for (int64_t c = 0; c < nch; c++) {
		int t = 0;
#ifdef _OPENMP
		t = omp_get_thread_num();
#endif
		uint32_t *h = loc + (size_t)t * per;
		size_t a = (size_t)c * CHUNK, b = a + CHUNK < n ? a + CHUNK : n;
		for (size_t i = a; i < b; i += BLOCK)
			count_block(x + i, b - i < BLOCK ? b - i : BLOCK, absval,
				    e, bins, r, h);
	}
	for (int t = 0; t < nt; t++)
		for (int u = 0; u < 4; u++) {
			const uint32_t *h = loc + (size_t)t * per +
					    (size_t)u * (size_t)bins;
			for (int64_t k = 0; k < bins; k++)
				count[k] += (double)h[k];
		}
	free(loc);
}

static void count_histc(const float *x, size_t n, int absval, const float *e,
			int64_t bins, double *count)
{
	count_rule_(x, n, absval, e, bins, R_HISTC, count);
}

static void count_numpy(const float *x, size_t n, int absval, const float *e,
			int64_t bins, double *count)
{
	count_rule_(x, n, absval, e, bins, R_NUMPY, count);
}

static void count_edges(const float *x, size_t n, int absval, const float *e,
			int64_t bins, double *count)
{
	count_rule_(x, n, absval, e, bins, R_EDGES, count);
}

void qs_hist_histc(const float *x, size_t n, int absval, float lo, float hi,
		   int64_t bins, double *count)
{
	float *e = malloc((size_t)(bins + 1) * sizeof *e);
	if (!e)
		return;
	qs_hist_linspace_torch(lo, hi, bins + 1, 1, e);
	count_histc(x, n, absval, e, bins, count);
	free(e);
}

void qs_hist_numpy(const float *x, size_t n, int absval, const float *edges,
		   int64_t bins, double *count)
{
	count_numpy(x, n, absval, edges, bins, count);
}

/* ---- the histogram object ----------------------------------------------------- */

/* Finite statistics of a batch: count, min, max and min |x|. */
typedef struct bstats {
	size_t m;
	float mn, mx, amin;
} bstats;

/* One chunk: four lanes; a lane ignores NaN and +-Inf (v - v != 0). */
static void chunk_stats(const float *x, size_t n, bstats *s)
{
	const qs_v4f z = {0}, pinf = z + INFINITY, ninf = z - INFINITY;
	const qs_v4i sign = {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF};
	qs_v4f l = pinf, h = ninf, q = pinf;
	qs_v4i cnt = {0};
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		qs_v4f v;
		memcpy(&v, x + i, sizeof v);
		qs_v4i fin = (v - v) == z;
		cnt -= fin;
		qs_v4f vl = QS_SEL(fin, v, pinf), vh = QS_SEL(fin, v, ninf);
		qs_v4f va = QS_SEL(fin, (qs_v4f)((qs_v4i)v & sign), pinf);
		l = QS_SEL(vl < l, vl, l);
		h = QS_SEL(vh > h, vh, h);
		q = QS_SEL(va < q, va, q);
	}
	size_t m = (size_t)cnt[0] + (size_t)cnt[1] + (size_t)cnt[2] +
		   (size_t)cnt[3];
	float mn = INFINITY, mx = -INFINITY, am = INFINITY;
	for (int k = 0; k < 4; k++) {
		mn = l[k] < mn ? l[k] : mn;
		mx = h[k] > mx ? h[k] : mx;
		am = q[k] < am ? q[k] : am;
	}
	for (; i < n; i++) {
		float v = x[i];
		if (!isfinite(v))
			continue;
		m++;
		mn = v < mn ? v : mn;
		mx = v > mx ? v : mx;
		am = fabsf(v) < am ? fabsf(v) : am;
	}
	s->m = m;
	s->mn = mn;
	s->mx = mx;
	s->amin = am;
}

static void batch_stats(const float *x, size_t n, bstats *s)
{
	size_t m = 0;
	float mn = INFINITY, mx = -INFINITY, am = INFINITY;
	int64_t nch = (int64_t)((n + CHUNK - 1) / CHUNK);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (n >= 2 * CHUNK)                \
	reduction(+ : m) reduction(min : mn, am) reduction(max : mx)
#endif
	for (int64_t c = 0; c < nch; c++) {
		size_t a = (size_t)c * CHUNK, b = a + CHUNK < n ? a + CHUNK : n;
		bstats t;
		chunk_stats(x + a, b - a, &t);
		m += t.m;
		mn = t.mn < mn ? t.mn : mn;
		mx = t.mx > mx ? t.mx : mx;
		am = t.amin < am ? t.amin : am;
	}
	s->m = m;
	s->mn = mn;
	s->mx = mx;
	s->amin = am;
}

static int reserve(qs_hist *h, int64_t bins, int64_t edges)
{
	if (bins > h->cap) {
		double *c = realloc(h->count, (size_t)bins * sizeof *c);
		if (!c)
			return -1;
		h->count = c;
		h->cap = bins;
	}
	if (edges > h->cap_edges) {
		float *e = realloc(h->edges, (size_t)edges * sizeof *e);
		if (!e)
			return -1;
		h->edges = e;
		h->cap_edges = edges;
	}
	return 0;
}

qs_hist *qs_hist_new(qs_hist_kind kind, int64_t bins, qs_error *err)
{
	if ((unsigned)kind >= QS_HIST_KIND_COUNT) {
		qs_fail(err, QS_EINVAL, "unknown histogram kind %d", (int)kind);
		return NULL;
	}
	if (bins == 0)
		bins = qs_hist_default_bins(kind);
	if (bins < 2 || bins > ((int64_t)1 << 24)) {
		qs_fail(err, QS_EINVAL,
			"bins %lld out of range (accepted: 2..16777216)",
			(long long)bins);
		return NULL;
	}
	qs_hist *h = calloc(1, sizeof *h);
	if (!h) {
		qs_fail(err, QS_ENOMEM, "out of memory");
		return NULL;
	}
	h->kind = kind;
	h->bins0 = bins;
	h->xmin = INFINITY;
	h->xmax = -INFINITY;
	return h;
}

void qs_hist_free(qs_hist *h)
{
	if (!h)
		return;
	free(h->count);
	free(h->edges);
	free(h);
}

static float absmax(float a, float b)
{
	float x = fabsf(a), y = fabsf(b);
	return x > y ? x : y;
}

/* Add weight w at value v with the kind's bin rule (pending constants). */
static void add_weighted(qs_hist *h, float v, double w)
{
	int64_t k;
	switch (h->kind) {
	case QS_HIST_TORCH:
		k = bin_of(R_HISTC, v, h->edges, h->nbins);
		break;
	case QS_HIST_NVIDIA:
		k = bin_of(R_HISTC, fabsf(v), h->edges, h->nbins);
		break;
	case QS_HIST_ORT:
		k = bin_of(R_NUMPY, v, h->edges, h->nbins);
		break;
	case QS_HIST_ORT_ABS:
		k = bin_of(R_NUMPY, fabsf(v), h->edges, h->nbins);
		break;
	default:
		return;
	}
	if (k >= 0)
		h->count[k] += w;
}

/* AIMET GetHistogram_cpu for one block: k = round(x / bucket - offset)
 * (float32, ties away from zero), kept when 0 <= k < bins.  Indices four
 * lanes at a time (|t| is bounded before the conversion; out-of-range,
 * NaN and Inf go to the spare bin), then counted into four copies. */
static void aimet_block(const float *x, size_t m, float bucket, float off,
			int64_t bins, uint32_t *cnt)
{
	int32_t k[BLOCK];
	const qs_v4f z = {0}, vb = z + bucket, vo = z + off, lo = z - 1.0f,
		     hi = z + (float)bins + 1.0f, half = z + 0.5f, one = z + 1.0f;
	const qs_v4i sign = {0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF};
	const qs_v4i spare = {(int32_t)bins, (int32_t)bins, (int32_t)bins,
			      (int32_t)bins};
	size_t j = 0;
	for (; j + 4 <= m; j += 4) {
		qs_v4f v;
		memcpy(&v, x + j, sizeof v);
		qs_v4f t = v / vb - vo;
		qs_v4i ok = (t > lo) & (t < hi); /* false for NaN */
		t = QS_SEL(ok, t, z);
		qs_v4f r = __builtin_convertvector(
			__builtin_convertvector(t, qs_v4i), qs_v4f);
		qs_v4f d = (qs_v4f)((qs_v4i)(t - r) & sign);
		qs_v4f s1 = QS_SEL(t < z, -one, one);
		r = r + QS_SEL(d >= half, s1, z);
		qs_v4i ki = __builtin_convertvector(r, qs_v4i);
		ok &= (ki >= 0) & (ki < spare);
		ki = (ok & ki) | (~ok & spare);
		memcpy(k + j, &ki, sizeof ki);
	}
	for (; j < m; j++) {
		float t = x[j] / bucket - off;
		int32_t kk = (int32_t)bins;
		if (t > -1.0f && t < (float)bins + 1.0f) {
			float r = roundf(t);
			if (r >= 0 && r < (float)bins)
				kk = (int32_t)r;
		}
		k[j] = kk;
	}
	const size_t w = (size_t)bins + 1;
	for (j = 0; j < m; j++)
		cnt[(j & 3) * w + (size_t)k[j]]++;
}

/* AIMET UpdatePdfSigned: the first batch fixes 512 buckets over three
 * times its range; every batch adds its probabilities (count / n) into a
 * running average over batches.  Float32 bucket arithmetic. */
static int aimet_add(qs_hist *h, const float *x, size_t n, const bstats *s)
{
	int64_t B = h->bins0;
	if (!h->started) {
		float mn = s->mn, mx = s->mx;
		if (mn == mx)
			mx = mx > mn + 0.01f ? mx : mn + 0.01f;
		float center = (mx + mn) / 2;
		mn = center - 3 * (center - mn);
		mx = center + 3 * (mx - center);
		float bucket = (mx - mn) / (float)B;
		if (!isfinite(bucket) || !(bucket > 0.0f)) {
			/* beyond float range (AIMET overflows): the widest
			 * finite buckets */
			mn = isfinite(mn) ? mn : -FLT_MAX;
			mx = isfinite(mx) ? mx : FLT_MAX;
			bucket = mx / (float)B - mn / (float)B;
			if (!(bucket > 0.0f))
				bucket = FLT_MIN;
		}
		if (reserve(h, B, B + 1) < 0)
			return -1;
		/* xLeft is a vector<double>: min + i * bucket unrounded,
		 * read back as float by the analyzer */
		for (int64_t i = 0; i <= B; i++)
			h->edges[i] = (float)((double)mn + (double)i * bucket);
		h->awidth = bucket;
		memset(h->count, 0, (size_t)B * sizeof *h->count);
		h->nbins = B;
		h->nedges = B + 1;
		h->lo = h->edges[0];
		h->hi = h->edges[B];
		h->started = 1;
	}
	int nt = 1;
#ifdef _OPENMP
	nt = n >= 2 * CHUNK ? omp_get_max_threads() : 1;
	nt = nt < 1 ? 1 : nt;
#endif
	const size_t per = 4 * (size_t)(B + 1);
	uint32_t *loc = calloc((size_t)nt * per, sizeof *loc);
	if (!loc)
		return -1;
	float mn = h->edges[0];
	float bucket = h->awidth; /* xLeft[1] - xLeft[0] in double */
	float off = mn / bucket;
	int64_t nch = (int64_t)((n + CHUNK - 1) / CHUNK);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt)
#endif
	for (int64_t c = 0; c < nch; c++) {
		int th = 0;
#ifdef _OPENMP
		th = omp_get_thread_num();
#endif
		uint32_t *cnt = loc + (size_t)th * 4 * (size_t)(B + 1);
		size_t a = (size_t)c * CHUNK, b = a + CHUNK < n ? a + CHUNK : n;
		for (size_t i = a; i < b; i += BLOCK)
			aimet_block(x + i, b - i < BLOCK ? b - i : BLOCK, bucket,
				    off, B, cnt);
	}
	uint32_t *cnt = loc; /* fold threads and copies into the first */
	for (int th = 0; th < nt; th++)
		for (int u = 0; u < 4; u++) {
			if (th == 0 && u == 0)
				continue;
			const uint32_t *o = loc + (size_t)th * per +
					    (size_t)u * (size_t)(B + 1);
			for (int64_t i = 0; i < B; i++)
				cnt[i] += o[i];
		}
	double it = (double)h->pend_b; /* batches averaged so far */
	for (int64_t i = 0; i < B; i++) {
		double prob = (double)cnt[i] / (double)s->m;
		h->count[i] = (h->count[i] * it + prob) / (it + 1);
	}
	h->pend_b++;
	free(loc);
	return 0;
}

/* PyTorch HistogramObserver._upscale_histogram (torch >= 2.4): the old
 * histogram repeated 16 times (divided by 16), each sub-bin midpoint
 * bucketized into the new range, summed with bincount; float32. */
static int torch_upscale(const qs_hist *h, float nlo, float nhi, float *out)
{
	const int64_t U = 16, B = h->nbins, N = B * U;
	float *mid = malloc((size_t)(N + 1) * sizeof *mid);
	float *bd = malloc((size_t)(B + 1) * sizeof *bd);
	if (!mid || !bd) {
		free(mid);
		free(bd);
		return -1;
	}
	float bsz = (h->hi - h->lo) / (float)N;
	qs_hist_linspace_torch(h->lo, h->hi, N + 1, 0, mid);
	qs_hist_linspace_torch(nlo, nhi, B + 1, 0, bd);
	for (int64_t k = 0; k < B; k++)
		out[k] = 0.0f;
	for (int64_t j = 0; j < N; j++) {
		float m = mid[j] + 0.5f * bsz;
		float w = (float)h->count[j / U] / (float)U;
		int64_t k = upper_bound(bd, 0, B + 1, m) - 1;
		k = k >= B ? B - 1 : k < 0 ? 0 : k;
		out[k] += w;
	}
	free(mid);
	free(bd);
	return 0;
}

/* Start the counts: the first batch with a non-zero range.  lo/hi are the
 * range of every finite value so far. */
static int start_hist(qs_hist *h, const float *x, size_t n, const bstats *s)
{
	int64_t B = h->bins0;
	if (reserve(h, B, B + 1) < 0)
		return -1;
	memset(h->count, 0, (size_t)B * sizeof *h->count);
	h->nbins = B;
	h->nedges = B + 1;
	float *e = h->edges;
	switch (h->kind) {
	case QS_HIST_TORCH: /* histc(x, B, min, max) */
		qs_hist_linspace_torch(h->xmin, h->xmax, B + 1, 1, e);
		count_histc(x, n, 0, e, B, h->count);
		break;
	case QS_HIST_NVIDIA: /* histc(|x|, B, 0, max|x|), linspace edges */
		qs_hist_linspace_torch(0.0f, absmax(h->xmin, h->xmax), B + 1, 1,
				       e);
		count_histc(x, n, 1, e, B, h->count);
		break;
	case QS_HIST_ORT: { /* np.histogram(x, B, range=(-t, t)) */
		float t = absmax(h->xmin, h->xmax);
		h->thresh = t;
		qs_hist_linspace_numpy(-(double)t, (double)t, B + 1, e);
		count_numpy(x, n, 0, e, B, h->count);
		break;
	}
	case QS_HIST_ORT_ABS: { /* np.histogram(|x|, B) over its own range */
		float a = s->amin, b = absmax(h->xmin, h->xmax);
		if (h->pend_w > 0 && fabsf(h->pend_v) < a)
			a = fabsf(h->pend_v);
		if (a == b)
			qs_hist_linspace_numpy((double)a - 0.5, (double)b + 0.5,
					       B + 1, e);
		else
			qs_hist_linspace_numpy(a, b, B + 1, e);
		h->amin = a;
		count_numpy(x, n, 1, e, B, h->count);
		break;
	}
	default:
		return -1;
	}
	h->lo = e[0];
	h->hi = e[B];
	h->started = 1;
	if (h->pend_w > 0)
		add_weighted(h, h->pend_v, h->pend_w);
	return 0;
}

/* Merge a later batch with the kind's rule. */
static int merge_hist(qs_hist *h, const float *x, size_t n, const bstats *s)
{
	int64_t B = h->nbins;
	switch (h->kind) {
	case QS_HIST_TORCH: {
		float nlo = s->mn < h->lo ? s->mn : h->lo;
		float nhi = s->mx > h->hi ? s->mx : h->hi;
		double *upd = calloc((size_t)B, sizeof *upd);
		float *e = malloc((size_t)(B + 1) * sizeof *e);
		float *tr = malloc((size_t)B * sizeof *tr);
		if (!upd || !e || !tr) {
			free(upd);
			free(e);
			free(tr);
			return -1;
		}
		qs_hist_linspace_torch(nlo, nhi, B + 1, 1, e);
		count_histc(x, n, 0, e, B, upd);
		if (nlo == h->lo && nhi == h->hi) {
			for (int64_t k = 0; k < B; k++)
				h->count[k] = (float)((float)h->count[k] +
						      (float)upd[k]);
		} else {
			if (torch_upscale(h, nlo, nhi, tr) < 0) {
				free(upd);
				free(e);
				free(tr);
				return -1;
			}
			for (int64_t k = 0; k < B; k++)
				h->count[k] = (float)((float)upd[k] + tr[k]);
			memcpy(h->edges, e, (size_t)(B + 1) * sizeof *e);
			h->lo = nlo;
			h->hi = nhi;
		}
		free(upd);
		free(e);
		free(tr);
		return 0;
	}
	case QS_HIST_NVIDIA: {
		/* HistogramCalibrator.collect, torch_hist: the bin width is
		 * fixed by the first batch; a larger max adds bins */
		float bmax = absmax(s->mn, s->mx);
		float last = h->edges[h->nedges - 1];
		int64_t nb = B;
		float w = h->edges[1] - h->edges[0];
		if (bmax > last && w > 0.0f && bmax / w < 1e9f) {
			nb = (int64_t)ceilf(bmax / w);
			if (nb < B)
				nb = B;
			int64_t ne = arange_torch_f32(bmax + w, w, NULL, 0);
			if (reserve(h, nb, ne > nb + 1 ? ne : nb + 1) < 0)
				return -1;
			arange_torch_f32(bmax + w, w, h->edges, ne);
			for (int64_t k = B; k < nb; k++)
				h->count[k] = 0.0;
			h->nedges = ne;
			h->nbins = nb;
			last = h->edges[ne - 1];
		}
		float *e = malloc((size_t)(nb + 1) * sizeof *e);
		double *upd = calloc((size_t)nb, sizeof *upd);
		if (!e || !upd) {
			free(e);
			free(upd);
			return -1;
		}
		qs_hist_linspace_torch(0.0f, last, nb + 1, 1, e);
		count_histc(x, n, 1, e, nb, upd);
		for (int64_t k = 0; k < nb; k++)
			h->count[k] += upd[k];
		h->lo = 0.0f;
		h->hi = last;
		free(e);
		free(upd);
		return 0;
	}
	case QS_HIST_ORT: {
		/* HistogramCollector.merge_histogram: a larger threshold
		 * grows the histogram symmetrically by whole old bins */
		double th = h->thresh, bt = absmax(s->mn, s->mx);
		if (bt <= th) {
			count_numpy(x, n, 0, h->edges, B, h->count);
			return 0;
		}
		double stride = 2 * th / (double)B;
		if (!(stride > 0) || (bt - th) / stride > 1e9) {
			/* no sensible growth (denormal range): keep the bins */
			count_numpy(x, n, 0, h->edges, B, h->count);
			return 0;
		}
		int64_t inc = (int64_t)(floor((bt - th) / stride) + 1);
		int64_t nb = B + 2 * inc;
		double nth = (double)inc * stride + th;
		double *c = calloc((size_t)nb, sizeof *c);
		if (!c || reserve(h, nb, nb + 1) < 0) {
			free(c);
			return -1;
		}
		qs_hist_linspace_numpy(-nth, nth, nb + 1, h->edges);
		count_numpy(x, n, 0, h->edges, nb, c);
		for (int64_t k = 0; k < B; k++)
			c[inc + k] += h->count[k];
		memcpy(h->count, c, (size_t)nb * sizeof *c);
		free(c);
		h->thresh = nth;
		h->nbins = nb;
		h->nedges = nb + 1;
		h->lo = h->edges[0];
		h->hi = h->edges[nb];
		return 0;
	}
	case QS_HIST_ORT_ABS: {
		/* collect_absolute_value: a larger max appends bins of the
		 * first width (np.arange); values below edges[0] drop out */
		float bmax = absmax(s->mn, s->mx);
		float last = h->edges[h->nedges - 1];
		float w = h->edges[1] - h->edges[0];
		if (bmax > last && w > 0.0f && (bmax - last) / w < 1e9f) {
			int64_t add = arange_numpy(last + w, bmax + w, w, NULL, 0);
			if (reserve(h, B + add, B + add + 1) < 0)
				return -1;
			arange_numpy(last + w, bmax + w, w, h->edges + B + 1, add);
			for (int64_t k = B; k < B + add; k++)
				h->count[k] = 0.0;
			B += add;
			h->nbins = B;
			h->nedges = B + 1;
			h->hi = h->edges[B];
		}
		count_edges(x, n, 1, h->edges, B, h->count);
		return 0;
	}
	default:
		return -1;
	}
}

qs_status qs_hist_add(qs_hist *h, const float *x, size_t n, qs_error *err)
{
	bstats s;
	batch_stats(x, n, &s);
	if (s.m == 0)
		return QS_OK;
	float omin = h->xmin, omax = h->xmax;
	h->xmin = s.mn < h->xmin ? s.mn : h->xmin;
	h->xmax = s.mx > h->xmax ? s.mx : h->xmax;
	int rc;
	if (h->kind == QS_HIST_AIMET) {
		if (!h->started && s.mn == 0.0f && s.mx == 0.0f)
			rc = 0; /* AIMET ignores all-zero batches until then */
		else
			rc = aimet_add(h, x, n, &s);
	} else if (!h->started) {
		if (h->xmin == h->xmax) { /* constant so far: keep as weight */
			h->pend_v = h->xmin;
			h->pend_w += (double)s.m;
			h->pend_b++;
			rc = 0;
		} else {
			rc = start_hist(h, x, n, &s);
		}
	} else {
		rc = merge_hist(h, x, n, &s);
	}
	if (rc < 0) {
		h->xmin = omin;
		h->xmax = omax;
		return qs_fail(err, QS_ENOMEM, "out of memory");
	}
	h->n += (double)s.m;
	h->batches++;
	return QS_OK;
}

/* ---- searches ----------------------------------------------------------------- */

static qs_status need(const qs_hist *h, qs_hist_kind kind, const char *what,
		      qs_error *err)
{
	if (!h || (h->kind != kind &&
		   !(kind == QS_HIST_ORT && h->kind == QS_HIST_ORT_ABS)))
		return qs_fail(err, QS_EINVAL,
			       "%s needs a histogram of its own kind", what);
	if (!h->started || h->nbins < 2)
		return qs_fail(err, QS_EINVAL, "%s: empty histogram", what);
	return QS_OK;
}

/* scipy.special.rel_entr */
static inline double rel_entr(double x, double y)
{
	if (isnan(x) || isnan(y))
		return NAN;
	if (x > 0 && y > 0)
		return x * log(x / y);
	if (x == 0 && y >= 0)
		return 0.0;
	return INFINITY;
}

/* NVIDIA KL of candidate i exactly as the Python does it: new_density
 * from group sums, scipy.stats.entropy with numpy's pairwise sums. */
static double nv_kl_exact(const double *b, int64_t i, int64_t L, double T,
			  double *nd, double *vec)
{
	double C = 0.0;
	for (int64_t j = 0; j < i; j++)
		C += b[j];
	/* group sums and non-zero counts (digitize: k = floor(j L / i)) */
	for (int64_t k = 0, j = 0; k < L && j < i; k++) {
		int64_t a = j, e = ((k + 1) * i + L - 1) / L;
		if (e > i)
			e = i;
		double s = 0.0, nz = 0.0;
		for (j = a; j < e; j++)
			if (b[j] != 0) {
				s += b[j];
				nz += 1.0;
			}
		for (j = a; j < e; j++)
			nd[j] = b[j] != 0 ? s / nz : 0.0;
	}
	double sq = qs_hist_sum_numpy(nd, i);
	double R = T - C;
	for (int64_t j = 0; j < i; j++) {
		double r = j == i - 1 ? b[j] + R : b[j];
		vec[j] = rel_entr(r / T, nd[j] / sq);
	}
	return qs_hist_sum_numpy(vec, i);
}

qs_status qs_hist_nv_entropy(const qs_hist *h, int64_t levels,
			     int64_t start_bin, float *amax, int64_t *bin,
			     qs_error *err)
{
	qs_status st = need(h, QS_HIST_NVIDIA, "entropy", err);
	if (st < 0)
		return st;
	if (levels < 1 || start_bin < 0)
		return qs_fail(err, QS_EINVAL, "entropy: bad levels or start");
	const int64_t B = h->nbins, L = levels;
	double *b = malloc((size_t)B * 4 * sizeof *b);
	double *P = malloc((size_t)(B + 1) * 3 * sizeof *P);
	double *kl = malloc((size_t)(B + 1) * sizeof *kl);
	if (!b || !P || !kl) {
		free(b);
		free(P);
		free(kl);
		return qs_fail(err, QS_ENOMEM, "out of memory");
	}
	double *nd = b + B, *vec = b + 2 * B;
	double *Z = P + (B + 1), *BL = P + 2 * (B + 1);
	/* calib_hist.int(); bins[0] = bins[1] */
	for (int64_t j = 0; j < B; j++)
		b[j] = (double)(int64_t)h->count[j];
	b[0] = b[1];
	P[0] = Z[0] = BL[0] = 0.0;
	for (int64_t j = 0; j < B; j++) {
		P[j + 1] = P[j] + b[j];
		Z[j + 1] = Z[j] + (b[j] != 0);
		BL[j + 1] = BL[j] + (b[j] > 0 ? b[j] * log(b[j]) : 0.0);
	}
	const double T = P[B], lT = log(T);
	int64_t s0 = start_bin < B ? start_bin : B;
	/* screening: KL rewritten over the L groups with prefix sums,
	 * O(L) per candidate, accurate to ~1e-13 */
	double best = INFINITY;
	int64_t nan_i = -1;
	for (int64_t i = s0; i <= B; i++) {
		double C = P[i], bl = b[i - 1], R = T - C;
		if (!(C > 0) || !(T > 0)) {
			kl[i] = NAN;
			nan_i = i;
			continue;
		}
		if (bl == 0 && R > 0) {
			kl[i] = INFINITY;
			continue;
		}
		double v;
		if (L >= i) {
			/* one bin per level: Q = P but for the folded tail */
			v = P[i - 1] / T * (log(C) - lT);
			if (bl > 0) {
				double p = (bl + R) / T, q = bl / C;
				v += p * log(p / q);
			}
			kl[i] = v;
			if (v < best)
				best = v;
			continue;
		}
		int64_t klast = (i - 1) * L / i;
		double g = 0.0, Sl = 0.0, nzl = 0.0;
		for (int64_t k = 0; k < L; k++) {
			int64_t a = (k * i + L - 1) / L;
			int64_t e = ((k + 1) * i + L - 1) / L;
			if (e > i)
				e = i;
			if (a >= e)
				continue;
			double S = P[e] - P[a], nz = Z[e] - Z[a];
			if (nz == 0)
				continue;
			double lq = log(S / nz);
			g += (k == klast ? S - bl : S) * lq;
			if (k == klast) {
				Sl = S;
				nzl = nz;
			}
		}
		v = (BL[i - 1] - g) / T + P[i - 1] / T * (log(C) - lT);
		if (bl > 0) {
			double p = (bl + R) / T, q = Sl / nzl / C;
			v += p * log(p / q);
		}
		kl[i] = v;
		if (v < best)
			best = v;
	}
	int64_t pick = B;
	if (nan_i >= 0) {
		pick = nan_i; /* np.argmin stops at the first NaN it meets */
	} else if (isinf(best)) {
		pick = B; /* all infinite: the last candidate */
	} else {
		/* the exact values of every candidate near the minimum; the
		 * last minimum wins */
		double tol = 1e-10 + 1e-9 * fabs(best), bx = INFINITY;
		for (int64_t i = B; i >= s0; i--) {
			if (!(kl[i] <= best + tol))
				continue;
			double v = nv_kl_exact(b, i, L, T, nd, vec);
			if (v < bx) {
				bx = v;
				pick = i;
			}
		}
	}
	*amax = h->edges[pick];
	if (bin)
		*bin = pick;
	free(b);
	free(P);
	free(kl);
	return QS_OK;
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
	!defined(__SANITIZE_ADDRESS__)
#define QS_CLONES __attribute__((target_clones("avx2", "sse4.1", "default")))
#else
#define QS_CLONES
#endif

/* One NVIDIA fake_tensor_quant pass over the centres (narrow or unsigned
 * bounds), squared error times count, float32: four lanes with GCC vector
 * extensions; rounding to nearest even as (t + 1.5*2^23) - 1.5*2^23, exact
 * for |t| < 2^22 (larger t clamp to the bound either way, bits <= 16). */
static double nv_mse_terms(const float *restrict c, const float *restrict f,
			   int64_t n, float scale, float div, float qlo,
			   float qhi, float *restrict out)
{
	const qs_v4f z = {0}, mg = z + 12582912.0f, vs = z + scale,
		     vd = z + div, vl = z + qlo, vh = z + qhi;
	qs_v4f acc = z;
	int64_t j = 0;
	for (; j + 4 <= n; j += 4) {
		qs_v4f cv, fv;
		memcpy(&cv, c + j, sizeof cv);
		memcpy(&fv, f + j, sizeof fv);
		qs_v4f q = (cv * vs + mg) - mg;
		qs_v4i m = q < vl;
		q = (qs_v4f)((m & (qs_v4i)vl) | (~m & (qs_v4i)q));
		m = q > vh;
		q = (qs_v4f)((m & (qs_v4i)vh) | (~m & (qs_v4i)q));
		qs_v4f d = q / vd - cv;
		qs_v4f o = d * d * fv;
		acc += o;
		memcpy(out + j, &o, sizeof o);
	}
	double sum = (double)acc[0] + acc[1] + acc[2] + acc[3];
	for (; j < n; j++) {
		float q = nearbyintf(c[j] * scale);
		q = q < qlo ? qlo : q;
		q = q > qhi ? qhi : q;
		float d = q / div - c[j];
		out[j] = d * d * f[j];
		sum += out[j];
	}
	return sum; /* approximate: for screening only */
}

qs_status qs_hist_nv_mse(const qs_hist *h, int bits, int is_unsigned,
			 int64_t start_bin, float *amax, int64_t *bin,
			 qs_error *err)
{
	qs_status st = need(h, QS_HIST_NVIDIA, "mse", err);
	if (st < 0)
		return st;
	if (bits < 1 || bits > 16)
		return qs_fail(err, QS_EINVAL,
			       "mse: bits %d out of range (accepted: 1..16)",
			       bits);
	int64_t n = h->nbins < h->nedges - 1 ? h->nbins : h->nedges - 1;
	float *c = malloc((size_t)n * 3 * sizeof *c);
	double *fast = malloc((size_t)n * sizeof *fast);
	if (!c || !fast) {
		free(c);
		free(fast);
		return qs_fail(err, QS_ENOMEM, "out of memory");
	}
	float *f = c + n, *t = c + 2 * n;
	for (int64_t j = 0; j < n; j++) {
		c[j] = (h->edges[j + 1] + h->edges[j]) / 2;
		f[j] = (float)(int64_t)h->count[j];
	}
	/* tensor_quant._tensor_quant: max_bound = 2^(bits-1+unsigned) - 1,
	 * narrow range, scale = max_bound / amax, output q / scale */
	float mb = (float)(ldexp(1.0, bits - 1 + (is_unsigned != 0)) - 1.0);
	float qlo = is_unsigned ? 0.0f : -mb;
	int64_t s0 = start_bin < n ? start_bin : n - 1, pick = s0;
	/* the float32 terms of every candidate summed in double first; the
	 * exact torch float32 mean only near the minimum */
	double fmin = INFINITY;
	for (int64_t i = s0; i < n; i++) {
		float a = c[i], sc = mb / a, dv = sc;
		if (a <= 1.0f / (1 << 24)) {
			sc = 0.0f;
			dv = 1.0f;
		}
		fast[i] = nv_mse_terms(c, f, n, sc, dv, qlo, mb, t) / (double)n;
		if (fast[i] < fmin)
			fmin = fast[i];
	}
	double win = 1e-4 * fmin + 1e-30;
	for (;;) {
		double dev = 0.0;
		float best = INFINITY;
		for (int64_t i = s0; i < n; i++) {
			if (!(fast[i] <= fmin + win))
				continue;
			float a = c[i], sc = mb / a, dv = sc;
			if (a <= 1.0f / (1 << 24)) {
				sc = 0.0f;
				dv = 1.0f;
			}
			nv_mse_terms(c, f, n, sc, dv, qlo, mb, t);
			float m = qs_hist_sum_torch_f32(t, n) / (float)n;
			if (fabs(m - fast[i]) > dev)
				dev = fabs(m - fast[i]);
			if (m < best) { /* np.argmin: the first minimum */
				best = m;
				pick = i;
			}
		}
		if (!isfinite(fmin) || 3 * dev < win)
			break;
		win = 4 * dev;
	}
	*amax = c[pick];
	if (bin)
		*bin = pick;
	free(c);
	free(fast);
	return QS_OK;
}

/* Index of the first cdf value >= v (np.searchsorted, side left), with
 * cdf = cumsum(count / total) in float64; n when none. */
static int64_t cdf_search(const double *count, int64_t n, double v)
{
	double total = 0.0;
	for (int64_t j = 0; j < n; j++)
		total += count[j];
	double c = 0.0;
	for (int64_t j = 0; j < n; j++) {
		c += count[j] / total;
		if (c >= v)
			return j;
	}
	return n;
}

qs_status qs_hist_nv_percentile(const qs_hist *h, double p, float *amax,
				int64_t *bin, qs_error *err)
{
	qs_status st = need(h, QS_HIST_NVIDIA, "percentile", err);
	if (st < 0)
		return st;
	int64_t i = cdf_search(h->count, h->nbins, p / 100);
	if (i >= h->nedges)
		i = h->nedges - 1;
	*amax = h->edges[i];
	if (bin)
		*bin = i;
	return QS_OK;
}

qs_status qs_hist_ort_percentile(const qs_hist *h, double p, float *lo,
				 float *hi, qs_error *err)
{
	qs_status st = need(h, QS_HIST_ORT, "percentile", err);
	if (st < 0)
		return st;
	float a, b;
	if (h->kind == QS_HIST_ORT_ABS) {
		int64_t r = cdf_search(h->count, h->nbins, p / 100.0);
		b = h->edges[r];
		a = -b;
	} else {
		double cut = (100.0 - p) / 200.0;
		int64_t r = cdf_search(h->count, h->nbins, 1.0 - cut);
		int64_t l = cdf_search(h->count, h->nbins, cut);
		a = h->edges[l];
		b = h->edges[r];
	}
	*lo = a < h->xmin ? h->xmin : a;
	*hi = b > h->xmax ? h->xmax : b;
	return QS_OK;
}

/* smooth_distribution(p, eps=1e-4) of onnxruntime's calibrate.py in
 * float32: zeros become eps, the other bins lose eps * zeros / nonzeros.
 * Returns 0 when every bin is zero (the function returns None). */
static int ort_smooth(const double *p, int64_t n, float *out)
{
	int64_t nz = 0;
	for (int64_t j = 0; j < n; j++)
		nz += p[j] == 0;
	if (nz == n)
		return 0;
	double eps1 = 0.0001 * (double)nz / (double)(n - nz);
	float fe = 0.0001f, fe1 = (float)-eps1;
	for (int64_t j = 0; j < n; j++)
		out[j] = (float)p[j] + (p[j] == 0 ? fe + -0.0f : 0.0f + fe1);
	return 1;
}

/* scipy.stats.entropy(p, q) of float32 arrays: normalised in float32 with
 * numpy's pairwise sums, rel_entr in float64 rounded to float32. */
static float entropy_f32(float *p, float *q, int64_t n, float *vec)
{
	float sp = qs_hist_sum_numpy_f32(p, n);
	float sq = qs_hist_sum_numpy_f32(q, n);
	for (int64_t j = 0; j < n; j++)
		vec[j] = (float)rel_entr((double)(p[j] / sp),
					 (double)(q[j] / sq));
	return qs_hist_sum_numpy_f32(vec, n);
}

/* The KL divergence of ORT candidate i (slice [zero-i, zero+i+1)). */
static float ort_kl(const double *hist, int64_t B, int64_t i, int64_t nq,
		    const double *PS, double *p, double *q, float *pf,
		    float *qf, float *vec)
{
	int64_t zero = B / 2, st = zero - i;
	int64_t en = zero + i + 1 < B ? zero + i + 1 : B, n = en - st;
	for (int64_t j = 0; j < n; j++)
		p[j] = hist[st + j];
	p[0] += PS[st];
	p[n - 1] += PS[B] - PS[en];
	int64_t m = n / nq;
	for (int64_t j = 0; j < n; j++)
		q[j] = 0.0;
	for (int64_t k = 0; k < nq; k++) {
		int64_t a = k * m, e = a + m;
		double qb = PS[st + e] - PS[st + a];
		if (k == nq - 1)
			qb += PS[en] - PS[st + nq * m];
		double norm = 0.0;
		for (int64_t j = a; j < e; j++)
			norm += p[j] != 0;
		if (norm != 0) {
			double v = (double)(int64_t)(qb / norm);
			for (int64_t j = a; j < e; j++)
				q[j] = v;
		}
	}
	if (!ort_smooth(p, n, pf) || !ort_smooth(q, n, qf))
		return INFINITY;
	return entropy_f32(pf, qf, n, vec);
}

/* Prefix sums over the histogram for the ORT screening. */
typedef struct ort_pre {
	double *S, *NZ, *HL, *LG, *INV;
} ort_pre;

/* g(v) = v ln v for v > 0, else 0 */
static inline double xlogx(double v)
{
	return v > 0 ? v * log(v) : 0.0;
}

/* The ORT KL of candidate i in real arithmetic, O(nq): smoothing by a
 * second-order expansion around each count, group sums from prefix sums.
 * Differs from the float32 value by the float32 rounding only. */
static double ort_kl_fast(const double *hist, int64_t B, int64_t i, int64_t nq,
			  const ort_pre *P, double *grp)
{
	const double E = 1e-4;
	int64_t zero = B / 2, st = zero - i;
	int64_t en = zero + i + 1 < B ? zero + i + 1 : B, n = en - st;
	double lo = P->S[st], ro = P->S[B] - P->S[en];
	double p0 = hist[st] + lo, pn = hist[en - 1] + ro;
	if (n == 1)
		p0 = pn = hist[st] + lo + ro;
	/* zeros of p: interior from the prefix counts, ends exact */
	double inz = n > 2 ? P->NZ[en - 1] - P->NZ[st + 1] : 0.0;
	double nnzp = inz + (p0 != 0) + (n > 1 ? (pn != 0) : 0);
	double nzp = (double)n - nnzp;
	if (nnzp == 0)
		return INFINITY;
	double e1 = E * nzp / nnzp;
	/* sum of p' ln p' */
	double spl = 0.0;
	if (n > 2) {
		double hl = P->HL[en - 1] - P->HL[st + 1];
		double lg = P->LG[en - 1] - P->LG[st + 1];
		double iv = P->INV[en - 1] - P->INV[st + 1];
		spl = hl - e1 * (lg + inz) + e1 * e1 / 2 * iv;
	}
	if (p0 != 0)
		spl += xlogx(p0 - e1);
	if (n > 1 && pn != 0)
		spl += xlogx(pn - e1);
	spl += nzp * E * log(E);
	double Sp = P->S[en] - P->S[st] + lo + ro; /* = sum of p' exactly */
	/* q: one integer value per group of m (the quantized bin over the
	 * non-zero p of the group, truncated), zero on the remainder; the
	 * groups run over [k m, (k+1) m) and the remainder is group nq */
	int64_t m = n / nq;
	double nzq = 0.0, Sq = 0.0;
	for (int64_t k = 0; k <= nq; k++) {
		int64_t a = st + k * m, e = k < nq ? a + m : en;
		if (a >= e)
			continue;
		double ps = P->S[e] - P->S[a], nzc = P->NZ[e] - P->NZ[a];
		/* the ends carry the outliers */
		if (a == st) {
			ps += lo;
			nzc += (p0 != 0) - (hist[st] != 0);
		}
		if (e == en) {
			ps += ro;
			nzc += (pn != 0) - (hist[en - 1] != 0);
		}
		double v = 0.0;
		if (k < nq && nzc != 0) {
			double qb = P->S[e] - P->S[a];
			if (k == nq - 1)
				qb += P->S[en] - P->S[st + nq * m];
			v = (double)(int64_t)(qb / nzc);
		}
		grp[2 * k] = v;
		grp[2 * k + 1] = ps - e1 * nzc + E * ((double)(e - a) - nzc);
		if (v == 0)
			nzq += (double)(e - a);
		Sq += v * (double)(e - a);
	}
	if (nzq == (double)n)
		return INFINITY;
	double e1q = E * nzq / ((double)n - nzq), plq = 0.0;
	for (int64_t k = 0; k <= nq; k++) {
		int64_t a = st + k * m, e = k < nq ? a + m : en;
		if (a >= e)
			continue;
		double v = grp[2 * k];
		plq += grp[2 * k + 1] * log(v != 0 ? v - e1q : E);
	}
	/* smoothing keeps both totals */
	return spl / Sp - log(Sp) + log(Sq) - plq / Sp;
}

qs_status qs_hist_ort_entropy(const qs_hist *h, int64_t nq, float *lo,
			      float *hi, qs_error *err)
{
	qs_status st = need(h, QS_HIST_ORT, "entropy_ort", err);
	if (st < 0)
		return st;
	if (h->kind != QS_HIST_ORT || nq < 2)
		return qs_fail(err, QS_EINVAL, "entropy_ort: bad histogram");
	const int64_t B = h->nbins, zero = B / 2, half = nq / 2;
	if (half > zero) { /* no candidate: the whole range */
		*lo = h->xmin;
		*hi = h->xmax;
		return QS_OK;
	}
	const int64_t nc = zero - half + 1;
	double *d = malloc(((size_t)(B + 1) * 8 + 2 * (size_t)nc +
			    2 * (size_t)(nq + 1)) *
			   sizeof *d);
	float *f = malloc((size_t)(B + 1) * 3 * sizeof *f);
	if (!d || !f) {
		free(d);
		free(f);
		return qs_fail(err, QS_ENOMEM, "out of memory");
	}
	ort_pre P = {d, d + (B + 1), d + 2 * (B + 1), d + 3 * (B + 1),
		     d + 4 * (B + 1)};
	double *p = d + 5 * (B + 1), *q = d + 6 * (B + 1);
	double *fast = d + 7 * (B + 1), *exact = fast + nc, *grp = exact + nc;
	P.S[0] = P.NZ[0] = P.HL[0] = P.LG[0] = P.INV[0] = 0.0;
	for (int64_t j = 0; j < B; j++) {
		double c = h->count[j];
		P.S[j + 1] = P.S[j] + c;
		P.NZ[j + 1] = P.NZ[j] + (c != 0);
		P.HL[j + 1] = P.HL[j] + xlogx(c);
		P.LG[j + 1] = P.LG[j] + (c > 0 ? log(c) : 0.0);
		P.INV[j + 1] = P.INV[j] + (c > 0 ? 1.0 / c : 0.0);
	}
	/* screen every candidate in real arithmetic, then evaluate exactly
	 * (float32, as onnxruntime) those within a window of the minimum
	 * wide enough to hold the float32 rounding; widen it if the exact
	 * values show larger differences */
	double fmin = INFINITY;
	for (int64_t c = 0; c < nc; c++) {
		fast[c] = ort_kl_fast(h->count, B, half + c, nq, &P, grp);
		exact[c] = NAN;
		if (fast[c] < fmin)
			fmin = fast[c];
	}
	double win = 3e-5 + 3e-5 * fabs(fmin);
	int all = !isfinite(fmin);
	int64_t pick = half;
	for (;;) {
		double dev = 0.0;
		float best = INFINITY;
		pick = half;
		for (int64_t c = 0; c < nc; c++) {
			if (!all && !(fast[c] <= fmin + win))
				continue;
			if (isnan(exact[c]))
				exact[c] = ort_kl(h->count, B, half + c, nq, P.S,
						  p, q, f, f + B + 1,
						  f + 2 * (B + 1));
			if (isfinite(exact[c]) && isfinite(fast[c]) &&
			    fabs(exact[c] - fast[c]) > dev)
				dev = fabs(exact[c] - fast[c]);
			if ((float)exact[c] < best) { /* the first minimum */
				best = (float)exact[c];
				pick = half + c;
			}
		}
		if (all || 3 * dev < win)
			break;
		win = 4 * dev;
	}
	int64_t a = zero - pick, e = zero + pick + 1 < B ? zero + pick + 1 : B;
	float l = h->edges[a], r = h->edges[e];
	*lo = l < h->xmin ? h->xmin : l;
	*hi = r > h->xmax ? h->xmax : r;
	free(d);
	free(f);
	return QS_OK;
}

/* HistogramObserver._compute_quantization_error in float32, one tensor
 * op at a time, summed with torch's cascade sum. */
static double torch_l2_err(const float *hist, int64_t B, double bw,
			   int64_t D, int64_t s, int64_t e, float *norm)
{
	double dbw = bw * (double)(e - s + 1) / (double)D;
	if (dbw == 0.0)
		return 0.0;
	float fbw = (float)bw, fd = (float)dbw, hb = (float)(dbw / 2);
	float mh = (float)(-dbw / 2), dmax = (float)(D - 1);
	float mid = ((hb * hb) * hb - (mh * mh) * mh) / 3.0f;
	float a3 = (mh * mh) * mh, b3 = (hb * hb) * hb;
	for (int64_t j = 0; j < B; j++) {
		float sb = (float)(j - s) * fbw;
		float se = sb + fbw;
		float db = (float)floor((double)sb / (double)fd);
		db = db < 0.0f ? 0.0f : db > dmax ? dmax : db;
		float de = (float)floor((double)se / (double)fd);
		de = de < 0.0f ? 0.0f : de > dmax ? dmax : de;
		float dens = hist[j] / fbw;
		float dl = sb - (db + 0.5f) * fd;
		float n = dens * ((b3 - (dl * dl) * dl) / 3.0f);
		n = n + ((de - db) - 1.0f) * (dens * mid);
		float dr = se - (de * fd + hb);
		n = n + dens * (((dr * dr) * dr - a3) / 3.0f);
		norm[j] = n;
	}
	return (double)qs_hist_sum_torch_f32(norm, B);
}

qs_status qs_hist_torch_l2(const qs_hist *h, int bits, float *lo, float *hi,
			   qs_error *err)
{
	qs_status st = need(h, QS_HIST_TORCH, "hist_l2", err);
	if (st < 0)
		return st;
	if (bits < 1 || bits > 24)
		return qs_fail(err, QS_EINVAL, "hist_l2: bits %d out of range",
			       bits);
	const int64_t B = h->nbins, D = (int64_t)1 << bits;
	float *hs = malloc((size_t)B * 3 * sizeof *hs);
	if (!hs)
		return qs_fail(err, QS_ENOMEM, "out of memory");
	float *cs = hs + B, *nw = hs + 2 * B;
	double acc = 0.0;
	for (int64_t j = 0; j < B; j++) {
		hs[j] = (float)h->count[j];
		acc += hs[j]; /* torch.cumsum accumulates in double */
		cs[j] = (float)acc;
	}
	const double total = (double)qs_hist_sum_torch_f32(hs, B);
	const double bw = ((double)h->hi - (double)h->lo) / (double)B;
	double alpha = 0.0, beta = 1.0, nmin = INFINITY;
	int64_t s = 0, e = B - 1;
	while (alpha < beta) {
		double na = alpha + 1e-5, nb = beta - 1e-5;
		float ta = (float)(na * total), tb = (float)(nb * total);
		/* l: first index in [s, e) with cs >= ta, else e */
		int64_t a = s, z = e;
		while (a < z) {
			int64_t m = a + (z - a) / 2;
			if (cs[m] < ta)
				a = m + 1;
			else
				z = m;
		}
		int64_t l = a;
		/* r: last index in (s, e] with cs <= tb, else s */
		a = s + 1;
		z = e + 1;
		while (a < z) {
			int64_t m = a + (z - a) / 2;
			if (cs[m] > tb)
				z = m;
			else
				a = m + 1;
		}
		int64_t r = a - 1 > s ? a - 1 : s;
		int64_t ns = s, ne = e;
		if (l - s > e - r) {
			ns = l;
			alpha = na;
		} else {
			ne = r;
			beta = nb;
		}
		if (ns == s && ne == e)
			continue;
		double nrm = torch_l2_err(hs, B, bw, D, ns, ne, nw);
		if (nrm > nmin)
			break;
		nmin = nrm;
		s = ns;
		e = ne;
	}
	float w = (h->hi - h->lo) / (float)B;
	*lo = h->lo + w * (float)s;
	*hi = h->lo + w * (float)(e + 1);
	free(hs);
	return QS_OK;
}

/* AIMET TfEnhancedEncodingAnalyzer::_quantAndSatCost with DTYPE float:
 * saturation cost (squared distance of clipped bucket centres to the end
 * bucket centre, weight GAMMA = 3) plus rounding cost of the inner
 * buckets, accumulated in float from float64 terms. */
static float aimet_cost(const qs_hist *h, int bits, float delta, int offset)
{
	const int64_t B = h->nbins;
	const double *pdf = h->count;
	float mn = delta * (float)offset;
	float steps = (float)(ldexp(1.0, bits) - 1.0);
	float mx = delta * steps + mn;
	float start = h->edges[0];
	float step = h->awidth;
	int64_t lo = to_int(floorf((mn - start) / step), 0, B - 1);
	int64_t hi = to_int(floorf((mx - start) / step), 0, B - 1);
	float bot = 0.0f, top = 0.0f, qc = 0.0f;
	float lmid = start + (float)lo * step + step / 2;
	for (int64_t i = 0; i < lo; i++) {
		float mv = start + (float)i * step + step / 2;
		double d = (double)(mv - lmid);
		bot = (float)((double)bot + pdf[i] * (d * d));
	}
	float hmid = start + (float)hi * step + step / 2;
	for (int64_t i = hi; i < B; i++) {
		float mv = start + (float)i * step + step / 2;
		double d = (double)(mv - hmid);
		top = (float)((double)top + pdf[i] * (d * d));
	}
	for (int64_t i = lo; i < hi; i++) {
		float v = start + (float)i * step + step / 2;
		int64_t q = to_int(roundf(v / delta - (float)offset), INT32_MIN,
				   INT32_MAX);
		float dq = delta * (float)(q + offset);
		double d = (double)(v - dq);
		qc = (float)((double)qc + pdf[i] * (d * d));
	}
	return 3.0f * (bot + top) + qc;
}

/* _clampToObservedMinMax: false when the candidate covers more than the
 * observed range on both sides; else clamp and recompute delta/offset.
 * A candidate clamped to zero width is dropped too: AIMET would evaluate
 * it through an undefined float-to-int conversion, and it cannot win. */
static int aimet_clamp(float omin, float omax, float steps, float *delta,
		       int *offset)
{
	float tmin = *delta * (float)*offset;
	float tmax = tmin + *delta * steps;
	if (tmin < omin && tmax > omax)
		return 0;
	tmin = omin > tmin ? omin : tmin;
	tmax = omax < tmax ? omax : tmax;
	float d = (tmax - tmin) / steps;
	if (!(d > 0.0f))
		return 0;
	*delta = d;
	*offset = (int)to_int(roundf(tmin / d), INT32_MIN, INT32_MAX);
	return 1;
}

qs_status qs_hist_aimet_sqnr(const qs_hist *h, int bits, int symmetric,
			     int strict, int unsigned_sym, double *delta,
			     double *offset, double *enc_min, double *enc_max,
			     qs_error *err)
{
	qs_status st = need(h, QS_HIST_AIMET, "sqnr", err);
	if (st < 0)
		return st;
	if (bits < 1 || bits > 24)
		return qs_fail(err, QS_EINVAL, "sqnr: bits %d out of range",
			       bits);
	const int64_t B = h->nbins;
	/* _findRangeOfAggregateStats */
	float mn = h->edges[0], mx = h->edges[B - 1];
	for (int64_t i = 0; i < B; i++)
		if (h->count[i] > 0) {
			mn = h->edges[i];
			break;
		}
	for (int64_t i = B - 1; i > 0; i--)
		if (h->count[i] > 0) {
			mx = h->edges[i];
			break;
		}
	mn = mn < 0.0f ? mn : 0.0f;
	mx = mx > 0.0f ? mx : 0.0f;
	mx = mx > mn + 0.01f ? mx : mn + 0.01f;
	float steps = (float)(ldexp(1.0, bits) - 1.0);
	float bd = -1.0f, bc = FLT_MAX;
	int bo = -1;
	if (symmetric) {
		if (strict)
			steps -= 1;
		float dmax;
		int off;
		if (mn == 0.0f && unsigned_sym) {
			dmax = mx / steps;
			off = 0;
		} else {
			float am = fabsf(mx) > fabsf(mn) ? fabsf(mx) : fabsf(mn);
			dmax = (2 * am) / steps;
			off = (int)floorf(-steps / 2);
		}
		for (float f = 0.01f; (double)f <= 1.01;
		     f = (float)((double)f + 0.01)) {
			float d = f * dmax, c = aimet_cost(h, bits, d, off);
			if (c < bc) {
				bc = c;
				bd = d;
				bo = off;
			}
		}
		if (bd < 0.0f) { /* every cost overflowed float: no clipping */
			bd = dmax;
			bo = off;
		}
	} else {
		float od = (mx - mn) / steps;
		int oo = (int)to_int(roundf(mn / od), INT32_MIN, INT32_MAX);
		float omin = od * (float)oo, omax = omin + od * steps;
		for (float f = 0.0625f; (double)f <= 1.0625;
		     f = (float)((double)f + 0.0625)) {
			/* the C++ passes testDelta by reference: a clamped
			 * delta carries over to the next offsets */
			float d = f * od;
			for (int i = 0; i <= 20; i++) {
				int off = (int)(-steps + steps / 20.0 * i);
				if (!aimet_clamp(omin, omax, steps, &d, &off))
					continue;
				float c = aimet_cost(h, bits, d, off);
				if (c < bc) {
					bc = c;
					bd = d;
					bo = off;
				}
			}
		}
		float c = aimet_cost(h, bits, od, oo);
		if (c < bc || bd < 0.0f) { /* (all overflowed: observed) */
			bd = od;
			bo = oo;
		}
	}
	float emin = bd * (float)bo;
	*delta = bd;
	*offset = bo;
	*enc_min = emin;
	*enc_max = (double)(bd * steps) + (double)emin;
	return QS_OK;
}
