// Which cluster a name means: config.yaml entries (spelled out or `sshAlias`), and other names taken as OpenSSH
// aliases, resolved with the real `ssh -G` against a per-test config file passed in an explicit env.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { loadConfigFile, resolveCluster } from '../../src/engine/config.js';
import type { RemoteClusterConfig } from '../../src/model/cluster.js';
import type { PilotError } from '../../src/model/errors.js';

function setup(yaml: string, sshConfig = ''): { home: string; env: NodeJS.ProcessEnv; file: string } {
  const home = mkdtempSync(join(tmpdir(), 'pilot-cfg-'));
  if (yaml) writeFileSync(join(home, 'config.yaml'), yaml);
  const file = join(home, 'ssh_config');
  writeFileSync(file, sshConfig);
  return { home, file, env: { ...process.env, USER: 'me', PILOT_SSH_CONFIG: file } };
}

const remote = async (p: Promise<unknown>) => p as Promise<RemoteClusterConfig>;
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as PilotError);

const SSH = [
  'Host hpc-login', '  HostName real.example', '  User alice', '  Port 2200', '  IdentityFile /keys/a', '  ProxyJump gw',
  '  StrictHostKeyChecking no', '  UserKnownHostsFile /kh/ssh-config', '  GlobalKnownHostsFile /etc/g1',
  'Host gw', '  HostName gw.example', '  User jump', '  Port 2022', '  IdentityFile /keys/gw',
  'Host bastion', '  User jb', '  Port 2023', '  IdentityFile /keys/b',
].join('\n') + '\n';

describe('sshAlias entries', () => {
  it('take the Host of the OpenSSH config as is', async () => {
    const { home, env, file } = setup('clusters:\n  hpc: { sshAlias: hpc-login, remoteDir: /scratch/me, partition: gpu }\n', SSH);
    const c = await remote(resolveCluster(home, 'hpc', { env }));
    expect(c).toMatchObject({ kind: 'slurm', name: 'hpc', remoteDir: '/scratch/me', partition: 'gpu', transport: 'ssh2' });
    expect(c.ssh.target).toMatchObject({ host: 'real.example', user: 'alice', port: 2200, identityFiles: ['/keys/a'],
      knownHostsFiles: ['/kh/ssh-config', '/etc/g1'], strictHostKeyChecking: 'accept-new' });
    expect(c.ssh.jumps.map((j) => [j.host, j.user, j.port])).toEqual([['gw.example', 'jump', 2022]]);
    expect(c.openssh).toEqual({ destination: 'hpc-login', args: ['-F', file] });
  });

  it('are overridden by the fields the entry sets, for ssh2 and for the openssh command line alike', async () => {
    const { home, env, file } = setup(['clusters:', '  hpc:', '    sshAlias: hpc-login', '    host: other.example', '    port: 2222',
      '    user: bob', '    identityFile: [/keys/x, /keys/y]', '    knownHosts: /kh/one', '    proxyJump: bastion',
      '    strictHostKeyChecking: yes', ''].join('\n'), SSH);
    const c = await remote(resolveCluster(home, 'hpc', { env }));
    expect(c.ssh.target).toMatchObject({ host: 'other.example', port: 2222, user: 'bob', identityFiles: ['/keys/x', '/keys/y'],
      identitiesOnly: true, knownHostsFiles: ['/kh/one', '/etc/g1'], strictHostKeyChecking: 'yes' });
    expect(c.ssh.jumps.map((j) => [j.host, j.user, j.port, j.identityFiles])).toEqual([['bastion', 'jb', 2023, ['/keys/b']]]);
    expect(c.openssh.destination).toBe('hpc-login');
    expect(c.openssh.args).toEqual(['-F', file, '-o', 'HostName=other.example', '-p', '2222', '-l', 'bob', '-o', 'StrictHostKeyChecking=yes',
      '-J', 'bastion', '-o', 'UserKnownHostsFile="/kh/one"', '-i', '/keys/x', '-i', '/keys/y', '-o', 'IdentitiesOnly=yes']);
  });
});

