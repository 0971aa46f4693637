// The ssh2 transport against real sshd daemons: jump host (bastion on 2224) by forwardOut, the agent, an
// encrypted key, and host keys (unknown, changed, accept-new, trust through a jump). Key-only hosts here; the
// one-time password tests are in ssh-2fa.test.ts (they must not run in parallel).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directHop, type SshHop } from '../../src/model/cluster.js';
import { connectSsh } from '../../src/transport/connect.js';
import { fingerprint } from '../../src/transport/known-hosts.js';
import type { PromptRequest } from '../../src/transport/types.js';
import { lab, startAgent, type Agent } from '../support/ssh-lab.js';

const L = () => lab();
const tmp = () => mkdtempSync(join(tmpdir(), 'pilot-ssh-'));
/** A hop that can only use what the test gives it (no agent, no default keys of the machine). */
const hop = (fields: Partial<SshHop> & { port: number }): SshHop => directHop({
  host: '127.0.0.1', user: L().user, identityFiles: [L().key], knownHostsFiles: [L().knownHosts], identityAgent: 'none', ...fields,
});
const bastion = () => hop({ port: L().bastionPort, alias: 'bastion' });
const target = () => hop({ port: L().targetPort, alias: 'cluster' });
const hostKeyOf = (port: number) => {
  const line = readFileSync(L().knownHosts, 'utf8').split('\n').find((l) => l.startsWith(`[127.0.0.1]:${port} `))!;
  return Buffer.from(line.split(' ')[2]!, 'base64');
};

describe('ssh2 transport: jump hosts', () => {
  it('reaches the cluster through the bastion (a direct-tcpip channel, no local port) and runs Slurm there', async () => {
    const before = readFileSync(L().bastionLog, 'utf8').split('\n').length;
    const t = await connectSsh({ jumps: [bastion()], target: target() });
    try {
      const r = await t.exec('sinfo -h -o %R');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe('debug');
      expect(t.hops.map((h) => h.hop)).toEqual([`${L().user}@127.0.0.1:${L().bastionPort}`, `${L().user}@127.0.0.1:${L().targetPort}`]);
      expect(t.hops[1]!.hostKey).toBe(fingerprint(hostKeyOf(L().targetPort)));
    } finally {
      await t.close();
    }
    // the bastion logged the forward to the cluster sshd
    const added = readFileSync(L().bastionLog, 'utf8').split('\n').slice(before - 1).join('\n');
    expect(added).toMatch(new RegExp(`direct-tcpip.*127\\.0\\.0\\.1.*${L().targetPort}|target 127\\.0\\.0\\.1 port ${L().targetPort}`));
  });

  it('names the hop and the cause when the bastion refuses or cannot reach the target', async () => {
    const refused = await connectSsh({ jumps: [bastion()], target: hop({ port: L().otpPort }) }).catch((e) => e);
    expect(refused.message).toMatch(/jump host 1 \(bastion\) would not forward to 127\.0\.0\.1:2223/);
    expect(refused.hint).toMatch(/PermitOpen/);
    const closed = await connectSsh({ jumps: [bastion()], target: hop({ port: L().closedPort }) }).catch((e) => e);
    expect(closed.message).toMatch(/jump host 1 \(bastion\) would not forward.*Connection refused/i);
    expect(closed.hint).toMatch(/cannot reach/);
  });

  it('checks the jump host key too: an unknown bastion is refused as jump host 1', async () => {
    const kh = join(tmp(), 'known_hosts');
    writeFileSync(kh, readFileSync(L().knownHosts, 'utf8').split('\n').filter((l) => !l.startsWith(`[127.0.0.1]:${L().bastionPort} `)).join('\n'));
    const err = await connectSsh({ jumps: [{ ...bastion(), knownHostsFiles: [kh] }], target: target() }).catch((e) => e);
    expect(err.code).toBe('HOST_KEY');
    expect(err.message).toContain('jump host 1 (bastion)');
    expect(err.message).toContain(fingerprint(hostKeyOf(L().bastionPort)));
  });

  it('a login failure on a jump host says which hop failed', async () => {
    const err = await connectSsh({ jumps: [{ ...bastion(), identityFiles: [join(tmp(), 'absent')] }], target: target() }).catch((e) => e);
    expect(err.code).toBe('SSH');
    expect(err.message).toMatch(/^jump host 1 \(bastion\): authentication to pilot@127\.0\.0\.1:2224 failed/);
  });

  it('three hops (bastion, then the cluster sshd as a 2nd jump, then the target), each verified; an unknown 2nd jump is refused as jump host 2', async () => {
    const second = hop({ port: L().targetPort, alias: 'inner' });
    const t = await connectSsh({ jumps: [bastion(), second], target: target() });
    try {
      expect((await t.exec('echo ok')).stdout).toBe('ok\n');
      expect(t.hops.map((h) => [h.hop, h.hostKey])).toEqual([
        [`${L().user}@127.0.0.1:${L().bastionPort}`, fingerprint(hostKeyOf(L().bastionPort))],
        [`${L().user}@127.0.0.1:${L().targetPort}`, fingerprint(hostKeyOf(L().targetPort))],
        [`${L().user}@127.0.0.1:${L().targetPort}`, fingerprint(hostKeyOf(L().targetPort))],
      ]);
    } finally {
      await t.close();
    }
    const kh = join(tmp(), 'known_hosts');
    writeFileSync(kh, '');
    const err = await connectSsh({ jumps: [bastion(), { ...second, knownHostsFiles: [kh] }], target: target() }).catch((e) => e);
    expect(err.code).toBe('HOST_KEY');
    expect(err.message).toMatch(/^jump host 2 \(inner\): \[127\.0\.0\.1\]:2222 is not a known host/);
    expect(readFileSync(kh, 'utf8')).toBe('');
  });
});

