#!/bin/sh
# Set up everything and run the test suite, from a fresh checkout:
#   bash scripts/test.sh
# Installs the Debian packages (as root), generates the build system,
# builds in build/ and runs `make check` (serial and MPI tests on 2 and 4
# ranks). Extra arguments go to configure (e.g. --enable-sanitizers).
# BUILD_DIR overrides the build directory.
# -h, --help: print this help and exit.
case ${1:-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

sh "$top/scripts/install-deps.sh"
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh)
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" "$@"
make -j"$(nproc)"
make -j"$(nproc)" check
