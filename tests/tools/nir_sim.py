#!/usr/bin/env python3
"""A reference clock-driven simulator of NIR graphs, written from NIR's node
equations (the primitives of neuromorphs/NIR), for checking what another
NIR tool would compute from a stdbp export. It is deliberately independent
of stdbp: it knows nothing of ReL-PSP, fire-once, the closed form or the
graph's metadata; it reads the .nir HDF5 file with h5py (no `nir` package
needed) and integrates each node's equations with a fixed step dt.

Nodes (the parameters named as in NIR's serialisation):
  Input, Output        pass their input on (Output's is the graph's output)
  Affine               y = W x + b
  Conv2d               PyTorch-style cross-correlation (stride, padding,
                       dilation, groups), plus bias
  SumPool2d, AvgPool2d window sum (AvgPool2d: divided by the window size)
  Flatten              start_dim/end_dim of the (batch-free) NIR shape
  I                    dv/dt = r x                      (output v)
  IF                   dv/dt = r x; spike when v > v_threshold, then
                       v = v_reset (0 when absent)      (output spikes)
  LI                   tau dv/dt = (v_leak - v) + r x   (output v)
  LIF                  tau dv/dt = (v_leak - v) + r x; spike and reset as IF
  CubaLIF              tau_syn dI/dt = -I + w_in x;
                       tau_mem dv/dt = (v_leak - v) + r I; spike and reset
                       as IF
Time stepping (forward Euler): in each step of length dt the nodes are
updated in topological order, each from its inputs of the same step; a
spike is an impulse of area 1, i.e. the value 1/dt during the step in
which it is emitted. A node with several inputs receives their sum.

Input: stdbp's latency code, from the data set's images: intensity x in
[0, 1] fires once at t = T (1 - x) (T = --t-enc, by default the graph's
metadata encoding_t_max or 1; x = 0 is silent unless --zero-fires; with
--normalise x is first divided by the image's largest value), placed in
the step n = ceil(t / dt) (the first grid time >= t). The predicted class
is the Output neuron that spikes first; a tie within one step goes to the
lowest index (as stdbp's); no spike by --t-end is -1.

Usage:
  nir_sim.py GRAPH.nir --data mnist:DIR|idx:IMAGES|hdf5:FILE [--n N]
             [--dt DT] [--t-end T] [--compare CLASSES] [--min-agreement P]
             [--classes OUT] [--fire-once] [--v-reset-zero]
CLASSES is `stdbp_eval --classes` output (index label class); the
agreement (same class on the same sample) is printed.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import h5py
import numpy as np


# ---- reading the graph ------------------------------------------------------

def _val(d):
    v = d[()]
    if isinstance(v, bytes):
        return v.decode("utf8")
    return v


def read_graph(path):
    with h5py.File(path, "r") as f:
        g = f["node"]
        if _val(g["type"]) != "NIRGraph":
            raise SystemExit("%s: /node is not a NIRGraph" % path)
        nodes = {}
        for name, grp in g["nodes"].items():
            nodes[name] = {k: _val(v) for k, v in grp.items() if isinstance(v, h5py.Dataset)}
        edges = [(a.decode("utf8"), b.decode("utf8")) for a, b in g["edges"][()]]
        meta = {}
        if "metadata" in g:
            meta = {k: _val(v) for k, v in g["metadata"].items()}
    return nodes, edges, meta


def topo_order(nodes, edges):
    preds = {n: [] for n in nodes}
    for a, b in edges:
        preds[b].append(a)
    order, done = [], set()
    while len(order) < len(nodes):
        ready = [n for n in nodes if n not in done and all(p in done for p in preds[n])]
        if not ready:
            raise SystemExit("the graph has a cycle: only feed-forward graphs are simulated")
        for n in sorted(ready):
            order.append(n)
            done.add(n)
    return order, preds


# ---- nodes --------------------------------------------------------------------

def _f(a):
    return np.asarray(a, dtype=np.float64)


class Scatter:
    """A linear map y = M x given by each input's fan-out (indices, weights):
    cheap for spike inputs, where few x are non-zero in a step."""

    def __init__(self, n_in, n_out, idx, wts):
        self.n_in, self.n_out, self.idx, self.wts = n_in, n_out, idx, wts

    def __call__(self, x, dt):
        """x: values, or a bool array of spikes (each 1/dt); None = 0."""
        if x is None:
            return None
        b, k = np.nonzero(x)
        if not b.size:
            return None
        B = x.shape[0]
        contrib = self.wts[k] * (1.0 / dt if x.dtype == bool else x[b, k][:, None])
        flat = (b[:, None] * self.n_out + self.idx[k]).ravel()
        y = np.bincount(flat, weights=contrib.ravel(), minlength=B * self.n_out)
        return y.reshape(B, self.n_out)


def window_map(in_shape, out_c, kernel, stride, pad, dil, weight_of):
    """Fan-out of a 2-D windowed map over (C, H, W) inputs: weight_of(o, c,
    ky, kx) for output channel o, input channel c (None: no connection)."""
    C, H, W = in_shape
    kh, kw = kernel
    oh = (H + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (W + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    fan = [[] for _ in range(C * H * W)]
    for o in range(out_c):
        for c in range(C):
            for ky in range(kh):
                for kx in range(kw):
                    w = weight_of(o, c, ky, kx)
                    if w is None or w == 0:
                        continue
                    for oy in range(oh):
                        iy = oy * stride[0] - pad[0] + ky * dil[0]
                        if iy < 0 or iy >= H:
                            continue
                        for ox in range(ow):
                            ix = ox * stride[1] - pad[1] + kx * dil[1]
                            if 0 <= ix < W:
                                fan[(c * H + iy) * W + ix].append(((o * oh + oy) * ow + ox, w))
    width = max(1, max(len(f) for f in fan))
    idx = np.zeros((len(fan), width), dtype=np.int64)
    wts = np.zeros((len(fan), width))
    for k, f in enumerate(fan):
        if f:
            idx[k, : len(f)] = [a for a, _ in f]
            wts[k, : len(f)] = [b for _, b in f]
    return Scatter(C * H * W, out_c * oh * ow, idx, wts), (out_c, oh, ow)


def conv_map(n, in_shape):
    w = _f(n["weight"])
    co, cig, kh, kw = w.shape
    groups = int(n.get("groups", 1))
    stride = [int(v) for v in np.atleast_1d(n.get("stride", 1))] * 1
    pad = [int(v) for v in np.atleast_1d(n.get("padding", 0))]
    dil = [int(v) for v in np.atleast_1d(n.get("dilation", 1))]
    stride, pad, dil = (stride * 2)[:2], (pad * 2)[:2], (dil * 2)[:2]
    C = in_shape[0]
    per_o, per_i = co // groups, C // groups

    def weight_of(o, c, ky, kx):
        g = o // per_o
        if c // per_i != g:
            return None
        return w[o, c - g * per_i, ky, kx]

    # Build the table with numpy rather than the generic loop: conv
    # layers are large.
    _, H, W = in_shape
    oh = (H + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (W + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    if groups != 1:
        return window_map(in_shape, co, (kh, kw), stride, pad, dil, weight_of)
    rows_i, rows_o, rows_w = [], [], []
    oy, ox = np.meshgrid(np.arange(oh), np.arange(ow), indexing="ij")
    for ky in range(kh):
        for kx in range(kw):
            iy = oy * stride[0] - pad[0] + ky * dil[0]
            ix = ox * stride[1] - pad[1] + kx * dil[1]
            ok = (iy >= 0) & (iy < H) & (ix >= 0) & (ix < W)
            iy, ix, py, px = iy[ok], ix[ok], oy[ok], ox[ok]
            for c in range(C):
                for o in range(co):
                    rows_i.append((c * H + iy) * W + ix)
                    rows_o.append((o * oh + py) * ow + px)
                    rows_w.append(np.full(iy.size, w[o, c, ky, kx]))
    ii, oo, ww = np.concatenate(rows_i), np.concatenate(rows_o), np.concatenate(rows_w)
    order = np.argsort(ii, kind="stable")
    ii, oo, ww = ii[order], oo[order], ww[order]
    counts = np.bincount(ii, minlength=C * H * W)
    width = max(1, counts.max())
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    col = np.arange(ii.size) - start[ii]
    idx = np.zeros((C * H * W, width), dtype=np.int64)
    wts = np.zeros((C * H * W, width))
    idx[ii, col] = oo
    wts[ii, col] = ww
    bias = _f(n.get("bias", np.zeros(co)))
    return Scatter(C * H * W, co * oh * ow, idx, wts), (co, oh, ow), np.repeat(bias, oh * ow)


def pool_map(n, in_shape, avg):
    k = [int(v) for v in np.atleast_1d(n["kernel_size"])]
    s = [int(v) for v in np.atleast_1d(n.get("stride", k))]
    p = [int(v) for v in np.atleast_1d(n.get("padding", 0))]
    k, s, p = (k * 2)[:2], (s * 2)[:2], (p * 2)[:2]
    scale = 1.0 / (k[0] * k[1]) if avg else 1.0
    C = in_shape[0]
    m, shape = window_map((1,) + tuple(in_shape[1:]), 1, k, s, p, (1, 1),
                          lambda o, c, ky, kx: scale)
    # the same window map for every channel: offset the indices per channel
    HW, OHW = in_shape[1] * in_shape[2], shape[1] * shape[2]
    idx = np.concatenate([m.idx + c * OHW for c in range(C)])
    wts = np.concatenate([m.wts] * C)
    return Scatter(C * HW, C * OHW, idx, wts), (C, shape[1], shape[2])


class Node:
    def __init__(self, name, n, in_shape, dt, v_reset_zero):
        self.name, self.type, self.dt = name, n["type"], dt
        t = self.type
        self.state = {}
        self.spiking = False
        if t in ("Input", "Output"):
            self.shape = tuple(int(v) for v in np.atleast_1d(n["shape"])) if in_shape is None \
                else in_shape
        elif t == "Affine":
            self.w = _f(n["weight"])
            self.b = _f(n.get("bias", np.zeros(self.w.shape[0])))
            nz = self.w.T
            self.map = Scatter(self.w.shape[1], self.w.shape[0],
                               np.tile(np.arange(self.w.shape[0]), (self.w.shape[1], 1)), nz)
            self.shape = (self.w.shape[0],)
        elif t == "Linear":
            self.w = _f(n["weight"])
            self.b = np.zeros(self.w.shape[0])
            self.map = Scatter(self.w.shape[1], self.w.shape[0],
                               np.tile(np.arange(self.w.shape[0]), (self.w.shape[1], 1)), self.w.T)
            self.shape = (self.w.shape[0],)
        elif t == "Conv2d":
            self.map, self.shape, self.b = conv_map(n, in_shape)
        elif t in ("SumPool2d", "AvgPool2d"):
            self.map, self.shape = pool_map(n, in_shape, t == "AvgPool2d")
            self.b = None
        elif t == "Flatten":
            sd, ed = int(n.get("start_dim", 1)), int(n.get("end_dim", -1))
            r = len(in_shape)
            sd, ed = sd % r, ed % r
            self.shape = in_shape[:sd] + (int(np.prod(in_shape[sd:ed + 1])),) + in_shape[ed + 1:]
        elif t in ("I", "IF", "LI", "LIF", "CubaLIF"):
            self.p = {k: _f(v).reshape(-1) for k, v in n.items() if k != "type"}
            ref = self.p["r"] if "r" in self.p else self.p["tau"]
            self.shape = tuple(np.asarray(n.get("r", n.get("tau"))).shape)
            self.spiking = t in ("IF", "LIF", "CubaLIF")
            if self.spiking:
                vr = self.p.get("v_reset")
                if vr is None or v_reset_zero:
                    vr = np.zeros_like(ref)
                self.p["v_reset"] = vr
            if t in ("LI", "LIF", "CubaLIF") and "v_leak" not in self.p:
                self.p["v_leak"] = np.zeros_like(ref)
            if t == "CubaLIF" and "w_in" not in self.p:
                self.p["w_in"] = np.ones_like(ref)
            if t == "CubaLIF" and self.p["w_in"].size == 1:
                self.p["w_in"] = np.full_like(ref, self.p["w_in"][0])
        else:
            raise SystemExit("%s: node type %s is not simulated" % (name, t))
        self.size = int(np.prod(self.shape))

    def reset(self, B):
        n = self.size
        if self.type in ("I", "IF", "LI", "LIF", "CubaLIF"):
            self.state = {"v": np.zeros((B, n))}
            if self.type == "CubaLIF":
                self.state["i"] = np.zeros((B, n))
        if self.spiking:
            self.count = np.zeros((B, n), dtype=np.int32)  # spikes per neuron
        # the value at which v crossed, for reports
        self.last_cross = None

    def step(self, x):
        """x: (B, n_in) input of this step, a bool array of spikes (each of
        value 1/dt), or None (all zero); returns the output likewise."""
        t, dt, p = self.type, self.dt, getattr(self, "p", None)
        if t in ("Input", "Output", "Flatten"):
            return x
        if t in ("Affine", "Linear", "Conv2d", "SumPool2d", "AvgPool2d"):
            y = self.map(x, dt)
            if self.b is not None and self.b.any():
                y = (0.0 if y is None else y) + self.b
            return y
        if x is not None and x.dtype == bool:
            x = x / dt
        v = self.state["v"]
        if t == "I":
            if x is not None:
                v += dt * p["r"] * x
            return v  # read-only downstream
        if t == "IF":
            if x is None:
                return None  # v unchanged: no new crossing
            v += dt * p["r"] * x
        elif t in ("LI", "LIF"):
            v += dt / p["tau"] * ((p["v_leak"] - v) + p["r"] * (0.0 if x is None else x))
        elif t == "CubaLIF":
            i = self.state["i"]
            i += dt / p["tau_syn"] * (-i + p["w_in"] * (0.0 if x is None else x))
            v += dt / p["tau_mem"] * ((p["v_leak"] - v) + p["r"] * i)
        if t == "LI":
            return v.copy()
        z = v > p["v_threshold"]
        if not z.any():
            return None
        v[z] = np.broadcast_to(p["v_reset"], v.shape)[z]
        self.count += z
        return z


# ---- data and the latency code ------------------------------------------------

def _open(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def read_idx_images(path):
    with _open(path) as f:
        zero, kind, nd = struct.unpack(">HBB", f.read(4))
        if zero != 0 or kind != 8 or nd != 3:
            raise SystemExit("%s: not an IDX file of unsigned-byte images" % path)
        dims = struct.unpack(">" + "I" * nd, f.read(4 * nd))
        data = np.frombuffer(f.read(), dtype=np.uint8)
    return data.reshape(dims[0], -1), True


def load_images(spec):
    kind, _, path = spec.partition(":")
    if kind == "mnist":
        for name in ("t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"):
            p = os.path.join(path, "mnist", name)
            if os.path.exists(p):
                return read_idx_images(p)
        raise SystemExit("%s: no mnist/t10k-images-idx3-ubyte[.gz]" % path)
    if kind == "idx":
        return read_idx_images(path)
    if kind == "hdf5":
        with h5py.File(path, "r") as f:
            img = f["images"][()]
        return img.reshape(img.shape[0], -1), img.dtype == np.uint8
    raise SystemExit("--data: say mnist:DIR, idx:IMAGES or hdf5:FILE")


def latency_times(img, is_u8, t_enc, zero_silent, normalise):
    """stdbp's latency code of one image (float64)."""
    if is_u8:
        x = img.astype(np.float64)
        denom = 255.0
        if normalise and img.max() > 0:
            denom = float(img.max())
        x = x / denom
    else:
        x = img.astype(np.float64)
        if normalise and x.max() > 0:
            x = x / float(img.max())
    t = t_enc * (1.0 - np.clip(x, 0.0, 1.0))
    if zero_silent:
        t[x <= 0] = np.inf
    return t


