# TAP for shell tests: source it, then `plan N`, `ok COND-EXIT-STATUS NAME`
# (run a command: `check NAME -- CMD...`), `diag MSG`. The exit status is
# non-zero when a check failed.
tap_n=0
tap_failed=0
plan() { echo "1..$1"; }
diag() { echo "# $*" >&2; }
# ok STATUS NAME: pass when STATUS is 0.
ok() {
  tap_n=$((tap_n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"; else echo "not ok $tap_n - $2"; tap_failed=$((tap_failed + 1)); fi
}
# check NAME -- CMD...: pass when CMD succeeds.
check() {
  name=$1; shift; [ "$1" = -- ] && shift
  "$@"; ok $? "$name"
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
tap_done() { [ "$tap_failed" -eq 0 ]; }
# tap_tmpdir: a fresh directory in $tap_tmp, removed at exit (kept with
# STDBP_TEST_KEEP=1). Call it directly, not in $(...): the exit trap must
# belong to the test's own shell.
tap_tmpdir() {
  tap_tmp=$(mktemp -d "${TMPDIR:-/tmp}/stdbp-test-XXXXXX") || exit 99
  [ -n "${STDBP_TEST_KEEP:-}" ] || trap 'rm -rf "$tap_tmp"' EXIT
}

# wait_ckpt RUN_DIR [SECONDS]: up to SECONDS (default 30) for a first
# checkpoint in RUN_DIR. Any one file the glob finds will do: with a
# checkpoint every step, rotation removes older ones while we look, and
# `ls` of the whole list then fails although checkpoints exist.
has_ckpt() {
  for _hc_f in "$1"/checkpoints/ckpt-*.h5; do
    [ -e "$_hc_f" ] && return 0
  done
  return 1
}
wait_ckpt() {
  _wc_i=0
  while [ $_wc_i -lt $((${2:-30} * 10)) ] && ! has_ckpt "$1"; do
    sleep 0.1; _wc_i=$((_wc_i + 1))
  done
}

# last_ckpt RUN_DIR: the newest checkpoint in RUN_DIR (empty when none).
last_ckpt() { ls "$1"/checkpoints/ckpt-*.h5 2> /dev/null | tail -n 1; }
# same_ckpt A B: checkpoint files A and B hold bitwise the same weights
# and optimiser state (false when either name is empty).
same_ckpt() {
  [ -n "$1" ] && [ -n "$2" ] && h5diff -q "$1" "$2" /weights /weights > /dev/null 2>&1 &&
    h5diff -q "$1" "$2" /optimizer /optimizer > /dev/null 2>&1
}

# wait_gone PID [- [SECONDS]]: up to SECONDS (default 45: mpirun may take
# 20 s to pass a signal on) for PID to end, then SIGKILL it (with -, its
# whole process group; "" for PID alone): a hang fails the check, not the
# suite.
wait_gone() {
  _wg_i=0
  while [ $_wg_i -lt $((${3:-45} * 10)) ] && kill -0 "$1" 2> /dev/null; do
    sleep 0.1; _wg_i=$((_wg_i + 1))
  done
  kill -0 "$1" 2> /dev/null &&
    { diag "PID $1 still running after ${3:-45} s: SIGKILL"; env kill -KILL -- "${2:-}$1"; }
}

# synthetic_data DIR [N_TEST]: DIR/train.h5 (300 samples) and DIR/test.h5
# (N_TEST, default 100) of 8x8 images in 4 classes (tests/tools/gen_dataset).
synthetic_data() {
  "$top_builddir/tests/tools/gen_dataset" "$1/train.h5" 300 8 4 1 >/dev/null &&
  "$top_builddir/tests/tools/gen_dataset" "$1/test.h5" "${2:-100}" 8 4 2 >/dev/null
}

# small_mlp_config FILE NAME SEED HIDDEN LR EPOCHS BATCH [MORE_YAML]: a
# dense HIDDEN-4 network on synthetic_data in FILE's directory, 20
# validation samples, plus any further top-level YAML lines.
small_mlp_config() {
  _smc_dir=$(dirname "$1")
  cat > "$1" <<YAML
run: {name: $2, seed: $3}
data: {train: "hdf5:$_smc_dir/train.h5", test: "hdf5:$_smc_dir/test.h5", val_samples: 20}
network:
  layers:
    - {type: dense, out: $4}
    - {type: dense, out: 4}
optimizer: {kind: adam, lr: $5}
train: {epochs: $6, batch: $7}
${8:-}
YAML
}
