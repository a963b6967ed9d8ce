#!/bin/sh
# bench/bench.sh (make bench): the benchmarks in one table
# (docs/PERFORMANCE.md, "make bench"). Per core (bench/bench_core, thread
# CPU time): forward, forward+backward and the whole training step with
# the Adam update, for the MLP and the CNN. End to end (stdbp_train
# --no-deploy, one epoch of configs/mnist_mlp.yaml without shifts,
# samples/s from metrics.csv, wall time): 1 rank, 2 ranks, and 1 rank x 2
# threads, and 1 rank pinned to each of the first two CPUs it may use
# (taskset), because a VM's CPUs need not run at one speed: the two-core
# runs use both, so their speed-up is also given over the mean of the two
# pinned runs. BENCH_QUICK=1: fewer samples. The load average is printed
# at the start and the end: the figures mean little on a busy machine.
# Environment: srcdir, builddir (default .), MPIEXEC, STDBP_DATA (default
# $srcdir/data), BENCH_QUICK.
# -h, --help: print this help and exit.
case ${1:-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -u
srcdir=${srcdir:-.}
builddir=${builddir:-.}
: "${MPIEXEC:=mpiexec}"
STDBP_DATA=${STDBP_DATA:-$srcdir/data}; export STDBP_DATA
quick=${BENCH_QUICK:-0}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stdbp-bench-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime; }
if [ "$quick" = 1 ]; then
  mlp_n=1000 cnn_n=60 e2e="--set data.train_samples=15000 --set data.test_samples=1000"
else
  mlp_n=4000 cnn_n=300 e2e=
fi
echo "make bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc 2>/dev/null || echo '?') CPUs," \
  "BENCH_QUICK=$quick, inputs from $STDBP_DATA"
echo "load average at start: $(load)"

# Per core: bench_core's rows (fwd, f+b, step samples/s in fields 3, 4, 6).
core_row() { # MODEL SAMPLES
  OMP_NUM_THREADS=1 "$builddir/bench/bench_core" --model "$1" --samples "$2" > "$tmp/$1.txt" 2>&1 ||
    { cat "$tmp/$1.txt" >&2; echo "$1 - - -"; return; }
  awk -v m="$1" '$1 == m { print m, $3, $4, $6 }' "$tmp/$1.txt"
}
core_row mlp "$mlp_n" > "$tmp/rows"
core_row cnn "$cnn_n" >> "$tmp/rows"

# End to end: one epoch, samples/s of the epoch (training only) from
# metrics.csv's samples_per_s column.
e2e_rate() { # NAME RANKS THREADS [CPU]
  pin=
  [ -n "${4:-}" ] && pin="taskset -c $4"
  # shellcheck disable=SC2086 # $e2e holds several --set options, $pin a command
  OMP_NUM_THREADS=$3 $pin "$MPIEXEC" -n "$2" --oversubscribe --bind-to none \
    "$builddir/src/cli/stdbp_train" "$srcdir/configs/mnist_mlp.yaml" --no-deploy --quiet \
    --set train.epochs=1 --set augment.shift=0 --set run.dir="$tmp/$1" $e2e \
    > "$tmp/$1.out" 2>&1 || { cat "$tmp/$1.out" >&2; echo "-"; return; }
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "samples_per_s") c = i }
           NR > 1 && c { r = $c } END { printf "%.0f\n", r }' "$tmp/$1/metrics.csv"
}
p1=$(e2e_rate p1t1 1 1); l1=$(load)
# Pinned runs next to the two-core ones (a VM's CPUs change speed over
# minutes), on the first two CPUs this process may use: a batch job's
# need not be 0 and 1 (taskset lists them as, e.g., "4-7,12").
cpus=$(taskset -cp $$ 2>/dev/null | sed 's/.*: *//' | tr ',' '\n' |
  awk -F- '{ for (c = $1; c <= ($2 == "" ? $1 : $2) && n < 2; c++) { print c; n++ } }')
cpu_a=$(echo "$cpus" | sed -n 1p) cpu_b=$(echo "$cpus" | sed -n 2p)
pa=- pb=-
if [ -n "$cpu_b" ]; then
  pa=$(e2e_rate cpu_a 1 1 "$cpu_a"); pb=$(e2e_rate cpu_b 1 1 "$cpu_b")
fi
l4=$(load)
p2=$(e2e_rate p2t1 2 1); l2=$(load)
t2=$(e2e_rate p1t2 1 2); l3=$(load)

echo
printf '%-48s %14s\n' "benchmark" "samples/s"
awk '{ printf "%-48s %14s\n%-48s %14s\n%-48s %14s\n",
         "core, " $1 ", forward (1 core)", $2,
         "core, " $1 ", forward+backward (1 core)", $3,
         "core, " $1 ", training step with Adam (1 core)", $4 }' "$tmp/rows"
printf '%-48s %14s   load %s\n' "end to end, MLP, 1 rank x 1 thread" "$p1" "$l1"
printf '%-48s %14s   load %s\n' "end to end, MLP, 2 ranks x 1 thread" "$p2" "$l2"
printf '%-48s %14s   load %s\n' "end to end, MLP, 1 rank x 2 threads" "$t2" "$l3"
printf '%-48s %14s\n' "end to end, MLP, 1 rank x 1 thread on CPU ${cpu_a:-?}" "$pa"
printf '%-48s %14s   load %s\n' "end to end, MLP, 1 rank x 1 thread on CPU ${cpu_b:-?}" "$pb" "$l4"
awk -v a="$p1" -v b="$p2" -v c="$t2" 'BEGIN { if (a > 0) printf "%-48s %13.2fx\n%-48s %13.2fx\n",
  "speed-up, 2 ranks x 1 thread", b / a, "speed-up, 1 rank x 2 threads", c / a }'
awk -v x="$pa" -v y="$pb" -v b="$p2" -v c="$t2" 'BEGIN { m = (x + y) / 2; if (x > 0 && y > 0)
  printf "%-48s %13.2fx\n%-48s %13.2fx\n", "speed-up over the two CPUs mean, 2 ranks", b / m,
    "speed-up over the two CPUs mean, 1 rank x 2 thr.", c / m }'
echo
echo "load average at end: $(load)"
