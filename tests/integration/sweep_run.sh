#!/bin/sh
# stdbp_sweep --run (docs/SLURM.md, "Running a sweep on this machine"): a
# 3-point sweep run 2 at a time gives the same summary.csv as the points
# run one by one with --index (the SLURM way) and --summary, but for the
# wall-clock column and the directory; a rerun skips finished points;
# SIGTERM stops the running points after a checkpoint (exit 75), a rerun
# resumes them; a point whose rank is killed fails, the others go on, and
# the next rerun resumes it from its checkpoint; --launcher none; bad
# command lines. Every program runs under a time limit.
. "$top_srcdir/tests/tap/tap.sh"
plan 16
tap_tmpdir; tmp=$tap_tmp
sweep=$top_builddir/src/cli/stdbp_sweep
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
export MPIRUN_ARGS="--oversubscribe"

synthetic_data "$tmp"
cat > "$tmp/base.yaml" <<YAML
run: {name: b, seed: 3}
data: {train: "hdf5:$tmp/train.h5", test: "hdf5:$tmp/test.h5", val_samples: 20}
network: {layers: [{type: dense, out: 16}, {type: dense, out: 4}]}
train: {epochs: 2, batch: 25}
deploy: {enabled: false}
YAML
# a: the SLURM way; b: --run; c: slow points (a checkpoint every step, 10
# epochs: a few seconds each on a quiet machine, so that a signal finds
# them running)
for d in a b; do
  printf 'name: s\nbase: base.yaml\ndir: %s\nparams: {optimizer.lr: [0.003, 0.01, 0.03]}\n' \
    "$tmp/$d" > "$tmp/$d.yaml"
done
sed 's/epochs: 2, batch: 25}/epochs: 10, batch: 4}\ncheckpoint: {every_steps: 1}/' \
  "$tmp/base.yaml" > "$tmp/slow.yaml"
sed -e 's/base: base.yaml/base: slow.yaml/' -e "s|dir: .*|dir: $tmp/c|" "$tmp/a.yaml" > "$tmp/c.yaml"

# summary.csv without the wall_seconds column and with DIR for the directory
norm() {
  awk -F, -v dir="$2" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_seconds") w = i }
    { gsub(dir, "DIR"); s = ""
      for (i = 1; i <= NF; i++) if (i != w) s = s (s == "" && i == 1 ? "" : ",") $i
      print s }' "$1"
}

# 1. The SLURM way: each point with --index, then --summary.
s=0
for k in 0 1 2; do
  timeout -s KILL 60 "$sweep" "$tmp/a.yaml" --index $k --quiet > "$tmp/a$k.out" 2>&1 || s=1
done
timeout -s KILL 60 "$sweep" "$tmp/a.yaml" --summary > "$tmp/a.sum" 2>&1 || s=1
[ $s -eq 0 ] && grep -q "3 points, 3 done" "$tmp/a.sum"
ok $? "the SLURM way: 3 points with --index, --summary: 3 done"

# 2. --run -j 2: two points at once, then the same summary.
timeout -s KILL 120 "$sweep" "$tmp/b.yaml" --run -j 2 > "$tmp/b1.out" 2> "$tmp/b1.err"; s=$?
[ $s -eq 0 ] && grep -q "3 points, 3 done" "$tmp/b1.out"
ok $? "--run -j 2: exit 0, 3 points done ($s)"
[ $s -eq 0 ] || sed 's/^/#   /' "$tmp/b1.out" "$tmp/b1.err" "$tmp"/b/s/point-*/sweep.log >&2
awk '/point [0-9]+ started/ { s++ } /point [0-9]+ done/ && !d { d = 1; r = s == 2 }
     END { exit !(d && r) }' "$tmp/b1.out"
ok $? "  points 0 and 1 started before the first one ended (-j 2)"
norm "$tmp/a/s/summary.csv" "$tmp/a" > "$tmp/a.csv"
norm "$tmp/b/s/summary.csv" "$tmp/b" > "$tmp/b.csv"
[ "$(wc -l < "$tmp/a.csv")" -eq 4 ] && cmp -s "$tmp/a.csv" "$tmp/b.csv"
ok $? "  summary.csv equals the SLURM way's (but wall_seconds, the directory)"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || diff "$tmp/a.csv" "$tmp/b.csv" | sed 's/^/#   /' >&2
grep -q "point 1: .*stdbp_sweep $tmp/b.yaml --index 1 --resume auto" "$tmp/b/s/point-0001/sweep.log" &&
  grep -Eq "^([0-9T:-]+ )?epoch 2/2" "$tmp/b/s/point-0001/sweep.log"
ok $? "  each point's output is in its RUN_DIR/sweep.log"

# 3. A rerun skips the finished points.
timeout -s KILL 60 "$sweep" "$tmp/b.yaml" --run -j 2 > "$tmp/b2.out" 2>&1; s=$?
[ $s -eq 0 ] && grep -q "3 points, 3 done, 0 to run" "$tmp/b2.out" && ! grep -q started "$tmp/b2.out"
ok $? "a rerun skips every finished point ($s)"

