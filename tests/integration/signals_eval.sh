#!/bin/sh
# Signals during the end-of-epoch evaluation (docs/SLURM.md): the test hook
# STDBP_TEST_EVAL_DELAY_MS (tests/tools/stdbp_train_hooked) makes every
# rank sleep before each chunk of it. A SIGTERM or SIGUSR1 to the ranks of
# a 2-rank run then ends the evaluation within a chunk: a checkpoint after
# the epoch's last step, exit 75, no metrics row for the epoch; the resume
# evaluates that epoch, trains on, and ends bitwise equal to an
# uninterrupted run, with the same metrics. The test set (513 images)
# gives the two ranks shares of 257 and 256: as many chunks on both, or
# the collective stop check would hang.
. "$top_srcdir/tests/tap/tap.sh"
command -v h5diff > /dev/null || skip_all "h5diff (hdf5-tools) not installed"
plan 12
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli/stdbp_train
hooked=$top_builddir/tests/tools/stdbp_train_hooked
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ranks() { pgrep -f "^[^ ]*stdbp_train_hooked $tmp/c.yaml"; } # the ranks, not mpirun
# The metrics but the timing columns (as in resume.sh).
metrics() { cut -d, -f1-9,13-17 "$1/metrics.csv" 2> /dev/null; }

# 280 training images, batch 20: 14 steps per epoch, 28 in all.
synthetic_data "$tmp" 513 && small_mlp_config "$tmp/c.yaml" evalstop 5 16 0.003 2 20 \
  "checkpoint: {keep: 0}"
ok $? "synthetic data (513 test images) and config written"
"$top_srcdir/tests/mpirun.sh" 2 "$bin" "$tmp/c.yaml" --no-deploy --progress log \
  --set run.dir="$tmp/ref" > "$tmp/ref.out" 2>&1
ok $? "the uninterrupted run finished"

# stop SIG DIR: a hooked run, SIG to both ranks once epoch 1's evaluation
# has begun. Sets s (exit status), dt (seconds from the signal to the end).
stop() {
  STDBP_TEST_EVAL_DELAY_MS=3000 "${MPIEXEC:-mpiexec}" -n 2 --oversubscribe --bind-to none \
    "$hooked" "$tmp/c.yaml" --no-deploy --progress log --set run.dir="$2" > "$2.out" 2>&1 &
  pid=$!
  i=0
  until grep -q "epoch 1/2: evaluating" "$2.out" 2> /dev/null || [ $i -ge 600 ]; do
    sleep 0.1; i=$((i + 1))
  done
  sleep 1 # inside the first chunk's delay
  t0=$(date +%s)
  kill -"$1" $(ranks)
  wait_gone $pid
  wait $pid; s=$?
  dt=$(($(date +%s) - t0))
}

stop TERM "$tmp/term"
[ $s -eq 75 ] && [ $dt -le 10 ]
ok $? "SIGTERM during the evaluation: exit 75 within 10 s (status $s, ${dt} s)"
grep -q "epoch 1/2: evaluation stopped by a signal" "$tmp/term.out" &&
  grep -q "the resume repeats it" "$tmp/term.out" &&
  grep -q "stopped at step 14 (signal" "$tmp/term.out"
ok $? "  says so, and stopped after the epoch's 14 steps ($(grep "^20" "$tmp/term.out" | tail -n 3))"
[ "$(basename "$(last_ckpt "$tmp/term")")" = ckpt-0000000014.h5 ] &&
  [ "$(metrics "$tmp/term" | wc -l)" -le 1 ]
ok $? "  the checkpoint is at step 14, and metrics.csv has no row for the epoch"

"$top_srcdir/tests/mpirun.sh" 2 "$bin" "$tmp/c.yaml" --no-deploy --progress log \
  --set run.dir="$tmp/term" --resume auto > "$tmp/term2.out" 2>&1
ok $? "the resume finished"
grep -q "resumed from .*ckpt-0000000014.h5" "$tmp/term2.out" &&
  [ "$(grep -c "^[^ ]* epoch 1/2: train loss" "$tmp/term2.out")" = 1 ] &&
  grep -q "no step since the resume" "$tmp/term2.out"
ok $? "  from step 14, evaluating epoch 1 once, with no step (and no rate) before it"
same_ckpt "$(last_ckpt "$tmp/ref")" "$(last_ckpt "$tmp/term")"
ok $? "  the final weights and optimiser state equal the uninterrupted run's"
metrics "$tmp/ref" > "$tmp/m.ref"
metrics "$tmp/term" > "$tmp/m.term"
[ "$(wc -l < "$tmp/m.ref")" = 3 ] && cmp -s "$tmp/m.ref" "$tmp/m.term"
ok $? "  and so do the metrics (one row per epoch)"

stop USR1 "$tmp/usr1"
[ $s -eq 75 ] && [ $dt -le 10 ] && grep -q "evaluation stopped by a signal" "$tmp/usr1.out"
ok $? "SIGUSR1 (SLURM --signal) during the evaluation: exit 75 within 10 s (status $s, ${dt} s)"
"$top_srcdir/tests/mpirun.sh" 2 "$bin" "$tmp/c.yaml" --no-deploy --progress log \
  --set run.dir="$tmp/usr1" --resume auto > "$tmp/usr12.out" 2>&1 &&
  same_ckpt "$(last_ckpt "$tmp/ref")" "$(last_ckpt "$tmp/usr1")"
ok $? "  the resume ends bitwise equal to the uninterrupted run"

# Without a signal the delayed evaluation runs to its end.
STDBP_TEST_EVAL_DELAY_MS=10 "$top_srcdir/tests/mpirun.sh" 2 "$hooked" "$tmp/c.yaml" --no-deploy \
  --progress log --set run.dir="$tmp/slow" > "$tmp/slow.out" 2>&1 &&
  metrics "$tmp/slow" | cmp -s - "$tmp/m.ref"
ok $? "no signal: the hooked run's metrics equal the uninterrupted run's"
tap_done
