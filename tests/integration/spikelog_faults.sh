#!/bin/sh
# A failed spike-log write never hangs and loses nothing. With the test
# hook STDBP_TEST_FAIL_SPIKES_STEP=N (tests/tools/stdbp_train_hooked) the
# Nth fallible step of a spike-log session (opening or creating
# spikes.h5, its root attributes, the moment's group, each dataset's
# creation, write and attributes, n_samples, the flushes, the close)
# fails on one rank (N mod NP). A run stopped after epoch 1 (its
# checkpoint and spikes.h5 with epoch-0001) is resumed and fails while it
# records epoch-0002: appending to the log (every N on 2 ranks, every
# 10th on 3 ranks) and, with the log removed first, creating it (every
# 5th N on 2 ranks). Each time:
#  - every rank exits within 10 s of the failure's run start (40 s in the
#    sanitizer build; the run takes about 2 s on an idle machine; a hang
#    never ends), non-zero,
#    with one error message;
#  - the checkpoint is byte for byte as it was, alone in checkpoints/,
#    metrics.csv keeps its rows (the failed epoch's row is dropped at the
#    next resume);
#  - spikes.h5 is readable (h5dump) and holds epoch-0001 as before and
#    no unfinished moment (a failed create leaves no spikes.h5, or one
#    without moments; a failed close, a complete epoch-0002);
# and, for a few N, --resume auto then ends with weights and epoch-0002
# bitwise equal to an uninterrupted run's (h5diff).
. "$top_srcdir/tests/tap/tap.sh"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
command -v h5dump >/dev/null || skip_all "h5dump (hdf5-tools) not installed"
command -v timeout >/dev/null || skip_all "timeout (coreutils) not installed"
plan 10
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli/stdbp_train
hooked=$top_builddir/tests/tools/stdbp_train_hooked
limit=${STDBP_FAULTS_TIMEOUT:-10}
# The sanitizer build runs several times slower: four times the limit, as
# sweep() takes four times the stride (a hang still never ends).
[ "${STDBP_SANITIZERS:-no}" = yes ] && [ -z "${STDBP_FAULTS_TIMEOUT:-}" ] && limit=40
run() { np=$1; shift; "$top_srcdir/tests/mpirun.sh" "$np" "$bin" "$tmp/cfg.yaml" --progress log --no-deploy "$@"; }
# moments FILE: the root groups of a spike log, one line each.
moments() { h5dump -n "$1" 2>/dev/null | sed -n 's|^ *group *\/\([^/][^/]*\)$|\1|p'; }

synthetic_data "$tmp" 12
ok $? "synthetic dataset written"
# 280 training samples, batch 20: 14 steps an epoch, two epochs; the
# spike times of 12 test samples after each epoch.
small_mlp_config "$tmp/cfg.yaml" spikefaults 5 16 0.002 2 20 "checkpoint: {keep: 0}
spikes: {samples: 12, when: epoch}"
run 2 --set run.dir="$tmp/straight" > "$tmp/straight.out" 2>&1
ref=$(last_ckpt "$tmp/straight")
run 2 --set run.dir="$tmp/base" --max-steps 14 > "$tmp/base.out" 2>&1
prev=$tmp/base/checkpoints/ckpt-0000000014.h5
[ -n "$ref" ] && [ -f "$prev" ] && [ "$(moments "$tmp/base/spikes.h5")" = epoch-0001 ] &&
  [ "$(moments "$tmp/straight/spikes.h5" | tr '\n' ' ')" = "epoch-0001 epoch-0002 " ]
ok $? "an uninterrupted run and one stopped after epoch 1 (its checkpoint and spike log are the previous ones)"
cp -r "$tmp/base" "$tmp/nolog" && rm -f "$tmp/nolog/spikes.h5"

