#!/bin/sh
# Resume never loses a run or silently discards work (2 ranks):
#  1. a checkpoints/ folder without ckpt-*.h5 (kill -9 during the first
#     checkpoint) is "no checkpoint yet": --resume auto starts afresh,
#     stdbp_export RUN_DIR says there is none;
#  2. the run-directory lock: a second run on a directory in use is
#     refused at once, writing nothing; after kill -9 the lock is stale;
#  3. --resume PATH older than the directory's newest checkpoint needs
#     --discard-later; the changed-config warning lists every changed key;
#  4. a checkpoint written mid-epoch cannot be resumed with another
#     train.batch;
#  5. the spike log never blocks a run: moments written after the
#     checkpoint are dropped at resume, and a spikes.h5 that is not a
#     spike log (killed while created) or is damaged is moved aside.
. "$top_srcdir/tests/tap/tap.sh"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
plan 28
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli/stdbp_train
export_bin=$top_builddir/src/cli/stdbp_export
run() { np=$1; shift; "$top_srcdir/tests/mpirun.sh" "$np" "$bin" "$tmp/cfg.yaml" --progress log --no-deploy "$@"; }
ranks() { pgrep -f "^[^ ]*stdbp_train $tmp/cfg.yaml"; } # the ranks, not mpirun

synthetic_data "$tmp"
# 280 training samples, batch 20: 14 steps per epoch; spikes every epoch.
small_mlp_config "$tmp/cfg.yaml" safety 5 16 0.002 2 20 "checkpoint: {keep: 0}
spikes: {samples: 8, when: epoch}"
run 2 --set run.dir="$tmp/ref" > "$tmp/ref.out" 2>&1
[ -f "$tmp/ref/checkpoints/ckpt-0000000028.h5" ]; ok $? "reference run: 2 epochs, checkpoints at steps 14 and 28"

# 1. No ckpt-*.h5 in checkpoints/, only a temporary of a killed write.
mkdir -p "$tmp/empty/checkpoints"
printf partial > "$tmp/empty/checkpoints/.ckpt-0000000014.h5.tmp"
"$top_srcdir/tests/mpirun.sh" 1 "$export_bin" "$tmp/empty" --nir "$tmp/empty.nir" > "$tmp/export.out" 2>&1
status=$?
[ $status -ne 0 ] && grep -q "no valid checkpoint in $tmp/empty/checkpoints" "$tmp/export.out"
ok $? "stdbp_export RUN_DIR without checkpoints: a clear error (exit $status)"
run 2 --set run.dir="$tmp/empty" --resume auto > "$tmp/empty.out" 2>&1
status=$?
[ $status -eq 0 ] && ! grep -q "resumed from" "$tmp/empty.out"
ok $? "--resume auto without checkpoints: a fresh start (exit $status)"
same_ckpt "$tmp/ref/checkpoints/ckpt-0000000028.h5" "$(last_ckpt "$tmp/empty")"
ok $? "... that ends bitwise as the reference run"

# 2. The run-directory lock.
rm -rf "$tmp/lock"
"$top_srcdir/tests/mpirun.sh" 2 "$bin" "$tmp/cfg.yaml" --no-deploy --progress log \
  --set train.epochs=400 --set run.dir="$tmp/lock" > "$tmp/lockA.out" 2>&1 &
launcher=$!
for i in $(seq 1 300); do  # wait for the first checkpoint
  ls "$tmp/lock/checkpoints"/ckpt-*.h5 >/dev/null 2>&1 && break
  sleep 0.1
done
cfg_before=$(cksum < "$tmp/lock/config.yaml")
t0=$(date +%s)
run 2 --set train.epochs=400 --set run.dir="$tmp/lock" --set optimizer.lr=0.5 --resume auto \
  --max-steps 1 > "$tmp/lockB.out" 2>&1
