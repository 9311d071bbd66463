#!/usr/bin/python3
"""Multi-batch references for tests/unit/t_calib_observer.c.

Runs each anchor's own histogram-collection code (transcribed from the
upstream sources named below, with torch 1.13 / numpy 1.24 doing the
arithmetic) over three batches of the reference inputs, and prints the
merged histograms' shape and checksums plus the ranges their searches
give.  Usage: make_observer_ref.py > observer_ref.txt  (run from this
directory; needs numpy and torch, not needed by the test suite).

Batches: A = normal[:30000], B = 0.7 * laplace[:30000] (a wider range:
every histogram grows), C = 0.5 * normal[30000:60000] (inside: plain add).
"""
import numpy as np
import torch

f32 = np.float32
normal = np.load("normal.npy")
laplace = np.load("laplace.npy")
BATCHES = [normal[:30000].copy(),
           (laplace[:30000] * f32(0.7)).astype(f32),
           (normal[30000:60000] * f32(0.5)).astype(f32)]


def hx(v):
    return float(f32(v)).hex()


def checksum(h):
    h = np.asarray(h, dtype=np.float64)
    return float(h.sum()), float((np.arange(len(h)) * h).sum())


def entropy(pk, qk):
    """scipy.stats.entropy(pk, qk) (scipy 1.10) written out in numpy."""
    pk = np.asarray(pk)
    pk = 1.0 * pk / np.sum(pk, keepdims=True)
    qk = np.asarray(qk)
    qk = 1.0 * qk / np.sum(qk, keepdims=True)
    if pk.dtype == np.float32:
        pd, qd = pk.astype(np.float64), qk.astype(np.float64)
    else:
        pd, qd = pk, qk
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where((pd > 0) & (qd > 0), pd * np.log(pd / qd),
                     np.where((pd == 0) & (qd >= 0), 0.0, np.inf))
    return np.sum(v.astype(pk.dtype))


# ---- NVIDIA pytorch-quantization HistogramCalibrator.collect (torch_hist)
def nvidia():
    hist = edges = None
    num_bins = 2048
    for b in BATCHES:
        x = torch.from_numpy(b)
        if torch.min(x) < 0.:
            x = x.abs()
        x = x.float()
        x_max = x.max()
        if edges is None and hist is None:
            hist = torch.histc(x, bins=num_bins, min=0, max=x_max)
            edges = torch.linspace(0, x_max, num_bins + 1)
        else:
            if x_max > edges[-1]:
                width = edges[1] - edges[0]
                num_bins = int((x_max / width).ceil().item())
                edges = torch.arange(0, x_max + width, width)
            h = torch.histc(x, bins=num_bins, min=0, max=edges[-1])
            h[:hist.numel()] += hist
            hist = h
    ch = hist.int().numpy()
    ce = edges.numpy()
    # _compute_amax_percentile
    total = ch.sum()
    cdf = np.cumsum(ch / total)
    pct = ce[np.searchsorted(cdf, 99.99 / 100)]
    # _compute_amax_entropy (int8, start_bin 128)
    bins = ch[:].copy()
    bins[0] = bins[1]
    nb = 128
    div = []
    for i in range(128, len(bins) + 1):
        space = np.linspace(0, i, num=nb + 1)
        dig = np.digitize(range(i), space) - 1
        dig[bins[:i] == 0] = -1
        cnt = np.zeros(nb)
        for idx, d in enumerate(dig):
            if d != -1:
                cnt[d] += bins[idx]
        from collections import Counter
        for k, v in Counter(dig).items():
            if k != -1:
                cnt[k] = cnt[k] / v
        nd = np.zeros(i)
        for idx, d in enumerate(dig):
            if d != -1:
                nd[idx] = cnt[d]
        ref = np.array(bins[:i])
        ref[-1] += np.sum(bins[i:])
        div.append(entropy(ref, nd))
    div = np.array(div)
    last = len(div) - 1 - np.argmin(div[::-1])
    ent = ce[last + 128]
    s, c = checksum(ch)
    print("nvidia nbins %d nedges %d last_edge %s sum %.17g checksum %.17g "
          "p9999 %s entropy %s" % (len(ch), len(ce), hx(ce[-1]), s, c,
                                   hx(pct), hx(ent)))


# ---- PyTorch HistogramObserver, torch >= 2.4 (PR #129387) merge
def lin_scalar(a, b, steps):
    """torch.linspace as the scalar kernel computes it (float32)."""
    a, b = f32(a), f32(b)
    step = f32(b - a) / f32(steps - 1)
    half = steps // 2
    out = np.empty(steps, dtype=f32)
    i = np.arange(steps)
    lo = i < half
    out[lo] = a + step * i[lo].astype(f32)
    out[~lo] = b - step * (steps - i[~lo] - 1).astype(f32)
    return out


