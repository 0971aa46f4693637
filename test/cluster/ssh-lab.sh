#!/usr/bin/env bash
# test/cluster/ssh-lab.sh - the SSH lab next to the test cluster's key-only sshd on 127.0.0.1:$SSH_PORT (2222):
#   127.0.0.1:$OTP_PORT (2223)      "login node with 2FA": key AND TOTP code (pam_oath), own PAM service
#   127.0.0.1:$BASTION_PORT (2224)  bastion / jump host: key only, may forward to 127.0.0.1:2222 and to a closed port
# plus the client side: a passphrase-protected copy of the cluster key, known_hosts with all three host keys,
# an ssh_config for the OpenSSH CLI and SSH_ASKPASS helpers. Everything generated lives in $LAB/ssh-lab/; the only
# file written elsewhere is /etc/pam.d/$PAM_SERVICE. The facts are appended to $LAB/cluster.env (PILOT_TEST_*).
# Called by up.sh at its end (after the cluster user, key and sshd exist). Idempotent and fast when already up:
# running instances with an unchanged config are left alone, a changed config restarts only that instance.
#   ssh-lab.sh            start / check (root, Debian)
#   ssh-lab.sh --down     stop only the two lab instances (by pid file, checked), remove /etc/pam.d/$PAM_SERVICE
#   ssh-lab.sh --down --purge   ... and delete $LAB/ssh-lab (secret, host key, keys, configs, logs)
# Recipe and gotchas: /work/shared/reference/ssh-2fa-and-jump.md (pam_oath: one login per 30 s step per code, see
# resetOtpState() in test/support/ssh-lab.ts).
set -euo pipefail

LAB=${LAB_DIR:-${TMPDIR:-/tmp}/pilot-test-cluster}
SL=$LAB/ssh-lab
TEST_USER=${TEST_USER:-pilot}
TARGET_PORT=${SSH_PORT:-2222}            # the cluster sshd (up.sh), reached through the bastion; never touched here
OTP_PORT=${OTP_PORT:-2223}
BASTION_PORT=${BASTION_PORT:-2224}
CLOSED_PORT=${CLOSED_PORT:-2229}         # allowed by the bastion's PermitOpen, nothing listens there
OTP_WINDOW=${OTP_WINDOW:-1}              # pam_oath accepts TOTP steps now-1 .. now+1
ENC_PASS=${ENC_PASSPHRASE:-pilot-lab-passphrase}
PAM_SERVICE=sshd-pilotlab                # = basename of the sshd symlink we exec (OpenSSH 9.2: PAM service = progname)
SSHD=/usr/sbin/sshd

