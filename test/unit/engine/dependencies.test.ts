// after: over the fake transport: the named jobs' array ids reach sbatch --dependency, a graph launches in
// order on one connection with renamed jobs followed, and every refusal (unknown name, other cluster, local,
// cycle) comes before anything is submitted, with exit 2.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PilotError, scheduleGraph, type JobInfo } from '../../../src/index.js';
import { fakeLab, framed } from '../../support/fake-cluster.js';

const SRC = join(import.meta.dirname, '..', '..', 'fixtures', 'echo-argv');
const job = (jobName: string, extra: Partial<JobInfo> = {}): JobInfo => ({ jobName, cluster: 'lab', srcDir: SRC, entrypoint: 'echo.sh', args: ['1', '2'], ...extra });

async function refusedWith(p: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PilotError);
  expect((err as PilotError).exitCode).toBe(2);
  expect((err as PilotError).message).toMatch(message);
}

const sbatches = (commands: string[]) => commands.filter((c) => c.includes('sbatch --parsable'));

describe('after: on one job', () => {
  it('depends on every array of the named jobs\' latest attempt, keeping the user\'s own --dependency', async () => {
    const { cluster, pilot } = fakeLab({ jobIds: ['40', '41', '50'], maxArraySize: 2 });
    const a = await pilot.scheduleJobs(job('a'));   // 2 tasks, MaxArraySize 2: two arrays, 40 and 41
    expect(a.slurmJobIds).toEqual(['40', '41']);
    await pilot.scheduleJobs(job('b', { args: ['x'], after: [{ job: 'a', when: 'any' }], sbatchArgs: ['--dependency=singleton'] }));
    expect(sbatches(cluster.commands)[1]).toContain('--dependency=singleton,afterany:40:41 job.sh');
    expect((await pilot.store.read('b')).info.after).toEqual([{ job: 'a', when: 'any' }]);
  });

  it('refuses an unknown job, one on another cluster, a user ? dependency, and the local cluster: nothing submitted', async () => {
    const { cluster, pilot } = fakeLab({ jobIds: ['40'] });
    await refusedWith(pilot.scheduleJobs(job('b', { after: [{ job: 'nope' }] })), /no recorded job is called 'nope'/);
    await pilot.scheduleJobs(job('a'));
    await refusedWith(pilot.scheduleJobs(job('c', { after: [{ job: 'a' }], sbatchArgs: ['--dependency=afterok:1?afterok:2'] })), /'\?' \(any of\)/);
    await refusedWith(pilot.scheduleJobs(job('l', { cluster: 'local', after: [{ job: 'a' }] })), /after: is not supported on the local cluster/);
    await refusedWith(pilot.scheduleJobs(job('w', { after: [{ job: 'a', when: 'maybe' as never }] })), /after\[0\]\.when: Invalid option/);
    expect(sbatches(cluster.commands)).toHaveLength(1);
    await expect(pilot.store.read('b')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('after: a job that has already ended (Slurm takes a forgotten job id as a dependency met)', () => {
  // a: job 32, tasks 1-2; sacct rows as recorded on the real cluster (fixture sacct-dependency's format)
  const ended = (row2: string) => framed({ sacct: `32_1|32|COMPLETED|0:0|None\n32_2|32|${row2}|None`, squeue: '' });

  it('asks the states first; afterok on a failure is refused (exit 2), nothing submitted', async () => {
    const { cluster, pilot } = fakeLab({ jobIds: ['32', '50'], status: [ended('FAILED|1:0')] });
    await pilot.scheduleJobs(job('a'));
    await refusedWith(pilot.scheduleJobs(job('b', { after: [{ job: 'a' }] })), /'a' has already ended \(COMPLETED 1, FAILED 1\), so afterok can never be satisfied/);
    expect(sbatches(cluster.commands)).toHaveLength(1);
    // afternotok is met: submitted without a dependency on an id Slurm may have forgotten
    await pilot.scheduleJobs(job('c', { after: [{ job: 'a', when: 'notok' }] }));
    expect(sbatches(cluster.commands)[1]).not.toContain('--dependency');
  });

  it('afterok on a job that completed is met: no --dependency at all', async () => {
    const { cluster, pilot } = fakeLab({ jobIds: ['32', '50'], status: [ended('COMPLETED|0:0')] });
    await pilot.scheduleJobs(job('a'));
    await pilot.scheduleJobs(job('b', { after: [{ job: 'a' }] }));
    expect(sbatches(cluster.commands)[1]).not.toContain('--dependency');
    await refusedWith(pilot.scheduleJobs(job('c', { after: [{ job: 'a', when: 'notok' }] })), /so afternotok can never be satisfied/);
  });
});

describe('a job graph', () => {
  it('launches a diamond in order on one connection; a renamed job is followed by those after it', async () => {
    const { cluster, pilot } = fakeLab({ jobIds: ['60', '61', '62', '63', '64'] });
    await pilot.scheduleJobs(job('a'));   // taken: the graph's a becomes a-2
    const results = await scheduleGraph(pilot, [
      job('d', { after: [{ job: 'b' }, { job: 'c' }], uniqueName: true }),
      job('b', { after: [{ job: 'a' }], uniqueName: true }),
      job('c', { after: [{ job: 'a', when: 'notok' }], uniqueName: true }),
      job('a', { uniqueName: true }),
    ]);
    expect(results.map((r) => r.name)).toEqual(['a-2', 'b', 'c', 'd']);
    const cmds = sbatches(cluster.commands).slice(1);
    expect(cmds[1]).toContain('--dependency=afterok:61 ');
    expect(cmds[2]).toContain('--dependency=afternotok:61 ');
    expect(cmds[3]).toContain('--dependency=afterok:62,afterok:63 ');
    expect((await pilot.connections()).find((c) => c.cluster === 'lab')?.opened).toBe(1);
  });

  it('refuses a cycle, an unknown name, a graph across clusters, before connecting', async () => {
    const { cluster, pilot } = fakeLab();
    await refusedWith(scheduleGraph(pilot, [job('x', { after: [{ job: 'y' }] }), job('y', { after: [{ job: 'x' }] })]), /cycle: x → y → x/);
    await refusedWith(scheduleGraph(pilot, [job('x'), job('y', { after: [{ job: 'z' }] })]), /neither in this file nor a recorded job/);
    await refusedWith(scheduleGraph(pilot, [job('x', { cluster: 'local' }), job('y', { after: [{ job: 'x' }] })]), /'x' runs on cluster local, not on lab/);
    await refusedWith(scheduleGraph(pilot, []), /at least one job/);
    expect(cluster.commands).toEqual([]);
  });
});
