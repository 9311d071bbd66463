/* model: tensors, settings and results of the workbench, computed by two
 * worker threads (see model.h).  No curses, no Lua: the workers call the
 * engine only, on tensors that never change once added. */
#include "config.h"
#include "tui/model.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HIST_BINS 4096
#define RANGE_CACHE 64
#define MAX_CHANNEL_METRICS (1 << 18) /* parameters; more: ranges only */

/* A channel of the breakdown, compact (groups can number millions). */
typedef struct chan {
	int64_t index;
	float lo, hi;
	int has;
	double sqnr, mse, max_abs, clipped;
} chan;

/* A cached per-tensor calibrated range. */
typedef struct rentry {
	int used, tensor;
	qs_spec spec; /* the fields a range depends on */
	float lo, hi;
	uint64_t stamp;
} rentry;

struct wb {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	int notify_fd;
	int stop;
	wb_tensor **tensors;
	int ntensors, cap;
	wb_settings cur;
	uint64_t gen;
	wb_result *res;
	/* channel breakdown of generation ch_gen */
	chan *ch;
	int64_t nch;
	uint64_t ch_gen;
	int ch_metrics;
	/* compare table of key cmp_key */
	uint64_t cmp_key;
	int cmp_tensor;
	qs_spec cmp_base;
	qs_ui_row cmp[QS_CALIB_COUNT];
	int cmp_state[QS_CALIB_COUNT]; /* 0 pending, 1 running, 2 done */
	/* per-tensor range cache */
	pthread_mutex_t cache_mu;
	rentry cache[RANGE_CACHE];
	uint64_t stamp;
	pthread_t ta, tb;
	int started;
};

double wb_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- data-driven lists ----------------------------------------------- */

static qs_calib_method methods[QS_CALIB_COUNT];
static int nmethods = -1;

int wb_methods(const qs_calib_method **out)
{
	if (nmethods < 0) {
		/* ask the engine: every method it names and parses back */
		nmethods = 0;
		for (int i = 0; i < QS_CALIB_COUNT; i++) {
			qs_calib_method m = (qs_calib_method)i, back;
			if (m == QS_CALIB_NONE || m == QS_CALIB_FIXED)
				continue;
			const char *name = qs_calib_name(m);
			if (name && qs_calib_parse(name, &back) == 0 &&
			    back == m)
				methods[nmethods++] = m;
		}
	}
	*out = methods;
	return nmethods;
}

/* Names of further formats, kept when the engine accepts them. */
static const char *const format_candidates[] = {
	"fp8_e4m3", "fp8_e5m2", "fp8_e4m3fnuz", "fp8_e5m2fnuz",
	"e4m3", "e5m2", "fp16", "bf16", "mxfp8", "mxfp8_e4m3", "mxfp8_e5m2",
	"mxfp6", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4", "mxint8", "nvfp4",
	"nf4", "fp4", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "binary",
	"ternary", NULL};
static const char *families[64];
static int nfamilies = -1;

int wb_formats(const char *const **out)
{
	if (nfamilies < 0) {
		nfamilies = 0;
		families[nfamilies++] = "int";
		families[nfamilies++] = "uint";
		for (int i = 0; format_candidates[i] && nfamilies < 63; i++) {
			qs_spec s;
			qs_spec_default(&s);
			if (qs_spec_set_format(&s, format_candidates[i],
					       NULL) == 0)
				families[nfamilies++] = format_candidates[i];
		}
	}
	*out = families;
	return nfamilies;
}

static int int_family(const char *fmt, int *uns)
{
	const char *p = fmt;
	*uns = strncmp(p, "uint", 4) == 0;
	p += *uns ? 4 : 3;
	if (!*uns && strncmp(fmt, "int", 3) != 0)
		return 0;
	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '\0';
}

const char *wb_format_family(const qs_spec *s)
{
	int uns;
	if (int_family(s->format, &uns))
		return uns ? "uint" : "int";
	return s->format;
}

