// Helpers for tests against the SSH lab that test/cluster/ssh-lab.sh starts next to the cluster sshd:
// 127.0.0.1:2223 wants the key AND a TOTP code (pam_oath), 127.0.0.1:2224 is a key-only bastion that may forward
// to the cluster sshd (2222) and to a closed port. Facts come from cluster.env via inject('cluster').
// pam_oath accepts each TOTP step at most once (replay protection): tests that log in on the 2FA port must not run
// in parallel with other OTP logins and should call resetOtpState() before each login.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

export interface LabFacts {
  /** $LAB/ssh-lab: everything the lab generated */
  dir: string;
  user: string;
  /** the cluster's unencrypted key (authorized on all three sshd) */
  key: string;
  /** the cluster sshd (key only), the jump target */
  targetHost: string;
  targetPort: number;
  /** the "login node with 2FA": publickey,keyboard-interactive (TOTP via pam_oath) */
  otpHost: string;
  otpPort: number;
  /** the bastion: key only, PermitOpen 127.0.0.1:targetPort and 127.0.0.1:closedPort */
  bastionHost: string;
  bastionPort: number;
  /** allowed by the bastion's PermitOpen, nothing listens there */
  closedPort: number;
  otpSecretFile: string;
  /** pam_oath's users file (root, 0600) */
  usersOath: string;
  /** passphrase-protected copy of `key` (same key pair) */
  encKey: string;
  encPassphrase: string;
  /** host keys of all three: [127.0.0.1]:2222, :2223, :2224 */
  knownHosts: string;
  /** client config for `ssh -F`: user, key, known_hosts, StrictHostKeyChecking yes, IdentityAgent none */
  sshConfig: string;
  /** SSH_ASKPASS helper printing the current TOTP code */
  askpassOtp: string;
  /** SSH_ASKPASS helper printing $ASKPASS_ANSWER */
  askpassEcho: string;
  /** server logs: the 2FA sshd (LogLevel VERBOSE), the bastion (DEBUG1: one direct-tcpip line per forward) */
  otpLog: string;
  bastionLog: string;
}

export function lab(): LabFacts {
  const env = inject('cluster');
  const get = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`${name} is missing from cluster.env: test/cluster/up.sh runs test/cluster/ssh-lab.sh at its end, did it?`);
    return v;
  };
  return {
    dir: get('PILOT_TEST_LAB_DIR'),
    user: get('PILOT_TEST_SSH_USER'),
    key: get('PILOT_TEST_SSH_KEY'),
    targetHost: get('PILOT_TEST_SSH_HOST'),
    targetPort: Number(get('PILOT_TEST_SSH_PORT')),
    otpHost: get('PILOT_TEST_OTP_HOST'),
    otpPort: Number(get('PILOT_TEST_OTP_PORT')),
    bastionHost: get('PILOT_TEST_BASTION_HOST'),
    bastionPort: Number(get('PILOT_TEST_BASTION_PORT')),
    closedPort: Number(get('PILOT_TEST_CLOSED_PORT')),
    otpSecretFile: get('PILOT_TEST_OTP_SECRET_FILE'),
    usersOath: get('PILOT_TEST_USERS_OATH'),
    encKey: get('PILOT_TEST_ENC_KEY'),
    encPassphrase: get('PILOT_TEST_ENC_PASSPHRASE'),
    knownHosts: get('PILOT_TEST_LAB_KNOWN_HOSTS'),
    sshConfig: get('PILOT_TEST_LAB_SSH_CONFIG'),
    askpassOtp: get('PILOT_TEST_ASKPASS_OTP'),
    askpassEcho: get('PILOT_TEST_ASKPASS_ECHO'),
    otpLog: get('PILOT_TEST_OTP_LOG'),
    bastionLog: get('PILOT_TEST_BASTION_LOG'),
  };
}

/** The TOTP code of the current 30 s step, or of a step `offsetSteps` away (1 = the next one). */
export function otpCode(offsetSteps = 0): string {
  const args = ['--totp', `@${lab().otpSecretFile}`];
  if (offsetSteps) args.unshift('-N', `now ${offsetSteps < 0 ? '-' : '+'} ${Math.abs(offsetSteps) * 30} seconds`);
  return execFileSync('oathtool', args, { encoding: 'utf8' }).trim();
}

/** Forget which TOTP steps pam_oath has seen (keep the first 4 fields of each users.oath line), so the next login
 *  may use any code of the window again. Needs root; written to a temporary file and renamed, as pam_oath does. */
