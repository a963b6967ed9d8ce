#!/bin/sh
# Event data sets through stdbp_train: the own HDF5 events layout, SHD's
# layout and N-MNIST's folders (files written here by gen_events) train;
# the weights are bitwise the same on 1, 2 and 3 ranks, with the event
# augmentation (jitter, drop, shift) on; the data.events.* options act;
# the spike log is written; the deploy phase refuses event sets clearly.
. "$top_srcdir/tests/tap/tap.sh"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
plan 13
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
last() { ls "$1"/checkpoints/ckpt-*.h5 2>/dev/null | tail -n 1; }
run() { # NAME P ARGS...
  _name=$1 _p=$2; shift 2
  "$top_srcdir/tests/mpirun.sh" $_p "$bin" "$tmp/cfg.yaml" --quiet \
    --set run.dir="$tmp/$_name" "$@" > "$tmp/$_name.out" 2>&1 || cat "$tmp/$_name.out" >&2
}
same() {
  [ -n "$(last "$tmp/$1")" ] && [ -n "$(last "$tmp/$2")" ] &&
    h5diff -q "$(last "$tmp/$1")" "$(last "$tmp/$2")" /weights /weights >/dev/null 2>&1
}
aug="--set augment.jitter=0.02 --set augment.drop=0.2 --set augment.shift=1"
run a1 1 $aug
[ -n "$(last "$tmp/a1")" ] && [ -f "$tmp/a1/spikes.h5" ]
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
[ -n "$(last "$tmp/shd")" ]
ok $? "shd:PATH trains on 2 ranks (700 inputs)"
run nm 2 --set data.train="nmnist:$tmp/nm" --set data.test="nmnist:$tmp/nm" \
  --set data.events.time_scale=1e-5 --set data.val_samples=10 \
  --set "network.layers=[{type: conv2d, out: 4, kernel: 5, stride: 3}, {type: dense, out: 10}]"
[ -n "$(last "$tmp/nm")" ]
ok $? "nmnist:DIR trains on 2 ranks through a conv2d first layer"
run dep 1 --set deploy.enabled=true
status=$?
[ -n "$(last "$tmp/dep")" ] &&
  grep -q "deploy: .*test.h5 is an event data set.*takes images only" "$tmp/dep.out"
ok $? "the deploy phase refuses an event set clearly (the checkpoint is kept)"
printf 'x' >> "$tmp/nm/3/$(ls "$tmp/nm/3" | head -n 1)"
run bad 1 --set data.train="nmnist:$tmp/nm" --set data.test="nmnist:$tmp/nm"
grep -q "nm/3/.*not a whole number of 5-byte events" "$tmp/bad.out" && [ -z "$(last "$tmp/bad")" ]
ok $? "a damaged N-MNIST file ends the run with its name"
"$top_srcdir/tests/mpirun.sh" 2 "$bin" "$tmp/cfg.yaml" --quiet --set run.dir="$tmp/x" \
  --set 'data.train="events:"' > "$tmp/x.out" 2>&1
[ $? -ne 0 ] && grep -q "events: needs a path" "$tmp/x.out"
ok $? "events: without a path is refused by the config check"
run rot 1 --set augment.rotate=10
grep -q "augment.rotate, augment.scale and augment.flip apply to images, but .*train.h5 is an event data set" \
  "$tmp/rot.out" && [ -z "$(last "$tmp/rot")" ]
ok $? "augment.rotate is refused for an event set, before any training"
