#!/bin/sh
# The C examples (examples/) as a user builds them: make install into a
# scratch DESTDIR, compile each example against the installed headers and
# library through `pkg-config stdbp`, and run them, without MPI, on a
# small run trained here: infer_mnist must give stdbp_eval's accuracy.
. "$top_srcdir/tests/tap/tap.sh"
. "$top_srcdir/tests/integration/install_fixture.sh"
command -v pkg-config > /dev/null 2>&1 || skip_all "pkg-config not installed"
# An ASan/UBSan library needs its runtime first in every program that
# loads it; users link a plain build. The plain build runs this test.
[ "${STDBP_SANITIZERS:-no}" = no ] || skip_all "sanitizer build (the installed library needs the ASan runtime first)"
plan 10
tap_tmpdir; tmp=$tap_tmp
CC=${CC:-mpicc}

scratch_install "$tmp/inst"
ok $? "make install DESTDIR=scratch: headers, libstdbp and stdbp.pc installed"

cflags=$(stdbp_pc --cflags) && libs=$(stdbp_pc --libs) &&
  echo "$cflags" | grep -q -- "-I$inst_includedir" && echo "$libs" | grep -q -- "-L$inst_libdir"
ok $? "pkg-config stdbp names the installed include and lib directories"

built=0
for ex in infer_mnist train_loop; do
  # -I/-L of the scratch install only: the build tree is not seen.
  $CC -std=c11 -Wall -Wextra -Werror -o "$tmp/$ex" "$top_srcdir/examples/$ex.c" $cflags $libs \
    > "$tmp/$ex.cc" 2>&1
  r=$?; ok $r "$ex.c compiles and links against the installed stdbp (-Werror)"
  [ $r -eq 0 ] && built=$((built + 1)) || sed 's/^/# /' "$tmp/$ex.cc" >&2
done
# docs/API.md: its ```c blocks, in order, are one translation unit.
awk '/^```c$/ {p = 1; next} p && /^```$/ {p = 0; next} p' "$top_srcdir/docs/API.md" \
  > "$tmp/api_snippets.c"
n=$(grep -c '^stdbp_status \|^void \|^int ' "$tmp/api_snippets.c")
$CC -std=c11 -Wall -Wextra -Werror -c -o "$tmp/api_snippets.o" "$tmp/api_snippets.c" $cflags \
  > "$tmp/api.cc" 2>&1
r=$?; [ $r -eq 0 ] && [ "$n" -ge 8 ]
r=$?; ok $r "docs/API.md: its C snippets ($n functions) compile against the installed headers"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/api.cc" >&2
# The installed library, not the build tree's.
LD_LIBRARY_PATH=$inst_libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH

train_small "$tmp"
ok $? "a small run trained (checkpoint $(basename "${ckpt:-none}"))"

"$top_srcdir/tests/mpirun.sh" 1 "$top_builddir/src/cli/stdbp_eval" "$ckpt" \
  --set data.dir="$data_dir" > "$tmp/eval.out" 2>&1
want=$(sed -n 's/.*test accuracy \([0-9.]*%\) (\([0-9]*\) samples.*/\1 \2/p' "$tmp/eval.out")
[ -n "$want" ]
ok $? "stdbp_eval: $want"

# Run without mpirun: no MPI_Init anywhere.
"$tmp/infer_mnist" "$run_dir" "$data_dir" > "$tmp/infer.out" 2>&1
r=$?
got=$(sed -n 's/.*test accuracy \([0-9.]*%\) (\([0-9]*\) samples.*/\1 \2/p' "$tmp/infer.out")
[ $r -eq 0 ] && [ -n "$got" ] && [ "$got" = "$want" ] && grep -q "^image 0, layer 1 " "$tmp/infer.out"
r=$?; ok $r "infer_mnist RUN_DIR (no MPI): the same accuracy and samples ($got), layers' spikes"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/infer.out" "$tmp/eval.out" >&2

"$tmp/infer_mnist" "$tmp/no-such-run" > "$tmp/bad.out" 2>&1; s=$?
[ $s -eq 1 ] && grep -q "error: .*no-such-run" "$tmp/bad.out"
ok $? "infer_mnist on a missing path: exit 1, the library's message ($(head -c 100 "$tmp/bad.out"))"

"$tmp/train_loop" "$tmp/small.yaml" data.dir="$data_dir" train.epochs=2 > "$tmp/loop.out" 2>&1
r=$?
[ $r -eq 0 ] && [ "$(grep -c '^epoch [12]: train loss [0-9.]*, test accuracy' "$tmp/loop.out")" -eq 2 ]
r=$?; ok $r "train_loop (no MPI): 2 epochs, loss and test accuracy ($(tail -n 1 "$tmp/loop.out"))"
[ $r -eq 0 ] || sed 's/^/# /' "$tmp/loop.out" >&2
tap_done
