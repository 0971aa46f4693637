/**
 * SlurmWrapper: the SDK's entry point. It validates, packs, renders and records; the backends (Slurm over
 * SSH, or the local supervisor) move files and submit. One backend (one SSH connection) per cluster is
 * opened on first use and kept until `close()`.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { atStep, PilotError } from '../model/errors.js';
import { launchFailed, pendingNote, settle, type EngineContext } from './submission.js';
import { ownerMark } from '../util/process.js';
import type { Backend } from '../scheduler/backend.js';
import { DEFAULT_RESTART_STATES, isFinal, type TaskState } from '../model/states.js';
import { adoptSubmission, arrayFor } from '../model/attempts.js';
import type { JobRecord, TaskStatus } from '../model/record.js';
import { JobStore } from '../store/store.js';
import type { Transport, TransportStats } from '../transport/types.js';
import { resolveCluster, type ClusterConfig } from './config.js';
import type { JobInfo } from '../model/job.js';
import { logText, streamTaskLog, type LogTarget, type StreamLogOptions, type StreamLogResult } from './logs.js';
import { defaultHome } from '../util/paths.js';
import { bundleCacheDir, prepareJob } from './prepare.js';
import { applyObservations, jobStatus, latestAttemptOf, openTasks, type JobStatus } from '../model/tracking.js';

export type { JobStatus } from '../model/tracking.js';
export type { StreamLogOptions, StreamLogResult } from './logs.js';

export interface TaskLogs {
  name: string;
  index: number;
  attempt: number;
  stdout: string;
  stderr: string;
}

export interface RestartResult {
  name: string;
  /** The new attempt's number (the current one when nothing was restarted). */
  attempt: number;
  /** Task numbers resubmitted (or that would be, with dryRun). */
  indices: number[];
  slurmJobIds: string[];
}

export interface DownloadResult {
  dest: string;
  /** Bytes received (remote clusters: of the compressed stream). */
  bytes: number;
  /** Entries left out, with why: links leading outside `dest`, unsafe paths, devices... */
  skipped: { path: string; reason: string }[];
}

export interface WrapperOptions {
  /** Pilot home (config.yaml, job records). Default: $PILOT_HOME or ~/.pilot. */
  home?: string;
  /**
   * Wraps every connection this wrapper opens (fault injection and recording in tests; counting in tools).
   * @example
   * new SlurmWrapper({ wrapTransport: (t) => ({ ...t, exec: (cmd, o) => { console.log(cmd); return t.exec(cmd, o); } }) });
   */
  wrapTransport?: (transport: Transport) => Transport;
}

export interface ScheduleResult {
  name: string;
  /** true when this launch found an earlier one of the same name whose reply had been lost, and tracks it */
  adopted?: boolean;
  tasks: number;
  slurmJobIds: string[];
  cluster: string;
  remoteDir: string;
  bundle: { sha256: string; bytes: number; uploadedBytes: number };
}

export interface DryRun {
  name: string;
  cluster: string;
  tasks: number;
  script: string;
  argsFile: string;
  argsText: string;
  sbatchCommand: string;
  bundle: { sha256: string; bytes: number; files: number };
}

export class SlurmWrapper {
  readonly home: string;
  readonly store: JobStore;
  private readonly wrapTransport?: (transport: Transport) => Transport;
  private readonly backends = new Map<string, Promise<Backend>>();
  private readonly engine: EngineContext;

  constructor(options: WrapperOptions = {}) {
    this.home = options.home ?? defaultHome();
    this.store = new JobStore(this.home);
    this.wrapTransport = options.wrapTransport;
    this.engine = { store: this.store, backendFor: async (name) => this.backend(await resolveCluster(this.home, name)) };
  }

