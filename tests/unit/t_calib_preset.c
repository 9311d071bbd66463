/* t_calib_preset: the toolkit presets against calibration_reference.txt:
 * PyTorch observers (section A, per-channel 4.5, HistogramObserver and
 * EMA scales), ONNX Runtime compute_scale_zp (D), NVIDIA amax scaling
 * (C), AIMET TF encodings (E), ggml Q8_0 block scales (G).  Scales and
 * zero points are closed formulas: bit-exact; fake-quant MSE is printed
 * with 7 digits: 1e-6 relative. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/calib.h"
#include "engine/preset.h"
#include "calib_util.h"

static const char *const dn[3] = {"normal", "laplace", "relu"};
static float *X[3];
static size_t N;
static float MN[3], MX[3];

/* mean squared fake-quant error of x under rules */
static double fq_mse(const qs_preset_rules *r, const float *x, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++) {
		double d = (double)qs_preset_fake(r, x[i]) - x[i];
		s += d * d;
	}
	return s / (double)n;
}

typedef struct row {
	int bits, uns, sym, narrow, reduce;
	float scale[3];
	int zp[3];
	double mse[3];
	const char *name;
} row;

/* Section A: PyTorch 1.13 MinMaxObserver variants. */
static const row torch_rows[] = {
	{8, 1, 0, 0, 0, {0x1.24254ap-5f, 0x1.60a5cap-4f, 0x1.1089bap-6f},
	 {136, 139, 0}, {1.057367e-04, 6.189130e-04, 1.156207e-05},
	 "quint8 per_tensor_affine"},
	{8, 0, 0, 0, 0, {0x1.24254ap-5f, 0x1.60a5cap-4f, 0x1.1089bap-6f},
	 {8, 11, -128}, {1.057367e-04, 6.189130e-04, 1.156207e-05},
	 "qint8 per_tensor_affine"},
	{8, 0, 1, 0, 0, {0x1.37c0d8p-5f, 0x1.7f1abcp-4f, 0x1.1089bap-5f},
	 {0, 0, 0}, {1.206108e-04, 7.304376e-04, 4.580948e-05},
	 "qint8 per_tensor_symmetric (amax / 127.5)"},
	{8, 1, 1, 0, 0, {0x1.37c0d8p-5f, 0x1.7f1abcp-4f, 0x1.1089bap-5f},
	 {128, 128, 128}, {1.206108e-04, 7.304376e-04, 4.580948e-05},
	 "quint8 per_tensor_symmetric (zp 128)"},
	{8, 1, 0, 0, 1, {0x1.254bbcp-4f, 0x1.620936p-3f, 0x1.119c68p-5f},
	 {68, 69, 0}, {4.272200e-04, 2.482676e-03, 4.615820e-05},
	 "quint8 affine reduce_range [0,127]"},
	{8, 0, 1, 0, 1, {0x1.38fb0ep-4f, 0x1.809cdcp-3f, 0x1.119c68p-4f},
	 {0, 0, 0}, {4.859815e-04, 2.917671e-03, 1.872369e-04},
	 "qint8 symmetric reduce_range [-64,63]"},
	{8, 0, 1, 1, 0, {0x1.38fb0ep-5f, 0x1.809cdcp-4f, 0x1.119c68p-5f},
	 {0, 0, 0}, {1.215973e-04, 7.359587e-04, 4.615820e-05},
	 "weight_observer_range_neg_127_to_127"},
	{4, 0, 1, 0, 0, {0x1.4b3ce6p-1f, 0x1.970c68p+0f, 0x1.219256p-1f},
	 {0, 0, 0}, {3.494643e-02, 1.959667e-01, 1.331641e-02},
	 "qint8 symmetric custom 4-bit [-8,7]"},
	{4, 1, 0, 0, 0, {0x1.36679ep-1f, 0x1.76b026p+0f, 0x1.219256p-2f},
	 {8, 8, 0}, {3.066613e-02, 1.678136e-01, 3.325042e-03},
	 "quint8 affine custom 4-bit [0,15]"},
};

