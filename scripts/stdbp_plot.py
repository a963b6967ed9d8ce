#!/usr/bin/env python3
"""stdbp_plot: the plots of a stdbp run directory, as PNG files.

  RUN_DIR/plots/learning_curves.png  loss and accuracy per epoch (train,
                                     validation, test) from metrics.csv
  RUN_DIR/plots/diagnostics.png      the training diagnostics per epoch from
                                     metrics.csv: learning rate, silent
                                     outputs and hidden neurons, first output
                                     spike time (mean and spread), synaptic
                                     events per sample
  RUN_DIR/plots/spike_raster.png     the spike raster of one sample, if
                                     RUN_DIR/spikes.h5 exists (drawn by
                                     spike_raster.py, which stdbp installs),
                                     with its label and predicted class, the
                                     time axis clipped to the 99th percentile
                                     of its spike times
  RUN_DIR/plots/tornado.png          the sensitivity of energy, latency and
                                     power per image to each accelerator
                                     parameter, if RUN_DIR/sensitivity.json
                                     exists (stdbp_deploy --sensitivity)

  stdbp_plot --tornado FILE.json [-o DIR] draws only the tornado plot of a
  sensitivity.json (into DIR, default the file's directory + /plots).

Needs python3 with matplotlib (Debian: python3-matplotlib); the raster also
needs h5py (python3-h5py). metrics.csv columns: docs/FORMAT.md.
"""
import argparse
import csv
import math
import os
import subprocess
import sys

PROG = "stdbp_plot"
# Where spike_raster.py may be: filled in by make (src/cli/local.mk) for
# the installed and build-tree copies of this script; when it runs from the
# source tree as scripts/stdbp_plot.py, spike_raster.py is beside it.
RASTER_DIRS = ["@pkglibexecdir@", "@abs_top_srcdir@/scripts"]


def fail(msg, status=1):
    print("%s: error: %s" % (PROG, msg), file=sys.stderr)
    sys.exit(status)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Draw the plots of a stdbp run directory as PNG files in "
        "RUN_DIR/plots/: learning curves (loss and accuracy per epoch, train / "
        "validation / test, from metrics.csv), the training diagnostics (learning "
        "rate, silent outputs and hidden neurons, first output spike time, synaptic "
        "events per sample) and, if RUN_DIR/spikes.h5 exists, the spike raster of "
        "one sample (its label and predicted class marked, the time axis clipped "
        "to the 99th percentile of its spike times).",
        epilog="Example: stdbp_plot runs/mnist  (then open runs/mnist/plots/*.png). "
        "Also: stdbp_plot confusion EVAL.json OUT.png (the confusion matrix of "
        "stdbp_eval --json; see stdbp_plot confusion --help). "
        "Needs python3-matplotlib; the raster also python3-h5py. "
        "Files: docs/FORMAT.md.")
    p.add_argument("run_dir", metavar="RUN_DIR", nargs="?",
                   help="a run directory (holds metrics.csv)")
    p.add_argument("--tornado", metavar="FILE.json",
                   help="draw only the tornado plot of this sensitivity.json "
                   "(stdbp_deploy --sensitivity)")
    p.add_argument("-o", "--out-dir", help="where to write the PNGs (default RUN_DIR/plots)")
    p.add_argument("-s", "--sample", type=int, default=0,
                   help="sample (row) of spikes.h5 for the raster (default 0)")
    p.add_argument("-m", "--moment",
                   help="moment of spikes.h5 for the raster (default: 'end' if present, "
                   "else the last one)")
    p.add_argument("--no-raster", action="store_true", help="skip the spike raster")
    p.add_argument("--no-clip", action="store_true",
                   help="raster: show every spike (no clipping of the time axis)")
    p.add_argument("--dpi", type=int, default=120, help="resolution (default 120)")
    a = p.parse_args(argv)
    if not a.run_dir and not a.tornado:
        p.error("give RUN_DIR or --tornado FILE.json")
    return a


