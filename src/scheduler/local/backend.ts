/**
 * The built-in `local` cluster: runs the very script Slurm would run (job.sh), on this machine, with the
 * same folder layout as a remote root (bundles/<sha>/, jobs/<name>-<8hex>/). Each submission gets a
 * detached supervisor process (supervisor.ts) that enforces %K and time limits and writes per-task state
 * files; this class only lays out files, starts supervisors, reads their files and writes cancel requests.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractBundle } from '../../bundle/extract.js';
import { taskNumbers, type NormalizedJobInfo } from '../../model/job.js';
import { compressRanges, expandRanges } from '../../model/ranges.js';
import { atStep, PilotError } from '../../model/errors.js';
import { sweepTemps } from '../../util/files.js';
import type { ArraySubmission, JobRecord, PendingSubmission } from '../../model/record.js';
import { ARGS_FILE, ARGS_TEXT, attemptArgsFile, BUNDLES_USED, newPending, PARAMS_FILE, SCRIPT_NAME, type Backend, type Bundle, type DownloadOptions, type GcEntry, type GcRequest, type Observation, type OnSubmitting, type PendingVerdict, type PreparedJob, type Resubmitted, type Submitted } from '../backend.js';
import { currentBundle, latestArrayFor, logPath } from '../../model/attempts.js';
import { readLocalFile, type ChunkSink } from '../../transport/chunked-read.js';
import { allocateIds } from './ids.js';
import { arrayFile, bootMark, cancelDir, processAlive, readJson, sameBoot, signalGroup, taskFile, writeJsonAtomic, type ArrayFile, type CancelFile, type TaskFile } from './files.js';
import { observeLocal, readTailsLocal, supervisorAlive } from './observe.js';
import { readLogTailsLocal } from './expect.js';
import type { LogTail } from '../log-tails.js';
import { checkInterpreterHere } from './which.js';
import { collectLocal, removeLocalJob } from './cleanup.js';
import { downloadLocal, makeWorkDir, readOnlyTree, writableDirs } from './workdir.js';
import { parseTimeLimit } from '../../model/time.js';
import type { AttemptResources } from '../../model/retry.js';
import { splitByGroup, type TaskResources } from '../../model/resources.js';

/**
 * Locally a submission is one array holding every task given (no MaxArraySize to split by), or one per
 * resource set of a sweep (each with its own time limit and %K, as on Slurm).
 */
