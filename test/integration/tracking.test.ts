// Tracking on the real cluster (and on the local backend): per-task states, logs per attempt,
// restart-failed on the same bundle, one remote command for many jobs.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { pilot } from '../support/cli.js';
import { makeHome } from '../support/cluster.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'echo-argv');

function srcCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-src-'));
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** The folder holding job folders, where echo.sh looks for fail-<i> marker files. */
function jobsRoot(remoteDir: string): string {
  return join(remoteDir, '..');
}

describe.each(['lab', 'local'])('tracking on %s', (cluster) => {
  const isLocal = cluster === 'local';
  // the local backend's files are on this machine; the Slurm ones are reached as the test user via ssh
  async function touch(remoteDir: string, names: string[], on: boolean) {
    if (isLocal) {
      for (const n of names) {
        const path = join(jobsRoot(remoteDir), n);
        if (on) writeFileSync(path, '');
        else rmSync(path, { force: true });
      }
    } else {
      const { connect } = await import('../support/cluster.js');
      const ssh = await connect();
      await ssh.exec(`cd ${jobsRoot(remoteDir)} && ${on ? 'touch' : 'rm -f'} ${names.join(' ')}`);
      await ssh.close();
    }
  }

  it('reports exactly the failed tasks, restarts only them on the same bundle, keeps logs per attempt', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    // fail markers must exist before the tasks run; they live in the jobs/ folder, found through a probe job
    const probe = await w.scheduleJobs({ jobName: 'probe', cluster, srcDir: srcCopy(), entrypoint: 'echo.sh' });
    await touch(probe.remoteDir, ['fail-4', 'fail-7'], true);
    const args = Array.from({ length: 20 }, (_, i) => [`--task`, `${i + 1}`]);
    await w.scheduleJobs({ jobName: 'flaky', cluster, srcDir: srcCopy(), entrypoint: 'echo.sh', args, maxConcurrent: 5, time: '0:05:00' });
    const first = await w.wait('flaky', { minIntervalMs: 500, maxIntervalMs: 2000, timeoutMs: 120_000 });
    expect(first.counts).toEqual({ COMPLETED: 18, FAILED: 2 });
    expect(first.tasks.filter((t) => t.state === 'FAILED').map((t) => [t.index, t.exitCode])).toEqual([[4, 1], [7, 1]]);

    // logs of attempt 1 through the CLI
    await w.close();
    const out3 = await pilot(['logs', 'flaky/3'], home);
    expect(out3.code).toBe(0);
    expect(out3.stdout).toContain('task=3\n');
    const err4 = await pilot(['logs', 'flaky/4', '--stderr'], home);
    expect(err4.stdout).toBe('failing on purpose\n');

    // fix the cause, restart: exactly 4 and 7, no bundle upload
    await touch(probe.remoteDir, ['fail-4', 'fail-7'], false);
    const w2 = new SlurmWrapper({ home });
    const dry = await w2.restartFailed('flaky', { dryRun: true });
    expect(dry.indices).toEqual([4, 7]);
    const r = await w2.restartFailed('flaky');
    expect(r.indices).toEqual([4, 7]);
    expect(r.attempt).toBe(2);
    const stats = await w2.transportStats(cluster);
    if (stats) expect(stats.uploads).toBe(0);
    const second = await w2.wait('flaky', { minIntervalMs: 500, maxIntervalMs: 2000, timeoutMs: 120_000 });
    expect(second.counts).toEqual({ COMPLETED: 20 });
    expect(second.attempts).toBe(2);
    expect(second.tasks.filter((t) => t.attempt === 2).map((t) => t.index)).toEqual([4, 7]);
    await w2.close();

    // logs: latest attempt by default, --attempt 1 for the first
    const latest = await pilot(['logs', 'flaky/4', '--stderr'], home);
    expect(latest.stdout).toBe('');
    const old = await pilot(['logs', 'flaky/4', '--stderr', '--attempt', '1'], home);
    expect(old.stdout).toBe('failing on purpose\n');
    const bad = await pilot(['logs', 'flaky/3', '--attempt', '2'], home);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/did not run in attempt 2/);
    const range = await pilot(['logs', 'flaky/21'], home);
    expect(range.code).toBe(2);
    expect(range.stderr).toMatch(/flaky\/1 … flaky\/20/);

    const json = JSON.parse((await pilot(['status', 'flaky', '--json'], home)).stdout);
    expect(json.name).toBe('flaky');
    expect(json.cluster).toBe(cluster);
    expect(json.counts).toEqual({ COMPLETED: 20 });
    expect(json.tasks[3]).toMatchObject({ index: 4, state: 'COMPLETED', exitCode: 0, attempt: 2 });
  });

  it('asks the cluster once for the status of 10 jobs', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    const src = srcCopy();
    const names: string[] = [];
    for (let i = 0; i < 10; i++) names.push((await w.scheduleJobs({ jobName: `many-${i}`, cluster, srcDir: src, entrypoint: 'echo.sh', args: ['a', 'b'] })).name);
    const before = (await w.transportStats(cluster))?.commands;
    const statuses = await w.status(names);
    const after = (await w.transportStats(cluster))?.commands;
    expect(statuses).toHaveLength(10);
    if (!isLocal) expect(after! - before!).toBe(1);
    const done = await Promise.all(names.map((n) => w.wait(n, { minIntervalMs: 500, maxIntervalMs: 2000, timeoutMs: 120_000 })));
    expect(done.every((s) => s.counts.COMPLETED === 2)).toBe(true);
    // final states are stored: asking again sends nothing
    const again = (await w.transportStats(cluster))?.commands;
    await w.status(names);
    if (!isLocal) expect((await w.transportStats(cluster))!.commands).toBe(again);
    await w.close();
  });

  it('cancels one task and a whole job; list and status show it', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    await w.scheduleJobs({ jobName: 'long', cluster, srcDir: srcCopy(), entrypoint: 'echo.sh', args: ['1', '2', '3', '4'], maxConcurrent: 2, env: { SLEEP: '60' } });
    // wait until something runs
    for (let i = 0; i < 60; i++) {
      const s = await w.status('long');
      if ((s.counts.RUNNING ?? 0) >= 1) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await w.cancel('long/1');
    await w.cancel('long');
    const s = await w.wait('long', { minIntervalMs: 500, maxIntervalMs: 2000, timeoutMs: 60_000 });
    expect(s.counts).toEqual({ CANCELLED: 4 });
    await w.close();
    const list = await pilot(['list'], home);
    expect(list.stdout).toMatch(/^long\s+\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\S+\s+4\s+1\s+CANCELLED 4  \(done\)$/m);   // cluster, submitted, age
  });
});
