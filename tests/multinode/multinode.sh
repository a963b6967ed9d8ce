#!/bin/bash
# Multi-node training on one machine (make check-multinode; not part of
# make check): two "nodes" as network namespaces joined through a bridge
# (scripts/multinode-local.sh), Open MPI started inside node 0 and, through
# scripts/netns-agent, inside node 1. Checks that
#  - start makes the namespaces, is idempotent, and puts no address, link
#    or route into this machine's own namespace;
#  - 2 nodes x 2 ranks train a small network (synthetic data) to the end,
#    with ranks on both nodes, messages between nodes over TCP (the BTL
#    selection Open MPI reports, btl_base_verbose) and within a node over
#    shared memory (vader), and bytes on the nodes' links;
#  - the final weights and optimiser state are bitwise equal to a 1-rank
#    run (h5diff), with the update through each node's shared memory (the
#    default) and through MPI collectives only (STDBP_SHARED_UPDATE=off);
#  - a rate limit (--rate, tc tbf) lands on every link end;
#  - stop removes every namespace, also what a half-failed start left, and
#    a start that fails half way removes what it made.
# Needs root, ip (iproute2), unshare and h5diff; skipped otherwise. The
# namespaces have a prefix of their own (stdbp-t<PID>-) and are always
# removed at the end. About 20 s. STDBP_TEST_KEEP=1 keeps the directory.
set -u
: "${top_srcdir:?run through make check-multinode}" "${top_builddir:?run through make check-multinode}"
. "$top_srcdir/tests/tap/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null || skip_all "ip (iproute2) not installed"
command -v unshare >/dev/null || skip_all "unshare (util-linux) not installed"
command -v h5diff >/dev/null || skip_all "h5diff (hdf5-tools) not installed"
prefix=stdbp-t$$-
ip netns add "${prefix}probe" 2>/dev/null && ip netns del "${prefix}probe" ||
  skip_all "ip netns add fails here (no network namespaces in this container)"
plan 18

