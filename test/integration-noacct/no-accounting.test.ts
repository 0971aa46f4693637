// Without accounting (sacct: "Slurm accounting storage is disabled") status falls back to squeue + scontrol.
// This file restarts the test cluster's slurmctld with ACCOUNTING=0 and restores it afterwards, so vitest runs
// it in its own project after every other integration test (sequence.groupOrder).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { connect, makeHome } from '../support/cluster.js';
import type { JobRecord } from '../../src/model/record.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'echo-argv');
const up = (accounting: '0' | '1') =>
  execFileSync('bash', [join(ROOT, 'test/cluster/up.sh')], { env: { ...process.env, ACCOUNTING: accounting }, stdio: ['ignore', 'inherit', 'inherit'] });

describe('status without accounting', () => {
  beforeAll(() => up('0'));
  afterAll(async () => {
    // restarting slurmctld/slurmd under a running task can lose its completion: let the node drain first
    const ssh = await connect();
    for (let i = 0; i < 60; i++) {
      const r = await ssh.exec('squeue -h -u "$USER" -t RUNNING,COMPLETING | wc -l');
      if (r.stdout.trim() === '0') break;
      await new Promise((res) => setTimeout(res, 500));
    }
    await ssh.close();
    up('1');
  });

  it('sacct really is disabled on the test cluster now', async () => {
    const ssh = await connect();
    const r = await ssh.exec('sacct -X -n 2>&1');
    await ssh.close();
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(/accounting storage is disabled/i);
  });

  it('shows running and recently finished tasks with their exit codes', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    const probe = await w.scheduleJobs({ jobName: 'probe', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh' });
    const ssh = await connect();
    await ssh.exec(`touch ${probe.remoteDir}/../fail-3`);
    await ssh.close();
    await w.scheduleJobs({ jobName: 'noacct', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: ['1', '2', '3', '4', '5', '6'], maxConcurrent: 2, env: { SLEEP: '2' } });
    const seen = new Set<string>();
    const final = await w.wait('noacct', { minIntervalMs: 400, maxIntervalMs: 1000, timeoutMs: 90_000, onProgress: (s) => Object.keys(s.counts).forEach((k) => seen.add(k)) });
    await w.close();
    expect(seen.has('RUNNING')).toBe(true);
    expect(final.counts).toEqual({ COMPLETED: 5, FAILED: 1 });
    expect(final.tasks[2]).toMatchObject({ index: 3, state: 'FAILED', exitCode: 1 });
  });

  it('reports a task purged from squeue and scontrol as UNKNOWN, never COMPLETED', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    const job = await w.scheduleJobs({ jobName: 'purged', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', sbatchArgs: ['--hold'] });
    // point the record at an array id Slurm has never heard of: exactly what a purged job looks like
    const record = await w.store.read(job.name);
    const fake: JobRecord = { ...record, attempts: [{ ...record.attempts[0]!, arrays: [{ jobId: '999999', offset: 0, arraySpec: '1' }] }] };
    await w.store.write(fake);
    const s = await w.status(job.name);
    await w.close();
    expect(s.tasks[0]!.state).toBe('UNKNOWN');
    expect(s.done).toBe(false);
    const ssh = await connect();
    await ssh.exec(`scancel ${job.slurmJobIds.join(' ')}`);
    await ssh.close();
  });
});
