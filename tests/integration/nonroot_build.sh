#!/bin/sh
# The non-root build of docs/INSTALL.md, as an unprivileged user (TAP; run
# by `make check-nonroot`, not part of make check: it builds the release
# tarball from scratch, 2-3 minutes): the tarball TARBALL (make dist)
# unpacked in a scratch directory under the user's HOME, configured against
# "existing installations" the way a cluster's modules provide them --
# MPICC naming the MPI compiler wrapper, an HDF5 module directory on PATH
# with bin/h5pcc, include/ and lib/ (no pkg-config file for HDF5, so
# configure takes the h5pcc route), --prefix under HOME -- then make,
# make install, the installed stdbp_train --help and a tiny training on 1
# rank; and configure alone with --with-hdf5=PREFIX.
#
# As root the user is stdbp-nonroot (created with useradd when missing);
# as any other user, that user itself. Debian's parallel HDF5 stands in for
# a site's: its prefix /usr/lib/x86_64-linux-gnu/hdf5/openmpi (or
# HDF5_PREFIX) has include/ and lib/. STDBP_TEST_KEEP=1 keeps the
# scratch directory.
. "$top_srcdir/tests/tap/tap.sh"

tarball=${TARBALL:-}
[ -n "$tarball" ] && [ -f "$tarball" ] || skip_all "no tarball: set TARBALL (make check-nonroot does)"
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
h5=${HDF5_PREFIX:-/usr/lib/x86_64-linux-gnu/hdf5/openmpi}
[ -f "$h5/include/hdf5.h" ] || skip_all "no parallel HDF5 under $h5 (set HDF5_PREFIX)"
mpicc=$(command -v mpicc) || skip_all "no mpicc"
h5pcc=$(command -v h5pcc) || h5pcc=
user=stdbp-nonroot
if [ "$(id -u)" = 0 ]; then
  command -v runuser > /dev/null || skip_all "no runuser (util-linux)"
  if ! id "$user" > /dev/null 2>&1; then
    command -v useradd > /dev/null || skip_all "no user $user and no useradd"
    useradd -m -s /bin/sh "$user" || skip_all "useradd $user failed"
  fi
  as_user() { runuser -u "$user" -- env -i PATH="$PATH" HOME="$home" LANG=C "$@"; }
  home=$(getent passwd "$user" | cut -d: -f6)
else
  user=$(id -un)
  as_user() { env -i PATH="$PATH" HOME="$home" LANG=C "$@"; }
  home=$HOME
fi
[ -n "$home" ] && [ -d "$home" ] || skip_all "user $user has no home directory"

plan 7
scratch=$(as_user mktemp -d "$home/stdbp-nonroot-XXXXXX") || exit 99
[ -n "${STDBP_TEST_KEEP:-}" ] || trap 'rm -rf "$scratch"' EXIT
cp "$tarball" "$scratch/" && synthetic_data "$scratch" && chown -R "$user" "$scratch"
name=$(basename "$tarball" .tar.gz)

# A module as a site installs it: PREFIX/bin/h5pcc, PREFIX/include, PREFIX/lib.
mod=$scratch/modules/hdf5
as_user mkdir -p "$mod/bin" && as_user ln -s "$h5/include" "$mod/include" &&
  as_user ln -s "$h5/lib" "$mod/lib" &&
  if [ -n "$h5pcc" ]; then as_user ln -s "$h5pcc" "$mod/bin/h5pcc"; fi
# pkg-config sees zlib and libyaml only (the module has no .pc file).
pc=$scratch/pkgconfig
as_user mkdir -p "$pc"
for m in zlib yaml-0.1; do
  f=$(pkg-config --variable=pcfiledir "$m" 2> /dev/null)/$m.pc
  [ -f "$f" ] && as_user cp "$f" "$pc/"
