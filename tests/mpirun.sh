#!/bin/sh
# Run an MPI test program on N ranks: tests/mpirun.sh N PROGRAM [ARGS...]
# Used by the tests/mpi/*.sh wrappers under `make check`. The time limit
# turns a hang into a failure; --oversubscribe lets 4 ranks run on 2 cores.
set -u
np=$1; shift
: "${MPIEXEC:=mpiexec}"
: "${STDBP_TEST_TIMEOUT:=600}"
OMPI_ALLOW_RUN_AS_ROOT=1; export OMPI_ALLOW_RUN_AS_ROOT
OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM
exec timeout -k 10 "$STDBP_TEST_TIMEOUT" "$MPIEXEC" -n "$np" --oversubscribe --bind-to none "$@"
