// Proves the SSH lab (test/cluster/ssh-lab.sh) with the system OpenSSH client only, no pilot code: the 2FA sshd
// wants the key AND the TOTP code, the bastion forwards to the cluster sshd and nowhere else, the agent and the
// passphrase-protected key work. All OTP logins are in one describe.sequential (pam_oath: one login per code).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askpassLog, gone, holdOtpServer, lab, otpCode, resetOtpState, runSsh, startAgent, writeSshConfig, type LabFacts } from '../support/ssh-lab.js';

let L: LabFacts;
let dir: string;
beforeAll(() => {
  L = lab();
  dir = mkdtempSync(join(tmpdir(), 'pilot-ssh-lab-'));
});

/** A client config like the lab's own, with `lines` replacing its settings of the same name. */
function config(name: string, lines: Record<string, string>): string {
  const base = readFileSync(L.sshConfig, 'utf8').split('\n').filter((l) => l.trim() && !Object.keys(lines).includes(l.trim().split(/\s+/)[0]!));
  return writeSshConfig(dir, [...base, ...Object.entries(lines).map(([k, v]) => `  ${k} ${v}`)].join('\n'), name);
}
const askOtp = (log: string) => ({ SSH_ASKPASS: L.askpassOtp, SSH_ASKPASS_REQUIRE: 'force', PILOT_TEST_ASKPASS_LOG: log });
const askEcho = (answer: string, log: string) => ({ SSH_ASKPASS: L.askpassEcho, SSH_ASKPASS_REQUIRE: 'force', ASKPASS_ANSWER: answer, PILOT_TEST_ASKPASS_LOG: log });
const OTP_PROMPT = /^\(pilot@127\.0\.0\.1\) One-time password \(OATH\) for `pilot': $/;

describe('lab facts', () => {
  it('cluster.env still has the cluster facts and now the lab facts', () => {
    expect(L.targetPort).toBe(2222);
    expect([L.otpPort, L.bastionPort, L.closedPort]).toEqual([2223, 2224, 2229]);
    for (const f of [L.key, L.encKey, L.otpSecretFile, L.usersOath, L.knownHosts, L.sshConfig, L.askpassOtp, L.askpassEcho]) expect(existsSync(f), f).toBe(true);
    expect(statSync(L.askpassOtp).mode & 0o111).not.toBe(0);
    expect(L.encPassphrase.length).toBeGreaterThan(0);
  });

  it('known_hosts holds the three host keys, the lab instances with their own key', () => {
    const lines = readFileSync(L.knownHosts, 'utf8').trim().split('\n').map((l) => l.split(/\s+/));
    const key = (hostPort: number) => lines.find((l) => l[0] === `[127.0.0.1]:${hostPort}`)?.[2];
    expect(key(2222)).toMatch(/^AAAA/);
    expect(key(2223)).toMatch(/^AAAA/);
    expect(key(2224)).toBe(key(2223));
    expect(key(2223)).not.toBe(key(2222));
  });

  it('oathtool codes are 6 digits and differ from step to step', () => {
    const codes = [-1, 0, 1].map((o) => otpCode(o));
    for (const c of codes) expect(c).toMatch(/^\d{6}$/);
    expect(new Set(codes).size).toBe(3);
  });

  it('re-running ssh-lab.sh leaves the running instances alone', () => {
    const pids = () => ['otp', 'bastion'].map((n) => readFileSync(join(L.dir, 'run', `${n}.pid`), 'utf8').trim());
    const before = pids();
    execFileSync('bash', [join(import.meta.dirname, '..', 'cluster', 'ssh-lab.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
    expect(pids()).toEqual(before);
    for (const pid of before) expect(gone(Number(pid))).toBe(false);
  });
});

describe.sequential('2FA sshd: key AND TOTP code', () => {
  let release: () => void;
  beforeAll(async () => { release = await holdOtpServer(); }, 11 * 60_000);
  afterAll(() => release?.());
  const target = (cmd = 'id -un') => ['-o', 'NumberOfPasswordPrompts=1', '-p', String(L.otpPort), L.otpHost, cmd];

  it('logs in with the key and the code from SSH_ASKPASS, asking exactly once', async () => {
    const log = askpassLog(dir);
    resetOtpState();
    const r = await runSsh(['-F', L.sshConfig, ...target()], askOtp(log.path));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('pilot\n');
    expect(log.prompts()).toHaveLength(1);
    expect(log.prompts()[0]).toMatch(OTP_PROMPT);
  });

  it('refuses the key alone', async () => {
    resetOtpState();
    // BatchMode: no prompt; the key is accepted (partial success) and keyboard-interactive is what remains
    const r = await runSsh(['-F', L.sshConfig, '-o', 'BatchMode=yes', ...target('true')]);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied \(keyboard-interactive\)/);
  });

  it('refuses a wrong code, asking once', async () => {
    const log = askpassLog(dir);
    const valid = new Set([-1, 0, 1, 2].map((o) => otpCode(o)));
    let wrong = 0;
    while (valid.has(String(wrong).padStart(6, '0'))) wrong++;
    resetOtpState();
    const r = await runSsh(['-F', L.sshConfig, ...target('true')], askEcho(String(wrong).padStart(6, '0'), log.path));
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied \(keyboard-interactive\)/);
    expect(log.prompts()).toHaveLength(1);
  });

  it('refuses the code without an authorized key, and never asks for it', async () => {
    const log = askpassLog(dir);
    const stranger = join(dir, 'stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const cfg = config('stranger_config', { IdentityFile: stranger });
    resetOtpState();
    const r = await runSsh(['-F', cfg, ...target('true')], askOtp(log.path));
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
    expect(log.prompts()).toHaveLength(0);
  });

  it('refuses a replayed code (pam_oath); after resetOtpState() the same code works again', async () => {
    const code = otpCode();
    const login = async () => {
      const log = askpassLog(mkdtempSync(join(dir, 'replay-')));
      const r = await runSsh(['-F', L.sshConfig, ...target('true')], askEcho(code, log.path));
      expect(log.prompts()).toHaveLength(1);
      return r.code;
    };
    resetOtpState();
    expect(await login()).toBe(0);
    // deliberately no reset here: this is the replay
    expect(await login()).toBe(255);
    resetOtpState();
    expect(await login()).toBe(0);
  });

  it('logs in with the key from an agent plus the code', async () => {
    const agent = startAgent([L.key]);
    try {
      const cfg = config('otp_agent_config', { IdentityFile: join(dir, 'no-such-key'), IdentitiesOnly: 'no', IdentityAgent: agent.sock });
      const log = askpassLog(mkdtempSync(join(dir, 'agent-otp-')));
      resetOtpState();
      const r = await runSsh(['-F', cfg, ...target()], askOtp(log.path));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('pilot\n');
      expect(log.prompts()).toHaveLength(1);
    } finally {
      agent.stop();
    }
  });
});

describe('bastion', () => {
  const jump = () => ['-J', `${L.user}@${L.bastionHost}:${L.bastionPort}`];

  it('ssh -J through the bastion reaches the cluster sshd, and the bastion logs the forward', async () => {
    const offset = statSync(L.bastionLog).size;
    const r = await runSsh(['-F', L.sshConfig, ...jump(), '-p', String(L.targetPort), L.targetHost, 'sinfo -h -o %R']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('debug\n');
    const added = readFileSync(L.bastionLog, 'utf8').slice(offset);
    expect(added).toMatch(new RegExp(`server_request_direct_tcpip: originator .* target 127\\.0\\.0\\.1 port ${L.targetPort}`));
  });

  it('refuses to forward to a port outside PermitOpen (the 2FA port)', async () => {
    const cfg = config('info_config', { LogLevel: 'INFO' });
    const r = await runSsh(['-F', cfg, ...jump(), '-p', String(L.otpPort), L.otpHost, 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/administratively prohibited/);
  });

  it('reports "connection refused" for the closed port it may forward to', async () => {
    const cfg = config('info_config', { LogLevel: 'INFO' });
    const r = await runSsh(['-F', cfg, ...jump(), '-p', String(L.closedPort), L.targetHost, 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/open failed: connect failed: Connection refused/);
  });
});

describe('ssh-agent', () => {
  it('authenticates with the key from the agent only, directly and on both hops of a jump; not once stopped', async () => {
    const agent = startAgent([L.key]);
    const cfg = config('agent_config', { IdentityFile: join(dir, 'no-such-key'), IdentitiesOnly: 'no', IdentityAgent: agent.sock, BatchMode: 'yes' });
    try {
      const direct = await runSsh(['-F', cfg, '-p', String(L.targetPort), L.targetHost, 'id -un']);
      expect(direct.stderr).toBe('');
      expect(direct.code).toBe(0);
      expect(direct.stdout).toBe('pilot\n');
      const jumped = await runSsh(['-F', cfg, '-J', `${L.user}@${L.bastionHost}:${L.bastionPort}`, '-p', String(L.targetPort), L.targetHost, 'id -un']);
      expect(jumped.code).toBe(0);
      expect(jumped.stdout).toBe('pilot\n');
    } finally {
      agent.stop();
    }
    expect(gone(agent.pid)).toBe(true);
    expect(existsSync(agent.sock)).toBe(false);
    const after = await runSsh(['-F', cfg, '-p', String(L.targetPort), L.targetHost, 'true']);
    expect(after.code).toBe(255);
    expect(after.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('an empty agent does not log in', async () => {
    const agent = startAgent([]);
    try {
      const cfg = config('empty_agent_config', { IdentityFile: join(dir, 'no-such-key'), IdentitiesOnly: 'no', IdentityAgent: agent.sock, BatchMode: 'yes' });
      const r = await runSsh(['-F', cfg, '-p', String(L.targetPort), L.targetHost, 'true']);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
    } finally {
      agent.stop();
    }
  });

  it('takes the encrypted key with its passphrase', async () => {
    const agent = startAgent([L.encKey], { passphrase: L.encPassphrase });
    try {
      const listed = await runSsh(['-L'], { SSH_AUTH_SOCK: agent.sock }, { cmd: 'ssh-add' });
      expect(listed.code).toBe(0);
      expect(listed.stdout.split(' ').slice(0, 2)).toEqual(readFileSync(`${L.key}.pub`, 'utf8').split(' ').slice(0, 2));
    } finally {
      agent.stop();
    }
  });
});

describe('passphrase-protected key', () => {
  const encConfig = () => config('enc_config', { IdentityFile: L.encKey, NumberOfPasswordPrompts: '1' });

  it('is encrypted, and is the cluster key', async () => {
    const bare = await runSsh(['-y', '-P', '', '-f', L.encKey], {}, { cmd: 'ssh-keygen' });
    expect(bare.code).not.toBe(0);
    const opened = await runSsh(['-y', '-P', L.encPassphrase, '-f', L.encKey], {}, { cmd: 'ssh-keygen' });
    expect(opened.code).toBe(0);
    expect(opened.stdout.split(' ').slice(0, 2)).toEqual(readFileSync(`${L.key}.pub`, 'utf8').split(' ').slice(0, 2));
  });

  it('logs in with the passphrase from SSH_ASKPASS, asked once', async () => {
    const log = askpassLog(mkdtempSync(join(dir, 'enc-ok-')));
    const r = await runSsh(['-F', encConfig(), '-p', String(L.targetPort), L.targetHost, 'id -un'], askEcho(L.encPassphrase, log.path));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('pilot\n');
    expect(log.prompts()).toHaveLength(1);
    expect(log.prompts()[0]).toMatch(/^Enter passphrase for key '.*id_ed25519_enc': $/);
  });

  it('fails with a wrong passphrase', async () => {
    const log = askpassLog(mkdtempSync(join(dir, 'enc-bad-')));
    const r = await runSsh(['-F', encConfig(), '-p', String(L.targetPort), L.targetHost, 'true'], askEcho(`${L.encPassphrase}-wrong`, log.path));
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
    expect(log.prompts()).toHaveLength(1);
  });
});
