// Sweeps, purely: grid order, filter, list, names, argv, per-task resources, grouping into one array per
// resource set, and how the record finds a task's array when several arrays share an offset.
import { scriptOf } from '../../support/shell.js';
import { execFileSync } from 'node:child_process';
import nunjucks from 'nunjucks';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeJobInfo } from '../../../src/engine/job-spec.js';
import { loadSweepHooks } from '../../../src/engine/sweep-load.js';
import { adoptSubmission, arrayFor, logPath } from '../../../src/model/attempts.js';
import { PilotError } from '../../../src/model/errors.js';
import { decodeParamsLine, encodeParamsFile } from '../../../src/model/params.js';
import type { JobRecord } from '../../../src/model/record.js';
import { groupByResources, splitByGroup } from '../../../src/model/resources.js';
import { resourcesOf } from '../../../src/model/retry.js';
import { expandParameters, gridOf, sweepArgv, taskNames, taskResources, type Params, type SweepHooks } from '../../../src/plan/sweep.js';
import { previewTasks } from '../../../src/plan/preview.js';
import { planSubmission } from '../../../src/scheduler/groups.js';
import { planArrays, submitCommand } from '../../../src/scheduler/slurm/submit.js';

const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
const render = (t: string, p: object) => env.renderString(t, { ...p });
const keep = { fn: (p: Params) => !(p.model === 'cnn' && p.lr === 0.1), name: 'sweep.mjs: keep' };
const bigMem = { fn: (p: Params, d: Params) => (p.model === 'big' ? { ...d, mem: '32G' } : d), name: 'sweep.mjs: resources' };
const thrown = (f: () => unknown): PilotError => {
  try { f(); } catch (e) { return e as PilotError; }
  throw new Error('did not throw');
};

describe('sweep expansion', () => {
  it('a grid is the cartesian product, keys in order, the last key varying fastest', () => {
    expect(gridOf({ model: ['mlp', 'cnn'], lr: [0.1, 0.01] })).toEqual([
      { model: 'mlp', lr: 0.1 }, { model: 'mlp', lr: 0.01 }, { model: 'cnn', lr: 0.1 }, { model: 'cnn', lr: 0.01 }]);
    expect(thrown(() => gridOf({ a: [1], b: [] })).message).toContain('values.b is empty');
    const big = Array.from({ length: 1001 }, (_, i) => i);
    expect(thrown(() => gridOf({ a: big, b: big })).message).toContain('1002001 combinations, more than 1000000');
  });

  it('a 3×2 grid with a filter dropping one combination gives 5 parameter sets', () => {
    const p = expandParameters({ mode: 'grid', values: { model: ['mlp', 'cnn', 'big'], lr: [0.1, 0.01] } }, keep);
    expect(p).toEqual([{ model: 'mlp', lr: 0.1 }, { model: 'mlp', lr: 0.01 }, { model: 'cnn', lr: 0.01 }, { model: 'big', lr: 0.1 }, { model: 'big', lr: 0.01 }]);
  });

  it('a filter that throws, answers a non-boolean or drops everything is bad input naming it and the combination', () => {
    const grid = { mode: 'grid' as const, values: { model: ['mlp'], lr: [1] } };
    const e = thrown(() => expandParameters(grid, { fn: () => { throw new Error('boom'); }, name: 'f.mjs: pick' }));
    expect(e).toBeInstanceOf(PilotError);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('parameters.filter f.mjs: pick threw on {"model":"mlp","lr":1}: boom');
    expect(thrown(() => expandParameters(grid, { fn: async () => true, name: 'f.mjs: pick' })).message).toContain('returned a Promise for {"model":"mlp","lr":1}');
    expect(thrown(() => expandParameters(grid, { fn: () => 1, name: 'f.mjs: pick' })).message).toContain('returned 1');
    expect(thrown(() => expandParameters(grid, { fn: () => false, name: 'f.mjs: pick' })).message).toContain('dropped all 1 combinations');
    expect(thrown(() => expandParameters({ mode: 'list', values: [{ a: 1 }] }, keep)).message).toContain('filter applies to grids only');
  });

  it('names from taskNamePattern; argv by the object rule or argsPattern split as shell words', () => {
    const params = [{ model: 'mlp', lr: 0.1, fast: true, off: false, layers: [64, 32] }];
    expect(taskNames(params, '{{ model }}_lr{{ lr }}', render)).toEqual(['mlp_lr0.1']);
    expect(sweepArgv(params, undefined, undefined)).toEqual([['--model', 'mlp', '--lr', '0.1', '--fast', '--layers', '64', '32']]);
    expect(sweepArgv([{ note: 'a b', x: '$(id)' }], '--note "{{ note }}" {{ x }}', render)).toEqual([['--note', 'a b', '$(id)']]);
    expect(thrown(() => taskNames([{ model: 'a' }], '{{ modle }}', render)).message).toMatch(/taskNamePattern: cannot render task 1 \(\{"model":"a"\}\)/);
    expect(thrown(() => taskNames([{ model: 'a\nb' }], '{{ model }}', render)).message).toContain('the name "a\\nb"');
  });

  it('resources: logic over the defaults, grouped by distinct set in order of first appearance', () => {
    const params = [{ model: 'mlp' }, { model: 'big' }, { model: 'cnn' }, { model: 'big' }];
    const per = taskResources(params, { mem: '4G', time: '10' }, bigMem);
    expect(per[1]).toEqual({ mem: '32G', time: '10' });
    expect(groupByResources(per as never)).toEqual([{ tasks: '1,3', resources: { mem: '4G', time: '10' } }, { tasks: '2,4', resources: { mem: '32G', time: '10' } }]);
    expect(thrown(() => taskResources(params, {}, { fn: () => 'big', name: 'r.mjs: res' })).message).toContain('returned "big" for task 1');
    expect(splitByGroup([{ tasks: '1,3', resources: { mem: '4G' } }, { tasks: '2,4', resources: { mem: '32G' } }], [3, 4])).toEqual([
      { tasks: [3], resources: { mem: '4G' } }, { tasks: [4], resources: { mem: '32G' } }]);
    expect(splitByGroup(undefined, [1, 2])).toEqual([{ tasks: [1, 2] }]);
  });

  it('the params file carries exact JSON per task, {} without parameters', () => {
    const file = encodeParamsFile([{ note: 'it\'s $(x) "q" ü\n' }, undefined], 2).split('\n');
    expect(decodeParamsLine(file[0]!)).toEqual({ note: 'it\'s $(x) "q" ü\n' });
    expect(decodeParamsLine(file[1]!)).toEqual({});
  });
});

