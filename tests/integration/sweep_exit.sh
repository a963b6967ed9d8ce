#!/bin/sh
# stdbp_sweep --exit-file and jobs/sweep.sbatch under signals (docs/SLURM.md,
# "What each launcher returns"): rank 0 writes its exit status to the file
# (0 done, 1 error, 75 stopped after a checkpoint); mpirun's own SIGTERM
# exits 1, but the file holds 75 and the point is "preempted"; the sweep
# job script, as train.sbatch, exits 75 after Slurm's SIGTERM to every
# process of its group (mpirun as launcher), not 1. Every program runs
# under a time limit, so that a hang fails a check instead of the suite.
. "$top_srcdir/tests/tap/tap.sh"
plan 8
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
point=$tmp/sw/s/point-0000

synthetic_data "$tmp"
cat > "$tmp/base.yaml" <<YAML
run: {name: b, seed: 3}
data: {train: "hdf5:$tmp/train.h5", test: "hdf5:$tmp/test.h5", val_samples: 20}
network: {layers: [{type: dense, out: 16}, {type: dense, out: 4}]}
train: {epochs: 1, batch: 25}
deploy: {enabled: false}
YAML
cat > "$tmp/s.yaml" <<YAML
name: s
base: base.yaml
dir: $tmp/sw
params: {optimizer.lr: [0.003]}
YAML
# the same point, training "for ever" (until a signal)
sed 's/epochs: 1, batch: 25/epochs: 100000, batch: 4/' "$tmp/base.yaml" > "$tmp/long.yaml" &&
  sed 's/base: base.yaml/base: long.yaml/' "$tmp/s.yaml" > "$tmp/l.yaml"
ok $? "a sweep of one point, a short and a long base"

# 1. Done, and an error: 0 and 1 in the file.
timeout -s KILL 60 "$bin/stdbp_sweep" "$tmp/s.yaml" --index 0 --quiet \
  --exit-file "$tmp/e0" > "$tmp/o0" 2>&1; s=$?
[ $s -eq 0 ] && [ "$(cat "$tmp/e0" 2> /dev/null)" = 0 ] && [ ! -e "$tmp/e0.tmp" ]
ok $? "a point trained: exit 0, --exit-file holds 0 ($s)"
timeout -s KILL 60 "$bin/stdbp_sweep" "$tmp/s.yaml" --index 7 --exit-file "$tmp/e1" \
  > "$tmp/o1" 2>&1; s=$?
[ $s -eq 1 ] && [ "$(cat "$tmp/e1" 2> /dev/null)" = 1 ]
ok $? "a point that does not exist: exit 1, --exit-file holds 1 ($s)"

# 2. SIGTERM to mpirun itself: it exits 1 (Open MPI); the file says 75.
rm -rf "$tmp/sw"
OMPI_MCA_odls_base_sigkill_timeout=10 "${MPIEXEC:-mpiexec}" -n 2 --oversubscribe \
  --bind-to none "$bin/stdbp_sweep" "$tmp/l.yaml" --index 0 --quiet --exit-file "$tmp/e2" > "$tmp/o2" 2>&1 &
pid=$!
wait_ckpt "$point"
sleep 0.5
kill -TERM $pid
wait_gone $pid
wait $pid; s=$?
[ "$(cat "$tmp/e2" 2> /dev/null)" = 75 ] && [ $s -ne 137 ] && [ ! -e "$tmp/e2.tmp" ]
ok $? "mpirun's own SIGTERM: launcher status $s, --exit-file holds 75"
grep -q "status: preempted" "$point/sweep_point.yaml" 2> /dev/null
ok $? "  the point says preempted"

# 3. jobs/sweep.sbatch with mpirun: SIGTERM to the batch shell; the script
# forwards it to mpirun as SIGUSR1, the ranks checkpoint and the script
# exits 75 (mpirun's status or rank 0's --exit-file), not 1.
rm -rf "$tmp/sw"
cd "$tmp" || exit 99
OMPI_MCA_odls_base_sigkill_timeout=10 \
  LAUNCHER=mpirun SLURM_NTASKS=2 SLURM_ARRAY_TASK_ID=0 STDBP_SWEEP="$bin/stdbp_sweep" \
  MPIRUN_ARGS="--oversubscribe --bind-to none" EXIT_FILE="$tmp/sb-exit" \
  setsid -w bash "$top_srcdir/jobs/sweep.sbatch" "$tmp/l.yaml" > "$tmp/o3" 2>&1 &
pid=$!
wait_ckpt "$point"
sleep 0.5
# the leader of the new session: $pid when setsid exec'd bash, else its child
lead=$pid
[ "$(ps -o sid= -p $pid | tr -d ' ')" = "$pid" ] || lead=$(pgrep -P $pid | head -n 1)
# the batch shell only (scancel --batch, --signal=B:TERM): signalled
# directly, mpirun may not pass SIGTERM on before its own kill timeout
# (docs/SLURM.md), so the script forwards SIGUSR1 itself
env kill -TERM -- "$lead"
wait_gone $pid
kill -0 "$lead" 2> /dev/null && env kill -KILL -- "-$lead"
wait $pid; s=$?
[ $s -eq 75 ] && [ ! -e "$tmp/sb-exit" ] && grep -q "got SIGTERM: forwarding SIGUSR1" "$tmp/o3"
ok $? "sweep.sbatch (mpirun) after SIGTERM to the batch shell: exit 75 from the exit file ($s)"
[ $s -eq 75 ] || grep -v "^epoch\|^checkpoint" "$tmp/o3" | sed "s/^/#   /" | tail -n 30 >&2
grep -q "status: preempted" "$point/sweep_point.yaml" 2> /dev/null &&
  ls "$point"/checkpoints/ckpt-*.h5 > /dev/null 2>&1
ok $? "  the point has its checkpoint and says preempted"

# 4. Resumed after it, the point goes on from its checkpoint.
timeout -s KILL 60 "$bin/stdbp_sweep" "$tmp/l.yaml" --index 0 --resume auto --progress log \
  --set train.epochs=2 --exit-file "$tmp/e4" > "$tmp/o4" 2>&1; s=$?
[ $s -eq 0 ] && [ "$(cat "$tmp/e4" 2> /dev/null)" = 0 ] && grep -q "resumed from" "$tmp/o4"
ok $? "  --resume auto continues it: exit 0, --exit-file holds 0 ($s)"