T0=$(date +%s%N)
log() { printf '[ssh-lab +%4dms] %s\n' $(( ($(date +%s%N) - T0) / 1000000 )) "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
. "$(dirname "$0")/lib.sh"

# alive_sshd PIDFILE CFG -> the pid in PIDFILE is /usr/sbin/sshd started with `-f CFG` (so a recycled pid or the
# cluster's own sshd is never taken for ours)
alive_sshd() {
  local pf=$1 cfg=$2 pid
  alive "$pf" "$SSHD" || return 1
  pid=$(cat "$pf" 2>/dev/null) || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-f $cfg "
}
wait_until() {
  local limit=$1; shift
  local end=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.05; done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
stop_sshd() {  # NAME: SIGTERM to the listener only (open sessions are its children and end on their own)
  local name=$1 pf="$SL/run/$1.pid" pid
  if alive_sshd "$pf" "$SL/${name}_sshd_config"; then
    pid=$(cat "$pf"); kill "$pid"
    wait_until 10 gone "$pid" || die "$name sshd (pid $pid) did not stop"
    log "stopped $name sshd (pid $pid)"
  fi
  rm -f "$pf"
}

# ---------------------------------------------------------------- teardown (down.sh)
if [ "${1:-}" = --down ]; then
  stop_sshd otp; stop_sshd bastion
  rm -f "/etc/pam.d/$PAM_SERVICE"
  if [ "${2:-}" = --purge ]; then rm -rf "$SL"; log "purged $SL"; fi
  exit 0
fi

# one run at a time (same lock as up.sh, which already holds it when it calls us)
if [ -z "${PILOT_UP_LOCKED:-}" ]; then
  mkdir -p "$LAB"
  PILOT_UP_LOCKED=1 exec flock -o "$LAB/.up.lock" bash "$0" "$@"
fi

KEY=$LAB/keys/id_ed25519
[ -s "$KEY" ] || die "no $KEY: run test/cluster/up.sh first"
id "$TEST_USER" >/dev/null 2>&1 || die "no user $TEST_USER: run test/cluster/up.sh first"
# sshd refuses '!'-locked accounts when UsePAM is no (the bastion), even for keys; up.sh sets '*'
[ "$(getent shadow "$TEST_USER" | cut -d: -f2 | cut -c1)" != '!' ] || die "$TEST_USER is locked: usermod -p '*' $TEST_USER"

# ---------------------------------------------------------------- packages
missing=""
for p in libpam-oath oathtool openssh-server openssh-client; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
install -d -m 755 "$SL"
if [ -n "$missing" ]; then
  log "apt-get install:$missing"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >"$SL/apt.log" 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >>"$SL/apt.log" 2>&1; } \
    || { tail -20 "$SL/apt.log" >&2; die "apt-get install failed (see $SL/apt.log)"; }
  log "packages installed"
fi

# ---------------------------------------------------------------- server-side files
install -d -m 755 "$SL/bin"
install -d -m 700 "$SL/hostkeys" "$SL/run" "$SL/keys"
install -d -m 755 /run/sshd                       # privilege-separation dir (normally made by systemd)
# one host key for both lab instances, its own so known_hosts tells them apart from the cluster sshd
[ -s "$SL/hostkeys/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C pilot-ssh-lab-host -f "$SL/hostkeys/ssh_host_ed25519_key"
# OpenSSH 9.2 calls pam_start() with its program name (basename of argv[0]): exec'ing sshd through this symlink
# makes it use /etc/pam.d/$PAM_SERVICE and leaves /etc/pam.d/sshd alone. The path must be absolute (sshd re-execs it).
ln -sfn "$SSHD" "$SL/bin/$PAM_SERVICE"

# TOTP secret: 20 random bytes as hex, shared by pam_oath (users.oath) and the tests (otp.secret)
[ -s "$SL/otp.secret" ] || ( umask 077; od -An -N20 -tx1 /dev/urandom | tr -d ' \n' > "$SL/otp.secret" )
SECRET=$(cat "$SL/otp.secret")
# pam_oath appends counter/last-otp/time fields after each login (replay protection): rewrite the file only when
# its first 4 fields differ, so a re-run does not reset that state behind a running test's back
if ! awk -v u="$TEST_USER" -v s="$SECRET" '$1=="HOTP/T30/6" && $2==u && $3=="-" && $4==s {f=1} END {exit !f}' "$SL/users.oath" 2>/dev/null; then
  ( umask 077; printf 'HOTP/T30/6\t%s\t-\t%s\n' "$TEST_USER" "$SECRET" > "$SL/users.oath" )
  log "wrote $SL/users.oath"
fi

cat > "$SL/pam.new" <<EOF
# /etc/pam.d/$PAM_SERVICE - written by test/cluster/ssh-lab.sh, removed by test/cluster/down.sh.
# Used only by the lab sshd $SL/bin/$PAM_SERVICE (symlink to $SSHD) on 127.0.0.1:$OTP_PORT.
# auth: the TOTP code only; the key is checked by sshd itself (AuthenticationMethods publickey,keyboard-interactive).
# No pam_systemd / pam_loginuid (no systemd here; pam_loginuid fails in containers).
auth     required  pam_oath.so usersfile=$SL/users.oath window=$OTP_WINDOW
account  required  pam_nologin.so
account  required  pam_unix.so
session  required  pam_unix.so
session  required  pam_limits.so
EOF
cmp -s "$SL/pam.new" "/etc/pam.d/$PAM_SERVICE" || install -m 644 "$SL/pam.new" "/etc/pam.d/$PAM_SERVICE"
rm -f "$SL/pam.new"

# ---------------------------------------------------------------- the two sshd instances
common_cfg() {   # NAME PORT
  cat <<EOF
Port $2
ListenAddress 127.0.0.1
HostKey $SL/hostkeys/ssh_host_ed25519_key
PidFile $SL/run/$1.pid
PermitRootLogin no
AllowUsers $TEST_USER
PubkeyAuthentication yes
PasswordAuthentication no
X11Forwarding no
PrintMotd no
Subsystem sftp internal-sftp
MaxStartups 100:30:200
MaxSessions 64
EOF
}
{ common_cfg otp "$OTP_PORT"; cat <<EOF
UsePAM yes
KbdInteractiveAuthentication yes
AuthenticationMethods publickey,keyboard-interactive
AllowTcpForwarding no
LogLevel VERBOSE
EOF
} > "$SL/otp_sshd_config.new"
{ common_cfg bastion "$BASTION_PORT"; cat <<EOF
UsePAM no
KbdInteractiveAuthentication no
AuthenticationMethods publickey
# a bastion must forward: ssh -J / ProxyJump and ssh2 forwardOut() open "direct-tcpip" channels
AllowTcpForwarding yes
# only the cluster sshd may be reached through it (+ $CLOSED_PORT where nothing listens: "connection refused" tests)
PermitOpen 127.0.0.1:$TARGET_PORT localhost:$TARGET_PORT 127.0.0.1:$CLOSED_PORT
# DEBUG1 logs every direct-tcpip request ("server_request_direct_tcpip: ... target 127.0.0.1 port $TARGET_PORT")
LogLevel DEBUG1
EOF
} > "$SL/bastion_sshd_config.new"

start_sshd() {   # NAME PORT BINARY
  local name=$1 port=$2 bin=$3 cfg="$SL/$1_sshd_config" pf="$SL/run/$1.pid" t
  if ! cmp -s "$cfg.new" "$cfg"; then
    "$bin" -t -f "$cfg.new" || die "bad $cfg.new"
    alive_sshd "$pf" "$cfg" && { log "$name: config changed"; stop_sshd "$name"; }
    mv -f "$cfg.new" "$cfg"
  else
    rm -f "$cfg.new"
  fi
  if ! alive_sshd "$pf" "$cfg"; then
    port_open "$port" && die "127.0.0.1:$port is already taken by something else"
    t=$(date +%s%N)
    "$bin" -f "$cfg" -E "$SL/$name.log"        # daemonizes, writes its PidFile
    wait_until 10 port_open "$port" || die "$name sshd did not come up (see $SL/$name.log)"
    log "$name sshd up on 127.0.0.1:$port (pid $(cat "$pf"), $(( ($(date +%s%N) - t) / 1000000 )) ms)"
  fi
}
start_sshd otp "$OTP_PORT" "$SL/bin/$PAM_SERVICE"
start_sshd bastion "$BASTION_PORT" "$SSHD"

# ---------------------------------------------------------------- client side
# passphrase-protected copy of the cluster key. `ssh-keygen -p` keeps the key pair, so its public key is already in
# authorized_keys. A stamp (public key + passphrase hash) avoids the slow bcrypt check on every run.
STAMP="$(cut -d' ' -f1,2 "$KEY.pub") $(printf %s "$ENC_PASS" | sha256sum | cut -d' ' -f1)"
if [ ! -s "$SL/keys/id_ed25519_enc" ] || [ "$(cat "$SL/keys/id_ed25519_enc.stamp" 2>/dev/null)" != "$STAMP" ]; then
  install -m 600 "$KEY" "$SL/keys/id_ed25519_enc"
  ssh-keygen -q -p -P '' -N "$ENC_PASS" -f "$SL/keys/id_ed25519_enc" >/dev/null
  cp "$KEY.pub" "$SL/keys/id_ed25519_enc.pub"
  printf '%s\n' "$STAMP" > "$SL/keys/id_ed25519_enc.stamp"
  log "wrote $SL/keys/id_ed25519_enc (passphrase-protected copy of $KEY)"
fi

# SSH_ASKPASS helpers (SSH_ASKPASS_REQUIRE=force; ssh passes the prompt as $1). Each appends the prompt as one line
# to $PILOT_TEST_ASKPASS_LOG when set, so a test can count how often it was asked.
cat > "$SL/bin/askpass-otp.new" <<EOS
#!/bin/sh
# prints the current TOTP code (answers the 2FA prompt of 127.0.0.1:$OTP_PORT)
[ -z "\${PILOT_TEST_ASKPASS_LOG:-}" ] || printf '%s\n' "\$(printf '%s' "\$1" | tr '\n' ' ')" >> "\$PILOT_TEST_ASKPASS_LOG"
exec oathtool --totp "@$SL/otp.secret"
EOS
cat > "$SL/bin/askpass-echo.new" <<'EOS'
#!/bin/sh
# answers every prompt (OTP code, key passphrase) with $ASKPASS_ANSWER
[ -z "${PILOT_TEST_ASKPASS_LOG:-}" ] || printf '%s\n' "$(printf '%s' "$1" | tr '\n' ' ')" >> "$PILOT_TEST_ASKPASS_LOG"
printf '%s\n' "${ASKPASS_ANSWER:-}"
EOS
for f in askpass-otp askpass-echo; do
  cmp -s "$SL/bin/$f.new" "$SL/bin/$f" && rm -f "$SL/bin/$f.new" || { chmod 755 "$SL/bin/$f.new"; mv -f "$SL/bin/$f.new" "$SL/bin/$f"; }
done

HK=$(cut -d' ' -f1,2 "$SL/hostkeys/ssh_host_ed25519_key.pub")
{
  echo "[127.0.0.1]:$OTP_PORT $HK"
  echo "[127.0.0.1]:$BASTION_PORT $HK"
  echo "[127.0.0.1]:$TARGET_PORT $(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)"   # the cluster sshd (as up.sh)
} > "$SL/known_hosts"
# for `ssh -F`: -J passes -F on to the jump ssh but not command-line -o options. Absolute paths only (OpenSSH
# expands ~ from the passwd entry, not $HOME).
cat > "$SL/ssh_config" <<EOF
Host *
  User $TEST_USER
  IdentityFile $KEY
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile $SL/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  ConnectTimeout 10
  LogLevel ERROR
EOF
chmod 644 "$SL/known_hosts" "$SL/ssh_config"

# ---------------------------------------------------------------- facts for the tests
cat > "$SL/lab.env" <<EOF
PILOT_TEST_LAB_DIR=$SL
PILOT_TEST_OTP_HOST=127.0.0.1
PILOT_TEST_OTP_PORT=$OTP_PORT
PILOT_TEST_BASTION_HOST=127.0.0.1
PILOT_TEST_BASTION_PORT=$BASTION_PORT
PILOT_TEST_CLOSED_PORT=$CLOSED_PORT
PILOT_TEST_OTP_SECRET_FILE=$SL/otp.secret
PILOT_TEST_USERS_OATH=$SL/users.oath
PILOT_TEST_ENC_KEY=$SL/keys/id_ed25519_enc
PILOT_TEST_ENC_PASSPHRASE=$ENC_PASS
PILOT_TEST_LAB_KNOWN_HOSTS=$SL/known_hosts
PILOT_TEST_LAB_SSH_CONFIG=$SL/ssh_config
PILOT_TEST_ASKPASS_OTP=$SL/bin/askpass-otp
PILOT_TEST_ASKPASS_ECHO=$SL/bin/askpass-echo
PILOT_TEST_OTP_LOG=$SL/otp.log
PILOT_TEST_BASTION_LOG=$SL/bastion.log
EOF
# up.sh rewrites cluster.env on every run: replace our lines (if any) and append them again, atomically
KEYS_RE=$(cut -d= -f1 "$SL/lab.env" | paste -sd'|')
{ grep -vE "^($KEYS_RE)=" "$LAB/cluster.env" 2>/dev/null || true; cat "$SL/lab.env"; } > "$LAB/cluster.env.lab-new"
mv -f "$LAB/cluster.env.lab-new" "$LAB/cluster.env"
log "ssh lab ready (2FA 127.0.0.1:$OTP_PORT, bastion 127.0.0.1:$BASTION_PORT); facts appended to $LAB/cluster.env"
