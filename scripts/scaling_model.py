#!/usr/bin/env python3
"""The scaling model of docs/SCALING.md: fit, check, predict.

  scaling_model.py fit DIR          fit alpha/beta per link and collective
                                    from DIR/coll.csv, the compute and update
                                    costs from DIR/train.csv (the output of
                                    bench/comm_measure.sh), check the model
                                    against every measured training step;
                                    writes DIR/model.json, prints Markdown
  scaling_model.py predict [--model DIR/model.json] [--png FILE]
                                    [--core-us US] [--update-ns NS]
                                    [--ranks-per-node R] [--node-gbs G]
                                    [--sum-ns S]
                                    time per epoch and parallel efficiency on
                                    cluster interconnects, P = 1 .. 1024,
                                    global batch 128 .. 8192; Markdown tables
                                    and a PNG plot (matplotlib). Per core:
                                    compute US per sample, update NS per
                                    parameter (default: bench_core's here).
                                    With --ranks-per-node: the node windows'
                                    way on nodes of R ranks (one per core)
                                    whose memory moves G GB/s (default
                                    NODE_GBS), S ns per int64 of another
                                    rank's accumulator (default: the fit's)

A training step of the sharded update through the collectives
(src/train/trainer_step.c, STDBP_SHARED_UPDATE=off):
  t(P, B) = compute(ceil(B/P)) + sum(5 int64) + reduce-scatter(n) +
            all-gather(n) + update(n/P)
with ring collectives (Open MPI's tuned component fixed to them by MCA
parameters): reduce-scatter and all-gather each cost
  (P - 1) alpha + (P - 1)/P * 8n * beta,
and the recursive-doubling all-reduce of the statistics ceil(log2 P) alpha.

The trainer's default goes through each node's shared memory instead
(rows of link "node"): N nodes of r ranks, P = N r,
  t = compute(ceil(ceil(B/N)/r)) + sum(5 int64) + 2 node barriers
      + update(n/r) + (r - 1)/r * n * s          its slice of the node's
                                                  other accumulators
      + all-reduce(n/r int64 over the N nodes)    N > 1 only
with s the time per int64 of another rank's accumulator, fitted on this
machine from the node and collectives runs of 2 ranks;
  scaling_model.py predict --ranks-per-node R [--node-gbs G]
predicts that way on nodes of R cores whose memory moves G GB/s.
Needs numpy; plotting needs matplotlib (Debian: python3-numpy,
python3-matplotlib).
"""
import csv
import json
import math
import os
import sys

import numpy as np

N_MLP = 635200          # parameters of the MNIST MLP 784-800-10
N_NEURONS_MLP = 810     # the weight-sum penalty all-gathers one value each
TRAIN_SAMPLES = 55000   # MNIST training images per epoch (5,000 held out)
CORES = 2               # this machine

# Published interconnect figures (docs/SCALING.md names the sources).
# alpha: per-message time an MPI message pays on top of the adapter's
# latency figure (MPI software, one switch hop): taken as 1 us for
# InfiniBand; for 25 GbE (kernel TCP) the TCP software cost measured here
# between two namespaces is used instead (set from the fit when present).
# beta: 1 / (line rate x efficiency), the efficiency 0.9 for InfiniBand
# (64b/66b coding and headers), 0.94 for TCP over Ethernet (MTU 1500).
LINKS = {
    "25 GbE (TCP)": {"alpha": None, "gbit": 25, "eff": 0.94},
    "100 Gb/s InfiniBand (EDR)": {"alpha": 1.0e-6, "gbit": 100, "eff": 0.9},
    "200 Gb/s InfiniBand (HDR)": {"alpha": 1.0e-6, "gbit": 200, "eff": 0.9},
}
TCP_ALPHA_DEFAULT = 15e-6
# One core, CPU time, from bench/bench_core --model mlp (docs/SCALING.md):
# forward+backward per sample, and the update (mean gradient, penalty,
# Adam) per parameter: its share of the step times the step's time / n.
CORE_US_PER_SAMPLE = 134.7
CORE_NS_PER_PARAM = 0.181 * (128 / 8275) / N_MLP * 1e9
# The node windows' way: a rank adds its slice of every other accumulator
# of its node, each read and zeroed (16 bytes per int64), and steps Adam on
# its slice (w, m, v read and written, the gradient written and read: 64
# bytes per parameter). On a node of many cores these streams share the
# node's memory; NODE_GBS is a two-socket node of 2 x 8 channels of
# DDR4-3200 (409.6 GB/s peak) at the 80 % of peak that STREAM reaches
# (docs/SCALING.md names the sources).
NODE_GBS = 330.0
SUM_BYTES, UPDATE_BYTES = 16, 64
SUM_NS_DEFAULT = 0.8
# Links checked with another link's constants instead of fitted: two
# namespaces of two ranks each, with those of one rank each.
FIT_FROM = {"tcp-2x2": "tcp-2x1"}
OUTLIER = 3.0


