// Dependencies as pure facts: the --after syntax, the dependency string, combining with the user's own
// --dependency and with pilot's chaining of split arrays, the order of a job graph, never-satisfiable tasks.
import { scriptOf } from '../support/shell.js';
import { describe, expect, it } from 'vitest';
import { afterIdsNow, afterOutcome, combineDependencies, dependencyString, graphOrder, neverSatisfiable, parseAfter, stuckOnDependency } from '../../src/model/dependencies.js';
import { submitCommand } from '../../src/scheduler/slurm/submit.js';
import { mergeObservations, parseSqueue } from '../../src/scheduler/slurm/status.js';
import { fixture } from '../support/fake-cluster.js';
import { refusal } from '../support/refusal.js';
import type { JobRecord, TaskStatus } from '../../src/model/record.js';
import type { NormalizedJobInfo } from '../../src/model/job.js';
import { slurmDialect } from '../../src/scheduler/slurm/index.js';


describe('--after NAME[:ok|notok|any]', () => {
  it('parses a name with or without when (ok by default)', () => {
    expect(parseAfter('prep')).toEqual({ job: 'prep', when: 'ok' });
    expect(parseAfter('prep.v2:any')).toEqual({ job: 'prep.v2', when: 'any' });
    expect(parseAfter('a-1:notok')).toEqual({ job: 'a-1', when: 'notok' });
  });
  it('refuses other conditions and bad names, saying the syntax', () => {
    expect(refusal(() => parseAfter('prep:done')).message).toMatch(/NAME\[:ok\|notok\|any\]/);
    expect(refusal(() => parseAfter(':ok')).hint).toMatch(/--after prep:any/);
    refusal(() => parseAfter('a b'));
  });
});

describe('the dependency string', () => {
  it('covers every array id of each named job, one after<when> per entry, joined by , (all must hold)', () => {
    expect(dependencyString([{ when: 'ok', jobIds: ['12', '13'] }, { when: 'any', jobIds: ['20'] }])).toBe('afterok:12:13,afterany:20');
    expect(dependencyString([{ when: 'notok', jobIds: ['7'] }])).toBe('afternotok:7');
    expect(dependencyString([])).toBeUndefined();
  });
  it('keeps the user\'s own --dependency with it; refuses a user ? (any of) next to it', () => {
    expect(combineDependencies('singleton', 'afterok:5')).toBe('singleton,afterok:5');
    expect(combineDependencies(undefined, 'afterok:5')).toBe('afterok:5');
    expect(combineDependencies('afterok:1?afterok:2', undefined)).toBe('afterok:1?afterok:2');
    expect(refusal(() => combineDependencies('afterok:1?afterok:2', 'afterok:5')).message).toMatch(/'\?' \(any of\)/);
  });
});

describe('sbatch --dependency in the submit command', () => {
  const base = { root: '/r', jobDir: '/r/jobs/j', bundleSha: 'x', withJobFiles: false, script: 'job.sh', attempt: 1, token: 't' };
  it('one array: only pilot\'s dependency, with the user\'s kept (the command line replaces #SBATCH --dependency)', () => {
    expect(submitCommand({ ...base, arrays: [{ offset: 0, spec: '1-3' }], jobDependency: 'afterok:12:13' })).toContain("--array=1-3 --dependency=afterok:12:13 job.sh");
    expect(submitCommand({ ...base, arrays: [{ offset: 0, spec: '1-3' }], jobDependency: 'afterok:12', userDependency: 'singleton' })).toContain("--dependency=singleton,afterok:12 job.sh");
    expect(submitCommand({ ...base, arrays: [{ offset: 0, spec: '1-3' }] })).not.toContain('--dependency');
  });
  it('split arrays: every chunk waits for the named jobs, the later ones also for the previous chunk', () => {
    const cmd = submitCommand({ ...base, arrays: [{ offset: 0, spec: '1-7' }, { offset: 7, spec: '1-2' }], jobDependency: 'afterany:9', userDependency: 'singleton' });
    expect(cmd).toContain('--array=1-7 --dependency=singleton,afterany:9 job.sh');
    expect(cmd).toContain('--array=1-2 --dependency=singleton,afterany:9,afterany:"$prev" job.sh');
  });
});

describe('a job graph\'s launch order', () => {
  const j = (jobName: string, ...after: string[]) => ({ jobName, after: after.map((job) => ({ job })) });
  it('puts every job after the jobs it names, else keeps the file\'s order (a diamond)', () => {
    expect(graphOrder([j('d', 'b', 'c'), j('c', 'a'), j('b', 'a'), j('a')])).toEqual(['a', 'b', 'c', 'd']);
    expect(graphOrder([j('a'), j('d', 'c'), j('c', 'a'), j('e')])).toEqual(['a', 'c', 'd', 'e']);
    expect(graphOrder([j('x'), j('y'), j('z')])).toEqual(['x', 'y', 'z']);
  });
  it('refuses cycles (named), unknown names and duplicates; recorded jobs may be named', () => {
    expect(refusal(() => graphOrder([j('a', 'c'), j('b', 'a'), j('c', 'b')])).message).toBe('jobs: the after: links form a cycle: a → c → b → a');
    refusal(() => graphOrder([j('a', 'a')]));
    expect(refusal(() => graphOrder([j('a'), j('b', 'nope')])).message).toMatch(/b runs after 'nope', which is neither in this file nor a recorded job/);
    expect(graphOrder([j('b', 'old')], (n) => n === 'old')).toEqual(['b']);
    expect(refusal(() => graphOrder([j('a'), j('a')])).message).toMatch(/'a' is given twice/);
  });
});

