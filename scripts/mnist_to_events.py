#!/usr/bin/env python3
"""Event-MNIST, made here (not N-MNIST): MNIST images moved past a
simulated event camera, written in stdbp's own HDF5 events layout.

Each 28 x 28 image sits on a SIZE x SIZE canvas (34 by default, as
N-MNIST's sensor) and makes three small saccades (straight moves of the
image by a few pixels, STEPS frames each). A pixel of the simulated
sensor keeps a reference log intensity; whenever its log intensity
log(EPS + I) has moved by THRESHOLD or more from the reference, it emits
one event per threshold crossed (ON, polarity 1, when brighter; OFF,
polarity 0, when darker) and moves its reference by as much. Event times
are the frame times in milliseconds (SACCADE_MS per saccade), so a sample
lasts 3 * SACCADE_MS ms; several events of one pixel per sample are
common. Channels are polarity * SIZE * SIZE + y * SIZE + x; the file's
root attribute shape is (2, SIZE, SIZE) (docs/DATA.md).

    /usr/bin/python3 scripts/mnist_to_events.py data/mnist/train-images-idx3-ubyte \
        data/mnist/train-labels-idx1-ubyte emnist_train.h5 [--limit N]

Needs numpy and h5py. Deterministic: no randomness at all.
"""
import argparse
import gzip
import sys

import numpy as np

SACCADES = ((2, 2), (-2, 2), (0, -4))  # (dy, dx) of each move, in pixels


def read_idx(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    if (magic >> 8) != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file (magic {magic:#x})")
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        sys.exit(f"{path}: {arr.size} values for dimensions {dims}")
    return arr.reshape(dims)


def frame(img, size, oy, ox):
    """The image on the canvas, its top-left corner at (oy, ox) (floats:
    bilinear, so that a move is smooth)."""
    h, w = img.shape
    canvas = np.zeros((size + 2, size + 2), dtype=np.float64)
    iy, ix = int(np.floor(oy)), int(np.floor(ox))
    fy, fx = oy - iy, ox - ix
    base = np.zeros((h + 1, w + 1))
    base[:h, :w] = img
    shifted = ((1 - fy) * (1 - fx) * base + (1 - fy) * fx * np.roll(base, 1, 1) +
               fy * (1 - fx) * np.roll(base, 1, 0) + fy * fx * np.roll(np.roll(base, 1, 0), 1, 1))
    canvas[iy + 1:iy + 1 + h + 1, ix + 1:ix + 1 + w + 1] = shifted
    return canvas[1:size + 1, 1:size + 1]


def events_of(img, size, steps, saccade_ms, threshold, eps):
    img = img.astype(np.float64) / 255.0
    y0 = x0 = (size - img.shape[0]) / 2.0 - 1.0
    pos = np.array([y0, x0])
    ref = np.log(eps + frame(img, size, *pos))
    times, units = [], []
    t = 0.0
    dt = saccade_ms / steps
    for dy, dx in SACCADES:
        for s in range(1, steps + 1):
            p = pos + np.array([dy, dx]) * s / steps
            t += dt
            now = np.log(eps + frame(img, size, *p))
            diff = now - ref
            n = np.floor(np.abs(diff) / threshold).astype(np.int64)
            ys, xs = np.nonzero(n)
            for y, x in zip(ys, xs):
                k = int(n[y, x])
                pol = 1 if diff[y, x] > 0 else 0
                times.extend([t] * k)
                units.extend([pol * size * size + y * size + x] * k)
                ref[y, x] += np.sign(diff[y, x]) * k * threshold
        pos = pos + np.array([dy, dx])
    return np.array(times, dtype=np.float64), np.array(units, dtype=np.uint32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("images")
    ap.add_argument("labels")
    ap.add_argument("out")
    ap.add_argument("--limit", type=int, default=0, help="first N images only (0 = all)")
    ap.add_argument("--size", type=int, default=34, help="sensor size (28 or 34)")
    ap.add_argument("--steps", type=int, default=3, help="frames per saccade")
    ap.add_argument("--saccade-ms", type=float, default=30.0, help="duration of a saccade")
    ap.add_argument("--threshold", type=float, default=1.2, help="log-intensity step per event")
    ap.add_argument("--eps", type=float, default=0.1, help="log(eps + I): dark floor")
    a = ap.parse_args()
    import h5py
    imgs, labs = read_idx(a.images), read_idx(a.labels)
    if len(imgs) != len(labs):
        sys.exit(f"{len(imgs)} images but {len(labs)} labels")
    n = len(imgs) if a.limit <= 0 else min(a.limit, len(imgs))
    if a.size < imgs.shape[1]:
        sys.exit(f"--size {a.size} is smaller than the images ({imgs.shape[1]})")
    offsets = np.zeros(n + 1, dtype=np.int64)
    all_t, all_u = [], []
    for i in range(n):
        t, u = events_of(imgs[i], a.size, a.steps, a.saccade_ms, a.threshold, a.eps)
        all_t.append(t)
        all_u.append(u)
        offsets[i + 1] = offsets[i] + len(t)
    with h5py.File(a.out, "w") as f:
        f.create_dataset("times", data=np.concatenate(all_t) if n else np.zeros(0))
        f.create_dataset("units", data=np.concatenate(all_u) if n else np.zeros(0, np.uint32))
        f.create_dataset("offsets", data=offsets)
        f.create_dataset("labels", data=labs[:n].astype(np.int32))
        f.attrs["shape"] = np.array([2, a.size, a.size], dtype=np.int64)
        f.attrs["made_by"] = "scripts/mnist_to_events.py (event-MNIST made here, not N-MNIST)"
    print(f"{a.out}: {n} samples, {offsets[-1]} events ({offsets[-1] / max(n, 1):.0f} per sample)")


if __name__ == "__main__":
    main()
