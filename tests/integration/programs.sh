#!/bin/sh
# The programs agree: stdbp_eval and stdbp_deploy take a run directory
# (its newest valid checkpoint) as stdbp_export does; --hw NAME finds the
# shipped profiles ($STDBP_HW_PATH, the source tree's configs/hw for a
# program run from the build tree, then $(pkgdatadir)/hw), and an unknown
# name lists the names found; stdbp_deploy writes to RUN/deploy-PROFILE by
# default, never over the training's report, and refuses to replace a
# report of another checkpoint or profile without --force; every
# program's --help has one option style (long options, --name VALUE).
. "$top_srcdir/tests/tap/tap.sh"
plan 16
tap_tmpdir; tmp=$tap_tmp
bin=$top_builddir/src/cli
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
unset STDBP_HW_PATH
run() { timeout -s KILL 120 "$@"; }

synthetic_data "$tmp" 40
small_mlp_config "$tmp/c.yaml" prog 5 16 0.003 2 25 "deploy: {enabled: true, bits: [8], samples: 10}"
run "$bin/stdbp_train" "$tmp/c.yaml" --quiet --run-dir "$tmp/run" > "$tmp/o1" 2>&1; s=$?
ckpt=$(ls "$tmp"/run/checkpoints/ckpt-*.h5 2>/dev/null | tail -n 1)
[ $s -eq 0 ] && [ -n "$ckpt" ] && [ -s "$tmp/run/report.json" ]
ok $? "a tiny run trained (--run-dir), with the training's report ($s: $(tail -c 200 "$tmp/o1"))"
cp "$tmp/run/report.json" "$tmp/training_report.json"

# 1. A run directory means its newest valid checkpoint.
run "$bin/stdbp_eval" "$tmp/run" > "$tmp/o2" 2>&1; s=$?
[ $s -eq 0 ] && grep -q "^$ckpt: test accuracy" "$tmp/o2"
ok $? "stdbp_eval RUN_DIR evaluates the newest checkpoint ($s: $(head -c 200 "$tmp/o2"))"
run "$bin/stdbp_eval" "$ckpt" > "$tmp/o3" 2>&1
cmp -s "$tmp/o2" "$tmp/o3"
ok $? "  the same output as with the checkpoint's path"
mkdir -p "$tmp/empty"
run "$bin/stdbp_eval" "$tmp/empty" > "$tmp/o4" 2>&1; s=$?
[ $s -eq 1 ] && grep -q "no valid checkpoint in $tmp/empty/checkpoints" "$tmp/o4"
ok $? "stdbp_eval on a directory without checkpoints: one clear error ($s)"

# 2. stdbp_deploy RUN_DIR --hw NAME: the shipped profile, into RUN/deploy-NAME.
run "$bin/stdbp_deploy" "$tmp/run" --hw loihi_like > "$tmp/o5" 2>&1; s=$?
[ $s -eq 0 ] && [ -s "$tmp/run/deploy-loihi_like/report.json" ] &&
  grep -q "on .*configs/hw/loihi_like.yaml" "$tmp/o5" &&
  grep -q "checkpoint: .*$(basename "$ckpt")" "$tmp/run/deploy-loihi_like/deploy_source.txt"
ok $? "stdbp_deploy RUN_DIR --hw loihi_like: the source tree's profile, RUN/deploy-loihi_like ($s)"
cmp -s "$tmp/run/report.json" "$tmp/training_report.json"
ok $? "  the training's report.json is untouched"
run "$bin/stdbp_deploy" "$tmp/run" > "$tmp/o6" 2>&1; s=$?
[ $s -eq 0 ] && [ -s "$tmp/run/deploy-default/report.json" ] &&
  cmp -s "$tmp/run/report.json" "$tmp/training_report.json"
ok $? "stdbp_deploy RUN_DIR without --hw: RUN/deploy-default ($s)"
run "$bin/stdbp_deploy" "$tmp/run" --hw loihi_like > "$tmp/o7" 2>&1
ok $? "  the same checkpoint and profile again: replaced without --force"

# 3. Refusals: the training's report, another profile's report.
run "$bin/stdbp_deploy" "$tmp/run" --out "$tmp/run" > "$tmp/o8" 2>&1; s=$?
[ $s -eq 1 ] && grep -q "already holds report.json" "$tmp/o8" && grep -q -- "--force" "$tmp/o8" &&
  cmp -s "$tmp/run/report.json" "$tmp/training_report.json"
ok $? "--out RUN (the training's report): refused, untouched ($s: $(tail -c 200 "$tmp/o8"))"
run "$bin/stdbp_deploy" "$tmp/run" --hw truenorth_like --out "$tmp/run/deploy-loihi_like" \
  > "$tmp/o9" 2>&1; s=$?
[ $s -eq 1 ] && grep -q "already holds report.json" "$tmp/o9"
ok $? "another profile into a report's directory: refused ($s)"
run "$bin/stdbp_deploy" "$tmp/run" --hw truenorth_like --out "$tmp/run/deploy-loihi_like" \
  --force > "$tmp/o10" 2>&1; s=$?
