#!/bin/sh
# One copy of the data sets per node (data.shared_memory: auto, the
# default): training on 1, 2 and 3 ranks with the shared copy gives
# bitwise the weights and optimiser state of private copies (off, one per
# rank, as before), with augmentation on (it must never write into the
# shared images); a node where no window can be made (test hook) falls
# back to private copies with a warning and the same result; a load error
# on the loading rank (a corrupt training file, a missing test file) ends
# all 3 ranks within 10 s with one message. The same for an event data
# set (own layout): shared on 3 ranks, and the fallback, bitwise equal to
# one rank's private copy.
. "$top_srcdir/tests/tap/tap.sh"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
plan 17
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli/stdbp_train
hooked=$top_builddir/tests/tools/stdbp_train_hooked
synthetic_data "$tmp"
ok $? "synthetic dataset written"
small_mlp_config "$tmp/cfg.yaml" shm 5 16 0.003 2 25 "augment: {shift: 1, jitter: 0.02}
checkpoint: {keep: 1}
deploy: {enabled: false}"

# same_state RUN_A RUN_B: the newest checkpoints of two runs in $tmp agree.
same_state() { same_ckpt "$(last_ckpt "$tmp/$1")" "$(last_ckpt "$tmp/$2")"; }
run() { # NAME P PROGRAM ARGS...
  _name=$1 _p=$2 _prog=$3; shift 3
  "$top_srcdir/tests/mpirun.sh" "$_p" "$_prog" "$tmp/cfg.yaml" --quiet --no-deploy \
    --set run.dir="$tmp/$_name" "$@" > "$tmp/$_name.out" 2>&1 || cat "$tmp/$_name.out" >&2
}

for p in 1 2 3; do
  run off$p $p "$bin" --set data.shared_memory=off
  run auto$p $p "$bin" --set data.shared_memory=auto
done
[ -n "$(last_ckpt "$tmp/off1")" ]; ok $? "P = 1, private copy: finished with a checkpoint"
for p in 1 2 3; do
  same_state off1 auto$p
  ok $? "P = $p, shared copy: weights and optimiser state bitwise equal to P = 1 private"
done
for p in 2 3; do
  same_state off1 off$p
  ok $? "P = $p, private copies: bitwise equal to P = 1"
done
! grep -q "warning" "$tmp/auto3.out"
ok $? "P = 3 shared: no warning"

# No window can be made (test hook): a warning per data set, private
# copies, the same result.
STDBP_TEST_SHM_FAIL=1 run nowin3 3 "$hooked"
same_state off1 nowin3
ok $? "no shared window on 3 ranks: falls back, bitwise equal to P = 1"
[ "$(grep -c 'data.shared_memory: auto: no shared-memory window for .*train.h5' \
  "$tmp/nowin3.out")" -eq 1 ] &&
  [ "$(grep -c 'data.shared_memory: auto: no shared-memory window for .*test.h5' \
    "$tmp/nowin3.out")" -eq 1 ]
ok $? "... with one warning per data set ($(head -c 300 "$tmp/nowin3.out"))"

# Event data sets are shared the same way (offsets, times, channels,
# labels), with the same fallback.
"$top_builddir/tests/tools/gen_events" own "$tmp/ev_train.h5" 150 11 >/dev/null &&
  "$top_builddir/tests/tools/gen_events" own "$tmp/ev_test.h5" 40 12 >/dev/null
ev="--set data.train=events:$tmp/ev_train.h5 --set data.test=events:$tmp/ev_test.h5"
run evoff1 1 "$bin" $ev --set data.shared_memory=off
run evauto3 3 "$bin" $ev --set data.shared_memory=auto
STDBP_TEST_SHM_FAIL=1 run evnowin3 3 "$hooked" $ev
[ -n "$(last_ckpt "$tmp/evoff1")" ] && same_state evoff1 evauto3 && ! grep -q "warning" "$tmp/evauto3.out"
ok $? "event set, P = 3 shared: bitwise equal to P = 1 private, no warning"
same_state evoff1 evnowin3
ok $? "event set, no shared window on 3 ranks: falls back, bitwise equal"
[ "$(grep -c 'data.shared_memory: auto: no shared-memory window for .*ev_train.h5' \
  "$tmp/evnowin3.out")" -eq 1 ]
ok $? "... with a warning for the event set (it is shared when a window can be made)"

# fails NAME ARGS...: a 3-rank run that must fail; sets s and dt.
fails() {
  _name=$1; shift
  t0=$(date +%s)
  "$top_srcdir/tests/mpirun.sh" 3 "$bin" "$tmp/cfg.yaml" --quiet --no-deploy \
    --set run.dir="$tmp/$_name" "$@" > "$tmp/$_name.out" 2>&1
  s=$?
  dt=$(($(date +%s) - t0))
}
printf 'this is not an HDF5 file\n' > "$tmp/bad.h5"
fails bad --set data.train="hdf5:$tmp/bad.h5"
[ $s -ne 0 ] && [ $dt -le 10 ]
ok $? "a corrupt training file on the loading rank: all 3 ranks end within 10 s (status $s, ${dt} s)"
[ "$(grep -c 'error' "$tmp/bad.out")" -eq 1 ] && grep -q 'error: .*bad.h5' "$tmp/bad.out" &&
  ! grep -q 'rank [0-9]*:' "$tmp/bad.out"
ok $? "... one message, naming the file ($(head -c 300 "$tmp/bad.out"))"
fails missing --set data.test="hdf5:$tmp/missing.h5"
[ $s -ne 0 ] && [ $dt -le 10 ] && [ "$(grep -c 'error' "$tmp/missing.out")" -eq 1 ] &&
  grep -q 'error: .*missing.h5' "$tmp/missing.out"
ok $? "a missing test file: all ranks end within 10 s, one message (status $s, ${dt} s)"
fails badkey --set data.shared_memory=maybe
[ $s -ne 0 ] && grep -q 'data.shared_memory' "$tmp/badkey.out"
ok $? "data.shared_memory takes auto or off ($(head -c 200 "$tmp/badkey.out"))"
tap_done
