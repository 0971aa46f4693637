// The cluster commands as a user runs them: test-ssh's report, trust (nothing written without consent),
// add-cluster (config.yaml edited in place, then tested).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pilot, pilotOnTty } from '../support/cli.js';
import { cluster, makeHome } from '../support/cluster.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pilot-cc-'));
const hostLine = () => readFileSync(cluster().knownHosts, 'utf8').split('\n').find((l) => l.startsWith(`[127.0.0.1]:${cluster().port} `))!;

describe('pilot test-ssh', () => {
  it('reports the route, host key, login, round trip and what pilot needs from Slurm', async () => {
    const home = makeHome();
    const r = await pilot(['test-ssh', 'lab'], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^lab: connected in \d+ ms \(ssh2\)/);
    expect(r.stdout).toMatch(/hop 1 +pilot@127\.0\.0\.1:2222 +host key SHA256:\S{43} +login: key \S+id_ed25519/);
    expect(r.stdout).toMatch(/round trip +\d+ ms/);
    expect(r.stdout).toMatch(/slurm +slurm-wlm \d+\.\d+\.\d+; 6 commands found/);
    expect(r.stdout).toMatch(/controller +up/);
    expect(r.stdout).toMatch(/MaxArraySize +\d+/);
    expect(r.stdout).toMatch(/accounting +on/);
    expect(r.stdout).toMatch(/remote dir +\/home\/pilot\/pilot-tests\/\S+ \(writable\)/);
    const json = JSON.parse((await pilot(['test-ssh', 'lab', '--json'], home)).stdout);
    expect(json).toMatchObject({ cluster: 'lab', ok: true, controllerUp: true, accounting: true, problems: [] });
    expect(json.commands.sbatch).toMatch(/\/sbatch$/);
  });

  it('exits 1 and says what is missing when the remote folder is not writable', async () => {
    const home = makeHome('    maxArraySize: 10');
    writeFileSync(join(home, 'config.yaml'), readFileSync(join(home, 'config.yaml'), 'utf8').replace(/remoteDir: .*/, 'remoteDir: /proc/pilot'));
    const r = await pilot(['test-ssh', 'lab'], home);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/remote dir +NOT writable/);
    expect(r.stdout).toMatch(/problems:\n {2}- the remote folder is not writable/);
  });
});

describe('pilot trust', () => {
  it('an unknown host is refused with its fingerprint; trust with the right fingerprint records it; a wrong one writes nothing', async () => {
    const kh = join(tmp(), 'known_hosts');
    writeFileSync(kh, '');
    const home = makeHome();
    writeFileSync(join(home, 'config.yaml'), readFileSync(join(home, 'config.yaml'), 'utf8').replace(/knownHosts: .*/, `knownHosts: ${kh}`));
    const refused = await pilot(['test-ssh', 'lab'], home);
    expect(refused.code).toBe(1);
    const fp = /(SHA256:\S{43})/.exec(refused.stderr)?.[1];
    expect(fp, refused.stderr).toBeDefined();
    expect(refused.stderr).toContain('pilot trust lab');

    const noTty = await pilot(['trust', 'lab'], home);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toMatch(/not a terminal.*\n.*--fingerprint/);
    const other = `SHA256:${'A'.repeat(43)}`;
    const wrong = await pilot(['trust', 'lab', '--fingerprint', other], home);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`does NOT match --fingerprint ${other}`);
    expect(readFileSync(kh, 'utf8')).toBe('');

    const ok = await pilot(['trust', 'lab', '--fingerprint', fp!], home);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`added [127.0.0.1]:2222 ssh-ed25519 ${fp} to ${kh}`);
    expect(readFileSync(kh, 'utf8').trim()).toBe(hostLine().trim());
    expect((await pilot(['test-ssh', 'lab'], home)).code).toBe(0);
    const again = await pilot(['trust', 'lab', '--fingerprint', fp!], home);
    expect(again.stdout).toMatch(/every host key on the way is already trusted/);
  });
});

describe('pilot add-cluster', () => {
  it('adds an entry (keeping the comments of config.yaml), tests it, refuses a duplicate and a missing host', async () => {
    const c = cluster();
    const home = makeHome();
    const file = join(home, 'config.yaml');
    writeFileSync(file, `# my clusters\n${readFileSync(file, 'utf8')}`);
    const args = ['add-cluster', 'lab2', '--host', c.host, '--port', String(c.port), '--user', c.user, '--identity-file', c.key,
      '--known-hosts', c.knownHosts, '--remote-dir', `~/pilot-tests/${home.split('/').pop()}-2`, '--partition', c.partition];
    const r = await pilot(args, home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`added cluster lab2 to ${file}`);
    expect(r.stdout).toMatch(/lab2: connected in \d+ ms/);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('# my clusters\n')).toBe(true);
    expect(text).toMatch(/ {2}lab2:\n {4}host: 127\.0\.0\.1\n {4}user: pilot\n {4}port: 2222/);
    const dup = await pilot(args, home);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/cluster 'lab2' is already in .*\nhint: .*--force/);
    const bare = await pilot(['add-cluster', 'lab3'], home);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/needs --alias or --host/);
    const bad = await pilot(['add-cluster', 'lab4', '--host', 'h', '--partition', 'a\nb'], home);
    expect(bad.code).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});

