#!/bin/sh
# The best checkpoint, checkpoints/best.h5 (2 ranks):
#  1. an epoch with a new best validation accuracy is checkpointed at its
#     end (whatever checkpoint.every_steps says) and becomes best.h5;
#  2. best.h5 outlives the pruning of its ckpt-N.h5 name (keep 1), and
#     stdbp_eval of it gives the best validation accuracy of metrics.csv;
#  3. a resume from the best epoch's checkpoint marks it again (a stop
#     between the write and the marking loses nothing);
#  4. a fresh run refuses a directory that holds only best.h5;
#  5. --resume PATH earlier than best.h5 needs --discard-later, which moves
#     it aside as best.h5.discarded;
#  6. without a validation set there is no best.h5 and no extra checkpoint.
. "$top_srcdir/tests/tap/tap.sh"
command -v h5dump >/dev/null || skip_all "h5dump (hdf5-tools) not installed"
plan 17
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli/stdbp_train
eval_bin=$top_builddir/src/cli/stdbp_eval
run() { "$top_srcdir/tests/mpirun.sh" 2 "$bin" "$tmp/cfg.yaml" --progress log --no-deploy "$@"; }
# stored_step FILE: the /train step attribute of a checkpoint.
stored_step() { h5dump -a /train/step "$1" 2>/dev/null | sed -n 's/^ *(0): \([0-9]*\).*/\1/p'; }

synthetic_data "$tmp"
# 280 training samples, batch 20: 14 steps per epoch; 20 validation
# samples; a checkpoint every 1000 steps (so only the best epochs and the
# last one write one at an epoch's end), keep 1.
small_mlp_config "$tmp/cfg.yaml" best 5 16 0.001 2 20 "checkpoint: {every_steps: 1000, keep: 1}
spikes: {samples: 0}"

# 1. Two epochs at a sane rate, then two at a rate that ruins the network.
run --set run.dir="$tmp/a" > "$tmp/a1.out" 2>&1
grep -q "best checkpoint (epoch 1, val acc [0-9.]*%): $tmp/a/checkpoints/best.h5" "$tmp/a1.out"
ok $? "epoch 1 (the first evaluation) becomes best.h5, with its own checkpoint"
run --set run.dir="$tmp/a" --resume auto --set train.epochs=4 --set optimizer.lr=5 \
  > "$tmp/a2.out" 2>&1
ok $? "resumed for two more epochs at lr 5 (exit 0)"
# The first epoch with the highest validation accuracy (metrics.csv: epoch,
# step, lr, train_loss, train_acc, val_loss, val_acc, ...).
best_row=$(awk -F, 'NR > 1 && (NR == 2 || $7 > v) { v = $7; e = $1; s = $2 } END { print e, s, v }' \
  "$tmp/a/metrics.csv")
set -- $best_row
best_epoch=$1 best_step=$2 best_val=$3
diag "best epoch $best_epoch (step $best_step, val acc $best_val); metrics:"
diag "$(cut -d, -f1,2,7 "$tmp/a/metrics.csv" | tr '\n' ' ')"
[ "$best_epoch" -le 2 ]
ok $? "the best epoch is one of the first two ($best_epoch): the later ones do not beat it"
[ "$(stored_step "$tmp/a/checkpoints/best.h5")" = "$best_step" ]
ok $? "best.h5 holds the state after that epoch (step $best_step)"

# 2. Pruned under its own name, kept as best.h5.
[ ! -e "$tmp/a/checkpoints/ckpt-$(printf %010d "$best_step").h5" ] &&
  [ -e "$tmp/a/checkpoints/ckpt-0000000056.h5" ]
ok $? "keep 1 pruned ckpt-$(printf %010d "$best_step").h5; the newest is step 56"
"$top_srcdir/tests/mpirun.sh" 2 "$eval_bin" "$tmp/a/checkpoints/best.h5" --split val \
  --json "$tmp/val.json" -q > "$tmp/eval.out" 2>&1