# fail KIND NP N: a copy of base (KIND app) or of base without spikes.h5
# (KIND new) resumed with step N of its spike-log session failing on rank
# N mod NP. Prints why it is wrong, if it is; returns 2 when the session
# succeeded (N is past its last step).
fail() {
  kind=$1; np=$2; n=$3; d=$tmp/$kind$np-$n
  rm -rf "$d"
  if [ "$kind" = app ]; then cp -r "$tmp/base" "$d"; else cp -r "$tmp/nolog" "$d"; fi
  STDBP_TEST_FAIL_SPIKES_STEP=$n STDBP_TEST_FAIL_SPIKES_RANK=$((n % np)) STDBP_TEST_TIMEOUT=$limit \
    timeout -k 2 "$limit" "$top_srcdir/tests/mpirun.sh" "$np" "$hooked" "$tmp/cfg.yaml" \
    --progress log --no-deploy --set run.dir="$d" --resume auto > "$d.out" 2>&1
  rc=$?
  [ $rc -eq 0 ] && return 2
  w="$kind step $n on $np ranks"
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && { echo "$w: no exit within $limit s"; return 1; }
  [ "$(grep -c 'error' "$d.out")" -eq 1 ] && grep -q "error: .*spike log .*step $n failed (injected" "$d.out" ||
    { echo "$w: not one clear error message: $(grep error "$d.out" | head -3)"; return 1; }
  cmp -s "$prev" "$d/checkpoints/ckpt-0000000014.h5" ||
    { echo "$w: the previous checkpoint changed"; return 1; }
  # best.h5: epoch 1's checkpoint, as in base (the resume marks it again).
  [ "$(ls -A "$d/checkpoints" | tr '\n' ' ')" = "best.h5 ckpt-0000000014.h5 " ] &&
    cmp -s "$prev" "$d/checkpoints/best.h5" ||
    { echo "$w: left in checkpoints/: $(ls -A "$d/checkpoints" | tr '\n' ' ')"; return 1; }
  head -n "$(wc -l < "$tmp/base/metrics.csv")" "$d/metrics.csv" | cmp -s "$tmp/base/metrics.csv" - ||
    { echo "$w: metrics.csv lost its rows"; return 1; }
  # A failure at the session's close comes after epoch-0002 was complete
  # (n_samples, flushed): then it may stay; the next resume removes it.
  if [ -e "$d/spikes.h5" ]; then
    m=$(moments "$d/spikes.h5" | tr '\n' ' ')
    h5dump -H "$d/spikes.h5" >/dev/null 2>&1 || { echo "$w: spikes.h5 unreadable"; return 1; }
    case "$kind $m" in
    "app epoch-0001 " | "new ") ;;
    "app epoch-0001 epoch-0002 " | "new epoch-0002 ")
      h5diff -q "$tmp/straight/spikes.h5" "$d/spikes.h5" /epoch-0002 /epoch-0002 >/dev/null 2>&1 ||
        { echo "$w: an unfinished epoch-0002 left in spikes.h5"; return 1; } ;;
    *) echo "$w: spikes.h5 holds: $m"; return 1 ;;
    esac
    [ "$kind" = new ] || h5diff -q "$tmp/base/spikes.h5" "$d/spikes.h5" /epoch-0001 /epoch-0001 >/dev/null 2>&1 ||
      { echo "$w: epoch-0001 changed"; return 1; }
  elif [ "$kind" = app ]; then
    echo "$w: spikes.h5 is gone"; return 1
  fi
  return 0
}

# sweep KIND NP STRIDE: every STRIDE-th step until the session succeeds.
sweep() {
  kind=$1; np=$2; stride=$3
  [ "${STDBP_SANITIZERS:-no}" = yes ] && stride=$((stride * 4))
  n=1; bad=0; steps=0
  while [ $n -le 200 ]; do
    out=$(fail "$kind" "$np" $n); rc=$?
    [ $rc -eq 2 ] && break
    [ $rc -ne 0 ] && { bad=$((bad + 1)); diag "$out"; }
    steps=$n
    n=$((n + stride))
  done
  # the first step the session got past (n) shows it has over 15 steps,
  # whatever the stride (4 times larger under the sanitizers)
  [ $n -le 200 ] && [ $n -gt 15 ]
  ok $? "$kind, $np ranks: a session of more than 15 steps succeeds past its last step (failed steps 1..$steps, every $stride; succeeds at $n)"
  [ $bad -eq 0 ]
  ok $? "$kind, $np ranks: every failed step: exit within $limit s, one error message, checkpoint, metrics.csv and spike log as before ($bad wrong)"
}
sweep app 2 1; total=$steps
sweep app 3 10
sweep new 2 5

# The previous checkpoint still resumes, bitwise, and records epoch-0002
# as the uninterrupted run did: after a failure at the first step and at
# the last one (the close).
for n in 1 $total; do
  d=$tmp/app2-$n
  run 2 --set run.dir="$d" --resume auto > "$d.resume" 2>&1 &&
    grep -q "resumed from .*ckpt-0000000014.h5" "$d.resume" &&
    h5diff -q "$ref" "$(last_ckpt "$d")" /weights /weights >/dev/null 2>&1 &&
    h5diff -q "$tmp/straight/spikes.h5" "$d/spikes.h5" /epoch-0002 /epoch-0002 >/dev/null 2>&1
  ok $? "failed at step $n of $total, then --resume auto: weights and epoch-0002 bitwise equal to the uninterrupted run"
done
tap_done