  /**
   * Packs the sources once, uploads them unless the cluster has that content hash, and submits ONE job array
   * whose task i receives argument line i.
   *
   * @example
   * const pilot = new SlurmWrapper();
   * const job = await pilot.scheduleJobs({
   *   jobName: 'fine-tune-mlp', cluster: 'lab', srcDir: './', entrypoint: 'train.py',
   *   args: ['--lr 0.001', '--lr 0.01'], maxConcurrent: 2, time: '0:10:00',
   * });
   * console.log(job.slurmJobIds);
   * await pilot.close();
   */
  async scheduleJobs(info: JobInfo, options: { base?: string } = {}): Promise<ScheduleResult> {
    const { normalizeJobInfo } = await import('./job-spec.js');
    const normalized = normalizeJobInfo(info, options.base);
    const cluster = await this.clusterFor(normalized.cluster);
    if (!normalized.uniqueName) {
      // a launch retried after a lost reply finds the first one instead of submitting the work twice
      const earlier = await this.earlierLaunch(normalized.jobName);
      if (earlier) return earlier;
    }
    const name = await this.store.reserve(normalized.jobName, normalized.uniqueName);
    let recorded = false;
    try {
      const job = await atStep('pack', () => prepareJob(name, normalized, clusterDefaults(cluster), bundleCacheDir(this.home)));
      const backend = await atStep('connect', () => this.backend(cluster));
      const submitted = await backend.submit(job, ({ remote, chunkSize, pending }) => atStep('record', async () => {
        await this.store.write({
          version: 1,
          name,
          cluster: cluster.name,
          backend: cluster.kind,
          createdAt: new Date().toISOString(),
          tasks: job.tasks,
          maxConcurrent: normalized.maxConcurrent,
          chunkSize,
          info: { ...normalized, jobName: name },
          bundle: { sha256: job.bundle.sha256, bytes: job.bundle.bytes, files: job.bundle.files },
          remote,
          attempts: [],
          pending: { ...pending, owner: ownerMark().trim() },
          finalStates: {},
        });
        recorded = true;
      }));
      const record = await atStep('record', () => this.store.update(name, (r) => adoptSubmission(r, submitted.arrays)));
      return { ...scheduleResult(record), bundle: { sha256: job.bundle.sha256, bytes: job.bundle.bytes, uploadedBytes: submitted.uploadedBytes } };
    } catch (err) {
      throw await launchFailed(this.engine, name, recorded, err);
    }
  }

  /** A recorded job of this name whose submission was pending: settled now, and returned if it was submitted. */
  private async earlierLaunch(name: string): Promise<ScheduleResult | undefined> {
    const record = await this.store.read(name).catch(() => undefined);
    if (!record?.pending) return undefined;
    let settled: JobRecord;
    try {
      settled = await settle(this.engine, record);
    } catch (err) {
      if (err instanceof PilotError && err.code === 'NOT_FOUND') return undefined; // never submitted: launch anew
      throw err;
    }
    if (settled.pending) {
      throw new PilotError('EXISTS', `an earlier launch of '${name}' may have reached the cluster and cannot be checked yet: ${pendingNote(settled)}`, {
        hint: `run \`pilot status ${name}\` in a moment; pilot never submits the same job twice`,
      });
    }
    return { ...scheduleResult(settled), adopted: true, bundle: { ...settled.bundle, uploadedBytes: 0 } };
  }

  /**
   * A single command: an array of one task.
   * @example
   * await pilot.scheduleJob({ jobName: 'once', cluster: 'lab', entrypoint: 'prep.sh', args: ['--all'] });
   */
  scheduleJob(info: JobInfo, options: { base?: string } = {}): Promise<ScheduleResult> {
    return this.scheduleJobs({ ...info, args: info.args?.length ? [info.args[0]!] : undefined }, options);
  }

  /**
   * Everything `scheduleJobs` would send, without connecting: the script, the args files and the sbatch command.
   * @example
   * const d = await pilot.dryRun({ jobName: 'x', cluster: 'lab', entrypoint: 'train.py', args: ['--lr 1'] });
   * console.log(d.script);
   */
  async dryRun(info: JobInfo, options: { base?: string } = {}): Promise<DryRun> {
    const { normalizeJobInfo } = await import('./job-spec.js');
    const normalized = normalizeJobInfo(info, options.base);
    const cluster = await this.clusterFor(normalized.cluster);
    const job = await prepareJob(normalized.jobName, normalized, clusterDefaults(cluster), bundleCacheDir(this.home));
    const remoteDir = cluster.kind === 'slurm' ? cluster.remoteDir : join(this.home, 'local');
    return {
      name: normalized.jobName,
      cluster: cluster.name,
      tasks: job.tasks,
      script: job.script,
      argsFile: job.argsFile,
      argsText: job.argsText,
      sbatchCommand: `cd ${remoteDir}/jobs/${normalized.jobName}-XXXXXXXX && sbatch --parsable --array=1-${job.tasks}${normalized.maxConcurrent ? `%${normalized.maxConcurrent}` : ''} job.sh 0 1`,
      bundle: { sha256: job.bundle.sha256, bytes: job.bundle.bytes, files: job.bundle.files },
    };
  }

