// Issue 13 item 2 / issue 11 item 2: placeholders pilot fills itself, and each task's output folder.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pathGlob } from '../../../src/model/expected.js';
import { encodeArgsFile } from '../../../src/model/args.js';
import { fillPlaceholders, planTaskEnv, shellVariableWarnings, taskOutputDir, type PlaceholderName } from '../../../src/model/task-env.js';
import { runtimeValue } from '../../../src/engine/prepare.js';
import { renderScript } from '../../../src/scheduler/render.js';
import { slurmDialect } from '../../../src/scheduler/slurm/index.js';
import { makeWorkDir } from '../../../src/scheduler/local/workdir.js';
import { HOSTILE_ARGS } from '../../support/hostile.js';

describe('placeholders', () => {
  it('fills {index} {index0} {job} per task, keeps {outputDir} as a token, and {{ is a literal brace', () => {
    const plan = planTaskEnv('sweep', [['--seed {index0}', '--out {outputDir}/r.json'], ['{{index} {job}#{index}']], {});
    expect(plan.argv[1]).toEqual(['{index} sweep#2']);
    expect(plan.argv[0]![0]).toBe('--seed 0');
    expect(plan.argv[0]![1]).toBe(`--out ${plan.tokens.outputDir}/r.json`);
    expect(plan.tokens.outputDir).toMatch(/^@pilot_outputDir_[0-9a-f]{20}@$/);
    expect(Object.keys(plan.tokens)).toEqual(['outputDir']);   // {index} in args is known at launch
    // with 0-based task ids (arrayBase: 0) {index} is the id and {index0} the position: both start at 0
    expect(planTaskEnv('j', [['{index}/{index0}'], ['{index}/{index0}']], {}, 0).argv).toEqual([['0/0'], ['1/1']]);
  });

  it('leaves shell syntax, JSON and brace lists alone: every hostile argument passes unchanged', () => {
    expect(planTaskEnv('j', [HOSTILE_ARGS], {}).argv[0]).toEqual(HOSTILE_ARGS);
    expect(fillPlaceholders('{"a":{"b":1}} ${index} {a,b} { index }', {}, {}, 'x')).toBe('{"a":{"b":1}} ${index} {a,b} { index }');
  });

  it('refuses an unknown placeholder, naming the task and the placeholder (exit 2)', () => {
    expect(() => planTaskEnv('j', [['ok'], ['--x {seed}']], {})).toThrow(expect.objectContaining({
      code: 'BAD_INPUT', message: expect.stringMatching(/task 2: argument "--x \{seed\}": unknown placeholder \{seed\}/),
      hint: expect.stringMatching(/\{\{seed\} for a literal/),
    }));
    expect(() => planTaskEnv('j', [[]], { OUT: '{outdir}' })).toThrow(/env\.OUT: unknown placeholder \{outdir\}/);
  });

  it('env values: {job} at launch, the per-task ones by job.sh', () => {
    const plan = planTaskEnv('j', [[]], { A: '{job}-x', B: '{outputDir}/{index0}', C: 'plain' });
    expect(plan.env.A).toBe('j-x');
    expect(plan.envToFill).toEqual(['B']);
    expect(Object.keys(plan.tokens).sort()).toEqual(['index0', 'outputDir']);
  });

  it('warns about $WORD in args or env, naming the placeholder to use', () => {
    const w = shellVariableWarnings(['--id $SLURM_ARRAY_TASK_ID', '--out ${PILOT_OUTPUT_DIR}/x', '$HOME']);
    expect(w.map((x) => x.message)).toEqual([
      expect.stringMatching(/^\$SLURM_ARRAY_TASK_ID in args or env is not expanded/),
      expect.stringMatching(/^\$PILOT_OUTPUT_DIR /), expect.stringMatching(/^\$HOME /),
    ]);
    expect(w[0]!.hint).toMatch(/write \{index\} instead/);
    expect(w[1]!.hint).toMatch(/write \{outputDir\} instead/);
    expect(shellVariableWarnings(['50%', 'a$', '{index}'])).toEqual([]);
  });
});

describe('the task environment in job.sh', () => {
  it('runs in work/, writes to outputs/<index>/<attempt>, and gets {outputDir} filled as plain text', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pilot-taskenv-'));
    const sha = 'c'.repeat(64);
    const bundle = join(root, 'bundles', sha);
    mkdirSync(join(bundle, 'src'), { recursive: true });
    writeFileSync(join(bundle, 'src', 'show.sh'), 'printf "cwd=%s\\n" "$PWD"; printf "[%s]\\n" "$@"; printf "OUT=%s\\n" "$OUT"; echo hi > out.txt\n');
    const jobDir = join(root, 'jobs', 'j-1');
    mkdirSync(jobDir, { recursive: true });
    const plan = planTaskEnv('j', [['--seed {index0}', '--out {outputDir}/r.json', '$(touch pwned) {{x}'], ['& \\ {outputDir}']], { OUT: '{outputDir}|{index}|{index0}' });
    const script = await renderScript({
      version: '0', jobName: 'j', bundleSha: sha, sbatchLines: [], env: plan.env, setup: [], command: ['bash', 'show.sh'],
      fills: Object.entries(plan.tokens).map(([p, token]) => ({ token, value: runtimeValue(p as PlaceholderName, 1) })),
      envToFill: plan.envToFill, arrayBase: 1, libraryDirs: [],
    }, slurmDialect.template);
    writeFileSync(join(jobDir, 'job.sh'), script);
    writeFileSync(join(jobDir, 'args.b64'), encodeArgsFile(plan.argv));
    await makeWorkDir(jobDir, bundle);
    const run = (task: string, attempt: string) => spawnSync('bash', ['job.sh', '0', attempt], { cwd: jobDir, encoding: 'utf8', env: { ...process.env, SLURM_ARRAY_TASK_ID: task, PILOT_JOB_DIR: jobDir } });
    const one = run('1', '1');
    const out1 = join(jobDir, taskOutputDir(1, 1));
    expect(one.stdout).toBe(`cwd=${join(jobDir, 'work')}\n[--seed 0]\n[--out ${out1}/r.json]\n[$(touch pwned) {x}]\nOUT=${out1}|1|0\n`);
    const two = run('2', '3');
    const out2 = join(jobDir, taskOutputDir(2, 3));
    expect(two.stdout).toBe(`cwd=${join(jobDir, 'work')}\n[& \\ ${out2}]\nOUT=${out2}|2|1\n`);
    expect(readFileSync(join(jobDir, 'work', 'out.txt'), 'utf8')).toBe('hi\n');
    expect(spawnSync('ls', [join(bundle, 'src')], { encoding: 'utf8' }).stdout).toBe('show.sh\n');   // the bundle is untouched
    expect(spawnSync('test', ['-d', out2]).status).toBe(0);
  });
});

