#!/bin/bash
# The SLURM job scripts on a real one-node cluster (make check-slurm; not
# part of make check). Starts munged, slurmctld and slurmd under a temporary
# directory (scripts/slurm-local-start.sh) and always stops them by their
# PIDs at the end. Checks, on synthetic data (tests/tools/gen_dataset):
#  (a) jobs/train.sbatch trains a small config to the end (sbatch --wait)
#      and leaves the final checkpoint;
#  (b) the same config, twice at once (srun and mpirun as launcher), is sent
#      the time-limit warning (scancel --batch --signal=USR1: only the batch
#      shell, as --signal=B:USR1@N does): the ranks checkpoint and exit 75,
#      the job requeues itself, reruns (SLURM_RESTART_COUNT=1), resumes with
#      --resume auto and ends with weights and optimiser state bitwise equal
#      to (a)'s (h5diff);
#  (c) a 3-point sweep runs as a job array (jobs/sweep.sbatch) and
#      stdbp_sweep --summary lists the 3 points as done.
# Needs root, slurmctld, slurmd, slurm-client, munge and h5diff; skipped
# otherwise (SLURM_LOCAL_INSTALL=1 installs the SLURM packages). About a
# minute and a half. STDBP_TEST_KEEP=1 keeps the directory and the logs.
set -u
: "${top_srcdir:?run through make check-slurm}" "${top_builddir:?run through make check-slurm}"
. "$top_srcdir/tests/tap/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "the local SLURM cluster runs as root"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
if [ "${SLURM_LOCAL_INSTALL:-0}" != 1 ]; then
  for c in slurmctld slurmd sbatch munged; do
    command -v $c >/dev/null ||
      skip_all "$c not installed (apt-get install slurmctld slurmd slurm-client munge)"
  done
fi
N_CHECKS=22
plan $N_CHECKS

T0=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stdbp-slurm-XXXXXX") || exit 99
chmod 0755 "$tmp" # munged wants a world-executable path to its socket
cl=$tmp/cluster
train=$top_builddir/src/cli/stdbp_train
sweep=$top_builddir/src/cli/stdbp_sweep
jobs=$top_srcdir/jobs

