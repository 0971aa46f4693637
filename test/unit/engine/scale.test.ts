// The status path of big jobs over the fake cluster: what it writes and announces, and how restarted tasks of
// scattered indices map back to their own attempt. Behaviour only; bench/replay-scale.ts measures the cost.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeLab, framed, type FakeClusterOptions } from '../../support/fake-cluster.js';
import { latestAttemptOf } from '../../../src/model/tracking.js';
import { logPath } from '../../../src/model/attempts.js';

const SRC = join(import.meta.dirname, '..', '..', 'fixtures', 'echo-argv');
const T = '2026-11-24T00:00:00';

function setup(options: FakeClusterOptions) {
  const { home, cluster, pilot } = fakeLab(options);
  const job = (jobName: string, tasks: number) =>
    pilot.scheduleJobs({ jobName, cluster: 'lab', srcDir: SRC, entrypoint: 'echo.sh', args: Array.from({ length: tasks }, (_, i) => String(i + 1)) });
  return { home, cluster, pilot, job, recordFile: (name: string) => join(home, 'jobs', name, 'job.json') };
}

/** sacct rows of array `id`: tasks `from..to` in `state`, the rest one pending range row. */
const sacct = (id: string, n: number, upTo: number, state = 'COMPLETED', exit = (i: number) => (state === 'COMPLETED' ? '0:0' : '1:0')) =>
  [...Array.from({ length: upTo }, (_, k) => `${id}_${k + 1}|${Number(id) + k + 1}|${state}|${exit(k + 1)}|None|${T}|${T}`),
    ...(upTo < n ? [`${id}_[${upTo + 1}-${n}]|${id}|PENDING|0:0|None|Unknown|Unknown`] : [])].join('\n');
const squeuePending = (id: string, n: number, from: number) => Array.from({ length: n - from + 1 }, (_, k) => `${id}_${from + k}|PENDING|Priority`).join('\n');

describe('status of a big job', () => {
  it('rewrites the record only when a look changed something', async () => {
    const same = framed({ sacct: sacct('14', 3000, 1000), squeue: squeuePending('14', 3000, 1001) });
    const moved = framed({ sacct: sacct('14', 3000, 2000), squeue: squeuePending('14', 3000, 2001) });
    const { pilot, job, recordFile } = setup({ jobIds: ['14'], status: [same, same, moved] });
    await job('big', 3000);
    expect((await pilot.status('big')).counts).toEqual({ COMPLETED: 1000, PENDING: 2000 });
    const first = readFileSync(recordFile('big'), 'utf8');
    const firstInode = statSync(recordFile('big')).ino;
    // the same answer again: the file is the one written before (an atomic write would give a new inode)
    expect((await pilot.status('big')).counts).toEqual({ COMPLETED: 1000, PENDING: 2000 });
    expect(readFileSync(recordFile('big'), 'utf8')).toBe(first);
    expect(statSync(recordFile('big')).ino).toBe(firstInode);
    // 1000 more finished: stored
    expect((await pilot.status('big')).counts).toEqual({ COMPLETED: 2000, PENDING: 1000 });
    expect(Object.keys((await pilot.store.read('big')).finalStates)).toHaveLength(2000);
  });

  it('announces each changed task once, by its own number, and nothing when nothing changed', async () => {
    const half = framed({ sacct: sacct('14', 3000, 1500), squeue: squeuePending('14', 3000, 1501) });
    const { pilot, job } = setup({ jobIds: ['14'], status: [half, half] });
    await job('ann', 3000);
    const seen = new Map<number, string>();
    let finished = 0;
    pilot.on('taskChanged', (e) => {
      expect(seen.has(e.index)).toBe(false);
      seen.set(e.index, `${e.from}->${e.to}`);
    });
    pilot.on('jobFinished', () => finished++);
    await pilot.status('ann');
    expect(seen.size).toBe(3000);
    expect(seen.get(1)).toBe('UNKNOWN->COMPLETED');
    expect(seen.get(1500)).toBe('UNKNOWN->COMPLETED');
    expect(seen.get(1501)).toBe('UNKNOWN->PENDING');
    seen.clear();
    await pilot.status('ann');
    expect(seen.size).toBe(0);
    expect(finished).toBe(0);
  });

  it('maps the restart of scattered failed tasks back to their new attempt, and the others to the first', async () => {
    const n = 5000;
    const failed = (i: number) => i % 100 === 0;
    const done = framed({ sacct: Array.from({ length: n }, (_, k) => `14_${k + 1}|${15 + k}|${failed(k + 1) ? 'FAILED' : 'COMPLETED'}|${failed(k + 1) ? '1:0' : '0:0'}|None|${T}|${T}`).join('\n'), squeue: '' });
    const again = framed({ sacct: Array.from({ length: n / 100 }, (_, k) => `99_${(k + 1) * 100}|${200 + k}|COMPLETED|0:0|None|${T}|${T}`).join('\n'), squeue: '' });
    const { pilot, job } = setup({ jobIds: ['14', '99'], status: [done, again] });
    await job('scatter', n);
    expect((await pilot.status('scatter')).counts).toEqual({ COMPLETED: n - n / 100, FAILED: n / 100 });
    const r = await pilot.restartFailed('scatter');
    expect(r.indices).toHaveLength(n / 100);
    const record = await pilot.store.read('scatter');
    expect(latestAttemptOf(record, 100)).toBe(2);
    expect(latestAttemptOf(record, 101)).toBe(1);
    expect(latestAttemptOf(record, 5000)).toBe(2);
    expect(logPath(record, 4900, 2, 'out')).toBe('logs/99_4900.out');
    expect(logPath(record, 4901, 2, 'out')).toBeUndefined();
    const after = await pilot.status('scatter');
    expect(after.counts).toEqual({ COMPLETED: n });
    expect(after.tasks[99]).toMatchObject({ index: 100, attempt: 2, state: 'COMPLETED' });
    expect(after.tasks[100]).toMatchObject({ index: 101, attempt: 1, state: 'COMPLETED' });
  });
});
