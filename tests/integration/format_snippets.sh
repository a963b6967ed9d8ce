#!/bin/sh
# docs/FORMAT.md's Python snippets run as written, and every output is
# self-describing: a short training (spike log, deployment report) and a
# one-point sweep write the files the snippets read (run from a directory
# holding runs/mnist and runs/sweeps/smoke_sweep, the snippets' paths);
# the snippets for files an older stdbp also wrote run again on
# tests/integration/fixtures/old-run. Every HDF5 file has the root
# attributes format and format_version, every dataset units and a
# one-line description. Skips without python3-h5py.
. "$top_srcdir/tests/tap/tap.sh"
py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import h5py, numpy' >/dev/null 2>&1; then py=$p; break; fi
done
[ -n "$py" ] || skip_all "python3 with h5py and numpy not found (python3-h5py)"
plan 11
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli
doc=$top_srcdir/docs/FORMAT.md
mkdir -p "$tmp/new/runs" "$tmp/old/runs"

synthetic_data "$tmp" 60
cat > "$tmp/new/base.yaml" <<YAML
run: {name: snippets, seed: 3}
data: {train: "hdf5:$tmp/train.h5", test: "hdf5:$tmp/test.h5", val_samples: 20}
network:
  layers:
    - {type: dense, out: 16}
    - {type: dense, out: 4}
optimizer: {kind: adam, lr: 0.003}
train: {epochs: 2, batch: 25}
spikes: {samples: 4, when: epoch}
checkpoint: {keep: 1}
deploy: {bits: [8], time_steps: 16, samples: 8}
YAML
cat > "$tmp/new/sweep.yaml" <<YAML
name: smoke_sweep
base: base.yaml
dir: runs/sweeps
set: {deploy.enabled: false, spikes.samples: 0}
params:
  optimizer.lr: [0.003]
YAML
(cd "$tmp/new" &&
  "$top_srcdir/tests/mpirun.sh" 1 "$bin/stdbp_train" base.yaml --quiet --set run.dir=runs/mnist &&
  "$top_srcdir/tests/mpirun.sh" 1 "$bin/stdbp_sweep" sweep.yaml --index 0 --quiet &&
  "$bin/stdbp_sweep" sweep.yaml --summary) > "$tmp/train.out" 2>&1
r=$?; ok $r "a short training (spike log, report) and a one-point sweep with its summary"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/train.out" >&2
cp -R "$top_srcdir/tests/integration/fixtures/old-run" "$tmp/old/runs/mnist"

# The snippets: the ```python block after each <!-- snippet: NAME -->.
snippet() { # NAME > FILE
  awk -v want="<!-- snippet: $1 -->" '$0 == want {m = 1; next}
       m && /^```python/ {p = 1; next}
       p && /^```/ {exit}
       p {print}' "$doc"
}
recipe=$(awk '/<!-- digest-recipe -->/ {m = 1; next} m && /^```python/ {p = 1; next}
              p && /^```/ {exit} p {print}' "$doc")
n=$(grep -c '^<!-- snippet: ' "$doc")
[ "$n" -eq 6 ]
ok $? "docs/FORMAT.md marks 6 snippets (checkpoint, spikes, metrics-csv, metrics-h5, report, summary): $n"
run_snippet() { # NAME DIR: the snippet run in DIR (the checkpoint's after the digest recipe)
  { [ "$1" = checkpoint ] && printf '%s\n' "$recipe"; snippet "$1"; } > "$tmp/$1.py"
  [ -s "$tmp/$1.py" ] && (cd "$2" && "$py" "$tmp/$1.py") > "$tmp/$1.$(basename "$2").out" 2>&1
  _r=$?
  [ $_r -eq 0 ] || sed 's/^/# /' "$tmp/$1.py" "$tmp/$1.$(basename "$2").out" >&2
  return $_r
}
for s in checkpoint spikes metrics-csv metrics-h5 report summary; do
  run_snippet "$s" "$tmp/new"
  ok $? "snippet $s runs on this build's files"
done
r=0
for s in checkpoint spikes metrics-csv metrics-h5; do
  run_snippet "$s" "$tmp/old" || r=1
done
[ -s "$tmp/old/runs/mnist/report.h5" ] && { run_snippet report "$tmp/old" || r=1; }
ok $r "the snippets of files an older stdbp wrote run on its files (fixtures/old-run)"

# Self-describing: format and format_version at the root, units and a
# one-line description on every dataset; metrics.h5's integers as int64.
"$py" - "$tmp/new/runs/mnist" > "$tmp/attrs.out" 2>&1 <<'PY'
import glob, os, sys
import h5py
import numpy as np
run = sys.argv[1]
files = {"stdbp-checkpoint": sorted(glob.glob(os.path.join(run, "checkpoints", "ckpt-*.h5")))[-1],
         "stdbp-spikes": os.path.join(run, "spikes.h5"),
         "stdbp-metrics": os.path.join(run, "metrics.h5"),
         "stdbp-hw-report": os.path.join(run, "report.h5")}
bad = []
for fmt, path in files.items():
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != fmt.encode():
            bad.append("%s: format %r" % (path, f.attrs.get("format")))
        if not isinstance(f.attrs.get("format_version"), (np.integer, int)):
            bad.append("%s: format_version %r" % (path, f.attrs.get("format_version")))
        n = [0]
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                n[0] += 1
                for a in ("units", "description"):
                    v = obj.attrs.get(a)
                    if v is None or (a == "description" and not v) or b"\n" in bytes(v):
                        bad.append("%s: /%s: %s %r" % (os.path.basename(path), name, a, v))
        f.visititems(visit)
        print(fmt, n[0], "datasets")
with h5py.File(files["stdbp-metrics"], "r") as f:
    for c in ("epoch", "step"):
        if f[c].dtype != np.dtype("<i8"):
            bad.append("metrics.h5 %s is %s" % (c, f[c].dtype))
    if list(f["epoch"][...]) != [1, 2]:
        bad.append("metrics.h5 epochs %s" % list(f["epoch"][...]))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
r=$?; ok $r "checkpoint, spikes.h5, metrics.h5, report.h5: format, format_version, units and description everywhere; epoch/step int64 from 1"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/attrs.out" >&2

# The diagnostics are values of the run, not placeholders.
"$py" - "$tmp/new/runs/mnist/metrics.csv" > "$tmp/diag.out" 2>&1 <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    so, sh = float(r["silent_outputs"]), float(r["silent_hidden"])
    m, s, ev = float(r["first_spike_mean"]), float(r["first_spike_std"]), float(r["syn_events_per_sample"])
    assert 0 <= so <= 1 and 0 <= sh <= 1, (so, sh)
    assert so < 1 and math.isfinite(m) and m > 0 and s >= 0, (so, m, s)
    assert ev > 0 and float(r["lr"]) > 0, (ev, r["lr"])
    print(r["epoch"], so, sh, m, s, ev)
PY
r=$?; ok $r "metrics.csv diagnostics: fractions in [0, 1], a finite first-spike time, events per sample > 0"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/diag.out" >&2
tap_done