/* Section D: ONNX Runtime compute_scale_zp on the MinMax ranges. */
static const row ort_rows[] = {
	{8, 1, 0, 0, 0, {0x1.24254ap-5f, 0x1.60a5cap-4f, 0x1.1089bap-6f},
	 {136, 139, 0}, {1.057367e-04, 6.189130e-04, 1.156207e-05}, "uint8"},
	{8, 0, 0, 0, 0, {0x1.24254ap-5f, 0x1.60a5cap-4f, 0x1.1089bap-6f},
	 {8, 11, -128}, {1.057367e-04, 6.189130e-04, 1.156207e-05}, "int8"},
	{8, 0, 1, 0, 0, {0x1.38fb0ep-5f, 0x1.809cdcp-4f, 0x1.119c68p-5f},
	 {0, 0, 0}, {1.215973e-04, 7.359587e-04, 4.615820e-05}, "int8_sym"},
	{8, 1, 1, 0, 0, {0x1.38fb0ep-5f, 0x1.809cdcp-4f, 0x1.119c68p-5f},
	 {127, 127, 127}, {1.215973e-04, 7.359587e-04, 4.615820e-05},
	 "uint8_sym [0,254]"},
	{8, 0, 0, 0, 1, {0x1.230124p-4f, 0x1.5f4524p-3f, 0x1.0f7930p-5f},
	 {4, 6, -64}, {4.204297e-04, 2.444724e-03, 4.560702e-05},
	 "int8_reduced [-64,64]"},
};

static void run_rows(int preset, const char *pn, const row *rows, int nr)
{
	for (int i = 0; i < nr; i++)
		for (int d = 0; d < 3; d++) {
			const row *w = &rows[i];
			float s, z;
			int64_t qn, qx;
			qs_preset_rules r;
			qs_status st = qs_preset_qparams(
				preset, MN[d], MX[d], w->bits, w->uns, w->sym,
				w->narrow, w->reduce, &s, &z, &qn, &qx, &r, NULL);
			is_ulps(s, w->scale[d], 0, "%s %s %s scale", pn, w->name,
				dn[d]);
			ok(st == 0 && z == (float)w->zp[d],
			   "%s %s %s zero point %g (want %d)", pn, w->name,
			   dn[d], z, w->zp[d]);
			is_rel(fq_mse(&r, X[d], N), w->mse[d], 1e-6,
			       "%s %s %s fake-quant mse", pn, w->name, dn[d]);
		}
}

static void test_torch_ranges(void)
{
	float s, z;
	int64_t qn, qx;
	qs_preset_qparams(QS_PRESET_TORCH, MN[0], MX[0], 8, 1, 0, 0, 1, &s,
			  &z, &qn, &qx, NULL, NULL);
	ok(qn == 0 && qx == 127, "torch quint8 reduce_range [0, 127]");
	qs_preset_qparams(QS_PRESET_TORCH, MN[0], MX[0], 8, 0, 1, 0, 1, &s,
			  &z, &qn, &qx, NULL, NULL);
	ok(qn == -64 && qx == 63, "torch qint8 reduce_range [-64, 63]");
	qs_preset_qparams(QS_PRESET_ONNXRUNTIME, MN[0], MX[0], 8, 0, 1, 0, 1,
			  &s, &z, &qn, &qx, NULL, NULL);
	ok(qn == -64 && qx == 64, "onnxruntime int8 reduce_range [-64, 64]");
	qs_preset_qparams(QS_PRESET_ONNXRUNTIME, MN[0], MX[0], 8, 1, 1, 0, 0,
			  &s, &z, &qn, &qx, NULL, NULL);
	ok(qn == 0 && qx == 254, "onnxruntime uint8 symmetric [0, 254]");
	/* the quint8 symmetric zero point with reduce_range stays 128 */
	qs_preset_qparams(QS_PRESET_TORCH, MN[0], MX[0], 8, 1, 1, 0, 1, &s,
			  &z, &qn, &qx, NULL, NULL);
	ok(z == 128 && qx == 127,
	   "torch quint8 symmetric reduce_range: zp 128 (PyTorch quirk)");
}

