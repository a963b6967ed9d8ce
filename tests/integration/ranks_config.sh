#!/bin/sh
# Issue: a rank count that does not suit the config. More ranks than the
# global batch (train.batch) is refused on every rank before any data is
# loaded, with one message that names the values and lists the rank
# counts and batches that would work; a batch that the ranks do not share
# evenly is legal (the first ranks take one sample more) and gives
# bitwise the weights of one rank.
. "$top_srcdir/tests/tap/tap.sh"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
plan 7
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli/stdbp_train
synthetic_data "$tmp"
ok $? "synthetic dataset written"
small_mlp_config "$tmp/cfg.yaml" ranks 3 8 0.003 1 4 "checkpoint: {keep: 1}
deploy: {enabled: false}"

# 5 ranks, batch 4, and a training set that does not exist: the rank
# check must come first (no data loaded), on every rank, within seconds.
start=$(date +%s)
"$top_srcdir/tests/mpirun.sh" 5 "$bin" "$tmp/cfg.yaml" --quiet --no-deploy \
  --set data.train="hdf5:$tmp/missing.h5" --set run.dir="$tmp/p5" > "$tmp/p5.out" 2>&1
status=$?
elapsed=$(( $(date +%s) - start ))
[ $status -ne 0 ] && [ $elapsed -lt 30 ]
ok $? "5 ranks, train.batch = 4: non-zero exit ($status) within seconds (${elapsed}s)"
grep -q "train.batch = 4 is smaller than the number of ranks (5)" "$tmp/p5.out" &&
  ! grep -q "missing.h5" "$tmp/p5.out"
ok $? "... refused before loading any data (the missing training set is not reached)"
grep -q "Rank counts that work with train.batch = 4: 1 to 4 (equal shares: 1, 2, 4); batches that work on 5 ranks: 5 or more (equal shares: 5, 10, 15, 20, ...)" \
  "$tmp/p5.out"
ok $? "... listing the rank counts and the batches that work"
[ "$(grep -c 'error' "$tmp/p5.out")" -eq 1 ]
ok $? "... printed once" || cat "$tmp/p5.out" >&2

# 3 ranks, batch 4 (shares 2, 1, 1) and a last batch of 2 samples, which
# leaves one rank without any (270 training samples): legal, and bitwise
# the one-rank weights.
for p in 1 3; do
  "$top_srcdir/tests/mpirun.sh" $p "$bin" "$tmp/cfg.yaml" --quiet --no-deploy \
    --set data.train_samples=290 --set run.dir="$tmp/q$p" > "$tmp/q$p.out" 2>&1 || cat "$tmp/q$p.out" >&2
done
[ -n "$(last_ckpt "$tmp/q3")" ]
ok $? "3 ranks, train.batch = 4 with a last batch of 2: trains"
[ -n "$(last_ckpt "$tmp/q1")" ] && h5diff -q "$(last_ckpt "$tmp/q1")" "$(last_ckpt "$tmp/q3")" /weights /weights \
  >/dev/null 2>&1
ok $? "... bitwise the weights of one rank"
tap_done
