/* metrics: error sums and their summary.  The fused quantizer kernels in
 * quant.c accumulate the same sums inline; this generic path serves
 * reconstructions computed elsewhere (float formats, qs.error on two
 * tensors).  Pure C11 + libm (+ OpenMP, fixed-order merge). */
#include "config.h"
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LANES 16
#define CHUNK 65536

void qs_acc_init(qs_acc *a)
{
	memset(a, 0, sizeof *a);
}

void qs_acc_merge(qs_acc *a, const qs_acc *b)
{
	a->se += b->se;
	a->ae += b->ae;
	a->err += b->err;
	a->sx2 += b->sx2;
	a->sy2 += b->sy2;
	a->sxy += b->sxy;
	a->maxae = b->maxae > a->maxae ? b->maxae : a->maxae;
	a->count += b->count;
	a->clipped += b->clipped;
	a->nan += b->nan;
	a->inf += b->inf;
	a->underflow += b->underflow;
	a->subnormal += b->subnormal;
	a->overflow += b->overflow;
	a->nan_out += b->nan_out;
}

/* Sums over blocks of LANES elements in float lanes, flushed to double
 * every 16 blocks so float rounding stays below 1e-6 relative. */
void qs_acc_add(qs_acc *a, const float *x, const float *y, size_t n)
{
	size_t i = 0;
	while (i < n) {
		float se[LANES] = {0}, ae[LANES] = {0}, er[LANES] = {0},
		      x2[LANES] = {0}, y2[LANES] = {0}, xy[LANES] = {0},
		      mx[LANES] = {0}, nn[LANES] = {0}, ni[LANES] = {0};
		size_t stop = n - i > LANES * 16 ? i + LANES * 16 : n;
		for (; i + LANES <= stop; i += LANES)
			for (int j = 0; j < LANES; j++) {
				float v = x[i + j], w = y[i + j];
				int isn = v != v;
				int fin = fabsf(v) <= 3.40282347e38f;
				float xv = fin ? v : 0.0f;
				float yv = fin ? w : 0.0f;
				float e = yv - xv, ab = fabsf(e);
				se[j] += e * e;
				ae[j] += ab;
				er[j] += e;
				x2[j] += xv * xv;
				y2[j] += yv * yv;
				xy[j] += xv * yv;
				mx[j] = ab > mx[j] ? ab : mx[j];
				nn[j] += (float)isn;
				ni[j] += (float)(!fin && !isn);
			}
		for (; i < stop; i++) {
			float v = x[i], w = y[i];
			int isn = v != v, fin = isfinite(v);
			float xv = fin ? v : 0.0f, yv = fin ? w : 0.0f;
			float e = yv - xv, ab = fabsf(e);
			se[0] += e * e;
			ae[0] += ab;
			er[0] += e;
			x2[0] += xv * xv;
			y2[0] += yv * yv;
			xy[0] += xv * yv;
			mx[0] = ab > mx[0] ? ab : mx[0];
			nn[0] += (float)isn;
			ni[0] += (float)(!fin && !isn);
		}
		for (int j = 0; j < LANES; j++) {
			a->se += se[j];
			a->ae += ae[j];
			a->err += er[j];
			a->sx2 += x2[j];
			a->sy2 += y2[j];
			a->sxy += xy[j];
			a->maxae = mx[j] > a->maxae ? mx[j] : a->maxae;
			a->nan += (int64_t)nn[j];
			a->inf += (int64_t)ni[j];
		}
	}
	a->count += (int64_t)n;
}

void qs_acc_finish(const qs_acc *a, qs_metrics *m)
{
	memset(m, 0, sizeof *m);
	int64_t cnt = a->count - a->nan - a->inf;
	m->count = cnt;
	m->nan = a->nan;
	m->inf = a->inf;
	m->n_clipped = a->clipped;
	m->underflow = a->underflow;
	m->subnormal = a->subnormal;
	m->overflow = a->overflow;
	m->nan_out = a->nan_out;
	if (cnt <= 0) {
		m->mse = m->rmse = m->max_abs = m->mean_abs = m->bias = 0;
		m->sqnr_db = NAN;
		m->cosine = NAN;
		m->clipped = 0;
		return;
	}
	double dn = (double)cnt;
	m->mse = a->se / dn;
	m->rmse = sqrt(m->mse);
	m->max_abs = a->maxae;
	m->mean_abs = a->ae / dn;
	m->bias = a->err / dn;
	m->clipped = (double)a->clipped / dn;
	if (a->se == 0)
		m->sqnr_db = INFINITY; /* exact, even for an all-zero signal */
	else if (a->sx2 == 0)
		m->sqnr_db = -INFINITY;
	else
		m->sqnr_db = 10.0 * log10(a->sx2 / a->se);
	if (a->sx2 == 0 && a->sy2 == 0)
		m->cosine = 1.0;
	else if (a->sx2 == 0 || a->sy2 == 0)
		m->cosine = 0.0;
	else {
		double c = a->sxy / sqrt(a->sx2 * a->sy2);
		m->cosine = c > 1 ? 1 : c < -1 ? -1 : c;
	}
}

void qs_metrics_compute(const float *x, const float *y, size_t n,
			qs_metrics *out)
{
	size_t nchunks = (n + CHUNK - 1) / CHUNK;
	qs_acc total;
	qs_acc_init(&total);
	qs_acc *part = nchunks > 1 ? calloc(nchunks, sizeof *part) : NULL;
	if (!part) {
		qs_acc_add(&total, x, y, n);
	} else {
#pragma omp parallel for schedule(static)
		for (size_t c = 0; c < nchunks; c++) {
			size_t a = c * CHUNK, b = a + CHUNK < n ? a + CHUNK : n;
			qs_acc_add(&part[c], x + a, y + a, b - a);
		}
		for (size_t c = 0; c < nchunks; c++)
			qs_acc_merge(&total, &part[c]);
		free(part);
	}
	qs_acc_finish(&total, out);
}
