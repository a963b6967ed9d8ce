#!/bin/sh
# Issue: data-parallel training gives bitwise the same weights for any
# number of ranks. Trains a small network for several steps with P = 1, 2,
# 3 and 4 and compares every weight and the optimiser state exactly
# (h5diff with no tolerance), with the update sharded over the ranks (the
# default: on one node through a shared-memory window, or with
# STDBP_SHARED_UPDATE=off through MPI collectives) and replicated, and the
# per-epoch metrics (the diagnostics included). Also checks that an error on one rank ends
# every rank promptly with one clear message.
. "$top_srcdir/tests/tap/tap.sh"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
plan 24
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli/stdbp_train
synthetic_data "$tmp"
ok $? "synthetic dataset written"
small_mlp_config "$tmp/cfg.yaml" ranks 7 24 0.003 2 25 "checkpoint: {keep: 1}
deploy: {enabled: false}"

for p in 1 2 3 4; do
  "$top_srcdir/tests/mpirun.sh" $p "$bin" "$tmp/cfg.yaml" --quiet --no-deploy \
    --set run.dir="$tmp/p$p" > "$tmp/p$p.out" 2>&1 || { cat "$tmp/p$p.out" >&2; }
done
ref=$(last_ckpt "$tmp/p1")
[ -n "$ref" ]; ok $? "P = 1 run finished with a checkpoint"
for p in 2 3 4; do
  got=$(last_ckpt "$tmp/p$p")
  [ -n "$got" ] && h5diff -q "$ref" "$got" /weights /weights >/dev/null 2>&1 &&
    h5diff -q "$ref" "$got" /optimizer /optimizer >/dev/null 2>&1
  ok $? "P = $p: weights and optimiser state bitwise equal to P = 1"
done
# The per-epoch metrics too (all but the timings), diagnostics included:
# the diagnostic images are spread over the ranks and summed as integers.
r=0
for p in 2 3 4; do
  for c in epoch step lr train_loss train_acc val_loss val_acc test_loss test_acc \
    silent_outputs silent_hidden first_spike_mean first_spike_std syn_events_per_sample; do
    h5diff -q "$tmp/p1/metrics.h5" "$tmp/p$p/metrics.h5" "/$c" "/$c" >/dev/null 2>&1 ||
      { r=1; diag "P = $p: metrics.h5 /$c differs from P = 1"; }
  done
done
ok $r "P = 2, 3, 4: metrics.h5 (losses, accuracies, diagnostics) bitwise equal to P = 1"

# The sharded update (the default on several ranks) and the replicated
# one give the same weights and optimiser state, also with a gradient
# clip (whose norm needs the whole gradient) and with SGD's state.
run_variant() { # NAME P ARGS...
  _name=$1 _p=$2; shift 2
  "$top_srcdir/tests/mpirun.sh" $_p "$bin" "$tmp/cfg.yaml" --quiet --no-deploy \
    --set run.dir="$tmp/$_name" "$@" > "$tmp/$_name.out" 2>&1 || cat "$tmp/$_name.out" >&2
}
# same_state RUN_A RUN_B: the newest checkpoints of two runs in $tmp agree.
same_state() { same_ckpt "$(last_ckpt "$tmp/$1")" "$(last_ckpt "$tmp/$2")"; }
run_variant p3rep 3 --set train.shard_update=false
same_state p1 p3rep
ok $? "P = 3, replicated update (train.shard_update false): bitwise equal to P = 1"
# On one node the sharded update goes through a shared-memory window
# (the ranks take samples from one counter); STDBP_SHARED_UPDATE=off
# gives the MPI collectives' way (as across nodes): the same bits.
for v in on off; do
  STDBP_SHARED_UPDATE=$v "$top_srcdir/tests/mpirun.sh" 2 "$bin" "$tmp/cfg.yaml" --progress log \
    --no-deploy --max-steps 2 --set run.dir="$tmp/hdr_$v" > "$tmp/hdr_$v.out" 2>&1
done
grep -q "update in the node's shared memory" "$tmp/hdr_on.out" &&
  ! grep -q "shared memory" "$tmp/hdr_off.out"
ok $? "P = 2 on one node: the update in shared memory, said at the start (not when off)"
STDBP_SHARED_UPDATE=off run_variant p3mpi 3
same_state p1 p3mpi
ok $? "P = 3 with STDBP_SHARED_UPDATE=off (reduce-scatter, all-gather): bitwise equal to P = 1"
sgd="--set optimizer.kind=sgd --set optimizer.lr=0.05 --set optimizer.nesterov=true"
run_variant sgd1 1 $sgd --set train.clip_norm=0.05 --set optimizer.weight_decay=0.01
run_variant sgd3 3 $sgd --set train.clip_norm=0.05 --set optimizer.weight_decay=0.01
same_state sgd1 sgd3
ok $? "SGD, clipped gradient, weight decay: P = 3 sharded bitwise equal to P = 1"
# A weight-sum penalty that holds many neurons: each rank sums its own
# neurons' weights, and the slopes are shared.
pen="--set train.weight_sum_penalty=0.01 --set train.weight_sum_margin=30"
run_variant pen1 1 $pen
run_variant pen3 3 $pen
same_state pen1 pen3 && ! same_state p1 pen1
ok $? "a penalty that acts: P = 3 sharded bitwise equal to P = 1"

