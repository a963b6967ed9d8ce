#!/bin/sh
# Event data sets through stdbp_train: the own HDF5 events layout, SHD's
# layout and N-MNIST's folders (files written here by gen_events) train;
# the weights are bitwise the same on 1, 2 and 3 ranks, with the event
# augmentation (jitter, drop, shift) on; the data.events.* options act;
# the spike log is written; the deploy phase takes event sets: each event
# within the window is one input spike of the simulated accelerator (the
# count checked against the file), the events after it are dropped and
# counted, in event and stepped mode, and the quantised accuracy is close
# to stdbp_eval's float accuracy.
. "$top_srcdir/tests/tap/tap.sh"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
plan 14
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli/stdbp_train
gen=$top_builddir/tests/tools/gen_events
"$gen" own "$tmp/train.h5" 240 1 && "$gen" own "$tmp/test.h5" 80 2 &&
  "$gen" shd "$tmp/shd.h5" 120 3 && "$gen" nmnist "$tmp/nm" 60 4
ok $? "event sets written in the three layouts"
cat > "$tmp/cfg.yaml" <<YAML
run: {name: ev, seed: 3}
data: {train: "events:$tmp/train.h5", test: "events:$tmp/test.h5", val_samples: 40}
network:
  layers:
    - {type: dense, out: 24}
    - {type: dense, out: 4}
optimizer: {kind: adam, lr: 0.003}
train: {epochs: 2, batch: 25}
checkpoint: {keep: 1}
spikes: {samples: 8, when: end}
deploy: {enabled: false}
YAML
run() { # NAME P ARGS...
  _name=$1 _p=$2; shift 2
  "$top_srcdir/tests/mpirun.sh" $_p "$bin" "$tmp/cfg.yaml" --quiet \
    --set run.dir="$tmp/$_name" "$@" > "$tmp/$_name.out" 2>&1 || cat "$tmp/$_name.out" >&2
}
same() {
  [ -n "$(last_ckpt "$tmp/$1")" ] && [ -n "$(last_ckpt "$tmp/$2")" ] &&
    h5diff -q "$(last_ckpt "$tmp/$1")" "$(last_ckpt "$tmp/$2")" /weights /weights >/dev/null 2>&1
}
aug="--set augment.jitter=0.02 --set augment.drop=0.2 --set augment.shift=1"
run a1 1 $aug
[ -n "$(last_ckpt "$tmp/a1")" ] && [ -f "$tmp/a1/spikes.h5" ]
ok $? "events:PATH trains on 1 rank, with a checkpoint and a spike log"
acc=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "test_acc") c = i; next }
  c { a = $c } END { print a + 0 }' "$tmp/a1/metrics.csv")
awk "BEGIN { exit !($acc > 0.4) }"
ok $? "it learns: test accuracy $acc after 2 epochs (4 classes, chance 0.25)"
run a2 2 $aug
same a1 a2
ok $? "augmented event training: P = 2 weights bitwise equal to P = 1"
OMP_NUM_THREADS=3 run a3 3 $aug
same a1 a3
ok $? "P = 3 (3 threads each) bitwise equal to P = 1"
run plain 1
! same a1 plain
ok $? "the event augmentation acts (weights differ from the plain run's)"
for opt in "data.events.ttfs=true" "data.events.first_k=1" "data.events.window=0.5" \
  "data.events.time_scale=0.5"; do
  run "o_${opt%%=*}" 1 --set "$opt"
done
! same plain o_data.events.ttfs && ! same plain o_data.events.window &&
  ! same plain o_data.events.time_scale && same o_data.events.ttfs o_data.events.first_k
ok $? "data.events.ttfs, window and time_scale change the run; first_k 1 is ttfs"
run shd 2 --set data.train="shd:$tmp/shd.h5" --set data.test="shd:$tmp/shd.h5" \
  --set data.events.time_scale=2
[ -n "$(last_ckpt "$tmp/shd")" ]
ok $? "shd:PATH trains on 2 ranks (700 inputs)"
run nm 2 --set data.train="nmnist:$tmp/nm" --set data.test="nmnist:$tmp/nm" \
  --set data.events.time_scale=1e-5 --set data.val_samples=10 \
  --set "network.layers=[{type: conv2d, out: 4, kernel: 5, stride: 3}, {type: dense, out: 10}]"
[ -n "$(last_ckpt "$tmp/nm")" ]
ok $? "nmnist:DIR trains on 2 ranks through a conv2d first layer"
# Deploy: the default profile without stopping at the decision (so every
# input event is sent), time_scale 5 so that the events at model times
# beyond the window (3 with 2 weighted layers and encoding.t_max 1) are
# dropped.
sed 's/^stop_at_decision: true/stop_at_decision: false/' "$top_srcdir/configs/hw/default.yaml" \
  > "$tmp/hw_event.yaml"
