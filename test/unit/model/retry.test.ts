// Automatic retries, decided purely from the record: which tasks, how many times, with which resources.
import { describe, expect, it } from 'vitest';
import { automationWarnings, dueRetries, formatSlurmTime, retriesOf, scaleMem, scaleTime } from '../../../src/model/retry.js';
import { normalizeJobInfo } from '../../../src/engine/job-spec.js';
import { exportRecord } from '../../../src/engine/export.js';
import type { Attempt, JobRecord, TaskStatus } from '../../../src/model/record.js';
import type { NormalizedJobInfo } from '../../../src/model/job.js';
import { dueEvents, notifyPayload } from '../../../src/engine/notify.js';
import { jobStatus } from '../../../src/model/tracking.js';

const attempt = (n: number, indices: string, resources?: Attempt['resources']): Attempt =>
  ({ attempt: n, submittedAt: '2024-01-01T00:00:00Z', indices, arrays: [{ jobId: String(100 + n), offset: 0, arraySpec: indices }], ...(resources ? { resources } : {}) });
const final = (index: number, state: TaskStatus['state'], exitCode: number | null = 0, at = 1): TaskStatus => ({ index, state, exitCode, attempt: at });

function rec(info: Partial<NormalizedJobInfo>, finals: TaskStatus[], attempts = [attempt(1, '1-3')], tasks = 3): JobRecord {
  return {
    version: 2, name: 'j', cluster: 'lab', backend: 'slurm', createdAt: '', tasks, chunkSize: 1000,
    info: { time: '0:10:00', mem: '1G', ...info } as NormalizedJobInfo, bundle: { sha256: 'x', bytes: 1, files: 1 },
    remote: { jobDir: '/r/jobs/j', bundleDir: '/r/bundles/x' }, attempts,
    finalStates: Object.fromEntries(finals.map((f) => [f.index, f])),
  };
}

describe('escalation', () => {
  it('scales Slurm times through the one time parser and writes them back in Slurm syntax', () => {
    expect(scaleTime('1', 2)).toBe('00:02:00');
    expect(scaleTime('0:10:00', 1.5)).toBe('00:15:00');
    expect(scaleTime('20:00:00', 2)).toBe('1-16:00:00');
    expect(scaleTime(undefined, 2)).toBeUndefined();
    expect(scaleTime('infinite', 2)).toBe('infinite');
    expect(formatSlurmTime(61_500)).toBe('00:01:02');
  });
  it('scales memory in megabytes', () => {
    expect(scaleMem('4G', 2)).toBe('8192M');
    expect(scaleMem('500', 1.5)).toBe('750M');
    expect(scaleMem(undefined, 2)).toBeUndefined();
    expect(() => scaleMem('lots', 2)).toThrow(/not an sbatch memory value/);
  });
});

