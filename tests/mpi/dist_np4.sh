#!/bin/sh
exec "$top_srcdir/tests/mpirun.sh" 4 "$top_builddir/tests/mpi/test_dist"
