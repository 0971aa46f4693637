// A sweep through the engine and the Slurm driver over the fake cluster: one array per resource set in one
// submit command, each with its own --mem; a lost reply is adopted from the marker with each array's tasks.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../../src/index.js';
import { FakeCluster, fakeLab } from '../../support/fake-cluster.js';

const SRC = join(import.meta.dirname, '..', '..', 'fixtures', 'echo-argv');
const sweep = (jobName: string) => ({
  jobName, cluster: 'lab', srcDir: SRC, entrypoint: 'echo.sh', maxConcurrent: 2, mem: '1G',
  parameters: { mode: 'grid' as const, values: { model: ['mlp', 'big'], lr: [0.1, 0.01] } },
  resources: { logic: (p: Record<string, unknown>, d: object) => (p.model === 'big' ? { ...d, mem: '8G' } : d) },
  taskNamePattern: '{{ model }}-{{ lr }}',
});

describe('sweeps through the engine', () => {
  it('submits one array per resource set in ONE command, each with its own --mem, and records their tasks', async () => {
    const { cluster, pilot } = fakeLab({ jobIds: ['40', '41'] });
    const r = await pilot.scheduleJobs(sweep('sw'));
    expect(r.slurmJobIds).toEqual(['40', '41']);
    expect(cluster.commands.filter((c) => c.includes('sbatch --parsable'))).toHaveLength(1);
    expect(cluster.commands[1]).toContain('--array=1-2%2 --mem=1G job.sh 0 1');
    expect(cluster.commands[1]).toContain('--array=3-4%2 --mem=8G job.sh 0 1');
    expect(cluster.commands[1]).not.toContain('afterany');   // the sets run side by side, each with its %K
    const record = await pilot.store.read('sw');
    expect(record.attempts[0]!.arrays).toEqual([
      { jobId: '40', offset: 0, arraySpec: '1-2%2', tasks: '1-2', resources: { mem: '1G' } },
      { jobId: '41', offset: 0, arraySpec: '3-4%2', tasks: '3-4', resources: { mem: '8G' } }]);
    expect(record.info.taskNames).toEqual(['mlp-0.1', 'mlp-0.01', 'big-0.1', 'big-0.01']);
    expect((await pilot.status('sw')).taskNames).toEqual(record.info.taskNames);
  });

  it('a lost reply is adopted from the marker, each array with its own tasks and resources', async () => {
    const { pilot, home } = fakeLab({ loseSubmitReply: true });
    await expect(pilot.scheduleJobs(sweep('sw-lost'))).rejects.toThrow(/lost/);
    const marker = "@@pilot-adopt:marker\nbegin 4242\nsubmitted 50 0 1-2%2\nsubmitted 51 0 3-4%2\nend\n@@pilot-adopt:squeue\n@@pilot-adopt:rc=0\n@@pilot-adopt:sacct\n@@pilot-adopt:rc=0\n";
    const later = new SlurmWrapper({ home, connect: async () => new FakeCluster({ adopt: marker }) });
    const s = await later.status('sw-lost');
    expect(s.slurmJobIds).toEqual(['50', '51']);
    const arrays = (await later.store.read('sw-lost')).attempts[0]!.arrays;
    expect(arrays.map((a) => [a.jobId, a.tasks, a.resources?.mem])).toEqual([['50', '1-2', '1G'], ['51', '3-4', '8G']]);
  });
});
