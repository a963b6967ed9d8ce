#!/usr/bin/env python3
"""Draw the spike raster of one sample of a stdbp spike log (spikes.h5).

Every recorded layer (the input first) is stacked from bottom to top, each
in a band of the same height (--proportional: as tall as its neuron count);
each neuron that fired is a dot at its spike time, neuron j at row j. Silent neurons (+inf)
and rows no rank wrote (NaN) are left out. Flatten layers repeat the
layer before them and are skipped unless --all-layers is given.

In the output layer, the label's neuron is marked by a green band and
the predicted class (the earliest output spike) by a red ring; the title
says both. The time axis ends at the 99th percentile of the sample's
spike times (or the prediction, if later; --t-max T: at T; --no-clip: at
the last spike), and a note gives the number of spikes past its end.

Layout of spikes.h5: docs/FORMAT.md. Needs python3-h5py and
python3-matplotlib (Debian: apt-get install python3-h5py python3-matplotlib).

Examples:
  scripts/spike_raster.py runs/mnist/spikes.h5 --list
  scripts/spike_raster.py runs/mnist/spikes.h5 --moment end --sample 3 -o raster.png
"""
import argparse
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Draw the spike raster of one sample of a stdbp spikes.h5 as a PNG "
        "(layers stacked, time on x).",
        epilog="Layout: docs/FORMAT.md. Needs h5py and matplotlib "
        "(Debian: python3-h5py python3-matplotlib).")
    p.add_argument("spikes", help="the spike log, e.g. RUN_DIR/spikes.h5")
    p.add_argument("-m", "--moment", help="group to draw, e.g. end or epoch-0003 "
                   "(default: 'end' if present, else the last one)")
    p.add_argument("-s", "--sample", type=int, default=0,
                   help="row (sample) within the moment (default 0)")
    p.add_argument("-o", "--out", help="output PNG (default: raster-MOMENT-SAMPLE.png)")
    p.add_argument("--all-layers", action="store_true",
                   help="also draw flatten layers (copies of the layer before)")
    p.add_argument("--proportional", action="store_true",
                   help="give each layer a height proportional to its neuron count "
                   "(default: equal heights, neuron j at row j within its layer)")
    p.add_argument("--t-max", type=float,
                   help="end the time axis at T (default: the 99th percentile of the "
                   "sample's spike times, or the prediction if later)")
    p.add_argument("--no-clip", action="store_true",
                   help="show every spike (the time axis ends at the last one)")
    p.add_argument("--dpi", type=int, default=120, help="resolution (default 120)")
    p.add_argument("--list", action="store_true",
                   help="list the moments and layers, draw nothing")
    return p.parse_args(argv)