# Augmentation (random shifts, time jitter, dropped spikes) depends on the
# seed, the epoch and the sample only: P = 3 gives the P = 1 weights bitwise.
for p in 1 3; do
  "$top_srcdir/tests/mpirun.sh" $p "$bin" "$tmp/cfg.yaml" --quiet --no-deploy \
    --set augment.shift=1 --set augment.jitter=0.02 --set augment.drop=0.1 \
    --set run.dir="$tmp/aug$p" > "$tmp/aug$p.out" 2>&1 || { cat "$tmp/aug$p.out" >&2; }
done
aug1=$(last_ckpt "$tmp/aug1"); aug3=$(last_ckpt "$tmp/aug3")
[ -n "$aug1" ] && [ -n "$aug3" ] && h5diff -q "$aug1" "$aug3" /weights /weights >/dev/null 2>&1
ok $? "augmented: P = 3 weights bitwise equal to P = 1"
[ -n "$aug1" ] && ! h5diff -q "$ref" "$aug1" /weights /weights >/dev/null 2>&1
ok $? "augmented weights differ from the plain run's (the augmentation acts)"
# Shifting needs images: flat vectors are refused with the key and file.
"$top_builddir/tests/tools/gen_dataset" "$tmp/flat.h5" 100 8 4 3 flat >/dev/null
"$top_srcdir/tests/mpirun.sh" 2 "$bin" "$tmp/cfg.yaml" --quiet --no-deploy \
  --set data.train="hdf5:$tmp/flat.h5" --set data.test="hdf5:$tmp/flat.h5" \
  --set augment.shift=1 --set run.dir="$tmp/flat" > "$tmp/flat.out" 2>&1
status=$?
[ $status -ne 0 ] && grep -q "augment.shift = 1 needs images, but .*flat.h5 holds \[64, 1, 1\]" \
  "$tmp/flat.out"
ok $? "augment.shift on flat vectors: clear error ($status)"
[ "$(grep -c 'error' "$tmp/flat.out")" -eq 1 ]
ok $? "... printed once"

# A fresh run into a directory that holds checkpoints is refused, and the
# checkpoints stay as they were.
before=$(cksum "$ref")
"$top_srcdir/tests/mpirun.sh" 2 "$bin" "$tmp/cfg.yaml" --quiet --no-deploy \
  --set run.dir="$tmp/p1" > "$tmp/again.out" 2>&1
status=$?
[ $status -ne 0 ] && grep -q "already holds checkpoints .*--resume auto" "$tmp/again.out"
ok $? "a fresh run over old checkpoints is refused with advice ($status)"
[ "$(cksum "$ref")" = "$before" ] && [ "$(last_ckpt "$tmp/p1")" = "$ref" ]
ok $? "... and the old checkpoints are untouched"

# One rank fails (test hook of the test build of stdbp_train: rank 2 cannot
# read its data). Every rank must end within seconds with one clear message
# naming the rank.
hooked=$top_builddir/tests/tools/stdbp_train_hooked
start=$(date +%s)
STDBP_TEST_FAIL_DATA_RANK=2 "$top_srcdir/tests/mpirun.sh" 4 "$hooked" "$tmp/cfg.yaml" --quiet \
  --set run.dir="$tmp/fail" > "$tmp/fail.out" 2>&1
status=$?
elapsed=$(( $(date +%s) - start ))
[ $status -ne 0 ]; ok $? "a failure on rank 2 gives a non-zero exit ($status)"
[ "$(grep -c 'stdbp_train: error: rank 2:' "$tmp/fail.out")" -eq 1 ]
ok $? "exactly one message, naming rank 2"
[ $elapsed -lt 30 ]; ok $? "all ranks ended promptly (${elapsed}s)"
# NaN in the weights at step 20 (test hook): the run stops with a message
# naming the step and the layer; the checkpoint of epoch 1 stays valid.
STDBP_TEST_NAN_STEP=20 "$top_srcdir/tests/mpirun.sh" 2 "$hooked" "$tmp/cfg.yaml" --quiet --no-deploy \
  --set run.dir="$tmp/nan" > "$tmp/nan.out" 2>&1
status=$?
[ $status -ne 0 ]; ok $? "NaN at step 20: non-zero exit ($status)"
grep -q "error: epoch 2, step 20: .*layer 1 (dense(4)): NaN or Inf" "$tmp/nan.out"
ok $? "the message names the step and the layer"
"$top_srcdir/tests/mpirun.sh" 1 "$top_builddir/src/cli/stdbp_eval" \
  "$tmp/nan/checkpoints/ckpt-0000000012.h5" > "$tmp/nan-eval.out" 2>&1
ok $? "the last good checkpoint still loads and evaluates"
# The test hooks are set only by the test build: the real program (libtool
# keeps it under .libs/) and the library never read their variables.
real=$top_builddir/src/cli/.libs/stdbp_train
[ -f "$real" ] || real=$top_builddir/src/cli/stdbp_train
lib=$(ls "$top_builddir"/.libs/libstdbp.so "$top_builddir"/.libs/libstdbp.a 2>/dev/null | head -n 1)
[ -n "$lib" ] && ! grep -a -q 'STDBP_TEST_' "$real" "$lib" && grep -a -q STDBP_TEST_NAN_STEP \
  "$(ls "$top_builddir"/tests/tools/.libs/stdbp_train_hooked "$hooked" 2>/dev/null | head -n 1)"
ok $? "stdbp_train and $(basename "${lib:-libstdbp}") hold no test hook variable; the test build does"
tap_done