/* 4.5: per-channel on weight8x128 (rows of 128, ch_axis 0). */
static void test_per_channel(void)
{
	size_t n = 0;
	float *w = tc_load("weight8x128", &n);
	if (!w || n != 1024) {
		ok(0, "weight8x128 loads");
		free(w);
		return;
	}
	static const float sym[8] = {
		0x1.27c092p-10f, 0x1.66eabap-9f, 0x1.857898p-8f, 0x1.3623cep-7f,
		0x1.fcb02ep-6f,  0x1.aac3e0p-5f, 0x1.886a2ap-4f, 0x1.56586cp-3f};
	static const float aff[8] = {
		0x1.204d2ep-10f, 0x1.55e7e8p-9f, 0x1.758420p-8f, 0x1.22adaap-7f,
		0x1.a004e2p-6f,  0x1.88b4f0p-5f, 0x1.6043dcp-4f, 0x1.26c79cp-3f};
	static const int azp[8] = {131, 134, 122, 136, 99, 116, 142, 148};
	static const float nar[8] = {
		0x1.28eaa8p-10f, 0x1.685478p-9f, 0x1.870122p-8f, 0x1.375c62p-7f,
		0x1.feb0e0p-6f,  0x1.ac7200p-5f, 0x1.89f5acp-4f, 0x1.57b176p-3f};
	double e[3] = {0, 0, 0};
	int ex = 1;
	qs_calib mm;
	memset(&mm, 0, sizeof mm);
	mm.method = QS_CALIB_MINMAX;
	for (int c = 0; c < 8; c++) {
		float lo, hi, s, z;
		int64_t qn, qx;
		qs_preset_rules r[3];
		qs_calib_range(&mm, w + 128 * c, 128, NULL, &lo, &hi, NULL);
		qs_preset_qparams(QS_PRESET_TORCH, lo, hi, 8, 0, 1, 0, 0, &s,
				  &z, &qn, &qx, &r[0], NULL);
		ex &= s == sym[c] && z == 0;
		qs_preset_qparams(QS_PRESET_TORCH, lo, hi, 8, 1, 0, 0, 0, &s,
				  &z, &qn, &qx, &r[1], NULL);
		ex &= s == aff[c] && z == (float)azp[c];
		qs_preset_qparams(QS_PRESET_TORCH, lo, hi, 8, 0, 1, 1, 0, &s,
				  &z, &qn, &qx, &r[2], NULL);
		ex &= s == nar[c] && z == 0;
		for (int k = 0; k < 3; k++)
			for (int i = 0; i < 128; i++) {
				double d = (double)qs_preset_fake(
						   &r[k], w[128 * c + i]) -
					   w[128 * c + i];
				e[k] += d * d;
			}
	}
	ok(ex, "torch per-channel qint8 symmetric, quint8 affine (zp) and "
	       "[-127,127] scales of the 8 channels: bit-exact");
	is_rel(e[0] / 1024, 4.135223e-04, 1e-6, "per-channel symmetric mse");
	is_rel(e[1] / 1024, 3.057793e-04, 1e-6, "per-channel affine mse");
	is_rel(e[2] / 1024, 4.238736e-04, 1e-6, "per-channel [-127,127] mse");
	/* per-tensor on the same weight: the 5.6x granularity gap */
	float lo, hi, s, z;
	int64_t qn, qx;
	qs_preset_rules r;
	qs_calib_range(&mm, w, 1024, NULL, &lo, &hi, NULL);
	qs_preset_qparams(QS_PRESET_TORCH, lo, hi, 8, 0, 1, 0, 0, &s, &z, &qn,
			  &qx, &r, NULL);
	is_ulps(s, 0x1.56586cp-3f, 0, "per-tensor qint8 symmetric scale");
	is_rel(fq_mse(&r, w, 1024), 2.297461e-03, 1e-6, "per-tensor mse");
	free(w);
}

