#!/usr/bin/python3
"""Make the sample tensors in samples/ (run from the top of the tree with
Debian's python3-numpy).  Fixed seeds: the files are the same on every run.
See samples/README.md for what each one shows."""
import os

import numpy as np

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples")
rng = np.random.RandomState(20261122)


def save(name, a):
    a = np.ascontiguousarray(a, dtype=np.float32)
    np.save(os.path.join(out, name), a)
    print(name, a.shape, a.dtype, "%.4g..%.4g" % (a.min(), a.max()))


# conv weight (out 32, in 16, 3x3): per-output-channel scales spread over
# two decades, as after batch-norm folding
scales = np.exp(rng.uniform(np.log(0.01), np.log(1.0), size=(32, 1, 1, 1)))
save("conv_weight.npy", rng.normal(0, 1, (32, 16, 3, 3)) * scales)

# linear weight (256 x 512): Gaussian, with 4 outlier input columns 20x wider
w = rng.normal(0, 0.02, (256, 512))
cols = rng.choice(512, 4, replace=False)
w[:, cols] *= 20
save("linear_weight.npy", w)

# post-ReLU activation (8, 64, 14, 14): half zeros, long right tail
pre = rng.standard_t(4, (8, 64, 14, 14)) * 0.8
save("relu_activation.npy", np.maximum(pre, 0))

# 1-D vectors for the basics
save("gaussian.npy", rng.normal(0, 1, 65536))
save("laplace.npy", rng.laplace(0, 1, 65536))
