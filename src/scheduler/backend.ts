/**
 * What the core asks of a scheduler backend (Slurm over a transport, or the local supervisor). Backends
 * get everything pre-rendered: they move files, submit, observe and cancel; they never print.
 */
import type { HealthReport } from './dialect.js';
import type { Warning } from '../model/checks.js';
import type { NormalizedJobInfo } from '../model/job.js';
import type { ArraySubmission, JobRecord, PendingSubmission, TaskStatus } from '../model/record.js';
import type { ReadTails } from '../model/tracking.js';
import type { ChunkSink } from '../transport/chunked-read.js';
import { randomBytes } from 'node:crypto';
import type { HopInfo, TransportStats } from '../transport/types.js';
import type { Bundle } from '../bundle/pack.js';
import type { AttemptResources } from '../model/retry.js';
import type { LogTail } from './log-tails.js';
import type { DownloadSelection } from './workdir.js';

export type { DownloadSelection } from './workdir.js';

export type { Bundle } from '../bundle/pack.js';


export interface PreparedJob {
  name: string;
  info: NormalizedJobInfo;
  tasks: number;
  bundle: Bundle;
  /** The rendered array script (job.sh). */
  script: string;
  /** args.b64: line i = task i's argv. */
  argsFile: string;
  /** args.txt: the same, shell-quoted, for humans. */
  argsText: string;
  /** params.b64: line i = task i's parameters as JSON, base64 (the script exports it as PILOT_PARAMS_JSON). */
  paramsFile: string;
  /** The scheduler's dependency on other jobs (`after:` resolved to job ids, e.g. `afterok:12:13`), if any. */
  dependency?: string;
}

export interface Submitted {
  remote: JobRecord['remote'];
  chunkSize: number;
  arrays: ArraySubmission[];
  /** Bundle bytes sent (0 when the cluster already had it). */
  uploadedBytes: number;
  /** What the checks before submitting found worth saying (an interpreter that setup lines may provide). */
  warnings: Warning[];
}

export interface Resubmitted {
  arrays: ArraySubmission[];
  /** Bytes of a new bundle sent (0 without one, or when the cluster already had it). */
  uploadedBytes: number;
}

/**
 * Called by a backend right before it submits, with everything needed to find the submission again; the
 * caller records it (the record is on disk before sbatch runs, so a lost reply never loses the job).
 */
export type OnSubmitting = (facts: { remote: JobRecord['remote']; chunkSize: number; pending: PendingSubmission }) => Promise<void>;

/** What happened to a pending submission. */
export type PendingVerdict =
  | { kind: 'submitted'; arrays: ArraySubmission[]; complete: boolean }
  | { kind: 'not-submitted' }
  | { kind: 'unknown'; why: string };

/**
 * Fresh task states per job name, and what made some of them uncertain (a part of the query failed). `tails`:
 * the last stderr lines read in the same call, for the tasks model/last-error.ts's tailCandidates picks.
 */
export interface Observation {
  states: Map<string, Map<number, TaskStatus>>;
  tails?: ReadTails;
  warning?: string;
}

export interface DownloadOptions {
  /** Called for every file or link left out (a link leading outside `dest`, a device...), with why. */
  onSkip?: (path: string, reason: string) => void;
  /** What to take (default: logs/, outputs/ and what tasks wrote in work/). */
  selection?: DownloadSelection;
  /** Keeps only the files and links whose path (as in `dest`) it accepts (`--glob`). */
  accept?: (path: string) => boolean;
}

/** Everything of a job a download takes by default. */
export const WHOLE_JOB: DownloadSelection = { paths: ['logs', 'outputs'], work: true };

/** What `gc` asks of a cluster: what local records refer to (kept whatever its age), and how old the rest must be. */
export interface GcRequest {
  /** job folder names (`<name>-<8 hex>`) that some local record refers to, on any cluster */
  keepJobs: string[];
  /** bundle hashes that some local record refers to */
  keepBundles: string[];
  /**
   * Remote clusters keep folders changed more recently than this: another machine may share the folder and
   * be launching from it. The local cluster's folder belongs to one home, so age does not matter there.
   */
  olderThanMs: number;
  /** list what would go, delete nothing */
  dryRun: boolean;
}