# ---- running ------------------------------------------------------------------

def build(nodes, edges, dt, v_reset_zero):
    order, preds = topo_order(nodes, edges)
    built, shapes = {}, {}
    for name in order:
        n = nodes[name]
        in_shape = None
        if preds[name]:
            in_shape = shapes[preds[name][0]]
        node = Node(name, n, in_shape, dt, v_reset_zero)
        built[name] = node
        shapes[name] = node.shape
    return order, preds, built


def run_batch(order, preds, built, t_in, dt, t_end):
    """Simulate a batch; t_in (B, n_in) input spike times. Returns the first
    output spike step of every Output neuron (B, n_out), -1 = none."""
    B = t_in.shape[0]
    steps_in = np.where(np.isfinite(t_in), np.ceil(t_in / dt - 1e-9), -1).astype(np.int64)
    for name in order:
        built[name].reset(B)
    outs = [n for n in order if built[n].type == "Output"]
    first = np.full((B, built[outs[0]].size), -1, dtype=np.int64)
    n_steps = int(np.ceil(t_end / dt))
    last_in = steps_in.max()
    for step in range(n_steps + 1):
        vals = {}
        for name in order:
            node = built[name]
            if node.type == "Input":
                x = steps_in == step
            else:
                xs = [vals[p] for p in preds[name] if vals[p] is not None]
                x = xs[0] if len(xs) == 1 else None
                if len(xs) > 1:
                    x = sum(v / dt if v.dtype == bool else v for v in xs)
            vals[name] = node.step(x)
        y = vals[outs[0]]
        if y is not None:
            new = (y != 0) & (first < 0)
            first[new] = step
        if step > last_in and (first >= 0).any(axis=1).all():
            break
    fired = sum(int((built[n].count > 0).sum()) for n in order if built[n].spiking)
    again = sum(int((built[n].count > 1).sum()) for n in order if built[n].spiking)
    return first, fired, again


