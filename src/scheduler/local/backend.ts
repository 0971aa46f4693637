/**
 * The built-in `local` cluster: runs the very script Slurm would run (job.sh), on this machine, with the
 * same folder layout as a remote root (bundles/<sha>/, jobs/<name>-<8hex>/). Each submission gets a
 * detached supervisor process (supervisor.ts) that enforces %K and time limits and writes per-task state
 * files; this class only lays out files, starts supervisors, reads their files and writes cancel requests.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, lstat, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractBundle } from '../../bundle/extract.js';
import type { NormalizedJobInfo } from '../../core/job-info.js';
import { compressRanges, expandRanges } from '../../core/ranges.js';
import { PilotError } from '../../errors.js';
import type { ArraySubmission, JobRecord, TaskStatus } from '../../store/record.js';
import { ARGS_FILE, ARGS_TEXT, SCRIPT_NAME, type Backend, type BundleFile, type PreparedJob, type Submitted } from '../backend.js';
import { latestArrayFor, logPath } from '../../store/attempts.js';
import { readLocalFile, type ChunkSink } from '../../transport/chunked-read.js';
import { allocateIds } from './ids.js';
import { arrayFile, bootMark, cancelDir, processAlive, readJson, sameBoot, signalGroup, taskFile, writeJsonAtomic, type ArrayFile, type CancelFile, type TaskFile } from './files.js';
import { observeLocal, supervisorAlive } from './observe.js';
import { parseTimeLimit } from './time-limit.js';

/** No MaxArraySize locally: one submission always holds every task (offset 0). */
const CHUNK_SIZE = 1_000_000_000;
const DEFAULT_GRACE_MS = 5_000;
const COMPLETE_MARKER = '.pilot-complete';

export interface LocalBackendOptions {
  /** SIGTERM → SIGKILL delay for time limits and cancels (Slurm's KillWait). Default 5 s. */
  graceMs?: number;
}

/** The compiled supervisor; from TS sources (vitest) the build in dist/ is used, as tasks run under plain node. */
export function supervisorScript(): string {
  const here = fileURLToPath(import.meta.url);
  const js = here.endsWith('.ts')
    ? join(dirname(here), '..', '..', '..', 'dist', 'scheduler', 'local', 'supervisor.js')
    : join(dirname(here), 'supervisor.js');
  if (!existsSync(js)) throw new PilotError('INTERNAL', `the local supervisor ${js} is missing`, { hint: 'run `npm run build`' });
  return js;
}

export class LocalBackend implements Backend {
  readonly root: string;
  private readonly graceMs: number;

  constructor(root: string, options: LocalBackendOptions = {}) {
    this.root = resolve(root);
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  }

  async submit(job: PreparedJob): Promise<Submitted> {
    const timeLimitMs = parseTimeLimit(job.info.time) ?? null;   // bad input fails before anything is written
    const { bundleDir, uploadedBytes } = await this.ensureBundle(job.bundle);
    const jobDir = join(this.root, 'jobs', `${job.name}-${randomBytes(4).toString('hex')}`);
    try {
      for (const d of ['logs', 'outputs', 'state']) await mkdir(join(jobDir, d), { recursive: true });
      await writeFile(join(jobDir, SCRIPT_NAME), job.script, { mode: 0o755 });
      await writeFile(join(jobDir, ARGS_FILE), job.argsFile);
      await writeFile(join(jobDir, ARGS_TEXT), job.argsText);
      const tasks = Array.from({ length: job.tasks }, (_, i) => i + 1);
      const array = await this.launch(jobDir, job.name, job.info, tasks, job.info.maxConcurrent, timeLimitMs, 1);
      return { remote: { jobDir, bundleDir }, chunkSize: CHUNK_SIZE, arrays: [array], uploadedBytes };
    } catch (err) {
      await rm(jobDir, { recursive: true, force: true });
      throw err;
    }
  }

  async resubmit(record: JobRecord, taskNumbers: number[]): Promise<ArraySubmission[]> {
    const { jobDir, bundleDir } = record.remote;
    if (!existsSync(join(jobDir, SCRIPT_NAME)) || !existsSync(join(bundleDir, COMPLETE_MARKER))) {
      throw new PilotError('NOT_FOUND', `the local files of ${record.name} are gone (${jobDir})`, { hint: 'launch the job again' });
    }
    const timeLimitMs = parseTimeLimit(record.info.time) ?? null;
    return [await this.launch(jobDir, record.name, record.info, taskNumbers, record.maxConcurrent, timeLimitMs, record.attempts.length + 1)];
  }

  async observe(records: JobRecord[]): Promise<Map<string, Map<number, TaskStatus>>> {
    return observeLocal(records);
  }

  async readLog(record: JobRecord, task: number, attempt: number, stream: 'out' | 'err', offset: number, onChunk: ChunkSink): Promise<number | null> {
    const rel = logPath(record, task, attempt, stream);
    return rel ? readLocalFile(join(record.remote.jobDir, rel), offset, onChunk) : null;
  }

