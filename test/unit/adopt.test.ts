// Settling a submission whose reply was lost: the marker file and Slurm's view decide, pure.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { judgePending, pendingQuery } from '../../src/scheduler/slurm/adopt.js';
import { adoptSubmission } from '../../src/model/attempts.js';
import type { JobRecord } from '../../src/model/record.js';

const J = '/home/pilot/pilot/jobs/sweep-1a2b3c4d';
const planned = [{ offset: 0, spec: '1-1000%4' }, { offset: 1000, spec: '1-500%4' }];
const out = (marker: string[], squeue: string[] | 'fail', sacct: string[] | 'fail') => [
  '@@pilot-adopt:marker', ...marker,
  '@@pilot-adopt:squeue', ...(squeue === 'fail' ? [] : squeue), `@@pilot-adopt:rc=${squeue === 'fail' ? 124 : 0}`,
  '@@pilot-adopt:sacct', ...(sacct === 'fail' ? [] : sacct), `@@pilot-adopt:rc=${sacct === 'fail' ? 1 : 0}`,
].join('\n');

describe('judgePending', () => {
  it('no marker: the submit command never ran (or undid itself): not submitted', () => {
    expect(judgePending(out(['none'], [], []), J, new Set(), planned)).toEqual({ kind: 'not-submitted' });
  });

  it('a complete marker lists every array, whatever Slurm says', () => {
    const v = judgePending(out(['begin 4242', 'submitted 77 0 1-1000%4', 'submitted 78 1000 1-500%4', 'end'], 'fail', 'fail'), J, new Set(), planned);
    expect(v).toEqual({ kind: 'submitted', complete: true, arrays: [
      { jobId: '77', offset: 0, arraySpec: '1-1000%4' }, { jobId: '78', offset: 1000, arraySpec: '1-500%4' }] });
  });

  it('a marker ended after sbatch refused (cancelled): not submitted', () => {
    expect(judgePending(out(['begin 1', 'cancelled', 'end'], [], []), J, new Set(), planned)).toEqual({ kind: 'not-submitted' });
  });

  it('the submitting shell still runs: undecided', () => {
    expect(judgePending(out(['begin 4242', 'alive'], [], []), J, new Set(), planned).kind).toBe('unknown');
  });

  it('the shell died between sbatch and the marker: Slurm completes the list, in submission order, ignoring known arrays and other folders', () => {
    const squeue = [`78|${J}`, `12|${J}`, `99|/home/pilot/pilot/jobs/other-00000000`];
    const sacct = [`77_3|${J}`, `77_[4-1000%4]|${J}`, `12_1|${J}`];
    const v = judgePending(out(['begin 4242'], squeue, sacct), J, new Set(['12']), planned);
    expect(v).toEqual({ kind: 'submitted', complete: true, arrays: [
      { jobId: '77', offset: 0, arraySpec: '1-1000%4' }, { jobId: '78', offset: 1000, arraySpec: '1-500%4' }] });
  });

  it('the shell died and Slurm cannot be asked: undecided, never "not submitted"', () => {
    expect(judgePending(out(['begin 4242'], 'fail', 'fail'), J, new Set(), planned)).toEqual({ kind: 'unknown', why: expect.stringMatching(/slurmctld/) });
  });

  it('builds a valid shell command that quotes the job name', () => {
    const cmd = pendingQuery({ jobDir: J, token: 'ab12', jobName: "it's", sinceSeconds: 5 });
    execFileSync('bash', ['-c', cmd.replace(/^sh -c /, 'sh -n -c ')]);
    expect(cmd).toContain('-S now-60seconds');
  });
});

describe('adoptSubmission', () => {
  const base: JobRecord = {
    version: 2, name: 'sweep', cluster: 'lab', backend: 'slurm', createdAt: '2026-01-01T00:00:00Z', tasks: 1500, chunkSize: 1000,
    info: {} as JobRecord['info'], bundle: { sha256: 'x', bytes: 1, files: 1 }, remote: { jobDir: J, bundleDir: 'b' },
    attempts: [], finalStates: {},
    pending: { attempt: 1, token: 't', startedAt: '2026-01-01T00:00:01Z', indices: '1-1500', planned },
  };

  it('records the arrays as the attempt and drops the pending mark', () => {
    const r = adoptSubmission(base, [{ jobId: '77', offset: 0, arraySpec: '1-1000%4' }, { jobId: '78', offset: 1000, arraySpec: '1-500%4' }]);
    expect(r.pending).toBeUndefined();
    expect(r.attempts).toEqual([{ attempt: 1, submittedAt: '2026-01-01T00:00:01Z', indices: '1-1500', arrays: expect.any(Array) }]);
    expect(r.lastKnown?.[1500]).toBeUndefined();   // unknown until the scheduler is asked
    const restart = adoptSubmission({ ...r, pending: { ...base.pending!, attempt: 2, indices: '7' } }, [{ jobId: '90', offset: 0, arraySpec: '7%4' }]);
    expect(restart.lastKnown?.[7]).toMatchObject({ state: 'PENDING', attempt: 2 });
  });

  it('tasks of an array that was never sent end CANCELLED with the reason, so nothing waits for ever', () => {
    const r = adoptSubmission(base, [{ jobId: '77', offset: 0, arraySpec: '1-1000%4' }]);
    expect(r.attempts[0]!.indices).toBe('1-1000');
    expect(r.finalStates[1001]).toMatchObject({ state: 'CANCELLED', reason: expect.stringMatching(/not submitted/) });
    expect(r.finalStates[1000]).toBeUndefined();
  });
});
