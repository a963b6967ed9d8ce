#!/bin/sh
# test_shared_data on 3 rank(s) of one node, on a synthetic data set.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shared_data.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
"$top_builddir/tests/tools/gen_dataset" "$tmp/train.h5" 300 8 4 1 >/dev/null || exit 1
"$top_srcdir/tests/mpirun.sh" 3 "$top_builddir/tests/mpi/test_shared_data" "$tmp/train.h5"
