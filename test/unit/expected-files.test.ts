// Expected files: `{index}` substitution, what a pattern may be, glob matching on the cluster (a real sh runs the
// status command's `expect` steps against hostile patterns: nothing in them is ever run) and locally (the same
// answers), and how a check turns a COMPLETED task into MISSING_OUTPUT.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyExpected, expandPattern, expectCandidates, expectedPatternProblem, segmentRegExp } from '../../src/model/expected.js';
import type { JobRecord, TaskStatus } from '../../src/model/record.js';
import { normalizeJobInfo } from '../../src/engine/job-spec.js';
import { missingLocal } from '../../src/scheduler/local/expect.js';
import { logTailsCommand, parseLogTails } from '../../src/scheduler/log-tails.js';
import { buildStatusCommand, parseStatusOutput } from '../../src/scheduler/slurm/status.js';
import { observeSlurm } from '../../src/scheduler/slurm/observe.js';
import type { Transport } from '../../src/transport/types.js';

const run = (cmd: string, cwd?: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: 20_000, cwd });

function jobDir(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot expect \'$(x)\' *'));
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), 'x');
  }
  return dir;
}

describe('expected files', () => {
  it('substitutes {index} and resolves against the output folder, or the job folder with $PILOT_JOB_DIR/', () => {
    expect(expandPattern('result-{index}.json', 3)).toBe('outputs/3/1/result-3.json');
    expect(expandPattern('result-{index}.json', 3, 2)).toBe('outputs/3/2/result-3.json');   // each attempt its own folder
    expect(expandPattern('./m/{index}/{index}.pt', 12)).toBe('outputs/12/1/m/12/12.pt');
    expect(expandPattern('$PILOT_JOB_DIR/logs/*', 1)).toBe('logs/*');
  });

  it('refuses patterns that leave the job folder or carry control characters', () => {
    expect(expectedPatternProblem('a/*.txt')).toBeUndefined();
    expect(expectedPatternProblem('/etc/passwd')).toMatch(/relative/);
    expect(expectedPatternProblem('~/x')).toMatch(/relative/);
    expect(expectedPatternProblem('a/../../x')).toMatch(/\.\./);
    expect(expectedPatternProblem('$PILOT_JOB_DIR/../x')).toMatch(/\.\./);
    expect(expectedPatternProblem('a\nb')).toMatch(/control/);
    expect(() => normalizeJobInfo({ jobName: 'j', entrypoint: 'x.sh', srcDir: tmpdir(), expectedFiles: ['../x'] })).toThrow(/expectedFiles\[0\]: must stay inside/);
    expect(() => normalizeJobInfo({ jobName: 'j', entrypoint: 'x.sh', srcDir: tmpdir(), errorPatterns: ['(unclosed'] })).toThrow(/errorPatterns\[0\]: is not a regular expression/);
    expect(normalizeJobInfo({ jobName: 'j', entrypoint: 'x.sh', srcDir: tmpdir(), expectedFiles: ['r-{index}'], errorWhitelistWords: 2 }))
      .toMatchObject({ expectedFiles: ['r-{index}'], errorWhitelistWords: 2 });
  });

  it('matches globs as sh does: * ? [..] within one segment, hidden files only explicitly', () => {
    expect(segmentRegExp('r-*.txt').test('r-1.txt')).toBe(true);
    expect(segmentRegExp('r-*.txt').test('r-1/x.txt')).toBe(false);
    expect(segmentRegExp('*').test('.hidden')).toBe(false);
    expect(segmentRegExp('.h*').test('.hidden')).toBe(true);
    expect(segmentRegExp('[!a]?').test('bc')).toBe(true);
    expect(segmentRegExp('[!a]?').test('ac')).toBe(false);
    expect(segmentRegExp('a+(b)').test('a+(b)')).toBe(true);
  });

  it('checks on the cluster and here with the same answers, and never runs what a pattern holds', () => {
    const dir = jobDir(['outputs/result-1.txt', 'outputs/m/1/a.pt', 'outputs/weird $(x) name', 'logs/9_1.out']);
    const canary = join(dir, 'pwned');
    const paths = [
      'outputs/result-1.txt', 'outputs/result-2.txt', 'outputs/m/*/a.pt', 'outputs/weird $(x) name', 'logs/*.out',
      `outputs/$(touch ${canary})`, `outputs/x'; touch ${canary}; '`, `outputs/\`touch ${canary}\``, 'outputs/*;touch pwned', 'outputs/a b',
    ];
    const cmd = buildStatusCommand([], { accounting: true, expects: [{ jobDir: dir, key: '5_1', paths }, { jobDir: dir, key: '5_2', paths: ['outputs/*.txt'] }] });
    const out = parseStatusOutput(run(cmd, dir));
    expect(out.expects).toEqual(new Map([['5_1', [1, 5, 6, 7, 8, 9]], ['5_2', []]]));
    expect(missingLocal(dir, paths)).toEqual([1, 5, 6, 7, 8, 9]);
    expect(existsSync(canary) || existsSync(join(dir, 'pwned'))).toBe(false);
    // after the state queries, in the same command line
    const both = buildStatusCommand(['5'], { accounting: true, expects: [{ jobDir: dir, key: '5_1', paths }] });
    expect(both.indexOf('s expect x')).toBeGreaterThan(both.indexOf('s squeue'));
  });

  it('turns COMPLETED into MISSING_OUTPUT, keeps an unchecked COMPLETED provisional, leaves failures alone', () => {
    const done = { index: 3, state: 'COMPLETED' as const, exitCode: 0, attempt: 1 };
    const request = { task: 3, attempt: 1, paths: ['outputs/a-3', 'outputs/b-3'] };
    expect(applyExpected(done, request, [1], true)).toEqual({ ...done, state: 'MISSING_OUTPUT', missingFiles: ['outputs/b-3'] });
    expect(applyExpected(done, request, [], true)).toEqual(done);
    expect(applyExpected(done, undefined, undefined, true)).toEqual({ ...done, provisional: true });
    expect(applyExpected(done, undefined, undefined, false)).toEqual(done);
    const failed = { ...done, state: 'FAILED' as const, exitCode: 1 };
    expect(applyExpected(failed, request, [0, 1], true)).toEqual(failed);
  });
});

