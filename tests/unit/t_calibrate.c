/* t_calibrate: the built-in calibration methods (min/max, EMA, exact
 * percentile, fixed range) and their parameter checks. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "engine/qs_engine.h"
#include "tap.h"

static qs_grid grid(int sym)
{
	qs_grid g;
	memset(&g, 0, sizeof g);
	g.bits = 8;
	g.symmetric = sym;
	g.qmin = -128;
	g.qmax = 127;
	return g;
}

int main(void)
{
	tap_plan(14);
	qs_error err;
	qs_calib c;
	float lo, hi;
	float x[10] = {-5, 1, 2, 3, 4, 5, 6, 7, 8, 100};
	qs_grid gs = grid(1), ga = grid(0);

	memset(&c, 0, sizeof c);
	c.method = QS_CALIB_MINMAX;
	ok(qs_calib_range(&c, x, 10, &gs, &lo, &hi, &err) == 0 && lo == -5 &&
		   hi == 100,
	   "minmax");
	float bad[4] = {NAN, INFINITY, -INFINITY, NAN};
	ok(qs_calib_range(&c, bad, 4, &gs, &lo, &hi, &err) == 0 && lo == 0 &&
		   hi == 0,
	   "all non-finite: range [0, 0]");
	ok(qs_calib_range(&c, x, 0, &gs, &lo, &hi, &err) == 0 && lo == 0 &&
		   hi == 0,
	   "empty: range [0, 0]");

	c.method = QS_CALIB_PERCENTILE;
	c.percentile = 90; /* k = floor(0.9 * 10 + 0.5) = 9: the 9th smallest */
	ok(qs_calib_range(&c, x, 10, &gs, &lo, &hi, &err) == 0 && lo == -8 &&
		   hi == 8,
	   "symmetric percentile 90: 9th smallest |x| = 8");
	ok(qs_calib_range(&c, x, 10, &ga, &lo, &hi, &err) == 0 && lo == -5 &&
		   hi == 8,
	   "asymmetric percentile 90: 1st and 9th smallest");
	c.percentile = 100;
	ok(qs_calib_range(&c, x, 10, &gs, &lo, &hi, &err) == 0 && hi == 100,
	   "percentile 100 is the max");
	float pos[3] = {1, 2, 3};
	c.percentile = 0;
	ok(qs_calib_range(&c, pos, 3, &gs, &lo, &hi, &err) == 0 && lo == 0 &&
		   hi == 3,
	   "default 99.99 on non-negative data: [0, max]");
	c.percentile = 101;
	ok(qs_calib_check(&c, &err) == QS_EINVAL &&
		   strstr(err.msg, "(0, 100]"),
	   "percentile out of range: %s", err.msg);

	/* PyTorch MovingAverageMinMaxObserver over 3 batches, c = 0.5 */
	float b[6] = {1, 2, 3, 10, -1, 5};
	c.method = QS_CALIB_EMA;
	c.percentile = 0;
	c.c = 0.5;
	c.batches = 3;
	ok(qs_calib_range(&c, b, 6, &ga, &lo, &hi, &err) == 0 && lo == 0.5f &&
		   hi == 5.5f,
	   "EMA: m += c (m_batch - m)");
	c.c = 2;
	ok(qs_calib_check(&c, &err) == QS_EINVAL, "EMA c out of (0, 1]");

	c.method = QS_CALIB_FIXED;
	c.c = 0;
	c.lo = -1.5;
	c.hi = 2;
	ok(qs_calib_range(&c, x, 10, &ga, &lo, &hi, &err) == 0 && lo == -1.5f &&
		   hi == 2,
	   "fixed range");
	c.lo = 3;
	ok(qs_calib_check(&c, &err) == QS_EINVAL, "fixed needs lo <= hi");
	qs_calib_method m;
	ok(qs_calib_parse("percentile", &m) == 0 && m == QS_CALIB_PERCENTILE &&
		   qs_calib_parse("nonsense", &m) < 0,
	   "parse names");
	ok(strstr(qs_calib_names(), "minmax") != NULL, "name list: %s",
	   qs_calib_names());
	return tap_done();
}