# 4. SIGTERM: the running points checkpoint and stop, exit 75.
"$sweep" "$tmp/c.yaml" --run -j 2 > "$tmp/c1.out" 2>&1 &
pid=$!
wait_ckpt "$tmp/c/s/point-0000"
wait_ckpt "$tmp/c/s/point-0001"
kill -TERM $pid
wait_gone $pid
wait $pid; s=$?
[ $s -eq 75 ] && grep -q "stopping the 2 running points" "$tmp/c1.out"
ok $? "SIGTERM to --run: exit 75 ($s)"
[ $s -eq 75 ] || sed 's/^/#   /' "$tmp/c1.out" >&2
grep -q "status: preempted" "$tmp/c/s/point-0000/sweep_point.yaml" &&
  grep -q "status: preempted" "$tmp/c/s/point-0001/sweep_point.yaml" &&
  [ ! -e "$tmp/c/s/point-0002" ] && grep -q "rerun the same command" "$tmp/c1.out"
ok $? "  points 0 and 1 preempted after a checkpoint, point 2 not started"
pgrep -f "$tmp/c.yaml" > /dev/null
[ $? -ne 0 ]
ok $? "  no process of the sweep is left"

# 5. Rerun, all three at once (point 2 need not wait for a slot: under the
# sanitizers points 0 and 1 take minutes); point 2's rank is killed after
# its first checkpoint.
"$sweep" "$tmp/c.yaml" --run -j 3 > "$tmp/c2.out" 2>&1 &
pid=$!
wait_ckpt "$tmp/c/s/point-0002" 120
rank=
for m in $(pgrep -P $pid); do
  for r in $(pgrep -P "$m"); do
    tr '\0' ' ' < "/proc/$r/cmdline" 2> /dev/null | grep -q -- "--index 2 " && rank=$r
  done
done
[ -n "$rank" ] && kill -KILL "$rank"
ok $? "  the rank of point 2 found and killed after its first checkpoint"
# points 0 and 1 still train to their end: minutes under the sanitizers
# on a busy machine
wait_gone $pid "" 600
wait $pid; s=$?
[ $s -eq 1 ] && grep -q "point 2 failed .*signal 9" "$tmp/c2.out" &&
  grep -q "point 0 done" "$tmp/c2.out" && grep -q "point 1 done" "$tmp/c2.out" &&
  grep -q "3 points, 2 done" "$tmp/c2.out"
ok $? "  --run goes on with the others, says point 2 failed, exits 1 ($s)"
[ $s -eq 1 ] || sed 's/^/#   /' "$tmp/c2.out" >&2
grep -q "resumed from" "$tmp/c/s/point-0000/sweep.log" &&
  grep -q "resumed from" "$tmp/c/s/point-0001/sweep.log"
ok $? "  the preempted points 0 and 1 resumed from their checkpoints"

# 6. The next rerun resumes point 2 only.
timeout -s KILL 600 "$sweep" "$tmp/c.yaml" --run -j 2 > "$tmp/c3.out" 2>&1; s=$?
[ $s -eq 0 ] && grep -q "3 points, 2 done, 1 to run" "$tmp/c3.out" &&
  grep -q "3 points, 3 done;" "$tmp/c3.out" &&
  grep -q "resumed from .*point-0002/checkpoints" "$tmp/c/s/point-0002/sweep.log"
ok $? "a rerun resumes the killed point 2 and ends with 3 done ($s)"
[ $s -eq 0 ] || sed 's/^/#   /' "$tmp/c3.out" >&2

# 7. --launcher none, and more epochs: every point resumes for one more.
timeout -s KILL 120 "$sweep" "$tmp/b.yaml" --run --launcher none --set train.epochs=3 \
  > "$tmp/b3.out" 2>&1; s=$?
[ $s -eq 0 ] && grep -q "0 done, 3 to run, 1 at a time (1 rank each, started directly)" "$tmp/b3.out" &&
  grep -q "3 points, 3 done;" "$tmp/b3.out" && grep -Eq "^([0-9T:-]+ )?epoch 3/3" "$tmp/b/s/point-0002/sweep.log"
ok $? "--launcher none --set train.epochs=3: the points go on to epoch 3 ($s)"

# 8. Bad command lines: exit 2 before anything runs.
"$sweep" "$tmp/b.yaml" --run --index 1 > /dev/null 2> "$tmp/e1"; s1=$?
"$sweep" "$tmp/b.yaml" --run --launcher none --ranks 2 > /dev/null 2> "$tmp/e2"; s2=$?
"$sweep" "$tmp/b.yaml" --list -j 2 > /dev/null 2> "$tmp/e3"; s3=$?
[ $s1 -eq 2 ] && [ $s2 -eq 2 ] && [ $s3 -eq 2 ] && grep -q "one of --list" "$tmp/e1" &&
  grep -q "not --ranks 2" "$tmp/e2" && grep -q "go with --run" "$tmp/e3"
ok $? "--run with --index, --launcher none with --ranks 2, -j without --run: exit 2"
timeout -s KILL 60 "${MPIEXEC:-mpiexec}" -n 1 "$sweep" "$tmp/b.yaml" --run > /dev/null 2> "$tmp/e4"
grep -q "without mpirun" "$tmp/e4"
ok $? "--run under mpirun is refused"
tap_done