/** One folder `gc` removed (or, with dryRun, would remove). */
export interface GcEntry {
  /** `job`: a job folder; `bundle`: an unpacked bundle; `leftover`: a dead launch's upload or unpack */
  kind: 'job' | 'bundle' | 'leftover';
  /** absolute path on the cluster */
  path: string;
  bytes: number;
}

export interface Backend {
  submit(job: PreparedJob, onSubmitting: OnSubmitting): Promise<Submitted>;
  /**
   * Resubmits some task numbers of a recorded job on its existing script and args, running the bundle of its
   * newest attempt, or `bundle` when given: shipped first if the cluster lacks it, exactly as a launch does.
   */
  resubmit(record: JobRecord, taskNumbers: number[], onSubmitting: OnSubmitting, bundle?: Bundle, resources?: AttemptResources, attemptArgs?: string): Promise<Resubmitted>;
  /** Finds out, with one query, whether a pending submission reached the scheduler. */
  settle(record: JobRecord & { pending: PendingSubmission }): Promise<PendingVerdict>;
  /** Current state of every task not yet final, for many jobs at once (one remote command per cluster). */
  observe(records: JobRecord[]): Promise<Observation>;
  /**
   * Streams a task's log from byte `offset` to its size at opening into `onChunk`, in bounded memory. Returns the
   * bytes delivered; null when the log does not exist (yet). Anything but a regular file is refused (NOT_A_FILE).
   */
  readLog(record: JobRecord, task: number, attempt: number, stream: 'out' | 'err', offset: number, onChunk: ChunkSink): Promise<number | null>;
  /**
   * The last `maxBytes` of several logs of one job (paths relative to its folder, as model/attempts.ts's logPath
   * gives them) in ONE remote command; undefined for a file that is absent or not a regular file.
   */
  readLogTails(record: JobRecord, files: readonly string[], maxBytes: number): Promise<Map<string, LogTail | undefined>>;
  cancel(record: JobRecord, taskNumbers?: number[]): Promise<void>;
  /** Sets the dependency of pending arrays; returns the ids that could not be changed. Absent: not supported. */
  updateDependencies?(targets: { jobId: string; dependency: string }[]): Promise<string[]>;
  /** Copies what `options.selection` names of the job folder into `dest` in one stream; returns the bytes moved. */
  download?(record: JobRecord, dest: string, options?: DownloadOptions): Promise<number>;
  /**
   * Deletes the job's folder (script, args, logs, outputs) on the cluster; the caller has made sure its tasks
   * are over. Returns false when it was already gone. Refuses a folder that is not `<root>/jobs/<name>-<8 hex>`.
   */
  removeJob(record: JobRecord): Promise<boolean>;
  /**
   * Removes the job folders and bundles under the cluster's root that no record refers to and no unfinished
   * job uses (see GcRequest), with ONE remote command; returns what went (or would go).
   */
  collectGarbage(request: GcRequest): Promise<GcEntry[]>;
  /** Runs the scheduler's health command (`pilot test-ssh`); absent for the local backend. */
  health?(): Promise<HealthReport & { roundTripMs: number }>;
  /** Counters of the underlying transport, for tests and benchmarks. */
  readonly stats?: TransportStats;
  /** How the connection was made, hop by hop, when the transport knows. */
  readonly hops?: readonly HopInfo[];
  /** false once its connection is gone: the engine opens a new one instead of failing for ever */
  readonly usable?: boolean;
  close(): Promise<void>;
}

/** A submission about to be sent, with the token that names its marker file. */
export function newPending(attempt: number, indices: string, planned: { offset: number; spec: string }[], bundle: string): PendingSubmission {
  return { attempt, token: randomBytes(8).toString('hex'), startedAt: new Date().toISOString(), indices, planned, bundle };
}

export const SCRIPT_NAME = 'job.sh';
/** In each job folder: the bundles its attempts ran, one `bundles/<sha>` line each (what gc keeps). */
export const BUNDLES_USED = '.pilot-bundles';
export const ARGS_FILE = 'args.b64';
export const ARGS_TEXT = 'args.txt';
/** Words an attempt appends to its tasks' argv: one args-file line (`pilot resubmit --extra-args`). */
export const attemptArgsFile = (attempt: number) => `args-extra.${attempt}.b64`;
export const PARAMS_FILE = 'params.b64';
