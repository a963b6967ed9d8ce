#!/bin/sh
# Issue: the plots users expect. Trains a tiny run (with a spike log) and
# runs stdbp_plot on it: learning curves, the training diagnostics and a
# spike raster as valid PNG files in RUN_DIR/plots/; the raster names the
# label and the predicted class and clips its time axis (one late spike
# planted: it does not stretch the axis, and is counted); an older run's
# metrics.csv (epochs from 0, no diagnostics) still plots; --help; clear
# errors for a missing directory, a missing, empty or header-only
# metrics.csv. Skips without matplotlib.
. "$top_srcdir/tests/tap/tap.sh"
py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import matplotlib, h5py' >/dev/null 2>&1; then py=$p; break; fi
done
[ -n "$py" ] || skip_all "python3 with matplotlib and h5py not found (python3-matplotlib)"
plan 15
tap_tmpdir; tmp=$tap_tmp
plot=$top_builddir/src/cli/stdbp_plot

# A valid PNG: the 8-byte signature, an IHDR of sane size, IEND last.
is_png() {
  "$py" - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature"
n, kind, w, h = struct.unpack(">I4sII", b[8:24])
assert kind == b"IHDR" and 200 <= w <= 4000 and 200 <= h <= 4000, (kind, w, h)
assert b[-12:-4] == b"\x00\x00\x00\x00IEND", "no IEND at the end"
PY
}

synthetic_data "$tmp" 60
cat > "$tmp/cfg.yaml" <<YAML
run: {name: plot, seed: 3}
data: {train: "hdf5:$tmp/train.h5", test: "hdf5:$tmp/test.h5", val_samples: 20}
network:
  layers:
    - {type: dense, out: 16}
    - {type: dense, out: 4}
optimizer: {kind: adam, lr: 0.003}
train: {epochs: 3, batch: 25, eval_every: 2}
spikes: {samples: 8}
checkpoint: {keep: 1}
deploy: {enabled: false}
YAML
"$top_srcdir/tests/mpirun.sh" 1 "$top_builddir/src/cli/stdbp_train" "$tmp/cfg.yaml" --quiet \
  --no-deploy --set run.dir="$tmp/run" > "$tmp/train.out" 2>&1
[ -s "$tmp/run/metrics.csv" ]
r=$?; ok $r "tiny run trained, metrics.csv written"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/train.out" >&2
# The raster needs a spike log; if the trainer wrote none, use one that the
# spike-log test program writes.
if [ ! -e "$tmp/run/spikes.h5" ] && [ -x "$top_builddir/tests/mpi/test_spikelog" ]; then
  diag "no spikes.h5 from training: using tests/mpi/test_spikelog's"
  STDBP_TEST_KEEP=1 "$top_srcdir/tests/mpirun.sh" 1 "$top_builddir/tests/mpi/test_spikelog" \
    "$tmp/sl" >/dev/null 2>&1 && cp "$tmp/sl/par/spikes.h5" "$tmp/run/spikes.h5"
fi

"$plot" --help > "$tmp/help" 2>&1 && grep -q "RUN_DIR/plots" "$tmp/help" &&
  grep -q -- "--sample" "$tmp/help"
ok $? "--help describes RUN_DIR/plots and the options"

"$plot" "$tmp/run" > "$tmp/out" 2>&1
r=$?; ok $r "stdbp_plot RUN_DIR exits 0"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/out" >&2
is_png "$tmp/run/plots/learning_curves.png" 2>"$tmp/png1"
r=$?; ok $r "plots/learning_curves.png is a valid PNG"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/png1" >&2
if [ -e "$tmp/run/spikes.h5" ]; then
  is_png "$tmp/run/plots/spike_raster.png" 2>"$tmp/png2"
  r=$?; ok $r "plots/spike_raster.png is a valid PNG (spikes.h5 present)"
  [ $r -eq 0 ] || sed 's/^/# /' "$tmp/png2" >&2
else
  echo "ok $((tap_n += 1)) # SKIP no spikes.h5 to draw"
fi

is_png "$tmp/run/plots/diagnostics.png" 2>"$tmp/png3" && grep -q "diagnostics.png" "$tmp/out"
r=$?; ok $r "plots/diagnostics.png (learning rate, silent neurons, first spike, events) is a valid PNG"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/png3" "$tmp/out" >&2

