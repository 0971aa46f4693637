// The last stderr line of failed tasks: remote text made harmless, which files a status call reads (bounded,
// failures never read first), and how what was read lands in the record.
import { describe, expect, it } from 'vitest';
import { cleanRemoteText, lastErrorLine, tailCandidates, unreadFailures } from '../../../src/model/last-error.js';
import type { JobRecord, TaskStatus } from '../../../src/model/record.js';
import { applyObservations } from '../../../src/model/tracking.js';

function record(tasks: number, finalStates: Record<string, TaskStatus> = {}, lastKnown: Record<string, TaskStatus> = {}): JobRecord {
  return {
    version: 2, name: 'j', cluster: 'lab', backend: 'slurm', createdAt: '2025-01-01T00:00:00Z', tasks, chunkSize: 1000,
    info: {} as JobRecord['info'], bundle: { sha256: 'x', bytes: 0, files: 0 }, remote: { jobDir: '/r/jobs/j', bundleDir: '/r/bundles/x' },
    attempts: [{ attempt: 1, submittedAt: '', indices: `1-${tasks}`, arrays: [{ jobId: '42', offset: 0, arraySpec: `1-${tasks}` }] }],
    finalStates, lastKnown,
  };
}
const st = (index: number, state: TaskStatus['state'], extra: Partial<TaskStatus> = {}): TaskStatus => ({ index, state, exitCode: state === 'FAILED' ? 1 : 0, attempt: 1, ...extra });

describe('lastErrorLine', () => {
  it('takes the last non-blank line; \\r ends a line too (a progress bar shows its last state)', () => {
    expect(lastErrorLine('Traceback (most recent call last):\n  File "x"\nboom: something broke\n\n')).toBe('boom: something broke');
    expect(lastErrorLine(Buffer.from('10%\r50%\r100%\rdone\r\n'))).toBe('done');
    expect(lastErrorLine('')).toBe('');
    expect(lastErrorLine('\n \n')).toBe('');
  });

  it('strips everything that could act on a terminal, and never interprets it', () => {
    const evil = 'ok\x1b[2J\x1b[1;1Hfake prompt $ \x07\x08\x7f\u009b31m\u202eevil\u2066x\u200b\ty';
    expect(lastErrorLine(evil)).toBe('ok[2J[1;1Hfake prompt $ 31mevilx y');
    expect(cleanRemoteText('a\x00b\x1bc')).toBe('abc');
    expect(lastErrorLine('boom\x1b]0;title\x07')).toBe('boom]0;title');
  });

  it('is capped (by code point), and marks a line that started before the bytes read', () => {
    const long = lastErrorLine('😀'.repeat(400));
    expect(Array.from(long)).toHaveLength(300);
    expect(long.endsWith('…')).toBe(true);
    expect(lastErrorLine(Buffer.from('é'.repeat(300)).subarray(1), { cut: true }).startsWith('…é')).toBe(true);
    expect(lastErrorLine('start\nend', { cut: true })).toBe('end');
  });
});

describe('which stderr files a status call reads', () => {
  it('failures not read yet first, then open tasks last seen running, then the others by index; bounded', () => {
    const r = record(8, { 1: st(1, 'COMPLETED'), 2: st(2, 'FAILED'), 3: st(3, 'FAILED', { lastError: 'x' }), 4: st(4, 'CANCELLED') }, { 7: st(7, 'RUNNING') });
    expect(tailCandidates(r, 50).map((c) => c.task)).toEqual([2, 4, 7, 5, 6, 8]);
    expect(tailCandidates(r, 3).map((c) => c.task)).toEqual([2, 4, 7]);
    expect(tailCandidates(r, 0)).toEqual([]);
    expect(unreadFailures(r).map((c) => c.task)).toEqual([2, 4]);
  });

  it('never asks for a task that ran in no recorded submission (no file can exist)', () => {
    const r = record(2, { 2: st(2, 'CANCELLED', { attempt: 1, reason: 'not submitted' }) });
    r.attempts[0]!.indices = '1';
    expect(unreadFailures(r)).toEqual([]);
  });

  it('keeps a line on the failure of the attempt it was read for; drops it for a task running or completed', () => {
    const r = record(4, { 1: st(1, 'FAILED') });
    const observed = new Map([[2, st(2, 'FAILED')], [3, st(3, 'RUNNING')], [4, st(4, 'COMPLETED')]]);
    const read = new Map([[1, { attempt: 1, text: 'old boom' }], [2, { attempt: 1, text: 'boom' }], [3, { attempt: 1, text: 'partial' }], [4, { attempt: 1, text: 'warning' }]]);
    const next = applyObservations(r, observed, read);
    expect(next.finalStates[1]!.lastError).toBe('old boom');
    expect(next.finalStates[2]!.lastError).toBe('boom');
    expect(next.lastKnown![3]!.lastError).toBeUndefined();
    expect(next.finalStates[4]!.lastError).toBeUndefined();
    // a line read for another attempt (the task was restarted meanwhile) is not this failure's
    const again = applyObservations(record(1, { 1: st(1, 'FAILED', { attempt: 2 }) }), new Map(), new Map([[1, { attempt: 1, text: 'x' }]]));
    expect(again.finalStates[1]!.lastError).toBeUndefined();
  });
});
