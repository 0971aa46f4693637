// Sweeps on the built-in `local` cluster, through the CLI: the same 3×2 grid minus one combination as on lab
// (sweep.test.ts), run as one array per resource set; a list with argsPattern whose parameters reach the task
// exactly (PILOT_PARAMS_JSON) and are never run by a shell; the dry run's table; bad filters refused (exit 2).
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pilot } from '../support/cli.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'sweep');
const SPEC = join(FIXTURE, 'sweep.yaml');
const freshHome = () => mkdtempSync(join(tmpdir(), 'pilot-local-'));
const PARAMS = [
  { model: 'mlp', lr: 0.1 }, { model: 'mlp', lr: 0.01 }, { model: 'cnn', lr: 0.01 }, { model: 'big', lr: 0.1 }, { model: 'big', lr: 0.01 },
];

/** A job file in a folder of its own, next to a copy of the fixture's functions. */
function specFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-sweep-'));
  writeFileSync(join(dir, 'sweep.mjs'), readFileSync(join(FIXTURE, 'sweep.mjs')));
  writeFileSync(join(dir, 'job.yaml'), `srcDir: ${JSON.stringify(join(FIXTURE, 'src'))}\nentrypoint: run.sh\ncluster: local\n${yaml}`);
  return join(dir, 'job.yaml');
}

const record = (home: string, name: string) => JSON.parse(readFileSync(join(home, 'jobs', name, 'job.json'), 'utf8'));

