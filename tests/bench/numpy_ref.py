#!/usr/bin/python3
"""The same computations as tests/bench/bench.c, in numpy, timed the same way
(best of N).  Prints 'name seconds' lines.  Inputs are generated with the
same formula so both sides do the same work."""
import sys
import time

import numpy as np

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1 << 24
i = np.arange(n, dtype=np.uint64)
# the same logistic values are not needed bit for bit: equal work is
u = (np.random.RandomState(1).random_sample(n) * (1 - 1e-12) + 5e-13)
x = (np.log(u / (1 - u)) * 0.5).astype(np.float32)
del i, u


def best(fn, reps=3):
    b = 1e30
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        b = min(b, time.perf_counter() - t0)
    return b


def fused(lo, hi):
    amax = np.float32(max(-min(lo, 0.0), max(hi, 0.0)))
    s = np.float32(amax / np.float32(127))
    r = np.rint(x / s)
    rc = np.clip(r, -128, 127)
    clipped = np.count_nonzero(rc != r)
    y = rc * s
    e = y - x
    return (float(np.dot(e, e)), float(np.abs(e).sum()), float(e.sum()),
            float(np.dot(x, x)), float(np.dot(y, y)), float(np.dot(x, y)),
            float(np.abs(e).max()), clipped)


def minmax_quantize():
    return fused(float(x.min()), float(x.max()))


print("numpy_int8_minmax_quantize_error %.6f" % best(minmax_quantize))
print("numpy_int8_fused_pass %.6f" % best(lambda: fused(-3.0, 3.0)))
