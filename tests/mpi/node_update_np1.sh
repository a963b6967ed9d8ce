#!/bin/sh
exec "$top_srcdir/tests/mpirun.sh" 1 "$top_builddir/tests/mpi/test_node_update"