int wb_format_apply(qs_spec *s, const char *family, int bits)
{
	char name[32];
	if (strcmp(family, "int") == 0 || strcmp(family, "uint") == 0) {
		if (bits < 2)
			bits = 2;
		if (bits > 16)
			bits = 16;
		snprintf(name, sizeof name, "%s%d", family, bits);
	} else {
		snprintf(name, sizeof name, "%s", family);
	}
	qs_spec t = *s;
	if (qs_spec_set_format(&t, name, NULL) < 0)
		return -1;
	*s = t;
	return 0;
}

/* ---- histograms ----------------------------------------------------- */

static void base_hist(wb_tensor *w)
{
	const qs_stats *st = &w->stats;
	w->nbins = HIST_BINS;
	if (st->count == 0) {
		w->hlo = -1;
		w->hhi = 1;
		return;
	}
	w->hlo = st->min;
	w->hhi = st->max;
	if (!(w->hhi > w->hlo)) {
		w->hlo -= 0.5;
		w->hhi += 0.5;
	}
	double sc = w->nbins / (w->hhi - w->hlo);
	size_t n = (size_t)w->t->size;
	const float *x = w->x;
	int64_t *h = w->hist;
	for (size_t i = 0; i < n; i++) {
		float v = x[i];
		if (!isfinite(v))
			continue;
		long b = (long)(((double)v - w->hlo) * sc);
		b = b < 0 ? 0 : b >= w->nbins ? w->nbins - 1 : b;
		h[b]++;
	}
}

void wb_hist(const wb_tensor *w, double vlo, double vhi, int ncols,
	     double *out)
{
	for (int c = 0; c < ncols; c++)
		out[c] = 0;
	if (ncols <= 0 || !(vhi > vlo))
		return;
	double cw = (vhi - vlo) / ncols;
	double bw = (w->hhi - w->hlo) / w->nbins;
	if (cw >= 2 * bw || w->stats.count == 0) {
		/* split each base bin over the columns it overlaps */
		for (int b = 0; b < w->nbins; b++) {
			if (!w->hist[b])
				continue;
			double b0 = w->hlo + b * bw, b1 = b0 + bw;
			if (b1 <= vlo || b0 >= vhi)
				continue;
			double a = b0 < vlo ? vlo : b0;
			double e = b1 > vhi ? vhi : b1;
			int c0 = (int)((a - vlo) / cw), c1 = (int)((e - vlo) / cw);
			if (c1 >= ncols)
				c1 = ncols - 1;
			for (int c = c0; c <= c1; c++) {
				double l = vlo + c * cw, r = l + cw;
				double o = (e < r ? e : r) - (a > l ? a : l);
				if (o > 0)
					out[c] += (double)w->hist[b] * o / bw;
			}
		}
		return;
	}
	/* zoomed in past the base bins: count the data itself */
	size_t n = (size_t)w->t->size;
	const float *x = w->x;
	double sc = ncols / (vhi - vlo);
	for (size_t i = 0; i < n; i++) {
		double v = x[i];
		if (!(v >= vlo && v <= vhi))
			continue;
		int c = (int)((v - vlo) * sc);
		out[c < ncols ? c : ncols - 1] += 1;
	}
}

/* ---- tensors -------------------------------------------------------- */