status=$?
t1=$(date +%s)
[ $status -eq 1 ] && grep -q "run directory $tmp/lock is in use by another run (pid [0-9]* host " "$tmp/lockB.out"
ok $? "a second run on a directory in use is refused, naming it and the holder (exit $status)"
# "At once": not waiting for the first run (400 epochs); 30 s leaves room
# for mpirun starting on a loaded machine.
[ $((t1 - t0)) -le 30 ]; ok $? "... at once ($((t1 - t0)) s)"
[ "$(cksum < "$tmp/lock/config.yaml")" = "$cfg_before" ]; ok $? "... having written nothing (config.yaml as before)"
grep -q "pid [0-9]* host " "$tmp/lock/.lock"; ok $? "the lock file names the holder"
victim=$(ranks | head -n 1)
[ -n "$victim" ] && kill -9 $victim
wait $launcher
run 2 --set train.epochs=400 --set run.dir="$tmp/lock" --resume auto --max-steps 30 > "$tmp/lockC.out" 2>&1
status=$?
[ $status -eq 0 ] && grep -q "resumed from" "$tmp/lockC.out"
ok $? "after kill -9 of the holder the lock is stale: --resume auto continues (exit $status)"

# 3. Resuming from an older checkpoint in a directory with later ones.
cp -r "$tmp/ref" "$tmp/older"
ck_before=$(cksum < "$tmp/older/checkpoints/ckpt-0000000028.h5")
run 2 --set run.dir="$tmp/older" --resume "$tmp/older/checkpoints/ckpt-0000000014.h5" \
  --set optimizer.lr=0.003 --set train.log_every=3 > "$tmp/older.out" 2>&1
status=$?
[ $status -eq 1 ] && # best.h5 is step 28's too (epoch 2 has the better validation accuracy).
grep -q "would replace the 2 later checkpoints in $tmp/older/checkpoints (ckpt-0000000028.h5, best.h5): pass --discard-later" "$tmp/older.out"
ok $? "resuming from an older checkpoint is refused, naming the later ones (exit $status)"
[ "$(cksum < "$tmp/older/checkpoints/ckpt-0000000028.h5")" = "$ck_before" ]
ok $? "... which is left as it was"
run 2 --set run.dir="$tmp/older" --resume "$tmp/older/checkpoints/ckpt-0000000014.h5" \
  --set optimizer.lr=0.003 --set train.log_every=3 --discard-later > "$tmp/older2.out" 2>&1
status=$?
[ $status -eq 0 ] && [ -f "$tmp/older/checkpoints/ckpt-0000000028.h5.discarded" ] &&
  [ "$(cksum < "$tmp/older/checkpoints/ckpt-0000000028.h5.discarded")" = "$ck_before" ]
ok $? "--discard-later continues, moving the later checkpoint aside (exit $status)"
grep "different config (" "$tmp/older2.out" | grep "optimizer.lr: 0.002 -> 0.003" | grep -q "train.log_every"
ok $? "the changed-config warning lists every changed key with both values"
grep -q "removed moment \"epoch-0002\"" "$tmp/older2.out"
ok $? "the spike log's moment written after the checkpoint is dropped"
! same_ckpt "$tmp/ref/checkpoints/ckpt-0000000028.h5" "$tmp/older/checkpoints/ckpt-0000000028.h5" &&
  [ -f "$tmp/older/checkpoints/ckpt-0000000028.h5" ]
ok $? "... and the run ends with its own step-28 checkpoint (another learning rate)"

# 4. Mid-epoch with another train.batch.
run 2 --set run.dir="$tmp/batch" --max-steps 21 > "$tmp/batch1.out" 2>&1
run 2 --set run.dir="$tmp/batch" --resume auto --set train.batch=40 > "$tmp/batch2.out" 2>&1
status=$?
[ $status -eq 1 ] && grep -q "middle of epoch 2 (after 7 batches of train.batch = 20); resuming it with train.batch = 40" "$tmp/batch2.out"
ok $? "a mid-epoch checkpoint with another train.batch is refused (exit $status)"
[ "$(last_ckpt "$tmp/batch")" = "$tmp/batch/checkpoints/ckpt-0000000021.h5" ]
ok $? "... and nothing was trained"
run 2 --set run.dir="$tmp/batch" --resume auto > "$tmp/batch3.out" 2>&1
same_ckpt "$tmp/ref/checkpoints/ckpt-0000000028.h5" "$(last_ckpt "$tmp/batch")"
ok $? "with the same train.batch it resumes bitwise"