describe('sweep job fields (normalizeJobInfo with loaded hooks)', () => {
  const base = { jobName: 'sw', srcDir: '.', entrypoint: 'train.py' };
  const grid = { mode: 'grid', values: { model: ['mlp', 'cnn', 'big'], lr: [0.1, 0.01] }, filter: { file: 's.mjs', function: 'keep' } };
  const hooks: SweepHooks = { filter: keep, logic: bigMem, render };

  it('gives 5 tasks with argv, names, params and two resource groups; defaults become the job\'s own fields', () => {
    const info = normalizeJobInfo({ ...base, mem: '1G', cpus: 2, parameters: grid, resources: { defaults: { mem: '4G' }, logic: { file: 's.mjs', function: 'r' } }, taskNamePattern: '{{ model }}_lr{{ lr }}' }, process.cwd(), 'job', hooks);
    expect(info.argv).toHaveLength(5);
    expect(info.argv[4]).toEqual(['--model', 'big', '--lr', '0.01']);
    expect(info.params[2]).toEqual({ model: 'cnn', lr: 0.01 });
    expect(info.taskNames).toEqual(['mlp_lr0.1', 'mlp_lr0.01', 'cnn_lr0.01', 'big_lr0.1', 'big_lr0.01']);
    expect(info.mem).toBe('4G');
    expect(info.resourceGroups).toEqual([{ tasks: '1-3', resources: { cpus: 2, mem: '4G' } }, { tasks: '4-5', resources: { cpus: 2, mem: '32G' } }]);
    expect(previewTasks(info, 2).map((t) => [t.index, t.name, t.resources])).toEqual([[1, 'mlp_lr0.1', { cpus: 2, mem: '4G' }], [2, 'mlp_lr0.01', { cpus: 2, mem: '4G' }]]);
  });

  it('one resource set for every task is the job\'s own (no groups); bad resources from logic are refused by name', () => {
    const same = normalizeJobInfo({ ...base, parameters: grid, resources: { logic: { file: 's.mjs', function: 'r' } } }, process.cwd(), 'job', { ...hooks, logic: { fn: () => ({ mem: '8G' }), name: 's.mjs: r' } });
    expect(same.resourceGroups).toBeUndefined();
    expect(same.mem).toBe('8G');
    const e = thrown(() => normalizeJobInfo({ ...base, parameters: grid, resources: { logic: { file: 's.mjs', function: 'r' } } }, process.cwd(), 'job', { ...hooks, logic: { fn: () => ({ mem: 'lots' }), name: 's.mjs: r' } }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/resources\.logic s\.mjs: r gave task 1 \{"model":"mlp","lr":0\.1\} bad resources: .*mem/);
    expect(thrown(() => normalizeJobInfo({ ...base, parameters: grid, resources: { logic: { file: 's.mjs', function: 'r' } } }, process.cwd(), 'job', { ...hooks, logic: { fn: () => ({ ram: '8G' }), name: 's.mjs: r' } })).message).toContain('ram');
  });

  it('refuses args with parameters, and patterns without parameters', () => {
    expect(thrown(() => normalizeJobInfo({ ...base, args: ['--a'], parameters: { mode: 'list', values: [{ a: 1 }] } }, process.cwd(), 'job', {})).message).toContain('either args or parameters');
    expect(thrown(() => normalizeJobInfo({ ...base, taskNamePattern: '{{ a }}' }, process.cwd(), 'job', { render })).message).toContain('taskNamePattern needs parameters');
    expect(thrown(() => normalizeJobInfo({ ...base, parameters: { mode: 'grid', values: [1] } }, process.cwd(), 'job', {})).exitCode).toBe(2);
  });
});

describe('one array per resource set', () => {
  const groups = [{ tasks: '1,3,5', resources: { mem: '4G' } }, { tasks: '2,4', resources: { mem: '32G' } }];

  it('plans a sparse array per set, each with %K, chunked within the set', () => {
    const planned = planSubmission({ planArrays }, { resourceGroups: groups }, [1, 2, 3, 4, 5], 1000, 2);
    expect(planned).toEqual([
      { offset: 0, spec: '1,3,5%2', group: 0, tasks: '1,3,5', resources: { mem: '4G' } },
      { offset: 0, spec: '2,4%2', group: 1, tasks: '2,4', resources: { mem: '32G' } }]);
    expect(planSubmission({ planArrays }, { resourceGroups: groups }, [1, 3, 4, 5], 3).map((a) => [a.offset, a.spec, a.tasks, a.group])).toEqual([
      [0, '1,3', '1,3', 0], [3, '2', '5', 0], [3, '1', '4', 1]]);
  });

  it('gives each array its resources on the sbatch line, chains chunks only within a set, and a retry\'s resources win', () => {
    const arrays = planSubmission({ planArrays }, { resourceGroups: groups }, [1, 3, 4, 5], 3);
    const cmd = submitCommand({ root: '/r', jobDir: '/r/jobs/j', bundleSha: 'x', withJobFiles: false, script: 'job.sh', attempt: 2, token: 't', arrays, resources: { time: '00:20:00' } });
    const sbatch = scriptOf(cmd).split('\n').filter((l) => l.includes('sbatch --parsable'));
    expect(sbatch).toHaveLength(3);
    expect(sbatch[0]).toContain(`--array=1,3 --mem=4G --time=00:20:00 job.sh 0 2`);
    expect(sbatch[1]).toContain(`--array=2 --dependency=afterany:"$prev" --mem=4G --time=00:20:00 job.sh 3 2`);
    expect(sbatch[2]).toContain(`--array=1 --mem=32G --time=00:20:00 job.sh 3 2`);
    execFileSync('sh', ['-n', '-c', scriptOf(cmd)]);
  });

  it('the record finds each task\'s array by its stored task list; adoption copies tasks and resources from the plan', () => {
    const planned = planSubmission({ planArrays }, { resourceGroups: groups }, [1, 2, 3, 4, 5], 1000);
    const record = {
      version: 2, name: 'sw', cluster: 'lab', backend: 'slurm', createdAt: '', tasks: 5, chunkSize: 1000,
      info: { mem: '1G', time: '10', resourceGroups: groups }, bundle: { sha256: 'x', bytes: 0, files: 0 }, remote: { jobDir: '/j', bundleDir: '/b' },
      attempts: [], finalStates: {}, pending: { attempt: 1, token: 't', startedAt: 'now', indices: '1-5', planned },
    } as unknown as JobRecord;
    const adopted = adoptSubmission(record, [{ jobId: '10', offset: 0, arraySpec: '1,3,5' }, { jobId: '11', offset: 0, arraySpec: '2,4' }]);
    expect(adopted.attempts[0]!.arrays).toEqual([
      { jobId: '10', offset: 0, arraySpec: '1,3,5', tasks: '1,3,5', resources: { mem: '4G' } },
      { jobId: '11', offset: 0, arraySpec: '2,4', tasks: '2,4', resources: { mem: '32G' } }]);
    expect(arrayFor(adopted, 4, 1)?.jobId).toBe('11');
    expect(logPath(adopted, 4, 1, 'out')).toBe('logs/11_4.out');
    expect(resourcesOf(adopted, 4)).toEqual({ time: '10', mem: '32G' });
    // only the first array answered (cut off): tasks of the second are recorded as not submitted
    const cut = adoptSubmission(record, [{ jobId: '10', offset: 0, arraySpec: '1,3,5' }]);
    expect(cut.attempts[0]!.indices).toBe('1,3,5');
    expect(cut.finalStates['2']).toMatchObject({ state: 'CANCELLED' });
  });
});

describe('loading the user\'s functions (engine/sweep-load.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-sweep-unit-'));
  writeFileSync(join(dir, 'f.mjs'), 'export const keep = (p) => p.a !== 2;\nexport function res(p, d) { return { ...d, cpus: p.a }; }\n');
  writeFileSync(join(dir, 'cjs.cjs'), 'module.exports = { keep: (p) => p.a === 1 };\n');
  writeFileSync(join(dir, 'bad.mjs'), 'export const keep = ;\n');
  const job = (filter: unknown, logic?: unknown) => ({ jobName: 'sw', srcDir: '.', entrypoint: 'train.py', parameters: { mode: 'grid', values: { a: [1, 2, 3] }, filter }, ...(logic ? { resources: { logic } } : {}) });
  const refused = async (p: Promise<unknown>) => p.then(() => { throw new Error('did not throw'); }, (e: PilotError) => e);

  it('imports ES and CommonJS modules relative to the job file; the SDK may give the functions themselves', async () => {
    const info = job({ file: 'f.mjs', function: 'keep' }, { file: 'f.mjs', function: 'res' });
    const n = normalizeJobInfo(info, dir, 'job', await loadSweepHooks(info, dir));
    expect(n.params).toEqual([{ a: 1 }, { a: 3 }]);
    expect(n.resourceGroups).toEqual([{ tasks: '1', resources: { cpus: 1 } }, { tasks: '2', resources: { cpus: 3 } }]);
    const cjs = job({ file: 'cjs.cjs', function: 'keep' });
    expect(normalizeJobInfo(cjs, dir, 'job', await loadSweepHooks(cjs, dir)).params).toEqual([{ a: 1 }]);
    const sdk = job((p: { a: number }) => p.a > 1);
    expect(normalizeJobInfo(sdk, dir, 'job', await loadSweepHooks(sdk, dir)).params).toEqual([{ a: 2 }, { a: 3 }]);
  });

  it('refuses a .ts file, a missing file or function, and a module that does not load: exit 2, naming them', async () => {
    const ts = await refused(loadSweepHooks(job({ file: 'f.ts', function: 'keep' }), dir));
    expect([ts.exitCode, ts.message]).toEqual([2, expect.stringMatching(/parameters\.filter: f\.ts is TypeScript/)]);
    expect(ts.hint).toContain('.mjs');
    expect((await refused(loadSweepHooks(job({ file: 'nope.mjs', function: 'keep' }), dir))).message).toContain('nope.mjs does not exist');
    const fn = await refused(loadSweepHooks(job(undefined, { file: 'f.mjs', function: 'resources' }), dir));
    expect(fn.message).toBe('resources.logic: f.mjs exports no function resources');
    expect(fn.hint).toMatch(/its functions: keep, res/);
    expect((await refused(loadSweepHooks(job({ file: 'bad.mjs', function: 'keep' }), dir))).message).toMatch(/cannot load bad\.mjs/);
  });
});
