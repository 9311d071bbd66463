#!/usr/bin/python3
"""Writes .npy files with numpy for every dtype, byte order, memory order and
format version qscope reads, plus manifest.txt: for each file its dtype
name, shape and every value (as numpy reads them, in C order).  Run here
with Debian's python3-numpy; tests/lua/t_npy_numpy.lua checks them."""
import numpy as np
from numpy.lib import format as npf

rng = np.random.RandomState(11)
names = {"f2": "float16", "f4": "float32", "f8": "float64", "i1": "int8",
         "i2": "int16", "i4": "int32", "i8": "int64", "u1": "uint8",
         "u2": "uint16", "u4": "uint32", "u8": "uint64", "b1": "bool"}
out = open("manifest.txt", "w")


def write(fname, a, version=(1, 0)):
    with open(fname, "wb") as f:
        npf.write_array(f, a, version=version)
    b = np.load(fname)
    vals = b.ravel(order="C")
    if b.dtype.kind == "f":
        txt = " ".join(float(v).hex() if np.isfinite(v) else str(float(v)) for v in vals)
    else:
        txt = " ".join(str(int(v)) for v in vals)
    shape = ",".join(str(d) for d in b.shape)
    out.write("%s %s (%s) %s\n" % (fname, names[b.dtype.str[1:]], shape, txt))


for code in names:
    for order in ("<", ">") if code not in ("i1", "u1", "b1") else ("|",):
        dt = np.dtype(order + code)
        if code == "b1":
            a = rng.rand(3, 4) > 0.5
        elif code[0] == "f":
            a = (rng.normal(0, 100, (3, 4))).astype(dt)
            a.flat[0] = -0.0
        else:
            info = np.iinfo(dt)
            a = rng.randint(max(info.min, -2**62), min(info.max, 2**62), (3, 4), dtype=np.int64).astype(dt)
            a.flat[0], a.flat[1] = info.min, info.max
        a = a.astype(dt)
        tag = {"<": "le", ">": "be", "|": "na"}[order]
        write("%s_%s.npy" % (code, tag), a)
        write("%s_%s_fortran.npy" % (code, tag), np.asfortranarray(a))
# ranks and shapes, Fortran order of rank 3, versions 2.0 and 3.0
write("scalar.npy", np.array(3.25, np.float32))
write("empty.npy", np.zeros((0,), np.float32))
write("empty2.npy", np.zeros((3, 0), np.float64))
write("ones5.npy", np.ones((1, 1, 1, 1, 1), np.int16))
write("f4_3d_fortran.npy", np.asfortranarray(rng.normal(0, 1, (2, 3, 4)).astype(np.float32)))
write("f8_be_3d_fortran.npy", np.asfortranarray(rng.normal(0, 1, (2, 3, 4)).astype(">f8")))
write("v2.npy", rng.normal(0, 1, (5,)).astype(np.float32), version=(2, 0))
write("v3.npy", rng.normal(0, 1, (2, 2)).astype(np.float32), version=(3, 0))
special = np.array([np.nan, np.inf, -np.inf, 1e-45, -0.0, 65504], np.float32)
write("special.npy", special)
write("special_f2.npy", special.astype(np.float16))
out.close()