  /**
   * Per-task states of one job (or several: one remote command per cluster covers them all).
   * Final states are stored locally and never asked for again; if the cluster cannot be reached, the last
   * known states come back with `stale` set.
   * @example
   * const s = await pilot.status('fine-tune-mlp');
   * console.log(s.counts);            // { COMPLETED: 5, FAILED: 1 }
   */
  async status(name: string): Promise<JobStatus>;
  async status(names: string[]): Promise<JobStatus[]>;
  async status(names: string | string[]): Promise<JobStatus | JobStatus[]> {
    const list = Array.isArray(names) ? names : [names];
    const records = await Promise.all(list.map((n) => this.load(n)));
    const out = await this.refresh(records);
    return Array.isArray(names) ? out : out[0]!;
  }

  /**
   * Every recorded job with its current counts per state.
   * @example
   * for (const job of await pilot.list()) console.log(job.name, job.counts);
   */
  async list(): Promise<JobStatus[]> {
    const settled = await Promise.all((await this.store.names()).map((n) => this.load(n).catch((err: unknown) => {
      if (err instanceof PilotError && err.code === 'NOT_FOUND') return undefined; // a launch that never happened
      throw err;
    })));
    const records = settled.filter((r): r is JobRecord => r !== undefined);
    records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return this.refresh(records);
  }

  /**
   * Polls until every task is final, backing off from about 1 s to about 30 s.
   * @example
   * const final = await pilot.wait('fine-tune-mlp', { timeoutMs: 3_600_000, onProgress: (s) => console.log(s.counts) });
   */
  async wait(name: string, options: { timeoutMs?: number; onProgress?: (status: JobStatus) => void; minIntervalMs?: number; maxIntervalMs?: number } = {}): Promise<JobStatus> {
    const started = Date.now();
    // asking the local backend costs a few file reads, asking Slurm a round trip and a sacct query
    const local = (await this.store.read(name)).backend === 'local';
    let interval = options.minIntervalMs ?? (local ? 200 : 1000);
    const max = options.maxIntervalMs ?? (local ? 2000 : 30_000);
    for (;;) {
      const status = await this.status(name);
      options.onProgress?.(status);
      if (status.done) return status;
      const left = options.timeoutMs === undefined ? Infinity : options.timeoutMs - (Date.now() - started);
      if (left <= 0) {
        throw new PilotError('TIMEOUT', `job '${name}' is not finished after ${Math.round((Date.now() - started) / 1000)} s: ${formatCounts(status)}`, {
          hint: `it keeps running; look again with \`pilot status ${name}\` or \`pilot wait ${name}\``,
        });
      }
      await new Promise((r) => setTimeout(r, Math.min(interval, left)));
      interval = Math.min(max, Math.round(interval * 1.5));
    }
  }

  /**
   * stdout and stderr of task i (`'name/i'`) of its latest attempt, or of `attempt`, as strings. Logs are cached
   * under the job's local folder and only new bytes are fetched. A log larger than `maxBytes` (default 256 MiB)
   * is refused with a TOO_LARGE PilotError: use `streamLog` for those.
   * @example
   * const { stdout } = await pilot.logs('fine-tune-mlp/3');
   */
  async logs(ref: string, options: { attempt?: number; maxBytes?: number } = {}): Promise<TaskLogs> {
    const { name, index } = splitTaskRef(ref);
    const record = await this.load(name);
    const attempt = this.attemptOf(record, index, options.attempt);
    const backend = await this.backend(await resolveCluster(this.home, record.cluster));
    const [stdout, stderr] = await Promise.all((['out', 'err'] as const).map((stream) =>
      logText(this.logTarget(backend, record, index, attempt, stream), options.maxBytes)));
    return { name, index, attempt, stdout: stdout!, stderr: stderr! };
  }