  /**
   * Writes one cancel request per submission; its supervisor (polling every 250 ms) never starts a cancelled
   * task and ends running ones with SIGTERM, then SIGKILL, to their process group. Like scancel, this returns
   * before the tasks are gone. Tasks whose supervisor is gone are killed here, at once.
   */
  async cancel(record: JobRecord, taskNumbers?: number[]): Promise<void> {
    const jobDir = record.remote.jobDir;
    const targets = new Map<string, number[] | 'all'>();
    if (!taskNumbers) {
      for (const a of record.attempts) for (const x of a.arrays) targets.set(x.slurmJobId, 'all');
    } else {
      for (const t of taskNumbers) {
        const latest = latestArrayFor(record, t);
        if (!latest) continue;
        const list = targets.get(latest.array.slurmJobId);
        if (list !== 'all') targets.set(latest.array.slurmJobId, [...(list ?? []), t - latest.array.offset]);
      }
    }
    if (!targets.size) return;
    await mkdir(cancelDir(jobDir), { recursive: true });
    for (const [id, which] of targets) {
      const request: CancelFile = { arrayId: id, indices: which === 'all' ? null : which, at: new Date().toISOString() };
      writeJsonAtomic(join(cancelDir(jobDir), `${id}.${randomBytes(4).toString('hex')}.json`), request);
      const spec = readJson<ArrayFile>(arrayFile(jobDir, id));
      if (spec && !supervisorAlive(jobDir, id, spec)) killOrphans(jobDir, spec, which === 'all' ? expandRanges(spec.indices) : which);
    }
  }

  /** Copies logs/ and outputs/ of the job folder into `dest`; returns the bytes copied. */
  async download(record: JobRecord, dest: string): Promise<number> {
    let bytes = 0;
    for (const sub of ['logs', 'outputs']) {
      const from = join(record.remote.jobDir, sub);
      if (!existsSync(from)) continue;
      await cp(from, join(dest, sub), { recursive: true, verbatimSymlinks: true, filter: async (src) => {
        const s = await lstat(src);
        if (s.isFile()) bytes += s.size;
        return s.isFile() || s.isDirectory();   // no links or devices: nothing outside the job folder is copied
      } });
    }
    return bytes;
  }

  async close(): Promise<void> {}

  // ---------------------------------------------------------------- internals

  /** Unpacks the bundle once per content hash: into a temp folder, then one rename (a racing launch is fine). */
  private async ensureBundle(bundle: BundleFile): Promise<{ bundleDir: string; uploadedBytes: number }> {
    const bundleDir = join(this.root, 'bundles', bundle.sha256);
    if (existsSync(join(bundleDir, COMPLETE_MARKER))) return { bundleDir, uploadedBytes: 0 };
    const tmp = `${bundleDir}.tmp.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await extractBundle(bundle.file, tmp);
      await writeFile(join(tmp, COMPLETE_MARKER), '');
      try {
        await rename(tmp, bundleDir);
      } catch (err) {
        // someone else finished first (ENOTEMPTY/EEXIST): theirs has the same content
        if (!existsSync(join(bundleDir, COMPLETE_MARKER))) throw err;
        return { bundleDir, uploadedBytes: 0 };
      }
      return { bundleDir, uploadedBytes: bundle.bytes };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Records one submission and starts its detached supervisor. */
  private async launch(jobDir: string, jobName: string, info: NormalizedJobInfo, tasks: number[],
    maxConcurrent: number | undefined, timeLimitMs: number | null, attempt: number): Promise<ArraySubmission> {
    const k = maxConcurrent ?? availableParallelism();
    // one id for the submission, one per task (each task's SLURM_JOB_ID), as Slurm numbers array tasks
    const first = await allocateIds(this.root, tasks.length + 1);
    const id = String(first);
    const indices = compressRanges(tasks);
    const spec: ArrayFile = {
      arrayId: id, jobName, offset: 0, attempt, indices, maxConcurrent: k, timeLimitMs, graceMs: this.graceMs,
      firstTaskJobId: first + 1, cpus: info.cpus ?? null, submittedAt: new Date().toISOString(), supervisor: null,
    };
    await mkdir(join(jobDir, 'state'), { recursive: true });
    writeJsonAtomic(arrayFile(jobDir, id), spec);
    const child = spawn(process.execPath, [supervisorScript(), jobDir, id], { detached: true, stdio: 'ignore', cwd: jobDir });
    child.on('error', () => {}); // a failed spawn is reported below; unhandled, 'error' would crash the caller
    child.unref();
    if (child.pid === undefined) throw new PilotError('INTERNAL', `could not start the local supervisor for ${jobName}`, { hint: `is ${process.execPath} runnable?` });
    writeJsonAtomic(arrayFile(jobDir, id), { ...spec, supervisor: { pid: child.pid, boot: bootMark() } });
    return { slurmJobId: id, offset: 0, arraySpec: `${indices}%${k}` };
  }
}

/** Cancel without a supervisor: kill the groups of tasks still running and record them CANCELLED. */
function killOrphans(jobDir: string, spec: ArrayFile, indices: number[]): void {
  if (!spec.supervisor || !sameBoot(spec.supervisor.boot)) return;
  const id = spec.arrayId;
  for (const index of indices) {
    const file = readJson<TaskFile>(taskFile(jobDir, id, index));
    if (file?.state !== 'RUNNING' || file.pid === null || !processAlive(file.pid)) continue;
    signalGroup(file.pid, 'SIGKILL');
    writeJsonAtomic(taskFile(jobDir, id, index), { ...file, state: 'CANCELLED', end: new Date().toISOString(), reason: 'cancelled after its supervisor was gone' });
  }
}
