// Issue 13 (items 3-6) in pure pieces: the #SBATCH directive parser, arrayBase's task numbering (ranges, split
// arrays, refs, the args line a task reads), script:/argsFile:/args-as-one-string in job files, and the search
// paths a task gets (the template and the description dry-run prints must agree).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeJobInfo } from '../../src/engine/job-spec.js';
import { checkIndex } from '../../src/engine/refs.js';
import { chunkOffset, logPath, openTasks } from '../../src/model/attempts.js';
import { encodeArgsFile } from '../../src/model/args.js';
import { PilotError } from '../../src/model/errors.js';
import { arrayBaseOf, taskRange, tasksOf } from '../../src/model/job.js';
import { libraryDirs, taskPaths } from '../../src/model/task-paths.js';
import type { JobRecord } from '../../src/model/record.js';
import { recordProblem } from '../../src/model/record-check.js';
import { jobStatus } from '../../src/model/tracking.js';
import { commandWords, renderScript } from '../../src/scheduler/render.js';
import { sbatchLines } from '../../src/scheduler/slurm/directives.js';
import { slurmDialect } from '../../src/scheduler/slurm/index.js';
import { parseScriptDirectives } from '../../src/scheduler/slurm/script-directives.js';
import { planArrays } from '../../src/scheduler/slurm/submit.js';
import { makeWorkDir } from '../../src/scheduler/local/workdir.js';
import { refusal } from '../support/refusal.js';

const base = mkdtempSync(join(tmpdir(), 'pilot-programs-'));
const write = (name: string, text: string) => {
  mkdirSync(join(base, name, '..'), { recursive: true });
  writeFileSync(join(base, name), text);
  return join(base, name);
};


describe('#SBATCH directives of an existing script', () => {
  it('takes the array (%K), resources and other options; ignores the output pattern and what pilot owns', () => {
    const d = parseScriptDirectives([
      '#!/bin/bash',
      '# a course example',
      '#SBATCH --array=0-4%2 --mem=500M   # five seeds',
      '#SBATCH -p debug',
      '#SBATCH -c 4',
      '#SBATCH --time=00:10:00',
      '#SBATCH -J seeds',
      '#SBATCH --output=slurm-%A_%a.out',
      '#SBATCH -e err.txt',
      '#SBATCH --qos=high --nodes=1',
      '',
      'python3 run.py',
      '#SBATCH --mem=99G',          // after the first command: sbatch does not read it, neither does pilot
    ].join('\n'), 'run.sbatch');
    expect(d).toMatchObject({ tasks: 5, arrayBase: 0, maxConcurrent: 2, mem: '500M', partition: 'debug', cpus: 4, time: '00:10:00', nodes: 1, jobName: 'seeds', sbatchArgs: ['--qos=high'] });
    expect(d.taken).toContain('--array=0-4%2 → tasks: 5 (numbered from 0, at most 2 at once)');
    expect(d.ignored).toEqual([
      '--job-name=seeds: ignored, the job is named by jobName',
      '--output=slurm-%A_%a.out: ignored, pilot keeps per-task logs (pilot logs NAME/I)',
      '--error=err.txt: ignored, pilot keeps per-task logs (pilot logs NAME/I --stderr)',
    ]);
  });

  it('a 1-based range gives tasks numbered from 1; no --array: nothing said about tasks', () => {
    expect(parseScriptDirectives('#SBATCH --array=1-4%2\n', 'x')).toMatchObject({ tasks: 4, arrayBase: 1, maxConcurrent: 2 });
    const d = parseScriptDirectives('#!/bin/sh\n#SBATCH --mem 2G\necho\n', 'x');
    expect(d.tasks).toBeUndefined();
    expect(d.mem).toBe('2G');
  });

  it('refuses a range pilot cannot run as sbatch would number it (gaps, steps, a start past 1)', () => {
    for (const spec of ['3-7', '1-9:2', '1,3,5', 'x']) {
      expect(refusal(() => parseScriptDirectives(`#SBATCH --array=${spec}\n`, 'run.sbatch')).message).toContain(`--array=${spec}`);
    }
  });
});

