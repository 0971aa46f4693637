#!/usr/bin/env bash
# test/cluster/up.sh - idempotently install and start, WITHOUT systemd, on Debian 12 as root:
#   munged + MariaDB + slurmdbd + slurmctld + slurmd (one node, loopback) + an sshd on 127.0.0.1:$SSH_PORT
#   and an unprivileged test user with an ed25519 key, then the SSH lab (ssh-lab.sh: a 2FA sshd on :2223 and a
#   bastion on :2224).
# Safe to re-run: daemons that are already up are left alone; a changed slurm.conf restarts slurmctld/slurmd.
# Writes $LAB/cluster.env with everything a test needs (host, port, user, key, known_hosts).
set -euo pipefail

LAB=${LAB_DIR:-${TMPDIR:-/tmp}/pilot-test-cluster}          # our own files: sshd config/pid/log, keys, env file, mariadb log
SSH_PORT=${SSH_PORT:-2222}
TEST_USER=${TEST_USER:-pilot}
# the same key, with tcsh as login shell: what sshd runs every remote command with (`tcsh -c CMD`)
TCSH_USER=${TEST_USER}-tcsh
NODE_CPUS=${NODE_CPUS:-8}                # > nproc on purpose: needs SlurmdParameters=config_overrides
NODE_MEM_MB=${NODE_MEM_MB:-4096}
CLUSTER=${CLUSTER_NAME:-pilotlab}
ACCOUNTING=${ACCOUNTING:-1}              # 1 = MariaDB + slurmdbd (sacct works); 0 = no accounting
DB_PASS=${SLURM_DB_PASS:-slurmdbpass}    # local-only, socket-only MariaDB
NODE=$(hostname -s)

