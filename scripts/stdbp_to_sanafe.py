#!/usr/bin/env python3
"""stdbp_to_sanafe: write stdbp's quantised dense network and a few test
images in SANA-FE's YAML SNN format, for the cross-check of
docs/HARDWARE.md ("Cross-check against SANA-FE").

  stdbp_to_sanafe.py CKPT.h5 REPORT.json IMAGES.idx OUT_DIR [-n N] [--first K]
  stdbp_to_sanafe.py --compare REPORT.json OUT_DIR

The second form, after run.sh, sets SANA-FE's run_summary.yaml of each
image beside stdbp's report (same images: deploy.samples = N from image
0) and prints the table of docs/HARDWARE.md: spikes, neuron updates,
energy and latency per image.

CKPT.h5 is the checkpoint that stdbp_deploy read, REPORT.json the
report.json it wrote (for each layer's scale and theta_q, the bit width,
T, t_max and the cores of its mapping), IMAGES.idx the MNIST test images
(idx3-ubyte, as in data/). For each of N images (from index K) it writes
OUT_DIR/image_I.yaml: the 784 inputs as SANA-FE input neurons with their
spike train, each dense layer as Loihi LIF neurons that integrate a
non-decaying current (input_decay 1, leak_decay 1: V(t) = sum w (t - t_i),
the ramp PSP), fire once (a refractory delay longer than the run) at
theta_q, with the integer weights w_q = round(w / scale) (clamped to
+-(2^(b-1) - 1)), mapped on the cores stdbp's mapping used (tile = x *
height + y, SANA-FE's numbering). It also runs stdbp's integer model
(docs/HARDWARE.md section 2) in numpy and writes OUT_DIR/expected.json:
per image the steps of the first output spike and the spikes per layer,
and OUT_DIR/run.sh, the SANA-FE commands (one run per image, for the
decision step + 2 time steps). The SANA-FE YAML format is the one its
snn/README.md documents; nothing of SANA-FE is used here.

Needs numpy and h5py (Debian: python3-numpy python3-h5py).
"""
import argparse
import json
import os
import struct
import sys

PROG = "stdbp_to_sanafe"


def fail(msg):
    print("%s: error: %s" % (PROG, msg), file=sys.stderr)
    sys.exit(1)


