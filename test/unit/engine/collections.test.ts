// Collections over the fake transport (outputs recorded on the real cluster): membership at launch, ONE status
// call per cluster for a whole collection, resubmission with extra args through restart-failed's path, groups,
// history and the analysis by parameter.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeLab, fixture } from '../../support/fake-cluster.js';
import { decodeArgsLine } from '../../../src/model/args.js';

const SRC = join(import.meta.dirname, '..', '..', 'fixtures', 'echo-argv');
// tasks 3 and 5 fail in the recorded status (jobs 14 and 142): they are the lr=0.1 ones
const LRS = [0.001, 0.01, 0.1, 0.001, 0.1, 0.01];

function setup() {
  const lab = fakeLab({ jobIds: ['14', '142', '143', '90', '91'], status: [fixture('status-accounting-3ids')] });
  const job = (jobName: string, tasks: number, collection?: string) => lab.pilot.scheduleJobs({
    jobName, cluster: 'lab', srcDir: SRC, entrypoint: 'echo.sh', ...(collection ? { collection } : {}),
    args: Array.from({ length: tasks }, (_, i) => ({ lr: LRS[i % LRS.length]! })),
  });
  return { ...lab, job };
}

describe('collections', () => {
  it('jobs join their collection at launch (default "default"); update asks the cluster ONCE for all of them', async () => {
    const { cluster, pilot, job } = setup();
    await job('a', 6, 'sweep');
    await job('b', 6, 'sweep');
    await job('c', 10, 'sweep');
    await job('d', 1);
    expect((await pilot.collections()).map((c) => [c.name, c.jobs])).toEqual([['default', ['d']], ['sweep', ['a', 'b', 'c']]]);
    const before = cluster.commands.length;
    const v = await pilot.updateCollection('sweep');
    const asked = cluster.commands.slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('-j 14,142,143');
    expect(v.summary).toEqual({ total: 22, completed: 8, failed: 4, pending: 8, running: 2, other: 0 });
    const list = await pilot.collections();
    expect(list.find((c) => c.name === 'sweep')!.summary.failed).toBe(4);
    expect((await pilot.collection('sweep', { state: 'failed' })).tasks.map((t) => `${t.job}/${t.index}`)).toEqual(['a/3', 'a/5', 'b/3', 'b/5']);
  });

  it('analyze ranks the always-failing value top risky with failure rate 1', async () => {
    const { pilot, job } = setup();
    await job('a', 6, 'lr');
    await job('b', 6, 'lr');
    await pilot.updateCollection('lr');
    const a = await pilot.analyzeCollection('lr', { minSupport: 3 });
    expect(a.topRisky[0]).toMatchObject({ param: 'lr', value: '0.1', n: 4, failed: 4, failureRate: 1, lowN: false });
    expect(a.params[0]!.values.map((v) => v.value)).toEqual(['0.001', '0.01', '0.1']);
    expect(a.topStable[0]).toMatchObject({ completionRate: 1 });
  });

  it('resubmit: the failed tasks only, extra args for that attempt, one group; history keeps both attempts', async () => {
    const { cluster, pilot, job } = setup();
    await job('a', 6, 'rs');
    await job('b', 6, 'rs');
    await pilot.updateCollection('rs');
    const r = await pilot.resubmit('rs', { filter: 'failed', extraArgs: '--resume "last ckpt"', submissionGroup: 'resume' });
    expect(r.jobs.map((j) => [j.name, j.attempt, j.indices])).toEqual([['a', 2, [3, 5]], ['b', 2, [3, 5]]]);
    expect(r.extraArgs).toEqual(['--resume', 'last ckpt']);
    const submits = cluster.commands.filter((c) => c.includes('sbatch --parsable')).slice(-2);
    for (const s of submits) {
      expect(s).toContain('--array=3,5 job.sh 0 2');
      // args-extra.2.b64 written by the command itself (printf), before sbatch
      expect(s.indexOf('> "$J/"args-extra.2.b64')).toBeGreaterThan(0);
      expect(s.indexOf('> "$J/"args-extra.2.b64')).toBeLessThan(s.indexOf('sbatch --parsable'));
    }
    const rec = await pilot.store.read('a');
    expect(rec.attempts[1]).toMatchObject({ attempt: 2, extraArgs: ['--resume', 'last ckpt'], group: 'resume' });
    expect(rec.history?.['3']?.[0]).toMatchObject({ state: 'FAILED', attempt: 1 });
    const groups = await pilot.submissionGroups('rs');
    expect(groups.map((g) => [g.name, g.slurmJobs, g.tasks])).toEqual([['initial', 2, 12], ['resume', 2, 4]]);
    const shown = await pilot.collection('rs', { submissionGroup: 'resume' });
    expect(shown.tasks.map((t) => [t.job, t.index, t.history.map((h) => `${h.attempt}:${h.state}`)])).toEqual([
      ['a', 3, ['1:FAILED', '2:PENDING']], ['a', 5, ['1:FAILED', '2:PENDING']], ['b', 3, ['1:FAILED', '2:PENDING']], ['b', 5, ['1:FAILED', '2:PENDING']],
    ]);
    expect((await pilot.collection('rs', { attemptMode: 'primary' })).summary.failed).toBe(4);
    await expect(pilot.resubmit('rs', { submissionGroup: 'resume' })).rejects.toThrow(/already has a submission group 'resume'/);
  });

  it('--select keeps only the tasks a function of the user chooses; --dry-run submits nothing', async () => {
    const { cluster, pilot, job, home } = setup();
    await job('a', 6, 'sel');
    await pilot.updateCollection('sel');
    const file = join(home, 'pick.mjs');
    writeFileSync(file, 'export function onlyFive(t) { return t.index === 5 && t.params.lr === 0.1 && t.state === "FAILED"; }\n');
    const before = cluster.commands.filter((c) => c.includes('sbatch')).length;
    const r = await pilot.resubmit('sel', { select: `${file}:onlyFive`, dryRun: true });
    expect(r.jobs.map((j) => j.indices)).toEqual([[5]]);
    expect(cluster.commands.filter((c) => c.includes('sbatch')).length).toBe(before);
    await expect(pilot.resubmit('sel', { select: `${file}:nope` })).rejects.toThrow(/exports no function 'nope'/);
    await expect(pilot.resubmit('sel', { filter: 'broken' })).rejects.toThrow(/is not a state/);
  });

  it('create, add, remove, delete; bad names and unknown collections are refused', async () => {
    const { pilot, job } = setup();
    await job('x', 1);
    await pilot.createCollection('empty', { description: 'nothing yet' });
    await expect(pilot.createCollection('empty')).rejects.toThrow(/already exists/);
    expect((await pilot.addToCollection('empty', ['x'])).jobs).toEqual(['x']);
    await expect(pilot.addToCollection('empty', ['nope'])).rejects.toThrow(/nope/);
    await expect(pilot.removeFromCollection('empty', ['y'])).rejects.toThrow(/not in collection/);
    expect((await pilot.removeFromCollection('empty', ['x'])).jobs).toEqual([]);
    expect(await pilot.deleteCollection('empty')).toEqual({ name: 'empty', jobs: [] });
    await expect(pilot.collection('empty')).rejects.toThrow(/no collection named 'empty'/);
    await expect(pilot.collection('../etc')).rejects.toThrow(/not a collection name/);
    await expect(job('y', 1, 'bad/name')).rejects.toThrow(/collection/);
  });
});