def upscale(hist, omin, omax, nmin, nmax, bins=2048, up=16):
    h = hist.repeat_interleave(up) / up
    bs = (omax - omin) / (bins * up)
    mids = torch.from_numpy(lin_scalar(omin, omax, bins * up + 1)[:-1]) + 0.5 * bs
    bd = torch.from_numpy(lin_scalar(nmin, nmax, bins + 1))
    a = torch.bucketize(mids, bd, right=True) - 1
    a[a >= bins] = bins - 1
    a[a < 0] = 0
    return torch.bincount(a, weights=h, minlength=bins)


def torch_hist():
    obs = torch.ao.quantization.HistogramObserver(bins=2048)
    hist = mn = mx = None
    for b in BATCHES:
        x = torch.from_numpy(b)
        xmin, xmax = torch.aminmax(x)
        if hist is None:
            hist = torch.histc(x, 2048, min=xmin, max=xmax)
            mn, mx = xmin, xmax
        else:
            nmin, nmax = torch.min(mn, xmin), torch.max(mx, xmax)
            upd = torch.histc(x, 2048, min=nmin, max=nmax)
            if nmin == mn and nmax == mx:
                hist = hist + upd
            else:
                hist = upd + upscale(hist, mn, mx, nmin, nmax)
            mn, mx = nmin, nmax
    obs.histogram = hist
    obs.min_val = mn
    obs.max_val = mx
    lo, hi = obs._non_linear_param_search()
    s, c = checksum(hist.numpy())
    print("torch min %s max %s sum %.17g checksum %.17g search %s %s" %
          (hx(mn), hx(mx), s, c, hx(lo), hx(hi)))


# ---- ONNX Runtime HistogramCollector.collect_value / merge_histogram
def ort():
    num_bins = 2048
    state = None
    for data_arr in BATCHES:
        min_value = np.nanmin(data_arr)
        max_value = np.nanmax(data_arr)
        threshold = np.array(max(abs(min_value), abs(max_value)),
                             dtype=data_arr.dtype)
        if state is None:
            hist, edges = np.histogram(data_arr, num_bins,
                                       range=(-threshold, threshold))
            state = (hist, edges, min_value, max_value, threshold)
            continue
        old_hist, old_edges, old_min, old_max, old_th = state
        if threshold <= old_th:
            nh, _ = np.histogram(data_arr, len(old_hist),
                                 range=(-old_th, old_th))
            state = (nh + old_hist, old_edges, min(old_min, min_value),
                     max(old_max, max_value), old_th)
        else:
            onb = len(old_hist)
            stride = 2 * old_th / onb
            inc = int((threshold - old_th) // stride + 1)
            nnb = onb + 2 * inc
            nth = inc * stride + old_th
            hist, edges = np.histogram(data_arr, nnb, range=(-nth, nth))
            hist[inc:nnb - inc] += old_hist
            state = (hist, edges, min(old_min, min_value),
                     max(old_max, max_value), nth)
    hist, edges, mn, mx, th = state
    # compute_percentile, asymmetric 99.99
    cdf = np.cumsum(hist / hist.sum())
    cut = (100.0 - 99.99) / 200.0
    lo, hi = edges[np.searchsorted(cdf, cut)], edges[np.searchsorted(cdf, 1.0 - cut)]
    lo, hi = (mn if lo < mn else lo), (mx if hi > mx else hi)
    s, c = checksum(hist)
    print("ort nbins %d threshold %.17g first_edge %s sum %.17g checksum "
          "%.17g p9999 %s %s" % (len(hist), float(th), hx(edges[0]), s, c,
                                 hx(lo), hx(hi)))


# ---- AIMET libpymo UpdatePdfSigned (DTYPE float)
def aimet():
    P = 512
    xleft = pdf = None
    it = 0
    for b in BATCHES:
        if xleft is None:
            mn, mx = f32(b.min()), f32(b.max())
            center = f32((mx + mn) / f32(2))
            mn = f32(center - f32(3) * f32(center - mn))
            mx = f32(center + f32(3) * f32(mx - center))
            bucket = f32(f32(mx - mn) / f32(P))
            xleft = np.array([float(mn) + i * float(bucket) for i in range(P)])
            pdf = np.zeros(P)
        start = f32(xleft[0])
        bucket = f32(xleft[1] - xleft[0])
        off = f32(start / bucket)
        t = (b / bucket - off).astype(f32)
        r = np.trunc(t)  # C roundf: ties away from zero, exactly
        r = r + np.where(np.abs(t - r) >= 0.5, np.sign(t), 0).astype(f32)
        idx = r.astype(np.int64)
        keep = (idx >= 0) & (idx < P)
        h = np.bincount(idx[keep], minlength=P)
        pdf = (pdf * it + h / float(len(b))) / (it + 1)
        it += 1
    nz = np.nonzero(pdf)[0]
    print("aimet first %d last %d sum %.17g checksum %.17g" %
          (nz[0], nz[-1], pdf.sum(), (np.arange(P) * pdf).sum()))


nvidia()
torch_hist()
ort()
aimet()
