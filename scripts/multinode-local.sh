#!/bin/bash
# multinode-local.sh - a multi-node cluster on one machine: N network
# namespaces ("nodes") joined by veth pairs to a bridge in a hub namespace,
# so that Open MPI ranks on different nodes talk over real TCP (shared
# memory only within a node), and an rsh agent (scripts/netns-agent) that
# starts Open MPI's orted inside a node's namespace instead of over ssh.
#
# Usage (as root):
#   scripts/multinode-local.sh start  [--nodes N] [--rate R]  (N: 2..32, default 2)
#   scripts/multinode-local.sh status
#   scripts/multinode-local.sh run [--ranks-per-node K] -- MPIRUN-ARGS...
#   scripts/multinode-local.sh stop
# Every command also takes --prefix P (default $MULTINODE_PREFIX, else
# "stdbp-"): the namespaces are P"hub" and P"node0" .. P"node<N-1>", and a
# node's hostname (inside it) is its namespace's name.
#
#   start   makes the namespaces, the links and the addresses; idempotent: on
#           a complete cluster of N nodes it only applies --rate; what a
#           half-failed start left is removed first.
#           --rate R   a token-bucket rate limit (tc tbf) on both directions
#                      of every node's link, e.g. 1gbit, 100mbit; "none"
#                      removes it. Latency cannot be added (no sch_netem).
#   run     runs mpirun (MPIEXEC, default mpiexec) inside node 0's namespace,
#           with hostname P"node0", over all nodes, K slots each (default
#           2), with the options that force TCP between nodes: pml ob1, btl
#           self,vader,tcp on the nodes' eth0; binding off and, with more
#           slots than cores, mpi_yield_when_idle (all nodes share this
#           machine's cores). MPIRUN-ARGS follow them (e.g. -n 4 PROG).
#   status  the nodes, their addresses, rate limits, byte counters and the
#           processes inside; exit 0 when a complete cluster is up, 3 when
#           none, 1 when half.
#   stop    ends the processes inside the namespaces (by their pids: ip netns
#           pids) and removes the namespaces, which removes their links;
#           safe after a failed start and when nothing is up.
#
# Addresses: node i is MULTINODE_SUBNET.(i+1)/24 (default 10.213.16) on its
# eth0, and those addresses exist only inside the node namespaces: nothing
# is added to this machine's own namespace, the nodes have no default route
# and the hub does not route (a plain bridge), so no traffic leaves the
# cluster. IPv6 is off inside the namespaces.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
AGENT=$HERE/netns-agent
PREFIX=${MULTINODE_PREFIX:-stdbp-}
SUBNET=${MULTINODE_SUBNET:-10.213.16}
NODES=2
RATE=
K=2

log() { echo "[multinode-local] $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}
# The header above: on stdout for --help, on stderr (exit 2) for no command.
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

cmd=${1:-}
[ -n "$cmd" ] || { usage >&2; exit 2; }
shift
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) NODES=${2:-}; shift 2 ;;
    --nodes=*) NODES=${1#*=}; shift ;;
    --rate) RATE=${2:-}; shift 2 ;;
    --rate=*) RATE=${1#*=}; shift ;;
    --prefix) PREFIX=${2:-}; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --ranks-per-node) K=${2:-}; shift 2 ;;
    --ranks-per-node=*) K=${1#*=}; shift ;;
    --) shift; break ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

case $cmd in start | stop | status | run) ;; -h | --help | help) usage; exit 0 ;; *) die "unknown command '$cmd' (start, stop, status, run)" ;; esac
case $NODES in [2-9] | [12][0-9] | 3[0-2]) ;; *) die "--nodes $NODES: give 2..32" ;; esac
case $K in [1-9] | [1-9][0-9]) ;; *) die "--ranks-per-node $K: give 1..99" ;; esac
# Namespace names become file names under /run/netns and hostnames.
[[ $PREFIX =~ ^[a-z][a-z0-9-]{0,40}$ ]] || die "--prefix '$PREFIX': lower-case letters, digits and '-' only"
# Only private IPv4 ranges.
[[ $SUBNET =~ ^(10\.[0-9]{1,3}|172\.(1[6-9]|2[0-9]|3[01])|192\.168)\.[0-9]{1,3}$ ]] ||
  die "MULTINODE_SUBNET=$SUBNET: give the first three octets of a private /24 (10.x.y, 172.16-31.y, 192.168.y)"
[ "$(id -u)" = 0 ] || die "must run as root (ip netns)"
command -v ip > /dev/null || die "ip (iproute2) not installed"
command -v unshare > /dev/null || die "unshare (util-linux) not installed"

