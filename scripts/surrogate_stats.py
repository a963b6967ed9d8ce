#!/usr/bin/env python3
"""What the silent-label surrogate does to the output layer's gradient.

  surrogate_stats.py CHECKPOINT|RUN_DIR [N] [--split train|test]

Runs the first N samples (default 1000) of the split through the exact
forward of a checkpoint (the stdbp Python package) and, for every sample
whose label output is silent (the case where the training pushes it with
the surrogate: it fires at loss.silent_time with S = the sum of the
weights of its inputs), computes the output layer's weight gradient terms
g (t_i - t_silent), g = clip(dL/dt / max(S, theta/100), network.grad_clip),
under two rules for which inputs count:

  all             every input that fired, however late (stdbp's rule)
  before_silent   only the inputs that fired before t_silent

and prints, per rule: how many inputs count, how many of them fired after
t_silent, the largest |term|, how many terms reach the fixed-point clamp
(2^19 per sample: docs/FORMAT.md, the gradient), and the share of the
summed |terms| that comes from inputs after t_silent. Also the spike
times of the layer below: how many fall after t_silent and after 3 (the
deploy phase's window in the shipped recipes).

Needs the stdbp Python package on PYTHONPATH (make install puts it under
PREFIX/lib/python3.X/site-packages) and numpy. Dense output layers only.
"""
import math
import sys

import numpy as np

CLAMP = 2.0 ** 19


def softmax_dl_label(t_out, label, beta, t_silent):
    """dL/dt of the label output (softmax over -beta t, silent = t_silent)."""
    t = np.where(np.isfinite(t_out), t_out, t_silent)
    z = -beta * (t - t.min())
    p = np.exp(z) / np.exp(z).sum()
    return beta * (1.0 - p[label])


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    split = "test" if "--split" in argv and argv[argv.index("--split") + 1] == "test" else "train"
    if "--split" in argv:
        args.remove(argv[argv.index("--split") + 1])
    if not args or "-h" in argv or "--help" in argv:
        print(__doc__.strip())
        return 0 if args or "-h" in argv or "--help" in argv else 2
    import stdbp  # here, so that --help works without the package

    n = int(args[1]) if len(args) > 1 else 1000
    net = stdbp.load(args[0])
    if net.layers[-1]["kind"] != "dense":
        sys.exit(f"{net.path}: the output layer is {net.layers[-1]['kind']}, not dense")
    cfg = net.config
    beta = float(cfg.get("loss", {}).get("beta", 20))
    t_sil = float(cfg.get("loss", {}).get("silent_time", 3))
    clip = float(cfg.get("network", {}).get("grad_clip", math.inf))
    theta = float(cfg.get("network", {}).get("theta", 1))
    images, labels = net.test_set(split=split)
    n = min(n, len(labels))
    times = net.forward(images[:n])
    t_in = times[-2].reshape(n, -1)  # the output layer's inputs (through flatten)
    t_out = times[-1]
    w = net.weights()[-1]            # [inputs][outputs]
    fired = np.isfinite(t_in)
    print(f"{net.path} (epoch {net.epoch}, step {net.step}), {n} {split} samples; "
          f"beta {beta:g}, silent time {t_sil:g}, grad_clip {clip:g}")
    nf = fired.sum()
    tf = t_in[fired]
    print(f"layer below the output: {nf / n:.1f} spikes per sample; after t = {t_sil:g}: "
          f"{100 * (tf > t_sil).mean():.1f} %, after t = 3: {100 * (tf > 3).mean():.1f} %, "
          f"after 100: {100 * (tf > 100).mean():.2f} %, after 1e4: {100 * (tf > 1e4).mean():.3f} %; "
          f"latest {tf.max() if tf.size else float('nan'):.4g}")
    sil = [k for k in range(n) if not np.isfinite(t_out[k, labels[k]])]
    print(f"silent label output (surrogate used): {len(sil)} of {n} samples")
    for rule in ("all", "before_silent"):
        counted = late = clamped = 0
        top, late_sum, total_sum = 0.0, 0.0, 0.0
        for k in sil:
            y = labels[k]
            use = fired[k] if rule == "all" else fired[k] & (t_in[k] < t_sil)
            s = w[use, y].sum()
            g = softmax_dl_label(t_out[k], y, beta, t_sil) / max(s, 0.01 * theta)
            g = max(-clip, min(clip, g))
            terms = np.abs(g * (t_in[k][use] - t_sil))
            counted += int(use.sum())
            is_late = t_in[k][use] > t_sil
            late += int(is_late.sum())
            clamped += int((terms > CLAMP).sum())
            top = max(top, float(terms.max()) if terms.size else 0.0)
            late_sum += float(np.minimum(terms[is_late], CLAMP).sum())
            total_sum += float(np.minimum(terms, CLAMP).sum())
        share = 100 * late_sum / total_sum if total_sum > 0 else 0.0
        print(f"rule {rule:13s}: {counted} inputs counted, {late} after t = {t_sil:g}; largest "
              f"|term| {top:.4g}, {clamped} terms at the clamp (2^19); inputs after t = {t_sil:g} "
              f"give {share:.1f} % of the summed |terms| (clamped)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
