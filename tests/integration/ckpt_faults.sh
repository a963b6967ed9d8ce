#!/bin/sh
# A failed checkpoint write never hangs and loses nothing. With the test
# hook STDBP_TEST_FAIL_CKPT_STEP=N (tests/tools/stdbp_train_hooked) the
# Nth fallible step of the write (file create, each group, dataset,
# write and attribute, flush, close, sync, rename) fails on one rank
# (N mod P). For every N on 2 ranks, and every 5th N on 3 ranks, until
# the write has fewer steps than N (then it succeeds):
#  - every rank exits within 60 s of the start (a run takes about 2 s on
#    an idle 2-core machine: the margin is for a loaded one, where one
#    run took over 30 s once; a hang never
#    ends), non-zero, with one error message;
#  - the previous checkpoint is byte for byte as it was, nothing else is
#    left in checkpoints/, metrics.csv is unchanged;
# and the run resumes from it (--resume auto) to weights and optimiser
# state bitwise equal to an uninterrupted run (h5diff).
. "$top_srcdir/tests/tap/tap.sh"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
command -v timeout >/dev/null || skip_all "timeout (coreutils) not installed"
plan 9
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli/stdbp_train
hooked=$top_builddir/tests/tools/stdbp_train_hooked
run() { np=$1; shift; "$top_srcdir/tests/mpirun.sh" "$np" "$bin" "$tmp/cfg.yaml" --progress log --no-deploy "$@"; }

synthetic_data "$tmp"
ok $? "synthetic dataset written"
# 280 training samples, batch 20: 14 steps, one epoch.
small_mlp_config "$tmp/cfg.yaml" faults 5 16 0.002 1 20 "checkpoint: {keep: 0}"
run 2 --set run.dir="$tmp/straight" > "$tmp/straight.out" 2>&1
ref=$(last_ckpt "$tmp/straight")
run 2 --set run.dir="$tmp/base" --max-steps 7 > "$tmp/base.out" 2>&1
prev=$tmp/base/checkpoints/ckpt-0000000007.h5
[ -n "$ref" ] && [ -f "$prev" ]
ok $? "an uninterrupted run and one stopped at step 7 (its checkpoint is the previous one)"

# fail NP N: a copy of base resumed with step N of its checkpoint write
# failing on rank N mod NP. Prints why it is wrong, if it is; returns 2
# when the write succeeded (N is past its last step).
fail() {
  np=$1; n=$2; d=$tmp/f$np-$n
  rm -rf "$d"; cp -r "$tmp/base" "$d"
  STDBP_TEST_FAIL_CKPT_STEP=$n STDBP_TEST_FAIL_CKPT_RANK=$((n % np)) STDBP_TEST_TIMEOUT=60 \
    timeout -k 2 60 "$top_srcdir/tests/mpirun.sh" "$np" "$hooked" "$tmp/cfg.yaml" --progress log \
    --no-deploy --set run.dir="$d" --resume auto --max-steps 8 > "$d.out" 2>&1
  rc=$?
  [ $rc -eq 0 ] && return 2
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && { echo "step $n on $np ranks: no exit within 60 s"; return 1; }
  [ "$(grep -c 'error' "$d.out")" -eq 1 ] && grep -q "error: .*step $n failed (injected" "$d.out" ||
    { echo "step $n on $np ranks: not one clear error message: $(grep error "$d.out" | head -3)"; return 1; }
  cmp -s "$prev" "$d/checkpoints/ckpt-0000000007.h5" ||
    { echo "step $n on $np ranks: the previous checkpoint changed"; return 1; }
  [ "$(ls -A "$d/checkpoints")" = "ckpt-0000000007.h5" ] ||
    { echo "step $n on $np ranks: left in checkpoints/: $(ls -A "$d/checkpoints" | tr '\n' ' ')"; return 1; }
  cmp -s "$tmp/base/metrics.csv" "$d/metrics.csv" ||
    { echo "step $n on $np ranks: metrics.csv changed"; return 1; }
  return 0
}

for np in 2 3; do
  # Every step on 2 ranks; a sample on 3 ranks, and under the sanitizers
  # (each run starts ASan processes: several times slower).
  stride=1; [ $np -eq 3 ] && stride=5
  [ "${STDBP_SANITIZERS:-no}" = yes ] && stride=$((stride * 4))
  n=1; bad=0; steps=0; why=
  while [ $n -le 400 ]; do
    out=$(fail $np $n); rc=$?
    [ $rc -eq 2 ] && break
    [ $rc -ne 0 ] && { bad=$((bad + 1)); why="$why$out; "; diag "$out"; }
    steps=$n
    n=$((n + stride))
  done
  [ $n -le 400 ] && [ $steps -gt 20 ]
  ok $? "$np ranks: a write of more than 20 steps succeeds past its last step (failed steps 1..$steps, every ${stride})"
  [ $bad -eq 0 ]; ok $? "$np ranks: every failed step: exit within 60 s, one error message, previous checkpoint, metrics.csv unchanged, nothing left behind ($bad wrong)"
  [ $np -eq 2 ] && total2=$steps && stride2=$stride
done

# The previous checkpoint still resumes, bitwise: after a failure at the
# first step, in the middle and at the last one (the rename's sync).
# (Steps that the sweep above ran: its copies are what resumes.)
for n in 1 $((1 + stride2 * ((total2 / 2 - 1) / stride2))) $total2; do
  d=$tmp/f2-$n
  run 2 --set run.dir="$d" --resume auto > "$d.resume" 2>&1 &&
    grep -q "resumed from .*ckpt-0000000007.h5" "$d.resume" && same_ckpt "$ref" "$(last_ckpt "$d")"
  ok $? "failed at step $n of $total2, then --resume auto: bitwise equal to the uninterrupted run"
done
tap_done