def ring_terms(p):
    """(a, b) of a ring reduce-scatter or all-gather on p ranks."""
    return (p - 1.0), (p - 1.0) / p


def log_terms(p):
    return math.ceil(math.log2(p)) if p > 1 else 0.0


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def fit_terms(rows, col, terms, drop=True):
    """Least squares in relative error: t = a alpha + b bytes beta, with
    (a, b) = terms(P). A point more than OUTLIER times the first fit is
    dropped and the fit repeated: on a loaded machine a size whose every
    repetition was disturbed (the minimum still slow) can only be slower
    than the link. Returns alpha, beta and the rows kept."""
    def solve(rs):
        A = []
        for r in rs:
            p, nbytes, t = int(r["ranks"]), float(r["bytes"]), 1e-6 * float(r[col])
            a, b = terms(p)
            A.append([a / t, b * nbytes / t])
        sol, *_ = np.linalg.lstsq(np.array(A), np.ones(len(A)), rcond=None)
        return max(sol[0], 0.0), max(sol[1], 0.0)
    alpha, beta = solve(rows)
    for _ in range(3 if drop else 0):
        kept = []
        for r in rows:
            a, b = terms(int(r["ranks"]))
            pred = a * alpha + b * float(r["bytes"]) * beta
            if 1e-6 * float(r[col]) <= OUTLIER * pred:
                kept.append(r)
        if len(kept) < 2 or len(kept) == len(rows):
            break
        rows = kept
        alpha, beta = solve(rows)
    return alpha, beta, rows


def fit_alpha_beta(rows, col, drop=True):
    return fit_terms(rows, col, ring_terms, drop)


def coll_model(p, nbytes, alpha, beta):
    a, b = ring_terms(p)
    return a * alpha + b * nbytes * beta


def best_of_runs(rows, col):
    """One row per (link, op, ranks, n): the least time over repeated runs."""
    best = {}
    for r in rows:
        k = (r["link"], r["op"], r["ranks"], r["n"])
        if k not in best or float(r[col]) < float(best[k][col]):
            best[k] = r
    return list(best.values())


