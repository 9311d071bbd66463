#!/usr/bin/python3
"""Reference values for tests/lua/t_reference.lua, computed independently
with numpy from the documented conventions (docs/lua-api.md): float32
scales and zero points, q = clip(rint(x / s) + z, qmin, qmax) (numpy's rint
rounds half to even), x~ = (q - z) * s, metrics in float64 over the finite
values.  Run here with Debian's python3-numpy; writes *.npy and ref.txt."""
import numpy as np

f32 = np.float32
rng = np.random.RandomState(7)


def save(name, a):
    np.save(name, np.ascontiguousarray(a, dtype=f32))
    return name


x = (rng.normal(0, 1, (3, 5, 7)) * np.exp(rng.normal(0, 1, (3, 1, 1)))).astype(f32)
x[1, 2, 3] = 6.5  # an outlier
inputs = {
    "x": save("x.npy", x),
    "xnan": None,
    "zero": save("zero.npy", np.zeros((4, 6), f32)),
    "const": save("const.npy", np.full((2, 9), -0.75, f32)),
    "pos": save("pos.npy", np.abs(rng.normal(0, 2, (6, 8))).astype(f32)),
}
xn = x.copy()
xn[0, 0, 0] = np.nan
xn[2, 4, 6] = np.inf
xn[1, 1, 1] = -np.inf
inputs["xnan"] = save("xnan.npy", xn)


def code_range(bits, unsigned, sym, narrow):
    if unsigned:
        return 0, 2 ** bits - 1
    pos = 2 ** (bits - 1) - 1
    return (-pos if (sym and narrow) else -pos - 1), pos


def qparams(lo, hi, bits, unsigned, sym, narrow):
    qmin, qmax = code_range(bits, unsigned, sym, narrow)
    lo0, hi0 = min(f32(lo), f32(0)), max(f32(hi), f32(0))
    z = f32(0)
    if sym:
        if unsigned:
            s = f32(hi0 / f32(qmax))
        else:
            amax = max(f32(-lo0), hi0)
            s = f32(amax / f32(2 ** (bits - 1) - 1))
        if not (s > 0 and np.isfinite(s)):
            s = f32(1)
    else:
        s = f32(f32(hi0 - lo0) / f32(2 ** bits - 1))
        if not (s > 0 and np.isfinite(s)):
            s = f32(1)
        z = f32(qmin) - np.rint(f32(lo0 / s))
        z = f32(min(max(z, qmin), qmax))
    return s, z, qmin, qmax


def finite_minmax(v):
    v = v[np.isfinite(v)]
    return (f32(v.min()), f32(v.max())) if v.size else (f32(0), f32(0))


def slices(a, gran, axis, group):
    """(parameter index array per element, parameter count)"""
    idx = np.arange(a.size).reshape(a.shape)
    if gran == "tensor":
        return np.zeros(a.shape, np.int64), 1
    if gran == "channel":
        ax = axis % a.ndim
        p = np.indices(a.shape)[ax]
        return p, a.shape[ax]
    L = a.shape[-1]
    ng = (L + group - 1) // group
    row = idx // L
    col = idx % L
    return row * ng + col // group, (a.size // L) * ng


def case(out, name, inp, spec):
    a = np.load(inputs[inp])
    fmt = spec.get("format", "int8")
    unsigned = fmt.startswith("uint")
    bits = int(fmt[4:] if unsigned else fmt[3:])
    sym = spec.get("scheme", "symmetric") == "symmetric"
    narrow = spec.get("narrow", False)
    gran = spec.get("granularity", "tensor")
    p, npar = slices(a, gran, spec.get("axis", 0), spec.get("group", 128))
    S = np.zeros(npar, f32)
    Z = np.zeros(npar, f32)
    for k in range(npar):
        lo, hi = finite_minmax(a[p == k])
        S[k], Z[k], qmin, qmax = qparams(lo, hi, bits, unsigned, sym, narrow)
    fin = np.isfinite(a)
    xa = np.where(fin, a, f32(0)).astype(f32)
    s, z = S[p], Z[p]
    r = np.rint((xa / s).astype(f32)) + z
    clipped = int(((r < qmin) | (r > qmax))[fin].sum())
    q = np.clip(r, qmin, qmax).astype(f32)
    y = ((q - z) * s).astype(f32)
    xd, yd = xa[fin].astype(np.float64), y[fin].astype(np.float64)
    e = yd - xd
    n = xd.size
    se, sx, sy = float(e @ e), float(xd @ xd), float(yd @ yd)
    sqnr = float("inf") if se == 0 else 10 * np.log10(sx / se)
    cos = 1.0 if sx == 0 and sy == 0 else float(xd @ yd) / np.sqrt(sx * sy)
    lua = ", ".join('%s = %s' % (k, ('"%s"' % v) if isinstance(v, str)
                                 else str(v).lower()) for k, v in spec.items())
    out.write("case %s\ninput %s\nspec {%s}\n" % (name, inputs[inp], lua))
    out.write("scale %s\n" % " ".join(float(v).hex() for v in S))
    out.write("zero_point %s\n" % " ".join("%d" % v for v in Z))
    out.write("codes %s\n" % " ".join("%d" % v for v in q.ravel()))
    out.write("dequant %s\n" % " ".join(float(v).hex() for v in y.ravel()))
    for k, v in (("mse", se / n), ("max_abs", float(np.abs(e).max())),
                 ("mean_abs", float(np.abs(e).mean())), ("sqnr_db", sqnr),
                 ("cosine", cos), ("clipped", clipped / n), ("bias", float(e.mean()))):
        out.write("%s %s\n" % (k, repr(v)))
    out.write("end\n")


with open("ref.txt", "w") as out:
    out.write("# made by make_ref.py (numpy %s); see tests/lua/t_reference.lua\n" % np.__version__)
    for fmt in ("int8", "int4", "int2", "int16", "uint8", "uint4"):
        for scheme in ("symmetric", "asymmetric"):
            case(out, "%s-%s" % (fmt, scheme), "x", {"format": fmt, "scheme": scheme})
    case(out, "int8-narrow", "x", {"format": "int8", "narrow": True})
    case(out, "int3-narrow", "x", {"format": "int3", "narrow": True})
    for axis in (0, 1, 2, -1):
        case(out, "int4-channel-%d" % axis, "x",
             {"format": "int4", "scheme": "asymmetric", "granularity": "channel", "axis": axis})
    case(out, "int8-channel-sym", "x", {"format": "int8", "granularity": "channel", "axis": 1})
    case(out, "int4-group-3", "x", {"format": "int4", "granularity": "group", "group": 3})
    case(out, "uint8-group-4-asym", "x",
         {"format": "uint8", "scheme": "asymmetric", "granularity": "group", "group": 4})
    case(out, "int8-nan-inf", "xnan", {"format": "int8"})
    case(out, "int4-nan-inf-channel", "xnan", {"format": "int4", "granularity": "channel", "scheme": "asymmetric"})
    case(out, "zero", "zero", {"format": "int8"})
    case(out, "zero-asym", "zero", {"format": "uint8", "scheme": "asymmetric"})
    case(out, "const-asym", "const", {"format": "int8", "scheme": "asymmetric"})
    case(out, "const-sym", "const", {"format": "int4"})
    case(out, "pos-uint4-sym", "pos", {"format": "uint4"})
    case(out, "pos-int6-asym", "pos", {"format": "int6", "scheme": "asymmetric", "granularity": "channel"})