[ $s -eq 0 ] && grep -q "truenorth_like" "$tmp/run/deploy-loihi_like/deploy_source.txt"
ok $? "  with --force: replaced ($s)"

# 4. Names: $STDBP_HW_PATH first; an unknown name lists what there is.
mkdir -p "$tmp/hw"
sed 's/^name: .*/name: mine/' "$top_srcdir/configs/hw/default.yaml" > "$tmp/hw/mine.yaml"
STDBP_HW_PATH="$tmp/nowhere:$tmp/hw" run "$bin/stdbp_deploy" "$tmp/run" --hw mine \
  --sensitivity --set deploy.samples=4 > "$tmp/o11" 2>&1; s=$?
[ $s -eq 0 ] && [ -s "$tmp/run/deploy-mine/sensitivity.json" ] && grep -q "$tmp/hw/mine.yaml" "$tmp/o11"
ok $? "--hw NAME from \$STDBP_HW_PATH (--sensitivity into RUN/deploy-mine) ($s)"
STDBP_HW_PATH="$tmp/hw" run "$bin/stdbp_deploy" "$tmp/run" --hw loihi > "$tmp/o12" 2>&1; s=$?
[ $s -eq 1 ] && grep -q "profile 'loihi' not found" "$tmp/o12" &&
  grep -q "found: .*default" "$tmp/o12" && grep -q "loihi_like" "$tmp/o12" &&
  grep -q "mine" "$tmp/o12" && [ "$(wc -l < "$tmp/o12")" -eq 1 ]
ok $? "an unknown --hw name: one line listing the profiles found ($s: $(cat "$tmp/o12"))"
run "$bin/stdbp_train" "$tmp/c.yaml" --quiet --run-dir "$tmp/run2" --hw nonesuch > "$tmp/o13" 2>&1
s=$?
[ $s -eq 1 ] && grep -q "profile 'nonesuch' not found" "$tmp/o13" && [ ! -d "$tmp/run2/checkpoints" ]
ok $? "stdbp_train --hw NAME: an unknown name refused before training ($s)"

# 5. Installed: the profiles under $(pkgdatadir)/hw.
if [ -n "${PROG_SKIP_INSTALL:-}" ]; then
  tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP PROG_SKIP_INSTALL set"
else
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" install-dist_hwconfigsDATA \
    DESTDIR="$tmp/inst" > "$tmp/inst.log" 2>&1
  hwdir=$(find "$tmp/inst" -name loihi_like.yaml 2>/dev/null | head -n 1)
  case $hwdir in */share/stdbp/hw/loihi_like.yaml) true ;; *) false ;; esac &&
    [ -s "$(dirname "$hwdir")/default.yaml" ] && [ -s "$(dirname "$hwdir")/truenorth_like.yaml" ]
  ok $? "make install puts the profiles in \$(pkgdatadir)/hw ($(cat "$tmp/inst.log"))"
fi

# 6. One option style: every option in --help is --name or --name VALUE
# (with at most a one-letter short form), and the shared things have the
# same names.
bad=
for p in stdbp_train stdbp_eval stdbp_deploy stdbp_export stdbp_import stdbp_sweep; do
  "$bin/$p" --help > "$tmp/h_$p" 2>&1 || bad="$bad $p(status)"
  awk '/^Options:/ { on = 1; next } on && /^$/ { on = 0 } on && /^  -/ {
         if ($0 !~ /^  (-[a-zA-Z], )?--[a-z][a-z-]*( [^ ]+)?(  |$)/) { print; bad = 1 } }
       END { exit bad }' "$tmp/h_$p" > "$tmp/bad_$p" || bad="$bad $p($(head -n 1 "$tmp/bad_$p"))"
done
for p in stdbp_train stdbp_eval stdbp_deploy stdbp_import stdbp_sweep; do
  grep -q "^  --set KEY.PATH=VALUE " "$tmp/h_$p" || bad="$bad $p(--set)"
done
for p in stdbp_train stdbp_eval stdbp_export stdbp_import; do
  grep -q "^  -q, --quiet " "$tmp/h_$p" || bad="$bad $p(-q)"
done
grep -q "^  --run-dir DIR " "$tmp/h_stdbp_train" && grep -q "^  --run-dir DIR " "$tmp/h_stdbp_import" ||
  bad="$bad --run-dir"
grep -q "^  --hw NAME|PROFILE.yaml " "$tmp/h_stdbp_train" &&
  grep -q "^  --hw NAME|PROFILE.yaml " "$tmp/h_stdbp_deploy" || bad="$bad --hw"
for p in stdbp_eval stdbp_deploy stdbp_export; do
  grep -q "^Usage: .*$p CHECKPOINT.h5|RUN_DIR" "$tmp/h_$p" || bad="$bad $p(RUN_DIR)"
done
[ -z "$bad" ]
ok $? "one option style in every program's --help${bad:+:$bad}"
tap_done
