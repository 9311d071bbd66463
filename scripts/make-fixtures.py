#!/usr/bin/python3
"""Test fixtures for qscope's Lua tests, made with numpy and PyTorch (run
with Debian's /usr/bin/python3, python3-numpy 1.24 and python3-torch 1.13,
from anywhere; the outputs go into the source tree):

  tests/data/npy/      .npy files: every dtype in both byte orders, C and
                       Fortran order, ranks 0 to 5, versions 1.0/2.0/3.0,
                       hand-written headers and broken files, with
                       fixtures.txt, what tests/lua/t_npy.lua expects of each
  tests/data/quant/    inputs and ref.txt, reference integer quantization
                       values for tests/lua/t_quant_ref.lua

Every good .npy file is read back with numpy.load and its expected values
are what numpy reads; every bad file must make numpy.load fail too.

The quantization references follow the conventions of docs/lua-api.md,
computed twice, with numpy and with torch tensor operations (float32
throughout, rounding half to even), which must agree bit for bit; the
asymmetric scales and zero points are also checked against PyTorch's
MinMaxObserver / PerChannelMinMaxObserver, and the codes against
torch.quantize_per_tensor / quantize_per_channel where PyTorch can express
the case.  Metrics are computed in float64 from the float32 dequantized
values.  Fixed seeds: the outputs are the same on every run."""
import os
import struct
import sys

import numpy as np
from numpy.lib import format as npf
import torch

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
NPY = os.path.join(TOP, "tests", "data", "npy")
QUANT = os.path.join(TOP, "tests", "data", "quant")
f32 = np.float32

NAMES = {"f2": "float16", "f4": "float32", "f8": "float64", "i1": "int8",
         "i2": "int16", "i4": "int32", "i8": "int64", "u1": "uint8",
         "u2": "uint16", "u4": "uint32", "u8": "uint64", "b1": "bool"}
ORDER_NAME = {"<": "le", ">": "be", "|": "na", "=": "ne"}


# ---------------------------------------------------------------------------
# .npy fixtures