  /**
   * Streams one log of task i (`'name/i'`) into `to` in bounded memory, whatever its size, caching it locally
   * as it arrives (only bytes past the cached length are fetched). `tail` starts at the last N lines; `follow`
   * keeps printing new bytes until the attempt is over. `to` is not ended. Logs that are not regular files
   * (a FIFO, a device, a socket, a link) are refused with a NOT_A_FILE PilotError.
   * @example
   * await pilot.streamLog('fine-tune-mlp/3', { to: process.stdout, follow: true });
   * await pilot.streamLog('fine-tune-mlp/4', { stream: 'stderr', tail: 20, to: createWriteStream('4.err') });
   */
  async streamLog(ref: string, options: StreamLogOptions): Promise<StreamLogResult> {
    const { name, index } = splitTaskRef(ref);
    const record = await this.store.read(name);
    const attempt = this.attemptOf(record, index, options.attempt);
    const cluster = await resolveCluster(this.home, record.cluster);
    const target = this.logTarget(await this.backend(cluster), record, index, attempt, options.stream === 'stderr' ? 'err' : 'out');
    const bytes = await streamTaskLog(target, options, cluster.kind === 'local', async () => {
      const task = (await this.status(name)).tasks[index - 1]!;
      return task.attempt > attempt || (task.attempt === attempt && isFinal(task.state) && !task.provisional);
    });
    return { name, index, attempt, bytes };
  }

  /**
   * Resubmits only the failed tasks (FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED unless `states` says
   * otherwise) on the same remote script, args and bundle: nothing is uploaded. Recorded as a new attempt.
   * @example
   * const r = await pilot.restartFailed('fine-tune-mlp');   // { attempt: 2, indices: [4, 7], slurmJobIds: [...] }
   */
  async restartFailed(name: string, options: { states?: TaskState[]; dryRun?: boolean } = {}): Promise<RestartResult> {
    const states = new Set<TaskState>(options.states ?? DEFAULT_RESTART_STATES);
    await this.load(name);
    // read, decide, submit and record under the job's lock: two restarts at once submit once
    return this.store.withLock(name, async () => {
      const [status] = await this.refresh([await this.store.read(name)], { locked: true });
      if (status!.stale) {
        throw new PilotError('REMOTE', `cannot restart '${name}': its current states are unknown (${status!.stale})`, { hint: 'try again when the cluster answers' });
      }
      if (status!.pending) throw new PilotError('REMOTE', `cannot restart '${name}' now: ${status!.pending}`, { hint: `look again with \`pilot status ${name}\`` });
      const indices = status!.tasks.filter((t) => states.has(t.state)).map((t) => t.index);
      const attempt = status!.attempts + 1;
      if (!indices.length || options.dryRun) return { name, attempt: indices.length ? attempt : status!.attempts, indices, slurmJobIds: [] };
      const record = await this.store.read(name);
      const backend = await this.backend(await resolveCluster(this.home, record.cluster));
      let recorded = false;
      try {
        const arrays = await backend.resubmit(record, indices, async ({ pending }) => {
          await this.store.write({ ...record, pending: { ...pending, owner: ownerMark().trim() } });
          recorded = true;
        });
        const next = adoptSubmission(await this.store.read(name), arrays);
        await this.store.write(next);
        return { name, attempt, indices, slurmJobIds: arrays.map((a) => a.slurmJobId) };
      } catch (err) {
        if (!recorded) throw err;
        const cur = await this.store.read(name);
        // sbatch refused: nothing was submitted; otherwise the reply was lost and the next command settles it
        const pending = err instanceof PilotError && err.code === 'SUBMIT' ? undefined : cur.pending && { ...cur.pending, owner: undefined };
        await this.store.write({ ...cur, pending });
        if (pending && err instanceof PilotError) err.hint = `the restart may have reached Slurm; \`pilot status ${name}\` finds out and tracks it. Do not restart again before that.`;
        throw err;
      }
    });
  }