# 5. The spike log.
# a. Killed during the first checkpoint with spikes.when: epoch: spikes.h5
#    holds "epoch-0001" but there is no checkpoint.
run 2 --set run.dir="$tmp/sa" --max-steps 14 > "$tmp/sa1.out" 2>&1
rm -f "$tmp/sa/checkpoints"/ckpt-*.h5
run 2 --set run.dir="$tmp/sa" --resume auto > "$tmp/sa2.out" 2>&1
status=$?
[ $status -eq 0 ]; ok $? "killed during the first checkpoint (spikes every epoch): --resume auto trains (exit $status)"
grep -q "removed moment \"epoch-0001\"" "$tmp/sa2.out"; ok $? "... dropping the moment written before the lost checkpoint"
h5diff -q "$tmp/ref/spikes.h5" "$tmp/sa/spikes.h5" /epoch-0002 /epoch-0002 >/dev/null 2>&1 &&
  h5diff -q "$tmp/ref/spikes.h5" "$tmp/sa/spikes.h5" /epoch-0001 /epoch-0001 >/dev/null 2>&1
ok $? "... and the spike log ends as the reference run's"
# b. Killed while spikes.h5 was created: an HDF5 file that is not a
#    spike log (here a checkpoint), or an empty file.
for kind in hdf5 empty; do
  cp -r "$tmp/ref" "$tmp/sb-$kind"
  rm -f "$tmp/sb-$kind/checkpoints/ckpt-0000000028.h5"
  if [ $kind = hdf5 ]; then cp "$tmp/ref/checkpoints/ckpt-0000000014.h5" "$tmp/sb-$kind/spikes.h5"
  else : > "$tmp/sb-$kind/spikes.h5"; fi
  run 2 --set run.dir="$tmp/sb-$kind" --resume auto > "$tmp/sb-$kind.out" 2>&1
  status=$?
  [ $status -eq 0 ] && [ -f "$tmp/sb-$kind/spikes.h5.broken-1" ] &&
    grep -q "moved aside to $tmp/sb-$kind/spikes.h5.broken-1" "$tmp/sb-$kind.out"
  ok $? "spikes.h5 that is not a spike log ($kind): moved aside with a warning, the run goes on (exit $status)"
  h5diff -q "$tmp/ref/spikes.h5" "$tmp/sb-$kind/spikes.h5" /epoch-0002 /epoch-0002 >/dev/null 2>&1
  ok $? "... writing a new log"
done
# c. A damaged spikes.h5 (its first 4 KiB overwritten).
cp -r "$tmp/ref" "$tmp/sc"
rm -f "$tmp/sc/checkpoints/ckpt-0000000028.h5"
dd if=/dev/zero of="$tmp/sc/spikes.h5" bs=4096 count=1 conv=notrunc 2>/dev/null
run 2 --set run.dir="$tmp/sc" --resume auto > "$tmp/sc.out" 2>&1
status=$?
[ $status -eq 0 ] && [ -f "$tmp/sc/spikes.h5.broken-1" ]
ok $? "a damaged spikes.h5 is moved aside and the run goes on (exit $status)"
h5diff -q "$tmp/ref/spikes.h5" "$tmp/sc/spikes.h5" /epoch-0002 /epoch-0002 >/dev/null 2>&1
ok $? "... writing a new log"
# A resume that needs no change leaves the log byte for byte.
sp_before=$(cksum < "$tmp/ref/spikes.h5")
run 2 --set run.dir="$tmp/ref" --resume auto > "$tmp/ref2.out" 2>&1
[ "$(cksum < "$tmp/ref/spikes.h5")" = "$sp_before" ] && ! ls "$tmp/ref"/spikes.h5.broken-* >/dev/null 2>&1
ok $? "--resume auto of a finished run leaves spikes.h5 untouched"
tap_done
