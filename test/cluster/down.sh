#!/usr/bin/env bash
# test/cluster/down.sh - stop what cluster-up.sh started, by the PIDs in its pid files only.
#   --purge   also forget all state: Slurm job state + spool, the accounting DB, logs (next start is fresh)
set -uo pipefail
LAB=${LAB_DIR:-${TMPDIR:-/tmp}/pilot-test-cluster}
PURGE=0; [ "${1:-}" = "--purge" ] && PURGE=1
log() { printf '[cluster-down] %s\n' "$*" >&2; }

. "$(dirname "$0")/lib.sh"
stop() {  # stop NAME PIDFILE EXE
  local name=$1 pf=$2 exe=$3 pid i
  if alive "$pf" "$exe"; then
    pid=$(cat "$pf"); local t0=$(date +%s%N)
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 200); do gone "$pid" && break; sleep 0.1; done
    if ! gone "$pid"; then log "$name ($pid) ignored TERM, sending KILL"; kill -KILL "$pid" 2>/dev/null; sleep 0.5; fi
    log "stopped $name ($pid) in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  fi
  rm -f "$pf"
}

# 1. cancel all jobs while slurmctld/slurmd are still up, so no slurmstepd/job processes outlive slurmd
if alive /run/slurm/slurmctld.pid /usr/sbin/slurmctld; then
  jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs: $jobs"
    scancel $jobs 2>/dev/null
    for i in $(seq 1 150); do [ -z "$(squeue -h -t R,CG,S 2>/dev/null)" ] && break; sleep 0.2; done
  fi
fi
# 2. daemons, reverse start order (the SSH lab's two sshd instances first)
bash "$(dirname "$0")/ssh-lab.sh" --down $([ $PURGE = 1 ] && echo --purge)
stop sshd      "$LAB/sshd.pid"            /usr/sbin/sshd
stop slurmd    /run/slurm/slurmd.pid       /usr/sbin/slurmd
stop slurmctld /run/slurm/slurmctld.pid    /usr/sbin/slurmctld
if [ $PURGE = 1 ] && alive /run/mysqld/mysqld.pid /usr/sbin/mariadbd; then
  stop slurmdbd /run/slurm/slurmdbd.pid /usr/sbin/slurmdbd
  mariadb --socket=/run/mysqld/mysqld.sock -e 'DROP DATABASE IF EXISTS slurm_acct_db' && log "dropped slurm_acct_db"
fi
stop slurmdbd  /run/slurm/slurmdbd.pid     /usr/sbin/slurmdbd
stop mariadbd  /run/mysqld/mysqld.pid      /usr/sbin/mariadbd
stop munged    /run/munge/munged.pid       /usr/sbin/munged

if [ $PURGE = 1 ]; then
  rm -rf /var/lib/slurm/slurmctld/* /var/lib/slurm/slurmd/*
  rm -f /var/log/slurm/*.log "$LAB"/sshd.log "$LAB"/mariadb.log
  log "purged Slurm state, accounting DB and logs"
fi
log "done"