ok $? "stdbp_eval best.h5 --split val (exit 0)"
got=$(sed -n 's/.*"accuracy": *\([0-9.eE+-]*\).*/\1/p' "$tmp/val.json" | head -n 1)
awk -v a="$got" -v b="$best_val" 'BEGIN { exit !(a != "" && a - b < 1e-9 && b - a < 1e-9) }'
ok $? "its validation accuracy is the best of metrics.csv ($got = $best_val)"

# 3. A stop between the write and the marking: the resume marks again.
small_mlp_config "$tmp/cfg.yaml" best 5 16 0.002 1 20 "checkpoint: {every_steps: 1000, keep: 1}
spikes: {samples: 0}"
run --set run.dir="$tmp/b" > "$tmp/b1.out" 2>&1
rm -f "$tmp/b/checkpoints/best.h5"
run --set run.dir="$tmp/b" --resume auto > "$tmp/b2.out" 2>&1
[ "$(stored_step "$tmp/b/checkpoints/best.h5")" = 14 ]
ok $? "best.h5 removed after epoch 1: resuming from epoch 1's checkpoint marks it again"

# 4. A directory with best.h5 alone is an earlier run's.
rm -f "$tmp/b/checkpoints"/ckpt-*.h5
before=$(cksum < "$tmp/b/checkpoints/best.h5")
run --set run.dir="$tmp/b" > "$tmp/b3.out" 2>&1
status=$?
[ $status -ne 0 ] && grep -q "already holds checkpoints (e.g. best.h5)" "$tmp/b3.out"
ok $? "a fresh run in a directory holding only best.h5 is refused (exit $status)"
[ "$(cksum < "$tmp/b/checkpoints/best.h5")" = "$before" ]
ok $? "... and best.h5 is untouched"

# 5. Resuming from a checkpoint earlier than best.h5.
small_mlp_config "$tmp/cfg.yaml" best 5 16 0.002 3 20 "checkpoint: {every_steps: 7, keep: 0}
spikes: {samples: 0}"
run --set run.dir="$tmp/c" > "$tmp/c1.out" 2>&1
best_c=$(stored_step "$tmp/c/checkpoints/best.h5")
[ -n "$best_c" ] && [ "$best_c" -gt 7 ]
ok $? "a 3-epoch run with checkpoints every 7 steps: best.h5 at step $best_c"
# Keep only step 7 and best.h5: no later ckpt-N.h5 names it.
for f in "$tmp/c/checkpoints"/ckpt-*.h5; do
  [ "$f" = "$tmp/c/checkpoints/ckpt-0000000007.h5" ] || rm -f "$f"
done
run --set run.dir="$tmp/c" --resume "$tmp/c/checkpoints/ckpt-0000000007.h5" > "$tmp/c2.out" 2>&1
status=$?
[ $status -ne 0 ] && grep -q "would replace the 1 later checkpoint in .*(best.h5)" "$tmp/c2.out"
ok $? "--resume from step 7 would replace best.h5: refused, naming it (exit $status)"
[ "$(stored_step "$tmp/c/checkpoints/best.h5")" = "$best_c" ]
ok $? "... and best.h5 is untouched"
run --set run.dir="$tmp/c" --resume "$tmp/c/checkpoints/ckpt-0000000007.h5" --discard-later \
  --max-steps 8 > "$tmp/c3.out" 2>&1
status=$?
[ $status -eq 0 ] && [ "$(stored_step "$tmp/c/checkpoints/best.h5.discarded")" = "$best_c" ]
ok $? "with --discard-later: best.h5 moved aside as best.h5.discarded (exit $status)"

# 6. No validation set: nothing to select by.
small_mlp_config "$tmp/cfg.yaml" best 5 16 0.002 3 20 "checkpoint: {every_steps: 1000, keep: 0}
spikes: {samples: 0}"
run --set run.dir="$tmp/d" --set data.val_samples=0 > "$tmp/d.out" 2>&1
ok $? "a run without a validation set (exit 0)"
[ ! -e "$tmp/d/checkpoints/best.h5" ] && ! grep -q "best checkpoint" "$tmp/d.out"
ok $? "... has no best.h5"
[ "$(ls "$tmp/d/checkpoints" | tr '\n' ' ')" = "ckpt-0000000045.h5 " ]
ok $? "... and no extra checkpoint: only the last one (step 45 of 3 x 15; keep 0)"
tap_done