HUB=${PREFIX}hub
node() { echo "${PREFIX}node$1"; }
addr() { echo "$SUBNET.$(($1 + 1))"; }
# our namespaces (nodes first, then the hub)
ours() {
  ip netns list 2> /dev/null | cut -d' ' -f1 | grep -E "^${PREFIX}node[0-9]+\$" | sort -V
  ip netns list 2> /dev/null | cut -d' ' -f1 | grep -xF "$HUB"
}
n_nodes() { ip netns list 2> /dev/null | cut -d' ' -f1 | grep -cE "^${PREFIX}node[0-9]+\$"; }
has_ns() { ip netns list 2> /dev/null | cut -d' ' -f1 | grep -qxF "$1"; }

# complete N: a hub with its bridge and nodes 0..N-1 with their address, up.
complete() {
  local i n=$1
  has_ns "$HUB" && ip -n "$HUB" link show br0 > /dev/null 2>&1 || return 1
  [ "$(n_nodes)" = "$n" ] || return 1
  for ((i = 0; i < n; i++)); do
    ip -n "$(node $i)" -4 addr show dev eth0 up 2> /dev/null | grep -q "inet $(addr $i)/24" || return 1
    ip -n "$HUB" link show "p$i" up > /dev/null 2>&1 || return 1
  done
}

teardown() {
  local ns pids p
  for ns in $(ours); do
    pids=$(ip netns pids "$ns" 2> /dev/null | tr '\n' ' ')
    if [ -n "${pids// /}" ]; then
      log "$ns: ending processes $pids"
      # shellcheck disable=SC2086
      kill -TERM $pids 2> /dev/null
      for _ in $(seq 1 50); do
        [ -z "$(ip netns pids "$ns" 2> /dev/null)" ] && break
        sleep 0.1
      done
      pids=$(ip netns pids "$ns" 2> /dev/null | tr '\n' ' ')
      for p in $pids; do kill -KILL "$p" 2> /dev/null; done
    fi
    ip netns del "$ns" || log "WARNING: could not remove namespace $ns"
  done
}

# tc's rate units (SI, as tc reads them) to bit/s; empty when not understood
rate_bits() {
  awk -v r="$1" 'BEGIN {
    if (match(r, /^[0-9]+(\.[0-9]+)?/) == 0) exit
    v = substr(r, 1, RLENGTH); u = substr(r, RLENGTH + 1)
    m["bit"] = 1; m["kbit"] = 1e3; m["mbit"] = 1e6; m["gbit"] = 1e9; m["tbit"] = 1e12
    if (!(u in m) || v * m[u] < 8000) exit
    printf "%.0f\n", v * m[u] }'
}
# apply_rate N R: tbf on every link end (node egress and hub egress), or
# remove it (R = none or empty with no previous one).
apply_rate() {
  local i n=$1 r=$2 bits burst
  for ((i = 0; i < n; i++)); do
    tc -n "$(node $i)" qdisc del dev eth0 root 2> /dev/null
    tc -n "$HUB" qdisc del dev "p$i" root 2> /dev/null
  done
  [ "$r" = none ] && {
    log "rate limit removed"
    return 0
  }
  bits=$(rate_bits "$r")
  [ -n "$bits" ] || {
    log "ERROR: --rate $r: give e.g. 1gbit, 100mbit, 500kbit (at least 8kbit), or none"
    return 1
  }
  # burst: 1 ms at the rate, at least 16 KiB (several full-size frames)
  burst=$((bits / 8000))
  [ $burst -ge 16384 ] || burst=16384
  for ((i = 0; i < n; i++)); do
    tc -n "$(node $i)" qdisc replace dev eth0 root tbf rate "$r" burst "$burst" latency 50ms &&
      tc -n "$HUB" qdisc replace dev "p$i" root tbf rate "$r" burst "$burst" latency 50ms || {
      log "ERROR: tc tbf on node $i's link failed"
      return 1
    }
  done
  log "rate limit $r (tbf, burst $burst bytes) on both directions of every link"
}

proc_off() { # NS FILE VALUE: write a sysctl inside NS, if it exists there
  ip netns exec "$1" sh -c "[ ! -w $2 ] || echo $3 > $2"
}

