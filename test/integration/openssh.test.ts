// The OpenSSH transport (transport: openssh) against the real sshd: commands, uploads and streamed reads, ONE
// master connection shared by every transport and every pilot process (proved by the client port the server
// sees: one TCP connection is one login), prompts answered through the askpass bridge, host keys refused, and
// nothing that waits for an answer nobody can give.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveCluster } from '../../src/engine/config.js';
import type { RemoteClusterConfig } from '../../src/model/cluster.js';
import { isPilotError } from '../../src/index.js';
import { connectOpenSsh, type OpenSshTransport } from '../../src/transport/openssh.js';
import type { PromptRequest } from '../../src/transport/types.js';
import { quote } from '../../src/util/quote.js';
import { pilot } from '../support/cli.js';
import { cluster, makeHome } from '../support/cluster.js';
import { lab } from '../support/ssh-lab.js';

/** The target exactly as config.yaml's `lab` names it (same arguments: same master as the CLI's). */
async function labTarget(home = makeHome()): Promise<RemoteClusterConfig['openssh']> {
  return (await resolveCluster(home, 'lab') as RemoteClusterConfig).openssh;
}

/** A target with its own key file and socket folder, so its master is this test's alone. */
function privateTarget(knownHosts = cluster().knownHosts, keyPass?: string) {
  const c = cluster();
  const dir = mkdtempSync(join(tmpdir(), 'pilot-ossh-'));
  const key = join(dir, 'id');
  cpSync(c.key, key);
  chmodSync(key, 0o600);
  if (keyPass) execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', keyPass, '-f', key]);
  const controlDir = mkdtempSync('/tmp/pcm-');
  removeLater.push(dir, controlDir);
  return {
    target: { destination: `${c.user}@${c.host}`, args: ['-p', String(c.port), '-i', key, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes'] },
    controlDir,
    dir,
  };
}

const stopLater: OpenSshTransport[] = [];
const removeLater: string[] = [];
afterAll(async () => {
  await Promise.all(stopLater.map((t) => t.stopMaster()));
  for (const dir of removeLater) rmSync(dir, { recursive: true, force: true });
});

/** The client port of the TCP connection a command came through: the same port means no new login. */
async function clientPort(t: OpenSshTransport): Promise<string> {
  const r = await t.exec('echo "$SSH_CONNECTION"');
  return r.stdout.trim().split(/\s+/)[1]!;
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; hint?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('openssh transport: bytes', () => {
  it('exec passes the command verbatim, with stdin, exit status and stderr; a slow command times out', async () => {
    const t = await connectOpenSsh(await labTarget());
    const r = await t.exec(`printf '%s|' ${quote('a  b')} ${quote("it's")} '$HOME' "-n"; cat; echo oops >&2; exit 7`, { stdin: 'in put' });
    expect(r).toEqual({ code: 7, stdout: "a  b|it's|$HOME|-n|in put", stderr: 'oops\n' });
    expect((await t.exec('exit 255')).code).toBe(255); // the command's own 255 is not taken for a lost master
    expect(t.closed).toBe(false);
    const started = Date.now();
    const err = await rejection(t.exec('sleep 30', { timeoutMs: 700, what: 'the nap' }));
    expect(err.message).toMatch(/the nap on .* did not finish within 1 s/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(t.stats.commands).toBe(3);
    await t.close();
  });

  it('put writes a Buffer and a file; readStream reads from an offset, refuses FIFOs, links and folders, null when missing', async () => {
    const t = await connectOpenSsh(await labTarget());
    const dir = (await t.exec('mktemp -d')).stdout.trim();
    const local = join(mkdtempSync(join(tmpdir(), 'pilot-put-')), 'big.bin');
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'x');
    big.write('head', 0);
    writeFileSync(local, big);
    await t.put(local, `${dir}/big.bin`);
    await t.put(Buffer.from("it's\n"), `${dir}/odd name's.txt`);
    expect(t.stats.uploads).toBe(2);
    expect(t.stats.bytesUp).toBe(big.length + 5);
    expect((await t.exec(`cat ${quote(`${dir}/odd name's.txt`)}`)).stdout).toBe("it's\n");

    // a slow reader: chunks still come one at a time after the mux client exits (node resumes a paused
    // stdout then, while the master still writes the last ~2 MB)
    const chunks: Buffer[] = [];
    let busy = false;
    let overlaps = 0;
    const n = await t.readStream(`${dir}/big.bin`, {
      start: 0,
      onChunk: async (c) => {
        if (busy) overlaps++;
        busy = true;
        chunks.push(c);
        await new Promise((r) => setTimeout(r, 2));
        busy = false;
      },
    });
    expect(overlaps).toBe(0);
    expect(n).toBe(big.length);
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
    const tail: Buffer[] = [];
    expect(await t.readStream(`${dir}/odd name's.txt`, { start: 2, onChunk: (c) => { tail.push(c); } })).toBe(3);
    expect(Buffer.concat(tail).toString()).toBe("'s\n");
    expect(await t.readStream(`${dir}/odd name's.txt`, { start: 99, onChunk: () => {} })).toBe(0);
    expect(await t.readStream(`${dir}/missing`, { start: 0, onChunk: () => {} })).toBeNull();

    await t.exec(`cd ${quote(dir)} && mkfifo fifo && ln -s /dev/zero zero && mkdir sub`);
    for (const [name, kind] of [['fifo', 'FIFO'], ['zero', 'symbolic link'], ['sub', 'directory']]) {
      const started = Date.now();
      const err = await rejection(t.readStream(`${dir}/${name}`, { start: 0, onChunk: () => {} }));
      expect(isPilotError(err) && err.code).toBe('NOT_A_FILE');
      expect(err.message).toContain(kind!);
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    await t.exec(`rm -rf ${quote(dir)}`);
    await t.close();
  });
});

describe('openssh transport: one master', () => {
  it('a second transport and a CLI run reuse the master: same pid, same TCP connection, no new login', async () => {
    const home = makeHome('    transport: openssh');
    const a = await connectOpenSsh(await labTarget(home));
    const pid = await a.masterPid();
    const port = await clientPort(a);
    const b = await connectOpenSsh(await labTarget(home));
    expect(await b.masterPid()).toBe(pid);
    expect(await clientPort(b)).toBe(port);
    const r = await pilot(['test-ssh', 'lab'], home);
    expect(r.code, r.stderr).toBe(0);
    expect(await a.masterPid()).toBe(pid);
    await a.close();
    expect(a.closed).toBe(true);
    expect(await clientPort(b)).toBe(port); // close() left the master for everyone else
  });

  it('prompts go to the callback ONCE per master; a killed master marks the transport closed', async () => {
    const { target, controlDir } = privateTarget(undefined, 'open sesame');
    const asked: PromptRequest[] = [];
    const prompt = async (q: PromptRequest) => { asked.push(q); return 'open sesame'; };
    const a = await connectOpenSsh(target, { prompt }, { controlDir });
    stopLater.push(a);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ kind: 'passphrase', echo: false, hop: `${target.destination}:${cluster().port}` });
    expect(asked[0]!.message).toMatch(/Enter passphrase for key/);
    expect(a.stats.prompts).toBe(1);
    const b = await connectOpenSsh(target, { prompt }, { controlDir });
    expect(b.stats.prompts).toBe(0);
    expect(asked).toHaveLength(1);
    expect(await clientPort(b)).toBe(await clientPort(a));

    process.kill((await a.masterPid())!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(a.closed).toBe(true);
    const err = await rejection(b.exec('true'));
    expect(isPilotError(err) && err.code).toBe('SSH');
    expect(err.message).toMatch(/connection to .* was lost/);
    expect(b.closed).toBe(true);
  });

  it('$PILOT_ASKPASS answers when there is no callback; a wrong answer is a clear SSH error', async () => {
    const { target, controlDir, dir } = privateTarget(undefined, 'pw');
    const askpass = join(dir, 'askpass.sh');
    writeFileSync(askpass, '#!/bin/sh\necho "$1" >> "$(dirname "$0")/asked"\necho pw\n', { mode: 0o755 });
    const before = process.env.PILOT_ASKPASS;
    process.env.PILOT_ASKPASS = askpass;
    try {
      const t = await connectOpenSsh(target, {}, { controlDir });
      stopLater.push(t);
      expect(readFileSync(join(dir, 'asked'), 'utf8')).toMatch(/passphrase/);
    } finally {
      if (before === undefined) delete process.env.PILOT_ASKPASS;
      else process.env.PILOT_ASKPASS = before;
    }
    const wrong = privateTarget(undefined, 'pw');
    const err = await rejection(connectOpenSsh(wrong.target, { prompt: async () => 'nope' }, { controlDir: wrong.controlDir }));
    expect(isPilotError(err) && err.code).toBe('SSH');
    expect(err.message).toContain(wrong.target.destination);
  });

  it('without a terminal, callback or askpass, a key that needs a passphrase fails at once instead of hanging', async () => {
    const { target, controlDir } = privateTarget(undefined, 'pw');
    const env = { PILOT_ASKPASS: process.env.PILOT_ASKPASS, SSH_ASKPASS: process.env.SSH_ASKPASS };
    delete process.env.PILOT_ASKPASS;
    delete process.env.SSH_ASKPASS;
    const started = Date.now();
    try {
      const err = await rejection(connectOpenSsh(target, {}, { controlDir }));
      expect(isPilotError(err) && err.code).toBe('SSH');
      expect(err.hint).toMatch(/No prompt could be shown/);
    } finally {
      Object.assign(process.env, Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)));
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('openssh transport: host keys', () => {
  it('an unknown host and a changed key are refused with HOST_KEY, naming the destination', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-kh-'));
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const unknown = privateTarget(empty);
    const e1 = await rejection(connectOpenSsh(unknown.target, {}, { controlDir: unknown.controlDir }));
    expect(isPilotError(e1) && e1.code).toBe('HOST_KEY');
    expect(e1.message).toContain(`${unknown.target.destination}:${cluster().port}`);
    expect(e1.message).toMatch(/Host key verification failed/);

    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, `[127.0.0.1]:${cluster().port} ${readFileSync(join(dir, 'other.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    const changed = privateTarget(wrong);
    const e2 = await rejection(connectOpenSsh(changed.target, {}, { controlDir: changed.controlDir }));
    expect(isPilotError(e2) && e2.code).toBe('HOST_KEY');
    expect(e2.message).toMatch(/does NOT match/);
  });
});

/** A Host `box` of an OpenSSH config of its own (default StrictHostKeyChecking ask), as a transport-openssh cluster. */
function aliasHome(knownHosts: string): { home: string; env: Record<string, string>; dir: string } {
  const c = cluster();
  const dir = mkdtempSync(join(tmpdir(), 'pilot-osshalias-'));
  removeLater.push(dir);
  const config = join(dir, 'ssh_config');
  writeFileSync(config, ['Host box', '  HostName 127.0.0.1', `  Port ${c.port}`, `  User ${c.user}`, `  IdentityFile ${c.key}`,
    '  IdentitiesOnly yes', '  IdentityAgent none', `  UserKnownHostsFile ${knownHosts}`, ''].join('\n'));
  const home = makeHome();
  writeFileSync(join(home, 'config.yaml'), `clusters:\n  box:\n    sshAlias: box\n    transport: openssh\n    remoteDir: ~/pilot-tests/${home.split('/').pop()}\n`);
  return { home, dir, env: { PILOT_SSH_CONFIG: config, PILOT_CONTROL_PERSIST: '15' } };
}

const realFingerprint = () => execFileSync('ssh-keygen', ['-lf', cluster().knownHosts], { encoding: 'utf8' })
  .split('\n').find((l) => l.includes(`[127.0.0.1]:${cluster().port}`))!.split(' ')[1]!;

describe('openssh transport: host keys are never accepted through a prompt', () => {
  it('an unknown host with an askpass answering yes: refused at once with the fingerprint and `pilot trust`, known_hosts untouched', async () => {
    const { home, env, dir } = aliasHome(join(mkdtempSync(join(tmpdir(), 'pilot-kh-')), 'known_hosts'));
    const kh = readFileSync(env.PILOT_SSH_CONFIG!, 'utf8').match(/UserKnownHostsFile (\S+)/)![1]!;
    writeFileSync(kh, '');
    const askpass = join(dir, 'askpass.sh');
    writeFileSync(askpass, '#!/bin/sh\necho "$1" >> "$(dirname "$0")/asked"\necho yes\n', { mode: 0o755 });
    const r = await pilot(['test-ssh', 'box'], home, { ...env, PILOT_ASKPASS: askpass });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/not a known host \(host key SHA256:\S{43}\)/);
    expect(r.stderr).toContain(realFingerprint());
    expect(r.stderr).toContain('pilot trust box');
    expect(readFileSync(kh, 'utf8')).toBe('');
    expect(() => readFileSync(join(dir, 'asked'), 'utf8')).toThrow(); // no question at all reached the askpass

    // the user's own SSH_ASKPASS (not through pilot): strict checking keeps it from ever being asked
    const own = await pilot(['test-ssh', 'box'], home, { ...env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', PILOT_ASKPASS: '' });
    expect(own.code, own.stderr).toBe(1);
    expect(own.stderr).toMatch(/not a known host/);
    expect(readFileSync(kh, 'utf8')).toBe('');
    expect(() => readFileSync(join(dir, 'asked'), 'utf8')).toThrow();
  });

  it("through a jump host: the user's own SSH_ASKPASS never gets the jump's host-key question either", async () => {
    const L = lab();
    const dir = mkdtempSync(join(tmpdir(), 'pilot-osshjump-'));
    removeLater.push(dir);
    const kh = join(dir, 'known_hosts');
    const lines = readFileSync(L.knownHosts, 'utf8').split('\n').filter((l) => l.trim());
    writeFileSync(kh, `${lines.filter((l) => !l.startsWith(`[127.0.0.1]:${L.bastionPort} `)).join('\n')}\n`);
    const before = readFileSync(kh, 'utf8');
    const bastionFp = execFileSync('ssh-keygen', ['-lf', '-'], { input: `${lines.find((l) => l.startsWith(`[127.0.0.1]:${L.bastionPort} `))}\n`, encoding: 'utf8' }).split(' ')[1]!;
    const config = join(dir, 'ssh_config');
    const common = [`  User ${L.user}`, `  IdentityFile ${L.key}`, '  IdentitiesOnly yes', '  IdentityAgent none', `  UserKnownHostsFile ${kh}`];
    writeFileSync(config, ['Host box', '  HostName 127.0.0.1', `  Port ${L.targetPort}`, '  ProxyJump jump', ...common,
      'Host jump', '  HostName 127.0.0.1', `  Port ${L.bastionPort}`, ...common, ''].join('\n'));
    const askpass = join(dir, 'askpass.sh');
    writeFileSync(askpass, '#!/bin/sh\necho "$1" >> "$(dirname "$0")/asked"\necho yes\n', { mode: 0o755 });
    const home = makeHome();
    writeFileSync(join(home, 'config.yaml'), `clusters:\n  box:\n    sshAlias: box\n    transport: openssh\n    remoteDir: ~/pilot-tests/${home.split('/').pop()}\n`);
    const r = await pilot(['test-ssh', 'box'], home, { PILOT_SSH_CONFIG: config, PILOT_CONTROL_PERSIST: '15', SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', PILOT_ASKPASS: '' });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`box: [127.0.0.1]:${L.bastionPort} is not a known host (host key ${bastionFp})`);
    expect(r.stderr).toContain('pilot trust box');
    expect(readFileSync(kh, 'utf8')).toBe(before);
    expect(() => readFileSync(join(dir, 'asked'), 'utf8')).toThrow();
  });

  it('pilot trust works for an openssh cluster; test-ssh then shows the host key and the login of the hop', async () => {
    const kh = join(mkdtempSync(join(tmpdir(), 'pilot-kh-')), 'known_hosts');
    writeFileSync(kh, '');
    const { home, env } = aliasHome(kh);
    const fp = realFingerprint();
    const wrong = await pilot(['trust', 'box', '--fingerprint', `SHA256:${'A'.repeat(43)}`], home, env);
    expect(wrong.code).toBe(1);
    expect(readFileSync(kh, 'utf8')).toBe('');
    const ok = await pilot(['trust', 'box', '--fingerprint', fp], home, env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`added [127.0.0.1]:${cluster().port} ssh-ed25519 ${fp} to ${kh}`);
    const tested = await pilot(['test-ssh', 'box'], home, env);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/\(openssh\)/);
    expect(tested.stdout).toContain(`hop 1         pilot@127.0.0.1:${cluster().port}  host key ${fp}  login: key ${cluster().key}\n`);
  });

  it('a changed key: refused showing the NEW fingerprint; pilot trust never replaces it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-kh-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
    const kh = join(dir, 'known_hosts');
    const old = `[127.0.0.1]:${cluster().port} ${readFileSync(join(dir, 'other.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
    writeFileSync(kh, old);
    const { home, env } = aliasHome(kh);
    const r = await pilot(['test-ssh', 'box'], home, env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does NOT match known_hosts/);
    expect(r.stderr).toContain(realFingerprint());
    expect(r.stderr).toContain('pilot trust box');
    const t = await pilot(['trust', 'box', '--fingerprint', realFingerprint()], home, env);
    expect(t.code).not.toBe(0);
    expect(t.stderr).toMatch(/does NOT match the key recorded/);
    expect(readFileSync(kh, 'utf8')).toBe(old);
  });
});
