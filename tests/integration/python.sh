#!/bin/sh
# The Python package (python/stdbp) as a user gets it: make install into
# a scratch DESTDIR, a small run trained here, then the Python tests
# (tests/python/test_stdbp.py, TAP through tests/python/tap.py) import the
# installed package, which loads the installed library.
. "$top_srcdir/tests/tap/tap.sh"
. "$top_srcdir/tests/integration/install_fixture.sh"
# ctypes cannot load an ASan/UBSan library into a plain python3 (the
# runtime must come first). The plain build runs this test.
[ "${STDBP_SANITIZERS:-no}" = no ] || skip_all "sanitizer build (python3 cannot load an ASan library)"
py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import numpy, h5py, yaml' > /dev/null 2>&1; then py=$p; break; fi
done
[ -n "$py" ] || skip_all "no python3 with numpy, h5py and yaml (Debian: python3-numpy python3-h5py python3-yaml)"
grep -q '^stdbp_pydir = ' "$top_builddir/Makefile" 2> /dev/null ||
  skip_all "configure found no python3: the package is not installed (configure PYTHON=...)"
tap_tmpdir; tmp=$tap_tmp

setup_failed() { echo "1..1"; echo "not ok 1 - setup: $1"; exit 1; }
scratch_install "$tmp/inst" || setup_failed "make install DESTDIR=$tmp/inst"
init=$(find "$tmp/inst" -path '*/stdbp/__init__.py' | head -n 1)
[ -n "$init" ] && [ -e "$(dirname "$init")/_paths.py" ] ||
  setup_failed "the package (with _paths.py) is not under $tmp/inst"
pydir=$(dirname "$(dirname "$init")")
train_small "$tmp" || setup_failed "training a small run"
"$top_srcdir/tests/mpirun.sh" 1 "$top_builddir/src/cli/stdbp_eval" "$ckpt" \
  --set data.dir="$data_dir" > "$tmp/eval.out" 2>&1
eval_acc=$(sed -n 's/.*test accuracy \([0-9.]*%\) (\([0-9]*\) samples.*/\1 \2/p' "$tmp/eval.out")
[ -n "$eval_acc" ] || setup_failed "stdbp_eval: $(cat "$tmp/eval.out")"
diag "stdbp_eval: $eval_acc; python: $py"

STDBP_TEST_RUN=$run_dir STDBP_TEST_CKPT=$ckpt STDBP_TEST_DATA=$data_dir STDBP_TEST_TMP=$tmp \
  STDBP_TEST_LIBDIR=$inst_libdir STDBP_TEST_PYDIR=$pydir STDBP_TEST_EVAL=$eval_acc \
  STDBP_LIBRARY=$inst_libdir PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$pydir:$top_srcdir/tests/python \
  "$py" "$top_srcdir/tests/python/test_stdbp.py"
