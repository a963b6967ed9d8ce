#!/bin/sh
# comm_measure.sh: the measurements behind docs/SCALING.md, in one
# directory of CSV files.
#
#   bench/comm_measure.sh OUTDIR [coll] [train] [tcp] [tbf] [tcp-train]
#
# coll   bench/bench_comm over shared memory on 2, 4 and 8 ranks
#        (oversubscribed beyond 2: the machine has 2 cores) -> coll.csv
# train  short stdbp_train runs (the MNIST MLP, 100 steps of global batch
#        128, 256, 512 and 50 of 1024 (TRAIN_BATCHES), one thread per rank)
#        on 1, 2, 4 and 8 ranks: the trainer's own split of the step time
#        (compute, reduce, update; the slowest rank's compute) -> train.csv.
#        Each rank count twice: through the collectives (link "shm",
#        STDBP_SHARED_UPDATE=off) and through the node's shared memory, the
#        trainer's default (link "node")
# tcp    (root) bench_comm over TCP: one namespace's loopback (2 ranks),
#        two namespaces joined by a veth pair (1 and 2 ranks each;
#        bench/comm_netns.sh). 2 x 2 ranks on 2 cores is slow: minutes.
# tbf    (root) bench_comm on the veth pair limited to 1 Gbit/s by tbf
# tcp-train  (root) the training runs on those four links
# Default: all. Rows are appended to the CSV files already in OUTDIR.
#
# The collective algorithms are fixed (Open MPI's tuned component):
# ring reduce-scatter (3), ring all-gatherv (3), recursive-doubling
# all-reduce (3); the training runs use the same. Environment: builddir
# (default build), srcdir (default .), MPIEXEC, STDBP_DATA.
# -h, --help: print this help and exit.
case ${1:-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -eu
out=${1:?usage: $0 OUTDIR [coll] [train] [tcp] [tbf] [tcp-train]}
shift
what=${*:-coll train tcp tbf tcp-train}
srcdir=${srcdir:-.}
builddir=${builddir:-build}
: "${MPIEXEC:=mpiexec}"
STDBP_DATA=${STDBP_DATA:-$srcdir/data}; export STDBP_DATA
OMP_NUM_THREADS=1; export OMP_NUM_THREADS
OMPI_MCA_coll_tuned_use_dynamic_rules=1
OMPI_MCA_coll_tuned_reduce_scatter_algorithm=3
OMPI_MCA_coll_tuned_allgatherv_algorithm=3
OMPI_MCA_coll_tuned_allreduce_algorithm=3
export OMPI_MCA_coll_tuned_use_dynamic_rules OMPI_MCA_coll_tuned_reduce_scatter_algorithm \
  OMPI_MCA_coll_tuned_allgatherv_algorithm OMPI_MCA_coll_tuned_allreduce_algorithm
mkdir -p "$out"
bench="$builddir/bench/bench_comm"
train="$builddir/src/cli/stdbp_train"
has() { case " $what " in *" $1 "*) return 0 ;; esac; return 1; }
load() { cut -d' ' -f1 /proc/loadavg; }

# coll: LINK RUNNER... ; appends rows "link,op,ranks,n,bytes,reps,min_us,median_us"
coll() {
  link=$1; shift
  "$@" "$bench" > "$out/tmp.csv"
  awk -v l="$link" 'NR > 1 { print l "," $0 }' "$out/tmp.csv" >> "$out/coll.csv"
}
# train: LINK P BATCH RUNNER... ; appends one row of the trainer's split
train_run() {
  link=$1 p=$2 batch=$3; shift 3
  dir=$(mktemp -d "${TMPDIR:-/tmp}/scal-train-XXXXXX")
  steps=$((51200 / batch)); [ $steps -le 100 ] || steps=100 # 51,300 of 55,000 images at most
  l0=$(load)
  "$@" "$train" "$srcdir/configs/mnist_mlp.yaml" --no-deploy \
    --set train.epochs=1 --set train.batch="$batch" --set augment.shift=0 \
    --set data.train_samples=$((steps * batch + 100)) --set data.val_samples=100 \
    --set data.test_samples=100 --set spikes.samples=0 --set run.dir="$dir" \
    > "$dir/out.txt" 2>&1 || { cat "$dir/out.txt" >&2; rm -rf "$dir"; return 1; }
  # the epoch's training time from metrics.csv (epoch_seconds), its split
  # from the epoch line: "... (of the step time: reduce 7.8%, update 1.2%;
  # slowest rank's compute +12%)": rank 0's compute, and the slowest's
  sec=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "epoch_seconds") c = i }
                 NR > 1 && c { s = $c } END { print s }' "$dir/metrics.csv")
  awk -v link="$link" -v p="$p" -v b="$batch" -v steps="$steps" -v l0="$l0" -v l1="$(load)" \
    -v sec="$sec" '
    /of the step time/ {
      r = $0; sub(/.*reduce /, "", r); sub(/%.*/, "", r)
      u = $0; sub(/.*update /, "", u); sub(/%.*/, "", u)
      m = 0; if ($0 ~ /slowest rank/) { m = $0; sub(/.*compute /, "", m); sub(/%.*/, "", m) }
      step = 1e3 * sec / steps; c = step * (100 - r - u) / 100
      printf "%s,%d,%d,%d,%.3f,%.3f,%.3f,%.3f,%s,%s,%.3f\n", link, p, b, steps, step,
        c, step * r / 100, step * u / 100, l0, l1, c * (1 + m / 100) }' \
    "$dir/out.txt" >> "$out/train.csv"
  rm -rf "$dir"
}
mpi() { # P: a shared-memory runner on P ranks
  echo "$MPIEXEC" -n "$1" --oversubscribe --bind-to none --mca btl vader,self
}

[ -f "$out/coll.csv" ] ||
  echo "link,op,ranks,n,bytes,reps,min_us,median_us" > "$out/coll.csv"
[ -f "$out/train.csv" ] ||
  echo "link,ranks,batch,steps,step_ms,compute_ms,reduce_ms,update_ms,load_start,load_end,slowest_compute_ms" \
    > "$out/train.csv"
netns="$srcdir/bench/comm_netns.sh"
if has coll; then
  for p in 2 4 8; do
    # shellcheck disable=SC2046 # the runner's words
    coll shm $(mpi "$p")
  done
fi
if has train; then
  for b in ${TRAIN_BATCHES:-128 256 512 1024}; do
    train_run shm 1 "$b" # stdbp_train runs without mpiexec on one rank
    for p in 2 4 8; do
      # shellcheck disable=SC2046
      train_run shm "$p" "$b" env STDBP_SHARED_UPDATE=off $(mpi "$p")
      # shellcheck disable=SC2046
      train_run node "$p" "$b" $(mpi "$p")
    done
  done
fi
if has tcp; then
  coll tcp-lo sh "$netns" --loopback --per-node 2 --
  coll tcp-2x1 sh "$netns" --per-node 1 --
  coll tcp-2x2 sh "$netns" --per-node 2 --
fi
if has tbf; then
  coll tbf1g-2x1 sh "$netns" --rate 1gbit --per-node 1 --
fi
if has tcp-train; then
  for b in 128 512; do
    train_run tcp-lo 2 "$b" sh "$netns" --loopback --per-node 2 --
    train_run tcp-2x1 2 "$b" sh "$netns" --per-node 1 --
    train_run tcp-2x2 4 "$b" sh "$netns" --per-node 2 --
    train_run tbf1g-2x1 2 "$b" sh "$netns" --rate 1gbit --per-node 1 --
  done
fi
rm -f "$out/tmp.csv"