int wb_add(wb *m, qs_tensor *t, const char *name, qs_error *err)
{
	wb_tensor *w = calloc(1, sizeof *w);
	if (!w) {
		qs_tensor_free(t);
		return qs_fail(err, QS_ENOMEM, "out of memory"), -1;
	}
	w->t = t;
	w->name = strdup(name ? name : "(unnamed)");
	w->hist = calloc(HIST_BINS, sizeof *w->hist);
	/* the float32 copy is made here, before any worker can see t */
	w->x = qs_tensor_f32(t, err);
	if (!w->name || !w->hist || !w->x) {
		if (!w->name || !w->hist) /* else qs_tensor_f32 said why */
			qs_fail(err, QS_ENOMEM, "out of memory");
		free(w->name);
		free(w->hist);
		free(w);
		qs_tensor_free(t);
		return -1;
	}
	qs_stats_compute(w->x, (size_t)t->size, &w->stats);
	base_hist(w);
	pthread_mutex_lock(&m->mu);
	if (m->ntensors == m->cap) {
		int nc = m->cap ? m->cap * 2 : 8;
		wb_tensor **nt = realloc(m->tensors, sizeof *nt * (size_t)nc);
		if (!nt) {
			pthread_mutex_unlock(&m->mu);
			free(w->name);
			free(w->hist);
			free(w);
			qs_tensor_free(t);
			return qs_fail(err, QS_ENOMEM, "out of memory"), -1;
		}
		m->tensors = nt;
		m->cap = nc;
	}
	int i = m->ntensors;
	m->tensors[m->ntensors++] = w;
	pthread_mutex_unlock(&m->mu);
	return i;
}

int wb_count(wb *m)
{
	pthread_mutex_lock(&m->mu);
	int n = m->ntensors;
	pthread_mutex_unlock(&m->mu);
	return n;
}

wb_tensor *wb_tensor_at(wb *m, int i)
{
	pthread_mutex_lock(&m->mu);
	wb_tensor *w = i >= 0 && i < m->ntensors ? m->tensors[i] : NULL;
	pthread_mutex_unlock(&m->mu);
	return w;
}

/* ---- results -------------------------------------------------------- */

static void result_unref(wb_result *r)
{
	if (r && --r->refs == 0) {
		qs_quant_free(r->q);
		free(r);
	}
}

wb_result *wb_get(wb *m)
{
	pthread_mutex_lock(&m->mu);
	wb_result *r = m->res;
	if (r)
		r->refs++;
	pthread_mutex_unlock(&m->mu);
	return r;
}

void wb_put(wb *m, wb_result *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&m->mu);
	result_unref(r);
	pthread_mutex_unlock(&m->mu);
}

static void notify(wb *m)
{
	char b = 'r';
	if (m->notify_fd >= 0 && write(m->notify_fd, &b, 1) < 0) {
		/* full pipe: a wake-up is pending anyway */
	}
}

/* Same compare table: everything but the calibration method and range. */
static int same_base(const qs_spec *a, const qs_spec *b)
{
	return strcmp(a->format, b->format) == 0 && a->bits == b->bits &&
	       a->is_unsigned == b->is_unsigned && a->scheme == b->scheme &&
	       a->narrow == b->narrow && a->granularity == b->granularity &&
	       a->axis == b->axis && a->group == b->group &&
	       a->rounding == b->rounding && a->seed == b->seed &&
	       a->preset == b->preset &&
	       a->calib.percentile == b->calib.percentile &&
	       a->calib.bins == b->calib.bins && a->calib.c == b->calib.c &&
	       a->calib.batches == b->calib.batches &&
	       a->calib.prior == b->calib.prior;
}

/* Same calibrated range: the method, its parameters and the grid. */
static int same_range(const qs_spec *a, const qs_spec *b)
{
	return strcmp(a->format, b->format) == 0 && a->bits == b->bits &&
	       a->is_unsigned == b->is_unsigned && a->scheme == b->scheme &&
	       a->narrow == b->narrow && a->calib.method == b->calib.method &&
	       a->calib.percentile == b->calib.percentile &&
	       a->calib.bins == b->calib.bins && a->calib.c == b->calib.c &&
	       a->calib.batches == b->calib.batches &&
	       a->calib.prior == b->calib.prior;
}

static int cache_find(wb *m, int tensor, const qs_spec *s, float *lo,
		      float *hi)
{
	int hit = 0;
	pthread_mutex_lock(&m->cache_mu);
	for (int i = 0; i < RANGE_CACHE; i++) {
		rentry *e = &m->cache[i];
		if (e->used && e->tensor == tensor && same_range(&e->spec, s)) {
			*lo = e->lo;
			*hi = e->hi;
			e->stamp = ++m->stamp;
			hit = 1;
			break;
		}
	}
	pthread_mutex_unlock(&m->cache_mu);
	return hit;
}

