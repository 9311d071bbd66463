/* observer: batch-by-batch statistics for static calibration; the range
 * comes from the same code as qs_calib_range (one batch gives the same
 * answer).  Pure C11 + libm (+ OpenMP); no printing. */
#include "config.h"
#include "observer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct qs_observer {
	qs_calib calib;
	qs_grid grid;
	int64_t batches;
	double count;
	int have;            /* a batch with finite values came */
	float mn, mx;        /* running min / max */
	float emn, emx;      /* PyTorch EMA */
	float c;             /* EMA constant */
	qs_hist *hist;       /* histogram methods */
	float *data;         /* percentile, mse_exact, aciq: the values */
	size_t ndata, cap;
};

static int keeps_data(qs_calib_method m)
{
	return m == QS_CALIB_PERCENTILE || m == QS_CALIB_MSE_EXACT ||
	       m == QS_CALIB_ACIQ;
}

qs_observer *qs_observer_new(const qs_calib *c, const qs_grid *g,
			     qs_error *err)
{
	if (qs_calib_check(c, err) < 0)
		return NULL;
	qs_observer *o = calloc(1, sizeof *o);
	if (!o) {
		qs_fail(err, QS_ENOMEM, "out of memory");
		return NULL;
	}
	o->calib = *c;
	if (g)
		o->grid = *g;
	else
		qs_grid_default(&o->grid, 8, 0, 1, 0);
	o->c = c->c ? (float)c->c : 0.01f;
	if (qs_calib_uses_hist(c->method)) {
		int kind = qs_calib_hist_kind(c->method, &o->grid);
		o->hist = qs_hist_new((qs_hist_kind)kind, c->bins, err);
		if (!o->hist) {
			free(o);
			return NULL;
		}
	}
	return o;
}

void qs_observer_free(qs_observer *o)
{
	if (!o)
		return;
	qs_hist_free(o->hist);
	free(o->data);
	free(o);
}

qs_status qs_observer_add(qs_observer *o, const float *x, size_t n,
			  qs_error *err)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += isfinite(x[i]) != 0;
	if (m == 0) { /* nothing to learn from this batch */
		o->batches++;
		return QS_OK;
	}
	if (keeps_data(o->calib.method)) {
		if (o->ndata + m > o->cap) {
			size_t cap = o->cap ? o->cap : 1024;
			while (cap < o->ndata + m)
				cap *= 2;
			float *d = realloc(o->data, cap * sizeof *d);
			if (!d)
				return qs_fail(err, QS_ENOMEM, "out of memory");
			o->data = d;
			o->cap = cap;
		}
		for (size_t i = 0; i < n; i++)
			if (isfinite(x[i]))
				o->data[o->ndata++] = x[i];
	}
	if (o->hist) {
		qs_status st = qs_hist_add(o->hist, x, n, err);
		if (st < 0)
			return st;
	}
	qs_calib mm;
	memset(&mm, 0, sizeof mm);
	mm.method = QS_CALIB_MINMAX;
	float l, h;
	qs_calib_range(&mm, x, n, NULL, &l, &h, NULL);
	o->batches++;
	o->count += (double)m;
	if (!o->have) {
		o->mn = o->emn = l;
		o->mx = o->emx = h;
		o->have = 1;
	} else {
		o->mn = l < o->mn ? l : o->mn;
		o->mx = h > o->mx ? h : o->mx;
		o->emn = o->emn + o->c * (l - o->emn);
		o->emx = o->emx + o->c * (h - o->emx);
	}
	return QS_OK;
}

qs_status qs_observer_range(const qs_observer *o, const qs_calib *c,
			    const qs_grid *g, float *lo, float *hi,
			    qs_error *err)
{
	qs_status st = qs_calib_check(c, err);
	if (st < 0)
		return st;
	if (!g)
		g = &o->grid;
	if (c->method == QS_CALIB_FIXED) {
		*lo = (float)c->lo;
		*hi = (float)c->hi;
		return QS_OK;
	}
	if (!o->have) {
		*lo = *hi = 0.0f;
		return QS_OK;
	}
	switch (c->method) {
	case QS_CALIB_NONE:
	case QS_CALIB_MINMAX:
		*lo = o->mn;
		*hi = o->mx;
		return QS_OK;
	case QS_CALIB_EMA:
		*lo = o->emn;
		*hi = o->emx;
		return QS_OK;
	default:
		break;
	}
	if (keeps_data(c->method)) {
		if (!keeps_data(o->calib.method))
			return qs_fail(err, QS_EINVAL,
				       "observer for %s keeps no values for %s",
				       qs_calib_name(o->calib.method),
				       qs_calib_name(c->method));
		return qs_calib_range(c, o->data, o->ndata, g, lo, hi, err);
	}
	if (!o->hist ||
	    qs_calib_hist_kind(c->method, g) != (int)o->hist->kind)
		return qs_fail(err, QS_EINVAL,
			       "observer for %s has no histogram for %s",
			       qs_calib_name(o->calib.method),
			       qs_calib_name(c->method));
	return qs_calib_from_hist(c, o->hist, g, lo, hi, err);
}

int64_t qs_observer_batches(const qs_observer *o)
{
	return o->batches;
}

double qs_observer_count(const qs_observer *o)
{
	return o->count;
}

const qs_hist *qs_observer_hist(const qs_observer *o)
{
	return o->hist;
}