describe('extra args per attempt', () => {
  it('restart-failed takes them too; every resubmission writes the attempt\'s file; an old script refuses them', async () => {
    const { cluster, pilot, job } = setup();
    await job('a', 6);
    await job('b', 6);
    const r = await pilot.restartFailed('a', { extraArgs: ['--resume', 'x'] });
    expect(r).toMatchObject({ attempt: 2, indices: [3, 5] });
    expect(cluster.commands.at(-1)).toContain('> "$J/"args-extra.2.b64');
    expect((await pilot.store.read('a')).attempts[1]!.extraArgs).toEqual(['--resume', 'x']);
    // a record from before args-extra existed: its script would ignore the words, so they are refused
    await pilot.store.update('b', (rec) => ({ ...rec, attemptArgs: undefined }));
    const sent = cluster.commands.filter((c) => c.includes('sbatch')).length;
    await expect(pilot.restartFailed('b', { extraArgs: ['--resume'] })).rejects.toThrow(/cannot take extra arguments/);
    expect(cluster.commands.filter((c) => c.includes('sbatch')).length).toBe(sent);
    await pilot.restartFailed('b');   // without extra words it still works, and sends no file
    expect(cluster.commands.at(-1)).not.toContain('tar -xf -');
    expect(cluster.commands.at(-1)).not.toContain('args-extra');
  });
});

it('the extra args file is one args line: decoded back to the words', () => {
  expect(decodeArgsLine(Buffer.from('--resume\0last ckpt\0').toString('base64'))).toEqual(['--resume', 'last ckpt']);
});
