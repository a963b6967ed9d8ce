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
