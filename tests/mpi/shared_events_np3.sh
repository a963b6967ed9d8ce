#!/bin/sh
# test_shared_data on 3 rank(s) of one node, on an event data set (the own
# layout, written by gen_events).
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shared_events.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
"$top_builddir/tests/tools/gen_events" own "$tmp/train.h5" 90 5 >/dev/null || exit 1
"$top_srcdir/tests/mpirun.sh" 3 "$top_builddir/tests/mpi/test_shared_data" "events:$tmp/train.h5"
