/**
 * SlurmWrapper: the SDK's public face (a fixed name). Each method is a thin door into the engine modules:
 * launch.ts, track.ts, task-logs.ts, restart.ts, control.ts, remove.ts, gc.ts (base classes: wrapper-results.ts,
 * wrapper-diagnosis.ts, wrapper-clusters.ts). One backend (one SSH connection)
 * per cluster is opened on first use and kept until `close()`. Every job argument is resolved by refs.ts: an
 * exact name, a unique prefix of one, or (omitted) the latest job launched.
 */
import type { JobInfo } from '../model/job.js';
import type { JobStatus } from '../model/tracking.js';
import type { Connect } from '../scheduler/index.js';
import type { Prompter, Transport } from '../transport/types.js';
import { defaultHome } from '../util/paths.js';
import { cancel, download } from './control.js';
import { Engine } from './engine.js';
import { ResultsDoors } from './wrapper-results.js';
import type { EngineEvents } from './events.js';
import { gc, type GcOptions } from './gc.js';
import { dryRun, launch } from './launch.js';
import type { StreamLogOptions, StreamLogResult } from './logs.js';
import { remove, type RemoveOptions } from './remove.js';
import { resolveName, resolveRef } from './refs.js';
import { restartFailed, type AttemptExtras, type RestartOptions } from './restart.js';
import { automate, watch, type WatchOptions } from './retry.js';
import { logsOf, streamLogOf } from './task-logs.js';
import { listAll, statusOf, waitFor, type ListOptions, type WaitOptions } from './track.js';
import type { CancelResult, DownloadRequest, DownloadResult, DryRun, GcResult, RemoveResult, RestartResult, ScheduleResult, TaskLogs } from './types.js';

export type { JobStatus } from '../model/tracking.js';
export type { StreamLogOptions, StreamLogResult } from './logs.js';
export type { CancelResult, ConnectionCheck, DownloadRequest, DownloadResult, DryRun, GcItem, GcResult, RemoveResult, RestartResult, ScheduleResult, TaskLogs, TrustResult } from './types.js';
export type { HopInfo, HostKeyQuestion, PromptRequest, Prompter } from '../transport/types.js';
export type { ListOptions, WaitOptions } from './track.js';
export type { RestartOptions } from './restart.js';
export type { Warning } from '../model/checks.js';
export type { DamagedRecord } from '../store/store.js';
export type { GcOptions } from './gc.js';
export type { RemoveOptions } from './remove.js';
export type { EngineEvents } from './events.js';

export interface WrapperOptions {
  /** Pilot home (config.yaml, job records). Default: $PILOT_HOME or ~/.pilot. */
  home?: string;
  /**
   * Makes the connection to a remote cluster instead of SSH (a fake transport replaying recorded outputs in
   * tests, or a transport of your own).
   */
  connect?: Connect;
  /**
   * Wraps every SSH connection this wrapper opens (fault injection and recording in tests; counting in tools).
   * @example
   * new SlurmWrapper({ wrapTransport: (t) => new Proxy(t, {}) });
   */
  wrapTransport?: (transport: Transport) => Transport;
  /**
   * Answers login questions: a key's passphrase, a one-time password (keyboard-interactive), a password.
   * Without it: $PILOT_ASKPASS (a program printing the answer), else the terminal, else the login fails
   * with a clear error instead of hanging. Everything one wrapper does shares one connection per cluster,
   * so a 2FA user answers once.
   * @example
   * new SlurmWrapper({ prompt: async (q) => q.kind === 'keyboard-interactive' ? totp() : secret });
   */
  prompt?: Prompter;
}

export class SlurmWrapper extends ResultsDoors {
  readonly home: string;
  protected readonly engine: Engine;

  constructor(options: WrapperOptions = {}) {
    super();
    this.home = options.home ?? defaultHome();
    this.engine = new Engine({ home: this.home, connect: options.connect, wrapTransport: options.wrapTransport, prompt: options.prompt });
  }

  /** The job records (read them; writing is the engine's). */
  get store() {
    return this.engine.store;
  }

  /**
   * Subscribes to lifecycle events: `submitted`, `retried`, `taskChanged`, `jobFinished` (seen by status calls,
   * `wait` included), `warning` (what the checks find worth saying; nothing is printed below the CLI). Returns
   * the function that unsubscribes.
   * @example
   * pilot.on('taskChanged', (e) => console.log(`${e.name}/${e.index}: ${e.from} → ${e.to}`));
   * pilot.on('warning', (w) => console.warn(`warning: ${w.message}`));
   */
  on<K extends keyof EngineEvents>(type: K, listener: (event: EngineEvents[K]) => void): () => void {
    return this.engine.events.on(type, listener);
  }

