import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PilotError } from '../../src/model/errors.js';
import { JobStore } from '../../src/store/store.js';
import type { JobRecord } from '../../src/model/record.js';
import { applyObservations, jobStatus } from '../../src/model/tracking.js';
import { arrayFor, latestArrayFor, logPath, newestArrayFor } from '../../src/model/attempts.js';
import { rangesInclude } from '../../src/model/ranges.js';

function record(name: string, extra: Partial<JobRecord> = {}): JobRecord {
  return {
    version: 2, name, cluster: 'lab', backend: 'slurm', createdAt: new Date().toISOString(), tasks: 20, chunkSize: 7,
    info: {} as JobRecord['info'], bundle: { sha256: 'x', bytes: 1, files: 1 }, remote: { jobDir: '/r/jobs/j', bundleDir: '/r/bundles/x' },
    attempts: [
      { attempt: 1, submittedAt: '', indices: '1-20', arrays: [{ jobId: '10', offset: 0, arraySpec: '1-7' }, { jobId: '11', offset: 7, arraySpec: '1-7' }, { jobId: '12', offset: 14, arraySpec: '1-6' }] },
      { attempt: 2, submittedAt: '', indices: '4,9', arrays: [{ jobId: '20', offset: 0, arraySpec: '4' }, { jobId: '21', offset: 7, arraySpec: '2' }] },
    ],
    finalStates: {},
    ...extra,
  };
}

describe('JobStore', () => {
  it('reserves a name once; a second reservation fails or gets a suffix', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-store-')));
    expect(await store.reserve('job')).toBe('job');
    await expect(store.reserve('job')).rejects.toThrowError(PilotError);
    expect(await store.reserve('job', true)).toBe('job-2');
  });

  it('gives 20 concurrent reservations of one name 20 distinct names', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-store-')));
    const names = await Promise.all(Array.from({ length: 20 }, () => store.reserve('same', true)));
    expect(new Set(names).size).toBe(20);
  });

  it('serialises concurrent updates under the lock, and the file stays valid JSON', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-store-')));
    await store.write(record('j'));
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.update('j', (r) => ({ ...r, finalStates: { ...r.finalStates, [i + 1]: { index: i + 1, state: 'COMPLETED', exitCode: 0, attempt: 1 } } }))));
    const r = JSON.parse(readFileSync(join(store.jobDir('j'), 'job.json'), 'utf8')) as JobRecord;
    expect(Object.keys(r.finalStates)).toHaveLength(30);
  });

  it('lists recorded jobs and explains unknown names', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-store-')));
    await store.write(record('b'));
    await store.write(record('a'));
    await store.reserve('pending-only');
    expect(await store.names()).toEqual(['a', 'b']);
    await expect(store.read('zzz')).rejects.toThrowError(/no job named 'zzz'/);
  });
});

describe('attempt lookups', () => {
  const r = record('j');
  it('finds the array and log of a task in split arrays, per attempt', () => {
    expect(rangesInclude('1-3,7,9-10', 9)).toBe(true);
    expect(rangesInclude('1-3,7,9-10', 8)).toBe(false);
    expect(arrayFor(r, 16, 1)?.jobId).toBe('12');
    expect(logPath(r, 16, 1, 'out')).toBe('logs/12_2.out');
    expect(logPath(r, 9, 2, 'err')).toBe('logs/21_2.err');
    expect(latestArrayFor(r, 9)?.attempt).toBe(2);
    expect(latestArrayFor(r, 10)?.attempt).toBe(1);
    expect(arrayFor(r, 10, 2)).toBeUndefined();
  });

  it('answers latestArrayFor from one table per attempts list, as a search of the attempts newest first would', () => {
    // the reference: the newest attempt whose array (arrayFor) holds the task; newestArrayFor is that search
    const search = (rec: JobRecord, t: number) => {
      for (let i = rec.attempts.length - 1; i >= 0; i--) {
        const array = arrayFor(rec, t, rec.attempts[i]!.attempt);
        if (array) return { attempt: rec.attempts[i]!.attempt, array };
      }
      return undefined;
    };
    const sweep = record('s', {
      tasks: 12, chunkSize: 100,
      attempts: [
        // a sweep's two resource sets: arrays sharing offset 0, found by their task lists
        { attempt: 1, submittedAt: '', indices: '1-12', arrays: [{ jobId: '30', offset: 0, arraySpec: '1-6', tasks: '1-3,7-9' }, { jobId: '31', offset: 0, arraySpec: '4-12', tasks: '4-6,10-12' }] },
        { attempt: 2, submittedAt: '', indices: '5,7', arrays: [{ jobId: '40', offset: 0, arraySpec: '7', tasks: '7' }] },
        { attempt: 3, submittedAt: '', indices: '2', arrays: [] },
      ],
    });
    const base0 = record('z', { tasks: 5, chunkSize: 2, info: { arrayBase: 0 } as JobRecord['info'], attempts: [{ attempt: 1, submittedAt: '', indices: '0-4', arrays: [{ jobId: '50', offset: 0, arraySpec: '0-1' }, { jobId: '51', offset: 2, arraySpec: '0-1' }, { jobId: '52', offset: 4, arraySpec: '0' }] }] });
    for (const rec of [r, sweep, base0]) {
      for (let t = -1; t <= rec.tasks + 1; t++) {
        expect(latestArrayFor(rec, t), `${rec.name} task ${t}`).toEqual(search(rec, t));
        expect(newestArrayFor(rec, t), `${rec.name} task ${t}`).toEqual(search(rec, t));
      }
    }
    expect(latestArrayFor(sweep, 7)?.array.jobId).toBe('40');
    expect(latestArrayFor(sweep, 5)?.array.jobId).toBe('31');   // attempt 2 planned 5 but no array of it held 5
    expect(latestArrayFor(base0, 4)?.array.jobId).toBe('52');
    // a record with a new attempt (records are replaced, never changed) gets its own table
    const more = { ...r, attempts: [...r.attempts, { attempt: 3, submittedAt: '', indices: '10', arrays: [{ jobId: '60', offset: 7, arraySpec: '3' }] }] };
    expect(latestArrayFor(more, 10)?.array.jobId).toBe('60');
    expect(latestArrayFor(r, 10)?.array.jobId).toBe('11');
    // and one pushed onto the same list (as a test or an SDK user may do) is seen too
    const pushed = record('p');
    expect(latestArrayFor(pushed, 10)?.array.jobId).toBe('11');
    pushed.attempts.push({ attempt: 3, submittedAt: '', indices: '10', arrays: [{ jobId: '70', offset: 7, arraySpec: '3' }] });
    expect(latestArrayFor(pushed, 10)?.array.jobId).toBe('70');
  });
});