describe('sweeps on the local cluster', () => {
  it('grid + filter + resources.logic: 5 tasks in two arrays, names in status, PILOT_PARAMS_JSON, restart per set', async () => {
    const home = freshHome();
    const launched = await pilot(['launch', SPEC, '--cluster', 'local', '--name', 'sweep-local', '--wait'], home);
    expect(launched.code, launched.stderr).toBe(1);   // lr 0.01 fails on the first attempt
    const r = record(home, 'sweep-local');
    expect(r.info.params).toEqual(PARAMS);
    expect(r.info.argv).toEqual(PARAMS.map((p) => ['--model', p.model, '--lr', String(p.lr)]));
    expect(r.info.taskNames).toEqual(['mlp_lr0.1', 'mlp_lr0.01', 'cnn_lr0.01', 'big_lr0.1', 'big_lr0.01']);
    expect(r.attempts[0].arrays.map((a: { tasks: string; resources: object }) => [a.tasks, a.resources])).toEqual([
      ['1-3', { mem: '100M', time: '5' }], ['4-5', { mem: '200M', time: '5' }]]);
    const status = await pilot(['status', 'sweep-local', '--tasks'], home);
    expect(status.stdout).toMatch(/^\s+1\s+mlp_lr0\.1\s+COMPLETED/m);
    expect(status.stdout).toMatch(/^\s+5\s+big_lr0\.01\s+FAILED/m);
    for (const t of [1, 3, 5]) {
      const out = (await pilot(['logs', `sweep-local/${t}`], home)).stdout;
      expect(JSON.parse(/^params: (.*)$/m.exec(out)![1]!)).toEqual(PARAMS[t - 1]);
    }
    // a task can be addressed by its name too
    const byName = (await pilot(['logs', 'sweep-local/big_lr0.01'], home)).stdout;
    expect(JSON.parse(/^params: (.*)$/m.exec(byName)![1]!)).toEqual(PARAMS[4]);
    const unknown = await pilot(['logs', 'sweep-local/huge_lr1'], home);
    expect(unknown.stderr).toContain("job 'sweep-local' has no task named 'huge_lr1'");
    // so can `why` (and cancel, download: the same reference)
    const why = await pilot(['why', 'sweep-local/big_lr0.01', '--json'], home);
    expect(why.code, why.stderr).not.toBe(2);
    expect((JSON.parse(why.stdout) as { tasks: { index: number }[] }).tasks.map((t) => t.index)).toEqual([5]);
    expect((await pilot(['why', 'sweep-local/huge_lr1'], home)).code).toBe(2);
    const restart = await pilot(['restart-failed', 'sweep-local'], home);
    expect(restart.code, restart.stderr).toBe(0);
    const again = record(home, 'sweep-local').attempts[1];
    expect(again.arrays.map((a: { tasks: string; resources: { mem: string } }) => [a.tasks, a.resources.mem])).toEqual([['2-3', '100M'], ['5', '200M']]);
    const done = await pilot(['wait', 'sweep-local', '--json'], home);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout).tasks.map((t: { attempt: number }) => t.attempt)).toEqual([1, 2, 2, 1, 2]);
    // export: each task's named parameters, next to its argv
    const exported = JSON.parse((await pilot(['export', 'sweep-local', '--format', 'json'], home)).stdout);
    expect(exported.jobs[0].tasks.map((t: { params: object }) => t.params)).toEqual(PARAMS);
  });

  it('list + argsPattern: argv from the template, exact PILOT_PARAMS_JSON, nothing run by a shell; the dry run shows the table', async () => {
    const home = freshHome();
    const note = 'it\'s $(touch PWNED) `touch PWNED2` "q" \\ ünï';
    const spec = specFile([
      'jobName: sweep-list',
      'parameters:',
      '  mode: list',
      '  values:',
      `    - { model: mlp, lr: 0.1, note: ${JSON.stringify(note)} }`,
      '    - { model: cnn, lr: 0.2, note: plain, layers: [64, 32] }',
      'argsPattern: \'--arch={{ model }} "lr {{ lr }}"\'',
      'taskNamePattern: \'{{ model }}-{{ lr }}\'',
    ].join('\n'));
    const dry = await pilot(['launch', spec, '--dry-run', '--json'], home);
    expect(dry.code, dry.stderr).toBe(0);
    const d = JSON.parse(dry.stdout);
    expect(d.tasks).toBe(2);
    expect(d.taskTable[1]).toEqual({ index: 2, name: 'cnn-0.2', params: { model: 'cnn', lr: 0.2, note: 'plain', layers: [64, 32] }, argv: ['--arch=cnn', 'lr 0.2'], resources: {} });
    const text = await pilot(['launch', spec, '--dry-run'], home);
    expect(text.stdout).toMatch(/^# ---- 2 tasks\n#  index\s+name\s+params\s+argv\n#  1\s+mlp-0\.1\s+\{"model":"mlp"/);
    expect(text.stdout).toContain('# ---- job.sh');

    const launched = await pilot(['launch', spec, '--wait'], home);
    expect(launched.code, launched.stderr).toBe(0);
    const r = record(home, 'sweep-list');
    expect(r.info.argv).toEqual([['--arch=mlp', 'lr 0.1'], ['--arch=cnn', 'lr 0.2']]);
    const out1 = (await pilot(['logs', 'sweep-list/1'], home)).stdout;
    expect(out1).toContain('argv: [--arch=mlp] [lr 0.1]');
    expect(JSON.parse(/^params: (.*)$/m.exec(out1)![1]!)).toEqual({ model: 'mlp', lr: 0.1, note });
    const out2 = (await pilot(['logs', 'sweep-list/2'], home)).stdout;
    expect(JSON.parse(/^params: (.*)$/m.exec(out2)![1]!)).toEqual({ model: 'cnn', lr: 0.2, note: 'plain', layers: [64, 32] });
    // the note's $(…) and `…` were never run: no file appeared in the task's folders
    const jobDir = join(home, 'local', 'jobs', readdirSync(join(home, 'local', 'jobs')).find((n) => n.startsWith('sweep-list-'))!);
    const bundleSrc = join(home, 'local', 'bundles', r.bundle.sha256, 'src');   // the tasks' working folder
    expect(existsSync(join(bundleSrc, 'run.sh'))).toBe(true);
    for (const dir of [jobDir, bundleSrc]) expect(readdirSync(dir).filter((n) => n.startsWith('PWNED'))).toEqual([]);
  });

  it('a filter that throws, a missing function, a .ts file: one exit-2 error each, naming file, function and combination', async () => {
    const home = freshHome();
    const grid = 'parameters:\n  mode: grid\n  values: { model: [mlp, cnn], lr: [0.1] }\n';
    const throws = await pilot(['launch', specFile(`jobName: bad1\n${grid}  filter: { file: sweep.mjs, function: broken }\n`)], home);
    expect(throws.code).toBe(2);
    expect(throws.stderr).toContain('parameters.filter sweep.mjs: broken threw on {"model":"mlp","lr":0.1}: cannot judge mlp');
    const missing = await pilot(['launch', specFile(`jobName: bad2\n${grid}  filter: { file: sweep.mjs, function: nope }\n`)], home);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/parameters\.filter: sweep\.mjs exports no function nope/);
    expect(missing.stderr).toMatch(/its functions: .*keep/);
    const ts = await pilot(['launch', specFile(`jobName: bad3\n${grid}  filter: { file: sweep.ts, function: keep }\n`)], home);
    expect(ts.code).toBe(2);
    expect(ts.stderr).toMatch(/sweep\.ts is TypeScript.*\n.*\.mjs/);
    const none = await pilot(['launch', specFile(`jobName: bad4\n${grid}  filter: { file: gone.mjs, function: keep }\n`)], home);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('gone.mjs does not exist');
    expect(existsSync(join(home, 'jobs', 'bad1'))).toBe(false);   // nothing recorded
  });
});