  /**
   * Packs the sources once, uploads them unless the cluster has that content hash, and submits ONE job array
   * whose task i receives argument line i. Refused (BAD_INPUT, nothing submitted, the name stays free) when the
   * entrypoint is not in the bundle or the interpreter is not found on the cluster (looked up in the probe).
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
  scheduleJobs(info: JobInfo, options: { base?: string } = {}): Promise<ScheduleResult> {
    return launch(this.engine, info, options.base);
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
   * Everything `scheduleJobs` would send, without connecting: the script, the args files and the submit command.
   * @example
   * const d = await pilot.dryRun({ jobName: 'x', cluster: 'lab', entrypoint: 'train.py', args: ['--lr 1'] });
   * console.log(d.script);
   */
  dryRun(info: JobInfo, options: { base?: string } = {}): Promise<DryRun> {
    return dryRun(this.engine, info, options.base);
  }

  /**
   * The recorded job (and task) a reference means: an exact name, else the one job whose name starts with it
   * (an ambiguous prefix is a BAD_INPUT PilotError listing the candidates); `'/3'` or nothing: the latest job.
   * @example
   * await pilot.resolve('fine/3');    // { name: 'fine-tune-mlp', index: 3 }
   */
  resolve(ref?: string): Promise<{ name: string; index?: number }> {
    return resolveRef(this.engine.store, ref);
  }

  /**
   * Per-task states of one job (or several: one remote command per cluster covers them all); no name: the
   * latest job. Final states are stored locally and never asked for again; if the cluster cannot be reached,
   * the last known states come back with `stale` set. A failed task carries the last line of its stderr
   * (`lastError`), read in the same round trip.
   * @example
   * const s = await pilot.status('fine-tune-mlp');
   * console.log(s.counts);            // { COMPLETED: 5, FAILED: 1 }
   */
  async status(name?: string): Promise<JobStatus>;
  async status(names: string[]): Promise<JobStatus[]>;
  async status(names?: string | string[]): Promise<JobStatus | JobStatus[]> {
    const wanted = Array.isArray(names) ? names : [names];
    const out = await statusOf(this.engine, await Promise.all(wanted.map((n) => resolveName(this.engine.store, n))));
    return Array.isArray(names) ? out : out[0]!;
  }

  /**
   * Every recorded job with its current counts per state, newest first (`last`: only the N newest, and only
   * those are asked about; `openOnly`: jobs whose tasks have all finished are not asked about again, not even
   * for a failure's stderr line never read). A record that cannot be read (truncated, edited by hand, written by
   * a newer pilot) never takes the list down: it is left out and reported through `onDamaged`, once, as
   * `{ name, file, error }` where `error` is a DAMAGED PilotError whose message names the file and whose hint says
   * what to do (`pilot rm NAME`, or repair or restore the file). Asking for such a job by name throws that error.
   * @example
   * const jobs = await pilot.list({ last: 5, onDamaged: (d) => console.warn(d.error.message) });
   * for (const job of jobs) console.log(job.name, job.submittedAt, job.counts);
   */
  list(options: ListOptions = {}): Promise<JobStatus[]> {
    return listAll(this.engine, options);
  }

  /**
   * Polls until every task is final (or waits on a dependency that can never be met), backing off from about
   * 1 s to about 30 s; `name` undefined: the latest job. Past `timeoutMs` it throws a TIMEOUT PilotError (exit
   * 124). Makes the job's automatic retries (`maxRetries`) and sends its `notify` messages.
   * @example
   * const final = await pilot.wait('fine-tune-mlp', { timeoutMs: 3_600_000, onProgress: (s) => console.log(s.counts) });
   */
  async wait(name: string | undefined, options: WaitOptions = {}): Promise<JobStatus> {
    return waitFor(this.engine, await resolveName(this.engine.store, name), options, (s) => automate(this.engine, s));
  }

  /**
   * Cancels the tasks of `statuses` that wait on a dependency that can never be satisfied (one scancel per job)
   * and returns the statuses asked again. `wait`/`watch` do it themselves with `cancelUnsatisfiable: true`.
   * @example
   * const [after] = await pilot.cancelUnsatisfiable(await pilot.status(['train']));
   */
  async cancelUnsatisfiable(statuses: JobStatus[]): Promise<JobStatus[]> {
    return (await import('./unsatisfiable.js')).cancelNeverSatisfiable(this.engine, statuses);
  }

  /**
   * `wait` for several jobs: retries and notifies until all are final with no retry due, or pending for ever on a
   * dependency never satisfied (`once`: one pass, for cron; `cancelUnsatisfiable`: cancel those, then notify).
   */
  async watch(names: string[], options: WatchOptions = {}): Promise<JobStatus[]> {
    return watch(this.engine, await Promise.all(names.map((n) => resolveName(this.engine.store, n))), options);
  }

