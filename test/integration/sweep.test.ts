// A sweep on the real Slurm test cluster: a 3×2 grid minus one filtered combination is 5 tasks with their
// argv, names and params; `resources.logic` gives the big model more memory, which makes two arrays (one per
// resource set) in ONE job, each with its own --mem (read back from Slurm); every task sees its
// PILOT_PARAMS_JSON; restart-failed resubmits failed tasks of both sets, each with its own memory.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { pilot } from '../support/cli.js';
import { connect, makeHome, sleep } from '../support/cluster.js';

const SPEC = join(import.meta.dirname, '..', 'fixtures', 'sweep', 'sweep.yaml');

const PARAMS = [
  { model: 'mlp', lr: 0.1 }, { model: 'mlp', lr: 0.01 }, { model: 'cnn', lr: 0.01 }, { model: 'big', lr: 0.1 }, { model: 'big', lr: 0.01 },
];

/** Slurm's requested memory of each array (sacct ReqMem, e.g. `100M`), by array job id, once accounting has them all. */
async function reqMem(ids: string[]): Promise<Record<string, string>> {
  const ssh = await connect();
  try {
    for (;;) {
      const r = await ssh.exec(`sacct -X -n -P -j ${ids.join(',')} --format=JobID,ReqMem`);
      const out: Record<string, string> = {};
      // a pending array's row can show an odd ReqMem (`16?`): only plain sizes count
      for (const line of r.stdout.split('\n').filter((l) => /\|\d+[KMGT]?[nc]?$/.test(l))) {
        const [jobId, mem] = line.split('|');
        out[jobId!.split('_')[0]!] = mem!.replace(/[nc]$/, '');   // older sacct marks per-node/per-cpu with a suffix
      }
      if (ids.every((id) => out[id])) return out;
      await sleep(500);   // accounting lags behind sbatch by a moment
    }
  } finally {
    await ssh.close();
  }
}

describe('sweeps on lab', () => {
  it('grid + filter + resources.logic: 5 tasks, two arrays with their own --mem, names, PILOT_PARAMS_JSON, restart per set', async () => {
    const home = makeHome();
    const launched = await pilot(['launch', SPEC, '--name', 'sweep-lab', '--json'], home);
    expect(launched.code, launched.stderr).toBe(0);
    const w = new SlurmWrapper({ home });
    const record = await w.store.read('sweep-lab');
    expect(record.tasks).toBe(5);
    expect(record.info.params).toEqual(PARAMS);
    expect(record.info.argv[2]).toEqual(['--model', 'cnn', '--lr', '0.01']);
    expect(record.info.taskNames).toEqual(['mlp_lr0.1', 'mlp_lr0.01', 'cnn_lr0.01', 'big_lr0.1', 'big_lr0.01']);
    const arrays = record.attempts[0]!.arrays;
    expect(arrays.map((a) => [a.tasks, a.resources, a.arraySpec])).toEqual([['1-3', { mem: '100M', time: '5' }, '1-3%2'], ['4-5', { mem: '200M', time: '5' }, '4-5%2']]);

    // tasks with lr 0.01 (2, 3 in the first set, 5 in the second) fail on their first attempt
    const waited = await pilot(['wait', 'sweep-lab', '--json'], home);
    expect(waited.code).toBe(1);
    const mem = await reqMem(arrays.map((a) => a.jobId));
    expect(mem[arrays[0]!.jobId]).toBe('100M');
    expect(mem[arrays[1]!.jobId]).toBe('200M');
    const status = await pilot(['status', 'sweep-lab', '--tasks'], home);
    expect(status.stdout).toMatch(/^\s+task\s+name\s+state/m);
    for (const [i, name] of record.info.taskNames!.entries()) expect(status.stdout).toMatch(new RegExp(`^\\s+${i + 1}\\s+${name.replace('.', '\\.')}\\s`, 'm'));
    const first = await w.status('sweep-lab');
    expect(first.tasks.map((t) => [t.index, t.state])).toEqual([[1, 'COMPLETED'], [2, 'FAILED'], [3, 'FAILED'], [4, 'COMPLETED'], [5, 'FAILED']]);
    for (const t of [1, 4]) {
      const out = (await w.logs(`sweep-lab/${t}`)).stdout;
      expect(JSON.parse(/^params: (.*)$/m.exec(out)![1]!)).toEqual(PARAMS[t - 1]);
      expect(out).toContain(`argv: ${record.info.argv[t - 1]!.map((a) => `[${a}]`).join(' ')}`);
    }

    // restart-failed: one array per resource set again, each with its own memory
    const restarted = await w.restartFailed('sweep-lab');
    expect(restarted.indices).toEqual([2, 3, 5]);
    const again = (await w.store.read('sweep-lab')).attempts[1]!;
    expect(again.arrays.map((a) => [a.tasks, a.resources?.mem, a.arraySpec])).toEqual([['2-3', '100M', '2-3%2'], ['5', '200M', '5%2']]);
    const final = await w.wait('sweep-lab', { minIntervalMs: 500, maxIntervalMs: 2000, timeoutMs: 120_000 });
    const mem2 = await reqMem(again.arrays.map((a) => a.jobId));
    expect(again.arrays.map((a) => mem2[a.jobId])).toEqual(['100M', '200M']);
    expect(final.counts).toEqual({ COMPLETED: 5 });
    expect(final.tasks.map((t) => t.attempt)).toEqual([1, 2, 2, 1, 2]);
    const out5 = (await w.logs('sweep-lab/5')).stdout;
    expect(JSON.parse(/^params: (.*)$/m.exec(out5)![1]!)).toEqual(PARAMS[4]);
    await w.close();
  });
});