start() {
  local i n ns have
  have=$(n_nodes)
  if complete "$NODES"; then
    log "already up: $NODES nodes ($(node 0) .. $(node $((NODES - 1))))"
    [ -z "$RATE" ] || apply_rate "$NODES" "$RATE" || exit 1
    return 0
  fi
  if [ "$have" -gt 0 ] && complete "$have"; then
    die "already up with $have nodes, not $NODES: run '$0 stop${PREFIX:+ --prefix $PREFIX}' first"
  fi
  if [ -n "$(ours)" ]; then
    log "removing what an earlier start left: $(ours | tr '\n' ' ')"
    teardown
  fi
  trap 'log "start failed (line $LINENO): removing what it made"; teardown; exit 1' ERR
  set -E
  ip netns add "$HUB"
  proc_off "$HUB" /proc/sys/net/ipv6/conf/all/disable_ipv6 1
  proc_off "$HUB" /proc/sys/net/ipv6/conf/default/disable_ipv6 1
  ip -n "$HUB" link set lo up
  ip -n "$HUB" link add br0 type bridge
  ip -n "$HUB" link set br0 up
  for ((i = 0; i < NODES; i++)); do
    ns=$(node $i)
    ip netns add "$ns"
    proc_off "$ns" /proc/sys/net/ipv6/conf/all/disable_ipv6 1
    proc_off "$ns" /proc/sys/net/ipv6/conf/default/disable_ipv6 1
    proc_off "$ns" /proc/sys/net/ipv4/ip_forward 0
    ip -n "$ns" link set lo up
    # made inside the hub, its peer inside the node: neither end ever
    # appears in this machine's own namespace
    ip -n "$HUB" link add "p$i" type veth peer name eth0 netns "$ns"
    ip -n "$HUB" link set "p$i" master br0
    ip -n "$HUB" link set "p$i" up
    ip -n "$ns" addr add "$(addr $i)/24" dev eth0
    ip -n "$ns" link set eth0 up
  done
  set +E
  trap - ERR
  # Every node reaches node 0: a TCP connect to a closed port there is
  # refused at once when the link works, and times out when not.
  for ((i = 1; i < NODES; i++)); do
    out=$(timeout 5 ip netns exec "$(node $i)" bash -c "exec 3<>/dev/tcp/$(addr 0)/9" 2>&1)
    case $out in *refused*) ;; *)
      teardown
      die "node $i does not reach node 0 at $(addr 0): ${out:-timed out}"
      ;;
    esac
  done
  [ -z "$RATE" ] || apply_rate "$NODES" "$RATE" || {
    teardown
    exit 1
  }
  for ((i = 0; i < NODES; i++)); do log "$(node $i): $(addr $i)/24 on eth0"; done
  log "up: $NODES nodes on bridge br0 in $HUB; now: $0 run${PREFIX:+ --prefix $PREFIX} -- -n $((NODES * 2)) PROGRAM"
}

status() {
  local i n ns
  if [ -z "$(ours)" ]; then
    echo "no namespaces with prefix '$PREFIX'"
    return 3
  fi
  n=$(n_nodes)
  for ns in $(ours); do
    echo "== $ns: processes: $(ip netns pids "$ns" 2> /dev/null | wc -l)"
    if [ "$ns" = "$HUB" ]; then
      ip -n "$ns" -br link show 2> /dev/null | sed 's/^/   /'
    else
      ip -n "$ns" -br -4 addr show 2> /dev/null | sed 's/^/   /'
      ip -n "$ns" -s link show eth0 2> /dev/null | sed -n '3,6p' | sed 's/^/   /'
    fi
    tc -n "$ns" qdisc show 2> /dev/null | grep tbf | sed 's/^/   /'
  done
  if complete "$n"; then
    echo "up: $n nodes"
    return 0
  fi
  echo "incomplete (a failed start?): '$0 stop' removes it"
  return 1
}

run() {
  local n i hosts=""
  n=$(n_nodes)
  [ "$n" -gt 0 ] && complete "$n" || die "no complete cluster with prefix '$PREFIX': $0 start first"
  for ((i = 0; i < n; i++)); do hosts="$hosts${hosts:+,}$(node $i):$K"; done
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  # The nodes share this machine's cores, which Open MPI cannot see (each
  # node offers K slots): when there are more slots than cores, waiting
  # ranks must yield, as Open MPI has them do on an oversubscribed node,
  # or a busy-polling rank holds the core its peer needs (a 2x2 run on 2
  # cores took 60 s instead of 11 s).
  if [ $((n * K)) -gt "$(nproc)" ]; then
    set -- --mca mpi_yield_when_idle 1 "$@"
  fi
  # shellcheck disable=SC2016
  exec ip netns exec "$(node 0)" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$(node 0)" \
    "${MPIEXEC:-mpiexec}" --host "$hosts" \
    --mca plm_rsh_agent "$AGENT" \
    --mca pml ob1 --mca btl self,vader,tcp \
    --mca btl_tcp_if_include eth0 --mca oob_tcp_if_include eth0 \
    --bind-to none "$@"
}

case $cmd in
  start) start ;;
  stop)
    if [ -z "$(ours)" ]; then
      log "nothing to stop (prefix '$PREFIX')"
    else
      teardown
      log "removed"
    fi
    [ -z "$(ours)" ]
    ;;
  status) status ;;
  run) run "$@" ;;
esac