describe('jobStatus', () => {
  it('counts from the record and builds the task views only when they are read, once', () => {
    const r0 = record('j', { tasks: 3, attempts: [{ attempt: 1, submittedAt: '', indices: '1-3', arrays: [{ jobId: '1', offset: 0, arraySpec: '1-3' }] }] });
    const r1 = applyObservations(r0, new Map([
      [1, { index: 1, state: 'COMPLETED', exitCode: 0, attempt: 1 }],
      [2, { index: 2, state: 'FAILED', exitCode: null, attempt: 1, provisional: true }],
      [3, { index: 3, state: 'FAILED', exitCode: 2, attempt: 1 }],
    ]));
    const s = jobStatus(r1);
    expect(s.counts).toEqual({ COMPLETED: 1, FAILED: 2 });
    expect(s.done).toBe(false);   // task 2's FAILED still lacks its exit code
    expect(Object.getOwnPropertyDescriptor(s, 'tasks')?.get).toBeTypeOf('function');
    const views = s.tasks;
    expect(s.tasks).toBe(views);
    expect(views.map((t) => [t.index, t.state, t.outputDir])).toEqual([[1, 'COMPLETED', '/r/jobs/j/outputs/1/1'], [2, 'FAILED', '/r/jobs/j/outputs/2/1'], [3, 'FAILED', '/r/jobs/j/outputs/3/1']]);
    // spreads and JSON still carry the tasks, in their place among the fields
    expect({ ...s }.tasks).toBe(views);
    const json = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
    expect(Object.keys(json).slice(0, 5)).toEqual(['name', 'cluster', 'remoteDir', 'tasks', 'counts']);
    expect((json.tasks as unknown[]).length).toBe(3);
    s.tasks = [];
    expect(s.tasks).toEqual([]);
  });
});

describe('applyObservations', () => {
  it('stores final states, keeps the last real state over UNKNOWN', () => {
    const r0 = record('j', { tasks: 3, attempts: [{ attempt: 1, submittedAt: '', indices: '1-3', arrays: [{ jobId: '1', offset: 0, arraySpec: '1-3' }] }] });
    const r1 = applyObservations(r0, new Map([
      [1, { index: 1, state: 'COMPLETED', exitCode: 0, attempt: 1 }],
      [2, { index: 2, state: 'RUNNING', exitCode: null, attempt: 1 }],
    ]));
    const r2 = applyObservations(r1, new Map([
      [1, { index: 1, state: 'UNKNOWN', exitCode: null, attempt: 1 }],
      [2, { index: 2, state: 'UNKNOWN', exitCode: null, attempt: 1 }],
    ]));
    const s = jobStatus(r2);
    expect(s.tasks.map((t) => t.state)).toEqual(['COMPLETED', 'RUNNING', 'UNKNOWN']);
    expect(s.counts).toEqual({ COMPLETED: 1, RUNNING: 1, UNKNOWN: 1 });
    expect(s.done).toBe(false);
    expect(jobStatus(r2, 'offline').stale).toBe('offline');
  });

  it('keeps asking about a final state that still lacks its exit code (sacct lagging)', () => {
    const r0 = record('j', { tasks: 1, attempts: [{ attempt: 1, submittedAt: '', indices: '1', arrays: [{ jobId: '1', offset: 0, arraySpec: '1' }] }] });
    const r1 = applyObservations(r0, new Map([[1, { index: 1, state: 'FAILED', exitCode: null, attempt: 1, provisional: true }]]));
    expect(r1.finalStates[1]).toBeUndefined();
    expect(jobStatus(r1).tasks[0]!.state).toBe('FAILED');
    expect(jobStatus(r1).done).toBe(false);
    const r2 = applyObservations(r1, new Map([[1, { index: 1, state: 'FAILED', exitCode: 1, attempt: 1 }]]));
    expect(r2.finalStates[1]!.exitCode).toBe(1);
    expect(jobStatus(r2).done).toBe(true);
  });
});