describe('ssh2 transport: agent and encrypted keys', () => {
  let agent: Agent;
  beforeAll(() => { agent = startAgent([L().key], { sock: join(tmp(), 'agent.sock') }); });
  afterAll(() => agent?.stop());

  it('logs in with the agent alone, on both hops of a jump', async () => {
    const viaAgent = (h: SshHop): SshHop => ({ ...h, identityFiles: [join(tmp(), 'absent')], identitiesOnly: false, identityAgent: agent.sock });
    const t = await connectSsh({ jumps: [viaAgent(bastion())], target: viaAgent(target()) });
    try {
      expect((await t.exec('echo ok')).stdout.trim()).toBe('ok');
      expect(t.hops.map((h) => h.auth)).toEqual(['agent', 'agent']);
    } finally {
      await t.close();
    }
  });

  it('IdentitiesOnly keeps the agent to the configured keys', async () => {
    const other = join(tmp(), 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    // the agent holds the authorized key, but the config names another one: OpenSSH would not offer it, nor do we
    const err = await connectSsh({ jumps: [], target: { ...target(), identityFiles: [other], identitiesOnly: true, identityAgent: agent.sock } }).catch((e) => e);
    expect(err.message).toMatch(/authentication to .* failed: the server accepts publickey; pilot tried key .*other/);
  });

  it('the login reported is the key that was accepted, not every key tried', async () => {
    const other = join(tmp(), 'other');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const t = await connectSsh({ jumps: [], target: { ...target(), identityFiles: [other, L().key] } });
    await t.close();
    expect(t.hops[0]!.auth).toBe(`key ${L().key}`);
  });

  it('asks the passphrase of an encrypted key once, and says so when it is wrong', async () => {
    const asked: PromptRequest[] = [];
    const prompt = async (q: PromptRequest) => { asked.push(q); return L().encPassphrase; };
    const t = await connectSsh({ jumps: [], target: { ...target(), identityFiles: [L().encKey] } }, { prompt });
    await t.close();
    expect(asked.map((q) => q.kind)).toEqual(['passphrase']);
    expect(asked[0]!.message).toContain(L().encKey);
    expect(t.stats.prompts).toBe(1);
    // decrypted once per process: a reconnect does not ask again
    const again = await connectSsh({ jumps: [], target: { ...target(), identityFiles: [L().encKey] } }, { prompt });
    await again.close();
    expect(asked).toHaveLength(1);

    const copy = join(tmp(), 'enc');
    writeFileSync(copy, readFileSync(L().encKey), { mode: 0o600 });
    const wrong = await connectSsh({ jumps: [], target: { ...target(), identityFiles: [copy] } }, { prompt: async () => 'not it' }).catch((e) => e);
    expect(wrong.message).toBe(`wrong passphrase for key ${copy}`);
  });

  it('fails at once, naming the question, when nobody can answer it (no callback, no askpass, no terminal)', async () => {
    const copy = join(tmp(), 'enc');
    writeFileSync(copy, readFileSync(L().encKey), { mode: 0o600 });
    const saved = { a: process.env.PILOT_ASKPASS, s: process.env.SSH_ASKPASS };
    delete process.env.PILOT_ASKPASS;
    delete process.env.SSH_ASKPASS;
    try {
      const started = Date.now();
      const err = await connectSsh({ jumps: [], target: { ...target(), identityFiles: [copy] } }).catch((e) => e);
      expect(err.message).toMatch(/asks "Enter passphrase for key .*" \(passphrase\), but there is no terminal/);
      expect(err.hint).toMatch(/PILOT_ASKPASS/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      if (saved.a !== undefined) process.env.PILOT_ASKPASS = saved.a;
      if (saved.s !== undefined) process.env.SSH_ASKPASS = saved.s;
    }
  });
});

describe('ssh2 transport: host keys', () => {
  it('refuses an unknown host with its fingerprint and the fix, and writes nothing', async () => {
    const kh = join(tmp(), 'known_hosts');
    writeFileSync(kh, '');
    const err = await connectSsh({ jumps: [], target: { ...target(), knownHostsFiles: [kh] } }, { clusterName: 'labx' }).catch((e) => e);
    expect(err.code).toBe('HOST_KEY');
    expect(err.message).toContain(`[127.0.0.1]:${L().targetPort} is not a known host`);
    expect(err.message).toContain(fingerprint(hostKeyOf(L().targetPort)));
    expect(err.hint).toContain('pilot trust labx');
    expect(readFileSync(kh, 'utf8')).toBe('');
  });

  it('refuses a changed key loudly and never overwrites it', async () => {
    const kh = join(tmp(), 'known_hosts');
    const line = `[127.0.0.1]:${L().targetPort} ${readFileSync(L().knownHosts, 'utf8').split('\n').find((l) => l.startsWith(`[127.0.0.1]:${L().bastionPort} `))!.split(' ').slice(1).join(' ')}\n`;
    writeFileSync(kh, line);
    for (const strictHostKeyChecking of ['ask', 'accept-new'] as const) {
      const err = await connectSsh({ jumps: [], target: { ...target(), knownHostsFiles: [kh], strictHostKeyChecking } }, { confirmHostKey: async () => true }).catch((e) => e);
      expect(err.code).toBe('HOST_KEY');
      expect(err.message).toMatch(/does NOT match the key recorded in .*known_hosts:1/);
      expect(readFileSync(kh, 'utf8')).toBe(line);
    }
  });

  it('accept-new records an unknown host once (a notice says so), then trusts it', async () => {
    const kh = join(tmp(), 'ssh', 'known_hosts');
    const notices: string[] = [];
    const t = await connectSsh({ jumps: [], target: { ...target(), knownHostsFiles: [kh], strictHostKeyChecking: 'accept-new' } }, { notice: (m) => notices.push(m) });
    await t.close();
    expect(readFileSync(kh, 'utf8')).toBe(`[127.0.0.1]:${L().targetPort} ssh-ed25519 ${hostKeyOf(L().targetPort).toString('base64')}\n`);
    expect(notices).toHaveLength(1);
    const again = await connectSsh({ jumps: [], target: { ...target(), knownHostsFiles: [kh], strictHostKeyChecking: 'yes' } });
    await again.close();
  });

  it('HostKeyAlias: the key is looked up under the alias only', async () => {
    const kh = join(tmp(), 'known_hosts');
    writeFileSync(kh, `mycluster ssh-ed25519 ${hostKeyOf(L().targetPort).toString('base64')}\n`);
    const t = await connectSsh({ jumps: [], target: { ...target(), knownHostsFiles: [kh], hostKeyAlias: 'mycluster' } });
    await t.close();
    const err = await connectSsh({ jumps: [], target: { ...target(), knownHostsFiles: [kh] } }).catch((e) => e);
    expect(err.code).toBe('HOST_KEY'); // without the alias, [127.0.0.1]:2222 is not in that file
  });

  it('a @revoked key is refused with a clear message even when another line trusts it', async () => {
    const kh = join(tmp(), 'known_hosts');
    const key = hostKeyOf(L().targetPort).toString('base64');
    writeFileSync(kh, `[127.0.0.1]:${L().targetPort} ssh-ed25519 ${key}\n@revoked * ssh-ed25519 ${key}\n`);
    const err = await connectSsh({ jumps: [], target: { ...target(), knownHostsFiles: [kh] } }, { confirmHostKey: async () => true }).catch((e) => e);
    expect(err.code).toBe('HOST_KEY');
    expect(err.message).toMatch(/is marked @revoked in .*: refusing to connect/);
    expect(err.hint).toMatch(/revoked/);
  });

  it('a key found only in the 2nd of several known_hosts files is trusted (and nothing is written to the 1st)', async () => {
    const first = join(tmp(), 'known_hosts');
    writeFileSync(first, '');
    const t = await connectSsh({ jumps: [], target: { ...target(), knownHostsFiles: [first, L().knownHosts] } });
    await t.close();
    expect(readFileSync(first, 'utf8')).toBe('');
  });

  it('a @cert-authority line alone is refused with the reason and the way out', async () => {
    const kh = join(tmp(), 'known_hosts');
    writeFileSync(kh, `@cert-authority [127.0.0.1]:* ssh-ed25519 ${hostKeyOf(L().bastionPort).toString('base64')}\n`);
    const err = await connectSsh({ jumps: [], target: { ...target(), knownHostsFiles: [kh] } }).catch((e) => e);
    expect(err.message).toMatch(/@cert-authority/);
    expect(err.hint).toMatch(/transport: openssh/);
  });

  it('trusting through a jump asks about each unknown hop, in order, and records only what was confirmed', async () => {
    const kh = join(tmp(), 'known_hosts');
    writeFileSync(kh, '');
    const asked: string[] = [];
    const t = await connectSsh({ jumps: [{ ...bastion(), knownHostsFiles: [kh] }], target: { ...target(), knownHostsFiles: [kh] } }, {
      confirmHostKey: async (q) => { asked.push(q.name); return true; },
    });
    await t.close();
    expect(asked).toEqual([`[127.0.0.1]:${L().bastionPort}`, `[127.0.0.1]:${L().targetPort}`]);
    expect(readFileSync(kh, 'utf8').trim().split('\n')).toHaveLength(2);
    const no = join(tmp(), 'known_hosts');
    writeFileSync(no, '');
    const err = await connectSsh({ jumps: [], target: { ...target(), knownHostsFiles: [no] } }, { confirmHostKey: async () => false }).catch((e) => e);
    expect(err.message).toMatch(/was not trusted: nothing written/);
    expect(readFileSync(no, 'utf8')).toBe('');
  });
});

describe('ssh2 transport: network errors', () => {
  it('says refused, unresolvable or timed out, in words', async () => {
    const refused = await connectSsh({ jumps: [], target: hop({ port: L().closedPort }) }).catch((e) => e);
    expect(refused.message).toBe(`127.0.0.1:${L().closedPort} refused the connection`);
    const unknown = await connectSsh({ jumps: [], target: hop({ port: 22, host: 'no-such-host.invalid' }) }).catch((e) => e);
    expect(unknown.message).toMatch(/cannot resolve the host name no-such-host\.invalid/);
    // a listener that never speaks SSH: the connect timeout ends it
    const { createServer } = await import('node:net');
    const silent = createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const port = (silent.address() as { port: number }).port;
    const slow = await connectSsh({ jumps: [], target: hop({ port, connectTimeoutMs: 1500 }) }).catch((e) => e);
    silent.close();
    expect(slow.message).toBe(`timed out after 2 s connecting to ${L().user}@127.0.0.1:${port}`);
  });
});
