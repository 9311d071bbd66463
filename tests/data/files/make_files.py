#!/usr/bin/python3
"""Make the checkpoint test files of tests/data/files/ and their manifest.

Run from anywhere with /usr/bin/python3 (numpy 1.24, torch 1.13):
    /usr/bin/python3 tests/data/files/make_files.py
The suite reads only the files written here, never Python.

manifest.txt lines: FILE TENSOR DTYPE (SHAPE) VALUES...  -- every value of
the tensor in C order as numpy / torch print it with repr() (float32 and
float64 exactly; bfloat16 via torch; float8 from the reference vectors).

float8 codes and values: the 'nonsat' columns of the [float8_e4m3fn] and
[float8_e5m2] sections of the reference vectors formats_vectors.txt
(an exact reference implementation verified against ml_dtypes), copied
into F8_CODES below.
"""
import json
import os
import struct
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
manifest = []

# (code, value) pairs from formats_vectors.txt, nonsat_bits/nonsat_value
F8_CODES = {
    "F8_E4M3": [(0x00, "0.0"), (0x80, "-0.0"), (0x01, "0.001953125"),
                (0x81, "-0.001953125"), (0x07, "0.013671875"),
                (0x08, "0.015625"), (0x38, "1.0"), (0xB8, "-1.0"),
                (0x3A, "1.25"), (0x39, "1.125"), (0x2A, "0.3125"),
                (0xC3, "-2.75"), (0x7E, "448.0"), (0xFE, "-448.0"),
                (0x7F, "nan"), (0xFF, "nan")],
    "F8_E5M2": [(0x00, "0.0"), (0x80, "-0.0"), (0x01, "1.52587890625e-05"),
                (0x81, "-1.52587890625e-05"), (0x03, "4.57763671875e-05"),
                (0x04, "6.103515625e-05"), (0x3C, "1.0"), (0xBC, "-1.0"),
                (0x3E, "1.5"), (0x3D, "1.25"), (0x35, "0.3125"),
                (0xC1, "-2.5"), (0x7B, "57344.0"), (0xFB, "-57344.0"),
                (0x7C, "inf"), (0xFC, "-inf"), (0x7E, "nan"), (0xFE, "nan")],
}


def vals(a):
    a = np.asarray(a)
    if a.dtype == np.bool_:
        return [str(int(x)) for x in a.ravel()]
    if a.dtype.kind == "f":
        return [repr(float(x)) for x in a.ravel()]
    return [str(int(x)) for x in a.ravel()]


def record(fname, tname, dtype, shape, values):
    manifest.append("%s %s %s (%s) %s" % (fname, tname, dtype,
                                           ",".join(str(d) for d in shape),
                                           " ".join(values)))