def number(text):
    """A float from a CSV cell; NaN for empty or unparsable cells."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def read_metrics(path):
    """Rows of metrics.csv as dicts of floats, one per epoch (the last row
    wins if an epoch repeats), in epoch order."""
    if not os.path.exists(path):
        fail("%s not found: is this a stdbp run directory? (training writes metrics.csv at "
             "the end of each epoch)" % path)
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        fail("cannot read %s: %s" % (path, e))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        fail("%s is empty: no header and no epochs (training writes a row at the end of "
             "each epoch)" % path)
    header = [c.strip() for c in rows[0]]
    need = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc"]
    missing = [c for c in need if c not in header]
    if missing:
        fail("%s: header lacks column(s) %s (got: %s); is it a stdbp metrics.csv?"
             % (path, ", ".join(missing), ",".join(header)))
    # Epochs count from 1; a file without the diagnostics columns (written
    # by an older stdbp) counts them from 0.
    shift = 0 if "silent_outputs" in header else 1
    by_epoch = {}
    for line, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            fail("%s:%d: %d values, the header has %d" % (path, line, len(r), len(header)))
        v = {name: number(cell) for name, cell in zip(header, r)}
        if math.isnan(v["epoch"]):
            fail("%s:%d: epoch '%s' is not a number" % (path, line, r[header.index("epoch")]))
        v["epoch"] += shift
        by_epoch[int(v["epoch"])] = v
    if not by_epoch:
        fail("%s has a header but no epochs yet (the first row is written at the end of "
             "epoch 1)" % path)
    return [by_epoch[e] for e in sorted(by_epoch)]


def plot_curves(rows, run_dir, out, dpi):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        fail("%s: install matplotlib (Debian: apt-get install python3-matplotlib)" % e)
    epochs = [int(r["epoch"]) for r in rows]  # from 1 (read_metrics)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.2))
    splits = [("train", "C0", "o"), ("val", "C1", "s"), ("test", "C2", "^")]
    labels = {"train": "train", "val": "validation", "test": "test"}
    drawn = 0
    for split, color, marker in splits:
        for ax, col, scale in ((ax_loss, split + "_loss", 1.0), (ax_acc, split + "_acc", 100.0)):
            pts = [(e, r[col] * scale) for e, r in zip(epochs, rows) if math.isfinite(r[col])]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, color=color, marker=marker, markersize=4, linewidth=1.5,
                        label=labels[split])
                drawn += 1
    ax_loss.set_title("loss")
    ax_loss.set_ylabel("cross-entropy over output spike times")
    ax_acc.set_title("accuracy")
    ax_acc.set_ylabel("accuracy (%)")
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        if len(epochs) <= 20:
            ax.set_xticks(epochs)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    last = rows[-1]
    summary = ", ".join("%s %.2f%%" % (labels[s], 100 * last[s + "_acc"])
                        for s, _, _ in splits if math.isfinite(last[s + "_acc"]))
    fig.suptitle("%s: %d epoch%s%s" % (os.path.basename(os.path.normpath(run_dir)) or run_dir,
                                        len(epochs), "" if len(epochs) == 1 else "s",
                                        " (last: %s)" % summary if summary else ""),
                 fontsize=10)
    fig.text(0.5, 0.01, "train: running mean over each epoch while the weights change; "
             "validation, test: evaluated after the epoch", ha="center", fontsize=8,
             color="0.35")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    if drawn == 0:
        print("%s: warning: metrics.csv holds no finite loss or accuracy; %s is empty"
              % (PROG, out), file=sys.stderr)


DIAGNOSTICS = ("lr", "silent_outputs", "silent_hidden", "first_spike_mean", "first_spike_std",
               "syn_events_per_sample")


def plot_diagnostics(rows, run_dir, out, dpi):
    """The training diagnostics per epoch, four panels. Returns False (and
    draws nothing) when metrics.csv has none (an older file: lr only)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def col(name):
        return [(int(r["epoch"]), r[name]) for r in rows
                if name in r and math.isfinite(r[name])]
    if not any(col(c) for c in DIAGNOSTICS[1:]):
        return False
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    (ax_lr, ax_silent), (ax_first, ax_events) = axes

    def line(ax, pts, label, color, marker="o"):
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, color=color, marker=marker, markersize=4, linewidth=1.5, label=label)
    line(ax_lr, col("lr"), "learning rate", "C0")
    ax_lr.set_title("learning rate (last step of the epoch)")
    line(ax_silent, [(e, 100 * v) for e, v in col("silent_outputs")], "outputs", "C3")
    line(ax_silent, [(e, 100 * v) for e, v in col("silent_hidden")], "hidden neurons", "C1", "s")
    ax_silent.set_title("silent neurons (%)")
    ax_silent.set_ylim(-2, 102)
    mean = dict(col("first_spike_mean"))
    std = dict(col("first_spike_std"))
    pts = sorted(mean.items())
    line(ax_first, pts, "mean", "C2")
    if pts and all(e in std for e, _ in pts):
        xs = [e for e, _ in pts]
        ax_first.fill_between(xs, [m - std[e] for e, m in pts], [m + std[e] for e, m in pts],
                              color="C2", alpha=0.2, label="mean +- std")
    ax_first.set_title("first output spike time (model units)")
    line(ax_events, col("syn_events_per_sample"), "synaptic events", "C4")
    ax_events.set_title("synaptic events per sample")
    epochs = [int(r["epoch"]) for r in rows]
    for ax in axes.flat:
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        if len(epochs) <= 20:
            ax.set_xticks(epochs)
        if len(ax.get_legend_handles_labels()[0]) > 1:
            ax.legend(fontsize=8)
    fig.suptitle("%s: training diagnostics" % (os.path.basename(os.path.normpath(run_dir))
                                               or run_dir), fontsize=10)
    fig.text(0.5, 0.01, "measured after each epoch on the first 1,024 test images "
             "(docs/FORMAT.md, Metrics)", ha="center", fontsize=8, color="0.35")
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return True


