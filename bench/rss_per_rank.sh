#!/bin/sh
# Resident memory per rank of stdbp_train while it trains.
#
#   bench/rss_per_rank.sh [-n P] [-s SECONDS] CONFIG [--set KEY=VALUE ...]
#
# Starts `OMP_NUM_THREADS=1 mpirun -np P --oversubscribe stdbp_train CONFIG
# --no-deploy --set train.epochs=1 ...` (P = 8 by default) in a scratch run
# directory, waits until rank 0 has printed its first progress line (the
# data are loaded and training runs), samples every rank's
# /proc/PID/status and /proc/PID/smaps_rollup every 0.5 s for SECONDS
# (default 15), then stops the run (SIGTERM to mpirun) and prints, per
# rank, the largest value seen of:
#   VmRSS    resident pages (shared pages count in every process that maps them)
#   VmHWM    the kernel's peak of VmRSS (includes the load)
#   RssAnon  private anonymous pages (malloc'd buffers)
#   RssShmem shared-memory pages (MPI's shared-memory transport, shared windows)
#   Pss      proportional set size: a page shared by k processes counts 1/k
# and the node's total Pss (the sum over ranks: what the node really holds).
# Values in MiB. Needs Linux /proc. The program is $STDBP_TRAIN, else
# build/src/cli/stdbp_train (run from the source tree).
# -h, --help: print this help and exit.
case ${1:-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -u
np=8 secs=15
while [ $# -gt 0 ]; do
  case $1 in
  -n) np=$2; shift 2 ;;
  -s) secs=$2; shift 2 ;;
  *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: $0 [-n P] [-s SECONDS] CONFIG [--set KEY=VALUE ...]" >&2; exit 2; }
cfg=$1; shift
bin=${STDBP_TRAIN:-build/src/cli/stdbp_train}
[ -x "$bin" ] || { echo "$0: $bin: not found (set STDBP_TRAIN)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rss.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1

OMP_NUM_THREADS=1 mpirun -np "$np" --oversubscribe --bind-to none "$bin" "$cfg" --no-deploy \
  --set train.epochs=1 --set train.log_every=1 --set run.dir="$tmp/run" "$@" \
  > "$tmp/out" 2>&1 &
mp=$!

# The ranks: the processes named like the program that descend from mpirun.
ranks() {
  name=$(basename "$bin" | cut -c1-15)
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$(cat "$d/comm" 2>/dev/null)" = "$name" ] || [ "$(cat "$d/comm" 2>/dev/null)" = "lt-$name" ] ||
      continue
    q=$p
    while [ -n "$q" ] && [ "$q" -gt 1 ]; do
      [ "$q" = "$mp" ] && { echo "$p"; break; }
      q=$(awk '{print $4}' "/proc/$q/stat" 2>/dev/null)
    done
  done
}

# Wait (up to 10 minutes) for the first progress line, i.e. a finished load.
waited=0
until grep -q "step" "$tmp/out" 2>/dev/null; do
  kill -0 "$mp" 2>/dev/null || { echo "$0: the run ended early:" >&2; cat "$tmp/out" >&2; exit 1; }
  [ $waited -lt 1200 ] || { echo "$0: no progress after 600 s" >&2; kill "$mp"; exit 1; }
  sleep 0.5; waited=$((waited + 1))
done

pids=$(ranks)
n=0
while [ $n -lt $((secs * 2)) ]; do
  for p in $pids; do
    {
      awk '/^(VmRSS|VmHWM|RssAnon|RssShmem):/ {print $1, $2}' "/proc/$p/status"
      awk '/^Pss:/ {print $1, $2}' "/proc/$p/smaps_rollup"
    } 2>/dev/null | sed "s/^/$p /"
  done
  sleep 0.5; n=$((n + 1))
done >> "$tmp/samples"
kill "$mp" 2>/dev/null
wait "$mp" 2>/dev/null

echo "# $np ranks, $cfg $*, OMP_NUM_THREADS=1, max over ${secs} s of training (MiB)"
awk '
  { k = $1 SUBSEP $2; if (!(k in v) || $3 > v[k]) v[k] = $3; seen[$1] = 1 }
  END {
    printf "%-8s %8s %8s %8s %8s %8s\n", "pid", "VmRSS", "VmHWM", "RssAnon", "RssShmem", "Pss"
    for (p in seen) {
      printf "%-8s %8.1f %8.1f %8.1f %8.1f %8.1f\n", p, v[p, "VmRSS:"] / 1024,
        v[p, "VmHWM:"] / 1024, v[p, "RssAnon:"] / 1024, v[p, "RssShmem:"] / 1024, v[p, "Pss:"] / 1024
      r += v[p, "VmRSS:"]; h += v[p, "VmHWM:"]; a += v[p, "RssAnon:"]; s += v[p, "RssShmem:"]
      q += v[p, "Pss:"]; m++
    }
    if (m) {
      printf "%-8s %8.1f %8.1f %8.1f %8.1f %8.1f\n", "mean", r / m / 1024, h / m / 1024,
        a / m / 1024, s / m / 1024, q / m / 1024
      printf "node total Pss: %.1f MiB over %d ranks\n", q / 1024, m
    }
  }' "$tmp/samples"
