/* qs_engine.h: the whole engine API in one include.  The engine is pure
 * C11 + libm (+ OpenMP): tensors and their file formats, number formats,
 * calibration, rounding, metrics and histograms; no UI, Lua or gnuplot. */
#ifndef QS_ENGINE_QS_ENGINE_H
#define QS_ENGINE_QS_ENGINE_H

#include "block.h"
#include "calib.h"
#include "codebook.h"
#include "file.h"
#include "fixed.h"
#include "fp.h"
#include "hist.h"
#include "matmul.h"
#include "metrics.h"
#include "npy.h"
#include "observer.h"
#include "parallel.h"
#include "preset.h"
#include "qs_error.h"
#include "quant.h"
#include "round.h"
#include "tensor.h"

#endif