def values(code, n, seed):
    """n values of dtype code: the extremes and special values first, then
    random ones (so that any reordering or byte swap shows)."""
    rng = np.random.RandomState(seed)
    if code == "b1":
        return rng.randint(0, 2, n).astype(bool)
    if code[0] in "iu":
        info = np.iinfo(np.dtype(code))
        head = [info.min, info.max, 0, 1]
        if code[0] == "i":
            head += [-1, info.min + 1]
        else:
            head += [info.max - 1, info.max // 2 + 1]
        rest = rng.randint(info.min // 2 if code[0] == "i" else 0,
                           max(info.max // 2, 1), size=n, dtype=np.dtype(code))
        a = np.array(head + list(rest), dtype=np.dtype(code))
        return a[:n]
    ft = np.dtype(code).type
    fi = np.finfo(ft)
    head = [ft(-0.0), ft(fi.max), ft(-fi.max), ft(fi.smallest_subnormal),
            ft(fi.tiny), ft(np.inf), ft(-np.inf), ft(np.nan), ft(1) / ft(3), ft(-2.5)]
    rest = (rng.normal(0, 100, n)).astype(ft)
    return np.concatenate([np.array(head, ft), rest])[:n]


def fmt_value(v, dtype):
    if dtype.kind == "b":
        return "true" if v else "false"
    if dtype.kind in "iu":
        return str(int(v))
    v = float(v)
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    return v.hex()


class Manifest:
    def __init__(self):
        self.lines = []
        self.names = set()

    def _name(self, name):
        assert name not in self.names, name
        self.names.add(name)
        return os.path.join(NPY, name)

    def good(self, name, data, expect=None):
        """Write bytes (or an array through write_array) and record what
        numpy reads from the file."""
        path = self._name(name)
        with open(path, "wb") as f:
            if isinstance(data, (bytes, bytearray)):
                f.write(data)
            else:
                arr, version = data
                npf.write_array(f, arr, version=version, allow_pickle=False)
        b = np.load(path, allow_pickle=False)
        if expect is not None:
            assert b.dtype == expect.dtype and b.shape == expect.shape, name
            assert np.array_equal(b, expect, equal_nan=b.dtype.kind == "f"), name
        kind = b.dtype.kind
        dname = NAMES[("b" if kind == "b" else kind) + str(b.dtype.itemsize)]
        vals = " ".join(fmt_value(v, b.dtype) for v in b.ravel(order="C"))
        shape = "[" + ",".join(str(d) for d in b.shape) + "]"
        self.lines.append(("ok %s %s %s %s" % (name, dname, shape, vals)).rstrip())

    def bad(self, name, data, problems, numpy_reads=False):
        """Write a broken file; numpy must refuse it as well (numpy_reads:
        numpy 1.24 is lenient here).  problems: substrings, one of which
        the error message must contain."""
        path = self._name(name)
        with open(path, "wb") as f:
            f.write(data)
        try:
            np.load(path, allow_pickle=False)
        except Exception:
            assert not numpy_reads, name
        else:
            assert numpy_reads, "numpy reads %s" % name
        self.lines.append("err %s %s" % (name, " | ".join(problems)))

    def write(self):
        with open(os.path.join(NPY, "fixtures.txt"), "w") as f:
            f.write("# made by scripts/make-fixtures.py (numpy %s); read by tests/lua/t_npy.lua\n"
                    % np.__version__)
            f.write("# ok FILE DTYPE [SHAPE] VALUES...   (C order; floats in C99 hex)\n")
            f.write("# err FILE PROBLEM | PROBLEM ...  (the message names FILE and one PROBLEM)\n")
            for line in self.lines:
                f.write(line + "\n")


def npy_bytes(header, data=b"", version=(1, 0), align=64, magic=b"\x93NUMPY", hlen=None):
    """A .npy file with a hand-written header: header is the dict text
    (without padding or newline), padded with spaces so that the data
    starts at a multiple of align (0 = no padding), ending in a newline."""
    pre = 10 if version[0] == 1 else 12
    h = header
    if align:
        h += " " * ((-(pre + len(h) + 1)) % align)
    h = (h + "\n").encode("utf-8" if version[0] >= 3 else "latin1")
    n = len(h) if hlen is None else hlen
    size = struct.pack("<H", n) if version[0] == 1 else struct.pack("<I", n)
    return magic + bytes(version) + size + h + data


def make_npy():
    os.makedirs(NPY, exist_ok=True)
    m = Manifest()
    seed = 100
    # every dtype and byte order, C and Fortran order, 2-D and 3-D
    for code in NAMES:
        orders = ("|",) if code in ("i1", "u1", "b1") else ("<", ">")
        for bo in orders:
            dt = np.dtype(bo + code if bo != "|" else code)
            tag = "%s_%s" % (code, ORDER_NAME[bo])
            for shape in ((2, 3), (2, 3, 4)):
                seed += 1
                n = int(np.prod(shape))
                a = values(code, n, seed).astype(dt).reshape(shape)
                s = "x".join(map(str, shape))
                m.good("%s_%s_c.npy" % (tag, s), (np.ascontiguousarray(a), (1, 0)), a)
                fa = np.asfortranarray(a)
                assert not fa.flags.c_contiguous
                m.good("%s_%s_f.npy" % (tag, s), (fa, (1, 0)), a)
        if code in ("i1", "u1", "b1"):
            # numpy writes '|' for one-byte types; '<' and '>' are legal too
            for bo in "<>":
                seed += 1
                a = values(code, 6, seed).reshape(2, 3)
                hdr = "{'descr': '%s%s', 'fortran_order': False, 'shape': (2, 3), }" % (bo, code)
                m.good("%s_%s_2x3_c.npy" % (code, ORDER_NAME[bo]), npy_bytes(hdr, a.tobytes()), a)
    # ranks 0, 1 and 5; empty tensors
    for code in ("f4", "f8", "i8", "u1", "b1", "f2"):
        seed += 1
        a = values(code, 1, seed)
        m.good("%s_0d.npy" % code, (a.reshape(()), (1, 0)), a.reshape(()))
    for code in ("f4", "i2", "u8"):
        seed += 1
        a = values(code, 3, seed)
        m.good("%s_3.npy" % code, (a, (1, 0)), a)
    m.good("f4_1x1x1x1x1.npy", (np.full((1, 1, 1, 1, 1), 2.75, f32), (1, 0)))
    m.good("f8_be_1x1x1x1x1.npy", (np.full((1, 1, 1, 1, 1), -1e300, ">f8"), (1, 0)))
    m.good("f4_empty_0.npy", (np.zeros((0,), f32), (1, 0)))
    m.good("i4_empty_2x0x3.npy", (np.zeros((2, 0, 3), "<i4"), (1, 0)))
    m.good("f8_empty_2x0x3_f.npy", npy_bytes(
        "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 0, 3), }"))
    # format versions 1.0, 2.0 and 3.0
    for ver in ((1, 0), (2, 0), (3, 0)):
        seed += 1
        a = values("f4", 24, seed).reshape(2, 3, 4)
        m.good("f4_2x3x4_v%d.npy" % ver[0], (a, ver), a)
        seed += 1
        b = np.asfortranarray(values("i2", 6, seed).astype(">i2").reshape(2, 3))
        m.good("i2_be_2x3_f_v%d.npy" % ver[0], (b, ver), b)
    # hand-written headers: key order, spacing, old padding, no padding
    seed += 1
    a = values("f4", 6, seed).astype("<f4").reshape(2, 3)
    d = a.tobytes()
    m.good("hdr_key_order.npy", npy_bytes(
        "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4', }", d), a)
    m.good("hdr_key_order2.npy", npy_bytes(
        "{'fortran_order': False, 'descr': '<f4', 'shape': (2, 3)}", d), a)
    m.good("hdr_spacing.npy", npy_bytes(
        "{  'descr' :'<f4' ,'fortran_order':False,\t'shape':( 2 ,3 ) ,}", d), a)
    m.good("hdr_double_quotes.npy", npy_bytes(
        '{"descr": "<f4", "fortran_order": False, "shape": (2, 3)}', d), a)
    m.good("hdr_pad16.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", d, align=16), a)
    m.good("hdr_nopad.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", d, align=0), a)
    m.good("hdr_nopad_odd.npy", npy_bytes(
        "{'descr':'<f4','fortran_order':False,'shape':(2,3)}", d, align=0), a)
    m.good("hdr_long_ints.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", d), a)
    m.good("hdr_native.npy", npy_bytes(
        "{'descr': '=f4', 'fortran_order': False, 'shape': (2, 3), }", d), a)
    m.good("hdr_v2_pad16.npy", npy_bytes(
        "{'shape': (2, 3), 'descr': '<f4', 'fortran_order': False}", d, version=(2, 0), align=16), a)
    seed += 1
    b = values("i4", 24, seed).astype(">i4").reshape(2, 3, 4)
    m.good("hdr_fortran_be.npy", npy_bytes(
        "{'fortran_order': True, 'shape': (2, 3, 4), 'descr': '>i4'}",
        np.asfortranarray(b).tobytes(order="F")), b)
    m.good("hdr_fortran_1d.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': True, 'shape': (6,), }", d), a.ravel())
    m.good("hdr_shape_1tuple.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (6, ), }", d), a.ravel())
    m.good("hdr_trailing_data.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", d + b"\0" * 8), a)

    # broken files
    h23 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    m.bad("bad_empty.npy", b"", ["0 bytes", "empty", "truncated", "too short"])
    m.bad("bad_magic.npy", b"\x93NUMPZ" + npy_bytes(h23, d)[6:], ["magic"])
    m.bad("bad_magic_text.npy", b"hello, world\n" * 10, ["magic"])
    m.bad("bad_short_prefix.npy", b"\x93NUMPY\x01", ["7 bytes", "truncated", "too short"])
    m.bad("bad_truncated_header.npy", npy_bytes(h23, d)[:40], ["truncated", "header"])
    m.bad("bad_header_beyond_file.npy", npy_bytes(h23, d, hlen=5000), ["truncated", "header"])
    m.bad("bad_truncated_data.npy", npy_bytes(h23, d[:20]), ["truncated", "need", "short"])
    m.bad("bad_shape_exceeds_file.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }", d),
        ["truncated", "need", "exceed", "short"])
    big = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + " " * 12000
    m.bad("bad_header_too_long.npy", npy_bytes(big, d, version=(2, 0)),
          ["10000", "too long", "too large", "header"])
    m.bad("bad_count_overflow.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", d),
        ["overflow", "too large", "too big"])
    m.bad("bad_count_overflow3.npy", npy_bytes(
        "{'descr': '<i1', 'fortran_order': False, 'shape': (3037000500, 3037000500, 2), }", d),
        ["overflow", "too large", "too big"])
    m.bad("bad_bytes_overflow.npy", npy_bytes(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }", d),
        ["overflow", "too large", "too big", "exceed", "truncated"])
    # numpy 1.24 reads this one as (2, 3) (fromfile's negative count reads
    # everything); a negative dimension is still not a shape
    m.bad("bad_negative_dim.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", d),
        ["shape", "negative", "dimension"], numpy_reads=True)
    m.bad("bad_shape_float.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3), }", d),
        ["shape", "dimension"])
    m.bad("bad_shape_not_tuple.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': 6, }", d), ["shape"])
    # object arrays are pickles: numpy itself only reads them with allow_pickle
    m.bad("bad_object.npy", npy_bytes(
        "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", b"\x80\x04N."),
        ["|O", "object", "pickle"])
    c8 = np.arange(4, dtype="<c8") * (1 + 2j)
    with open(os.path.join(NPY, "bad_complex.npy"), "wb") as f:
        npf.write_array(f, c8)
    assert np.array_equal(np.load(os.path.join(NPY, "bad_complex.npy")), c8)
    m.lines.append("err bad_complex.npy <c8 | complex")
    m.names.add("bad_complex.npy")
    with open(os.path.join(NPY, "bad_void.npy"), "wb") as f:
        npf.write_array(f, np.zeros(3, "V8"))
    m.lines.append("err bad_void.npy V8 | void")
    m.names.add("bad_void.npy")
    st = np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")])
    with open(os.path.join(NPY, "bad_structured.npy"), "wb") as f:
        npf.write_array(f, st)
    m.lines.append("err bad_structured.npy structured | record | field | descr")
    m.names.add("bad_structured.npy")
    m.bad("bad_dtype_f3.npy", npy_bytes(
        "{'descr': '<f3', 'fortran_order': False, 'shape': (2, 3), }", d),
        ["<f3", "dtype", "descr"])
    m.bad("bad_version_4.npy", npy_bytes(h23, d, version=(4, 0)), ["version"])
    m.bad("bad_version_0.npy", npy_bytes(h23, d, version=(0, 0)), ["version"])
    m.bad("bad_version_1_1.npy", npy_bytes(h23, d, version=(1, 1)), ["version"])
    m.bad("bad_not_dict.npy", npy_bytes("['descr', '<f4', 'fortran_order', False]", d),
          ["dict", "header"])
    m.bad("bad_not_dict_tuple.npy", npy_bytes("('<f4', False, (2, 3))", d), ["dict", "header"])
    m.bad("bad_unterminated.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", d),
          ["header", "parse", "syntax", "shape"])
    m.bad("bad_missing_key.npy", npy_bytes("{'descr': '<f4', 'shape': (2, 3), }", d),
          ["fortran_order", "key"])
    m.bad("bad_extra_key.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", d), ["extra", "key"])
    m.bad("bad_fortran_not_bool.npy", npy_bytes(
        "{'descr': '<f4', 'fortran_order': 1, 'shape': (2, 3), }", d), ["fortran_order"])
    m.write()
    return len(m.lines)