describe('dueRetries', () => {
  it('escalates a sweep task from its own resource set, and a set\'s own memory is no escalation', () => {
    const groups = [{ tasks: '1-2', resources: { mem: '1G' } }, { tasks: '3-4', resources: { mem: '8G' } }];
    const sets: Attempt = { attempt: 1, submittedAt: '', indices: '1-4', arrays: [
      { jobId: '101', offset: 0, arraySpec: '1-2', tasks: '1-2', resources: { mem: '1G' } },
      { jobId: '102', offset: 0, arraySpec: '3-4', tasks: '3-4', resources: { mem: '8G' } }] };
    const r = rec({ maxRetries: 1, retryOn: ['OUT_OF_MEMORY', 'TIMEOUT'], onOutOfMemory: { memFactor: 2 }, resourceGroups: groups },
      [final(1, 'OUT_OF_MEMORY'), final(2, 'TIMEOUT'), final(3, 'OUT_OF_MEMORY'), final(4, 'TIMEOUT')], [sets], 4);
    // task 4 keeps its set's 8G through the driver's per-set arrays: not an escalation of its own
    expect(dueRetries(r)).toEqual([{ indices: [1], resources: { mem: '2048M' } }, { indices: [2, 4], resources: {} }, { indices: [3], resources: { mem: '16384M' } }]);
  });

  it('retries nothing without maxRetries', () => {
    expect(dueRetries(rec({}, [final(1, 'TIMEOUT')]))).toEqual([]);
  });
  it('retries TIMEOUT/NODE_FAIL/PREEMPTED by default, not a non-zero exit, and never an open task', () => {
    const r = rec({ maxRetries: 2 }, [final(1, 'TIMEOUT'), final(2, 'FAILED', 1)]);   // task 3 still running
    expect(dueRetries(r)).toEqual([{ indices: [1], resources: {} }]);
  });
  it('retries EXIT only when listed (FAILED names it too)', () => {
    const finals = [final(1, 'FAILED', 1), final(2, 'NODE_FAIL')];
    expect(dueRetries(rec({ maxRetries: 1, retryOn: ['FAILED'] }, finals))).toEqual([{ indices: [1], resources: {} }]);
    expect(dueRetries(rec({ maxRetries: 1, retryOn: ['EXIT', 'NODE_FAIL'] }, finals))).toEqual([{ indices: [1, 2], resources: {} }]);
  });
  it('NONZERO_EXIT (the name `why` prints) is accepted in retryOn and covers EXIT and SIGNAL, as FAILED does', () => {
    const finals = [final(1, 'FAILED', 1), { ...final(2, 'FAILED', 0), signal: 9 }, final(3, 'TIMEOUT')];
    expect(dueRetries(rec({ maxRetries: 1, retryOn: ['NONZERO_EXIT'] }, finals))).toEqual([{ indices: [1, 2], resources: {} }]);
    const base = { jobName: 'n', entrypoint: 'x.sh', srcDir: import.meta.dirname, maxRetries: 1 };
    expect(normalizeJobInfo({ ...base, retryOn: ['NONZERO_EXIT'] }).retryOn).toEqual(['NONZERO_EXIT']);
    expect(() => normalizeJobInfo({ ...base, retryOn: ['EXITED'] })).toThrow(/retryOn/);
  });
  it('retries a task that completed without its expected files (MISSING_OUTPUT) only when listed', () => {
    const finals = [final(1, 'MISSING_OUTPUT'), final(2, 'COMPLETED')];
    expect(dueRetries(rec({ maxRetries: 1 }, finals))).toEqual([]);
    expect(dueRetries(rec({ maxRetries: 1, retryOn: ['MISSING_OUTPUT'] }, finals))).toEqual([{ indices: [1], resources: {} }]);
  });
  it('escalates the time of a timeout from the limit its latest attempt ran with, and keeps escalations', () => {
    const info = { maxRetries: 3, onTimeout: { timeFactor: 2 }, time: '1' };
    const r = rec(info, [final(1, 'TIMEOUT', 0, 2), final(2, 'NODE_FAIL', 0, 2)], [attempt(1, '1-3'), attempt(2, '1-2', { time: '00:02:00' })]);
    expect(dueRetries(r)).toEqual([
      { indices: [1], resources: { time: '00:04:00' } },
      { indices: [2], resources: { time: '00:02:00' } },
    ]);
  });
  it('escalates memory on OUT_OF_MEMORY', () => {
    const r = rec({ maxRetries: 1, retryOn: ['OUT_OF_MEMORY'], onOutOfMemory: { memFactor: 2 } }, [final(3, 'OUT_OF_MEMORY')]);
    expect(dueRetries(r)).toEqual([{ indices: [3], resources: { mem: '2048M' } }]);
  });
  it('counts retries from the attempts: never more than maxRetries per task', () => {
    const attempts = [attempt(1, '1-3'), attempt(2, '1'), attempt(3, '1')];
    expect(retriesOf({ attempts }, 1)).toBe(2);
    expect(retriesOf({ attempts }, 2)).toBe(0);
    expect(dueRetries(rec({ maxRetries: 2 }, [final(1, 'TIMEOUT', 0, 3), final(2, 'TIMEOUT')], attempts))).toEqual([{ indices: [2], resources: {} }]);
  });
  it('waits while a submission is unsettled', () => {
    const r = { ...rec({ maxRetries: 2 }, [final(1, 'TIMEOUT')]), pending: { attempt: 2, token: 't', startedAt: '', indices: '1', planned: [] } };
    expect(dueRetries(r)).toEqual([]);
  });
});