def safetensors(fname, tensors, meta=None, align=True, order=None):
    """tensors: name -> (DTYPE, shape, raw bytes).  align: pad the header
    to 8 bytes as the reference writer does."""
    hdr, blobs, off = {}, [], 0
    if meta is not None:
        hdr["__metadata__"] = meta
    for name in (order or tensors):
        dt, shape, raw = tensors[name]
        hdr[name] = {"dtype": dt, "shape": list(shape),
                     "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    h = json.dumps(hdr, separators=(",", ":")).encode()
    if align:
        h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(HERE, fname), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ---- every safetensors dtype -------------------------------------------
rng = np.random.RandomState(7)
st = {}
spec = [("F64", np.float64), ("F32", np.float32), ("F16", np.float16),
        ("I8", np.int8), ("I16", np.int16), ("I32", np.int32),
        ("I64", np.int64), ("U8", np.uint8), ("U16", np.uint16),
        ("U32", np.uint32), ("U64", np.uint64)]
qsname = {"F64": "float64", "F32": "float32", "F16": "float16",
          "BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn",
          "F8_E5M2": "float8_e5m2", "I8": "int8", "I16": "int16",
          "I32": "int32", "I64": "int64", "U8": "uint8", "U16": "uint16",
          "U32": "uint32", "U64": "uint64", "BOOL": "bool"}
for dt, npdt in spec:
    if npdt in (np.float64, np.float32, np.float16):
        a = (rng.standard_normal((2, 3)) * 100).astype(npdt)
        a.ravel()[0] = np.inf
        a.ravel()[1] = -0.0
        a.ravel()[2] = np.nan
    else:
        info = np.iinfo(npdt)
        a = np.array([[info.min, info.max, 0], [1, -1 if info.min < 0 else 2, 7]],
                     dtype=npdt)
    st[dt.lower()] = (dt, a.shape, a.astype(a.dtype.newbyteorder("<")).tobytes())
    record("dtypes.safetensors", dt.lower(), qsname[dt], a.shape, vals(a))
b = torch.tensor([[1.0, -2.5, 3.140625], [0.0, -0.0, 65280.0],
                  [float("inf"), float("-inf"), 1e-40]], dtype=torch.bfloat16)
st["bf16"] = ("BF16", tuple(b.shape), b.view(torch.int16).numpy().astype("<i2").tobytes())
record("dtypes.safetensors", "bf16", "bfloat16", b.shape,
       vals(b.float().numpy()))
for dt in ("F8_E4M3", "F8_E5M2"):
    codes = F8_CODES[dt]
    st[dt.lower()] = (dt, (len(codes),), bytes(c for c, _ in codes))
    record("dtypes.safetensors", dt.lower(), qsname[dt], (len(codes),),
           [v for _, v in codes])
bo = np.array([True, False, True, True])
st["bool"] = ("BOOL", bo.shape, bo.tobytes())
record("dtypes.safetensors", "bool", "bool", bo.shape, vals(bo))
safetensors("dtypes.safetensors", st, meta={"format": "pt", "source": "make_files.py"})

# ---- layouts: unaligned data, 0-d, empty, a larger matrix ----------------
w = (np.arange(6 * 8, dtype=np.float32) - 20).reshape(6, 8) / 4
lay = {
    "w": ("F32", w.shape, w.tobytes()),
    "odd": ("U8", (3,), bytes([1, 2, 3])),           # leaves the next one unaligned
    "unaligned": ("F32", (2, 2), np.array([[1.5, -2], [3, 4.25]], np.float32).tobytes()),
    "scalar": ("F64", (), np.array(2.5).tobytes()),
    "empty": ("F32", (0, 4), b""),
}
safetensors("layout.safetensors", lay, order=["w", "odd", "unaligned", "scalar", "empty"])
record("layout.safetensors", "w", "float32", w.shape, vals(w))
record("layout.safetensors", "odd", "uint8", (3,), ["1", "2", "3"])
record("layout.safetensors", "unaligned", "float32", (2, 2), ["1.5", "-2.0", "3.0", "4.25"])
record("layout.safetensors", "scalar", "float64", (), ["2.5"])
record("layout.safetensors", "empty", "float32", (0, 4), [])

# ---- a sharded checkpoint ---------------------------------------------------
os.makedirs(os.path.join(HERE, "sharded"), exist_ok=True)
layers = {}
wmap = {}
for i in range(12):   # natural order: layers.2 before layers.10
    t = (np.arange(4 * 3, dtype=np.float32).reshape(4, 3) + 100 * i)
    name = "model.layers.%d.weight" % i
    shard = "model-%05d-of-00002.safetensors" % (1 + i % 2)
    layers.setdefault(shard, {})[name] = ("F32", t.shape, t.tobytes())
    wmap[name] = shard
    record("sharded/model.safetensors.index.json", name, "float32", t.shape, vals(t))
emb = torch.arange(10 * 4, dtype=torch.float32).reshape(10, 4).to(torch.bfloat16)
layers["model-00001-of-00002.safetensors"]["embed"] = (
    "BF16", tuple(emb.shape), emb.view(torch.int16).numpy().astype("<i2").tobytes())
wmap["embed"] = "model-00001-of-00002.safetensors"
record("sharded/model.safetensors.index.json", "embed", "bfloat16", emb.shape,
       vals(emb.float().numpy()))
for shard, ts in layers.items():
    safetensors(os.path.join("sharded", shard), ts, meta={"format": "pt"})
with open(os.path.join(HERE, "sharded", "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": 12 * 48 + 80}, "weight_map": wmap}, f, indent=2)

# ---- .npz: stored and deflated, Fortran order, big-endian, bool, 0-d ------
a = np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5
f = np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4))
be = np.arange(-3, 3, dtype=">i2")
bo = np.array([[True, False], [False, True]])
z = np.float32(7.25)
np.savez(os.path.join(HERE, "arrays.npz"), a=a, f=f, be=be, bo=bo, z=z)
np.savez_compressed(os.path.join(HERE, "arrays_deflated.npz"), a=a, f=f, be=be, bo=bo, z=z)
for fn in ("arrays.npz", "arrays_deflated.npz"):
    record(fn, "a", "float32", a.shape, vals(a))
    record(fn, "f", "float64", f.shape, vals(f))
    record(fn, "be", "int16", be.shape, vals(be))
    record(fn, "bo", "bool", bo.shape, vals(bo))
    record(fn, "z", "float32", (), vals(z))

# ---- a zip bomb: 64 MiB of zeros deflated to about 64 KiB ------------------
bomb = np.zeros((4096, 4096), dtype=np.float32)
np.savez_compressed(os.path.join(HERE, "bomb.npz"), zeros=bomb)

