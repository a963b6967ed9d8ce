#!/bin/sh
# Install the Debian 12 packages stdbp needs. Idempotent: packages that are
# already installed are skipped, so a second run takes about a second.
#
#   scripts/install-deps.sh            build + test + data + plots + SLURM
#   scripts/install-deps.sh --build    only what ./configure && make need
#   scripts/install-deps.sh --help
set -eu

build="gcc make autoconf automake libtool pkg-config
libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools libyaml-dev zlib1g-dev"
# Tests: fuzzers (clang + libFuzzer runtime), make format-check
# (clang-format), HDF5 from Python for checks and plots, a real one-node
# SLURM cluster for the job-script tests.
extra="clang libclang-rt-14-dev clang-format python3 python3-h5py python3-matplotlib python3-numpy gnuplot-nox
slurmctld slurmd slurm-client munge npm dataset-fashion-mnist"

case "${1:-}" in
  -h|--help)
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
    exit 0 ;;
  --build) wanted=$build ;;
  "") wanted="$build $extra" ;;
  *) echo "install-deps.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
esac

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
