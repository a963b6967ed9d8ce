#!/bin/sh
# Threads inside a rank (OpenMP) change nothing but the speed: P ranks x
# T threads for (P, T) = (1, 1), (1, 2), (2, 2), (1, 3) give bitwise the
# same weights, optimiser state and metrics (losses, accuracies and the
# diagnostics: silent neurons, first output spike, synaptic events) after
# a short training, for a dense network (and a convolutional one on
# 1 x 2 and 2 x 3); evaluation gives the same figures and the deploy
# phase the same report with 1 and 2 threads. With OMP_NUM_THREADS unset a
# rank takes its CPUs over the ranks on its node. Skipped without OpenMP.
. "$top_srcdir/tests/tap/tap.sh"
[ "${STDBP_OPENMP:-no}" = yes ] || skip_all "built without OpenMP (configure --disable-openmp)"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
plan 16
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli
synthetic_data "$tmp"
ok $? "synthetic dataset written"
small_mlp_config "$tmp/mlp.yaml" threads 5 24 0.003 2 30 "checkpoint: {keep: 1}
deploy: {enabled: false}"
# A small CNN: conv, pool and dense layers, each with per-thread buffers.
cat > "$tmp/cnn.yaml" <<YAML
run: {name: threads_cnn, seed: 9}
data: {train: "hdf5:$tmp/train.h5", test: "hdf5:$tmp/test.h5", val_samples: 20, train_samples: 100}
network:
  layers:
    - {type: conv2d, out: 4, kernel: 3}
    - {type: pool, kernel: 2}
    - {type: dense, out: 4}
optimizer: {kind: adam, lr: 0.003}
train: {epochs: 2, batch: 20}
checkpoint: {keep: 1}
deploy: {enabled: false}
YAML

train() { # NAME CONFIG P T
  OMP_NUM_THREADS=$4 "$top_srcdir/tests/mpirun.sh" "$3" "$bin/stdbp_train" "$2" --no-deploy \
    --set run.dir="$tmp/$1" > "$tmp/$1.out" 2>&1 || cat "$tmp/$1.out" >&2
}
# The same weights, optimiser state and metrics (every column of
# metrics.h5 but the timings, as stored: doubles, bit for bit).
same_run() {
  _a=$(last_ckpt "$tmp/$1"); _b=$(last_ckpt "$tmp/$2")
  same_ckpt "$_a" "$_b" && [ "$(wc -l < "$tmp/$1/metrics.csv")" -ge 3 ] || return 1
  for _c in epoch step lr train_loss train_acc val_loss val_acc test_loss test_acc \
    silent_outputs silent_hidden first_spike_mean first_spike_std syn_events_per_sample; do
    h5diff -q "$tmp/$1/metrics.h5" "$tmp/$2/metrics.h5" "/$_c" "/$_c" >/dev/null 2>&1 || return 1
  done
}

train mlp_p1t1 "$tmp/mlp.yaml" 1 1
[ -n "$(last_ckpt "$tmp/mlp_p1t1")" ]
ok $? "1 rank x 1 thread: finished with a checkpoint"
grep -q "1 rank x 1 thread," "$tmp/mlp_p1t1.out"
ok $? "the start line gives the ranks and threads"
plural() { [ "$1" -eq 1 ] && echo "1 $2" || echo "$1 ${2}s"; } # plural N WORD
for pt in 1x2 2x2 1x3; do
  p=${pt%x*} t=${pt#*x}
  train "mlp_p${p}t$t" "$tmp/mlp.yaml" "$p" "$t"
  grep -q "$(plural "$p" rank) x $(plural "$t" thread)," "$tmp/mlp_p${p}t$t.out" &&
    same_run mlp_p1t1 "mlp_p${p}t$t"
  ok $? "MLP, $p rank(s) x $t threads: weights, optimiser state and metrics bitwise equal to 1 x 1"
done
for pt in 1x1 1x2 2x3; do
  p=${pt%x*} t=${pt#*x}
  train "cnn_p${p}t$t" "$tmp/cnn.yaml" "$p" "$t"
done
same_run cnn_p1t1 cnn_p1t2
ok $? "CNN, 1 rank x 2 threads: bitwise equal to 1 x 1"
same_run cnn_p1t1 cnn_p2t3
ok $? "CNN, 2 ranks x 3 threads: bitwise equal to 1 x 1"
# Evaluation: the same figures with 1 and 2 threads, on 1 and 2 ranks.
ckpt=$(last_ckpt "$tmp/mlp_p1t1")
for pt in 1x1 1x2 2x2; do
  p=${pt%x*} t=${pt#*x}
  OMP_NUM_THREADS=$t "$top_srcdir/tests/mpirun.sh" "$p" "$bin/stdbp_eval" "$ckpt" \
    > "$tmp/eval$pt.out" 2>&1
  echo $? >> "$tmp/eval$pt.out"
done
grep -q "[0-9]" "$tmp/eval1x1.out" && tail -n 1 "$tmp/eval1x1.out" | grep -qx 0
ok $? "stdbp_eval on 1 thread: $(head -n 1 "$tmp/eval1x1.out")"
for pt in 1x2 2x2; do
  cmp -s "$tmp/eval1x1.out" "$tmp/eval$pt.out"
  ok $? "stdbp_eval, $pt: the same output as 1 x 1"
done

# Deploy: the report (all but the times it took) is the same with 1 and
# 2 threads.
for t in 1 2; do
  OMP_NUM_THREADS=$t "$top_srcdir/tests/mpirun.sh" 1 "$bin/stdbp_deploy" "$ckpt" \
    --out "$tmp/dep$t" --set deploy.samples=100 > "$tmp/dep$t.out" 2>&1
  echo $? >> "$tmp/dep$t.out"
done
tail -n 1 "$tmp/dep1.out" | grep -qx 0 && [ -s "$tmp/dep1/report.json" ]
ok $? "stdbp_deploy on 1 thread wrote its report"
cmp -s "$tmp/dep1/report.json" "$tmp/dep2/report.json"
ok $? "stdbp_deploy, 2 threads: report.json equal to 1 thread's"
grep -v '^hw: ' "$tmp/dep1.out" > "$tmp/t1" && grep -v '^hw: ' "$tmp/dep2.out" > "$tmp/t2" &&
  grep -q "mismatch" "$tmp/t1" && cmp -s "$tmp/t1" "$tmp/t2"
ok $? "... and the printed report too"
# OMP_NUM_THREADS unset: a rank takes its CPUs over the ranks on its node
# (with --bind-to none, every CPU of the machine), at least one.
cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) # nproc itself obeys both
for p in 1 2; do
  rm -rf "$tmp/auto$p"
  env -u OMP_NUM_THREADS "$top_srcdir/tests/mpirun.sh" "$p" "$bin/stdbp_train" "$tmp/mlp.yaml" \
    --no-deploy --set run.dir="$tmp/auto$p" --set train.epochs=1 > "$tmp/auto$p.out" 2>&1
  want=$((cpus / p)); [ "$want" -ge 1 ] || want=1
  grep -q "$(plural "$p" rank) x $(plural "$want" thread)," "$tmp/auto$p.out"
  ok $? "OMP_NUM_THREADS unset, $p rank(s) on $cpus CPUs: $(plural "$want" thread) each ($(grep -o '[0-9]* ranks* x [0-9]* threads*' "$tmp/auto$p.out"))"
done
tap_done