  /**
   * Cancels a whole job (`'name'`) or one task (`'name/i'`).
   * @example
   * await pilot.cancel('fine-tune-mlp/3');
   */
  async cancel(ref: string): Promise<void> {
    const { name, index } = parseRef(ref);
    const record = await this.load(name);
    if (index !== undefined) checkIndex(record, index);
    const backend = await this.backend(await resolveCluster(this.home, record.cluster));
    await backend.cancel(record, index === undefined ? undefined : [index]);
  }

  /**
   * Fetches every log and the outputs/ folder of a job in one stream into `dest` (default ./<name>).
   * What a job wrote is not trusted: entries that would write or lead outside `dest` (links included) are
   * left out, each reported through `onSkip` as it happens and listed in `skipped`.
   * @example
   * const r = await pilot.download('fine-tune-mlp', { to: './results' });
   * for (const s of r.skipped) console.warn(`skipped ${s.path}: ${s.reason}`);
   */
  async download(name: string, options: { to?: string; onSkip?: (path: string, reason: string) => void } = {}): Promise<DownloadResult> {
    const record = await this.load(name);
    const dest = resolvePath(options.to ?? name);
    const backend = await this.backend(await resolveCluster(this.home, record.cluster));
    if (!backend.download) throw new PilotError('INTERNAL', `download is not available on cluster ${record.cluster}`);
    await mkdir(dest, { recursive: true });
    const skipped: DownloadResult['skipped'] = [];
    const bytes = await backend.download(record, dest, {
      onSkip: (path, reason) => {
        skipped.push({ path, reason });
        options.onSkip?.(path, reason);
      },
    });
    return { dest, bytes, skipped };
  }

  /** Transport counters of a cluster's open connection (commands run, bytes moved), for tests and benchmarks. */
  async transportStats(cluster: string): Promise<TransportStats | undefined> {
    const b = this.backends.get(cluster);
    return b ? (await b).stats : undefined;
  }

  /** Closes every connection this wrapper opened. */
  async close(): Promise<void> {
    const all = [...this.backends.values()];
    this.backends.clear();
    await Promise.all(all.map(async (b) => (await b.catch(() => null))?.close()));
  }

  // ---------------------------------------------------------------- internals

  /** The record of a job, its pending submission settled first (a lost reply is adopted or dropped). */
  private async load(name: string): Promise<JobRecord> {
    return settle(this.engine, await this.store.read(name));
  }

  /** Asks each cluster once about every open task of `records`, stores what became final. */
  private async refresh(records: JobRecord[], options: { locked?: boolean } = {}): Promise<JobStatus[]> {
    const byCluster = new Map<string, JobRecord[]>();
    for (const r of records) {
      if (openTasks(r).length) (byCluster.get(r.cluster) ?? byCluster.set(r.cluster, []).get(r.cluster)!).push(r);
    }
    const observed = new Map<string, Map<number, TaskStatus>>();
    const stale = new Map<string, string>();
    await Promise.all([...byCluster.entries()].map(async ([clusterName, recs]) => {
      try {
        const backend = await this.backend(await resolveCluster(this.home, clusterName));
        const result = await backend.observe(recs);
        for (const [name, tasks] of result.states) observed.set(name, tasks);
        if (result.warning) for (const r of recs) stale.set(r.name, result.warning);
      } catch (err) {
        // only an unreachable cluster makes states stale; a bug must surface, not hide as "stale"
        if (!(err instanceof PilotError) || err.code === 'INTERNAL') throw err;
        for (const r of recs) stale.set(r.name, err.message);
      }
    }));
    return Promise.all(records.map(async (r) => {
      const fresh = observed.get(r.name);
      const apply = (cur: JobRecord) => applyObservations(cur, fresh!);
      let updated = r;
      if (fresh && options.locked) await this.store.write((updated = apply(await this.store.read(r.name))));
      else if (fresh) updated = await this.store.update(r.name, apply);
      return { ...jobStatus(updated, stale.get(r.name)), ...(updated.pending ? { pending: pendingNote(updated) } : {}) };
    }));
  }