describe('log tails for why', () => {
  it('reads the last bytes of regular files only, in one command, framing intact whatever they hold', () => {
    const dir = jobDir([]);
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', '3_1.err'), `${'z'.repeat(5000)}\n@@pilot:log end\nTraceback\n`);
    writeFileSync(join(dir, 'logs', '3_1.out'), '');
    execFileSync('mkfifo', [join(dir, 'logs', '3_2.err')]);
    const tails = parseLogTails(run(logTailsCommand(dir, ['logs/3_1.err', 'logs/3_1.out', 'logs/3_2.err', 'logs/3_3.out'], 100)));
    expect(tails.get('logs/3_1.err')!.size).toBe(5027);
    expect(tails.get('logs/3_1.err')!.bytes.toString()).toBe(`${'z'.repeat(73)}\n@@pilot:log end\nTraceback\n`);
    expect(tails.get('logs/3_1.out')).toEqual({ size: 0, bytes: Buffer.alloc(0) });
    expect(tails.has('logs/3_2.err') && tails.get('logs/3_2.err')).toBeUndefined();
    expect(tails.has('logs/3_3.out')).toBe(true);
    expect(() => logTailsCommand(dir, ['../../etc/passwd'], 100)).toThrow(/bad request/);
  });
});

describe('which tasks a status call checks', () => {
  function record(tasks: number, expectedFiles: string[] | undefined, finalStates: Record<string, TaskStatus> = {}, lastKnown: Record<string, TaskStatus> = {}): JobRecord {
    return {
      version: 2, name: 'j', cluster: 'lab', backend: 'slurm', createdAt: '2025-01-01T00:00:00Z', tasks, chunkSize: 1000,
      info: { expectedFiles } as JobRecord['info'], bundle: { sha256: 'x', bytes: 0, files: 0 }, remote: { jobDir: '/r/jobs/j', bundleDir: '/r/bundles/x' },
      attempts: [{ attempt: 1, submittedAt: '', indices: `1-${tasks}`, arrays: [{ jobId: '42', offset: 0, arraySpec: `1-${tasks}` }] }],
      finalStates, lastKnown,
    };
  }
  const st = (index: number, state: TaskStatus['state']): TaskStatus => ({ index, state, exitCode: 0, attempt: 1 });

  it('none without expectedFiles; open tasks only: owed checks first, then running ones, within the budget', () => {
    expect(expectCandidates(record(3, undefined), 10)).toEqual([]);
    const r = record(6, ['out-{index}', '$PILOT_JOB_DIR/x'], { 1: st(1, 'COMPLETED') }, { 5: { ...st(5, 'COMPLETED'), provisional: true }, 4: st(4, 'RUNNING') });
    expect(expectCandidates(r, 10).map((c) => c.task)).toEqual([5, 4, 2, 3, 6]);
    expect(expectCandidates(r, 2)).toEqual([{ task: 5, attempt: 1, paths: ['outputs/5/1/out-5', 'x'] }, { task: 4, attempt: 1, paths: ['outputs/4/1/out-4', 'x'] }]);
    expect(expectCandidates(r, 0)).toEqual([]);
  });
});