  /**
   * stdout and stderr of task i (`'name/i'`) of its latest attempt, or of `attempt`, as strings. Logs are cached
   * under the job's local folder and only new bytes are fetched. A log larger than `maxBytes` (default 256 MiB)
   * is refused with a TOO_LARGE PilotError: use `streamLog` for those.
   * @example
   * const { stdout } = await pilot.logs('fine-tune-mlp/3');
   */
  logs(ref: string, options: { attempt?: number; maxBytes?: number } = {}): Promise<TaskLogs> {
    return logsOf(this.engine, ref, options);
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
  streamLog(ref: string, options: StreamLogOptions): Promise<StreamLogResult> {
    return streamLogOf(this.engine, ref, options);
  }

  /**
   * Resubmits only the failed tasks (FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, MISSING_OUTPUT, or
   * `states`) on the same remote script and args, as a new attempt. By default they rerun the code they ran
   * (nothing is uploaded: right for transient failures). The sources are packed again locally and compared:
   * when they changed, `sourcesChanged` says so, a `warning` event names the files, and `repack: true` ships
   * the new bundle (uploaded only if the cluster lacks it) for the restarted tasks; each attempt records its bundle.
   * @example
   * const r = await pilot.restartFailed('fine-tune-mlp');   // { attempt: 2, indices: [4, 7], slurmJobIds: [...] }
   * if (r.sourcesChanged) await pilot.restartFailed('fine-tune-mlp', { repack: true });   // after fixing the code
   * await pilot.restartFailed('fine-tune-mlp', { extraArgs: ['--resume', 'last.ckpt'] });   // those tasks, that attempt only
   */
  async restartFailed(name: string, options: RestartOptions & AttemptExtras = {}): Promise<RestartResult> {
    return restartFailed(this.engine, await resolveName(this.engine.store, name), options);
  }

  /**
   * Cancels what still waits or runs of a whole job (`'name'`) or of one task (`'name/i'`). The states are
   * asked first: when everything concerned has finished, nothing is sent. Says what was cancelled and what
   * had finished, by state.
   * @example
   * const r = await pilot.cancel('fine-tune-mlp');   // { cancelled: { RUNNING: 2, PENDING: 2 }, finished: { COMPLETED: 2 } }
   */
  cancel(ref: string): Promise<CancelResult> {
    return cancel(this.engine, ref);
  }

  /**
   * Forgets a job: removes its record and its local folder (cached logs), so the name is free again; with
   * `remote`, also its folder on the cluster (script, args, logs, outputs). A job whose tasks are not all
   * finished is refused (BAD_INPUT) unless `force`, which cancels them and waits until they have ended. A
   * damaged record is removed too (only its local folder: where its cluster folder is cannot be read; `gc`
   * collects that later), with `damaged` saying what was wrong.
   * @example
   * const r = await pilot.rm('fine-tune-mlp', { remote: true });   // { name, localDir, remoteDir, cancelled: [] }
   */
  rm(name: string, options: RemoveOptions = {}): Promise<RemoveResult> {
    return remove(this.engine, name, options);
  }

  /**
   * Reclaims space. Removes the packed bundles in $PILOT_HOME/cache that no record refers to, and on every
   * cluster (the local one, those in config.yaml and those records name; ONE remote command each) the job
   * folders and unpacked bundles that no record refers to and no unfinished job uses; on remote clusters only
   * those unchanged for `olderThanDays` (default 7), as other machines may launch from the same folder.
   * `dryRun` lists what would go, with sizes. A cluster that cannot be reached keeps everything and is listed
   * in `skipped`. Refuses (removing nothing) while a record is damaged or a launch is in progress here.
   * @example
   * const preview = await pilot.gc({ dryRun: true });
   * const done = await pilot.gc({ olderThanDays: 30 });
   */
  gc(options: GcOptions = {}): Promise<GcResult> {
    return gc(this.engine, options);
  }

  /**
   * Fetches what a job left in one stream into `to` (default ./<name>): logs/, outputs/ (each task's output
   * folders) and work/ holding only the files tasks wrote there (not the shipped sources). `name/I`: that
   * task's logs and outputs/I only (into ./<name>-<I>). What a job wrote is not trusted: entries that would write or lead outside `dest` (links included) are
   * left out, each reported through `onSkip` as it happens and listed in `skipped`.
   * @example
   * const r = await pilot.download('fine-tune-mlp', { to: './results' });
   * await pilot.download('fine-tune-mlp/3', { glob: '*.json' });
   */
  download(name: string | undefined, options: DownloadRequest = {}): Promise<DownloadResult> {
    return download(this.engine, name, options);
  }

  /** Closes every connection this wrapper opened. */
  close(): Promise<void> {
    return this.engine.close();
  }
}
