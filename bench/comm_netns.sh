#!/bin/sh
# comm_netns.sh: run an MPI program over real TCP between two network
# namespaces on this machine, for the measurements in docs/SCALING.md
# (throwaway: the multi-node test script is separate). Needs root.
#
#   bench/comm_netns.sh [--rate RATE] [--per-node K] [--loopback] -- PROG ARGS...
#
# Makes namespaces scal-a and scal-b joined by a veth pair (scal-va, scal-vb)
# with 10.214.0.1/24 and 10.214.0.2/24, and nothing else: no route leaves
# them. mpirun runs in scal-a with K ranks (default 1) on each "node";
# Open MPI starts the daemon of the other node through a launch agent
# (plm_rsh_agent) that runs it under `ip netns exec`. Ranks talk through
# the tcp BTL only (no shared memory), on the veth addresses.
# --rate RATE   a tbf rate limit (tc syntax, e.g. 1gbit) on both veth ends
# --loopback    instead: every rank in scal-a, over its loopback (lo)
# Everything it made is removed on exit, also on failure or a signal.
# Environment: MPIEXEC (default mpiexec); OMPI_MCA_* pass through.
# -h, --help: print this help and exit.
case ${1:-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -eu
rate='' per=1 loop=0
while [ $# -gt 0 ]; do
  case $1 in
    --rate) rate=$2; shift 2 ;;
    --per-node) per=$2; shift 2 ;;
    --loopback) loop=1; shift ;;
    --) shift; break ;;
    *) echo "usage: $0 [--rate RATE] [--per-node K] [--loopback] -- PROG ARGS..." >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "$0: no program" >&2; exit 2; }
: "${MPIEXEC:=mpiexec}"
mpiexec_path=$(command -v "$MPIEXEC")
if ip netns list | grep -Eq '^scal-[ab]( |$)'; then
  echo "$0: namespace scal-a or scal-b exists already (another run?)" >&2
  exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scal-netns-XXXXXX")
cleanup() {
  ip netns del scal-a 2>/dev/null || true # takes the veth pair with it
  ip netns del scal-b 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
ip netns add scal-a
ip netns add scal-b
ip link add scal-va netns scal-a type veth peer name scal-vb netns scal-b
ip -n scal-a addr add 10.214.0.1/24 dev scal-va
ip -n scal-b addr add 10.214.0.2/24 dev scal-vb
for ns in scal-a scal-b; do ip -n "$ns" link set lo up; done
ip -n scal-a link set scal-va up
ip -n scal-b link set scal-vb up
if [ -n "$rate" ]; then
  ip netns exec scal-a tc qdisc add dev scal-va root tbf rate "$rate" burst 256kb latency 100ms
  ip netns exec scal-b tc qdisc add dev scal-vb root tbf rate "$rate" burst 256kb latency 100ms
fi
# The launch agent: called as AGENT [options] HOST COMMAND..., runs
# COMMAND in HOST's namespace.
cat > "$tmp/agent" <<'EOF'
#!/bin/sh
while [ $# -gt 0 ]; do case $1 in -*) shift ;; *) break ;; esac; done
host=$1; shift
case $host in
  10.214.0.1) ns=scal-a ;;
  10.214.0.2) ns=scal-b ;;
  *) echo "agent: unknown host $host" >&2; exit 1 ;;
esac
exec ip netns exec "$ns" /bin/sh -c "$*"
EOF
chmod +x "$tmp/agent"
if [ "$loop" = 1 ]; then
  ip netns exec scal-a "$mpiexec_path" -n "$per" --oversubscribe --bind-to none \
    --mca btl tcp,self --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo "$@"
else
  ip netns exec scal-a "$mpiexec_path" -n $((2 * per)) --oversubscribe --bind-to none \
    --host "10.214.0.1:$per,10.214.0.2:$per" --mca plm_rsh_agent "$tmp/agent" \
    --mca btl tcp,self --mca btl_tcp_if_include 10.214.0.0/24 \
    --mca oob_tcp_if_include 10.214.0.0/24 "$@"
  # the traffic went through the veth pair: its byte counters, to stderr
  ip -n scal-b -s link show scal-vb |
    awk '/RX:/ { getline; rx = $1 } /TX:/ { getline; tx = $1 }
         END { printf "comm_netns: scal-vb (node 2) received %s bytes, sent %s\n", rx, tx }' >&2
fi
