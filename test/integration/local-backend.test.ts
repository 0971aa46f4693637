// The built-in `local` cluster on real processes: LocalBackend driven directly, its detached supervisors
// running the real rendered job.sh with bash. No mocks; every root is a fresh temp dir.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeArgsLine } from '../../src/model/args.js';
import { normalizeJobInfo } from '../../src/engine/job-spec.js';
import { type JobInfo } from '../../src/model/job.js';
import { prepareJob } from '../../src/engine/prepare.js';
import type { PreparedJob, Submitted } from '../../src/scheduler/backend.js';
import { LocalBackend } from '../../src/scheduler/local/backend.js';
import { slurmDialect } from '../../src/scheduler/slurm/index.js';
import { arrayFile, type ArrayFile, type TaskFile } from '../../src/scheduler/local/files.js';
import { isFinal } from '../../src/model/states.js';
import type { JobRecord, TaskStatus } from '../../src/model/record.js';
import { HOSTILE_ARGS } from '../support/hostile.js';

const REPO = join(import.meta.dirname, '..', '..');
const FIXTURE = join(REPO, 'test', 'fixtures', 'echo-argv');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Submissions recorded by nobody: these tests drive the backend directly. */
const noop = async () => {};
const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

async function prepare(info: Partial<JobInfo> & { jobName: string }, srcDir = FIXTURE): Promise<PreparedJob> {
  const normalized = normalizeJobInfo({ cluster: 'local', srcDir, entrypoint: 'echo.sh', ...info });
  return prepareJob(info.jobName, normalized, {}, tmp('pilot-bundles-'), slurmDialect);
}

function recordFor(job: PreparedJob, s: Submitted, b?: LocalBackend): JobRecord {
  const now = new Date().toISOString();
  const record: JobRecord = {
    version: 2, name: job.name, cluster: 'local', backend: 'local', createdAt: now, tasks: job.tasks,
    maxConcurrent: job.info.maxConcurrent, chunkSize: s.chunkSize, info: job.info,
    bundle: { sha256: job.bundle.sha256, bytes: job.bundle.bytes, files: job.bundle.files }, remote: s.remote,
    attempts: [{ attempt: 1, submittedAt: now, indices: `1-${job.tasks}`, arrays: s.arrays }], finalStates: {},
  };
  if (b) submittedHere.push({ b, record });
  return record;
}

/** The fixture fails task i when $PILOT_JOB_DIR/../fail-<i> exists, i.e. <root>/jobs/fail-<i>. */
function failTasks(root: string, tasks: number[]): void {
  mkdirSync(join(root, 'jobs'), { recursive: true });
  for (const t of tasks) writeFileSync(join(root, 'jobs', `fail-${t}`), '');
}

/** Polls observe like the core does (final states are kept in the record and not asked again). */
async function waitFinal(b: LocalBackend, record: JobRecord, ms = 15_000): Promise<Map<number, TaskStatus>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const seen = (await b.observe([record])).states.get(record.name)!;
    for (const [t, s] of seen) if (isFinal(s.state)) record.finalStates[String(t)] = s;
    const all = new Map(Object.entries(record.finalStates).map(([t, s]) => [Number(t), s]));
    if (all.size === record.tasks) return all;
    if (Date.now() > deadline) throw new Error(`not final after ${ms} ms: ${JSON.stringify([...seen])}`);
    await sleep(150);
  }
}

/** A whole log through the streaming readLog (these are a few bytes). */
async function readAll(b: LocalBackend, record: JobRecord, task: number, attempt: number, stream: 'out' | 'err', offset: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  const n = await b.readLog(record, task, attempt, stream, offset, (c) => { parts.push(c); });
  return n === null ? null : Buffer.concat(parts);
}

async function waitState(b: LocalBackend, record: JobRecord, task: number, state: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await b.observe([record])).states.get(record.name)!.get(task)?.state !== state) {
    if (Date.now() > deadline) throw new Error(`task ${task} never reached ${state}`);
    await sleep(100);
  }
}

