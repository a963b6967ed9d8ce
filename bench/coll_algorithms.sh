#!/bin/sh
# Which algorithm Open MPI's default (tuned component, fixed rules) runs
# for the two collectives of a training step, at the step's message sizes:
# perf samples bench_comm's ranks and the ompi_coll_base_* function seen
# is the algorithm. Needs perf (Debian: linux-perf) and a build tree.
#   sh bench/coll_algorithms.sh BUILDDIR [P ...]     (default P: 2 4 8 16 32 64)
# Prints: ranks, values, collective, algorithm function(s) seen.
# -h, --help: print this help and exit.
case ${1:-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -eu
build=${1:?usage: coll_algorithms.sh BUILDDIR [P ...]}
shift
ranks=${*:-2 4 8 16 32 64}
bin=$build/bench/.libs/bench_comm
[ -x "$bin" ] || bin=$build/bench/bench_comm
command -v perf >/dev/null || { echo "coll_algorithms.sh: perf not found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "ranks,values,collective,algorithm"
for p in $ranks; do
  for n in 116880 635200; do
    for op in rs ag; do
      perf record -q -F 15000 -o "$tmp/p.data" -- \
        mpirun -np "$p" --oversubscribe "$bin" --ops "$op" --sizes "$n" --reps 30 --warmup 1 \
        >/dev/null 2>&1
      seen=$(perf report -i "$tmp/p.data" --stdio 2>/dev/null |
        grep -o 'ompi_coll_base_\(reduce_scatter\|allgatherv\)_intra_[a-z_]*' | sort -u | tr '\n' ' ')
      echo "$p,$n,$op,${seen:-not sampled}"
    done
  done
done