  private attemptOf(record: JobRecord, index: number, wanted?: number): number {
    checkIndex(record, index);
    if (wanted === undefined) return latestAttemptOf(record, index);
    if (!arrayFor(record, index, wanted)) {
      const ran = record.attempts.filter((a) => arrayFor(record, index, a.attempt)).map((a) => a.attempt);
      throw new PilotError('NOT_FOUND', `task ${record.name}/${index} did not run in attempt ${wanted}`, { hint: `it ran in attempt${ran.length > 1 ? 's' : ''} ${ran.join(', ')}` });
    }
    return wanted;
  }

  private logTarget(backend: Backend, record: JobRecord, index: number, attempt: number, stream: 'out' | 'err'): LogTarget {
    return { backend, record, index, attempt, stream, file: join(this.store.jobDir(record.name), 'logs', `${index}.attempt${attempt}.${stream}`) };
  }

  private async clusterFor(name: string | undefined): Promise<ClusterConfig> {
    if (!name) {
      throw new PilotError('BAD_INPUT', 'no cluster given', { hint: 'set `cluster:` in the job (or pass --cluster NAME); `local` runs on this machine' });
    }
    return resolveCluster(this.home, name);
  }

  /** @internal */
  async backend(cluster: ClusterConfig): Promise<Backend> {
    let b = this.backends.get(cluster.name);
    if (!b) {
      b = openBackend(cluster, this.home, this.wrapTransport);
      this.backends.set(cluster.name, b);
      b.catch(() => this.backends.delete(cluster.name));
    }
    return b;
  }
}

/** `name/3` → { name, index: 3 }; `name` → { name }. */
export function parseRef(ref: string): { name: string; index?: number } {
  const m = /^(.+?)\/(\d+)$/.exec(ref);
  if (m) return { name: m[1]!, index: Number(m[2]) };
  if (ref.includes('/')) throw new PilotError('BAD_INPUT', `'${ref}' is not NAME or NAME/INDEX`, { hint: 'tasks are numbered from 1, e.g. fine-tune-mlp/3' });
  return { name: ref };
}

function splitTaskRef(ref: string): { name: string; index: number } {
  const { name, index } = parseRef(ref);
  if (index === undefined) throw new PilotError('BAD_INPUT', `'${ref}' names no task`, { hint: `add the task number: ${ref}/1` });
  return { name, index };
}

function checkIndex(record: JobRecord, index: number): void {
  if (!Number.isInteger(index) || index < 1 || index > record.tasks) {
    throw new PilotError('NOT_FOUND', `job '${record.name}' has no task ${index}`, { hint: `its tasks are ${record.name}/1 … ${record.name}/${record.tasks}` });
  }
}

function formatCounts(status: JobStatus): string {
  return Object.entries(status.counts).map(([s, n]) => `${n} ${s}`).join(', ');
}

function scheduleResult(record: JobRecord): Omit<ScheduleResult, 'bundle'> {
  return {
    name: record.name,
    tasks: record.tasks,
    slurmJobIds: record.attempts[0]?.arrays.map((a) => a.slurmJobId) ?? [],
    cluster: record.cluster,
    remoteDir: record.remote.jobDir,
  };
}

function clusterDefaults(cluster: ClusterConfig): { partition?: string; account?: string } {
  return cluster.kind === 'slurm' ? { partition: cluster.partition, account: cluster.account } : {};
}

async function openBackend(cluster: ClusterConfig, home: string, wrap?: (t: Transport) => Transport): Promise<Backend> {
  if (cluster.kind === 'local') {
    const { LocalBackend } = await import('../scheduler/local/backend.js');
    return new LocalBackend(join(home, "local"));
  }
  const [{ connectSsh }, { SlurmBackend }] = await Promise.all([import('../transport/ssh.js'), import('../scheduler/slurm/backend.js')]);
  const transport = await connectSsh({ host: cluster.host, port: cluster.port, user: cluster.user, identityFile: cluster.identityFile, knownHosts: cluster.knownHosts });
  return new SlurmBackend(cluster, wrap ? wrap(transport) : transport, join(home, 'cache', 'clusters'));
}
