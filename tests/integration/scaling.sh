#!/bin/sh
# The scaling model's tools (docs/SCALING.md): bench/bench_comm times the
# step's collectives through src/dist and writes one CSV row per
# collective and size (also on a rank count whose slices are partly
# empty); scripts/scaling_model.py recovers known latency and bandwidth
# from synthetic timings and predicts, both ways (SKIP without numpy).
. "$top_srcdir/tests/tap/tap.sh"
plan 12
tap_tmpdir; tmp=$tap_tmp
bench=$top_builddir/bench/bench_comm

"$top_srcdir/tests/mpirun.sh" 1 "$bench" --help > "$tmp/help" 2>&1
ok $? "bench_comm --help exits 0"
grep -q 'reduce_scatter_i64' "$tmp/help" && grep -q 'allgather_f64' "$tmp/help"
ok $? "its help names the collectives it times"

"$top_srcdir/tests/mpirun.sh" 1 "$bench" --sizes 0 > "$tmp/bad" 2>&1
[ $? -eq 2 ] && grep -q 'bad arguments' "$tmp/bad"
ok $? "a size of 0 is refused (exit 2)"

# rows: op,ranks,n,bytes,reps,min_us,median_us; 4 ops x 3 sizes
rows_ok() { # FILE RANKS
  awk -F, -v p="$2" 'NR == 1 { if ($0 != "op,ranks,n,bytes,reps,min_us,median_us") bad = 1; next }
    { rows++; ops[$1]++
      if (NF != 7 || $2 != p || $4 != 8 * $3 || $6 <= 0 || $6 > $7 + 1e-9) bad = 1 }
    END { exit !(rows == 12 && ops["sum"] == 3 && ops["rs"] == 3 && ops["ag"] == 3 &&
                 ops["step"] == 3 && !bad) }' "$1"
}
"$top_srcdir/tests/mpirun.sh" 2 "$bench" --sizes 1,100,5000 --reps 3 --warmup 1 \
  > "$tmp/p2.csv" 2> "$tmp/p2.err"
ok $? "bench_comm runs on 2 ranks"
rows_ok "$tmp/p2.csv" 2
ok $? "2 ranks: one row per collective and size, bytes = 8 n, 0 < min <= median"
# 3 ranks, 1 and 9 values: slices of 8 values leave some ranks none
"$top_srcdir/tests/mpirun.sh" 3 "$bench" --sizes 1,9,100 --reps 2 --warmup 0 \
  > "$tmp/p3.csv" 2> "$tmp/p3.err" && rows_ok "$tmp/p3.csv" 3
ok $? "3 ranks with empty slices: all rows"

py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import numpy' >/dev/null 2>&1; then py=$p; break; fi
done
if [ -z "$py" ]; then
  for k in 1 2 3 4 5; do echo "ok $((tap_n + k)) # SKIP python3-numpy not installed"; done
  exit 0
fi
# Synthetic timings from known constants: ring reduce-scatter and
# all-gather, (P - 1) alpha + (P - 1)/P bytes beta; the fit on P = 2 must
# give them back.
mkdir -p "$tmp/fit"
awk 'BEGIN {
  print "link,op,ranks,n,bytes,reps,min_us,median_us"
  split("1 16 256 4096 65536 635200", ns, " ")
  for (p = 2; p <= 4; p *= 2) for (i = 1; i <= 6; i++) {
    b = 8 * ns[i]
    rs = (p - 1) * 3.0 + (p - 1) / p * b * 0.0005   # alpha 3 us, 2 GB/s
    ag = (p - 1) * 2.0 + (p - 1) / p * b * 0.0001   # alpha 2 us, 10 GB/s
    lg = p == 2 ? 1 : 2
    printf "shm,rs,%d,%d,%d,10,%.6f,%.6f\n", p, ns[i], b, rs, rs
    printf "shm,ag,%d,%d,%d,10,%.6f,%.6f\n", p, ns[i], b, ag, ag
    printf "shm,sum,%d,%d,%d,10,%.6f,%.6f\n", p, ns[i], b, lg * (1 + b * 0.0002), lg * (1 + b * 0.0002)
  } }' > "$tmp/fit/coll.csv"
cat > "$tmp/fit/train.csv" <<CSV
link,ranks,batch,steps,step_ms,compute_ms,reduce_ms,update_ms,load_start,load_end,slowest_compute_ms
shm,1,128,50,20.0,16.0,0.0,4.0,0,0,16.0
shm,2,128,50,13.0,8.0,3.0,2.0,0,0,9.0
node,2,128,50,10.3176,8.0,0.0,2.3176,0,0,8.0
CSV
"$py" "$top_srcdir/scripts/scaling_model.py" fit "$tmp/fit" > "$tmp/fit.out" 2>&1
ok $? "scaling_model.py fit runs"
"$py" - "$tmp/fit/model.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["links"]["shm"]
want = {"rs": (3e-6, 0.5e-9), "ag": (2e-6, 0.1e-9), "sum": (1e-6, 0.2e-9)}
bad = [op for op, (a, b) in want.items()
       if abs(m[op]["alpha"] / a - 1) > 0.01 or abs(m[op]["beta"] / b - 1) > 0.01]
sys.exit(1 if bad else 0)
PY
ok $? "the fit recovers alpha and beta of each collective within 1 %"
# compute 0.125 ms per sample, so 8.0 ms on each of 2 ranks; the slowest
# rank's 9.0 ms adds 1.0 ms to the step of 13.0 ms
"$py" - "$tmp/fit/model.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
c2 = [e for e in m["check"] if e[1] == 2][0]
ok = (abs(m["compute_per_sample"] / 0.125e-3 - 1) < 1e-9 and
      abs(m["update_per_param"] * 635200 / 4e-3 - 1) < 1e-9 and
      abs(m["update_per_param_node"] * 635200 / 2e-3 - 1) < 1e-9 and
      abs(c2[4] - c2[3] - 1.0 / 13.0) < 1e-9)
sys.exit(0 if ok else 1)
PY
ok $? "compute, the update's one-rank and node rates, and the slowest rank's wait in the check"
"$py" "$top_srcdir/scripts/scaling_model.py" predict --model "$tmp/fit/model.json" \
  > "$tmp/predict.out" 2>&1 &&
  grep -q '^| 1024 |' "$tmp/predict.out" &&
  grep -q '^64 ranks, global batch 4096, 100 Gb/s InfiniBand' "$tmp/predict.out"
ok $? "predict prints the tables up to 1024 ranks and the 64-rank figure"
# the node run's update is the collectives' plus half of 635,200 int64 at
# 1 ns each: s = 1 ns
"$py" - "$tmp/fit/model.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(0 if abs(m["sum_per_value"] / 1e-9 - 1) < 1e-6 else 1)
PY
ok $? "the fit recovers the node windows' cost per int64 of another accumulator"
"$py" "$top_srcdir/scripts/scaling_model.py" predict --model "$tmp/fit/model.json" \
  --ranks-per-node 32 > "$tmp/node.out" 2>&1 &&
  grep -q '^| 32 | 1024 |' "$tmp/node.out" && grep -q '^64 ranks (2 x 32)' "$tmp/node.out" &&
  ! "$py" "$top_srcdir/scripts/scaling_model.py" predict --ranks-per-node 3 > /dev/null 2>&1
ok $? "predict --ranks-per-node: nodes up to 1024 ranks, the 64-rank figure; 3 is refused"
tap_done