describe('Slurm observe with expected files', () => {
  const rec = (): JobRecord => ({
    version: 2, name: 'j', cluster: 'lab', backend: 'slurm', createdAt: '2025-01-01T00:00:00Z', tasks: 3, chunkSize: 1000,
    info: { expectedFiles: ['r-{index}.txt'] } as JobRecord['info'], bundle: { sha256: 'x', bytes: 0, files: 0 }, remote: { jobDir: '/r/jobs/j', bundleDir: '/r/bundles/x' },
    attempts: [{ attempt: 1, submittedAt: '', indices: '1-3', arrays: [{ jobId: '42', offset: 0, arraySpec: '1-3' }] }],
    finalStates: {},
  });
  const M = '@@pilot:';
  const reply = (expectLines: string[]) => [
    `${M}begin sacct`, '42_1|42_1|COMPLETED|0:0|None', '42_2|42_2|COMPLETED|0:0|None', '42_3|42_3|FAILED|1:0|None', `${M}end sacct rc=0`,
    `${M}begin squeue`, `${M}end squeue rc=0`,
    ...expectLines.flatMap((l) => [`${M}begin expect`, l, `${M}end expect rc=0`]),
  ].join('\n');
  const transport = (stdout: string, seen: string[]) => ({ exec: async (cmd: string) => { seen.push(cmd); return { code: 0, stdout, stderr: '' }; } }) as unknown as Transport;

  it('checks in the status command itself; a missing file makes MISSING_OUTPUT, an unchecked COMPLETED stays provisional', async () => {
    const seen: string[] = [];
    const obs = await observeSlurm(transport(reply(['42_1', '42_3 0']), seen), [rec()], { accounting: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain('outputs/2/1/r-2.txt');
    const states = obs.states.get('j')!;
    expect(states.get(1)).toMatchObject({ state: 'COMPLETED' });
    expect(states.get(1)!.provisional).toBeUndefined();
    expect(states.get(2)).toMatchObject({ state: 'COMPLETED', provisional: true });   // its answer never came
    expect(states.get(3)).toMatchObject({ state: 'FAILED', exitCode: 1 });            // failures are left as they are
    const missing = await observeSlurm(transport(reply(['42_1', '42_2 0']), []), [rec()], { accounting: true });
    expect(missing.states.get('j')!.get(2)).toMatchObject({ state: 'MISSING_OUTPUT', exitCode: 0, missingFiles: ['outputs/2/1/r-2.txt'] });
  });

  it('keeps the command under what one shell argument may hold, leaving the rest to the next call', async () => {
    const seen: string[] = [];
    const big = { ...rec(), tasks: 100, info: { expectedFiles: Array.from({ length: 50 }, (_, i) => `${'d'.repeat(280)}/${i}-{index}`) } as JobRecord['info'],
      attempts: [{ attempt: 1, submittedAt: '', indices: '1-100', arrays: [{ jobId: '42', offset: 0, arraySpec: '1-100' }] }] };
    const obs = await observeSlurm(transport(reply([]), seen), [big], { accounting: true });
    expect(seen[0]!.length).toBeLessThan(100 * 1024);
    expect(seen[0]).toContain('/0-1');
    expect(seen[0]).not.toContain('/0-100 ');
    expect(obs.states.get('j')!.get(1)).toMatchObject({ state: 'COMPLETED', provisional: true });
  });
});