describe('download globs', () => {
  it('match a name in any folder without /, a path with it, ** for any folders', () => {
    expect(pathGlob('*.json')('outputs/3/1/r.json')).toBe(true);
    expect(pathGlob('*.json')('work/r.txt')).toBe(false);
    expect(pathGlob('outputs/*/1/*')('outputs/3/1/r.json')).toBe(true);
    expect(pathGlob('outputs/*/1/*')('outputs/3/2/r.json')).toBe(false);
    expect(pathGlob('work/**/*.txt')('work/a/b/c.txt')).toBe(true);
    expect(pathGlob('work/**/*.txt')('work/c.txt')).toBe(true);
    expect(pathGlob('./work/out.txt')('work/out.txt')).toBe(true);
  });
});

describe('what download takes from a job folder', () => {
  it('lists logs/ and outputs/ whole, and in work/ only what was written after it was filled (not the sources)', async () => {
    const { downloadListCommand, WORK_STAMP } = await import('../../../src/scheduler/workdir.js');
    const root = mkdtempSync(join(tmpdir(), 'pilot-dl-list-'));
    const bundle = join(root, 'bundle');
    mkdirSync(join(bundle, 'src', 'pkg'), { recursive: true });
    writeFileSync(join(bundle, 'src', 'train.py'), 'x\n');
    writeFileSync(join(bundle, 'src', 'pkg', 'm.py'), 'y\n');
    const jobDir = join(root, 'job');
    mkdirSync(join(jobDir, 'logs'), { recursive: true });
    mkdirSync(join(jobDir, 'outputs', '1', '1'), { recursive: true });
    writeFileSync(join(jobDir, 'logs', '5_1.out'), 'o');
    await makeWorkDir(jobDir, bundle);
    spawnSync('bash', ['-c', `cd ${join(jobDir, 'work')} && sleep 0.05 && echo r > out.txt && mkdir -p res && echo j > res/r.json`]);
    const list = (selection: { paths: string[]; work: boolean }) => spawnSync('bash', ['-c', downloadListCommand(selection)], { cwd: jobDir, encoding: 'utf8' })
      .stdout.split('\0').filter(Boolean).sort();
    expect(list({ paths: ['logs', 'outputs', 'missing'], work: true })).toEqual(['logs', 'logs/5_1.out', 'outputs', 'outputs/1', 'outputs/1/1', 'work/out.txt', 'work/res/r.json']);
    expect(list({ paths: ['outputs/1'], work: false })).toEqual(['outputs/1', 'outputs/1/1']);
    expect(readFileSync(join(jobDir, WORK_STAMP), 'utf8')).toBe('');
  });
});