/* HistogramObserver modern (search range through PyTorch qparams) and
 * MovingAverageMinMaxObserver (10 chunks). */
static void test_torch_observers(void)
{
	static const float aff[3] = {0x1.1797b0p-5f, 0x1.57ddaap-4f,
				     0x1.e862ccp-7f};
	static const int azp[3] = {142, 142, 0};
	static const float sym[3] = {0x1.37c0d8p-5f, 0x1.7f1abcp-4f,
				     0x1.e862ccp-6f};
	static const float red[3] = {0x1.18b17ap-4f, 0x1.59383cp-3f,
				     0x1.ea4f08p-6f};
	static const int rzp[3] = {71, 71, 0};
	static const double amse[3] = {9.845616e-05, 5.886895e-04,
				       1.173842e-05};
	static const float ema[3] = {0x1.e670f2p-6f, 0x1.2cee1ep-4f,
				     0x1.e8942cp-7f};
	static const int ezp[3] = {127, 120, 0};
	for (int d = 0; d < 3; d++) {
		qs_calib c;
		memset(&c, 0, sizeof c);
		c.method = QS_CALIB_HIST_L2;
		qs_grid g;
		qs_grid_default(&g, 8, 1, 0, 0);
		float lo, hi, s, z;
		int64_t qn, qx;
		qs_preset_rules r;
		qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
		qs_preset_qparams(QS_PRESET_TORCH, lo, hi, 8, 1, 0, 0, 0, &s,
				  &z, &qn, &qx, &r, NULL);
		is_ulps(s, aff[d], 1, "%s HistogramObserver quint8 scale",
			dn[d]);
		ok(z == (float)azp[d], "%s HistogramObserver quint8 zp %g",
		   dn[d], z);
		is_rel(fq_mse(&r, X[d], N), amse[d], 1e-6,
		       "%s HistogramObserver quint8 mse", dn[d]);
		qs_preset_qparams(QS_PRESET_TORCH, lo, hi, 8, 0, 1, 0, 0, &s,
				  &z, &qn, &qx, NULL, NULL);
		is_ulps(s, sym[d], 1, "%s HistogramObserver qint8 sym scale",
			dn[d]);
		qs_preset_qparams(QS_PRESET_TORCH, lo, hi, 8, 1, 0, 0, 1, &s,
				  &z, &qn, &qx, NULL, NULL);
		is_ulps(s, red[d], 1,
			"%s default_histogram_observer [0,127] scale", dn[d]);
		ok(z == (float)rzp[d], "%s default_histogram_observer zp %g",
		   dn[d], z);
		c.method = QS_CALIB_EMA;
		c.batches = 10;
		qs_calib_range(&c, X[d], N, &g, &lo, &hi, NULL);
		qs_preset_qparams(QS_PRESET_TORCH, lo, hi, 8, 1, 0, 0, 0, &s,
				  &z, &qn, &qx, NULL, NULL);
		is_ulps(s, ema[d], 0, "%s MovingAverage quint8 scale", dn[d]);
		ok(z == (float)ezp[d], "%s MovingAverage zp %g", dn[d], z);
	}
}