describe('names not in config.yaml', () => {
  it('are OpenSSH aliases', async () => {
    const { home, env, file } = setup('clusters:\n  lab: { host: 10.0.0.1 }\n', SSH);
    const c = await remote(resolveCluster(home, 'hpc-login', { env }));
    expect(c).toMatchObject({ name: 'hpc-login', remoteDir: '~/pilot', transport: 'ssh2' });
    expect(c.ssh.target).toMatchObject({ alias: 'hpc-login', host: 'real.example', user: 'alice', port: 2200 });
    expect(c.ssh.jumps.map((j) => j.host)).toEqual(['gw.example']);
    expect(c.openssh).toEqual({ destination: 'hpc-login', args: ['-F', file] });
  });

  it('work as plain host names when no Host block matches, as `ssh NAME` does', async () => {
    const { home, env } = setup('', 'Host *\n  ServerAliveInterval 30\n');
    const c = await remote(resolveCluster(home, 'localhost', { env }));
    expect(c.ssh.target).toMatchObject({ host: 'localhost', port: 22, user: userInfo().username, serverAliveIntervalMs: 30_000 });
  });

  it('that match nothing and resolve nowhere get the helpful unknown-cluster error', async () => {
    const { home, env, file } = setup('clusters:\n  lab: { host: 10.0.0.1 }\n', SSH);
    const e = await failure(resolveCluster(home, 'hpc-lgoin', { env }));
    expect(e.code).toBe('CONFIG');
    expect(e.message).toBe(`unknown cluster 'hpc-lgoin': no cluster named hpc-lgoin in config.yaml, no Host hpc-lgoin in ${file}, and no host of that name`);
    expect(e.hint).toMatch(/known clusters: local, lab\./);
  });

  it('without an ssh client: the unknown-cluster error says so', async () => {
    const { home } = setup('clusters:\n  lab: { host: 10.0.0.1 }\n');
    const bin = mkdtempSync(join(tmpdir(), 'pilot-nossh-'));
    const e = await failure(resolveCluster(home, 'hpc-login', { env: { PATH: bin } }));
    expect(e.message).toMatch(/unknown cluster 'hpc-login'.*no `ssh` client on PATH/);
    expect(e.hint).toMatch(/known clusters: local, lab/);
  });
});