def read_sensitivity(path):
    """The parameters of a sensitivity.json that were varied and simulated
    at both ends, as (key, low, high, value, {metric: (at_low, at_high)}),
    and the baseline {metric: value}."""
    import json
    try:
        with open(path) as f:
            doc = json.load(f)
        base = doc["baseline"]
        params = doc["parameters"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail("%s: not a sensitivity.json (%s)" % (path, e))
    metrics = ("energy_uj", "latency_ms", "power_mw")
    if not base.get("simulated"):
        fail("%s: the baseline was not simulated" % path)
    rows = []
    for q in params:
        lo, hi = q.get("at_low", {}), q.get("at_high", {})
        if not q.get("varied") or not lo.get("simulated") or not hi.get("simulated"):
            continue
        rows.append((q["key"], q["low"], q["high"], q["value"],
                     {m: (lo[m], hi[m]) for m in metrics}))
    return rows, {m: base[m] for m in metrics}, doc


def plot_tornado(path, out, dpi):
    """One panel per metric: a bar per parameter from its value at the low
    end of the range to its value at the high end, around the baseline,
    the widest swing (in energy) on top."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows, base, doc = read_sensitivity(path)
    rows.sort(key=lambda r: abs(r[4]["energy_uj"][1] - r[4]["energy_uj"][0]))
    titles = {"energy_uj": "energy per image (uJ)", "latency_ms": "latency per image (ms)",
              "power_mw": "power (mW)"}
    h = max(3.0, 0.35 * len(rows) + 1.5)
    fig, axes = plt.subplots(1, 3, figsize=(15, h), sharey=True)
    labels = ["%s [%g, %g]" % (r[0], r[1], r[2]) for r in rows]
    for ax, m in zip(axes, ("energy_uj", "latency_ms", "power_mw")):
        b = base[m]
        for i, r in enumerate(rows):
            lo, hi = r[4][m]
            ax.barh(i, lo - b, left=b, color="tab:blue", height=0.6,
                    label="at low" if i == 0 else None)
            ax.barh(i, hi - b, left=b, color="tab:orange", height=0.6,
                    label="at high" if i == 0 else None)
        ax.axvline(b, color="black", linewidth=0.8)
        ax.set_title(titles[m])
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(rows)))
    axes[0].set_yticklabels(labels, fontsize=8)
    if rows:
        axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle("sensitivity: profile %s, %d-bit weights, %d images (baseline %.4g uJ, "
                 "%.4g ms, %.4g mW)" % (doc.get("profile", "?"), doc.get("bits", 0),
                                        doc.get("images", 0), base["energy_uj"],
                                        base["latency_ms"], base["power_mw"]))
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def find_raster_script():
    here = os.path.dirname(os.path.abspath(__file__))
    cands = [os.environ.get("STDBP_SPIKE_RASTER", "")]
    cands += [os.path.join(d, "spike_raster.py") for d in RASTER_DIRS if "@" not in d]
    cands.append(os.path.join(here, "spike_raster.py"))  # scripts/ in the source tree
    for c in cands:
        if c and os.path.isfile(c):
            return c
    return None


def plot_raster(spikes, args, out):
    script = find_raster_script()
    if not script:
        fail("cannot find spike_raster.py (installed in %s; or set STDBP_SPIKE_RASTER)"
             % RASTER_DIRS[0])
    cmd = [sys.executable, script, spikes, "--sample", str(args.sample), "-o", out,
           "--dpi", str(args.dpi)]
    if args.moment:
        cmd += ["--moment", args.moment]
    if args.no_clip:
        cmd += ["--no-clip"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if r.returncode != 0:
        fail("spike raster of %s failed:\n%s" % (spikes, (r.stderr or r.stdout).strip()))


def system_python_fallback():
    """Without matplotlib here (say a pyenv or venv python3 first on PATH),
    run again with the system's python3, where Debian installs it."""
    try:
        import matplotlib  # noqa: F401
        return
    except ImportError:
        pass
    sys_py = "/usr/bin/python3"
    if (os.path.realpath(sys.executable) != os.path.realpath(sys_py) and os.access(sys_py, os.X_OK)
            and not os.environ.get("STDBP_PLOT_REEXEC")):
        probe = subprocess.run([sys_py, "-c", "import matplotlib"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        if probe.returncode == 0:
            os.environ["STDBP_PLOT_REEXEC"] = "1"
            os.execv(sys_py, [sys_py, os.path.abspath(__file__)] + sys.argv[1:])


def confusion_command(argv):
    """stdbp_plot confusion EVAL.json OUT.png: the confusion matrix of a
    `stdbp_eval --json` file as a PNG (rows: label, columns: predicted
    class, plus a column for samples without an output spike), each row
    shaded by its fraction of the label's samples, the counts written in
    the cells, and each class's accuracy beside its row."""
    import json
    p = argparse.ArgumentParser(
        prog=PROG + " confusion",
        description="Draw the confusion matrix of a stdbp_eval --json file as a PNG.",
        epilog="Example: stdbp_eval runs/mnist --json eval.json && "
        "stdbp_plot confusion eval.json confusion.png")
    p.add_argument("eval_json", metavar="EVAL.json", help="written by stdbp_eval --json")
    p.add_argument("out", metavar="OUT.png", help="the PNG to write")
    p.add_argument("--dpi", type=int, default=120, help="resolution (default 120)")
    a = p.parse_args(argv)
    try:
        with open(a.eval_json) as f:
            doc = json.load(f)
        k = int(doc["classes"])
        cm = [[int(v) for v in row] for row in doc["confusion"]]
        silent = [int(v) for v in doc.get("no_spike", [0] * k)]
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail("%s: not a stdbp_eval --json file (%s)" % (a.eval_json, e))
    if doc.get("format") != "stdbp-eval" or len(cm) != k or any(len(r) != k for r in cm):
        fail("%s: not a stdbp_eval --json file (format %r, %d x ? matrix for %d classes)"
             % (a.eval_json, doc.get("format"), len(cm), k))
    system_python_fallback()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [cm[c] + [silent[c]] for c in range(k)]
    totals = [max(1, sum(r)) for r in rows]
    frac = [[v / t for v in r] for r, t in zip(rows, totals)]
    size = max(4.0, 0.5 * (k + 1) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    im = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    if k <= 30:
        for c in range(k):
            for p_ in range(k + 1):
                if rows[c][p_]:
                    ax.text(p_, c, str(rows[c][p_]), ha="center", va="center", fontsize=7,
                            color="white" if frac[c][p_] > 0.5 else "black")
    ax.set_xticks(range(k + 1))
    ax.set_xticklabels([str(c) for c in range(k)] + ["none"], fontsize=8)
    ax.set_yticks(range(k))
    ax.set_yticklabels(["%d (%.1f%%)" % (c, 100.0 * cm[c][c] / totals[c]) for c in range(k)],
                       fontsize=8)
    ax.set_xlabel("predicted class (none: no output spike)")
    ax.set_ylabel("label (accuracy)")
    acc = doc.get("accuracy")
    ax.set_title("%s split: accuracy %s of %d samples, step %s" % (
        doc.get("split", "?"), "%.2f%%" % (100 * acc) if acc is not None else "n/a",
        int(doc.get("samples", 0)), doc.get("step", "?")), fontsize=9)
    fig.colorbar(im, ax=ax, label="fraction of the label's samples")
    fig.tight_layout()
    out_dir = os.path.dirname(a.out)
    try:
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
        fig.savefig(a.out, dpi=a.dpi)
    except OSError as e:
        fail("cannot write %s: %s" % (a.out, e))
    plt.close(fig)
    print("wrote %s" % a.out)
    return 0


def main(argv):
    if argv[:1] == ["confusion"]:
        return confusion_command(argv[1:])
    args = parse_args(argv)
    system_python_fallback()
    if args.tornado:
        if not os.path.isfile(args.tornado):
            fail("%s: no such file" % args.tornado)
        out_dir = args.out_dir or os.path.join(os.path.dirname(args.tornado) or ".", "plots")
        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError as e:
            fail("cannot create %s: %s" % (out_dir, e))
        out = os.path.join(out_dir, "tornado.png")
        plot_tornado(args.tornado, out, args.dpi)
        print("wrote %s" % out)
        return 0
    run_dir = args.run_dir
    if not os.path.isdir(run_dir):
        fail("%s: no such directory (give a stdbp run directory)" % run_dir)
    rows = read_metrics(os.path.join(run_dir, "metrics.csv"))
    out_dir = args.out_dir or os.path.join(run_dir, "plots")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        fail("cannot create %s: %s" % (out_dir, e))
    written = []
    curves = os.path.join(out_dir, "learning_curves.png")
    plot_curves(rows, run_dir, curves, args.dpi)
    written.append(curves)
    diagnostics = os.path.join(out_dir, "diagnostics.png")
    if plot_diagnostics(rows, run_dir, diagnostics, args.dpi):
        written.append(diagnostics)
    else:
        print("%s: metrics.csv has no diagnostics columns (written by an older stdbp): "
              "no diagnostics.png" % PROG, file=sys.stderr)
    spikes = os.path.join(run_dir, "spikes.h5")
    if not args.no_raster and os.path.exists(spikes):
        raster = os.path.join(out_dir, "spike_raster.png")
        plot_raster(spikes, args, raster)
        written.append(raster)
    sens = os.path.join(run_dir, "sensitivity.json")
    if os.path.exists(sens):
        tornado = os.path.join(out_dir, "tornado.png")
        plot_tornado(sens, tornado, args.dpi)
        written.append(tornado)
    for w in written:
        print("wrote %s" % w)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