describe('pilot trust on a terminal', () => {
  it('shows the fingerprint and asks; "no" writes nothing, "yes" appends the key', async () => {
    const kh = join(tmp(), 'known_hosts');
    writeFileSync(kh, '');
    const home = makeHome();
    writeFileSync(join(home, 'config.yaml'), readFileSync(join(home, 'config.yaml'), 'utf8').replace(/knownHosts: .*/, `knownHosts: ${kh}`));
    const no = await pilotOnTty(['trust', 'lab'], home, [{ when: /\(yes\/no\)/, say: 'no' }]);
    expect(no.stdout).toMatch(/ssh-ed25519 key fingerprint: SHA256:\S{43}/);
    expect(no.code).toBe(1);
    expect(no.stdout).toMatch(/was not trusted: nothing written/);
    expect(readFileSync(kh, 'utf8')).toBe('');
    const yes = await pilotOnTty(['trust', 'lab'], home, [{ when: /\(yes\/no\)/, say: 'yes' }]);
    expect(yes.code, yes.stdout).toBe(0);
    expect(readFileSync(kh, 'utf8').trim()).toBe(hostLine().trim());
  });
});

describe('pilot add-cluster: an alias, and the questions on a terminal', () => {
  it('--alias writes sshAlias and tests the connection through the OpenSSH config', async () => {
    const c = cluster();
    const dir = tmp();
    const config = join(dir, 'ssh_config');
    writeFileSync(config, ['Host hpc', '  HostName 127.0.0.1', `  Port ${c.port}`, `  User ${c.user}`, `  IdentityFile ${c.key}`, '  IdentitiesOnly yes',
      '  IdentityAgent none', `  UserKnownHostsFile ${c.knownHosts}`, '  StrictHostKeyChecking yes', ''].join('\n'));
    const home = makeHome();
    const r = await pilot(['add-cluster', 'viaalias', '--alias', 'hpc', '--remote-dir', `~/pilot-tests/${home.split('/').pop()}-a`], home, { PILOT_SSH_CONFIG: config });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(home, 'config.yaml'), 'utf8')).toMatch(/ {2}viaalias:\n {4}sshAlias: hpc\n {4}remoteDir: /);
    expect(r.stdout).toMatch(/viaalias: connected in \d+ ms \(ssh2\)/);
    expect(r.stdout).toMatch(/hop 1 +pilot@127\.0\.0\.1:2222 +host key SHA256:/);
  });

  it('asks for what is missing; an unknown host key is refused with `pilot trust NAME` said once, the entry kept', async () => {
    const c = cluster();
    const home = makeHome();
    const userHome = tmp();   // ~/.ssh/known_hosts of this HOME is empty: the host is unknown
    mkdirSync(join(userHome, '.ssh'));
    writeFileSync(join(userHome, '.ssh', 'known_hosts'), '');
    const remote = `~/pilot-tests/${home.split('/').pop()}-i`;
    const r = await pilotOnTty(['add-cluster', 'asked'], home, [
      { when: /Host alias from/, say: '' },
      { when: /Host name or address\?/, say: c.host },
      { when: /User name on the cluster\?/, say: c.user },
      { when: /Port\? \[22\]/, say: String(c.port) },
      { when: /Private key file/, say: c.key },
      { when: /folder on the cluster\?/, say: remote },
      { when: /Default Slurm partition/, say: c.partition },
    ], { HOME: userHome });
    expect(r.stdout).toContain('added cluster asked to');
    const text = readFileSync(join(home, 'config.yaml'), 'utf8');
    expect(text).toContain(`  asked:\n    host: ${c.host}\n    user: ${c.user}\n    port: ${c.port}\n    identityFile: ${c.key}\n    remoteDir: ${remote}\n    partition: ${c.partition}\n`);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/is not a known host/);
    expect(r.stdout.split('pilot trust asked').length - 1).toBe(1);
    expect(readFileSync(join(userHome, '.ssh', 'known_hosts'), 'utf8')).toBe('');
  });
});
