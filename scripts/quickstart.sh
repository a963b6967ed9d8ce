#!/bin/sh
# Set up everything and run the main job, from a fresh checkout:
#   bash scripts/quickstart.sh
# Installs the Debian packages that building, running and fetching the data
# need (as root: scripts/install-deps.sh --build --run --data; not the
# tests' SLURM, munge or fuzzers), fetches MNIST into data/, builds in
# build/, trains the default MNIST network (configs/mnist_mlp.yaml) on
# 2 MPI ranks and ends with the accelerator report. Extra arguments go to
# stdbp_train (e.g. --set train.epochs=1). NP overrides the rank count.
# Run again, it continues the same run (--resume auto): a finished run
# just prints its report again.
# -h, --help: print this help and exit.
case ${1:-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
np=${NP:-2}
# One OpenMP thread per core among the ranks (OpenMP's default would start
# a thread per core in every rank and oversubscribe the cores).
cores=$(nproc)
: "${OMP_NUM_THREADS:=$((cores / np > 0 ? cores / np : 1))}"
export OMP_NUM_THREADS
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export STDBP_DATA=${STDBP_DATA:-$top/data}

sh "$top/scripts/install-deps.sh" --build --run --data
sh "$top/scripts/fetch-data.sh" mnist
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh)
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure"
make -j"$(nproc)"
cd "$top"
exec mpirun -np "$np" --oversubscribe --bind-to none \
  "$build/src/cli/stdbp_train" configs/mnist_mlp.yaml --resume auto "$@"