/* ONNX Runtime on the entropy and percentile ranges of normal. */
static void test_ort_more(void)
{
	float s, z;
	int64_t qn, qx;
	const float el = -0x1.fd78ecp+1f, eh = 0x1.fe1430p+1f;
	qs_preset_qparams(QS_PRESET_ONNXRUNTIME, el, eh, 8, 1, 0, 0, 0, &s,
			  &z, &qn, &qx, NULL, NULL);
	ok(s == 0x1.ffc654p-6f && z == 127, "ORT entropy range uint8");
	qs_preset_qparams(QS_PRESET_ONNXRUNTIME, el, eh, 8, 0, 0, 0, 0, &s,
			  &z, &qn, &qx, NULL, NULL);
	ok(s == 0x1.ffc654p-6f && z == -1, "ORT entropy range int8, zp -1");
	qs_preset_qparams(QS_PRESET_ONNXRUNTIME, el, eh, 8, 0, 1, 0, 0, &s,
			  &z, &qn, &qx, NULL, NULL);
	ok(s == 0x1.010c30p-5f && z == 0, "ORT entropy range int8_sym");
	qs_preset_qparams(QS_PRESET_ONNXRUNTIME, el, eh, 8, 0, 0, 0, 1, &s,
			  &z, &qn, &qx, NULL, NULL);
	ok(s == 0x1.fdc68ep-5f && z == 0, "ORT entropy range int8_reduced");
	const float pl = -0x1.366246p+2f, ph = 0x1.0f7930p+2f;
	qs_preset_qparams(QS_PRESET_ONNXRUNTIME, pl, ph, 8, 1, 0, 0, 0, &s,
			  &z, &qn, &qx, NULL, NULL);
	ok(s == 0x1.2411cep-5f && z == 136, "ORT percentile range uint8");
	qs_preset_qparams(QS_PRESET_ONNXRUNTIME, pl, ph, 8, 0, 1, 0, 0, &s,
			  &z, &qn, &qx, NULL, NULL);
	ok(s == 0x1.38d3eep-5f && z == 0, "ORT percentile range int8_sym");
}

/* Section C: NVIDIA fake quantization with amax (narrow int8). */
static void test_nvidia(void)
{
	static const double mse[3][3] = {
		{1.215973e-04, 9.919927e-05, 9.644126e-05},
		{7.359587e-04, 5.237238e-04, 5.237576e-04},
		{4.615820e-05, 4.028623e-05, 3.972057e-05}};
	static const float am[3][3] = {
		{0x1.368918p+2f, 0x1.ed18b0p+1f, 0x1.002d38p+2f},
		{0x1.7d9ba2p+3f, 0x1.272660p+3f, 0x1.27cd54p+3f},
		{0x1.0f7930p+2f, 0x1.ed1b22p+1f, 0x1.e50524p+1f}};
	static const char *const mn[3] = {"max", "entropy", "mse"};
	for (int d = 0; d < 3; d++)
		for (int k = 0; k < 3; k++) {
			float s, z;
			int64_t qn, qx;
			qs_preset_rules r;
			qs_preset_qparams(QS_PRESET_TENSORRT, -am[d][k], am[d][k],
					  8, 0, 1, 1, 0, &s, &z, &qn, &qx, &r,
					  NULL);
			is_rel(fq_mse(&r, X[d], N), mse[d][k], 1e-6,
			       "%s NV %s amax: fake-quant mse", dn[d], mn[k]);
		}
	float s, z;
	int64_t qn, qx;
	qs_preset_rules r;
	qs_preset_qparams(QS_PRESET_TENSORRT, 0, 0x1.ed1b22p+1f, 8, 1, 1, 0, 0,
			  &s, &z, &qn, &qx, &r, NULL);
	is_rel(fq_mse(&r, X[2], N), 1.134015e-05, 1e-6,
	       "relu NV entropy unsigned (256 levels): mse");
	ok(qn == 0 && qx == 255 && r.inv_scale == 255.0f / 0x1.ed1b22p+1f,
	   "NV unsigned: [0, 255], scale 255 / amax in float32");
	qs_preset_qparams(QS_PRESET_TENSORRT, -1e-9f, 1e-9f, 8, 0, 1, 1, 0, &s,
			  &z, &qn, &qx, &r, NULL);
	ok(qs_preset_fake(&r, 1e-9f) == 0.0f,
	   "NV amax <= 2^-24 quantizes to zero");
}

