// Damaged job records (issue 9): one truncated or hand-edited job.json must never take `list`, `status` or
// the other jobs down; it is named once, with its file and the way out, and a command on it fails clearly.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { PilotError } from '../../src/model/errors.js';
import type { JobRecord } from '../../src/model/record.js';
import { recordProblem } from '../../src/model/record-check.js';
import type { DamagedRecord } from '../../src/store/store.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pilot.js');
const cli = (home: string, ...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, PILOT_HOME: home }, encoding: 'utf8', timeout: 30_000 });

/** A finished local job: listing it asks no backend. */
function record(name: string, home = '/h'): JobRecord {
  return {
    version: 2, name, cluster: 'local', backend: 'local', createdAt: '2025-01-01T00:00:00.000Z', tasks: 2, chunkSize: 1_000_000_000,
    info: { jobName: name, params: [] } as unknown as JobRecord['info'], bundle: { sha256: 'ab'.repeat(32), bytes: 10, files: 1 },
    remote: { jobDir: `${home}/local/jobs/${name}-0123abcd`, bundleDir: `${home}/local/bundles/${'ab'.repeat(32)}` },
    attempts: [{ attempt: 1, submittedAt: '', indices: '1-2', arrays: [{ jobId: '1', offset: 0, arraySpec: '1-2%2' }] }],
    finalStates: {
      1: { index: 1, state: 'COMPLETED', exitCode: 0, attempt: 1 },
      2: { index: 2, state: 'FAILED', exitCode: 1, attempt: 1 },
    },
  };
}

/** A home with the records `good-1`, `good-2` and a `bad` one holding `badText`. */
function home(badText: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-damaged-'));
  for (const name of ['good-1', 'good-2']) {
    mkdirSync(join(dir, 'jobs', name), { recursive: true });
    writeFileSync(join(dir, 'jobs', name, 'job.json'), JSON.stringify(record(name, dir)));
  }
  mkdirSync(join(dir, 'jobs', 'bad'), { recursive: true });
  writeFileSync(join(dir, 'jobs', 'bad', 'job.json'), badText);
  return dir;
}

const truncated = JSON.stringify(record('bad')).slice(0, 120);
const wrongShape = JSON.stringify({ version: 2, name: 'bad' });   // crashed `list` with "reading 'localeCompare'"

describe('recordProblem', () => {
  it('accepts a record as written, and a version 1 record (slurmJobId) to be upgraded', () => {
    expect(recordProblem(record('a'), 'a')).toBeUndefined();
    const v1 = { ...record('a'), version: 1, attempts: [{ attempt: 1, submittedAt: '', indices: '1-2', arrays: [{ slurmJobId: '1', offset: 0, arraySpec: '1-2' }] }] };
    expect(recordProblem(v1, 'a')).toBeUndefined();
  });

  it('names the field at fault, with its path', () => {
    const r = record('a') as unknown as Record<string, unknown>;
    expect(recordProblem({ ...r, createdAt: undefined }, 'a')?.problem).toBe('field createdAt is missing');
    expect(recordProblem({ ...r, tasks: '2' }, 'a')?.problem).toBe('field tasks is "2", not a whole number ≥ 1');
    expect(recordProblem({ ...r, remote: { jobDir: 'relative/x', bundleDir: '/b' } }, 'a')?.problem).toBe('field remote.jobDir is "relative/x", not an absolute path');
    expect(recordProblem({ ...r, attempts: [{ attempt: 1, submittedAt: '', indices: '1', arrays: [{ offset: 0, arraySpec: '1' }] }] }, 'a')?.problem)
      .toBe('field attempts[0].arrays[0].jobId is missing');
    expect(recordProblem({ ...r, finalStates: { 1: { index: 1, state: 'DONE', attempt: 1 } } }, 'a')?.problem).toMatch(/^field finalStates\["1"\]\.state is "DONE", not one of PENDING/);
    expect(recordProblem({ ...r, backend: 'pbs' }, 'a')?.problem).toMatch(/^field backend is "pbs", not one of slurm, local$/);
  });

  it('tells a record of a newer pilot, another job\'s record, and what is no record at all', () => {
    expect(recordProblem({ ...record('a'), version: 4 }, 'a')).toEqual({ problem: expect.stringMatching(/newer pilot \(record version 4; this one reads versions up to 3\)/), newer: true });
    expect(recordProblem(record('a'), 'b')?.problem).toMatch(/names the job "a" but lives in the folder of 'b'/);
    expect(recordProblem([], 'a')?.problem).toBe('holds a list, not a job record');
    expect(recordProblem(null, 'a')?.problem).toBe('holds null, not a job record');
    expect(recordProblem({ name: 'a' }, 'a')?.problem).toMatch(/no valid version/);
  });
});