def cmd_fit(d):
    coll = best_of_runs(read_csv(os.path.join(d, "coll.csv")), "min_us")
    train = read_csv(os.path.join(d, "train.csv"))
    col = "min_us"
    model = {"links": {}, "fit_on": {}}
    print("## Fitted constants (min over repetitions)\n")
    print("| link | collective | fitted on P | alpha (us) | beta (ns/byte) | "
          "bandwidth (GB/s) | sizes dropped | rel. error, fit points (median) | checked on P | "
          "rel. error there (median) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    links = sorted({r["link"] for r in coll}, key=lambda l: (l in FIT_FROM, l))
    for link in links:
        model["links"][link] = {}
        for op in ("rs", "ag", "sum"):
            rows = [r for r in coll if r["link"] == link and r["op"] == op]
            if not rows:
                continue
            ps = sorted({int(r["ranks"]) for r in rows})
            src = FIT_FROM.get(link)
            # a rate-limited link is slow beyond its burst by design: no
            # size is dropped as disturbed there
            drop = not link.startswith("tbf")
            if src:  # checked with another link's constants, not fitted
                c = model["links"].get(src, {}).get(op)
                if not c:
                    continue
                alpha, beta, fit_p = c["alpha"], c["beta"], None
                fit_rows = []
            else:
                fit_p = ps[0]  # the smallest: P = 2, not oversubscribed
                fit_rows = [r for r in rows if int(r["ranks"]) == fit_p]
            if src:
                kept = []
            elif op == "sum":  # recursive doubling: log2(P) (alpha + bytes beta)
                alpha, beta, kept = fit_terms(fit_rows, col,
                                              lambda p: (log_terms(p), log_terms(p)), drop)
            else:
                alpha, beta, kept = fit_alpha_beta(fit_rows, col, drop)
            dropped = len(fit_rows) - len(kept) if not src else 0
            if op == "sum":
                pred = lambda p, nb: log_terms(p) * (alpha + nb * beta)
            else:
                pred = lambda p, nb: coll_model(p, nb, alpha, beta)

            def err(rs):
                e = [abs(pred(int(r["ranks"]), float(r["bytes"])) / (1e-6 * float(r[col])) - 1)
                     for r in rs]
                return float(np.median(e)) if e else float("nan")
            others = [r for r in rows if int(r["ranks"]) != fit_p]
            model["links"][link][op] = {"alpha": alpha, "beta": beta, "fit_p": fit_p,
                                        "dropped": dropped}
            where = f"{fit_p}" if fit_p else f"(constants of {src})"
            print(f"| {link} | {op} | {where} | {1e6 * alpha:.2f} | {1e9 * beta:.3f} | "
                  f"{(1e-9 / beta) if beta > 0 else float('inf'):.2f} | {dropped} | "
                  f"{(str(round(100 * err(kept))) + ' %') if fit_rows else '-'} | "
                  f"{','.join(str(p) for p in ps if p != fit_p) or '-'} | "
                  f"{(str(round(100 * err(others))) + ' %') if others else '-'} |")

    # Compute and update per sample and per parameter, from the 1-rank runs
    # (the median over their batches). The update streams five arrays per
    # parameter: ranks on one node share its memory bandwidth, so the
    # node-wide rate (u_node, from the 2-rank run of the smallest batch)
    # bounds the update from below as well as the one-core rate (u_core).
    one = [r for r in train if int(r["ranks"]) == 1]
    c_s = float(np.median([float(r["compute_ms"]) / int(r["batch"]) for r in one])) * 1e-3
    u_p = float(np.median([float(r["update_ms"]) / N_MLP for r in one])) * 1e-3
    two = [r for r in train if int(r["ranks"]) == CORES and r["link"] == "shm"]
    u_node = 0.0
    if two:
        b0 = min(int(r["batch"]) for r in two)
        u_node = float(np.median([float(r["update_ms"]) / N_MLP
                                  for r in two if int(r["batch"]) == b0])) * 1e-3
    model["compute_per_sample"] = c_s
    model["update_per_param"] = u_p
    model["update_per_param_node"] = u_node
    print(f"\ncompute per sample (1 rank, from the trainer's t_compute, median over "
          f"{len(one)} batches): {1e6 * c_s:.1f} us; update per parameter (t_update): one "
          f"rank {1e9 * u_p:.2f} ns, the node's {CORES} ranks together {1e9 * u_node:.2f} ns")
    # The node windows' way: what its update adds to the collectives' at the
    # same P and batch is the slices of the node's other accumulators,
    # (P - 1)/P n int64 per rank: s per int64 (median over the batches).
    sums = []
    for r in train:
        if r["link"] != "node" or int(r["ranks"]) != CORES:
            continue
        twin = [t for t in train if t["link"] == "shm" and t["ranks"] == r["ranks"]
                and t["batch"] == r["batch"]]
        if twin:
            p = int(r["ranks"])
            extra = float(r["update_ms"]) - float(twin[0]["update_ms"])
            sums.append(max(extra, 0.0) * 1e-3 / ((p - 1) / p * N_MLP))
    if sums:
        model["sum_per_value"] = float(np.median(sums))
        print(f"node windows: another rank's accumulator costs {1e9 * model['sum_per_value']:.2f} "
              f"ns per int64 (median over {len(sums)} batches, {CORES} ranks)")
    print()

    print("## Predicted against measured time per step\n")
    print("Predicted: the model alone; with the slowest rank: the same with the "
          "measured compute of the slowest rank, which every rank waits for.\n")
    print("| link | P | global batch | measured (ms): step = compute + reduce + update | "
          "slowest rank's compute (ms) | predicted (ms): step = compute + reduce + update | "
          "error | with the slowest rank: predicted (ms), error |")
    print("|---|---|---|---|---|---|---|---|")
    errs = []
    for r in train:
        link, p, b = r["link"], int(r["ranks"]), int(r["batch"])
        if link == "node":
            pr = predict_node_step(model, p, b)
        else:
            lk = "shm" if p == 1 else FIT_FROM.get(link, link)
            pr = predict_step(model, lk, p, b)
        if pr is None:
            continue
        meas = float(r["step_ms"])
        slow = float(r.get("slowest_compute_ms") or "nan")
        e = pr[0] * 1e3 / meas - 1
        ps = pr[0] - pr[1] + 1e-3 * slow
        es = ps * 1e3 / meas - 1
        errs.append((link, p, b, e, es))
        print(f"| {link} | {p} | {b} | {meas:.2f} = {float(r['compute_ms']):.2f} + "
              f"{float(r['reduce_ms']):.2f} + {float(r['update_ms']):.2f} | {slow:.2f} | "
              f"{1e3 * pr[0]:.2f} = {1e3 * pr[1]:.2f} + {1e3 * pr[2]:.2f} + {1e3 * pr[3]:.2f} | "
              f"{100 * e:+.0f} % | {1e3 * ps:.2f}, {100 * es:+.0f} % |")
    model["check"] = errs
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(model, f, indent=1)
    node = lambda e: e[0] == "node"
    for name, sel in ((f"collectives, P <= {CORES} (a core per rank)",
                       lambda e: e[1] <= CORES and not node(e)),
                      (f"collectives, P > {CORES} (oversubscribed)",
                       lambda e: e[1] > CORES and not node(e)),
                      (f"node windows, P <= {CORES}", lambda e: e[1] <= CORES and node(e)),
                      (f"node windows, P > {CORES} (oversubscribed)",
                       lambda e: e[1] > CORES and node(e))):
        ae = [abs(e[3]) for e in errs if sel(e)]
        aes = [abs(e[4]) for e in errs if sel(e) and not math.isnan(e[4])]
        if ae:
            print(f"\n{name}: median |error| {100 * float(np.median(ae)):.0f} %, largest "
                  f"{100 * max(ae):.0f} %", end="")
            if aes:
                print(f"; with the slowest rank's compute: median {100 * float(np.median(aes)):.0f} %,"
                      f" largest {100 * max(aes):.0f} %", end="")
            print()


def local_step(model, p, b, oversub, n):
    """(compute, update, stretch) of one rank's step on this machine, both
    ways alike: compute and update stretch by P/cores beyond oversub cores,
    and the update is bounded by the node's rate (u_node) as well."""
    c_s, u_p = model["compute_per_sample"], model["update_per_param"]
    u_node = model.get("update_per_param_node", 0.0)
    stretch = max(1.0, p / oversub)
    compute = math.ceil(b / p) * c_s * stretch
    update = max(math.ceil(n / p) * u_p, min(p, oversub) * math.ceil(n / p) * u_node) * stretch
    return compute, update, stretch


def predict_step(model, link, p, b, oversub=CORES, n=N_MLP):
    """(total, compute, reduce, update) seconds of one step on this machine,
    or None when the link was not measured. oversub: the cores the ranks
    share (compute and update stretch by P/cores beyond them)."""
    compute, update, _ = local_step(model, p, b, oversub, n)
    if p == 1:
        return compute + update, compute, 0.0, update
    lk = model["links"].get(link)
    if not lk or "rs" not in lk or "ag" not in lk:
        return None
    reduce = coll_model(p, 8 * n, lk["rs"]["alpha"], lk["rs"]["beta"]) + \
        coll_model(p, 8 * n, lk["ag"]["alpha"], lk["ag"]["beta"])
    if "sum" in lk:
        reduce += log_terms(p) * (lk["sum"]["alpha"] + 40 * lk["sum"]["beta"])
    # the penalty's all-gather of one value per neuron counts as update
    update += coll_model(p, 8 * N_NEURONS_MLP, lk["ag"]["alpha"], lk["ag"]["beta"])
    return compute + reduce + update, compute, reduce, update


def predict_node_step(model, p, b, oversub=CORES, n=N_MLP):
    """(total, compute, reduce, update) seconds of one step of the node
    windows' way on this machine (one node, p ranks), or None without the
    shared-memory fit. The reduce part is the statistics' all-reduce and
    the two barriers, each taken at the all-reduce's latency; the update
    adds the slices of the other p - 1 accumulators to the collectives'
    update of n/p parameters."""
    lk = model["links"].get("shm")
    if p > 1 and (not lk or "sum" not in lk or "ag" not in lk or "sum_per_value" not in model):
        return None
    compute, update, stretch = local_step(model, p, b, oversub, n)
    if p == 1:
        return compute + update, compute, 0.0, update
    update += (p - 1) / p * n * model["sum_per_value"] * stretch
    update += coll_model(p, 8 * N_NEURONS_MLP, lk["ag"]["alpha"], lk["ag"]["beta"])
    reduce = log_terms(p) * (3 * lk["sum"]["alpha"] + 40 * lk["sum"]["beta"])
    return compute + reduce + update, compute, reduce, update


def cluster_node_step(model, link, nodes, r, b, n=N_MLP):
    """One step of the node windows' way on `nodes` nodes of r ranks (one
    per core). Per rank: its samples of the node's share; its slice of the
    node's r accumulators and its slice's update, at the per-core rates or
    at the node's memory bandwidth shared by r ranks, whichever is slower;
    between nodes, one ring all-reduce of n/r int64 per place, the r
    places' messages sharing each node's link; the statistics and the
    penalty's all-gather over all ranks as in cluster_step."""
    spec = LINKS[link]
    alpha = spec["alpha"] if spec["alpha"] is not None else model.get("tcp_alpha", TCP_ALPHA_DEFAULT)
    beta = 1.0 / (spec["gbit"] * 1e9 / 8 * spec["eff"])
    a_shm = model.get("shm_alpha", 0.5e-6)
    p = nodes * r
    compute = node_compute(model, nodes, r, b)
    update = node_update(model, r, n)
    if p == 1:
        return compute + update
    sync = 2 * log_terms(r) * a_shm
    cross = 0.0
    if nodes > 1:
        cross = 2 * (nodes - 1) * alpha + 2 * (nodes - 1) / nodes * 8 * n * beta
    small = log_terms(p) * alpha + ((p - 1) * alpha + (p - 1) / p * 8 * N_NEURONS_MLP * beta)
    return compute + update + sync + cross + small


def node_compute(model, nodes, r, b):
    """A rank's compute: its samples of its node's share of the batch."""
    return math.ceil(math.ceil(b / nodes) / r) * model["core_compute_per_sample"]


def node_update(model, r, n=N_MLP):
    """A rank's part of the node's sum and update: its slice of the node's
    r accumulators and its slice's Adam step at the per-core rates, or the
    node's memory moving all r accumulators and one Adam step, whichever
    is slower."""
    per_core = (math.ceil(n / r) * model["core_update_per_param"] +
                (r - 1) / r * n * model["core_sum_per_value"])
    memory = n * (SUM_BYTES * r + UPDATE_BYTES) / model["node_bytes_per_s"]
    return max(per_core, memory)


def node_epoch_time(model, link, nodes, r, b):
    t = cluster_node_step(model, link, nodes, r, b)
    compute = node_compute(model, nodes, r, b)
    return math.ceil(TRAIN_SAMPLES / b) * (t - compute) + TRAIN_SAMPLES / b * compute


def cluster_step(model, link, p, b, algo="ring", n=N_MLP):
    """One step on a cluster with one rank per core, ranks ordered by node:
    every ring step crosses at most one network link per node, so the
    network's alpha and beta bound each step. Compute and update at this
    machine's per-core rates on an unloaded core (bench_core, CPU time)."""
    c_s, u_p = model["core_compute_per_sample"], model["core_update_per_param"]
    spec = LINKS[link]
    alpha = spec["alpha"] if spec["alpha"] is not None else model.get("tcp_alpha", TCP_ALPHA_DEFAULT)
    beta = 1.0 / (spec["gbit"] * 1e9 / 8 * spec["eff"])
    compute = math.ceil(b / p) * c_s
    update = math.ceil(n / p) * u_p
    if p == 1:
        return compute + update
    a = (p - 1) if algo == "ring" else log_terms(p)  # recursive halving/doubling
    bw = (p - 1) / p * 8 * n * beta
    comm = 2 * (a * alpha + bw) + log_terms(p) * alpha + (a * alpha + (p - 1) / p * 8 * N_NEURONS_MLP * beta)
    return compute + update + comm


def epoch_time(model, link, p, b, algo="ring"):
    """Steps of one epoch of TRAIN_SAMPLES: ceil(S/B) steps, the last one
    short (its compute in proportion)."""
    t = cluster_step(model, link, p, b, algo)
    compute = math.ceil(b / p) * model["core_compute_per_sample"]
    return math.ceil(TRAIN_SAMPLES / b) * (t - compute) + TRAIN_SAMPLES / b * compute


def cmd_predict(args):
    path, png = None, None
    core_us, update_ns = CORE_US_PER_SAMPLE, CORE_NS_PER_PARAM
    per_node, node_gbs, sum_ns = 0, NODE_GBS, None
    i = 0
    while i + 1 < len(args):
        if args[i] == "--model":
            path = args[i + 1]
        elif args[i] == "--png":
            png = args[i + 1]
        elif args[i] == "--core-us":
            core_us = float(args[i + 1])
        elif args[i] == "--update-ns":
            update_ns = float(args[i + 1])
        elif args[i] == "--ranks-per-node":
            per_node = int(args[i + 1])
        elif args[i] == "--node-gbs":
            node_gbs = float(args[i + 1])
        elif args[i] == "--sum-ns":
            sum_ns = float(args[i + 1])
        else:
            break
        i += 2
    if i != len(args) or per_node < 0 or per_node & (per_node - 1) or node_gbs <= 0:
        sys.exit(f"predict: bad arguments {' '.join(args[i:]) or ' '.join(args)} "
                 "(--ranks-per-node: a power of 2; --node-gbs > 0)")
    model = {"links": {}}
    if path:
        with open(path) as f:
            model = json.load(f)
    model["core_compute_per_sample"] = 1e-6 * core_us
    model["core_update_per_param"] = 1e-9 * update_ns
    print(f"compute {core_us:.1f} us per sample, update {update_ns:.2f} ns per parameter "
          "(one core)\n")
    tcp = model["links"].get("tcp-2x1", {}).get("rs")
    if tcp:
        model["tcp_alpha"] = tcp["alpha"]
    if per_node:
        shm = model["links"].get("shm", {}).get("sum")
        if shm:
            model["shm_alpha"] = shm["alpha"]
        model["core_sum_per_value"] = (1e-9 * sum_ns if sum_ns is not None else
                                       model.get("sum_per_value", 1e-9 * SUM_NS_DEFAULT))
        model["node_bytes_per_s"] = 1e9 * node_gbs
        predict_nodes(model, per_node)
        return
    ps = [2 ** k for k in range(11)]
    bs = [128, 256, 512, 1024, 2048, 4096, 8192]
    print("## Predictions: MNIST MLP (635,200 parameters), one rank per core\n")
    for link, spec in LINKS.items():
        alpha = spec["alpha"] if spec["alpha"] is not None else model.get("tcp_alpha", TCP_ALPHA_DEFAULT)
        print(f"### {link}: alpha {1e6 * alpha:.1f} us, "
              f"{spec['gbit'] * spec['eff'] / 8:.2f} GB/s\n")
        print("time per epoch (s) / parallel efficiency (%), ring collectives\n")
        print("| P | " + " | ".join(f"B = {b}" for b in bs) + " |")
        print("|---|" + "---|" * len(bs))
        for p in ps:
            cells = []
            for b in bs:
                if p > b:
                    cells.append("-")
                    continue
                t = cluster_step(model, link, p, b)
                t1 = cluster_step(model, link, 1, b)
                epoch = epoch_time(model, link, p, b)
                cells.append(f"{epoch:.3g} / {100 * t1 / (p * t):.0f}")
            print(f"| {p} | " + " | ".join(cells) + " |")
        print()
    ib = "100 Gb/s InfiniBand (EDR)"
    for algo in ("ring", "rh"):
        t = cluster_step(model, ib, 64, 4096, algo)
        t1 = cluster_step(model, ib, 1, 4096, algo)
        print(f"64 ranks, global batch 4096, {ib}, {algo}: step {1e3 * t:.3f} ms, "
              f"efficiency {100 * t1 / (64 * t):.1f} %")
    epochs = 30  # the MNIST MLP recipe (docs/RESULTS.md): 98.72 % after 30 epochs
    for b in (128, 4096):
        total = epochs * epoch_time(model, ib, 64, b)
        one = epochs * epoch_time(model, ib, 1, b)
        print(f"{epochs} epochs at global batch {b} on 64 ranks, {ib}: {total:.1f} s "
              f"(one core: {one:.0f} s; training steps only)")
    if png:
        plot(model, ps, bs, png)


def predict_nodes(model, r):
    """The node windows' tables: N nodes of r ranks, one per core."""
    bs = [128, 256, 512, 1024, 2048, 4096, 8192]
    ns = [2 ** k for k in range(11) if r * 2 ** k <= 1024] or [1]
    print(f"## Predictions, node windows: MNIST MLP (635,200 parameters), {r} ranks per node "
          f"(one per core), node memory {1e-9 * model['node_bytes_per_s']:.0f} GB/s, "
          f"{1e9 * model['core_sum_per_value']:.2f} ns per int64 of another accumulator\n")
    for link, spec in LINKS.items():
        alpha = spec["alpha"] if spec["alpha"] is not None else model.get("tcp_alpha", TCP_ALPHA_DEFAULT)
        print(f"### {link}: alpha {1e6 * alpha:.1f} us, {spec['gbit'] * spec['eff'] / 8:.2f} GB/s\n")
        print("time per epoch (s) / parallel efficiency (%) against one core\n")
        print("| nodes | ranks | " + " | ".join(f"B = {b}" for b in bs) + " |")
        print("|---|---|" + "---|" * len(bs))
        for nn in ns:
            p = nn * r
            cells = []
            for b in bs:
                if p > b:
                    cells.append("-")
                    continue
                t = cluster_node_step(model, link, nn, r, b)
                t1 = cluster_node_step(model, link, 1, 1, b)
                cells.append(f"{node_epoch_time(model, link, nn, r, b):.3g} / {100 * t1 / (p * t):.0f}")
            print(f"| {nn} | {p} | " + " | ".join(cells) + " |")
        print()
    ib = "100 Gb/s InfiniBand (EDR)"
    b = 4096
    nn = max(1, 64 // r)
    if nn * r == 64:
        t = cluster_node_step(model, ib, nn, r, b)
        t1 = cluster_node_step(model, ib, 1, 1, b)
        tc = cluster_step(model, ib, 64, b)
        print(f"64 ranks ({nn} x {r}), global batch {b}, {ib}: step {1e3 * t:.3f} ms, "
              f"efficiency {100 * t1 / (64 * t):.1f} % (collectives' model: {1e3 * tc:.3f} ms)")
    for b in bs:
        t = cluster_node_step(model, ib, 1, r, b)
        print(f"one node of {r} ranks, B = {b}: step {1e3 * t:.3f} ms = compute "
              f"{1e3 * node_compute(model, 1, r, b):.3f} + node sum and update "
              f"{1e3 * node_update(model, r):.3f} + the rest")


def plot(model, ps, bs, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, len(LINKS), figsize=(13, 7.5), sharex=True)
    for j, link in enumerate(LINKS):
        for b in bs:
            pp = [p for p in ps if p <= b]
            ep = [epoch_time(model, link, p, b) for p in pp]
            ef = [100 * cluster_step(model, link, 1, b) / (p * cluster_step(model, link, p, b))
                  for p in pp]
            axes[0, j].plot(pp, ep, marker=".", label=f"B = {b}")
            axes[1, j].plot(pp, ef, marker=".", label=f"B = {b}")
        axes[0, j].set_title(link, fontsize=10)
        axes[0, j].set_xscale("log", base=2)
        axes[0, j].set_yscale("log")
        axes[1, j].set_ylim(0, 105)
        axes[1, j].set_xlabel("ranks P (one per core)")
        axes[0, j].grid(True, which="both", alpha=0.3)
        axes[1, j].grid(True, alpha=0.3)
    axes[0, 0].set_ylabel("time per epoch (s)")
    axes[1, 0].set_ylabel("parallel efficiency (%)")
    axes[0, -1].legend(fontsize=8)
    fig.suptitle("stdbp MNIST MLP (635,200 parameters): modelled time per epoch and "
                 "efficiency, ring collectives")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print(f"\nwrote {png}")


def main():
    if len(sys.argv) >= 2 and sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
    elif len(sys.argv) >= 3 and sys.argv[1] == "fit":
        cmd_fit(sys.argv[2])
    elif len(sys.argv) >= 2 and sys.argv[1] == "predict":
        cmd_predict(sys.argv[2:])
    else:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
