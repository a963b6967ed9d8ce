#!/bin/sh
# The kernels' builds give the same bits on whole networks: bench_core's
# digests of the summed gradient (forward, loss, backward) and of the
# weights after its training steps (fixed-point mean, weight-sum penalty,
# Adam) are the same for the MLP and the CNN with every instruction set
# this machine runs (--isa generic, avx2, avx512). The kernel tests check
# each kernel on its own; this checks the networks that the documented
# digests come from, on a few samples.
. "$top_srcdir/tests/tap/tap.sh"
plan 3
tap_tmpdir; tmp=$tap_tmp
bench=$top_builddir/bench/bench_core
export OMP_NUM_THREADS=1

runs=0
for isa in generic avx2 avx512; do
  if timeout -s KILL 120 "$bench" --isa "$isa" --samples 40 --images 40 --batch 16 \
       > "$tmp/$isa.txt" 2> "$tmp/$isa.err"; then
    awk '$1 == "mlp" || $1 == "cnn" { print $1, $(NF - 1), $NF }' "$tmp/$isa.txt" > "$tmp/$isa.dig"
    runs=$((runs + 1))
  elif grep -q "not available\|cannot run\|not supported" "$tmp/$isa.err"; then
    diag "$isa: not on this machine ($(cat "$tmp/$isa.err"))"
    rm -f "$tmp/$isa.txt"
  else
    diag "$isa: bench_core failed: $(cat "$tmp/$isa.err")"
  fi
done
[ -s "$tmp/generic.dig" ] && [ "$(wc -l < "$tmp/generic.dig")" -eq 2 ]
ok $? "the plain C build gives both networks' digests ($(tr '\n' ' ' < "$tmp/generic.dig" 2>/dev/null))"
[ "$runs" -ge 1 ] && [ "$(ls "$tmp"/*.txt | wc -l)" -eq "$runs" ]
ok $? "every build this machine has ran ($runs)"
same=0
for f in "$tmp"/*.dig; do
  cmp -s "$f" "$tmp/generic.dig" || { same=1; diag "$(basename "$f" .dig): $(tr '\n' ' ' < "$f")"; }
done
ok $same "gradient and weights digests equal in every build ($runs builds)"