describe('a damaged record in the SDK', () => {
  for (const [what, text] of [['truncated', truncated], ['empty', ''], ['of the wrong shape', wrongShape]] as const) {
    it(`list() skips a ${what} record, reports it once through onDamaged, and lists the others`, async () => {
      const dir = home(text);
      const pilot = new SlurmWrapper({ home: dir });
      const damaged: DamagedRecord[] = [];
      const jobs = await pilot.list({ onDamaged: (d) => damaged.push(d) });
      expect(jobs.map((j) => j.name)).toEqual(['good-1', 'good-2']);
      expect(damaged).toHaveLength(1);
      expect(damaged[0]!.name).toBe('bad');
      expect(damaged[0]!.file).toBe(join(dir, 'jobs', 'bad', 'job.json'));
      expect(damaged[0]!.error).toBeInstanceOf(PilotError);
      expect(damaged[0]!.error.code).toBe('DAMAGED');
      expect(damaged[0]!.error.message).toContain(join(dir, 'jobs', 'bad', 'job.json'));
      expect(damaged[0]!.error.hint).toMatch(/pilot rm bad/);
      expect(await pilot.list()).toHaveLength(2);   // without a callback: skipped all the same
      // asked for by name, it fails with that same clear error; the others still answer
      await expect(pilot.status('bad')).rejects.toMatchObject({ code: 'DAMAGED', message: damaged[0]!.error.message });
      await expect(pilot.logs('bad/1')).rejects.toMatchObject({ code: 'DAMAGED' });
      expect((await pilot.status('good-1')).counts).toEqual({ COMPLETED: 1, FAILED: 1 });
      await pilot.close();
    });
  }

  it('says why: not JSON, an empty file, the field at fault, a newer pilot', async () => {
    const read = async (text: string) => new SlurmWrapper({ home: home(text) }).store.read('bad').catch((e: PilotError) => e);
    expect((await read(truncated) as PilotError).message).toMatch(/job\.json\) is not valid JSON \(/);
    expect((await read('') as PilotError).message).toMatch(/is not valid JSON \(the file is empty\)/);
    expect((await read(wrongShape) as PilotError).message).toMatch(/job\.json\) field cluster is missing$/);
    const newer = await read(JSON.stringify({ ...record('bad'), version: 9 })) as PilotError;
    expect(newer.message).toMatch(/written by a newer pilot/);
    expect(newer.hint).toMatch(/^upgrade pilot/);
  });

  it('never reads outside jobs/: a name like ../x names no job', async () => {
    const dir = home(truncated);
    writeFileSync(join(dir, 'job.json'), JSON.stringify(record('x')));
    const pilot = new SlurmWrapper({ home: dir });
    for (const name of ['..', '../jobs/good-1', 'a/b', '.hidden']) {
      await expect(pilot.store.read(name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(pilot.rm(name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(existsSync(join(dir, 'jobs', 'good-1', 'job.json'))).toBe(true);
  });

  it('rm removes a damaged record (the way out its hint names); gc refuses to guess while one is there', async () => {
    const dir = home(wrongShape);
    const pilot = new SlurmWrapper({ home: dir });
    await expect(pilot.gc({ dryRun: true })).rejects.toMatchObject({ code: 'DAMAGED', hint: expect.stringMatching(/pilot rm bad/) });
    const r = await pilot.rm('bad', { remote: true });
    expect(r).toMatchObject({ name: 'bad', localDir: join(dir, 'jobs', 'bad'), cancelled: [], damaged: expect.stringMatching(/field cluster is missing/) });
    expect(r.remoteDir).toBeUndefined();
    expect(existsSync(join(dir, 'jobs', 'bad'))).toBe(false);
    expect((await pilot.gc({ dryRun: true })).removed).toEqual([]);
    await pilot.close();
  });
});

describe('a damaged record in the CLI', () => {
  it('list and status warn once on stderr, exit 0 and show every other job; the job itself fails with exit 1', () => {
    const dir = home(truncated);
    for (const args of [['list'], ['status'], ['list', '--json'], ['status', '--json']]) {
      const r = cli(dir, ...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr.match(/^warning: /gm), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toContain(`the record of job 'bad' (${join(dir, 'jobs', 'bad', 'job.json')}) is not valid JSON`);
      expect(r.stderr).toMatch(/^hint: remove the job with `pilot rm bad`/m);
      expect(r.stdout).toContain('good-1');
      // `pilot status` without a name shows the latest job (the others are counted on stderr)
      if (args.join(' ') !== 'status') expect(r.stdout).toContain('good-2');
      else expect(r.stderr).toMatch(/the latest job; 2 others/);
      if (args.includes('--json')) expect(JSON.parse(r.stdout)).toHaveLength(2);
    }
    const one = cli(dir, 'status', 'bad');
    expect(one.status).toBe(1);   // not a usage error: the command was right, the record needs repair
    expect(one.stderr).toMatch(/^error: the record of job 'bad' .* is not valid JSON/);
    expect(one.stderr).toMatch(/^hint: /m);
    expect(one.stderr).not.toContain('localeCompare');
  });

  it('a record of the wrong shape no longer crashes list (it did with "reading \'localeCompare\'")', () => {
    const r = cli(home(wrongShape), 'list');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^warning: the record of job 'bad' .* field cluster is missing\n/);
    expect(r.stdout).toMatch(/^good-1 /m);
  });

  it('rm removes the damaged job and says so; afterwards list is clean', () => {
    const dir = home(truncated);
    const rm = cli(dir, 'rm', 'bad');
    expect(rm.status, rm.stderr).toBe(0);
    expect(rm.stdout).toMatch(/^removed bad: its damaged record and cached logs/);
    const list = cli(dir, 'list');
    expect(list.stderr).toBe('');
    expect(JSON.parse(readFileSync(join(dir, 'jobs', 'good-1', 'job.json'), 'utf8')).name).toBe('good-1');
  });
});
