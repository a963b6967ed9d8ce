#!/bin/sh
exec "$top_srcdir/tests/mpirun.sh" 3 "$top_builddir/tests/mpi/test_node_update"