function taskFiles(record: JobRecord, arrayIndex = 0): Map<number, TaskFile> {
  const id = record.attempts.at(-1)!.arrays[arrayIndex]!.jobId;
  const out = new Map<number, TaskFile>();
  for (let t = 1; t <= record.tasks; t++) {
    const f = join(record.remote.jobDir, 'state', `${id}_${t}.json`);
    if (existsSync(f)) out.set(t, JSON.parse(readFileSync(f, 'utf8')) as TaskFile);
  }
  return out;
}

/** Alive and not a zombie (PID 1 of a container may never reap orphans). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return !existsSync('/proc/self/stat');
  }
}

async function waitGone(pid: number, ms = 8_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** Everything submitted by the current test, cancelled afterwards so a failing test leaves no processes. */
const submittedHere: { b: LocalBackend; record: JobRecord }[] = [];
afterEach(async () => {
  for (const { b, record } of submittedHere.splice(0)) await b.cancel(record);
});

describe('LocalBackend', () => {
  it('runs 6 tasks with K=2, never more than 2 at once; exact argv; FAILED vs COMPLETED by exit code', async () => {
    const root = tmp('pilot-local-');
    const b = new LocalBackend(root);
    const args = [HOSTILE_ARGS, [], ['a b', 'task-3'], ['4'], ['$(touch /tmp/pilot-local-pwned)'], ['6']];
    const job = await prepare({ jobName: 'k2', args, maxConcurrent: 2, env: { SLEEP: '0.7' } });
    failTasks(root, [2, 5]);
    const submitted = await b.submit(job, noop);
    expect(submitted.uploadedBytes).toBe(job.bundle.bytes);
    expect(submitted.arrays).toEqual([{ jobId: expect.stringMatching(/^\d+$/), offset: 0, arraySpec: '1-6%2' }]);
    const record = recordFor(job, submitted, b);
    const states = await waitFinal(b, record);

    for (const t of [1, 3, 4, 6]) expect(states.get(t)).toMatchObject({ index: t, state: 'COMPLETED', exitCode: 0, attempt: 1 });
    for (const t of [2, 5]) expect(states.get(t)).toMatchObject({ index: t, state: 'FAILED', exitCode: 1, attempt: 1 });
    const files = [...taskFiles(record).values()];
    expect(files).toHaveLength(6);
    const spans = files.map((f) => [Date.parse(f.start!), Date.parse(f.end!)] as const);
    const maxOverlap = Math.max(...spans.map(([s]) => spans.filter(([a, z]) => a <= s && s < z).length));
    expect(maxOverlap).toBe(2);

    for (let t = 1; t <= 6; t++) {
      const out = (await readAll(b, record, t, 1, 'out', 0))!.toString();
      expect(out).toContain(`task=${t}\n`);
      expect(decodeArgsLine(/argv=(.*)/.exec(out)![1]!)).toEqual(args[t - 1]);
    }
    expect((await readAll(b, record, 2, 1, 'err', 0))!.toString()).toBe('failing on purpose\n');
    expect((await readAll(b, record, 1, 1, 'out', 5))!.toString()).toBe((await readAll(b, record, 1, 1, 'out', 0))!.subarray(5).toString());
    expect(await readAll(b, record, 1, 2, 'out', 0)).toBeNull();   // no such attempt
    expect(existsSync('/tmp/pilot-local-pwned')).toBe(false);

    // same bundle again: already unpacked, nothing copied; a fresh, larger id
    const again = await b.submit(job, noop);
    expect(again.uploadedBytes).toBe(0);
    expect(Number(again.arrays[0]!.jobId)).toBeGreaterThan(Number(submitted.arrays[0]!.jobId) + 6);
    await waitFinal(b, recordFor(job, again, b));
  });

  it('resubmits tasks 2 and 5 only, as attempt 2 with a new array id', async () => {
    const root = tmp('pilot-local-');
    const b = new LocalBackend(root);
    const job = await prepare({ jobName: 'again', args: ['1', '2', '3', '4', '5', '6'], maxConcurrent: 3 });
    failTasks(root, [2, 5]);
    const record = recordFor(job, await b.submit(job, noop), b);
    const first = await waitFinal(b, record);
    expect([...first.values()].filter((s) => s.state === 'FAILED').map((s) => s.index)).toEqual([2, 5]);

    for (const t of [2, 5]) rmSync(join(root, 'jobs', `fail-${t}`));
    const { arrays } = await b.resubmit(record, [2, 5], noop);
    expect(arrays).toEqual([{ jobId: expect.stringMatching(/^\d+$/), offset: 0, arraySpec: '2,5%3' }]);
    expect(arrays[0]!.jobId).not.toBe(record.attempts[0]!.arrays[0]!.jobId);
    record.attempts.push({ attempt: 2, submittedAt: new Date().toISOString(), indices: '2,5', arrays });
    for (const t of [2, 5]) delete record.finalStates[String(t)];
    const second = await waitFinal(b, record);
    for (const t of [2, 5]) expect(second.get(t)).toMatchObject({ state: 'COMPLETED', exitCode: 0, attempt: 2 });
    for (const t of [1, 3, 4, 6]) expect(second.get(t)).toMatchObject({ state: 'COMPLETED', attempt: 1 });
    // only 2 and 5 ran again; both attempts' logs stay readable
    expect([...taskFiles(record).keys()]).toEqual([2, 5]);
    expect(existsSync(join(record.remote.jobDir, 'logs', `${arrays[0]!.jobId}_3.out`))).toBe(false);
    expect((await readAll(b, record, 2, 1, 'err', 0))!.toString()).toContain('failing on purpose');
    expect((await readAll(b, record, 2, 2, 'out', 0))!.toString()).toBe('task=2\nargv=' + Buffer.from('2\0').toString('base64') + '\n');
  });

  it('ends a task at its time limit (0:02) with TIMEOUT', async () => {
    const b = new LocalBackend(tmp('pilot-local-'), { graceMs: 1000 });
    const job = await prepare({ jobName: 'slow', args: ['x'], time: '0:02', env: { SLEEP: '30' } });
    const started = Date.now();
    const record = recordFor(job, await b.submit(job, noop), b);
    const states = await waitFinal(b, record, 12_000);
    expect(states.get(1)).toMatchObject({ state: 'TIMEOUT', attempt: 1 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(elapsed).toBeLessThan(8000);
    const f = taskFiles(record).get(1)!;
    expect(Date.parse(f.end!) - Date.parse(f.start!)).toBeGreaterThanOrEqual(1900);
  });

  it('cancel: a pending task never starts; a running one loses its whole process group', async () => {
    const src = tmp('pilot-src-');
    // the background child ignores SIGTERM, so only the SIGKILL that follows the grace period ends it
    writeFileSync(join(src, 'echo.sh'), [
      '(trap "" TERM; exec sleep 300) &',
      'echo $! > "$PILOT_OUTPUT_DIR/bg-$PILOT_TASK_INDEX.pid"',
      'echo $$ > "$PILOT_OUTPUT_DIR/main-$PILOT_TASK_INDEX.pid"',
      'sleep 300',
    ].join('\n') + '\n');
    const b = new LocalBackend(tmp('pilot-local-'), { graceMs: 1000 });
    const job = await prepare({ jobName: 'cancel-me', args: ['1', '2', '3'], maxConcurrent: 2 }, src);
    const record = recordFor(job, await b.submit(job, noop), b);
    const out = join(record.remote.jobDir, 'outputs');
    for (const t of [1, 2]) await waitState(b, record, t, 'RUNNING');
    const pidOf = async (what: string) => {
      for (let i = 0; i < 50 && !existsSync(join(out, what)); i++) await sleep(100);
      return Number(readFileSync(join(out, what), 'utf8'));
    };
    // each task writes in its own output folder, outputs/<task>/<attempt>
    const [bg1, main1, bg2] = [await pidOf('1/1/bg-1.pid'), await pidOf('1/1/main-1.pid'), await pidOf('2/1/bg-2.pid')];

    await b.cancel(record, [1, 3]);
    await waitState(b, record, 1, 'CANCELLED');
    await waitState(b, record, 3, 'CANCELLED');
    expect(await waitGone(main1)).toBe(true);
    expect(await waitGone(bg1)).toBe(true);
    const files = taskFiles(record);
    expect(files.get(3)).toMatchObject({ state: 'CANCELLED', pid: null, start: null });
    expect(existsSync(join(record.remote.jobDir, 'logs', `${record.attempts[0]!.arrays[0]!.jobId}_3.out`))).toBe(false);
    expect((await b.observe([record])).states.get(record.name)!.get(2)!.state).toBe('RUNNING');
    expect(alive(bg2)).toBe(true);

    await b.cancel(record);   // the whole job
    const states = await waitFinal(b, record);
    expect([...states.values()].map((s) => s.state)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
    expect(await waitGone(bg2)).toBe(true);
  });

  it('the supervisor outlives the process that submitted (its whole process group killed, as by Ctrl-C)', async () => {
    const root = tmp('pilot-local-');
    const job = await prepare({ jobName: 'orphan', args: ['1', '2', '3'], maxConcurrent: 3, env: { SLEEP: '1.5' } });
    const jobFile = join(root, 'job.json');
    const resultFile = join(root, 'submitted.json');
    writeFileSync(jobFile, JSON.stringify(job));
    const code = `
      import { readFileSync, writeFileSync } from 'node:fs';
      import { LocalBackend } from ${JSON.stringify(join(REPO, 'dist', 'scheduler', 'local', 'backend.js'))};
      const [root, jobFile, resultFile] = process.argv.slice(1);
      const s = await new LocalBackend(root).submit(JSON.parse(readFileSync(jobFile, "utf8")), async () => {});
      writeFileSync(resultFile, JSON.stringify(s));
      setInterval(() => {}, 1000);`;
    // its own process group, like a CLI in the foreground of a terminal
    const child = spawn(process.execPath, ['--input-type=module', '-e', code, root, jobFile, resultFile], { stdio: 'inherit', detached: true });
    const exited = new Promise((resolve) => child.on('exit', (_c, s) => resolve(s)));
    for (let i = 0; i < 100 && !existsSync(resultFile); i++) await sleep(100);
    process.kill(-child.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const submitted = JSON.parse(readFileSync(resultFile, 'utf8')) as Submitted;
    const record = recordFor(job, submitted, new LocalBackend(root));
    const spec = JSON.parse(readFileSync(arrayFile(record.remote.jobDir, submitted.arrays[0]!.jobId), 'utf8')) as ArrayFile;
    expect(alive(spec.supervisor!.pid)).toBe(true);
    const states = await waitFinal(new LocalBackend(root), record);
    expect([...states.values()].map((s) => s.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(await waitGone(spec.supervisor!.pid)).toBe(true);
  });

  it('tasks are never lost: a killed supervisor gives NODE_FAIL (or RUNNING while the task lives), and cancel still works', async () => {
    const b = new LocalBackend(tmp('pilot-local-'), { graceMs: 1000 });
    const job = await prepare({ jobName: 'lost', args: ['1', '2', '3'], maxConcurrent: 1, env: { SLEEP: '30' } });
    const record = recordFor(job, await b.submit(job, noop), b);
    await waitState(b, record, 1, 'RUNNING');
    const id = record.attempts[0]!.arrays[0]!.jobId;
    const spec = JSON.parse(readFileSync(arrayFile(record.remote.jobDir, id), 'utf8')) as ArrayFile;
    process.kill(spec.supervisor!.pid, 'SIGKILL');   // no chance to record anything, as in a crash
    expect(await waitGone(spec.supervisor!.pid)).toBe(true);
    const seen = (await b.observe([record])).states.get(record.name)!;
    expect(seen.get(1)).toMatchObject({ state: 'RUNNING', reason: expect.stringContaining('supervisor is gone') });
    expect(seen.get(2)).toMatchObject({ state: 'NODE_FAIL', reason: expect.stringContaining('never started') });
    expect(seen.get(3)!.state).toBe('NODE_FAIL');
    const taskPid = taskFiles(record).get(1)!.pid!;
    await b.cancel(record, [1]);                       // nobody else will kill it now
    expect(await waitGone(taskPid)).toBe(true);
    expect((await b.observe([record])).states.get(record.name)!.get(1)!.state).toBe('CANCELLED');
  });

  it('a stopped supervisor (SIGTERM, e.g. shutdown) ends its tasks as NODE_FAIL, running and pending alike', async () => {
    const b = new LocalBackend(tmp('pilot-local-'), { graceMs: 1000 });
    const job = await prepare({ jobName: 'stopped', args: ['1', '2'], maxConcurrent: 1, env: { SLEEP: '30' } });
    const record = recordFor(job, await b.submit(job, noop), b);
    await waitState(b, record, 1, 'RUNNING');
    const spec = JSON.parse(readFileSync(arrayFile(record.remote.jobDir, record.attempts[0]!.arrays[0]!.jobId), 'utf8')) as ArrayFile;
    const taskPid = taskFiles(record).get(1)!.pid!;
    process.kill(spec.supervisor!.pid, 'SIGTERM');
    const states = await waitFinal(b, record);
    expect(states.get(1)).toMatchObject({ state: 'NODE_FAIL', reason: expect.stringContaining('stopped while the task ran') });
    expect(states.get(2)).toMatchObject({ state: 'NODE_FAIL', reason: expect.stringContaining('stopped before the task started') });
    expect(alive(taskPid)).toBe(false);
    expect(await waitGone(spec.supervisor!.pid)).toBe(true);
  });

  it('20 concurrent launches from separate processes get distinct ids and unpack the bundle once', async () => {
    const root = tmp('pilot-local-');
    const job = await prepare({ jobName: 'crowd', args: ['1'] });
    const jobFile = join(root, 'job.json');
    writeFileSync(jobFile, JSON.stringify(job));
    const code = `
      import { readFileSync } from 'node:fs';
      import { LocalBackend } from ${JSON.stringify(join(REPO, 'dist', 'scheduler', 'local', 'backend.js'))};
      const [root, jobFile] = process.argv.slice(1);
      process.stdout.write(JSON.stringify(await new LocalBackend(root).submit(JSON.parse(readFileSync(jobFile, "utf8")), async () => {})));`;
    const runs = await Promise.all(Array.from({ length: 20 }, () => new Promise<Submitted>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', code, root, jobFile], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.on('exit', (c) => (c === 0 ? resolve(JSON.parse(out) as Submitted) : reject(new Error(`exit ${c}`))));
    })));
    const ids = runs.map((r) => Number(r.arrays[0]!.jobId));
    expect(new Set(ids).size).toBe(20);
    // each launch claims its id and the next one (its single task's SLURM_JOB_ID): blocks never overlap
    const sorted = [...ids].sort((x, y) => x - y);
    sorted.slice(1).forEach((id, i) => expect(id).toBeGreaterThanOrEqual(sorted[i]! + 2));
    expect(runs.filter((r) => r.uploadedBytes > 0)).toHaveLength(1);
    const b = new LocalBackend(root);
    for (const r of runs) expect((await waitFinal(b, recordFor(job, r, b))).get(1)!.state).toBe('COMPLETED');
  }, 40_000);
});
