#!/bin/sh
# Signals while the data sets load (docs/SLURM.md): loading is made slow by
# the test hook STDBP_TEST_LOAD_DELAY_MS (tests/tools/stdbp_train_hooked
# sleeps that long before each chunk it reads). A SIGTERM or SIGUSR1 to
# every rank of a 2-rank run, or SIGTERM to mpirun itself, ends the load
# within 10 s with exit status 75 (mpirun's own: in --exit-file) and a
# message saying so; nothing is trained or written, and the checkpoints
# and metrics of an earlier session in the run directory are untouched.
. "$top_srcdir/tests/tap/tap.sh"
plan 8
tap_tmpdir; tmp=$tap_tmp
hooked=$top_builddir/tests/tools/stdbp_train_hooked
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ranks() { pgrep -f "^[^ ]*stdbp_train_hooked $tmp/c.yaml"; } # the ranks, not mpirun
# wait_armed: until both ranks catch SIGTERM (bit 15 of SigCgt: their
# handler is installed, so the loading has begun), at most 30 s
wait_armed() {
  i=0
  while [ $i -lt 300 ]; do
    n=0
    for p in $(ranks); do
      m=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$p/status" 2> /dev/null)
      [ -n "$m" ] && [ $((0x$m & 0x4000)) -ne 0 ] && n=$((n + 1))
    done
    [ $n -ge 2 ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}
sums() { (cd "$tmp/run" && cksum checkpoints/* metrics.csv 2> /dev/null); }

synthetic_data "$tmp" && small_mlp_config "$tmp/c.yaml" l 3 16 0.003 1 25 \
  "deploy: {enabled: false}" &&
  "$top_srcdir/tests/mpirun.sh" 2 "$hooked" "$tmp/c.yaml" --quiet --set run.dir="$tmp/run" \
    > "$tmp/o0" 2>&1 &&
  ls "$tmp"/run/checkpoints/ckpt-*.h5 > /dev/null 2>&1
ok $? "a first session trained and wrote a checkpoint"
sums > "$tmp/before"

# stop SIG WHO [ARGS...]: a resumed session with slow loading; SIG to the
# ranks (WHO = ranks) or to mpirun (WHO = mpirun) once loading has begun.
# Sets s (exit status), dt (seconds from the signal to the end).
stop() {
  sig=$1 who=$2
  shift 2
  STDBP_TEST_LOAD_DELAY_MS=5000 "${MPIEXEC:-mpiexec}" -n 2 --oversubscribe --bind-to none \
    "$hooked" "$tmp/c.yaml" --set run.dir="$tmp/run" --resume auto --progress log "$@" \
    > "$tmp/o" 2>&1 &
  pid=$!
  wait_armed || diag "the ranks never installed their handlers"
  sleep 0.5
  t0=$(date +%s)
  if [ "$who" = mpirun ]; then kill -"$sig" $pid; else kill -"$sig" $(ranks); fi
  wait_gone $pid
  wait $pid; s=$?
  dt=$(($(date +%s) - t0))
}

stop TERM ranks
[ $s -eq 75 ] && [ $dt -le 10 ]
ok $? "SIGTERM to both ranks while loading: exit 75 within 10 s (status $s, ${dt} s)"
grep -q "loading stopped by a signal; nothing trained, no checkpoint written" "$tmp/o" &&
  ! grep -q "rank [01]:" "$tmp/o"
ok $? "  one message: stopped while loading, no checkpoint ($(head -c 200 "$tmp/o"))"
sums | cmp -s - "$tmp/before" && ! grep -q "stopped at step" "$tmp/o"
ok $? "  the earlier checkpoints and metrics are untouched, nothing trained"

stop USR1 ranks
[ $s -eq 75 ] && [ $dt -le 10 ] && grep -q "loading stopped by a signal" "$tmp/o"
ok $? "SIGUSR1 (SLURM --signal) while loading: exit 75 within 10 s (status $s, ${dt} s)"
sums | cmp -s - "$tmp/before"
ok $? "  the earlier checkpoints and metrics are untouched"

rm -f "$tmp/exit"
stop TERM mpirun --exit-file "$tmp/exit"
[ "$(cat "$tmp/exit" 2> /dev/null)" = 75 ] && [ $dt -le 10 ] && [ $s -ne 137 ]
ok $? "SIGTERM to mpirun while loading: ended within 10 s, --exit-file holds 75 (status $s, ${dt} s)"
sums | cmp -s - "$tmp/before"
ok $? "  the earlier checkpoints and metrics are untouched"