export function resetOtpState(): void {
  const file = lab().usersOath;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim())
    .map((l) => (l.startsWith('#') ? l : l.trim().split(/\s+/).slice(0, 4).join('\t')));
  const tmp = `${file}.reset-${process.pid}`;
  writeFileSync(tmp, lines.join('\n') + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

export interface Agent {
  sock: string;
  pid: number;
  /** SIGTERM by pid, wait until it is gone (a zombie counts), remove the socket. Idempotent. */
  stop(): void;
}

/** True once PID has exited (a zombie not yet reaped by PID 1 counts as gone). */
export function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Start an ssh-agent on its own socket and add `keys` (an encrypted key needs `passphrase`). */
export function startAgent(keys: string[], opts: { sock?: string; passphrase?: string } = {}): Agent {
  const dir = opts.sock ? undefined : mkdtempSync(join(tmpdir(), 'pilot-agent-'));
  const sock = opts.sock ?? join(dir!, 'agent.sock');
  rmSync(sock, { force: true }); // a socket left by a killed run: "unix_listener: cannot bind ... Address already in use"
  const out = execFileSync('ssh-agent', ['-s', '-a', sock], { encoding: 'utf8' });
  const m = /SSH_AGENT_PID=(\d+)/.exec(out);
  if (!m) throw new Error(`ssh-agent printed no pid: ${out}`);
  const pid = Number(m[1]);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
    const end = Date.now() + 5000;
    while (!gone(pid) && Date.now() < end) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    rmSync(sock, { force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, SSH_AUTH_SOCK: sock };
    if (opts.passphrase !== undefined) Object.assign(env, { SSH_ASKPASS: lab().askpassEcho, SSH_ASKPASS_REQUIRE: 'force', ASKPASS_ANSWER: opts.passphrase });
    for (const k of keys) execFileSync('ssh-add', ['-q', k], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    stop();
    throw e;
  }
  return { sock, pid, stop };
}

/** Write an OpenSSH client config for `ssh -F` (mode 600, or ssh refuses it) and return its path. Use absolute
 *  paths: OpenSSH expands ~ from the passwd entry, not from $HOME. */
export function writeSshConfig(dir: string, text: string, name = 'ssh_config'): string {
  const bad = text.split('\n').find((l) => /^\s*(IdentityFile|UserKnownHostsFile|GlobalKnownHostsFile|IdentityAgent|CertificateFile|ControlPath)\s.*~/i.test(l));
  if (bad) throw new Error(`writeSshConfig: use an absolute path, not ~ (OpenSSH reads the passwd home, not $HOME): ${bad.trim()}`);
  const path = join(dir, name);
  writeFileSync(path, text.endsWith('\n') ? text : text + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** A file for PILOT_TEST_ASKPASS_LOG: the askpass helpers append one line per prompt they answer. */
export function askpassLog(dir = mkdtempSync(join(tmpdir(), 'pilot-askpass-'))): { path: string; prompts(): string[] } {
  const path = join(dir, 'askpass.log');
  writeFileSync(path, '');
  return { path, prompts: () => readFileSync(path, 'utf8').split('\n').filter(Boolean) };
}

export interface RunResult { code: number | null; stdout: string; stderr: string }

/** Run the system `ssh` (or another program) with stdin closed, a clean agent/askpass environment plus `env`. */
export function runSsh(args: string[], env: Record<string, string> = {}, opts: { cmd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE', 'ASKPASS_ANSWER', 'PILOT_TEST_ASKPASS_LOG', 'DISPLAY']) delete base[k];
  return new Promise((resolve, reject) => {
    const p = spawn(opts.cmd ?? 'ssh', args, { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/**
 * Holds the 2FA sshd for one test file's OTP logins: pam_oath accepts a code once, so files that log in
 * there take turns (a lock folder next to users.oath; one left by a killed run is taken after 5 minutes).
 * Returns the release function; call it in afterAll.
 */
export async function holdOtpServer(): Promise<() => void> {
  const { mkdirSync, statSync, rmdirSync } = await import('node:fs');
  const lock = join(lab().dir, 'otp-tests.lock');
  for (const end = Date.now() + 10 * 60_000; ;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 5 * 60_000) rmdirSync(lock, { recursive: true } as never);
      if (Date.now() > end) throw new Error(`${lock} held for 10 minutes`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return () => rmSync(lock, { recursive: true, force: true });
}