static void cache_put(wb *m, int tensor, const qs_spec *s, float lo, float hi)
{
	pthread_mutex_lock(&m->cache_mu);
	rentry *v = &m->cache[0];
	for (int i = 0; i < RANGE_CACHE; i++) {
		rentry *e = &m->cache[i];
		if (!e->used) {
			v = e;
			break;
		}
		if (e->stamp < v->stamp)
			v = e;
	}
	v->used = 1;
	v->tensor = tensor;
	v->spec = *s;
	v->lo = lo;
	v->hi = hi;
	v->stamp = ++m->stamp;
	pthread_mutex_unlock(&m->cache_mu);
}

/* Quantize with spec s.  A per-tensor integer spec calibrates once per
 * (tensor, method, grid): the cached range is then applied as a fixed
 * range, which gives the same parameters (qs_qparams of the same range)
 * and skips the calibration. */
static qs_quant *quantize(wb *m, int ti, const wb_tensor *w, const qs_spec *s,
			  qs_error *err)
{
	int uns;
	if (s->granularity != QS_GRAN_TENSOR || !int_family(s->format, &uns) ||
	    s->calib.method == QS_CALIB_FIXED ||
	    s->calib.method == QS_CALIB_NONE)
		return qs_quantize(w->t, s, err);
	float lo, hi;
	if (!cache_find(m, ti, s, &lo, &hi)) {
		float *l = NULL, *h = NULL;
		int64_t n = 0;
		if (qs_calibrate(w->t, s, &l, &h, &n, err) < 0)
			return NULL;
		lo = n > 0 ? l[0] : 0.0f;
		hi = n > 0 ? h[0] : 0.0f;
		free(l);
		free(h);
		cache_put(m, ti, s, lo, hi);
	}
	qs_spec f = *s;
	f.calib.method = QS_CALIB_FIXED;
	f.calib.lo = lo;
	f.calib.hi = hi;
	qs_quant *q = qs_quantize(w->t, &f, err);
	if (q)
		q->spec.calib = s->calib;
	return q;
}

static void summarize(const qs_quant *q, double *lo, double *hi, double *smin,
		      double *smax, double *zmin, double *zmax)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	*smin = *zmin = INFINITY;
	*smax = *zmax = -INFINITY;
	for (int64_t p = 0; p < q->nparams; p++) {
		*lo = q->lo[p] < *lo ? q->lo[p] : *lo;
		*hi = q->hi[p] > *hi ? q->hi[p] : *hi;
		*smin = q->scale[p] < *smin ? q->scale[p] : *smin;
		*smax = q->scale[p] > *smax ? q->scale[p] : *smax;
		*zmin = q->zero_point[p] < *zmin ? q->zero_point[p] : *zmin;
		*zmax = q->zero_point[p] > *zmax ? q->zero_point[p] : *zmax;
	}
	if (q->nparams == 0)
		*lo = *hi = *smin = *smax = *zmin = *zmax = 0;
}

static wb_result *compute_current(wb *m, const wb_settings *s, uint64_t gen,
				  wb_tensor *w)
{
	wb_result *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->refs = 1;
	r->gen = gen;
	r->tensor = s->tensor;
	r->spec = s->spec;
	if (!w)
		return r;
	double t0 = wb_clock();
	qs_error err;
	qs_error_clear(&err);
	r->q = quantize(m, s->tensor, w, &s->spec, &err);
	r->ms = (wb_clock() - t0) * 1e3;
	if (!r->q)
		snprintf(r->error, sizeof r->error, "%s",
			 err.msg[0] ? err.msg : "quantization failed");
	else
		summarize(r->q, &r->lo, &r->hi, &r->smin, &r->smax, &r->zmin,
			  &r->zmax);
	return r;
}