describe('a dependency decided from known states', () => {
  const t = (state: 'COMPLETED' | 'FAILED' | 'RUNNING' | 'CANCELLED', attempt = 1) => ({ state, attempt });
  it('waits while a task of the latest attempt is unfinished or the states are stale', () => {
    expect(afterOutcome({ tasks: [t('COMPLETED'), t('RUNNING')] }, 1, 'ok')).toBe('wait');
    expect(afterOutcome({ stale: 'no answer', tasks: [t('COMPLETED')] }, 1, 'ok')).toBe('wait');
    expect(afterOutcome({ tasks: [{ ...t('FAILED'), provisional: true }] }, 1, 'any')).toBe('wait');
  });
  it('as Slurm on an array: ok when all completed, notok when one did not, any either way', () => {
    expect(afterOutcome({ tasks: [t('COMPLETED'), t('COMPLETED')] }, 1, 'ok')).toBe('met');
    expect(afterOutcome({ tasks: [t('COMPLETED'), t('FAILED')] }, 1, 'ok')).toBe('never');
    expect(afterOutcome({ tasks: [t('COMPLETED'), t('CANCELLED')] }, 1, 'notok')).toBe('met');
    expect(afterOutcome({ tasks: [t('COMPLETED')] }, 1, 'notok')).toBe('never');
    expect(afterOutcome({ tasks: [t('FAILED')] }, 1, 'any')).toBe('met');
  });
  it('looks only at the latest attempt (restart-failed makes a new one)', () => {
    expect(afterOutcome({ tasks: [t('FAILED', 1), t('COMPLETED', 2)] }, 2, 'ok')).toBe('met');
    expect(afterOutcome({ tasks: [t('COMPLETED', 1), t('RUNNING', 2)] }, 2, 'ok')).toBe('wait');
  });
});

describe('tasks whose dependency can never be satisfied', () => {
  it('are found in the status merged from the real squeue output (fixture squeue-dependency)', () => {
    const merged = mergeObservations({ squeue: parseSqueue(fixture('squeue-dependency')) }, [1, 2, 3].map((arrayIndex) => ({ jobId: '33', arrayIndex })));
    const tasks = [...merged.values()].map((o) => ({ index: o.arrayIndex, state: o.state, reason: o.reason }));
    expect(neverSatisfiable({ tasks })).toEqual([1, 2, 3]);
    expect(stuckOnDependency({ tasks })).toBe(true);
  });
  it('stop a wait only when every unfinished task waits for ever', () => {
    const t = (index: number, state: 'PENDING' | 'RUNNING' | 'COMPLETED', reason?: string) => ({ index, state, reason });
    expect(stuckOnDependency({ tasks: [t(1, 'COMPLETED'), t(2, 'PENDING', 'DependencyNeverSatisfied')] })).toBe(true);
    expect(stuckOnDependency({ tasks: [t(1, 'RUNNING'), t(2, 'PENDING', 'DependencyNeverSatisfied')] })).toBe(false);
    expect(stuckOnDependency({ tasks: [t(1, 'PENDING', 'Dependency')] })).toBe(false);
    expect(stuckOnDependency({ tasks: [t(1, 'COMPLETED')] })).toBe(false);
  });
});

describe('after: on a job pilot retried (afterIdsNow)', () => {
  const done = (index: number, state: TaskStatus['state'], attempt = 1): TaskStatus => ({ index, state, exitCode: state === 'COMPLETED' ? 0 : 1, attempt });
  const a = (finals: TaskStatus[]): JobRecord => ({
    version: 2, name: 'a', cluster: 'lab', backend: 'slurm', createdAt: '', tasks: 3, chunkSize: 1000,
    info: { argv: [[], [], []] } as unknown as NormalizedJobInfo, bundle: { sha256: 'x', bytes: 1, files: 1 },
    remote: { jobDir: '/r/jobs/a', bundleDir: '/r/b' },
    attempts: [{ attempt: 1, submittedAt: '', indices: '1-3', arrays: [{ jobId: '101', offset: 0, arraySpec: '1-3' }] },
      { attempt: 2, submittedAt: '', indices: '2', arrays: [{ jobId: '102', offset: 0, arraySpec: '2' }] }],
    finalStates: Object.fromEntries(finals.map((f) => [f.index, f])),
  });
  it('ok: the retry array, the first array\'s unfinished tasks one by one, nothing for completed ones', () => {
    const record = a([done(1, 'COMPLETED'), done(2, 'FAILED')]);   // 2 failed on attempt 1, retried; 3 runs
    expect(afterIdsNow(record, 'ok')).toEqual(['102', '101_3']);
    expect(afterIdsNow(record, 'any')).toEqual(['101', '102']);
    expect(afterIdsNow(record, 'notok')).toBeUndefined();
    expect(afterIdsNow(a([done(1, 'COMPLETED'), done(2, 'FAILED', 2)]), 'ok')).toBe('never');   // the retry failed too
    expect(afterIdsNow(a([done(1, 'COMPLETED'), done(2, 'COMPLETED', 2), done(3, 'COMPLETED')]), 'ok')).toEqual([]);
  });
  it('is set on pending arrays by one remote command that says which it could not change', () => {
    expect(scriptOf(slurmDialect.updateDependencyCommand!([{ jobId: '7', dependency: 'afterok:101_3:102' }])))
      .toBe("scontrol update JobId=7 Dependency=afterok:101_3:102 || echo '@@dependency-failed 7'");
  });
});
