// A cluster named by a Host of the user's OpenSSH config (PILOT_SSH_CONFIG, with Include and a ProxyJump
// through the bastion): launch, status and logs end to end, as `ssh hpc` would reach it.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pilot } from '../support/cli.js';
import { cluster } from '../support/cluster.js';
import { lab } from '../support/ssh-lab.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'echo-argv');

/** A test HOME with ~/.ssh/config including conf.d/, where `hpc` jumps through `jump` (the bastion). */
function sshHome(): { dir: string; config: string } {
  const L = lab();
  const dir = mkdtempSync(join(tmpdir(), 'pilot-sshhome-'));
  mkdirSync(join(dir, '.ssh', 'conf.d'), { recursive: true });
  // OpenSSH reads the passwd home, not $HOME: every path is written absolute
  const config = join(dir, '.ssh', 'config');
  writeFileSync(config, `Include ${dir}/.ssh/conf.d/*\n\nHost *\n  IdentityAgent none\n  UserKnownHostsFile ${L.knownHosts}\n  StrictHostKeyChecking yes\n`);
  writeFileSync(join(dir, '.ssh', 'conf.d', 'hpc'), [
    'Host hpc', '  HostName 127.0.0.1', `  Port ${L.targetPort}`, `  User ${L.user}`, `  IdentityFile ${L.key}`, '  IdentitiesOnly yes', '  ProxyJump jump',
    'Host jump', '  HostName 127.0.0.1', `  Port ${L.bastionPort}`, `  User ${L.user}`, `  IdentityFile ${L.key}`,
  ].join('\n') + '\n');
  return { dir, config };
}

describe('a Host of ~/.ssh/config as the cluster', () => {
  it('runs launch --wait, status and logs through the jump host named by ProxyJump', async () => {
    const { dir, config } = sshHome();
    const env = { HOME: dir, PILOT_SSH_CONFIG: config };
    const home = mkdtempSync(join(tmpdir(), 'pilot-home-'));
    // only the remote folder is pilot's own business: everything else comes from the alias
    writeFileSync(join(home, 'config.yaml'), `clusters:\n  hpc:\n    sshAlias: hpc\n    remoteDir: ~/pilot-tests/${home.split('/').pop()}\n    partition: ${cluster().partition}\n`);
    const bastionLog = () => readFileSync(lab().bastionLog, 'utf8').split('\n').filter((l) => l.includes(`port ${lab().targetPort}`)).length;
    const forwardsBefore = bastionLog();

    const job = join(mkdtempSync(join(tmpdir(), 'pilot-aliasjob-')), 'job.yaml');
    writeFileSync(job, `jobName: via-alias\ncluster: hpc\nsrcDir: ${FIXTURE}\nentrypoint: echo.sh\nargs: ["one", "two words"]\ntime: "0:05:00"\n`);
    const launched = await pilot(['launch', job, '--wait', '--verbose'], home, env);
    expect(launched.code, launched.stderr).toBe(0);
    expect(launched.stderr).toMatch(/verbose: hpc: 1 connection/);
    const status = await pilot(['status', 'via-alias', '--json'], home, env);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).counts).toEqual({ COMPLETED: 2 });
    const logs = await pilot(['logs', 'via-alias/2'], home, env);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('task=2');
    // the connection went through the bastion
    expect(bastionLog()).toBeGreaterThan(forwardsBefore);

    const tested = await pilot(['test-ssh', 'hpc'], home, env);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/route +pilot@127\.0\.0\.1:2222 via pilot@127\.0\.0\.1:2224/);
    expect(tested.stdout).toMatch(/hop 1 +pilot@127\.0\.0\.1:2224 .*\n +hop 2 +pilot@127\.0\.0\.1:2222 /);
  });

  it('takes a name that is in no config.yaml as the alias itself; a typo gets the list of clusters', async () => {
    const { dir, config } = sshHome();
    const env = { HOME: dir, PILOT_SSH_CONFIG: config };
    const home = mkdtempSync(join(tmpdir(), 'pilot-home-'));
    const tested = await pilot(['test-ssh', 'hpc'], home, env);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/^hpc: connected/);
    const typo = await pilot(['test-ssh', 'hcp'], home, env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown cluster 'hcp': no cluster named hcp in config\.yaml, no Host hcp in .*config, and no host of that name\nhint: known clusters: local/);
  });

  it('the openssh transport takes the same alias (ssh -F, ProxyJump by ssh itself) and runs a job', async () => {
    const { dir, config } = sshHome();
    const env = { HOME: dir, PILOT_SSH_CONFIG: config, PILOT_CONTROL_PERSIST: '20' };
    const home = mkdtempSync(join(tmpdir(), 'pilot-home-'));
    writeFileSync(join(home, 'config.yaml'), `clusters:\n  hpc:\n    sshAlias: hpc\n    transport: openssh\n    remoteDir: ~/pilot-tests/${home.split('/').pop()}\n`);
    const job = join(mkdtempSync(join(tmpdir(), 'pilot-aliasjob-')), 'job.yaml');
    writeFileSync(job, `jobName: via-alias-openssh\ncluster: hpc\nsrcDir: ${FIXTURE}\nentrypoint: echo.sh\nargs: ["x"]\ntime: "0:05:00"\n`);
    // a fresh master: ssh -v tells each hop's host key and login (the jump's own ssh writes to stderr)
    const first = await pilot(['test-ssh', 'hpc'], home, env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/hop 1 +pilot@127\.0\.0\.1:2224 +host key SHA256:\S{43} +login: key \S+\n +hop 2 +pilot@127\.0\.0\.1:2222 +host key SHA256:\S{43} +login: key /);
    const launched = await pilot(['launch', job, '--wait'], home, env);
    expect(launched.code, launched.stderr).toBe(0);
    const logs = await pilot(['logs', 'via-alias-openssh/1'], home, env);
    expect(logs.stdout).toContain('task=1');
    const tested = await pilot(['test-ssh', 'hpc'], home, env);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/^hpc: connected in \d+ ms \(openssh\)/);
    expect(tested.stdout).toMatch(/login +through the running ssh master \(no new login\)/);
  });
});
