#!/bin/bash
# slurm-local-start.sh - a REAL one-node SLURM cluster (munged, slurmctld,
# slurmd) for stdbp's tests and for trying the job scripts, as root, without
# systemd, with every file under one directory. Written for Debian 12
# (slurm-wlm 22.05, munge 0.5.15, Open MPI 4.1).
#
# Usage:  scripts/slurm-local-start.sh [DIR]       then:  source DIR/env.sh
#         scripts/slurm-local-stop.sh  [DIR]       (always, also after a failure)
# DIR defaults to $SLURM_LOCAL_DIR, else ${TMPDIR:-/tmp}/stdbp-slurm. Its
# contents are replaced. Knobs (environment, all optional):
#   SLURM_LOCAL_CPUS      pretend the node has this many CPUs (e.g. 8, so that
#                         several 2-task jobs run at once on a 2-core machine)
#   SLURM_LOCAL_PORT      slurmctld port; slurmd uses the next one (default:
#                         the first free pair from 6817 on, so that two
#                         clusters on one machine do not collide)
#   SLURM_LOCAL_TIMEOUT   seconds to wait for the node to become idle (60)
#   SLURM_LOCAL_INSTALL=1 apt-get install the packages when missing
# Prints "SLURM_LOCAL_DIR=DIR" on stdout when the node is idle.
#
# What matters: munge's socket directory must
# be 0755 and its key 0600; SlurmctldHost must be this machine's short
# hostname, given as host(127.0.0.1); slurmd starts with -N that name;
# AuthInfo names our private munge socket; cred_expire=10 makes a requeued
# job start again after ~15 s instead of 120 s; a faked larger node needs
# SlurmdParameters=config_overrides. The daemons write pid files under
# DIR/run, which the stop script uses (no pkill).
# -h, --help: print this help and exit.
case ${1:-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
set -euo pipefail

D=${1:-${SLURM_LOCAL_DIR:-${TMPDIR:-/tmp}/stdbp-slurm}}
case $D in /*) ;; *) D=$PWD/$D ;; esac
HOST=$(hostname -s)
TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}
HERE=$(cd "$(dirname "$0")" && pwd)

log() { echo "[slurm-local-start] $*" >&2; }
die() {
  log "ERROR: $*"
  for f in "$D/munge/munged.log" "$D/log/slurmctld.log" "$D/log/slurmd.log"; do
    [ -f "$f" ] && { echo "----- tail $f" >&2; tail -n 30 "$f" >&2; }
  done
  # tear down whatever did start (by pid file); keep the logs
  if [ -d "$D" ]; then SLURM_LOCAL_KEEP=1 "$HERE/slurm-local-stop.sh" "$D" || true; fi
  exit 1
}
pid_dead() { [ -s "$1" ] && ! kill -0 "$(cat "$1")" 2>/dev/null; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

[ "$(id -u)" = 0 ] || die "must run as root (SlurmUser=root, munged as root)"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
   ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  if [ "${SLURM_LOCAL_INSTALL:-0}" = 1 ]; then
    log "installing slurmctld slurmd slurm-client munge"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      slurmctld slurmd slurm-client munge >&2
  else
    die "slurmctld, slurmd, sbatch or munged missing: apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge (or SLURM_LOCAL_INSTALL=1)"
  fi
fi
for f in "$D/munge/munged.pid" "$D/run/slurmctld.pid" "$D/run/slurmd.pid"; do
  if [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then
    log "ERROR: $f: pid $(cat "$f") still runs: run scripts/slurm-local-stop.sh $D first"
    exit 1
  fi
done

if [ -n "${SLURM_LOCAL_PORT:-}" ]; then
  CTLD_PORT=$SLURM_LOCAL_PORT
else
  CTLD_PORT=6817
  while port_busy "$CTLD_PORT" || port_busy $((CTLD_PORT + 1)); do
    CTLD_PORT=$((CTLD_PORT + 2))
    [ "$CTLD_PORT" -lt 6917 ] || die "no free port pair in 6817..6916"
  done
fi
SLURMD_PORT=$((CTLD_PORT + 1))
trap 'die "command failed (line $LINENO)"' ERR

# munged refuses a socket below a directory that is not world-executable
# (mktemp -d makes 0700 directories).
p=$(dirname "$D")
while [ "$p" != / ]; do
  if [ -d "$p" ] && [ -z "$(find "$p" -maxdepth 0 -perm -o+x)" ]; then
    die "munged needs every directory above its socket to be world-executable: chmod o+x $p"
  fi
  p=$(dirname "$p")
done

T0=$(date +%s.%N)
rm -rf "$D"
mkdir -p "$D"/{munge,etc,state,spool,log,run}
chmod 0755 "$D" "$D/munge"

# ---------------------------------------------------------------- munge
mungekey --create --keyfile="$D/munge/munge.key"
chmod 0600 "$D/munge/munge.key"
munged --socket="$D/munge/munge.socket.2" --key-file="$D/munge/munge.key" \
       --log-file="$D/munge/munged.log" --pid-file="$D/munge/munged.pid" \
       --seed-file="$D/munge/munged.seed" --origin=127.0.0.1 || die "munged failed to start"
munge -S "$D/munge/munge.socket.2" -n | unmunge -S "$D/munge/munge.socket.2" >/dev/null \
  || die "munge round-trip failed"

# ---------------------------------------------------------------- slurm.conf
HW=$(slurmd -C | head -n1)
hw() { echo "$HW" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
NODE_HW="CPUs=$(hw CPUs) Boards=$(hw Boards) SocketsPerBoard=$(hw SocketsPerBoard) CoresPerSocket=$(hw CoresPerSocket) ThreadsPerCore=$(hw ThreadsPerCore)"
MEM=$(hw RealMemory)
SLURMD_PARAMS=""
if [ -n "${SLURM_LOCAL_CPUS:-}" ]; then
  NODE_HW="CPUs=$SLURM_LOCAL_CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$SLURM_LOCAL_CPUS ThreadsPerCore=1"
  SLURMD_PARAMS="SlurmdParameters=config_overrides"
fi

cat > "$D/etc/slurm.conf" <<EOF
# generated by stdbp scripts/slurm-local-start.sh
ClusterName=stdbpci
SlurmctldHost=${HOST}(127.0.0.1)
SlurmctldPort=${CTLD_PORT}
SlurmdPort=${SLURMD_PORT}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${D}/munge/munge.socket.2,cred_expire=10
SlurmUser=root
SlurmdUser=root
StateSaveLocation=${D}/state
SlurmdSpoolDir=${D}/spool
SlurmctldPidFile=${D}/run/slurmctld.pid
SlurmdPidFile=${D}/run/slurmd.pid
SlurmctldLogFile=${D}/log/slurmctld.log
SlurmdLogFile=${D}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=${D}/log/jobcomp.txt
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
MailProg=/bin/true
ReturnToService=2
KillWait=5
MinJobAge=600
InactiveLimit=0
${SLURMD_PARAMS}
NodeName=${HOST} NodeAddr=127.0.0.1 NodeHostname=${HOST} ${NODE_HW} RealMemory=${MEM} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

export SLURM_CONF="$D/etc/slurm.conf"
cat > "$D/env.sh" <<EOF
# source this to talk to the local cluster in $D
export SLURM_CONF=$D/etc/slurm.conf
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
EOF

# ---------------------------------------------------------------- daemons
slurmctld -f "$SLURM_CONF" -c -i || die "slurmctld failed to start"
for _ in $(seq 1 $((TIMEOUT * 5))); do
  scontrol ping 2>/dev/null | grep -q 'is UP' && break
  pid_dead "$D/run/slurmctld.pid" && die "slurmctld exited during start-up"
  sleep 0.2
done
scontrol ping 2>/dev/null | grep -q 'is UP' || die "slurmctld did not answer within ${TIMEOUT}s"

mkdir -p "$D/spool"
slurmd -f "$SLURM_CONF" -N "$HOST" || die "slurmd failed to start"
STATE=""
for _ in $(seq 1 $((TIMEOUT * 5))); do
  STATE=$(sinfo -h -n "$HOST" -o '%T' 2>/dev/null || true)
  [ "$STATE" = idle ] && break
  pid_dead "$D/run/slurmd.pid" && die "slurmd exited during start-up"
  sleep 0.2
done
[ "$STATE" = idle ] || die "node $HOST is '$STATE', not idle, after ${TIMEOUT}s"

log "cluster up in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s: node $HOST, ports $CTLD_PORT/$SLURMD_PORT, munged $(cat "$D/munge/munged.pid"), slurmctld $(cat "$D/run/slurmctld.pid"), slurmd $(cat "$D/run/slurmd.pid")"
log "now: source $D/env.sh"
echo "SLURM_LOCAL_DIR=$D"