stop_cluster() {
  if [ -n "${STDBP_TEST_KEEP:-}" ]; then
    SLURM_LOCAL_KEEP=1 "$top_srcdir/scripts/slurm-local-stop.sh" "$cl"
  else
    "$top_srcdir/scripts/slurm-local-stop.sh" "$cl"
  fi
}
cleanup() {
  stop_cluster >>"$tmp/stop.log" 2>&1
  if [ -n "${STDBP_TEST_KEEP:-}" ]; then diag "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
phase() { diag "$(( $(date +%s) - T0 ))s: $*"; }
# show a file on failure
show() { for f in "$@"; do [ -f "$f" ] && { diag "---- $f"; sed 's/^/#   /' "$f" | tail -n 25 >&2; }; done; }

# ------------------------------------------------------------------ cluster
SLURM_LOCAL_CPUS=8 "$top_srcdir/scripts/slurm-local-start.sh" "$cl" >"$tmp/start.log" 2>&1
status=$?
ok $status "a one-node SLURM cluster starts (scripts/slurm-local-start.sh)"
if [ $status -ne 0 ]; then
  show "$tmp/start.log"
  echo "Bail out! no cluster"
  exit 1
fi
# shellcheck disable=SC1091
. "$cl/env.sh"
phase "cluster up: $(sinfo -h -o '%N %T %c CPUs')"

# ------------------------------------------------------------------ data, config
"$top_builddir/tests/tools/gen_dataset" "$tmp/train.h5" 1000 8 4 1 &&
  "$top_builddir/tests/tools/gen_dataset" "$tmp/test.h5" 200 8 4 2
ok $? "synthetic data set written"
# 900 training images / batch 25 = 36 steps per epoch, 4 epochs: step 144.
cat >"$tmp/cfg.yaml" <<YAML
run: {name: slurm, seed: 5}
data: {train: "hdf5:$tmp/train.h5", test: "hdf5:$tmp/test.h5",
       train_samples: 1000, val_samples: 100}
network:
  layers:
    - {type: dense, out: 32}
    - {type: dense, out: 4}
optimizer: {kind: adam, lr: 0.0005}
train: {epochs: 4, batch: 25, log_every: 0}
checkpoint: {every_steps: 5, keep: 2}
spikes: {samples: 0}
deploy: {enabled: false}
YAML
final=ckpt-0000000144.h5
export STDBP_TRAIN=$train STDBP_SWEEP=$sweep MPIRUN_ARGS="--bind-to none"

# ------------------------------------------------------------------ (a)
phase "(a) sbatch --wait jobs/train.sbatch"
jid_a=$(timeout 300 sbatch --parsable --wait --chdir="$tmp" --output="$tmp/a-%j.out" \
        "$jobs/train.sbatch" "$tmp/cfg.yaml" --set run.dir="$tmp/run-a")
status=$?
ok $status "(a) train.sbatch runs to the end (sbatch --wait exit status $status)"
[ -f "$tmp/run-a/checkpoints/$final" ]
ok $? "(a) the run directory holds the final checkpoint $final"
[ "$(grep -c '^[0-9]' "$tmp/run-a/metrics.csv" 2>/dev/null)" = 4 ]
ok $? "(a) metrics.csv has the 4 epochs"
[ $tap_failed -eq 0 ] || show "$tmp/a-$jid_a.out"

# ------------------------------------------------------------------ (b)
# The checkpoint hook (of the test build of stdbp_train) slows every
# checkpoint write (the weights do not change), so that the warning surely
# lands in the middle of the run.
phase "(b) two jobs, warned at their first checkpoint"
declare -A jid
for l in srun mpirun; do
  jid[$l]=$(STDBP_TRAIN=$top_builddir/tests/tools/stdbp_train_hooked \
            STDBP_TEST_CKPT_DELAY_MS=50 LAUNCHER=$l sbatch --parsable --chdir="$tmp" \
            --job-name="b-$l" --output="$tmp/b-$l.out" \
            "$jobs/train.sbatch" "$tmp/cfg.yaml" --set run.dir="$tmp/run-b-$l")
done
for l in srun mpirun; do
  for _ in $(seq 1 300); do
    has_ckpt "$tmp/run-b-$l" && break
    sleep 0.2
  done
  scancel --batch --signal=USR1 "${jid[$l]}"
done
for _ in $(seq 1 360); do
  [ -z "$(squeue -h -j "${jid[srun]},${jid[mpirun]}" 2>/dev/null)" ] && break
  sleep 0.5
done
phase "(b) both jobs left the queue"
for l in srun mpirun; do
  log=$tmp/b-$l.out
  info=$(scontrol show job "${jid[$l]}")
  failed0=$tap_failed
  # log lines start with the local time (--progress log)
  step=$(sed -n 's/^\([0-9T:-]* \)\{0,1\}stopped at step \([0-9]*\) (signal.*/\2/p' "$log" |
    head -n 1)
  [ -n "$step" ] && [ "$step" -lt 144 ] && grep -q 'stdbp_train exited with status 75' "$log"
  ok $? "(b/$l) on SIGUSR1 the ranks checkpoint at step ${step:-?} of 144 and exit 75"
  echo "$info" | grep -q 'Restarts=1 ' && grep -q "restart 1 on" "$log"
  ok $? "(b/$l) the job requeues itself and runs again (SLURM_RESTART_COUNT=1)"
  grep -q "^\([0-9T:-]* \)\{0,1\}resumed from $tmp/run-b-$l/checkpoints/ckpt-0*$step.h5\( \|$\)" "$log"
  ok $? "(b/$l) the rerun resumes from that checkpoint (--resume auto)"
  echo "$info" | grep -q 'JobState=COMPLETED' && echo "$info" | grep -q 'ExitCode=0:0'
  ok $? "(b/$l) the job ends COMPLETED with exit code 0"
  h5diff -q "$tmp/run-a/checkpoints/$final" "$tmp/run-b-$l/checkpoints/$final" \
    /weights /weights >/dev/null 2>&1 &&
    h5diff -q "$tmp/run-a/checkpoints/$final" "$tmp/run-b-$l/checkpoints/$final" \
      /optimizer /optimizer >/dev/null 2>&1
  ok $? "(b/$l) final weights and optimiser state bitwise equal to the uninterrupted run"
  # val_loss, val_acc, test_loss, test_acc of every epoch
  [ -n "$(cut -d, -f6-9 "$tmp/run-a/metrics.csv")" ] &&
    [ "$(cut -d, -f6-9 "$tmp/run-a/metrics.csv")" = "$(cut -d, -f6-9 "$tmp/run-b-$l/metrics.csv" 2>/dev/null)" ]
  ok $? "(b/$l) validation and test metrics of every epoch equal to the uninterrupted run"
  [ $tap_failed -eq "$failed0" ] || { diag "$info"; show "$log"; }
done

# ------------------------------------------------------------------ (c)
phase "(c) a 3-point sweep as a job array"
cat >"$tmp/sweep.yaml" <<YAML
name: lr3
base: cfg.yaml
dir: $tmp/sweeps
set: {train.epochs: 2}
params:
  optimizer.lr: [0.0003, 0.001, 0.003]
YAML
n=$("$sweep" "$tmp/sweep.yaml" --count 2>"$tmp/count.err")
[ "$n" = 3 ]
ok $? "(c) stdbp_sweep --count: 3 points"
timeout 300 sbatch --parsable --wait --array=0-$((n - 1)) --chdir="$tmp" \
  --output="$tmp/c-%A_%a.out" "$jobs/sweep.sbatch" "$tmp/sweep.yaml" >/dev/null
status=$?
ok $status "(c) the job array of 3 tasks ends with status $status (sbatch --wait)"
"$sweep" "$tmp/sweep.yaml" --summary >"$tmp/summary.out" 2>&1
grep -q '^sweep lr3: 3 points, 3 done' "$tmp/summary.out"
ok $? "(c) stdbp_sweep --summary: 3 points, 3 done"
csv=$tmp/sweeps/lr3/summary.csv
ranked=1
for k in 0 1 2; do grep -q "^[123],$k,done," "$csv" 2>/dev/null || ranked=0; done
[ $ranked = 1 ] && [ "$(wc -l <"$csv")" = 4 ]
ok $? "(c) summary.csv ranks points 0, 1 and 2, all done"
if [ $status -ne 0 ] || ! grep -q ' 3 done' "$tmp/summary.out"; then
  show "$tmp/summary.out" "$tmp/count.err"
  for f in "$tmp"/c-*.out; do show "$f"; done
fi

# ------------------------------------------------------------------ stop
phase "stopping the cluster"
pids=$(cat "$cl/munge/munged.pid" "$cl/run/slurmctld.pid" "$cl/run/slurmd.pid" 2>/dev/null |
       tr '\n' ' ')
stop_cluster >>"$tmp/stop.log" 2>&1
alive=0
for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
[ -n "$pids" ] && [ $alive = 0 ]
ok $? "munged, slurmctld and slurmd stopped by their PIDs (${pids% })"
phase "done"
[ "$tap_n" -eq $N_CHECKS ] || { echo "# ran $tap_n checks, planned $N_CHECKS"; exit 1; }
tap_done