# ---- hostile .npz members ------------------------------------------------
def npy_bytes(descr, shape, data=b""):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    h = h.encode() + b" " * ((-(len(h) + 11)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data


# a header declaring 10^15 float32 elements, no data behind it
with zipfile.ZipFile(os.path.join(HERE, "huge_decl.npz"), "w", zipfile.ZIP_DEFLATED) as zf:
    zf.writestr("x.npy", npy_bytes("<f4", (10**15,)))
# a member whose zip directory claims 3 GiB uncompressed for a 4 KiB stream
with zipfile.ZipFile(os.path.join(HERE, "lying.npz"), "w", zipfile.ZIP_DEFLATED) as zf:
    zf.writestr("x.npy", npy_bytes("<f4", (768 * 1024 * 1024 - 64,), bytes(4096)))
raw = bytearray(open(os.path.join(HERE, "lying.npz"), "rb").read())
claim = struct.pack("<I", 3 << 30)
cd = raw.rfind(b"PK\x01\x02")
raw[cd + 24:cd + 28] = claim          # central directory: uncompressed size
raw[22:26] = claim                    # local header: uncompressed size
open(os.path.join(HERE, "lying.npz"), "wb").write(bytes(raw))
# a deflated member whose stream is damaged after its header
v = np.arange(4096, dtype=np.float32)
np.savez_compressed(os.path.join(HERE, "corrupt.npz"), v=v)
raw = bytearray(open(os.path.join(HERE, "corrupt.npz"), "rb").read())
cd = raw.rfind(b"PK\x01\x02")
csize = struct.unpack("<I", raw[cd + 20:cd + 24])[0]
nlen, xlen = struct.unpack("<HH", raw[26:30])
start = 30 + nlen + xlen
for k in range(start + csize // 2, start + csize // 2 + 64):
    raw[k] ^= 0x5A
open(os.path.join(HERE, "corrupt.npz"), "wb").write(bytes(raw))

# ---- GGUF v3: F32, F16, BF16, I32 and a Q8_0 tensor (listed only) ---------
def gstr(s):
    s = s.encode()
    return struct.pack("<Q", len(s)) + s


def gguf(fname, kvs, tensors, align=32):
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += gstr(k) + struct.pack("<I", t) + v
    off, blobs = 0, []
    for name, gtype, shape, raw in tensors:
        out += gstr(name) + struct.pack("<I", len(shape))
        out += b"".join(struct.pack("<Q", d) for d in reversed(shape))
        out += struct.pack("<IQ", gtype, off)
        pad = (-len(raw)) % align
        blobs.append(raw + b"\0" * pad)
        off += len(raw) + pad
    out += b"\0" * ((-len(out)) % align)
    with open(os.path.join(HERE, fname), "wb") as fh:
        fh.write(out + b"".join(blobs))


g32 = (np.arange(2 * 5, dtype=np.float32).reshape(2, 5) - 3) / 8
g16 = np.array([[1, -2, 0.5], [65504, -0.0, 6e-8]], dtype=np.float16)
gbf = torch.tensor([1.5, -3.0, 1e10], dtype=torch.bfloat16)
gi = np.array([[-7, 8], [9, -10], [11, 12]], dtype=np.int32)
kvs = [("general.architecture", 8, gstr("llama")),
       ("general.name", 8, gstr("qscope test")),
       ("general.alignment", 4, struct.pack("<I", 32)),
       ("llama.block_count", 4, struct.pack("<I", 1)),
       ("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 2) + gstr("a") + gstr("b")),
       ("test.scores", 9, struct.pack("<IQ", 6, 3) + struct.pack("<3f", 1, 2, 3)),
       ("test.f32", 6, struct.pack("<f", 0.25)),
       ("test.flag", 7, b"\x01")]
q8 = struct.pack("<e", 0.5) + bytes(range(32))   # one Q8_0 block
gguf("model.gguf", kvs, [
    ("w", 0, g32.shape, g32.tobytes()),
    ("h", 1, g16.shape, g16.tobytes()),
    ("bf", 30, tuple(gbf.shape), gbf.view(torch.int16).numpy().tobytes()),
    ("i", 26, gi.shape, gi.tobytes()),
    ("q", 8, (32,), q8),
])
record("model.gguf", "w", "float32", g32.shape, vals(g32))
record("model.gguf", "h", "float16", g16.shape, vals(g16))
record("model.gguf", "bf", "bfloat16", gbf.shape, vals(gbf.float().numpy()))
record("model.gguf", "i", "int32", gi.shape, vals(gi))

with open(os.path.join(HERE, "manifest.txt"), "w") as fh:
    fh.write("\n".join(manifest) + "\n")
print("wrote", len(manifest), "manifest lines")