describe('notifications', () => {
  const notify = { on: ['job_end' as const, 'job_failed' as const], webhook: 'http://x' };
  it('are due once the job is final and no retry is due, each event once', () => {
    const done = rec({ notify }, [final(1, 'COMPLETED'), final(2, 'FAILED', 1), final(3, 'COMPLETED')]);
    expect(dueEvents(done)).toEqual(['job_end', 'job_failed']);
    expect(dueEvents({ ...done, notified: { job_end: 'then' } })).toEqual(['job_failed']);
    expect(dueEvents(rec({ notify }, [final(1, 'COMPLETED')]))).toEqual([]);   // tasks 2, 3 still open
    expect(dueEvents(rec({ notify, maxRetries: 1 }, [final(1, 'COMPLETED'), final(2, 'TIMEOUT'), final(3, 'COMPLETED')]))).toEqual([]);
  });
  it('name the job, counts and failed tasks with class and last stderr line', () => {
    const done = rec({ notify }, [final(1, 'COMPLETED'), { ...final(2, 'FAILED', 1), lastError: 'boom' }, final(3, 'COMPLETED')]);
    const p = notifyPayload('job_end', jobStatus(done));
    expect(p).toMatchObject({ event: 'job_end', job: 'j', counts: { COMPLETED: 2, FAILED: 1 }, failed: [{ index: 2, failureClass: 'EXIT', whyClass: 'NONZERO_EXIT', exitCode: 1, lastError: 'boom' }] });
  });
});

describe('export', () => {
  it('gives each failed task the class `why` prints, and each attempt its escalated resources', () => {
    const r = rec({}, [{ ...final(1, 'FAILED', 0), signal: 9 }, final(2, 'TIMEOUT', 0, 2), final(3, 'COMPLETED')],
      [attempt(1, '1-3'), attempt(2, '2', { time: '00:20:00' })]);
    const e = exportRecord({ ...r, info: { ...r.info, argv: [[], [], []] } });
    expect(e.attempts.map((a) => a.resources)).toEqual([undefined, { time: '00:20:00' }]);
    expect(e.tasks.map((t) => [t.failure, t.whyClass])).toEqual([['SIGNAL', 'NONZERO_EXIT'], ['TIMEOUT', 'TIMEOUT'], [undefined, undefined]]);
  });
});

describe('launch warnings of the automation fields', () => {
  it('name the field to set when a factor has nothing to scale, and collection_final on the default collection', () => {
    expect(automationWarnings({ onOutOfMemory: { memFactor: 2 }, onTimeout: { timeFactor: 2 } }).map((w) => w.hint)).toEqual([
      'set mem: (e.g. mem: 4G) for memFactor to raise it', "set time: (e.g. time: '1:00:00') for timeFactor to raise it"]);
    expect(automationWarnings({ onOutOfMemory: { memFactor: 2 }, onTimeout: { timeFactor: 2 }, mem: '1G', time: '1:00:00' })).toEqual([]);
    // a sweep's resource sets count as given
    expect(automationWarnings({ onOutOfMemory: { memFactor: 2 }, resourceGroups: [{ tasks: '1', resources: { mem: '2G' } }] })).toEqual([]);
    const notify = { on: ['collection_final' as const], command: 'true' };
    expect(automationWarnings({ notify, collection: 'default' })[0]!.message).toMatch(/never sent for the 'default' collection/);
    expect(automationWarnings({ notify, collection: 'exp1' })).toEqual([]);
  });
});