/* Section E: AIMET libpymo TF encodings (f64, printed with 9 digits). */
static void test_aimet(void)
{
	static const double w[3][2][5] = {
		{{0.0356623107, -136, -4.85007426, 4.24381498, 1.057367e-04},
		 {0.0382056499, -128, -4.89032319, 4.85211754, 1.215973e-04}},
		{{0.086095608, -139, -11.9672895, 9.98709053, 6.189129e-04},
		 {0.0938995917, -128, -12.0191477, 11.9252481, 7.359586e-04}},
		{{0.0166343988, 0, 0, 4.2417717, 1.156207e-05},
		 {0.0166343988, 0, 0, 4.2417717, 1.156207e-05}}};
	for (int d = 0; d < 3; d++)
		for (int sy = 0; sy < 2; sy++) {
			float s, z;
			int64_t qn, qx;
			qs_preset_rules r;
			qs_preset_qparams(QS_PRESET_AIMET, MN[d], MX[d], 8, 0, sy,
					  0, 0, &s, &z, &qn, &qx, &r, NULL);
			const double *e = w[d][sy];
			const char *nm = sy ? "symmetric" : "asymmetric";
			is_rel(r.scale64, e[0], 2e-8, "%s AIMET TF %s delta",
			       dn[d], nm);
			ok(r.offset64 == e[1] && z == (float)-e[1] && qn == 0 &&
				   qx == 255,
			   "%s AIMET TF %s offset %g, codes 0..255", dn[d], nm,
			   r.offset64);
			is_rel(r.enc_min, e[2], 2e-8, "%s AIMET TF %s min",
			       dn[d], nm);
			is_rel(r.enc_max, e[3], 2e-8, "%s AIMET TF %s max",
			       dn[d], nm);
			is_rel(fq_mse(&r, X[d], N), e[4], 1e-6,
			       "%s AIMET TF %s mse", dn[d], nm);
		}
}

/* Section G: the first Q8_0 block of each input: d = amax / 127. */
static void test_ggml(void)
{
	static const float d32[3] = {0x1.495b14p-6f, 0x1.9ddbf6p-6f,
				     0x1.a5934cp-12f};
	static const float am[3] = {0x1.46c85ep+1f, 0x1.9aa03ep+1f,
				    0x1.a24826p-5f};
	static const char *const nm[3] = {"normal", "laplace", "normal*0.02"};
	for (int k = 0; k < 3; k++) {
		float b[32], a = 0;
		for (int i = 0; i < 32; i++) {
			b[i] = k == 2 ? X[0][i] * 0.02f : X[k][i];
			a = fabsf(b[i]) > a ? fabsf(b[i]) : a;
		}
		is_ulps(a, am[k], 0, "%s first block amax", nm[k]);
		float s, z;
		int64_t qn, qx;
		qs_preset_qparams(QS_PRESET_GGML, -a, a, 8, 0, 1, 1, 0, &s, &z,
				  &qn, &qx, NULL, NULL);
		is_ulps(s, d32[k], 0, "%s Q8_0 d = amax / 127", nm[k]);
	}
}

/* Section H: exact ties through each toolkit's rounding (scale 1). */
static void test_rounding(void)
{
	const float t[6] = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f};
	const int even[6] = {-2, -2, 0, 0, 2, 2}, away[6] = {-3, -2, -1,
							     1,  2,  3};
	qs_preset_rules rt, rg, rn;
	float s, z;
	int64_t qn, qx;
	qs_preset_qparams(QS_PRESET_TORCH, -127.5f, 127.5f, 8, 0, 1, 0, 0, &s,
			  &z, &qn, &qx, &rt, NULL);
	qs_preset_qparams(QS_PRESET_GGML, -127, 127, 8, 0, 1, 1, 0, &s, &z, &qn,
			  &qx, &rg, NULL);
	qs_preset_qparams(QS_PRESET_TENSORRT, -127, 127, 8, 0, 1, 1, 0, &s, &z,
			  &qn, &qx, &rn, NULL);
	int a = 1, b = 1, c = 1;
	for (int i = 0; i < 6; i++) {
		a &= qs_preset_quantize(&rt, t[i]) == even[i];
		b &= qs_preset_quantize(&rg, t[i]) == away[i];
		c &= qs_preset_quantize(&rn, t[i]) == even[i];
	}
	ok(rt.scale == 1.0f && a, "torch: nearbyint, ties to even");
	ok(rg.scale == 1.0f && b, "ggml Q8_0: roundf, ties away");
	ok(rn.inv_scale == 1.0f && c, "tensorrt: rint, ties to even");
	ok(rt.rounding == QS_ROUND_NEAREST && rg.rounding == QS_ROUND_AWAY &&
		   !rt.divide && !rg.divide,
	   "rules name the rounding and the reciprocal multiply");
}