def fail(msg):
    print("spike_raster: " + msg, file=sys.stderr)
    sys.exit(1)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main(argv):
    args = parse_args(argv)
    try:
        import h5py
        import numpy as np
    except ImportError as e:
        fail("%s (install python3-h5py)" % e)
    try:
        f = h5py.File(args.spikes, "r")
    except OSError as e:
        fail("cannot open %s: %s" % (args.spikes, e))
    with f:
        if text(f.attrs.get("format", b"")) != "stdbp-spikes":
            fail("%s is not a stdbp spike log (no format = stdbp-spikes)" % args.spikes)
        names = [text(x) for x in f.attrs["layer_names"]]
        kinds = [text(x) for x in f.attrs["layer_kinds"]]
        moments = sorted(k for k in f.keys() if isinstance(f[k], h5py.Group))
        if not moments:
            fail("%s holds no moments yet" % args.spikes)
        if args.list:
            for m in moments:
                n = f[m].attrs.get("n_samples", 0)
                print("%s: %d samples" % (m, n))
            for name, kind, size in zip(names, kinds, f.attrs["layer_sizes"]):
                print("  %-8s %-8s %d neurons" % (name, kind, size))
            return 0
        moment = args.moment or ("end" if "end" in moments else moments[-1])
        if moment not in f:
            fail("no moment '%s' in %s (have: %s)" % (moment, args.spikes, ", ".join(moments)))
        g = f[moment]
        n = g[names[0]].shape[0]
        if not 0 <= args.sample < n:
            fail("sample %d out of range: moment '%s' has %d samples" % (args.sample, moment, n))
        label = int(g["labels"][args.sample]) if "labels" in g else None
        layers = []
        for name, kind in zip(names, kinds):
            if kind == "flatten" and not args.all_layers:
                continue
            layers.append((name, kind, np.asarray(g[name][args.sample], dtype=float)))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # The prediction: the earliest output spike (ties: the lowest index).
    out = layers[-1][2]
    predicted = int(np.argmin(out)) if np.isfinite(out).any() else None
    times = np.concatenate([t[np.isfinite(t)] for _, _, t in layers])
    if args.t_max is not None:
        if not args.t_max > 0:
            fail("--t-max must be positive (got %g)" % args.t_max)
        x_end = args.t_max
    elif args.no_clip or times.size == 0:
        x_end = float(times.max()) if times.size else 1.0
    else:
        # The 99th percentile, rounded down to a spike time (no
        # interpolation towards a lone late spike).
        x_end = float(np.sort(times)[int(0.99 * (times.size - 1))])
        if predicted is not None:
            x_end = max(x_end, float(out[predicted]))
    if x_end <= 0:
        x_end = 1.0
    beyond = int((times > x_end).sum())

    fig, ax = plt.subplots(figsize=(9, 6))
    base, ticks, ticklabels, fired, total = 0.0, [], [], 0, 0
    for i, (name, kind, t) in enumerate(layers):
        idx = np.flatnonzero(np.isfinite(t))
        fired += idx.size
        total += t.size
        # Each layer gets the same height (or its neuron count with
        # --proportional), neuron j at the j-th row inside it.
        height = float(t.size) if args.proportional else 1.0
        if idx.size:
            y = base + (idx + 0.5) * height / t.size
            size = 4.0 if args.proportional else max(2.0, min(30.0, 600.0 / t.size))
            ax.scatter(np.minimum(t[idx], x_end * 1.04), y, s=size, color="C%d" % (i % 10),
                       linewidths=0)
        if i == len(layers) - 1:  # the output layer: label and prediction
            row = height / t.size
            if label is not None and 0 <= label < t.size:
                ax.axhspan(base + label * row, base + (label + 1) * row, color="tab:green",
                           alpha=0.25, linewidth=0, label="label %d" % label)
            if predicted is not None:
                ax.scatter([min(float(t[predicted]), x_end * 1.04)],
                           [base + (predicted + 0.5) * row], s=120, facecolors="none",
                           edgecolors="tab:red", linewidths=1.5,
                           label="predicted %d" % predicted)
        ticks.append(base + height / 2.0)
        lname = name if name == kind else "%s %s" % (name, kind)
        ticklabels.append("%s\n%d fired of %d" % (lname, idx.size, t.size))
        base += height
        ax.axhline(base, color="0.8", linewidth=0.6)
    ax.set_yticks(ticks)
    ax.set_yticklabels(ticklabels, fontsize=7)
    ax.set_ylim(0, base)
    ax.set_xlim(0, x_end * 1.05)
    ax.set_xlabel("spike time (model units)")
    note = ("%d spike%s after t = %.4g not shown in place (drawn at the right edge)"
            % (beyond, "" if beyond == 1 else "s", x_end)) if beyond else ""
    if note:
        ax.text(0.99, 0.01, note, transform=ax.transAxes, ha="right", va="bottom",
                fontsize=7, color="0.3")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right", fontsize=7)
    title = "%s, moment %s, sample %d" % (args.spikes, moment, args.sample)
    verdict = ""
    if label is not None:
        title += ", label %d" % label
    title += ", predicted %s" % ("-" if predicted is None else predicted)
    if label is not None and predicted is not None:
        verdict = " (correct)" if label == predicted else " (wrong)"
    ax.set_title(title + verdict + "\n%d of %d neurons fired" % (fired, total), fontsize=9)
    fig.tight_layout()
    path = args.out or "raster-%s-%d.png" % (moment, args.sample)
    fig.savefig(path, dpi=args.dpi)
    print("wrote %s: label %s, predicted %s; time axis to %.4g, %d spike%s past it"
          % (path, "-" if label is None else label, "-" if predicted is None else predicted,
             x_end, beyond, "" if beyond == 1 else "s"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