sed 's/^mode: event/mode: stepped/' "$tmp/hw_event.yaml" > "$tmp/hw_stepped.yaml"
run dep 1 --set deploy.enabled=true --set deploy.hw="$tmp/hw_event.yaml" \
  --set data.events.time_scale=5 --set deploy.time_steps=64
ckpt=$(last_ckpt "$tmp/dep")
rep=$(find "$tmp/dep" -name report.json | head -n 1)
"$top_srcdir/tests/mpirun.sh" 1 "$top_builddir/src/cli/stdbp_deploy" "$ckpt" \
  --out "$tmp/dep_stepped" --set deploy.hw="$tmp/hw_stepped.yaml" > "$tmp/dep_stepped.out" 2>&1 ||
  cat "$tmp/dep_stepped.out" >&2
"$top_srcdir/tests/mpirun.sh" 1 "$top_builddir/src/cli/stdbp_eval" "$ckpt" \
  --json "$tmp/dep_eval.json" > "$tmp/dep_eval.out" 2>&1 || cat "$tmp/dep_eval.out" >&2
py=/usr/bin/python3
check_deploy() { # REPORT.json: the input spikes are the events within the window
  "$py" - "$1" "$tmp/test.h5" "$tmp/dep_eval.json" <<'PY'
import json, math, sys
import h5py, numpy as np
rep = json.load(open(sys.argv[1]))
def find(d, k):
    if isinstance(d, dict):
        if k in d:
            return d[k]
        for v in d.values():
            r = find(v, k)
            if r is not None:
                return r
    if isinstance(d, list):
        for v in d:
            r = find(v, k)
            if r is not None:
                return r
    return None
r = rep["results"][0]
T, t_max, W = find(rep, "time_steps"), find(rep, "t_max"), r["window_steps"]
assert T == 64 and t_max == 1.0, (T, t_max)
with h5py.File(sys.argv[2], "r") as f:
    t = f["times"][:] * 5.0  # data.events.time_scale
# the quantisation of docs/HARDWARE.md: step = floor(t T / t_max + 1/2)
steps = np.floor(t * T / t_max + 0.5)
inside, after = int((steps <= W).sum()), int((steps > W).sum())
assert after > 0 and inside > 0, (inside, after)
assert r["input_events_sent"] == inside, (r["input_events_sent"], inside)
assert r["input_events_dropped"] == after, (r["input_events_dropped"], after)
assert r["spike_mismatches"] == 0, r["spike_mismatches"]
ev = json.load(open(sys.argv[3]))
q, fl = r["accuracy"]["quantised"], ev["accuracy"]
assert abs(q - fl) <= 0.1, (q, fl)  # 8-bit weights, 64 steps: within 10 points
print("# %d events sent, %d dropped; quantised %.3f, float (stdbp_eval) %.3f" % (inside, after, q, fl))
PY
}
[ -n "$rep" ] && [ -n "$ckpt" ] && check_deploy "$rep"
ok $? "deploy (event mode) of an event-trained checkpoint: input spikes = events within the window"
[ -f "$tmp/dep_stepped/report.json" ] && check_deploy "$tmp/dep_stepped/report.json"
ok $? "the same in stepped mode (stdbp_deploy)"
printf 'x' >> "$tmp/nm/3/$(ls "$tmp/nm/3" | head -n 1)"
run bad 1 --set data.train="nmnist:$tmp/nm" --set data.test="nmnist:$tmp/nm"
grep -q "nm/3/.*not a whole number of 5-byte events" "$tmp/bad.out" && [ -z "$(last_ckpt "$tmp/bad")" ]
ok $? "a damaged N-MNIST file ends the run with its name"
"$top_srcdir/tests/mpirun.sh" 2 "$bin" "$tmp/cfg.yaml" --quiet --set run.dir="$tmp/x" \
  --set 'data.train="events:"' > "$tmp/x.out" 2>&1
[ $? -ne 0 ] && grep -q "events: needs a path" "$tmp/x.out"
ok $? "events: without a path is refused by the config check"
run rot 1 --set augment.rotate=10
grep -q "augment.rotate, augment.scale and augment.flip apply to images, but .*train.h5 is an event data set" \
  "$tmp/rot.out" && [ -z "$(last_ckpt "$tmp/rot")" ]
ok $? "augment.rotate is refused for an event set, before any training"