describe('entries spelled out in config.yaml', () => {
  it('are used as written, host keys checked strictly by default', async () => {
    const { home, env } = setup('clusters:\n  lab: { host: 10.0.0.1, port: 2222, identityFile: /keys/k, knownHosts: [/kh/1, /kh/2] }\n');
    const c = await remote(resolveCluster(home, 'lab', { env }));
    expect(c.ssh).toMatchObject({ jumps: [], target: { alias: 'lab', host: '10.0.0.1', port: 2222, user: 'me', identityFiles: ['/keys/k'],
      identitiesOnly: true, knownHostsFiles: ['/kh/1', '/kh/2'], strictHostKeyChecking: 'yes' } });
    expect(c.openssh).toEqual({ destination: 'me@10.0.0.1', args: ['-p', '2222', '-i', '/keys/k', '-o', 'IdentitiesOnly=yes',
      '-o', 'UserKnownHostsFile="/kh/1" "/kh/2"', '-o', 'StrictHostKeyChecking=yes'] });
  });

  it('resolve their proxyJump hops with ssh -G', async () => {
    const { home, env, file } = setup('clusters:\n  lab: { host: 10.0.0.1, identityFile: /keys/k, proxyJump: "bastion,u@gw:99", strictHostKeyChecking: ask }\n', SSH);
    const c = await remote(resolveCluster(home, 'lab', { env }));
    expect(c.ssh.jumps.map((j) => [j.alias, j.host, j.user, j.port, j.identityFiles])).toEqual([
      ['bastion', 'bastion', 'jb', 2023, ['/keys/b']], ['gw', 'gw.example', 'u', 99, ['/keys/gw']]]);
    expect(c.ssh.target.strictHostKeyChecking).toBe('ask');
    expect(c.openssh.args.slice(0, 2)).toEqual(['-F', file]);
    expect(c.openssh.args.slice(-2)).toEqual(['-J', 'bastion,u@gw:99']);
  });

  it('without an ssh client, take their proxyJump hops from the spec with the entry\'s key and known_hosts', async () => {
    const { home } = setup('clusters:\n  lab: { host: 10.0.0.1, user: al, identityFile: /keys/k, knownHosts: /kh/1, proxyJump: "bastion,u@gw:99" }\n', SSH);
    const bin = mkdtempSync(join(tmpdir(), 'pilot-nossh-'));
    mkdirSync(join(bin, 'x'));
    const c = await remote(resolveCluster(home, 'lab', { env: { PATH: bin } }));
    expect(c.ssh.jumps.map((j) => [j.host, j.user, j.port, j.identityFiles, j.knownHostsFiles, j.strictHostKeyChecking])).toEqual([
      ['bastion', 'al', 22, ['/keys/k'], ['/kh/1'], 'yes'], ['gw', 'u', 99, ['/keys/k'], ['/kh/1'], 'yes']]);
  });

  it('report mistakes naming the file and the allowed keys', async () => {
    const { home } = setup('clusters:\n  lab: { port: 22 }\n');
    const e = await failure(loadConfigFile(home));
    expect(e.message).toMatch(new RegExp(`${join(home, 'config.yaml')} is invalid: clusters\\.lab: needs \`host\` or \`sshAlias\``));
    expect(e.hint).toMatch(/allowed keys: sshAlias, host, port, user, identityFile, knownHosts, proxyJump, strictHostKeyChecking/);
    const bad = setup('clusters:\n  lab: { host: h, proxyJump: "gw:0" }\n');
    const e2 = await failure(resolveCluster(bad.home, 'lab', { env: bad.env }));
    expect(e2.message).toMatch(/config\.yaml: clusters\.lab: invalid ProxyJump 'gw:0'/);
    const e3 = await failure(loadConfigFile(setup('clusters:\n  lab: { host: h, strictHostKeyChecking: no }\n').home));
    expect(e3.message).toMatch(/strictHostKeyChecking/);
  });
});

describe('the checked copy of config.yaml (what spares a CLI command the YAML parser and the schema)', () => {
  const fresh = async () => {
    vi.resetModules();   // a new process: nothing checked in memory yet
    return (await import('../../src/engine/config-schema.js')).loadConfigFile;
  };
  it('is used while config.yaml is the file it was made from, and never after a change', async () => {
    const { home } = setup('clusters:\n  lab: { host: one.example }\n');
    expect((await (await fresh())(home)).lab?.host).toBe('one.example');
    const copyFile = join(home, 'cache', 'config.checked.json');
    const copy = JSON.parse(readFileSync(copyFile, 'utf8')) as { clusters: { lab: { host: string } }; checks: string };
    // a copy that says otherwise than the file shows which one was read
    copy.clusters.lab.host = 'from-the-copy.example';
    writeFileSync(copyFile, JSON.stringify(copy));
    expect((await (await fresh())(home)).lab?.host).toBe('from-the-copy.example');
    // checks of another pilot: not trusted
    writeFileSync(copyFile, JSON.stringify({ ...copy, checks: 'other' }));
    expect((await (await fresh())(home)).lab?.host).toBe('one.example');
    // config.yaml edited: read and checked again (an invalid edit is refused, whatever the copy says)
    writeFileSync(copyFile, JSON.stringify(copy));
    writeFileSync(join(home, 'config.yaml'), 'clusters:\n  lab: { host: two.example }\n');
    expect((await (await fresh())(home)).lab?.host).toBe('two.example');
    writeFileSync(join(home, 'config.yaml'), 'clusters:\n  lab: { host: two.example, colour: blue }\n');
    await expect((await fresh())(home)).rejects.toThrow(/colour/);
  });
});
