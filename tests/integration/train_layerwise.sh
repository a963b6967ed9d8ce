#!/bin/sh
# Large-batch training: the layer-wise optimisers (LAMB, LARS) in the
# sharded update give bitwise the same weights and optimiser state on 1,
# 2 and 3 ranks and with 2 threads per rank (their per-layer norms are
# exact integer sums, whatever the slices); a LAMB run stopped mid-epoch
# and resumed on another rank count ends with the uninterrupted weights;
# the scaled learning rate is logged once at the start.
. "$top_srcdir/tests/tap/tap.sh"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
plan 12
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli/stdbp_train
synthetic_data "$tmp"
ok $? "synthetic dataset written"
# 280 training samples, batch 24: 12 steps per epoch (the last of 16).
small_mlp_config "$tmp/cfg.yaml" layerwise 5 24 0.01 2 24 "checkpoint: {keep: 0}
deploy: {enabled: false}"
run() { # NAME P THREADS ARGS...
  _n=$1 _p=$2 _t=$3; shift 3
  OMP_NUM_THREADS=$_t "$top_srcdir/tests/mpirun.sh" "$_p" "$bin" "$tmp/cfg.yaml" --no-deploy \
    --set run.dir="$tmp/$_n" --set train.weight_sum_penalty=0.001 "$@" > "$tmp/$_n.out" 2>&1 || cat "$tmp/$_n.out" >&2
}

for kind in lamb lars; do
  run ${kind}1 1 1 --set optimizer.kind=$kind
  run ${kind}2 2 1 --set optimizer.kind=$kind
  run ${kind}3 3 1 --set optimizer.kind=$kind
  same_ckpt "$(last_ckpt "$tmp/${kind}1")" "$(last_ckpt "$tmp/${kind}2")" &&
    same_ckpt "$(last_ckpt "$tmp/${kind}1")" "$(last_ckpt "$tmp/${kind}3")"
  ok $? "$kind: 1, 2 and 3 ranks give bitwise the same weights and optimiser state"
  if [ "${STDBP_OPENMP:-no}" = yes ]; then
    run ${kind}t 2 2 --set optimizer.kind=$kind
    same_ckpt "$(last_ckpt "$tmp/${kind}1")" "$(last_ckpt "$tmp/${kind}t")"
    ok $? "$kind: 2 ranks x 2 threads bitwise equal to 1 rank"
  else
    skip "built without OpenMP"
  fi
done
# The layer-wise ratio acts: LAMB's weights differ from Adam's.
run adam1 1 1
! same_ckpt "$(last_ckpt "$tmp/adam1")" "$(last_ckpt "$tmp/lamb1")"
ok $? "LAMB's weights differ from Adam's (the trust ratio acts)"
grep -q "train_loss" "$tmp/lamb1/metrics.csv" && [ "$(wc -l < "$tmp/lamb1/metrics.csv")" -eq 3 ] &&
  ! grep -qi "nan" "$tmp/lamb1/metrics.csv"
ok $? "LAMB run: two epochs of finite metrics"

# Stop LAMB after 7 steps (mid-epoch) on 2 ranks, resume on 3.
run half 2 1 --set optimizer.kind=lamb --max-steps 7
[ "$(basename "$(last_ckpt "$tmp/half")")" = ckpt-0000000007.h5 ]
ok $? "LAMB stopped after 7 steps with a checkpoint"
run half 3 1 --set optimizer.kind=lamb --resume auto
same_ckpt "$(last_ckpt "$tmp/lamb1")" "$(last_ckpt "$tmp/half")"
ok $? "LAMB: 7 steps on 2 ranks + resume on 3 ranks = uninterrupted run, bitwise"

# The learning-rate scaling rule: logged once, at the start.
run scaled 2 1 --set optimizer.lr_scaling=linear --set optimizer.lr_base_batch=12
[ "$(grep -c 'optimizer.lr_scaling linear: learning rate 0.01 x (24 / 12) = 0.02 at train.batch 24' \
  "$tmp/scaled.out")" -eq 1 ]
ok $? "linear scaling: the effective rate logged once"
# ... and it is the rate the run uses: twice the lr without scaling.
run doubled 2 1 --set optimizer.lr=0.02
same_ckpt "$(last_ckpt "$tmp/scaled")" "$(last_ckpt "$tmp/doubled")"
ok $? "... bitwise the run with optimizer.lr = 0.02"
"$top_srcdir/tests/mpirun.sh" 1 "$bin" "$tmp/cfg.yaml" --no-deploy --set run.dir="$tmp/bad" \
  --set optimizer.lr_scaling=sqrt > "$tmp/bad.out" 2>&1
[ $? -ne 0 ] && grep -q "optimizer.lr_base_batch: must be set" "$tmp/bad.out"
ok $? "lr_scaling without lr_base_batch: refused, naming the key"
tap_done