describe('arrayBase: 0', () => {
  const info = { arrayBase: 0 as const };
  it('numbers tasks 0..N-1, and absent (older records) means 1', () => {
    expect(taskRange(5, info)).toBe('0-4');
    expect(taskRange(5, undefined)).toBe('1-5');
    expect(arrayBaseOf({})).toBe(1);
    expect(tasksOf({ argv: [['a'], ['b']], params: [], arrayBase: 0 }).map((t) => [t.index, t.argv])).toEqual([[0, ['a']], [1, ['b']]]);
  });

  it('splits past MaxArraySize with indices 0..chunk-1 in every array', () => {
    const all = Array.from({ length: 20 }, (_, i) => i);
    expect(planArrays(all, 7, undefined, 0)).toEqual([{ offset: 0, spec: '0-6' }, { offset: 7, spec: '0-6' }, { offset: 14, spec: '0-5' }]);
    expect(chunkOffset({ chunkSize: 7, info }, 6)).toBe(0);
    expect(chunkOffset({ chunkSize: 7, info }, 7)).toBe(7);
    expect(planArrays([0, 8], 7, 2, 0)).toEqual([{ offset: 0, spec: '0%2' }, { offset: 7, spec: '1%2' }]);
  });

  const record = {
    version: 2, name: 'z', cluster: 'local', backend: 'local', createdAt: '2026-01-01T00:00:00Z', tasks: 3, chunkSize: 1000,
    info: { ...normalizeJobInfo({ jobName: 'z', srcDir: '.', entrypoint: 'run.sh', arrayBase: 0, args: ['a', 'b', 'c'] }, base) },
    bundle: { sha256: 'a'.repeat(64), bytes: 1, files: 1 }, remote: { jobDir: '/r/jobs/z-1', bundleDir: '/r/bundles/a' },
    attempts: [{ attempt: 1, submittedAt: '2026-01-01T00:00:00Z', indices: '0-2', arrays: [{ jobId: '7', offset: 0, arraySpec: '0-2' }] }],
    finalStates: { 0: { index: 0, state: 'COMPLETED', exitCode: 0, attempt: 1 } },
  } as unknown as JobRecord;

  it('addresses task 0 in refs, logs, status and open tasks; a recorded task 0 passes the record check', () => {
    expect(() => checkIndex(record, 0)).not.toThrow();
    expect(refusal(() => checkIndex(record, 3)).hint).toBe('its tasks are z/0 … z/2');
    expect(logPath(record, 0, 1, 'out')).toBe('logs/7_0.out');
    expect(jobStatus(record).tasks.map((t) => t.index)).toEqual([0, 1, 2]);
    expect(openTasks(record)).toEqual([1, 2]);
    expect(recordProblem(JSON.parse(JSON.stringify(record)), 'z')).toBeUndefined();
  });

  it('the script reads argument line index+1 for task index (SLURM_ARRAY_TASK_ID 0 → the first line)', async () => {
    const job = mkdtempSync(join(tmpdir(), 'pilot-base0-'));
    const bundle = join(job, 'bundles', 'b'.repeat(64));
    mkdirSync(join(bundle, 'src'), { recursive: true });
    writeFileSync(join(bundle, 'src', 'show.sh'), 'echo "$SLURM_ARRAY_TASK_ID:$PILOT_TASK_INDEX:$*"\n');
    const jobDir = join(job, 'jobs', 'z-1');
    mkdirSync(jobDir, { recursive: true });
    const n = normalizeJobInfo({ jobName: 'z', srcDir: '.', entrypoint: 'show.sh', arrayBase: 0, args: ['first', 'second'] }, base);
    writeFileSync(join(jobDir, 'args.b64'), encodeArgsFile(n.argv));
    await makeWorkDir(jobDir, bundle);   // tasks run in the job's work/ (as the submit command makes it)
    const script = await renderScript({ version: '0', jobName: 'z', bundleSha: 'b'.repeat(64), sbatchLines: sbatchLines(n, 2), env: {}, setup: [], command: commandWords(n), arrayBase: 0, libraryDirs: [] }, slurmDialect.template);
    expect(script).toContain('#SBATCH --array=0-1\n');
    const run = (id: number) => execFileSync('bash', ['-c', script], { env: { ...process.env, SLURM_ARRAY_TASK_ID: String(id), SLURM_SUBMIT_DIR: jobDir } }).toString();
    expect(run(0)).toBe('0:0:first\n');
    expect(run(1)).toBe('1:1:second\n');
  });
});