done
cat > "$scratch/build.sh" <<EOF
set -e
cd "$scratch"
tar xzf "$name.tar.gz"
mkdir build && cd build
# module load hdf5 (PATH, LD_LIBRARY_PATH), MPICC from the MPI module
export PATH="$mod/bin:\$PATH" LD_LIBRARY_PATH="$mod/lib" PKG_CONFIG_LIBDIR="$pc"
# -O0: this checks the build, not its speed (and compiles twice as fast)
../$name/configure --prefix="$scratch/prefix" MPICC="$mpicc" CFLAGS=-O0 > configure.log 2>&1
make -j"$(nproc)" > make.log 2>&1
make install > install.log 2>&1
EOF
chown "$user" "$scratch/build.sh"

start=$(date +%s)
as_user sh "$scratch/build.sh"; s=$?
ok $s "as $user ($(id -u "$user")): configure (MPICC, h5pcc on PATH), make, make install of $name"
[ $s -eq 0 ] || for f in configure make install; do
  tail -n 15 "$scratch/build/$f.log" 2> /dev/null | sed "s/^/#   $f: /" >&2
done
[ -n "$h5pcc" ] && grep -q "checking for h5pcc... $mod/bin/h5pcc" "$scratch/build/configure.log"
ok $? "  configure found HDF5 through the module's h5pcc"
[ -x "$scratch/prefix/bin/stdbp_train" ] &&
  [ -f "$scratch/prefix/lib/pkgconfig/stdbp.pc" ] && [ -d "$scratch/prefix/share/stdbp/configs" ] &&
  [ -z "$(find "$scratch/prefix" ! -user "$user" | head -n 1)" ]
ok $? "  installed under HOME, every file owned by $user"

bin=$scratch/prefix/bin
as_user LD_LIBRARY_PATH="$mod/lib" "$bin/stdbp_train" --help > "$scratch/help.out" 2>&1 &&
  grep -q "^Usage: .*stdbp_train CONFIG.yaml" "$scratch/help.out"
ok $? "  the installed stdbp_train --help"
cat > "$scratch/tiny.yaml" <<EOF
run: {name: tiny, seed: 1, dir: "$scratch/run"}
data: {train: "hdf5:$scratch/train.h5", test: "hdf5:$scratch/test.h5", val_samples: 20}
network: {layers: [{type: dense, out: 8}, {type: dense, out: 4}]}
train: {epochs: 1, batch: 20}
deploy: {enabled: false}
EOF
chown "$user" "$scratch/tiny.yaml"
as_user LD_LIBRARY_PATH="$mod/lib" OMP_NUM_THREADS=1 timeout 120 \
  "$(command -v "${MPIEXEC:-mpiexec}")" -n 1 "$bin/stdbp_train" "$scratch/tiny.yaml" \
  --progress log > "$scratch/train.out" 2>&1; s=$?
[ $s -eq 0 ] && ls "$scratch"/run/checkpoints/ckpt-*.h5 > /dev/null 2>&1 &&
  grep -Eq "^([0-9T:-]+ )?epoch 1/1:" "$scratch/train.out"
ok $? "  the installed stdbp_train trains 1 epoch on 1 rank ($s)"
[ $s -eq 0 ] || tail -n 15 "$scratch/train.out" | sed 's/^/#   /' >&2
as_user LD_LIBRARY_PATH="$mod/lib" "$bin/stdbp_sweep" --version > /dev/null 2>&1 &&
  [ -x "$bin/stdbp_plot" ]
ok $? "  the other installed programs run (stdbp_sweep --version, stdbp_plot)"

# configure alone: --with-hdf5=PREFIX (and MPICC), no h5pcc, no .pc file.
cat > "$scratch/with.sh" <<EOF
set -e
mkdir "$scratch/build2" && cd "$scratch/build2"
PKG_CONFIG_LIBDIR="$pc" ../$name/configure --prefix="$scratch/prefix2" \
  --with-hdf5="$h5" MPICC="$mpicc" > configure.log 2>&1
EOF
chown "$user" "$scratch/with.sh"
as_user sh "$scratch/with.sh" &&
  grep -q "checking whether H5Pset_fapl_mpio links... yes" "$scratch/build2/configure.log"
ok $? "configure --with-hdf5=$h5 MPICC=$mpicc as $user"
diag "the build, install and checks took $(($(date +%s) - start)) s"
tap_done