export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
T0=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stdbp-multinode-XXXXXX") || exit 99
mn() { "$top_srcdir/scripts/multinode-local.sh" "$@" --prefix "$prefix"; }
ours() { ip netns list | cut -d' ' -f1 | grep -E "^$prefix(hub|node[0-9]+)\$" | sort | tr '\n' ' '; }
cleanup() {
  mn stop >>"$tmp/stop.log" 2>&1
  if [ -n "${STDBP_TEST_KEEP:-}" ]; then diag "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
phase() { diag "$(($(date +%s) - T0))s: $*"; }
show() { for f in "$@"; do [ -f "$f" ] && { diag "---- $f"; tail -n 25 "$f" | sed 's/^/#   /' >&2; }; done; }
subnet=${MULTINODE_SUBNET:-10.213.16}
bin=$top_builddir/src/cli/stdbp_train
last() { ls "$1"/checkpoints/ckpt-*.h5 2>/dev/null | tail -n 1; }
bytes() { # RX+TX bytes of NS's eth0
  ip -n "$1" -s link show eth0 | awk 'f { s += $1; f = 0 } /RX:|TX:/ { f = 1 } END { print s + 0 }'
}

# ------------------------------------------------------------------ start
links_before=$(ip -o link show | wc -l)
mn start --nodes 2 >"$tmp/start.log" 2>&1
status=$?
ok $status "start: two nodes (scripts/multinode-local.sh start --nodes 2)"
if [ $status -ne 0 ]; then
  show "$tmp/start.log"
  echo "Bail out! no cluster"
  exit 1
fi
want="${prefix}hub ${prefix}node0 ${prefix}node1 "
[ "$(ours)" = "$want" ]
ok $? "start makes the namespaces hub, node0, node1 (got: $(ours))"
mn start --nodes 2 >>"$tmp/start.log" 2>&1 && [ "$(ours)" = "$want" ] &&
  grep -q 'already up' "$tmp/start.log"
ok $? "start again: exit 0, the same namespaces (idempotent)"
! ip -4 addr show | grep -qF "inet $subnet." &&
  [ "$(ip -o link show | wc -l)" = "$links_before" ] &&
  ! ip route show | grep -qF "$subnet."
ok $? "no address, link or route of the cluster in this machine's own namespace"
[ -z "$(ip -n "${prefix}node1" route show default)" ] &&
  [ "$(ip -n "${prefix}node1" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | tr '\n' ' ')" = "lo eth0 " ] &&
  ip -n "${prefix}node1" -4 -o addr show dev eth0 | grep -qF "inet $subnet.2/24"
ok $? "node1 has lo and eth0 ($subnet.2/24) only, and no default route"

# ------------------------------------------------------------------ training
synthetic_data "$tmp"
ok $? "synthetic data set written"
# 280 training samples, global batch 24 (6 per rank on 4 ranks), 2 epochs
small_mlp_config "$tmp/cfg.yaml" multinode 7 24 0.003 2 24 "checkpoint: {keep: 1}
deploy: {enabled: false}"
phase "1 rank"
"$top_srcdir/tests/mpirun.sh" 1 "$bin" "$tmp/cfg.yaml" --quiet --no-deploy \
  --set run.dir="$tmp/p1" >"$tmp/p1.out" 2>&1 || show "$tmp/p1.out"
ref=$(last "$tmp/p1")

phase "2 nodes x 2 ranks"
b0=$(bytes "${prefix}node1")
timeout -k 10 300 "$top_srcdir/scripts/multinode-local.sh" run --prefix "$prefix" \
  --ranks-per-node 2 -- -n 4 --mca btl_base_verbose 100 \
  "$bin" "$tmp/cfg.yaml" --progress log --no-deploy --set run.dir="$tmp/mn" >"$tmp/mn.out" 2>&1
status=$?
b1=$(bytes "${prefix}node1")
ok $status "2 nodes x 2 ranks train to the end (exit status $status)"
[ $status = 0 ] || show "$tmp/mn.out"
got=$(last "$tmp/mn")
[ -n "$ref" ] && [ -n "$got" ] &&
  h5diff -q "$ref" "$got" /weights /weights >/dev/null 2>&1 &&
  h5diff -q "$ref" "$got" /optimizer /optimizer >/dev/null 2>&1
ok $? "final weights and optimiser state bitwise equal to the 1-rank run (${got##*/})"
tr -s ' \n' ' ' <"$tmp/mn.out" | grep -q "update in each node's shared memory (2 nodes)"
ok $? "the update went through each node's shared memory (said at the start)"
# The same through MPI collectives only (reduce-scatter, all-gather over
# all four ranks): the same bits.
STDBP_SHARED_UPDATE=off timeout -k 10 300 "$top_srcdir/scripts/multinode-local.sh" run \
  --prefix "$prefix" --ranks-per-node 2 -- -n 4 -x STDBP_SHARED_UPDATE \
  "$bin" "$tmp/cfg.yaml" --progress log --no-deploy --set run.dir="$tmp/mc" >"$tmp/mc.out" 2>&1
got=$(last "$tmp/mc")
[ -n "$ref" ] && [ -n "$got" ] && ! grep -q "shared memory" "$tmp/mc.out" &&
  h5diff -q "$ref" "$got" /weights /weights >/dev/null 2>&1 &&
  h5diff -q "$ref" "$got" /optimizer /optimizer >/dev/null 2>&1
ok $? "STDBP_SHARED_UPDATE=off (collectives only): bitwise equal to the 1-rank run too"
[ -n "$got" ] || show "$tmp/mc.out"

# Open MPI's BTL choice per peer: "[HOST:PID] mca: bml: Using B btl for
# send to [[JOB,1],R] on node PEERHOST".
grep 'bml: Using ' "$tmp/mn.out" |
  sed -n 's/^\[\([^:]*\):.*bml: Using \([a-z]*\) btl for send to .* on node \([^ ]*\).*/\1 \2 \3/p' \
    >"$tmp/btl.txt"
cut -d' ' -f1 "$tmp/btl.txt" | sort -u | tr '\n' ' ' >"$tmp/hosts.txt"
[ "$(cat "$tmp/hosts.txt")" = "${prefix}node0 ${prefix}node1 " ]
ok $? "ranks ran on both nodes, each under its own hostname ($(cat "$tmp/hosts.txt"))"
awk '$1 != $3 { n++; if ($2 != "tcp") bad++ } END { exit !(n > 0 && bad == 0) }' "$tmp/btl.txt"
ok $? "every message between nodes goes over TCP ($(awk '$1 != $3' "$tmp/btl.txt" | wc -l) peer pairs, all tcp)"
awk '$1 == $3 && $2 != "self" { n[$1]++; if ($2 != "vader") bad++ } END { exit !(length(n) == 2 && bad == 0) }' "$tmp/btl.txt"
ok $? "within a node, messages go over shared memory (vader) on both nodes"
[ $((b1 - b0)) -gt 20000 ]
ok $? "node1's link carried the traffic ($((b1 - b0)) bytes during the run)"
[ $tap_failed -eq 0 ] || { diag "BTL choices:"; sed 's/^/#   /' "$tmp/btl.txt" >&2; }

# ------------------------------------------------------------------ rate
mn start --nodes 2 --rate 1gbit >>"$tmp/start.log" 2>&1 &&
  [ "$(mn status 2>/dev/null | grep -c 'tbf .*rate 1Gbit')" = 4 ]
ok $? "--rate 1gbit: a tbf qdisc on all four link ends"

# ------------------------------------------------------------------ stop
phase "stop"
mn stop >>"$tmp/stop.log" 2>&1 && [ -z "$(ours)" ]
ok $? "stop removes every namespace it made (left: $(ours))"
# what a start that failed half way leaves: a hub without its bridge, one
# node without links
ip netns add "${prefix}hub" && ip netns add "${prefix}node1"
mn status >/dev/null 2>&1
st=$?
mn stop >>"$tmp/stop.log" 2>&1 && [ -z "$(ours)" ] && [ $st = 1 ]
ok $? "after a half-failed start: status says incomplete (exit $st), stop removes it"
# a start that fails half way (here: node1's address) removes what it made
mkdir -p "$tmp/fake"
printf '#!/bin/sh\ncase "$*" in *"addr add %s.2/"*) exit 2 ;; esac\nexec %s "$@"\n' \
  "$subnet" "$(command -v ip)" >"$tmp/fake/ip"
chmod +x "$tmp/fake/ip"
PATH=$tmp/fake:$PATH mn start --nodes 2 >>"$tmp/start.log" 2>&1
st=$?
[ $st -ne 0 ] && [ -z "$(ours)" ]
ok $? "a start that fails half way exits non-zero ($st) and leaves nothing (left: $(ours))"
phase "done"
tap_done