function localPending(attempt: number, parts: { tasks: number[]; resources?: TaskResources }[], grouped: boolean, bundle: string): PendingSubmission {
  const indices = compressRanges(parts.flatMap((p) => p.tasks));
  const planned = parts.map((p) => ({ offset: 0, spec: compressRanges(p.tasks), ...(grouped ? { tasks: compressRanges(p.tasks), ...(p.resources ? { resources: p.resources } : {}) } : {}) }));
  return newPending(attempt, indices, planned, bundle);
}

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

  async submit(job: PreparedJob, onSubmitting: OnSubmitting): Promise<Submitted> {
    parseTimeLimit(job.info.time);   // bad input fails before anything is written
    const { warnings } = checkInterpreterHere(job.info);
    const { bundleDir, uploadedBytes } = await atStep('unpack', () => this.ensureBundle(job.bundle));
    const jobDir = join(this.root, 'jobs', `${job.name}-${randomBytes(4).toString('hex')}`);
    const remote = { jobDir, bundleDir };
    try {
      for (const d of ['logs', 'outputs', 'state']) await mkdir(join(jobDir, d), { recursive: true });
      await writeFile(join(jobDir, SCRIPT_NAME), job.script, { mode: 0o755 });
      await writeFile(join(jobDir, ARGS_FILE), job.argsFile);
      await writeFile(join(jobDir, ARGS_TEXT), job.argsText);
      await writeFile(join(jobDir, PARAMS_FILE), job.paramsFile);
      await makeWorkDir(jobDir, bundleDir);
    } catch (err) {
      await rm(jobDir, { recursive: true, force: true });
      throw err;
    }
    const tasks = taskNumbers(job.tasks, job.info);   // 1..N, or 0..N-1 with arrayBase 0
    const sha = job.bundle.sha256;
    const parts = splitByGroup(job.info.resourceGroups, tasks);
    await onSubmitting({ remote, chunkSize: CHUNK_SIZE, pending: localPending(1, parts, Boolean(job.info.resourceGroups), sha) });
    const arrays: ArraySubmission[] = [];
    for (const part of parts) {
      const limit = parseTimeLimit(part.resources?.time ?? job.info.time) ?? null;
      arrays.push(await atStep('submit', () => this.launch(jobDir, job.name, job.info, { tasks: part.tasks, maxConcurrent: job.info.maxConcurrent, timeLimitMs: limit, attempt: 1, bundleSha: sha })));
    }
    return { remote, chunkSize: CHUNK_SIZE, arrays, uploadedBytes, warnings };
  }

  async resubmit(record: JobRecord, taskNumbers: number[], onSubmitting: OnSubmitting, bundle?: Bundle, resources?: AttemptResources, attemptArgs?: string): Promise<Resubmitted> {
    const { jobDir } = record.remote;
    const sha = bundle?.sha256 ?? currentBundle(record);
    if (!existsSync(join(jobDir, SCRIPT_NAME)) || (!bundle && !existsSync(join(this.root, 'bundles', sha, COMPLETE_MARKER)))) {
      throw new PilotError('NOT_FOUND', `the local files of ${record.name} are gone (${jobDir})`, { hint: 'launch the job again' });
    }
    parseTimeLimit(resources?.time ?? record.info.time);   // bad input fails before anything is written
    const { uploadedBytes } = bundle ? await atStep('unpack', () => this.ensureBundle(bundle)) : { uploadedBytes: 0 };
    const attempt = record.attempts.length + 1;
    if (attemptArgs !== undefined) {   // this attempt's extra argv words (pilot resubmit --extra-args)
      await writeFile(join(jobDir, attemptArgsFile(attempt)), attemptArgs);
    }
    // a --repack attempt runs its own sources in the same work/
    if (bundle) await makeWorkDir(jobDir, join(this.root, 'bundles', sha));
    const parts = splitByGroup(record.info.resourceGroups, taskNumbers);
    await onSubmitting({ remote: record.remote, chunkSize: record.chunkSize, pending: localPending(attempt, parts, Boolean(record.info.resourceGroups), sha) });
    const arrays: ArraySubmission[] = [];
    for (const part of parts) {
      // an escalated retry's limit first, then the task's own resource set's (memory is not enforced locally)
      const limit = parseTimeLimit(resources?.time ?? part.resources?.time ?? record.info.time) ?? null;
      arrays.push(await this.launch(jobDir, record.name, record.info, { tasks: part.tasks, maxConcurrent: record.maxConcurrent, timeLimitMs: limit, attempt, bundleSha: sha }));
    }
    return { arrays, uploadedBytes };
  }

  /** A local submission exists once its array file does (written before its supervisor starts). */
  async settle(record: JobRecord & { pending: PendingSubmission }): Promise<PendingVerdict> {
    const known = new Set(record.attempts.flatMap((a) => a.arrays.map((x) => x.jobId)));
    const stateDir = join(record.remote.jobDir, 'state');
    const names = await readdir(stateDir).catch(() => [] as string[]);
    const arrays: ArraySubmission[] = [];
    // by id, i.e. in the order they were started (= planned): how a sweep's arrays get their task lists back
    for (const n of names.filter((x) => /^array-\d+\.json$/.test(x)).sort((a, b) => Number(a.slice(6, -5)) - Number(b.slice(6, -5)))) {
      const spec = readJson<ArrayFile>(join(stateDir, n));
      if (spec && spec.attempt === record.pending.attempt && !known.has(spec.arrayId)) {
        arrays.push({ jobId: spec.arrayId, offset: 0, arraySpec: `${spec.indices}%${spec.maxConcurrent}` });
      }
    }
    return arrays.length ? { kind: 'submitted', arrays, complete: true } : { kind: 'not-submitted' };
  }

  async observe(records: JobRecord[]): Promise<Observation> {
    const states = observeLocal(records);
    return { states, tails: await readTailsLocal(records) };
  }

  async readLog(record: JobRecord, task: number, attempt: number, stream: 'out' | 'err', offset: number, onChunk: ChunkSink): Promise<number | null> {
    const rel = logPath(record, task, attempt, stream);
    return rel ? readLocalFile(join(record.remote.jobDir, rel), offset, onChunk) : null;
  }

  async readLogTails(record: JobRecord, files: readonly string[], maxBytes: number): Promise<Map<string, LogTail | undefined>> {
    return readLogTailsLocal(record.remote.jobDir, files, maxBytes);
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
      for (const a of record.attempts) for (const x of a.arrays) targets.set(x.jobId, 'all');
    } else {
      for (const t of taskNumbers) {
        const latest = latestArrayFor(record, t);
        if (!latest) continue;
        const list = targets.get(latest.array.jobId);
        if (list !== 'all') targets.set(latest.array.jobId, [...(list ?? []), t - latest.array.offset]);
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

  download(record: JobRecord, dest: string, options: DownloadOptions = {}): Promise<number> {
    return downloadLocal(record.remote.jobDir, dest, options);
  }

  removeJob(record: JobRecord): Promise<boolean> {
    return removeLocalJob(this.root, record.remote.jobDir);
  }

  collectGarbage(request: GcRequest): Promise<GcEntry[]> {
    return collectLocal(this.root, request);
  }

  async close(): Promise<void> {}

  // ---------------------------------------------------------------- internals

  /** Unpacks the bundle once per content hash: into a temp folder, then one rename (a racing launch is fine). */
  private async ensureBundle(bundle: Bundle): Promise<{ bundleDir: string; uploadedBytes: number }> {
    const bundleDir = join(this.root, 'bundles', bundle.sha256);
    if (existsSync(join(bundleDir, COMPLETE_MARKER))) return { bundleDir, uploadedBytes: 0 };
    await sweepTemps(dirname(bundleDir), /\.tmp\.(\d+)\.[0-9a-f]+$/);   // left by launches that were killed
    const tmp = `${bundleDir}.tmp.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await extractBundle(bundle.file, tmp);
      await writeFile(join(tmp, COMPLETE_MARKER), '');
      await readOnlyTree(tmp);   // shared by every job of this content: a task writing into it fails loudly
      try {
        await rename(tmp, bundleDir);
      } catch (err) {
        // someone else finished first (ENOTEMPTY/EEXIST): theirs has the same content
        if (!existsSync(join(bundleDir, COMPLETE_MARKER))) throw err;
        return { bundleDir, uploadedBytes: 0 };
      }
      return { bundleDir, uploadedBytes: bundle.bytes };
    } finally {
      await writableDirs(tmp);
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Records one submission and starts its detached supervisor. */
  private async launch(jobDir: string, jobName: string, info: NormalizedJobInfo, run: {
    tasks: number[]; maxConcurrent: number | undefined; timeLimitMs: number | null; attempt: number; bundleSha: string;
  }): Promise<ArraySubmission> {
    const { tasks, timeLimitMs, attempt, bundleSha } = run;
    const k = run.maxConcurrent ?? availableParallelism();
    // every bundle the job's attempts run, where `pilot gc` looks (as on a cluster)
    await appendFile(join(jobDir, BUNDLES_USED), `bundles/${bundleSha}\n`);
    // one id for the submission, one per task, as Slurm numbers array tasks (kept in records, not in the task env)
    const first = await allocateIds(this.root, tasks.length + 1);
    const id = String(first);
    const indices = compressRanges(tasks);
    const spec: ArrayFile = {
      arrayId: id, jobName, offset: 0, attempt, bundleSha, indices, maxConcurrent: k, timeLimitMs, graceMs: this.graceMs,
      firstTaskJobId: first + 1, cpus: info.cpus ?? null, submittedAt: new Date().toISOString(), supervisor: null,
    };
    await mkdir(join(jobDir, 'state'), { recursive: true });
    writeJsonAtomic(arrayFile(jobDir, id), spec);
    const child = spawn(process.execPath, [supervisorScript(), jobDir, id], { detached: true, stdio: 'ignore', cwd: jobDir });
    child.on('error', () => {}); // a failed spawn is reported below; unhandled, 'error' would crash the caller
    child.unref();
    if (child.pid === undefined) throw new PilotError('INTERNAL', `could not start the local supervisor for ${jobName}`, { hint: `is ${process.execPath} runnable?` });
    writeJsonAtomic(arrayFile(jobDir, id), { ...spec, supervisor: { pid: child.pid, boot: bootMark() } });
    return { jobId: id, offset: 0, arraySpec: `${indices}%${k}` };
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