# ---------------------------------------------------------------------------
# quantization references

def fnv_words(words):
    """FNV-1a (64-bit) over 32-bit words (one step per word): the checksum
    t_quant_ref.lua recomputes with Lua's wrapping integers."""
    h = 0xcbf29ce484222325
    for w in words:
        h = ((h ^ int(w)) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def code_range(bits, unsigned, sym, narrow):
    if unsigned:
        return 0, 2 ** bits - 1
    pos = 2 ** (bits - 1) - 1
    return (-pos if (sym and narrow) else -pos - 1), pos


def param_index(shape, gran, axis, group):
    """For every element (C order) the index of its scale / zero point, and
    the shape of the parameter tensor (None for per-tensor)."""
    size = int(np.prod(shape))
    if gran == "tensor":
        return np.zeros(size, np.int64), None
    if gran == "channel":
        ax = axis % len(shape)
        return np.indices(shape)[ax].ravel(), (shape[ax],)
    last = shape[-1]
    ng = (last + group - 1) // group
    i = np.arange(size)
    return (i // last) * ng + (i % last) // group, tuple(shape[:-1]) + (ng,)


def qparams_np(lo, hi, bits, unsigned, sym, narrow):
    """numpy, float32 scalars: (scale, zero point) by the conventions."""
    qmin, qmax = code_range(bits, unsigned, sym, narrow)
    lo0 = lo if lo < f32(0) else f32(0)
    hi0 = hi if hi > f32(0) else f32(0)
    zp = 0
    if sym and unsigned:
        s = f32(hi0 / f32(2 ** bits - 1))
    elif sym:
        amax = -lo0 if -lo0 > hi0 else hi0
        s = f32(amax / f32(2 ** (bits - 1) - 1))
    else:
        s = f32(f32(hi0 - lo0) / f32(2 ** bits - 1))
    if not (np.isfinite(s) and s > 0):
        s = f32(1)
    if not sym:
        zp = int(qmin - np.rint(f32(lo0 / s)))
        zp = min(max(zp, qmin), qmax)
    return s, zp


def quant_numpy(x, spec):
    fmt = spec["format"]
    unsigned = fmt.startswith("uint")
    bits = int(fmt[4:] if unsigned else fmt[3:])
    sym = spec.get("scheme", "symmetric") == "symmetric"
    narrow = spec.get("narrow", False)
    gran = spec.get("granularity", "tensor")
    pidx, pshape = param_index(x.shape, gran, spec.get("axis", 0), spec.get("group"))
    flat = x.ravel()
    npar = int(pidx.max()) + 1 if flat.size else 1
    S = np.ones(npar, f32)
    Z = np.zeros(npar, np.int64)
    LO = np.zeros(npar, f32)
    HI = np.zeros(npar, f32)
    for k in range(npar):
        v = flat[pidx == k]
        v = v[np.isfinite(v)]
        if v.size:
            LO[k], HI[k] = v.min(), v.max()
        S[k], Z[k] = qparams_np(LO[k], HI[k], bits, unsigned, sym, narrow)
    qmin, qmax = code_range(bits, unsigned, sym, narrow)
    fin = np.isfinite(flat)
    xa = np.where(fin, flat, f32(0)).astype(f32)
    s, z = S[pidx], Z[pidx]
    r = np.rint((xa / s).astype(f32)).astype(np.int64) + z
    clipped = int(((r < qmin) | (r > qmax))[fin].sum())
    q = np.clip(r, qmin, qmax)
    # non-finite inputs take the zero point's code (docs/lua-api.md)
    q = np.where(fin, q, z)
    y = ((q - z).astype(f32) * s).astype(f32)
    return dict(S=S, Z=Z, LO=LO, HI=HI, q=q, y=y, fin=fin, clipped=clipped,
                pshape=pshape, qmin=qmin, qmax=qmax, bits=bits, sym=sym, pidx=pidx)


def quant_torch(x, spec):
    """The same conventions again with torch tensor operations."""
    fmt = spec["format"]
    unsigned = fmt.startswith("uint")
    bits = int(fmt[4:] if unsigned else fmt[3:])
    sym = spec.get("scheme", "symmetric") == "symmetric"
    narrow = spec.get("narrow", False)
    gran = spec.get("granularity", "tensor")
    qmin, qmax = code_range(bits, unsigned, sym, narrow)
    pidx, _ = param_index(x.shape, gran, spec.get("axis", 0), spec.get("group"))
    t = torch.from_numpy(x.ravel().copy())
    P = torch.from_numpy(pidx)
    npar = int(P.max()) + 1 if t.numel() else 1
    fin = torch.isfinite(t)
    lo = torch.zeros(npar)
    hi = torch.zeros(npar)
    for k in range(npar):
        v = t[(P == k) & fin]
        if v.numel():
            lo[k], hi[k] = torch.aminmax(v)
    zero = torch.zeros(npar)
    lo0, hi0 = torch.minimum(lo, zero), torch.maximum(hi, zero)
    if sym and unsigned:
        s = hi0 / float(2 ** bits - 1)
    elif sym:
        s = torch.maximum(-lo0, hi0) / float(2 ** (bits - 1) - 1)
    else:
        s = (hi0 - lo0) / float(2 ** bits - 1)
    s = torch.where(torch.isfinite(s) & (s > 0), s, torch.ones(npar))
    if sym:
        z = torch.zeros(npar)
    else:
        z = torch.clamp(qmin - torch.round(lo0 / s), qmin, qmax)
    se, ze = s[P], z[P]
    xa = torch.where(fin, t, torch.zeros(1))
    q = torch.clamp(torch.round(xa / se) + ze, qmin, qmax)
    q = torch.where(fin, q, ze)
    y = (q - ze) * se
    return s.numpy(), z.numpy(), q.numpy(), y.numpy()


def torch_crosscheck(x, spec, r):
    """PyTorch's own observers and quantizers, where they express the case:
    asymmetric min/max qparams (MinMaxObserver, PerChannelMinMaxObserver)
    and the codes of quantize_per_tensor / quantize_per_channel (which
    multiply by a float reciprocal: count differences, do not require
    none).  Returns a note."""
    from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver
    if r["sym"] or not np.all(r["fin"]) or r["bits"] > 16:
        return None
    gran = spec.get("granularity", "tensor")
    if gran == "group":
        return None
    qmin, qmax = r["qmin"], r["qmax"]
    dt = torch.quint8 if qmin >= 0 and qmax <= 255 else (
        torch.qint8 if qmin >= -128 and qmax <= 127 else torch.qint32)
    t = torch.from_numpy(x.copy())
    if gran == "tensor":
        ob = MinMaxObserver(dtype=dt, qscheme=torch.per_tensor_affine,
                            quant_min=qmin, quant_max=qmax)
    else:
        ob = PerChannelMinMaxObserver(ch_axis=spec.get("axis", 0) % x.ndim, dtype=dt,
                                      qscheme=torch.per_channel_affine,
                                      quant_min=qmin, quant_max=qmax)
    ob(t)
    s, z = ob.calculate_qparams()
    s = s.numpy().astype(f32).ravel()
    z = z.numpy().astype(np.int64).ravel()
    # the observer keeps scale >= eps instead of setting a zero range's to 1
    live = r["HI"] > r["LO"]
    assert np.array_equal(s[live], r["S"][live]) and np.array_equal(z[live], r["Z"][live]), \
        (spec, s, r["S"], z, r["Z"])
    if dt == torch.qint32 or not np.all(live):
        return "observer qparams agree"
    S = torch.from_numpy(r["S"].astype(np.float64))
    Z = torch.from_numpy(r["Z"])
    if gran == "tensor":
        qt = torch.quantize_per_tensor(t, float(S[0]), int(Z[0]), dt)
    else:
        qt = torch.quantize_per_channel(t, S, Z, spec.get("axis", 0) % x.ndim, dt)
    codes = qt.int_repr().numpy().astype(np.int64).ravel()
    codes = np.clip(codes, qmin, qmax)
    diff = int((codes != r["q"]).sum())
    return "observer qparams agree; torch.quantize codes differ in %d of %d" % (diff, codes.size)


def f32hex(v):
    v = float(v)
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    return v.hex()


def lua_spec(spec):
    out = []
    for k, v in spec.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        out.append("%s=%s" % (k, v))
    return " ".join(out)


def gen_tensor(n, cols):
    """The generated input (too big to ship): element i (0-based) is
    float32(((i * 7919) % 20011 - 10005) / 1000), times 8 when i % 9973 ==
    17.  t_quant_ref.lua builds the same values with qs.tensor."""
    i = np.arange(n, dtype=np.int64)
    v = ((i * 7919) % 20011 - 10005).astype(np.float64) / 1000.0
    v = np.where(i % 9973 == 17, v * 8.0, v)
    return v.astype(f32).reshape(-1, cols)


def make_quant():
    os.makedirs(QUANT, exist_ok=True)
    rng = np.random.RandomState(20261122)
    inputs = {}

    def save(name, a):
        a = np.ascontiguousarray(a, dtype=f32)
        np.save(os.path.join(QUANT, name + ".npy"), a)
        inputs[name] = a

    # Gaussian, each leading index at another scale
    save("w", rng.normal(0, 1, (4, 6, 5)) * np.array([0.05, 0.5, 1.0, 3.0])[:, None, None])
    o = rng.normal(0, 0.1, (8, 16))
    o[2, 7], o[5, 11], o[0, 0] = 4.0, -6.5, 3.25
    save("outliers", o)
    save("const", np.full((3, 4), 0.75))
    save("negconst", np.full((5,), -2.5))
    save("zero", np.zeros((2, 5)))
    save("pos", np.abs(rng.normal(0, 2, (6, 8))))
    save("neg", -np.abs(rng.normal(0, 2, (5, 7))))
    nf = rng.normal(0, 1, (4, 8)).astype(f32)
    nf[0, 3], nf[1, 0], nf[2, 7], nf[3, 3] = np.nan, np.inf, -np.inf, np.nan
    save("nonfinite", nf)
    nr = rng.normal(0, 1, (3, 4)).astype(f32)
    nr[1, :] = [np.nan, np.inf, -np.inf, np.nan]
    save("nanrow", nr)
    # exact ties of x / scale: amax 127 gives int8 scale 1, amax 7 int4 scale 1
    save("ties", [127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, -3.5, 126.5, -126.5,
                  100.5, -100.5, 64.5, -127, 0.49999997])
    save("ties7", [7, 0.5, 1.5, 2.5, 3.5, -0.5, -2.5, 6.5, -6.5, -7, 5.5, -4.5])
    save("small", rng.normal(0, 1, (3, 10)))
    inputs["gen"] = gen_tensor(7 * 10001, 10001)

    cases = []

    def case(name, inp, **spec):
        spec.setdefault("format", "int8")
        cases.append((name, inp, spec))

    for fmt in ("int8", "int4", "int2", "int16", "uint8", "uint4"):
        for scheme in ("symmetric", "asymmetric"):
            case("w-%s-%s" % (fmt, scheme[:4]), "w", format=fmt, scheme=scheme)
    for fmt in ("int8", "int4", "int2", "int3"):
        case("w-%s-narrow" % fmt, "w", format=fmt, narrow=True)
    case("w-int16-narrow", "outliers", format="int16", narrow=True)
    for axis in (0, 1, 2, -1):
        case("w-int4-chan-asym-ax%d" % axis, "w", format="int4", scheme="asymmetric",
             granularity="channel", axis=axis)
        case("w-int8-chan-sym-ax%d" % axis, "w", format="int8", granularity="channel", axis=axis)
    case("w-uint8-chan-asym-ax1", "w", format="uint8", scheme="asymmetric",
         granularity="channel", axis=1)
    case("w-int2-chan-narrow-ax2", "w", format="int2", narrow=True, granularity="channel", axis=2)
    case("w-uint4-chan-sym-ax0", "w", format="uint4", granularity="channel", axis=0)
    case("w-int4-group2", "w", format="int4", granularity="group", group=2)
    case("w-int8-group4-asym", "w", format="int8", scheme="asymmetric", granularity="group", group=4)
    case("w-uint4-group3-asym", "w", format="uint4", scheme="asymmetric", granularity="group", group=3)
    case("w-int6-group5", "w", format="int6", granularity="group", group=5)
    case("w-int4-group64", "w", format="int4", granularity="group", group=64)
    for fmt in ("int8", "int4", "uint8"):
        for scheme in ("symmetric", "asymmetric"):
            case("outliers-%s-%s" % (fmt, scheme[:4]), "outliers", format=fmt, scheme=scheme)
    case("outliers-int4-chan-ax1", "outliers", format="int4", granularity="channel", axis=1)
    case("outliers-int4-group5", "outliers", format="int4", granularity="group", group=5)
    case("outliers-int3-group5-asym", "outliers", format="int3", scheme="asymmetric",
         granularity="group", group=5)
    case("small-int4-group4", "small", format="int4", granularity="group", group=4)
    case("small-int5-group3-asym", "small", format="int5", scheme="asymmetric",
         granularity="group", group=3)
    case("small-int8-group7-narrow", "small", format="int8", narrow=True,
         granularity="group", group=7)
    for fmt in ("int8", "uint8", "int4"):
        for scheme in ("symmetric", "asymmetric"):
            case("const-%s-%s" % (fmt, scheme[:4]), "const", format=fmt, scheme=scheme)
            case("negconst-%s-%s" % (fmt, scheme[:4]), "negconst", format=fmt, scheme=scheme)
            case("zero-%s-%s" % (fmt, scheme[:4]), "zero", format=fmt, scheme=scheme)
    case("zero-int4-chan", "zero", format="int4", granularity="channel", axis=1)
    case("pos-uint4-sym", "pos", format="uint4")
    case("pos-int8-asym", "pos", format="int8", scheme="asymmetric")
    case("pos-uint8-asym-chan", "pos", format="uint8", scheme="asymmetric", granularity="channel")
    case("neg-uint8-sym", "neg", format="uint8")
    case("neg-int8-asym", "neg", format="int8", scheme="asymmetric")
    case("neg-uint4-asym", "neg", format="uint4", scheme="asymmetric")
    case("nonfinite-int8", "nonfinite", format="int8")
    case("nonfinite-uint8-asym", "nonfinite", format="uint8", scheme="asymmetric")
    case("nonfinite-int4-chan-ax1", "nonfinite", format="int4", granularity="channel", axis=1)
    case("nonfinite-int4-group3", "nonfinite", format="int4", granularity="group", group=3)
    case("nanrow-int8-chan", "nanrow", format="int8", granularity="channel", axis=0)
    case("nanrow-int4-asym-chan", "nanrow", format="int4", scheme="asymmetric", granularity="channel")
    case("nanrow-int8-group4", "nanrow", format="int8", granularity="group", group=4)
    case("ties-int8", "ties", format="int8")
    case("ties-int8-narrow", "ties", format="int8", narrow=True)
    case("ties-int8-chan", "ties", format="int8", granularity="channel")
    case("ties7-int4", "ties7", format="int4")
    case("ties7-int4-narrow", "ties7", format="int4", narrow=True)
    case("gen-int8", "gen", format="int8")
    case("gen-int4-asym", "gen", format="int4", scheme="asymmetric")
    case("gen-uint8-sym", "gen", format="uint8")
    case("gen-int4-chan-ax0", "gen", format="int4", granularity="channel", axis=0)
    case("gen-int4-group1000", "gen", format="int4", granularity="group", group=1000)
    case("gen-int8-group128-asym", "gen", format="int8", scheme="asymmetric", granularity="group", group=128)
    case("gen-int16-asym-chan-ax0", "gen", format="int16", scheme="asymmetric", granularity="channel")

    notes = []
    path = os.path.join(QUANT, "ref.txt")
    with open(path, "w") as out:
        out.write("# made by scripts/make-fixtures.py (numpy %s, torch %s); read by "
                  "tests/lua/t_quant_ref.lua\n" % (np.__version__, torch.__version__))
        out.write("# floats are float32 values in C99 hex; params in C order of the parameter "
                  "tensor; codes/dequant in C order;\n# 'full' lists every element, 'sum' gives "
                  "FNV-1a-64 over 32-bit words (int32 codes, float32 bits) and the code sum\n")
        for name, inp, spec in cases:
            x = inputs[inp]
            r = quant_numpy(x, spec)
            ts, tz, tq, ty = quant_torch(x, spec)
            assert np.array_equal(ts, r["S"]), (name, ts, r["S"])
            assert np.array_equal(tz.astype(np.int64), r["Z"]), name
            assert np.array_equal(tq.astype(np.int64), r["q"]), name
            assert np.array_equal(ty.view(np.uint32), r["y"].view(np.uint32)), name
            note = torch_crosscheck(x, spec, r)
            if note:
                notes.append("%s: %s" % (name, note))
            fin = r["fin"]
            xd = x.ravel()[fin].astype(np.float64)
            yd = r["y"][fin].astype(np.float64)
            e = yd - xd
            n = xd.size
            se, sx, sy = float(e @ e), float(xd @ xd), float(yd @ yd)
            sqnr = float("inf") if se == 0 else 10 * np.log10(sx / se)
            # one side all zero: 0, as torch.nn.functional.cosine_similarity
            if sx == 0 or sy == 0:
                cos = 1.0 if sx == sy else 0.0
            else:
                cos = float(xd @ yd) / np.sqrt(sx * sy)
            mse = se / n if n else 0.0
            out.write("case %s\n" % name)
            out.write("input %s\n" % ("gen" if inp == "gen" else inp + ".npy"))
            out.write("spec %s\n" % lua_spec(spec))
            out.write("shape %s\n" % ",".join(map(str, x.shape)))
            out.write("pshape %s\n" % ("-" if r["pshape"] is None else ",".join(map(str, r["pshape"]))))
            out.write("qrange %d %d\n" % (r["qmin"], r["qmax"]))
            npar = r["S"].size
            asym = not r["sym"]
            bits = r["bits"] + npar * (32 + (r["bits"] if asym else 0)) / x.size
            out.write("bits %r\n" % bits)
            for key, arr in (("scale", r["S"]), ("lo", r["LO"]), ("hi", r["HI"])):
                out.write("%s %s\n" % (key, " ".join(f32hex(v) for v in arr)))
            out.write("zero_point %s\n" % " ".join("%d" % v for v in r["Z"]))
            if x.size <= 256:
                out.write("codes full %s\n" % " ".join("%d" % v for v in r["q"]))
                out.write("dequant full %s\n" % " ".join(f32hex(v) for v in r["y"]))
            else:
                codes = r["q"].astype(np.int64)
                out.write("codes sum 0x%016x %d\n" % (fnv_words(codes & 0xFFFFFFFF), int(codes.sum())))
                out.write("dequant sum 0x%016x\n" % fnv_words(r["y"].view(np.uint32)))
            out.write("nan %d\ninf %d\n" % (int(np.isnan(x).sum()), int(np.isinf(x).sum())))
            for k, v in (("mse", mse), ("rmse", np.sqrt(mse)), ("sqnr_db", sqnr),
                         ("max_abs", float(np.abs(e).max()) if n else 0.0),
                         ("mean_abs", float(np.abs(e).mean()) if n else 0.0),
                         ("cosine", cos), ("clipped", r["clipped"] / n if n else 0.0)):
                out.write("%s %s\n" % (k, repr(float(v))))
            out.write("end\n")
    with open(os.path.join(QUANT, "README.md"), "w") as f:
        f.write("# Reference quantization values\n\n"
                "Made by `scripts/make-fixtures.py` (numpy %s, torch %s); checked by\n"
                "`tests/lua/t_quant_ref.lua`.  Inputs are the `.npy` files here, plus `gen`, a\n"
                "70007-element tensor the test builds from a formula (see `gen_tensor` in\n"
                "the script).  `ref.txt` holds %d cases: spec, scales, zero points, the\n"
                "calibrated range, every code and dequantized value (float32 hex) or a\n"
                "checksum for the big input, and the metrics in float64.\n\n"
                "Cross-checks run by the script (not needed by the tests):\n\n"
                % (np.__version__, torch.__version__, len(cases)))
        for note in notes:
            f.write("* %s\n" % note)
    return len(cases), notes


if __name__ == "__main__":
    what = sys.argv[1:] or ["npy", "quant"]
    if "npy" in what:
        print("tests/data/npy: %d fixtures" % make_npy())
    if "quant" in what:
        n, notes = make_quant()
        print("tests/data/quant: %d cases" % n)
        for note in notes:
            print("  " + note)
