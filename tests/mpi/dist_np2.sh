#!/bin/sh
exec "$top_srcdir/tests/mpirun.sh" 2 "$top_builddir/tests/mpi/test_dist"
