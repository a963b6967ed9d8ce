#!/bin/sh
# A real full disk during a checkpoint on 2 ranks: the run directory on a
# small tmpfs, filled up after a first checkpoint. The next checkpoint
# fails on every rank within 30 s (no hang), with one clear message, and
# the previous checkpoint is intact and resumes. Needs root (mount);
# skipped otherwise. The tmpfs is unmounted on every exit path.
. "$top_srcdir/tests/tap/tap.sh"
[ "$(id -u)" -eq 0 ] || skip_all "not root: cannot mount a tmpfs"
command -v timeout >/dev/null || skip_all "timeout (coreutils) not installed"
tap_tmpdir; tmp=$tap_tmp
mnt=$tmp/mnt
mkdir -p "$mnt"
mount -t tmpfs -o size=2m stdbp-test "$mnt" 2>/dev/null || skip_all "cannot mount a tmpfs"
trap 'umount "$mnt" 2>/dev/null || umount -l "$mnt"; [ -n "${STDBP_TEST_KEEP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
plan 5
bin=$top_builddir/src/cli/stdbp_train
run() { STDBP_TEST_TIMEOUT=60 timeout -k 2 30 "$top_srcdir/tests/mpirun.sh" 2 "$bin" "$tmp/cfg.yaml" \
  --progress log --no-deploy --set run.dir="$mnt/run" "$@"; }
synthetic_data "$tmp"
small_mlp_config "$tmp/cfg.yaml" fulldisk 11 32 0.002 1 20 "checkpoint: {keep: 0}"
run --max-steps 7 > "$tmp/first.out" 2>&1
prev=$mnt/run/checkpoints/ckpt-0000000007.h5
[ -f "$prev" ]; ok $? "a first checkpoint on the tmpfs"
sum=$(cksum < "$prev")
# Leave 20 KiB: room for the training's small files, not for a checkpoint.
avail=$(df -k --output=avail "$mnt" | tail -n 1)
dd if=/dev/zero of="$mnt/fill" bs=1k count=$((avail - 20)) 2>/dev/null
run --resume auto --max-steps 8 > "$tmp/full.out" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -ne 137 ]
ok $? "the checkpoint on a full disk fails on every rank within 30 s (exit $rc)"
[ "$(grep -c 'error' "$tmp/full.out")" -eq 1 ] && grep -q "error: .*no space left on the device" "$tmp/full.out"
ok $? "... with one clear message ($(grep error "$tmp/full.out" | cut -c1-160))"
[ "$(cksum < "$prev")" = "$sum" ] && [ "$(ls -A "$mnt/run/checkpoints")" = "ckpt-0000000007.h5" ]
ok $? "the previous checkpoint is intact and nothing else is left in checkpoints/"
rm -f "$mnt/fill"
run --resume auto > "$tmp/resume.out" 2>&1 && grep -q "resumed from .*ckpt-0000000007.h5" "$tmp/resume.out"
ok $? "after freeing space, --resume auto continues from it"
tap_done