static int chan_cmp(const void *a, const void *b)
{
	const chan *x = a, *y = b;
	/* worst (lowest SQNR) first; NaN last; then by index */
	int nx = x->sqnr != x->sqnr, ny = y->sqnr != y->sqnr;
	if (nx != ny)
		return nx - ny;
	if (!nx && x->sqnr != y->sqnr)
		return x->sqnr < y->sqnr ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void put_metrics(chan *c, const qs_metrics *mt)
{
	c->has = 1;
	c->sqnr = mt->sqnr_db;
	c->mse = mt->mse;
	c->max_abs = mt->max_abs;
	c->clipped = mt->clipped;
}

/* The per-channel (or per-group) breakdown of result r: data ranges of
 * each channel along the axis (or each group) and, when r quantized it,
 * each one's error; sorted worst first. */
static chan *compute_channels(const wb_result *r, wb_tensor *w, int64_t *n,
			      int *with_metrics)
{
	*n = 0;
	*with_metrics = 0;
	const qs_quant *q = r->q;
	qs_tensor *t = w->t;
	if (!q || t->ndim == 0)
		return NULL;
	qs_spec rs = r->spec;
	rs.calib.method = QS_CALIB_MINMAX;
	if (rs.granularity == QS_GRAN_TENSOR)
		rs.granularity = QS_GRAN_CHANNEL;
	float *lo = NULL, *hi = NULL;
	int64_t np = 0;
	if (qs_calibrate(t, &rs, &lo, &hi, &np, NULL) < 0 || np <= 0)
		return free(lo), free(hi), NULL;
	chan *c = calloc((size_t)np, sizeof *c);
	if (!c)
		return free(lo), free(hi), NULL;
	for (int64_t p = 0; p < np; p++) {
		c[p].index = p;
		c[p].lo = lo[p];
		c[p].hi = hi[p];
		c[p].sqnr = NAN;
	}
	free(lo);
	free(hi);
	if (np <= MAX_CHANNEL_METRICS) {
		if (r->spec.granularity != QS_GRAN_TENSOR) {
			qs_metrics *mt = malloc(sizeof *mt * (size_t)np);
			if (mt && np == q->nparams &&
			    qs_quant_param_metrics(q, t, mt, NULL) == 0) {
				for (int64_t p = 0; p < np; p++)
					put_metrics(&c[p], &mt[p]);
				*with_metrics = 1;
			}
			free(mt);
		} else if (t->size <= ((int64_t)1 << 27)) {
			/* per-tensor scale: how each channel fares under it */
			qs_tensor *y = qs_quant_dequant(q, t, NULL);
			qs_acc *acc = calloc((size_t)np, sizeof *acc);
			if (y && acc) {
				int ax = rs.axis < 0 ? rs.axis + t->ndim : rs.axis;
				int64_t inner = 1;
				for (int d = ax + 1; d < t->ndim; d++)
					inner *= t->shape[d];
				const float *x = w->x, *yv = y->data;
				for (int64_t p = 0; p < np; p++)
					qs_acc_init(&acc[p]);
				for (int64_t i = 0; i < t->size; i += inner) {
					int64_t p = (i / inner) % np;
					qs_acc_add(&acc[p], x + i, yv + i,
						   (size_t)inner);
				}
				for (int64_t p = 0; p < np; p++) {
					qs_metrics mt;
					qs_acc_finish(&acc[p], &mt);
					put_metrics(&c[p], &mt);
				}
				*with_metrics = 1;
			}
			free(acc);
			qs_tensor_free(y);
		}
	}
	if (*with_metrics)
		qsort(c, (size_t)np, sizeof *c, chan_cmp);
	*n = np;
	return c;
}

/* ---- workers -------------------------------------------------------- */

static int compare_row_of(qs_calib_method method)
{
	const qs_calib_method *ms;
	int n = wb_methods(&ms);
	for (int i = 0; i < n; i++)
		if (ms[i] == method)
			return i;
	return -1;
}

static void fill_row(qs_ui_row *row, const wb_result *r)
{
	if (r->q) {
		row->done = 1;
		row->metrics = r->q->metrics;
		row->lo = r->lo;
		row->hi = r->hi;
		row->scale = r->smin;
		row->zero_point = r->zmin;
	} else {
		row->done = -1;
		snprintf(row->error, sizeof row->error, "%.159s", r->error);
	}
	row->ms = r->ms;
}

/* The current spec, as soon as the settings change. */
static void *worker_current(void *arg)
{
	wb *m = arg;
	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		if (!m->res || m->res->gen != m->gen) {
			wb_settings s = m->cur;
			uint64_t g = m->gen;
			wb_tensor *w = s.tensor >= 0 && s.tensor < m->ntensors
					       ? m->tensors[s.tensor]
					       : NULL;
			pthread_mutex_unlock(&m->mu);
			wb_result *r = compute_current(m, &s, g, w);
			pthread_mutex_lock(&m->mu);
			if (!r) { /* out of memory: try again later */
				pthread_mutex_unlock(&m->mu);
				usleep(100000);
				pthread_mutex_lock(&m->mu);
				continue;
			}
			if (g != m->gen) {
				result_unref(r);
				continue;
			}
			result_unref(m->res);
			m->res = r;
			/* the compare row of this method is the same result */
			int k = compare_row_of(s.spec.calib.method);
			if (k >= 0 && m->cmp_tensor == s.tensor &&
			    same_base(&m->cmp_base, &s.spec) &&
			    m->cmp_state[k] == 0) {
				fill_row(&m->cmp[k], r);
				m->cmp_state[k] = 2;
			}
			notify(m);
			pthread_cond_broadcast(&m->done);
			pthread_cond_broadcast(&m->work); /* compare resumes */
			continue;
		}
		pthread_cond_wait(&m->work, &m->mu);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* After the current result: its channel breakdown, then the compare
 * rows one at a time, at a lower priority on one engine thread. */
static void *worker_compare(void *arg)
{
	wb *m = arg;
#ifdef SYS_gettid
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5);
#endif
	qs_threads_set(1);
	const qs_calib_method *ms;
	int nm = wb_methods(&ms);
	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		int cur_coming = !(m->res && m->res->gen == m->gen);
		int k = -1;
		for (int i = 0; i < nm && k < 0; i++)
			if (m->cmp_state[i] == 0)
				k = i;
		/* the current spec goes first: nothing starts here until its
		 * result is out (it fills its own compare row) */
		if (!cur_coming && m->ch_gen != m->gen) {
			wb_result *r = m->res;
			r->refs++;
			uint64_t g = r->gen;
			wb_tensor *w = r->tensor >= 0 && r->tensor < m->ntensors
					       ? m->tensors[r->tensor]
					       : NULL;
			pthread_mutex_unlock(&m->mu);
			int64_t n = 0;
			int met = 0;
			chan *c = w ? compute_channels(r, w, &n, &met) : NULL;
			pthread_mutex_lock(&m->mu);
			result_unref(r);
			if (g == m->gen) {
				free(m->ch);
				m->ch = c;
				m->nch = n;
				m->ch_metrics = met;
				m->ch_gen = g;
				notify(m);
				pthread_cond_broadcast(&m->done);
			} else {
				free(c);
			}
			continue;
		}
		if (k < 0 || m->cmp_tensor < 0 || cur_coming) {
			pthread_cond_wait(&m->work, &m->mu);
			continue;
		}
		m->cmp_state[k] = 1;
		uint64_t key = m->cmp_key;
		int ti = m->cmp_tensor;
		wb_tensor *w = m->tensors[ti];
		wb_settings s;
		s.tensor = ti;
		s.spec = m->cmp_base;
		s.spec.calib.method = ms[k];
		s.spec.calib.lo = s.spec.calib.hi = 0;
		pthread_mutex_unlock(&m->mu);
		wb_result *r = compute_current(m, &s, 0, w);
		pthread_mutex_lock(&m->mu);
		if (key == m->cmp_key) {
			if (r) {
				fill_row(&m->cmp[k], r);
				m->cmp_state[k] = 2;
			} else {
				m->cmp_state[k] = 0;
			}
			notify(m);
			pthread_cond_broadcast(&m->done);
		}
		if (r)
			result_unref(r);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* ---- settings ------------------------------------------------------- */

void wb_settings_get(wb *m, wb_settings *out)
{
	pthread_mutex_lock(&m->mu);
	*out = m->cur;
	pthread_mutex_unlock(&m->mu);
}

uint64_t wb_generation(wb *m)
{
	pthread_mutex_lock(&m->mu);
	uint64_t g = m->gen;
	pthread_mutex_unlock(&m->mu);
	return g;
}

void wb_settings_set(wb *m, const wb_settings *s)
{
	pthread_mutex_lock(&m->mu);
	m->cur = *s;
	m->gen++;
	if (m->cmp_tensor != s->tensor || !same_base(&m->cmp_base, &s->spec)) {
		const qs_calib_method *ms;
		int n = wb_methods(&ms);
		m->cmp_key++;
		m->cmp_tensor = s->tensor;
		m->cmp_base = s->spec;
		for (int i = 0; i < n; i++) {
			memset(&m->cmp[i], 0, sizeof m->cmp[i]);
			m->cmp[i].method = ms[i];
			m->cmp_state[i] = 0;
		}
	}
	pthread_cond_broadcast(&m->work);
	pthread_mutex_unlock(&m->mu);
}

/* ---- waiting -------------------------------------------------------- */

static int wait_until(wb *m, int ms, volatile int *cancel,
		      int (*ready)(wb *m))
{
	double end = wb_clock() + ms * 1e-3;
	pthread_mutex_lock(&m->mu);
	int ok;
	while (!(ok = ready(m))) {
		if ((cancel && *cancel) || wb_clock() >= end)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&m->done, &m->mu, &ts);
	}
	pthread_mutex_unlock(&m->mu);
	return ok;
}

static int current_ready(wb *m)
{
	return m->res && m->res->gen == m->gen;
}

static int compare_ready(wb *m)
{
	const qs_calib_method *ms;
	int n = wb_methods(&ms);
	if (m->cmp_tensor < 0)
		return 1;
	for (int i = 0; i < n; i++)
		if (m->cmp_state[i] != 2)
			return 0;
	return 1;
}

static int channels_ready(wb *m)
{
	return m->ch_gen == m->gen;
}

int wb_wait_current(wb *m, int ms, volatile int *cancel)
{
	return wait_until(m, ms, cancel, current_ready);
}

int wb_wait_compare(wb *m, int ms, volatile int *cancel)
{
	return wait_until(m, ms, cancel, compare_ready);
}

int wb_wait_channels(wb *m, int ms, volatile int *cancel)
{
	return wait_until(m, ms, cancel, channels_ready);
}

/* ---- tables for the panes --------------------------------------------- */

static int row_cmp(const void *a, const void *b)
{
	const qs_ui_row *x = a, *y = b;
	/* done rows by MSE (lowest first), then failed, then pending */
	int rx = x->done == 1 ? 0 : x->done < 0 ? 1 : 2;
	int ry = y->done == 1 ? 0 : y->done < 0 ? 1 : 2;
	if (rx != ry)
		return rx - ry;
	if (rx == 0) {
		double p = x->metrics.mse, q = y->metrics.mse;
		int np = p != p, nq = q != q;
		if (np != nq)
			return np - nq;
		if (!np && p != q)
			return p < q ? -1 : 1;
	}
	return (int)x->method - (int)y->method;
}

int wb_compare(wb *m, qs_ui_row *rows, int max, int *pending)
{
	const qs_calib_method *ms;
	int nm = wb_methods(&ms);
	int n = 0, pend = 0;
	pthread_mutex_lock(&m->mu);
	qs_calib_method curm = m->cur.spec.calib.method;
	if (m->cmp_tensor >= 0) {
		for (int i = 0; i < nm && n < max; i++) {
			rows[n] = m->cmp[i];
			rows[n].method = ms[i];
			if (m->cmp_state[i] != 2) {
				rows[n].done = 0;
				pend++;
			}
			rows[n].current = ms[i] == curm;
			n++;
		}
		/* the hand-set range is a row of its own */
		wb_result *r = m->res;
		if (curm == QS_CALIB_FIXED && n < max && r &&
		    r->gen == m->gen && r->tensor == m->cmp_tensor) {
			memset(&rows[n], 0, sizeof rows[n]);
			rows[n].method = QS_CALIB_FIXED;
			fill_row(&rows[n], r);
			rows[n].current = 1;
			n++;
		} else if (curm == QS_CALIB_FIXED && n < max) {
			memset(&rows[n], 0, sizeof rows[n]);
			rows[n].method = QS_CALIB_FIXED;
			rows[n].current = 1;
			n++;
			pend++;
		}
	}
	pthread_mutex_unlock(&m->mu);
	qsort(rows, (size_t)n, sizeof *rows, row_cmp);
	if (pending)
		*pending = pend;
	return n;
}

int64_t wb_channels(wb *m, int64_t start, qs_ui_channel *out, int64_t max,
		    int64_t *total, int *ready)
{
	int64_t k = 0;
	pthread_mutex_lock(&m->mu);
	int ok = m->ch_gen == m->gen;
	if (ready)
		*ready = ok;
	if (total)
		*total = m->ch ? m->nch : 0;
	for (int64_t i = start; out && m->ch && i < m->nch && k < max; i++) {
		const chan *c = &m->ch[i];
		qs_ui_channel *o = &out[k++];
		memset(o, 0, sizeof *o);
		o->index = c->index;
		o->lo = c->lo;
		o->hi = c->hi;
		o->has_metrics = c->has;
		o->metrics.sqnr_db = c->sqnr;
		o->metrics.mse = c->mse;
		o->metrics.rmse = sqrt(c->mse);
		o->metrics.max_abs = c->max_abs;
		o->metrics.clipped = c->clipped;
	}
	pthread_mutex_unlock(&m->mu);
	return k;
}

/* ---- life ------------------------------------------------------------ */

wb *wb_new(int notify_fd)
{
	wb *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->notify_fd = notify_fd;
	m->cur.tensor = -1;
	qs_spec_default(&m->cur.spec);
	m->cur.calibrated = m->cur.spec.calib.method;
	m->cmp_tensor = -1;
	m->gen = 1;
	pthread_mutex_init(&m->mu, NULL);
	pthread_mutex_init(&m->cache_mu, NULL);
	pthread_cond_init(&m->work, NULL);
	pthread_cond_init(&m->done, NULL);
	const qs_calib_method *ms;
	wb_methods(&ms);
	const char *const *fs;
	wb_formats(&fs);
	if (pthread_create(&m->ta, NULL, worker_current, m) != 0) {
		free(m);
		return NULL;
	}
	if (pthread_create(&m->tb, NULL, worker_compare, m) != 0) {
		pthread_mutex_lock(&m->mu);
		m->stop = 1;
		pthread_cond_broadcast(&m->work);
		pthread_mutex_unlock(&m->mu);
		pthread_join(m->ta, NULL);
		free(m);
		return NULL;
	}
	m->started = 1;
	return m;
}

void wb_free(wb *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = 1;
	pthread_cond_broadcast(&m->work);
	pthread_mutex_unlock(&m->mu);
	if (m->started) {
		pthread_join(m->ta, NULL);
		pthread_join(m->tb, NULL);
	}
	result_unref(m->res);
	free(m->ch);
	for (int i = 0; i < m->ntensors; i++) {
		wb_tensor *w = m->tensors[i];
		qs_tensor_free(w->t);
		free(w->name);
		free(w->hist);
		free(w);
	}
	free(m->tensors);
	pthread_mutex_destroy(&m->mu);
	pthread_mutex_destroy(&m->cache_mu);
	pthread_cond_destroy(&m->work);
	pthread_cond_destroy(&m->done);
	free(m);
}