# The raster: label and prediction, and a clipped time axis. One input
# spike of sample 0 moved to t = 1000: the axis ends well before it.
if [ -e "$tmp/run/spikes.h5" ]; then
  cp "$tmp/run/spikes.h5" "$tmp/late.h5"
  "$py" - "$tmp/late.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    m = "end" if "end" in f else sorted(k for k in f if isinstance(f[k], h5py.Group))[-1]
    d = f[m]["input"]
    row = d[0]
    row[np.flatnonzero(np.isfinite(row))[0]] = 1000.0
    d[0] = row
PY
  "$py" "$top_srcdir/scripts/spike_raster.py" "$tmp/late.h5" -o "$tmp/late.png" > "$tmp/raster.out" 2>&1
  grep -q "label [0-9]*, predicted [0-9-]*; time axis to [0-9.e+]*, [1-9][0-9]* spikes\{0,1\} past it" "$tmp/raster.out" &&
    sed -n 's/.*time axis to \([0-9.e+-]*\),.*/\1/p' "$tmp/raster.out" | awk '{exit !($1 < 100)}' &&
    is_png "$tmp/late.png" 2>/dev/null
  r=$?; ok $r "raster: label and predicted class named, axis clipped before the late spike ($(cat "$tmp/raster.out"))"
  "$py" "$top_srcdir/scripts/spike_raster.py" "$tmp/late.h5" --no-clip -o "$tmp/all.png" > "$tmp/raster2.out" 2>&1
  grep -q "time axis to 1000, 0 spikes past it" "$tmp/raster2.out" && is_png "$tmp/all.png" 2>/dev/null
  ok $? "raster --no-clip: the axis reaches the late spike ($(cat "$tmp/raster2.out"))"
else
  echo "ok $((tap_n += 1)) # SKIP no spikes.h5 to draw"
  echo "ok $((tap_n += 1)) # SKIP no spikes.h5 to draw"
fi

# An older run directory (epochs from 0, no diagnostics): the curves, and
# a word that there are no diagnostics to draw.
cp -R "$top_srcdir/tests/integration/fixtures/old-run" "$tmp/old"
"$plot" "$tmp/old" --no-raster > "$tmp/old.out" 2>&1 && is_png "$tmp/old/plots/learning_curves.png" 2>/dev/null &&
  [ ! -e "$tmp/old/plots/diagnostics.png" ] && grep -q "no diagnostics" "$tmp/old.out"
r=$?; ok $r "an older run's metrics.csv: learning curves, no diagnostics.png (said so)"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/old.out" >&2

"$plot" "$tmp/run" --no-raster --out-dir "$tmp/elsewhere" --sample 1 > "$tmp/out2" 2>&1 &&
  is_png "$tmp/elsewhere/learning_curves.png" 2>/dev/null && [ ! -e "$tmp/elsewhere/spike_raster.png" ]
ok $? "--out-dir and --no-raster"

# Errors: exit 1, one line saying what is wrong, no Python traceback.
fails_with() { # NAME PATTERN ARGS...
  name=$1; pat=$2; shift 2
  "$plot" "$@" > "$tmp/err" 2>&1
  s=$?
  [ $s -eq 1 ] && grep -q "stdbp_plot: error: .*$pat" "$tmp/err" && ! grep -q Traceback "$tmp/err"
  r=$?; ok $r "$name: exit 1, '$pat' ($(head -c 150 "$tmp/err"))"
  [ $r -eq 0 ] || sed 's/^/# /' "$tmp/err" >&2
}
fails_with "missing directory" "no such directory" "$tmp/nope"
mkdir -p "$tmp/empty"
fails_with "no metrics.csv" "metrics.csv not found" "$tmp/empty"
: > "$tmp/empty/metrics.csv"
fails_with "empty metrics.csv" "is empty" "$tmp/empty"
head -n 1 "$tmp/run/metrics.csv" > "$tmp/empty/metrics.csv"
fails_with "header-only metrics.csv" "no epochs yet" "$tmp/empty"
printf 'a,b\n1,2\n' > "$tmp/empty/metrics.csv"
fails_with "foreign CSV" "lacks column" "$tmp/empty"
tap_done