T0=$(date +%s%N)
log() { local ds=$(( ($(date +%s%N) - T0) / 100000000 )); printf '[cluster-up +%3d.%ds] %s\n' $((ds / 10)) $((ds % 10)) "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (it installs Debian packages and starts system daemons)"
command -v apt-get >/dev/null && command -v dpkg-query >/dev/null \
  || die "needs a Debian/Ubuntu machine (apt-get, dpkg): packages munge slurmctld slurmd slurm-client slurmdbd mariadb-server openssh-server"
mkdir -p "$LAB"
# one run at a time: vitest projects may start their global setups together (two apt-get would collide).
# flock -o keeps the lock in flock itself, so the daemons started below do not inherit it.
if [ -z "${PILOT_UP_LOCKED:-}" ]; then
  PILOT_UP_LOCKED=1 exec flock -o "$LAB/.up.lock" bash "$0" "$@"
fi

. "$(dirname "$0")/lib.sh"
# wait_until SECONDS CMD... -> polls every 0.1 s
wait_until() {
  local limit=$1; shift
  local end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.1
  done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---------------------------------------------------------------- 1. packages
# tcsh: the login shell of a second test user (many sites still give csh-family shells; see TCSH_USER below)
PKGS="munge slurmctld slurmd slurm-client openssh-server openssh-client tcsh"
[ "$ACCOUNTING" = 1 ] && PKGS="$PKGS slurmdbd mariadb-server"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  log "apt-get install:$missing"
  # no systemd: the packages' sysv init scripts would otherwise start munge/ssh(:22)/mariadb themselves
  policy_created=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy_created=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >"$LAB/apt-install.log" 2>&1 \
    || { [ $policy_created = 1 ] && rm -f /usr/sbin/policy-rc.d; tail -20 "$LAB/apt-install.log"; die "apt-get install failed"; }
  [ $policy_created = 1 ] && rm -f /usr/sbin/policy-rc.d
  log "packages installed"
fi

# ---------------------------------------------------------------- 2. munge
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key; chmod 600 /etc/munge/munge.key
install -d -o munge -g munge -m 755 /run/munge
install -d -o munge -g munge -m 700 /var/log/munge /var/lib/munge
if ! alive /run/munge/munged.pid /usr/sbin/munged; then
  runuser -u munge -- /usr/sbin/munged --force       # --force: tolerate a stale socket left by a kill -9
  wait_until 10 sh -c 'munge -n | unmunge' || die "munged did not come up"
  log "munged started (pid $(cat /run/munge/munged.pid))"
fi

# ---------------------------------------------------------------- 3. MariaDB + slurmdbd (accounting)
install -d -o slurm -g slurm -m 755 /run/slurm /var/log/slurm /var/lib/slurm /var/lib/slurm/slurmctld
install -d -o root -g root -m 755 /var/lib/slurm/slurmd
if [ "$ACCOUNTING" = 1 ]; then
  install -d -o mysql -g mysql -m 755 /run/mysqld
  if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql --auth-root-authentication-method=socket >"$LAB/mariadb-install.log" 2>&1
  fi
  if ! alive /run/mysqld/mysqld.pid /usr/sbin/mariadbd; then
    # socket only (--skip-networking): nothing listens on TCP, slurmdbd connects via /run/mysqld/mysqld.sock
    setsid /usr/sbin/mariadbd --user=mysql --datadir=/var/lib/mysql \
      --socket=/run/mysqld/mysqld.sock --pid-file=/run/mysqld/mysqld.pid --skip-networking \
      --innodb-buffer-pool-size=256M --innodb-lock-wait-timeout=900 \
      >>"$LAB/mariadb.log" 2>&1 </dev/null &
    wait_until 30 mariadb-admin --socket=/run/mysqld/mysqld.sock ping || die "mariadbd did not come up (see $LAB/mariadb.log)"
    log "mariadbd started (pid $(cat /run/mysqld/mysqld.pid))"
  fi
  mariadb --socket=/run/mysqld/mysqld.sock <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '${DB_PASS}';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
SQL
  cat > "$LAB/slurmdbd.conf.new" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=slurm
DebugLevel=info
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurm/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=${DB_PASS}
StorageLoc=slurm_acct_db
EOF
  dbd_changed=0
  cmp -s "$LAB/slurmdbd.conf.new" /etc/slurm/slurmdbd.conf || dbd_changed=1
  # slurmdbd refuses to start unless slurmdbd.conf is 0600 and owned by SlurmUser
  install -m 600 -o slurm -g slurm "$LAB/slurmdbd.conf.new" /etc/slurm/slurmdbd.conf; rm -f "$LAB/slurmdbd.conf.new"
  if alive /run/slurm/slurmdbd.pid /usr/sbin/slurmdbd && [ $dbd_changed = 1 ]; then
    pid=$(cat /run/slurm/slurmdbd.pid); kill "$pid"; wait_until 20 gone "$pid" || die "slurmdbd did not stop"
  fi
  if ! alive /run/slurm/slurmdbd.pid /usr/sbin/slurmdbd; then
    slurmdbd                                            # daemonizes, writes /run/slurm/slurmdbd.pid
    wait_until 30 port_open 6819 || die "slurmdbd did not come up (see /var/log/slurm/slurmdbd.log)"
    log "slurmdbd started (pid $(cat /run/slurm/slurmdbd.pid))"
  fi
fi

# ---------------------------------------------------------------- 4. slurm.conf + slurmctld + slurmd
if [ "$ACCOUNTING" = 1 ]; then
  ACCT="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30"
else
  ACCT="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
fi
cat > "$LAB/slurm.conf.new" <<EOF
# single-node test cluster, generated by cluster-up.sh
ClusterName=${CLUSTER}
SlurmctldHost=${NODE}(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MpiDefault=none
# no cgroups, no systemd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
# default batch_sched_delay=3 makes array tasks start in 3 s waves; 0 gives ~1 s waves
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# let the node claim more CPUs than the hardware has (more concurrent trivial tasks, makes %K visible)
SlurmdParameters=config_overrides
MaxArraySize=100001
MaxJobCount=200000
MinJobAge=10
ReturnToService=2
${ACCT}
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=${NODE_CPUS} RealMemory=${NODE_MEM_MB} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
conf_changed=0
cmp -s "$LAB/slurm.conf.new" /etc/slurm/slurm.conf || conf_changed=1
install -m 644 "$LAB/slurm.conf.new" /etc/slurm/slurm.conf; rm -f "$LAB/slurm.conf.new"
if [ $conf_changed = 1 ]; then
  for d in slurmd slurmctld; do
    if alive /run/slurm/$d.pid /usr/sbin/$d; then
      pid=$(cat /run/slurm/$d.pid); log "slurm.conf changed: restarting $d"
      kill "$pid"; wait_until 30 gone "$pid" || die "$d did not stop"
    fi
  done
fi
if ! alive /run/slurm/slurmctld.pid /usr/sbin/slurmctld; then
  slurmctld                                             # daemonizes; runs as SlurmUser=slurm
  wait_until 30 sh -c 'scontrol ping | grep -q UP' || die "slurmctld did not come up (see /var/log/slurm/slurmctld.log)"
  log "slurmctld started (pid $(cat /run/slurm/slurmctld.pid))"
fi
SLURMD_SINCE=0
if ! alive /run/slurm/slurmd.pid /usr/sbin/slurmd; then
  SLURMD_SINCE=$(date +%s)
  slurmd -N "$NODE"                                     # daemonizes; runs as root; pid file appears a bit later
  wait_until 10 alive /run/slurm/slurmd.pid /usr/sbin/slurmd || die "slurmd did not start (see /var/log/slurm/slurmd.log)"
  log "slurmd started (pid $(cat /run/slurm/slurmd.pid))"
fi
# After a restart slurmctld restores the node as 'idle' from its state file before slurmd has registered,
# so 'idle' alone proves nothing: also require SlurmdStartTime >= the moment we launched slurmd.
node_ready() {
  sinfo -h -n "$NODE" -o %T | grep -qE '^(idle|mixed|allocated)$' || return 1
  local st; st=$(scontrol show node "$NODE" | grep -o 'SlurmdStartTime=[^ ]*' | cut -d= -f2)
  [ -n "$st" ] && [ "$st" != None ] && [ "$(date -d "$st" +%s)" -ge "$SLURMD_SINCE" ]
}
# a node left DRAINED/DOWN in the saved state (e.g. by an earlier bad config) stays so: RESUME it after 5 s
if ! wait_until 5 node_ready; then
  log "node state '$(sinfo -h -n "$NODE" -o %T)', trying RESUME"
  scontrol update NodeName="$NODE" State=RESUME || true
  wait_until 30 node_ready || die "node never became idle: $(sinfo -h -N -o '%N %T %E')"
fi
log "node $NODE is $(sinfo -h -n "$NODE" -o %T)"

# ---------------------------------------------------------------- 5. test user + key + sshd
if ! id "$TEST_USER" >/dev/null 2>&1; then
  useradd -m -s /bin/bash "$TEST_USER"
fi
id "$TCSH_USER" >/dev/null 2>&1 || useradd -m -s /usr/bin/tcsh "$TCSH_USER"
# useradd leaves the password field '!' (locked); sshd with UsePAM=no rejects locked accounts even for keys
usermod -p '*' "$TEST_USER"
usermod -p '*' "$TCSH_USER"
if [ "$ACCOUNTING" = 1 ]; then
  # associations are not enforced (AccountingStorageEnforce unset), but give the user a real account like on a site
  sacctmgr -i -Q add account pilotacct Description=pilot Organization=pilot >/dev/null 2>&1 || true
  sacctmgr -i -Q add user "$TEST_USER" DefaultAccount=pilotacct >/dev/null 2>&1 || true
  sacctmgr -i -Q add user "$TCSH_USER" DefaultAccount=pilotacct >/dev/null 2>&1 || true
fi
install -d -m 700 "$LAB/keys"
[ -s "$LAB/keys/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$TEST_USER@clusterlab" -f "$LAB/keys/id_ed25519"
HOME_DIR=$(getent passwd "$TEST_USER" | cut -d: -f6)
install -d -m 700 -o "$TEST_USER" -g "$TEST_USER" "$HOME_DIR/.ssh"
install -m 600 -o "$TEST_USER" -g "$TEST_USER" "$LAB/keys/id_ed25519.pub" "$HOME_DIR/.ssh/authorized_keys"
TCSH_HOME=$(getent passwd "$TCSH_USER" | cut -d: -f6)
install -d -m 700 -o "$TCSH_USER" -g "$TCSH_USER" "$TCSH_HOME/.ssh"
install -m 600 -o "$TCSH_USER" -g "$TCSH_USER" "$LAB/keys/id_ed25519.pub" "$TCSH_HOME/.ssh/authorized_keys"
ssh-keygen -A >/dev/null                                 # creates only missing host keys
install -d -m 755 /run/sshd                              # privilege-separation dir, normally made by systemd
cat > "$LAB/sshd_config.new" <<EOF
Port ${SSH_PORT}
ListenAddress 127.0.0.1
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
HostKey /etc/ssh/ssh_host_rsa_key
PidFile ${LAB}/sshd.pid
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
AllowUsers ${TEST_USER} ${TCSH_USER}
Subsystem sftp internal-sftp
MaxStartups 100:30:200
MaxSessions 64
LogLevel INFO
EOF
/usr/sbin/sshd -t -f "$LAB/sshd_config.new" || die "bad sshd_config"
# a running sshd whose config changed (a bed from an older checkout) reads the new one (SIGHUP)
if cmp -s "$LAB/sshd_config.new" "$LAB/sshd_config"; then rm -f "$LAB/sshd_config.new"; else
  mv "$LAB/sshd_config.new" "$LAB/sshd_config"
  if alive "$LAB/sshd.pid" /usr/sbin/sshd; then kill -HUP "$(cat "$LAB/sshd.pid")"; sleep 0.5; log "sshd reloaded its changed config"; fi
fi
if ! alive "$LAB/sshd.pid" /usr/sbin/sshd; then
  /usr/sbin/sshd -f "$LAB/sshd_config" -E "$LAB/sshd.log"   # daemonizes
  wait_until 10 port_open "$SSH_PORT" || die "sshd did not come up (see $LAB/sshd.log)"
  log "sshd started on 127.0.0.1:$SSH_PORT (pid $(cat "$LAB/sshd.pid"))"
fi
echo "[127.0.0.1]:${SSH_PORT} $(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" > "$LAB/known_hosts"
cat > "$LAB/cluster.env" <<EOF
PILOT_TEST_SSH_HOST=127.0.0.1
PILOT_TEST_SSH_PORT=${SSH_PORT}
PILOT_TEST_SSH_USER=${TEST_USER}
PILOT_TEST_TCSH_USER=${TCSH_USER}
PILOT_TEST_SSH_KEY=${LAB}/keys/id_ed25519
PILOT_TEST_SSH_KNOWN_HOSTS=${LAB}/known_hosts
PILOT_TEST_SLURM_PARTITION=debug
PILOT_TEST_SLURM_ACCOUNTING=${ACCOUNTING}
EOF
ssh -p "$SSH_PORT" -i "$LAB/keys/id_ed25519" -o BatchMode=yes -o UserKnownHostsFile="$LAB/known_hosts" \
    -o StrictHostKeyChecking=yes -o LogLevel=ERROR "$TEST_USER@127.0.0.1" 'sinfo -h -o "%P %a %D %T"' >&2 \
  || die "ssh smoke test failed (see $LAB/sshd.log)"
# ---------------------------------------------------------------- 6. SSH lab (2FA sshd, bastion, encrypted key)
# always, never skipped: appends its PILOT_TEST_* facts to the cluster.env written above
LAB_DIR="$LAB" TEST_USER="$TEST_USER" SSH_PORT="$SSH_PORT" bash "$(dirname "$0")/ssh-lab.sh" || die "ssh-lab.sh failed"
log "cluster ready; env in $LAB/cluster.env"
