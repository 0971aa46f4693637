// Resolving OpenSSH host aliases with the real `ssh -G` (local, no daemon): each test writes its own config
// file and passes it as PILOT_SSH_CONFIG in an explicit env (OpenSSH reads ~/.ssh/config from the passwd home,
// which a test cannot move).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PilotError } from '../../src/model/errors.js';
import {
  formatProxyJump, hopFromSshG, hostKeyPolicy, isNoSshClient, parseProxyJump, parseSshG, resolveSshHop, resolveSshRoute,
} from '../../src/transport/ssh-config.js';

const HOME = userInfo().homedir;

/** A temp folder with `config` holding `text`; returns the env to resolve with. */
function sshConfig(text: string, extra: Record<string, string> = {}): { env: NodeJS.ProcessEnv; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-sshcfg-'));
  for (const [name, body] of Object.entries(extra)) writeFileSync(join(dir, name), body.replaceAll('$DIR', dir));
  writeFileSync(join(dir, 'config'), text.replaceAll('$DIR', dir));
  return { env: { ...process.env, PILOT_SSH_CONFIG: join(dir, 'config') }, dir };
}

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as PilotError);

describe('parsing ssh -G output (recorded from OpenSSH 9.2)', () => {
  // an excerpt of `ssh -G -F cfg lab`: IdentityFile is printed unexpanded (~ and %h), known-hosts expanded
  const RECORDED = [
    'host lab', 'user alice', 'hostname login.example.org', 'port 2200', 'identitiesonly no',
    'kbdinteractiveauthentication yes', 'passwordauthentication no', 'pubkeyauthentication true',
    'stricthostkeychecking false', 'serveralivecountmax 3', 'serveraliveinterval 0', 'hostkeyalias labkey',
    'identityfile ~/.ssh/id_a', 'identityfile /keys/%h_%r_%p_%n_%u_%%',
    'globalknownhostsfile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2',
    'userknownhostsfile /home/u/.ssh/kh1 /dev/null /tmp/kh2', 'connecttimeout none', 'proxyjump bastion,bob@gw2:2022',
  ].join('\n');

  it('keeps repeated keys in order', () => {
    expect(parseSshG(RECORDED).get('identityfile')).toEqual(['~/.ssh/id_a', '/keys/%h_%r_%p_%n_%u_%%']);
  });

  it('builds the hop, expanding ~ and % tokens as ssh does when it connects', () => {
    const { hop, proxyJump, proxyCommand } = hopFromSshG('lab', RECORDED, { home: '/home/u', localUser: 'me', uid: 1000, localHost: 'laptop' });
    expect(hop).toMatchObject({ alias: 'lab', host: 'login.example.org', port: 2200, user: 'alice', identitiesOnly: false,
      strictHostKeyChecking: 'accept-new', hostKeyAlias: 'labkey', passwordAuthentication: false, pubkeyAuthentication: true,
      connectTimeoutMs: 20_000, serverAliveIntervalMs: 10_000, serverAliveCountMax: 3 });
    expect(hop.identityFiles).toEqual(['/home/u/.ssh/id_a', '/keys/login.example.org_alice_2200_lab_me_%']);
    expect(hop.knownHostsFiles).toEqual(['/home/u/.ssh/kh1', '/tmp/kh2', '/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
    expect(hop.identityAgent).toBeUndefined();
    expect(proxyJump).toEqual([{ host: 'bastion' }, { host: 'gw2', user: 'bob', port: 2022 }]);
    expect(proxyCommand).toBeUndefined();
  });

  it('parses ProxyJump specs', () => {
    expect(parseProxyJump('none')).toEqual([]);
    expect(parseProxyJump('a,u@b:23,ssh://v@c:24,ssh://d,[::1]:25,w@[fe80::1]')).toEqual([
      { host: 'a' }, { host: 'b', user: 'u', port: 23 }, { host: 'c', user: 'v', port: 24 }, { host: 'd' },
      { host: '::1', port: 25 }, { host: 'fe80::1', user: 'w' }]);
    expect(formatProxyJump(parseProxyJump('a,u@b:23,[::1]:25'))).toBe('a,u@b:23,[::1]:25');
    expect(() => parseProxyJump('a:99999')).toThrow(/invalid port/);
    expect(() => parseProxyJump('a,,b')).toThrow(/names no host/);
  });

  it('maps StrictHostKeyChecking: no/off never accepts a changed key', () => {
    expect(['yes', 'true', 'no', 'off', 'false', 'accept-new', 'ask'].map(hostKeyPolicy))
      .toEqual(['yes', 'yes', 'accept-new', 'accept-new', 'accept-new', 'accept-new', 'ask']);
  });
});

describe('resolving with the real ssh -G', () => {
  it('follows Include, Match host, %h and Host wildcards; several IdentityFile in order', async () => {
    const { env, dir } = sshConfig('Include $DIR/inc.conf\nMatch host *.cluster.example\n  Port 2201\nHost l*\n  IdentityFile ~/.ssh/id_%r_%h\n  IdentityFile $DIR/common\n',
      { 'inc.conf': 'Host lab\n  HostName %h.cluster.example\n  User alice\n' });
    const { hop } = await resolveSshHop('lab', { env });
    expect(hop).toMatchObject({ alias: 'lab', host: 'lab.cluster.example', port: 2201, user: 'alice' });
    expect(hop.identityFiles).toEqual([join(HOME, '.ssh/id_alice_lab.cluster.example'), join(dir, 'common')]);
    // a name the wildcard does not match gets none of it
    const other = await resolveSshHop('other.example', { env });
    expect(other.hop).toMatchObject({ host: 'other.example', port: 22 });
    expect(other.hop.identityFiles).not.toContain(join(dir, 'common'));
  });

  it('reads the known-hosts lists (user files first, /dev/null skipped), HostKeyAlias, timeouts and methods', async () => {
    const { env } = sshConfig(['Host k',
      '  UserKnownHostsFile ~/kh_a /dev/null /tmp/kh_b', '  GlobalKnownHostsFile /etc/g1', '  HostKeyAlias cluster-key',
      '  ConnectTimeout 7', '  ServerAliveInterval 15', '  ServerAliveCountMax 5', '  IdentitiesOnly yes', '  IdentityAgent none',
      '  KbdInteractiveAuthentication no', '  PasswordAuthentication no', 'Host d', '  IdentityAgent ~/agent.sock'].join('\n'));
    const { hop } = await resolveSshHop('k', { env });
    expect(hop.knownHostsFiles).toEqual([join(HOME, 'kh_a'), '/tmp/kh_b', '/etc/g1']);
    expect(hop).toMatchObject({ hostKeyAlias: 'cluster-key', connectTimeoutMs: 7000, serverAliveIntervalMs: 15_000, serverAliveCountMax: 5,
      identitiesOnly: true, identityAgent: 'none', kbdInteractiveAuthentication: false, passwordAuthentication: false, pubkeyAuthentication: true });
    const d = (await resolveSshHop('d', { env })).hop;
    expect(d).toMatchObject({ identityAgent: join(HOME, 'agent.sock'), connectTimeoutMs: 20_000, serverAliveIntervalMs: 10_000, identitiesOnly: false });
    expect(d.hostKeyAlias).toBeUndefined();
  });

  it('maps StrictHostKeyChecking as ssh -G prints it', async () => {
    const values = ['yes', 'no', 'off', 'ask', 'accept-new'];
    const { env } = sshConfig(values.map((v, i) => `Host h${i}\n  StrictHostKeyChecking ${v}\n`).join(''));
    const got = await Promise.all(values.map(async (_, i) => (await resolveSshHop(`h${i}`, { env })).hop.strictHostKeyChecking));
    expect(got).toEqual(['yes', 'accept-new', 'accept-new', 'ask', 'accept-new']);
  });

  it('resolves a multi-hop ProxyJump, each hop with its own Host block, as OpenSSH chains them', async () => {
    const { env } = sshConfig([
      'Host lab', '  HostName lab.internal', '  User alice', '  ProxyJump gw1,carol@gw2:2022',
      'Host gw1', '  HostName gw1.example', '  User g1', '  Port 2201', '  IdentityFile /keys/g1', '  ProxyJump outer',
      'Host gw2', '  HostName gw2.example', '  User g2', '  Port 2202', '  IdentityFile /keys/g2', '  ProxyJump ignored',
      'Host outer', '  HostName outer.example', '  User o', '  IdentityFile /keys/o',
    ].join('\n'));
    const route = await resolveSshRoute('lab', { env });
    expect(route.target).toMatchObject({ host: 'lab.internal', user: 'alice' });
    // gw1's own ProxyJump comes first; gw2's is overridden (ssh reaches gw2 with -J gw1); -l/-p of the spec win
    expect(route.jumps.map((j) => [j.alias, j.host, j.user, j.port, j.identityFiles])).toEqual([
      ['outer', 'outer.example', 'o', 22, ['/keys/o']],
      ['gw1', 'gw1.example', 'g1', 2201, ['/keys/g1']],
      ['gw2', 'gw2.example', 'carol', 2022, ['/keys/g2']],
    ]);
  });

  it('refuses a ProxyJump loop and a chain deeper than 8', async () => {
    const loop = sshConfig('Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n');
    expect((await failure(resolveSshRoute('a', { env: loop.env }))).message).toMatch(/ProxyJump loop: a -> b -> a/);
    const deep = sshConfig(Array.from({ length: 10 }, (_, i) => `Host h${i}\n  ProxyJump h${i + 1}\n`).join(''));
    expect((await failure(resolveSshRoute('h0', { env: deep.env }))).message).toMatch(/longer than 8 hops/);
    const ok = sshConfig(Array.from({ length: 8 }, (_, i) => `Host h${i}\n  ProxyJump h${i + 1}\n`).join(''));
    expect((await resolveSshRoute('h0', { env: ok.env })).jumps.map((j) => j.alias)).toEqual(['h8', 'h7', 'h6', 'h5', 'h4', 'h3', 'h2', 'h1']);
  });

  it('refuses ProxyCommand for ssh2, leaves it to the system ssh for openssh', async () => {
    const { env } = sshConfig('Host pc\n  ProxyCommand nc %h %p\n');
    const e = await failure(resolveSshRoute('pc', { env }));
    expect(e).toBeInstanceOf(PilotError);
    expect(e.message).toMatch(/ProxyCommand \(nc %h %p\)/);
    expect(e.hint).toMatch(/transport: openssh/);
    expect((await resolveSshRoute('pc', { env, transport: 'openssh' })).jumps).toEqual([]);
  });

  it('shows ssh -G\'s own error for a bad config', async () => {
    const { env } = sshConfig('Host x\n  NoSuchOption 1\n');
    const e = await failure(resolveSshHop('x', { env }));
    expect(e.code).toBe('CONFIG');
    expect(e.message).toMatch(/line 2: Bad configuration option: nosuchoption/i);
  });

  it('without an ssh client on PATH: a clear error saying what to install', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pilot-nossh-'));
    mkdirSync(join(empty, 'bin'));
    const e = await failure(resolveSshHop('lab', { env: { PATH: join(empty, 'bin') } }));
    expect(e.code).toBe('CONFIG');
    expect(isNoSshClient(e)).toBe(true);
    expect(e.message).toMatch(/no `ssh` client found on PATH/);
    expect(e.hint).toMatch(/openssh-client/);
    expect(e.hint).toMatch(/config\.yaml/);
  });
});