describe('job files: script:, argsFile:, args as one string', () => {
  it('script: runs the script with bash from its folder, its directives fill what the file leaves out', () => {
    const path = write('course/run.sbatch', '#!/bin/bash\n#SBATCH --array=1-4%2 --mem=500M --time=10\necho $SLURM_ARRAY_TASK_ID\n');
    const n = normalizeJobInfo({ script: 'course/run.sbatch', time: '20' }, base);
    expect(n).toMatchObject({ jobName: 'run', srcDir: join(base, 'course'), entrypoint: 'run.sbatch', interpreter: ['bash'], maxConcurrent: 2, mem: '500M', time: '20' });
    expect(n.argv).toEqual([[], [], [], []]);
    expect(n.arrayBase).toBe(1);
    expect(n.fromScript?.path).toBe(path);
  });

  it('script: refusals are exit 2: with entrypoint, outside srcDir, a disagreeing args count or arrayBase', () => {
    write('s2/run.sbatch', '#SBATCH --array=0-2\necho\n');
    expect(refusal(() => normalizeJobInfo({ script: 's2/run.sbatch', entrypoint: 'x.sh' }, base)).message).toContain('not both');
    expect(refusal(() => normalizeJobInfo({ script: 's2/run.sbatch', srcDir: 'course' }, base)).message).toContain('not inside srcDir');
    expect(refusal(() => normalizeJobInfo({ script: 's2/run.sbatch', args: ['a'] }, base)).message).toContain('gives 3 tasks but args gives 1');
    expect(refusal(() => normalizeJobInfo({ script: 's2/run.sbatch', arrayBase: 1 }, base)).message).toContain('disagrees');
    expect(refusal(() => normalizeJobInfo({ script: 'nope.sbatch' }, base)).message).toContain('no such file');
  });

  it('argsFile: one task per line (shell words), blank lines and # comments skipped; with args: exit 2', () => {
    write('a/iter.txt', '# iterations\n--n 1\n\n--name "a b"\n  # indented comment\n--n 3\n--n 4\n');
    const n = normalizeJobInfo({ jobName: 'j', entrypoint: 'x.sh', argsFile: 'a/iter.txt' }, base);
    expect(n.argv).toEqual([['--n', '1'], ['--name', 'a b'], ['--n', '3'], ['--n', '4']]);
    expect(n.argsFile).toBe(join(base, 'a/iter.txt'));
    expect(refusal(() => normalizeJobInfo({ jobName: 'j', entrypoint: 'x.sh', argsFile: 'a/iter.txt', args: ['x'] }, base)).message).toContain('give args or argsFile, not both');
    write('a/bad.txt', 'ok\n"unclosed\n');
    expect(refusal(() => normalizeJobInfo({ jobName: 'j', entrypoint: 'x.sh', argsFile: 'a/bad.txt' }, base)).message).toContain(`argsFile ${join(base, 'a/bad.txt')}:2`);
    write('a/empty.txt', '# nothing\n\n');
    expect(refusal(() => normalizeJobInfo({ jobName: 'j', entrypoint: 'x.sh', argsFile: 'a/empty.txt' }, base)).message).toContain('holds no task');
  });

  it('args given as one string is one task; arrayBase must be 0 or 1', () => {
    expect(normalizeJobInfo({ jobName: 'j', entrypoint: 'x.py', args: '--foo=bar --n 2' }, base).argv).toEqual([['--foo=bar', '--n', '2']]);
    expect(refusal(() => normalizeJobInfo({ jobName: 'j', entrypoint: 'x.py', arrayBase: 2 }, base)).message).toContain('arrayBase');
  });
});

describe('search paths a task gets', () => {
  it('each library folder itself is on PYTHONPATH, as dry-run describes it; env: overrides are shown', async () => {
    const repo = write('repo/pkg/__init__.py', '');
    const file = write('single.py', '');
    const dirs = libraryDirs([join(base, 'repo'), file, '/x/with:colon'], (p) => !p.endsWith('.py'));
    expect(dirs).toEqual(['repo']);
    expect(repo).toContain('repo');
    const lines = taskPaths({ env: { R_LIBS: '/opt/r' }, setup: [] }, dirs);
    expect(lines[0]).toBe('PYTHONPATH=$PILOT_BUNDLE_DIR/lib:$PILOT_BUNDLE_DIR/lib/repo:$PILOT_BUNDLE_DIR/src[:inherited]');
    expect(lines).toContain('R_LIBS=/opt/r (set by env:)');
    // the template sets exactly that
    const n = normalizeJobInfo({ jobName: 'j', entrypoint: 'x.py' }, base);
    const script = await renderScript({ version: '0', jobName: 'j', bundleSha: 'c'.repeat(64), sbatchLines: [], env: {}, setup: [], command: commandWords(n), arrayBase: 1, libraryDirs: ['repo', 'a b'] }, slurmDialect.template);
    const line = script.split('\n').find((l) => l.startsWith('export PYTHONPATH='))!;
    const value = execFileSync('bash', ['-c', `PILOT_LIB_DIR=/b/lib PILOT_SRC_DIR=/b/src; unset PYTHONPATH; ${line}; printf %s "$PYTHONPATH"`]).toString();
    expect(value).toBe('/b/lib:/b/lib/repo:/b/lib/a b:/b/src');
  });
});

describe('pilot launch FILE: a batch script or a job file', () => {
  it('is a script by extension, a #! first line or an #SBATCH line; .yaml/.yml are always job files', async () => {
    const { isBatchScript } = await import('../../src/cli/commands/launch.js');
    expect(await isBatchScript(write('k/run.sbatch', 'echo'))).toBe(true);
    expect(await isBatchScript(write('k/run', '#!/bin/bash\necho\n'))).toBe(true);
    expect(await isBatchScript(write('k/array.txt', '# course\n#SBATCH --array=1-2\necho\n'))).toBe(true);
    expect(await isBatchScript(write('k/job.yaml', '#!/weird\njobName: j\n'))).toBe(false);
    expect(await isBatchScript(write('k/job', 'jobName: j\nentrypoint: x.sh\n'))).toBe(false);
  });
});