def classify(first):
    """Earliest output spike, ties to the lowest index, -1 when silent."""
    f = np.where(first < 0, np.iinfo(np.int64).max, first)
    cls = f.argmin(axis=1)
    cls[(first < 0).all(axis=1)] = -1
    ties = ((f == f.min(axis=1, keepdims=True)) & (first >= 0)).sum(axis=1) > 1
    return cls, ties


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("graph")
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", type=int, default=0, help="first N images (0 = all)")
    ap.add_argument("--dt", type=float, default=0.0,
                    help="time step (default: encoding time span / 1020)")
    ap.add_argument("--t-end", type=float, default=0.0,
                    help="simulated time (default: 8 encoding time spans)")
    ap.add_argument("--t-enc", type=float, default=0.0)
    ap.add_argument("--zero-fires", action="store_true")
    ap.add_argument("--normalise", action="store_true")
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--compare", help="stdbp_eval --classes output")
    ap.add_argument("--min-agreement", type=float, default=None,
                    help="exit 1 if the agreement (percent) is below this")
    ap.add_argument("--classes", help="write index, class and tie flag here")
    ap.add_argument("--fire-once", action="store_true",
                    help="exit 1 if any neuron fires more than once")
    ap.add_argument("--v-reset-zero", action="store_true",
                    help="ignore the graph's v_reset (NIR's default 0): for comparison")
    a = ap.parse_args()

    nodes, edges, meta = read_graph(a.graph)
    # The input code is not part of NIR: take it from the options, else
    # from the metadata's description of stdbp's encoding, else defaults.
    t_enc = a.t_enc or float(meta.get("encoding_t_max", 1.0))
    zero_silent = not a.zero_fires and int(meta.get("encoding_zero_silent", 1)) == 1
    normalise = a.normalise or int(meta.get("encoding_normalise", 0)) == 1
    dt = a.dt or t_enc / 1020.0
    t_end = a.t_end or 8 * t_enc
    order, preds, built = build(nodes, edges, dt, a.v_reset_zero)
    images, is_u8 = load_images(a.data)
    n = a.n if a.n > 0 else images.shape[0]
    n = min(n, images.shape[0])
    t0 = time.time()
    classes, ties = np.empty(n, dtype=np.int64), np.empty(n, dtype=bool)
    fired = again = 0
    for s in range(0, n, a.batch):
        e = min(n, s + a.batch)
        t_in = np.stack([latency_times(images[i], is_u8, t_enc, zero_silent, normalise)
                         for i in range(s, e)])
        first, f1, f2 = run_batch(order, preds, built, t_in, dt, t_end)
        fired, again = fired + f1, again + f2
        classes[s:e], ties[s:e] = classify(first)
    types = sorted(set(nodes[k]["type"] for k in nodes))
    print("nir_sim: %s: %d images, dt = %g, t_end = %g, nodes %s, %.1f s"
          % (a.graph, n, dt, t_end, ",".join(types), time.time() - t0))
    print("nir_sim: %d silent, %d ties within a step" % ((classes < 0).sum(), ties.sum()))
    print("nir_sim: %d neuron-images fired, %d of them more than once (until each image's "
          "first output spike)" % (fired, again))
    if a.classes:
        with open(a.classes, "w") as f:
            f.write("# index class tie (nir_sim.py)\n")
            for i in range(n):
                f.write("%d %d %d\n" % (i, classes[i], ties[i]))
    rc = 0
    if a.fire_once and again:
        print("nir_sim: some neurons fired more than once")
        rc = 1
    if a.compare:
        ref = np.loadtxt(a.compare, dtype=np.int64, comments="#", ndmin=2)
        m = min(n, ref.shape[0])
        same = int((ref[:m, 2] == classes[:m]).sum())
        acc_sim = float((ref[:m, 1] == classes[:m]).mean()) * 100
        acc_ref = float((ref[:m, 1] == ref[:m, 2]).mean()) * 100
        pct = 100.0 * same / m if m else 0.0
        print("nir_sim: agreement with stdbp: %d of %d images (%.2f%%); accuracy: NIR "
              "simulation %.2f%%, stdbp %.2f%%" % (same, m, pct, acc_sim, acc_ref))
        if a.min_agreement is not None and pct < a.min_agreement:
            print("nir_sim: agreement below %g%%" % a.min_agreement)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
