// The CLI as a user drives it, against the real cluster: launch from YAML, wait, logs --follow, download,
// status when the cluster is unreachable.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { pilot } from '../support/cli.js';
import { connect, makeHome } from '../support/cluster.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'echo-argv');

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-proj-'));
  cpSync(FIXTURE, join(dir, 'code'), { recursive: true });
  writeFileSync(join(dir, 'job.yaml'), [
    'jobName: from-yaml',
    'cluster: lab',
    'srcDir: code            # relative to this file',
    'entrypoint: echo.sh',
    'maxConcurrent: 2',
    'env: { SLEEP: "1" }',
    'args:',
    '  - --name "a b"',
    '  - [exact, "c d"]',
    '  - { lr: 0.1, fast: true }',
  ].join('\n'));
  return dir;
}

describe('pilot CLI on the test cluster', () => {
  it('launches from YAML (paths relative to the file), waits, prints JSON, downloads logs and outputs', async () => {
    const home = makeHome();
    const dir = project();
    const dry = await pilot(['launch', join(dir, 'job.yaml'), '--dry-run'], home);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('#SBATCH --array=1-3%2');
    expect(dry.stdout).toContain("--name 'a b'\nexact 'c d'\n--lr 0.1 --fast\n");
    expect(existsSync(join(home, 'jobs', 'from-yaml'))).toBe(false);

    const launched = await pilot(['launch', join(dir, 'job.yaml'), '--json'], home);
    expect(launched.code, launched.stderr).toBe(0);
    const j = JSON.parse(launched.stdout);
    expect(j).toMatchObject({ name: 'from-yaml', tasks: 3 });
    expect(j.slurmJobIds).toHaveLength(1);

    const waited = await pilot(['wait', 'from-yaml', '--timeout', '120'], home);
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stderr).toMatch(/from-yaml \[#+\] 3\/3/);           // plain progress lines off a TTY
    expect(waited.stdout).toMatch(/COMPLETED 3/);

    const again = await pilot(['launch', join(dir, 'job.yaml')], home);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
    expect(again.stderr).toMatch(/^hint: .*--unique/m);

    const to = join(dir, 'download');
    const dl = await pilot(['download', 'from-yaml', '--to', to], home);
    expect(dl.code, dl.stderr).toBe(0);
    const outs = readFileSync(join(to, 'logs', `${j.slurmJobIds[0]}_2.out`), 'utf8');
    expect(outs).toContain('task=2');
    expect(existsSync(join(to, 'outputs'))).toBe(true);

    const list = JSON.parse((await pilot(['list', '--json'], home)).stdout);
    expect(list.map((x: { name: string }) => x.name)).toEqual(['from-yaml']);
  });

  it('follows a running task log until it ends', async () => {
    const home = makeHome();
    const src = mkdtempSync(join(tmpdir(), 'pilot-follow-'));
    writeFileSync(join(src, 'slow.sh'), 'for i in 1 2 3 4; do echo "tick $i"; sleep 1; done\n');
    const w = new SlurmWrapper({ home });
    await w.scheduleJobs({ jobName: 'ticker', cluster: 'lab', srcDir: src, entrypoint: 'slow.sh' });
    await w.close();
    const r = await pilot(['logs', 'ticker/1', '--follow'], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('tick 1\ntick 2\ntick 3\ntick 4\n');
    const tail = await pilot(['logs', 'ticker/1', '--tail', '2'], home);
    expect(tail.stdout).toBe('tick 3\ntick 4\n');
  });

  it('keeps the last known states when the cluster cannot be reached', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    await w.scheduleJobs({ jobName: 'offline', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: ['1', '2'] });
    const done = await w.wait('offline', { minIntervalMs: 500, maxIntervalMs: 1000, timeoutMs: 60_000 });
    expect(done.counts).toEqual({ COMPLETED: 2 });
    await w.close();
    // a second job whose tasks are not final yet, then the cluster "goes away" (nothing listens on the port)
    const w2 = new SlurmWrapper({ home });
    const held = await w2.scheduleJobs({ jobName: 'later', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: ['1'], sbatchArgs: ['--hold'] });
    await w2.status('later');
    await w2.close();
    const cfg = join(home, 'config.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/port: \d+/, 'port: 1'));
    appendFileSync(cfg, '\n');
    const r = await pilot(['status', 'offline', 'later', '--json'], home);
    expect(r.code).toBe(0);
    const [off, later] = JSON.parse(r.stdout);
    expect(off.counts).toEqual({ COMPLETED: 2 });                 // final states come from the record
    expect(off.stale).toBeUndefined();
    // ssh2: "127.0.0.1:1 refused the connection"; openssh: "cannot connect to pilot@127.0.0.1:1 with the system ssh client: … Connection refused"
    expect(later.stale).toMatch(/127\.0\.0\.1:1 refused the connection|pilot@127\.0\.0\.1:1 .*Connection refused/);
    expect(later.tasks[0].state).toBe('PENDING');                 // last known, not lost
    const ssh = await connect();
    await ssh.exec(`scancel ${held.slurmJobIds.join(' ')}`);
    await ssh.close();
  });
});
