#!/usr/bin/python3
# Makes the tensors of the workbench tests (tests/tui/*.sh).  Run from this
# directory with Debian's numpy.
#   a.npy: 4096 normal values (float32), a tensor with a plain histogram
#   b.npy: 8 x 32 weights whose channel 5 is 20 times wider (an outlier
#          channel, worst under one per-tensor scale)
import numpy as np

r = np.random.RandomState(7)
np.save("a.npy", r.normal(0, 1, 4096).astype(np.float32))
b = r.normal(0, 0.1, (8, 32))
b[5] *= 20
np.save("b.npy", b.astype(np.float32))
