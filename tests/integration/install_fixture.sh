# Shared by tests/integration/examples.sh and python.sh (sourced after
# tap.sh and tap_tmpdir): a scratch install of the build and a small
# trained run to use it on.
#
# scratch_install DIR: make install DESTDIR=DIR. Sets inst_libdir,
# inst_includedir (where the files landed) and inst_pc (stdbp.pc's
# directory) from the installed stdbp.pc.
scratch_install() {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" install DESTDIR="$1" \
    > "$1.log" 2>&1 || { sed 's/^/# /' "$1.log" >&2; return 1; }
  _si_pc=$(find "$1" -name stdbp.pc | head -n 1)
  [ -n "$_si_pc" ] || return 1
  inst_pc=$(dirname "$_si_pc")
  inst_libdir=$1$(PKG_CONFIG_PATH=$inst_pc pkg-config --variable=libdir stdbp)
  inst_includedir=$1$(PKG_CONFIG_PATH=$inst_pc pkg-config --variable=includedir stdbp)
  [ -e "$inst_libdir/libstdbp.so" ] && [ -e "$inst_includedir/stdbp/stdbp.h" ]
}
# stdbp_pc ARGS...: pkg-config on the scratch install's stdbp.pc, its
# libdir and includedir moved under DESTDIR.
stdbp_pc() {
  PKG_CONFIG_PATH=$inst_pc pkg-config --define-variable=libdir="$inst_libdir" \
    --define-variable=includedir="$inst_includedir" "$@" stdbp
}
# train_small DIR: a trained run in DIR/run: configs/smoke.yaml on MNIST
# when the data is there ($STDBP_DATA or the source tree's data/), else
# a small MLP on synthetic 8x8 images. Sets run_dir, ckpt, data_dir.
train_small() {
  data_dir=${STDBP_DATA:-$top_srcdir/data}
  run_dir=$1/run
  if ls "$data_dir"/mnist/train-images-idx3-ubyte* > /dev/null 2>&1; then
    cp "$top_srcdir/configs/smoke.yaml" "$1/small.yaml"
  else
    synthetic_data "$1" 60 || return 1
    small_mlp_config "$1/small.yaml" small 3 24 0.003 2 25 \
      "spikes: {samples: 6}
deploy: {bits: [8], time_steps: 64, samples: 20}"
  fi
  "$top_srcdir/tests/mpirun.sh" 1 "$top_builddir/src/cli/stdbp_train" "$1/small.yaml" --quiet \
    --set run.dir="$run_dir" --set data.dir="$data_dir" > "$1/train.log" 2>&1 ||
    { sed 's/^/# /' "$1/train.log" >&2; return 1; }
  ckpt=$(ls "$run_dir"/checkpoints/ckpt-*.h5 2> /dev/null | tail -n 1)
  [ -n "$ckpt" ]
}
