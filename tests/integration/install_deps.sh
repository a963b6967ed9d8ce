#!/bin/sh
# scripts/install-deps.sh (docs/INSTALL.md): every package it can install is
# used somewhere in the tree (the table below names what uses it; a package
# missing from the table, such as a plotting tool nothing calls, fails);
# the groups --build, --run, --data, --test add up to the default; the
# quickstart installs --build --run --data only, none of the tests' SLURM,
# munge, fuzzers or clang-format; bad options exit 2. Installs nothing
# (--list).
. "$top_srcdir/tests/tap/tap.sh"
plan 6
deps=$top_srcdir/scripts/install-deps.sh
cd "$top_srcdir" || exit 99

# package | fixed string | where it is used (files or directories)
uses='gcc|AX_PROG_CC_MPI|configure.ac
make|include src/util/local.mk|Makefile.am
autoconf|AC_INIT|configure.ac autogen.sh
automake|AM_INIT_AUTOMAKE|configure.ac
libtool|LT_INIT|configure.ac
pkg-config|PKG_CHECK_MODULES|configure.ac
libopenmpi-dev|#include <mpi.h>|src
libhdf5-openmpi-dev|#include <hdf5.h>|src
libyaml-dev|#include <yaml.h>|src
zlib1g-dev|#include <zlib.h>|src
openmpi-bin|mpirun|scripts/quickstart.sh jobs
libopenmpi3|MPI_Init(|src/cli
libhdf5-openmpi-103-1|H5Pset_fapl_mpio|src
libyaml-0-2|yaml_parser_parse|src
zlib1g|inflateInit2|src
python3|#!/usr/bin/env python3|scripts
python3-numpy|import numpy|scripts python
python3-h5py|import h5py|scripts python
python3-matplotlib|import matplotlib|scripts
python3-yaml|import yaml|python
npm|npm pack|scripts/fetch-data.sh
hdf5-tools|h5diff|tests
procps|pgrep|tests
clang|-fsanitize=fuzzer|tests/fuzz/local.mk
libclang-rt-14-dev|-fsanitize=fuzzer|tests/fuzz/local.mk
clang-format|clang-format|scripts/format-check.sh
dataset-fashion-mnist|dataset-fashion-mnist|scripts/fetch-data.sh tests/unit
slurmctld|slurmctld|scripts/slurm-local-start.sh
slurmd|slurmd|scripts/slurm-local-start.sh
slurm-client|sbatch|tests/slurm
munge|munged|scripts/slurm-local-start.sh
iproute2|ip netns|scripts/netns-agent tests/multinode'

all=$(sh "$deps" --list) && [ -n "$all" ]
ok $? "install-deps.sh --list prints the packages"
bad=
for p in $all; do
  line=$(printf '%s\n' "$uses" | grep "^$p|") || { bad="$bad $p(not in the table)"; continue; }
  pat=$(printf '%s' "$line" | cut -d'|' -f2)
  where=$(printf '%s' "$line" | cut -d'|' -f3)
  # shellcheck disable=SC2086  # where: several paths
  grep -rqF --exclude=install-deps.sh -- "$pat" $where 2> /dev/null || bad="$bad $p('$pat' not in $where)"
done
[ -z "$bad" ]
ok $? "every package is used in the tree${bad:+:$bad}"

groups=$(sh "$deps" --list --build --run --data --test | sort)
[ "$groups" = "$(printf '%s\n' $all | sort)" ]
ok $? "--build --run --data --test together are the default set"

quick=$(sh "$deps" --list --build --run --data)
hit=
for p in slurmctld slurmd slurm-client munge clang clang-format libclang-rt-14-dev hdf5-tools; do
  printf '%s\n' $quick | grep -qx "$p" && hit="$hit $p"
done
[ -z "$hit" ] && printf '%s\n' $quick | grep -qx libhdf5-openmpi-dev &&
  printf '%s\n' $quick | grep -qx openmpi-bin && printf '%s\n' $quick | grep -qx npm
ok $? "--build --run --data: compilers, MPI, HDF5, npm and none of the tests' packages${hit:+:$hit}"

grep -q '^sh "$top/scripts/install-deps.sh" --build --run --data$' scripts/quickstart.sh
ok $? "scripts/quickstart.sh installs --build --run --data"

sh "$deps" --bogus > /dev/null 2>&1; s=$?
sh "$deps" --help | grep -q -- "--test"; h=$?
[ $s -eq 2 ] && [ $h -eq 0 ]
ok $? "an unknown option exits 2; --help names the groups"
tap_done