def read_idx_images(path, first, n):
    with open(path, "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051:
            fail("%s: not an idx3-ubyte image file (magic %d)" % (path, magic))
        if first + n > count:
            fail("%s holds %d images; asked for %d from %d" % (path, count, n, first))
        f.seek(16 + first * rows * cols)
        import numpy as np
        return np.frombuffer(f.read(n * rows * cols), dtype=np.uint8).reshape(n, rows * cols)


def round_half_away(x):
    import numpy as np
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantise_weights(w, scale, bits):
    import numpy as np
    wmax = 2 ** (bits - 1) - 1
    return np.clip(round_half_away(w / scale), -wmax, wmax).astype(np.int64)


def input_steps(pixels, T, t_max):
    """docs/DATA.md: t = t_max (1 - x), x = 0 silent; docs/HARDWARE.md:
    step = floor(t T / t_max + 1/2). -1 = silent."""
    import numpy as np
    x = pixels.astype(np.float64) / 255.0
    t = t_max * (1.0 - x)
    s = np.floor(t * T / t_max + 0.5).astype(np.int64)
    s[pixels == 0] = -1
    return s


def layer_steps(s_in, wq, theta, window):
    """The integer model: neuron j fires at the smallest step t <= window
    with sum over inputs with s_i < t of w_ij (t - s_i) >= theta."""
    import numpy as np
    n_out = wq.shape[1]
    live = (s_in >= 0) & (s_in <= window)
    idx = np.nonzero(live)[0]
    out = np.full(n_out, -1, dtype=np.int64)
    if idx.size == 0:
        return out
    # S(t) and R(t) over inputs with s_i < t, for t = 0 .. window
    dS = np.zeros((window + 2, n_out), dtype=np.int64)
    dR = np.zeros((window + 2, n_out), dtype=np.int64)
    for i in idx:
        dS[s_in[i] + 1] += wq[i]
        dR[s_in[i] + 1] += wq[i] * s_in[i]
    S = np.cumsum(dS, axis=0)[: window + 1]
    R = np.cumsum(dR, axis=0)[: window + 1]
    t = np.arange(window + 1, dtype=np.int64)[:, None]
    V = t * S - R
    hit = V >= theta
    any_hit = hit.any(axis=0)
    out[any_hit] = hit.argmax(axis=0)[any_hit]
    return out


def yaml_list(values):
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def read_summary(path):
    """SANA-FE's run_summary.yaml: flat `key: value` lines."""
    out = {}
    for line in open(path):
        if ":" in line:
            k, v = line.split(":", 1)
            try:
                out[k.strip()] = float(v)
            except ValueError:
                pass
    return out


def compare(report, out_dir):
    exp = json.load(open(os.path.join(out_dir, "expected.json")))
    r = [x for x in json.load(open(report))["results"] if x.get("simulated")][0]
    runs = []
    for im in exp["images"]:
        path = os.path.join(out_dir, "run_%d" % im["image"], "run_summary.yaml")
        if not os.path.exists(path):
            fail("%s: missing (run run.sh first)" % path)
        runs.append((im, read_summary(path)))
    n = len(runs)
    if r["images"] != n:
        print("%s: warning: stdbp simulated %d images, SANA-FE %d" % (PROG, r["images"], n),
              file=sys.stderr)
    mean = lambda k: sum(s.get(k, 0.0) for _, s in runs) / n
    ops, e = r["ops_per_image"], r["energy_uj_per_image"]
    rows = [
        ("time steps run", "%.1f" % r["decomposition"]["decision_steps"],
         "%.1f" % (sum(im["timesteps"] for im, _ in runs) / n)),
        ("spikes (neurons, to the decision)", "%.1f" % ops["spikes"],
         "%.1f" % (sum(sum(im["spikes_to_decision"]) for im, _ in runs) / n)),
        ("neurons fired (SANA-FE, inputs included)", "%.1f" % (ops["spikes"] + ops["input_spikes"]),
         "%.1f" % mean("total_neurons_fired")),
        ("packets", "%.1f" % ops["packets_sent"], "%.1f" % mean("total_messages_sent")),
        ("neuron updates", "%.1f" % ops["neuron_updates"], "%.1f" % mean("total_neurons_updated")),
        ("synaptic events", "%.1f" % ops["synaptic_updates"], "-"),
        ("energy, synaptic (uJ)", "%.4g" % e["synaptic"], "%.4g" % (1e6 * mean("synapse"))),
        ("energy, neuron + fire (uJ; SANA-FE: soma)", "%.4g" % (e["neuron"] + e["fire"]),
         "%.4g" % (1e6 * mean("soma"))),
        ("energy, send + receive + hops (uJ; SANA-FE: network)",
         "%.4g" % (e["send"] + e["receive"] + e["hops"]),
         "%.4g" % (1e6 * mean("network"))),
        ("energy, dynamic (uJ)", "%.4g" % e["dynamic"], "%.4g" % (1e6 * mean("total"))),
        ("energy, static (uJ)", "%.4g" % e["static"], "not modelled"),
        ("latency (ms)", "%.4g" % r["latency_ms"], "%.4g" % (1e3 * mean("sim_time"))),
    ]
    print("| per image (mean of %d) | stdbp loihi_like | SANA-FE arch/loihi.yaml |" % n)
    print("|---|---|---|")
    for row in rows:
        print("| %s | %s | %s |" % row)
    return 0


def main(argv):
    if argv and argv[0] == "--compare":
        if len(argv) != 3:
            fail("usage: --compare REPORT.json OUT_DIR")
        return compare(argv[1], argv[2])
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("ckpt")
    p.add_argument("report")
    p.add_argument("images")
    p.add_argument("out_dir")
    p.add_argument("-n", type=int, default=10, help="images (default 10)")
    p.add_argument("--first", type=int, default=0, help="first image (default 0)")
    p.add_argument("--arch", default="arch/loihi.yaml",
                   help="SANA-FE architecture file for run.sh (default arch/loihi.yaml)")
    a = p.parse_args(argv)
    try:
        import numpy as np
        import h5py
    except ImportError as e:
        fail("needs numpy and h5py (%s)" % e)

    rep = json.load(open(a.report))
    res = [r for r in rep["results"] if r.get("simulated")]
    if not res:
        fail("%s: no simulated width" % a.report)
    r = res[0]
    bits, T, t_max = r["bits"], rep["run"]["time_steps"], rep["run"]["t_max"]
    window = r["window_steps"]
    height = rep["profile"]["mesh_height"]
    cpt = rep["profile"]["cores_per_tile"]
    layers = r["layers"]
    with h5py.File(a.ckpt, "r") as f:
        names = sorted(k for k in f["weights"].keys())
        ws = [np.array(f["weights"][k]) for k in names]
    if len(ws) != len(layers) or not all(k.endswith("_dense") for k in names):
        fail("only dense networks are converted (%s)" % ", ".join(names))
    wq = [quantise_weights(w, L["scale"], bits) for w, L in zip(ws, layers)]
    theta = [L["theta_q"] for L in layers]
    imgs = read_idx_images(a.images, a.first, a.n)
    os.makedirs(a.out_dir, exist_ok=True)

    # mapping: stdbp's cores (layer, first neuron, count, tile x, y)
    def core_name(c):
        tile = c["x"] * height + c["y"]
        return "%d.%d" % (tile, c["core"] % cpt)

    mapping = []
    for c in r["cores"]:
        grp = "l%d" % c["layer"]
        lo, hi = c["first_neuron"], c["first_neuron"] + c["neurons"] - 1
        mapping.append("  - %s.%d..%d: [core: %s]" % (grp, lo, hi, core_name(c)))
    # the inputs enter at the input port: core 0 of the port's tile
    port = rep["profile"]["input_port"]
    mapping.append("  - in: [core: %d.0]" % (port[0] * height + port[1]))

    expected = []
    cmds = ["#!/bin/sh", "# SANA-FE runs of the images (from its source directory: SIM=./sim)",
            'SIM=${SIM:-./sim}', 'OUT=${OUT:-%s}' % a.out_dir, "set -e"]
    for k in range(a.n):
        s_in = input_steps(imgs[k], T, t_max)
        steps = [s_in]
        for L in range(len(wq)):
            steps.append(layer_steps(steps[-1], wq[L], theta[L], window))
        out = steps[-1]
        fired = out[out >= 0]
        dec_step = int(fired.min()) if fired.size else window
        decision = int(np.nonzero(out == dec_step)[0][0]) if fired.size else -1
        n_steps = dec_step + 2
        expected.append({
            "image": a.first + k, "decision": decision, "decision_step": dec_step,
            "timesteps": n_steps,
            "input_spikes": int((s_in >= 0).sum()),
            "spikes_to_decision": [int(((st >= 0) & (st <= dec_step)).sum()) for st in steps[1:]],
        })
        lines = ["network:", "  name: stdbp_image_%d" % (a.first + k), "  groups:",
                 "    - name: in", "      attributes: [log_spikes: false]",
                 "      neurons:"]
        for i in range(s_in.size):
            train = [0] * n_steps
            if 0 <= s_in[i] < n_steps:
                train[s_in[i]] = 1
            # SANA-FE's input model keeps one spike train per soma unit:
            # each input neuron gets its own (arch/loihi.yaml has 1,024)
            lines.append("        - %d: [soma_hw_name: 'loihi_inputs[%d]', spikes: %s]"
                         % (i, i, yaml_list(train)))
        for L in range(len(wq)):
            lines += ["    - name: l%d" % L,
                      "      attributes: [soma_hw_name: loihi_lif, synapse_hw_name: "
                      "loihi_dense_synapse, log_spikes: true,",
                      "                   soma: {threshold: %g, reset: 0, leak_decay: 1.0, "
                      "input_decay: 1.0, refractory_delay: 1000000}]" % (theta[L] - 0.5),
                      "      neurons:", "        - 0..%d: []" % (wq[L].shape[1] - 1)]
        lines.append("  edges:")
        src = "in"
        for L in range(len(wq)):
            lines.append("    - %s -> l%d: [type: dense, weight: %s]"
                         % (src, L, yaml_list(wq[L].reshape(-1))))
            src = "l%d" % L
        lines.append("mappings:")
        lines += mapping
        path = os.path.join(a.out_dir, "image_%d.yaml" % (a.first + k))
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        cmds.append('mkdir -p "$OUT/run_%d" && "$SIM" -o "$OUT/run_%d" %s "$OUT/image_%d.yaml" %d'
                    % (a.first + k, a.first + k, a.arch, a.first + k, n_steps))
    with open(os.path.join(a.out_dir, "expected.json"), "w") as f:
        json.dump({"bits": bits, "time_steps": T, "window": window, "theta_q": theta,
                   "images": expected}, f, indent=1)
    with open(os.path.join(a.out_dir, "run.sh"), "w") as f:
        f.write("\n".join(cmds) + "\n")
    print("wrote %d SANA-FE SNN files, expected.json and run.sh into %s" % (a.n, a.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
