#!/usr/bin/python3
# Makes w.npy, the small weight (16 x 64, rows with log-normal scales) used
# by tests/cli/t_cli.sh.  Run from this directory with Debian's numpy.
import numpy as np

r = np.random.RandomState(3)
w = (r.normal(0, 1, (16, 64)) * np.exp(r.normal(0, 1, (16, 1)))).astype(np.float32)
np.save("w.npy", w)