static void test_errors(void)
{
	qs_error err;
	float s, z;
	int64_t qn, qx;
	ok(qs_preset_qparams(QS_PRESET_TENSORRT, -1, 1, 8, 0, 0, 0, 0, &s, &z,
			     &qn, &qx, NULL, &err) == QS_EINVAL &&
		   strstr(err.msg, "symmetric"),
	   "tensorrt asymmetric: %s", err.msg);
	ok(qs_preset_qparams(QS_PRESET_GGML, -1, 1, 8, 1, 1, 0, 0, &s, &z, &qn,
			     &qx, NULL, &err) == QS_EINVAL,
	   "ggml unsigned: %s", err.msg);
	ok(qs_preset_qparams(QS_PRESET_AIMET, -1, 1, 8, 0, 1, 0, 1, &s, &z, &qn,
			     &qx, NULL, &err) == QS_EINVAL &&
		   strstr(err.msg, "onnxruntime"),
	   "aimet reduce_range: %s", err.msg);
	ok(qs_preset_qparams(QS_PRESET_TORCH, -1, 1, 1, 0, 1, 0, 0, &s, &z, &qn,
			     &qx, NULL, &err) == QS_EINVAL &&
		   strstr(err.msg, "2..16"),
	   "bits 1: %s", err.msg);
	ok(qs_preset_qparams(0, -1, 1, 8, 0, 1, 0, 0, &s, &z, &qn, &qx, NULL,
			     &err) == QS_EINVAL &&
		   strstr(err.msg, "tensorrt"),
	   "preset none: %s", err.msg);
	/* degenerate ranges: defined parameters */
	int good = 1;
	for (int p = QS_PRESET_TORCH; p < QS_PRESET_COUNT; p++) {
		qs_status st = qs_preset_qparams(p, 0, 0, 8, 0, 1, 0, 0, &s, &z,
						 &qn, &qx, NULL, NULL);
		good &= st == 0 && isfinite(s) && isfinite(z) && qn < qx;
	}
	ok(good, "every preset: range [0, 0] gives finite parameters");
}

int main(void)
{
	X[0] = tc_load("normal", &N);
	size_t n2 = 0;
	X[1] = tc_load("laplace", &n2);
	if (!X[0] || !X[1] || n2 != N)
		skip_all("tests/data/calib inputs missing");
	X[2] = tc_relu(X[0], N);
	qs_calib mm;
	memset(&mm, 0, sizeof mm);
	mm.method = QS_CALIB_MINMAX;
	for (int d = 0; d < 3; d++)
		qs_calib_range(&mm, X[d], N, NULL, &MN[d], &MX[d], NULL);
	tap_plan(225);
	run_rows(QS_PRESET_TORCH, "torch", torch_rows,
		 (int)(sizeof torch_rows / sizeof *torch_rows));
	test_torch_ranges();
	test_per_channel();
	test_torch_observers();
	run_rows(QS_PRESET_ONNXRUNTIME, "onnxruntime", ort_rows,
		 (int)(sizeof ort_rows / sizeof *ort_rows));
	test_ort_more();
	test_nvidia();
	test_aimet();
	test_ggml();
	test_rounding();
	test_errors();
	tap_diag("%d of %d float comparisons bit-exact", tc_exact_, tc_ulp_);
	for (int d = 0; d < 3; d++)
		free(X[d]);
	return tap_done();
}
