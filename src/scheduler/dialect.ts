/**
 * A scheduler dialect: everything that differs between Slurm, PBS or Grid Engine, as pure functions — the
 * script's directive lines, the remote commands (probe, submit, status, cancel, find a lost submission, health)
 * and the parsing of their output. ONE generic driver (driver.ts) runs any dialect over a Transport; nothing
 * above the scheduler folder knows a scheduler's command names. Slurm is the first dialect (slurm/index.ts).
 */
import type { TaskResources } from '../model/resources.js';
import type { NormalizedJobInfo } from '../model/job.js';
import type { ArraySubmission, JobRecord } from '../model/record.js';
import type { Transport } from '../transport/types.js';
import type { Observation, PendingVerdict } from './backend.js';
import type { AttemptResources } from '../model/retry.js';

/** Cluster-wide defaults a config may give for directives. */
export interface DirectiveDefaults {
  partition?: string;
  account?: string;
}

/** What the probe learns before a submission (one round trip). */
export interface ProbeResult {
  home: string;
  /** the remote root, absolute and physical */
  root: string;
  bundlePresent: boolean;
  /** the scheduler's largest array index + 1, when it says */
  maxArraySize?: number;
  /** the scheduler's controller answers */
  controllerUp: boolean;
  /** where the job's interpreter was found on the cluster's PATH: null when nowhere, undefined when not asked */
  interpreter?: string | null;
}

/** One array to submit: its offset (task = index + offset) and its array spec, throttle included. */
export interface PlannedArray {
  offset: number;
  spec: string;
  /** A sweep's resource set (groups.ts): the tasks it holds, its resources, and which set (chunks chain within one). */
  tasks?: string;
  resources?: TaskResources;
  group?: number;
}

export interface SubmitCommandInput {
  /** Absolute remote root (from the probe). */
  root: string;
  /** Absolute job folder. */
  jobDir: string;
  /** The bundle this attempt runs: unpacked if just uploaded, and passed to the script. */
  bundleSha: string;
  /** Remote path of a just-uploaded tarball to unpack into bundles/<sha>. */
  uploadedTarball?: string;
  withJobFiles: boolean;
  /** An attempt with a bundle of its own (`restart-failed --repack`): its sources replace those in work/. */
  newBundle?: boolean;
  arrays: PlannedArray[];
  /** Script file name inside jobDir. */
  script: string;
  /** Attempt number, passed to the script (PILOT_ATTEMPT). */
  attempt: number;
  /** Names this submission's marker file: how a lost reply is found again. */
  token: string;
  /** The user's own dependency (from sbatchArgs), combined with the chaining of split arrays. */
  userDependency?: string;
  /** Resources of this attempt that override the script's own (an escalated retry: --time, --mem). */
  resources?: AttemptResources;
  /** pilot's own dependency on other jobs (`after:`), for every array of this submission. */
  jobDependency?: string;
  /** A resubmission's own files come as a tar on stdin (`args-extra.<attempt>.b64`): unpacked into the job folder. */
  attemptFiles?: boolean;
  /**
   * The files (job's or attempt's) written by the command itself (shell builtins) instead of a tar read from
   * stdin: no process, and no wait for stdin, which reaches the cluster a round trip after the command starts.
   * For files small enough to ride in the command line (see inlineOrTar).
   */
  inlineFiles?: readonly { name: string; data: string }[];
  /** The probe's checks, made by this command itself when the probe was skipped (see Precheck). */
  precheck?: Precheck;
}

/**
 * A launch whose cluster facts are cached (the remote root, the bundle seen there) skips the probe: the submit
 * command checks the same things first and stops, before writing anything, when one fails (the driver then
 * probes as for a first launch). One round trip instead of two.
 */
export interface Precheck {
  /** remoteDir as configured: it must still resolve to the cached root */
  remoteDir: string;
  /** the interpreter to look up on the cluster's PATH */
  interpreter?: string;
  /** its absence refuses the launch (no setup lines or PATH that could provide it) */
  interpreterRequired: boolean;
}

export interface PrecheckOutcome {
  /** which check stopped the command before it wrote anything */
  unready?: 'root' | 'bundle' | 'interpreter';
  /** where the interpreter was found (null: nowhere), when asked */
  interpreter?: string | null;
  /** the controller did not answer: the command undid what it had written */
  controllerDown: boolean;
}

export interface PendingQueryInput {
  jobDir: string;
  token: string;
  /** the scheduler's job name */
  jobName: string;
  /** how far back accounting must look */
  sinceSeconds: number;
}

/** Remembered per connection: what the cluster turned out to support. */
export interface ObserveState {
  accounting: boolean | 'unknown';
}

export interface Dialect {
  /** e.g. `slurm` */
  readonly name: string;
  /** the scheduler's name in messages, e.g. `Slurm` */
  readonly title: string;
  /** The default script template (nunjucks). */
  readonly template: string;
  /** Refuses scheduler-bound job values that could break or hijack the script, before anything is packed. */
  checkJob(info: NormalizedJobInfo, where: string): void;
  /** Refuses cluster defaults from config.yaml the same way. */
  checkDefaults(defaults: DirectiveDefaults, where: string): void;
  /** The script's directive values (`--partition=debug` …), validated. */
  directives(info: NormalizedJobInfo, tasks: number, defaults: DirectiveDefaults): string[];
  /** One command: the remote root, whether the bundle is there, limits, the controller, where `interpreter` is. */
  probeCommand(remoteDir: string, bundleSha: string, askLimits: boolean, interpreter?: string): string;
  parseProbe(stdout: string): ProbeResult;
  /** Arrays for task numbers, each within the cluster's index limit (`chunkSize`). */
  planArrays(tasks: readonly number[], chunkSize: number, maxConcurrent?: number, base?: 0 | 1): PlannedArray[];
  /**
   * The user's own dependency to keep when split arrays are chained (undefined: none); refuses one that
   * cannot be combined.
   */
  userDependency(info: NormalizedJobInfo, arrays: number): string | undefined;
  submitCommand(input: SubmitCommandInput): string;
  parseSubmit(code: number, stdout: string, stderr: string): ArraySubmission[];
  parsePrecheck(stdout: string): PrecheckOutcome;
  /** What a dry run shows as "the submit command". */
  describeSubmit(jobDir: string, tasks: number, bundleSha: string, maxConcurrent?: number, base?: 0 | 1): string;
  /** Task states of many jobs with ONE remote command. */
  observe(transport: Transport, records: JobRecord[], state: ObserveState): Promise<Observation>;
  /** Cancels whole arrays (`index` undefined) or single array elements. */
  cancelCommand(targets: { jobId: string; index?: number }[]): string;
  /**
   * Sets the dependency of pending arrays (after pilot retried tasks of a job they wait for); prints
   * `@@dependency-failed <id>` for each it could not change (one that started meanwhile). Absent: not supported.
   */
  updateDependencyCommand?(targets: { jobId: string; dependency: string }[]): string;
  pendingQuery(input: PendingQueryInput): string;
  judgePending(stdout: string, jobDir: string, known: ReadonlySet<string>, planned: readonly PlannedArray[]): PendingVerdict;
  /**
   * Prints the working folder of every unfinished job of the user, one a line, and fails when the scheduler
   * cannot tell (gc then deletes nothing). Run under `timeout`.
   */
  activeWorkDirsCommand(): string;
  /** ONE command checking what pilot needs on the cluster (`pilot test-ssh`), and reading its answer. */
  healthCommand(remoteDir: string): string;
  parseHealth(stdout: string): HealthReport;
}

/** What `pilot test-ssh` reports about the scheduler side of a cluster. */
export interface HealthReport {
  /** everything pilot needs is there */
  ok: boolean;
  /** what is missing, in words */
  problems: string[];
  /** each scheduler command and where it was found (null: not found) */
  commands: Record<string, string | null>;
  version?: string;
  controllerUp: boolean;
  maxArraySize?: number;
  /** job accounting on (sacct answers for finished jobs); undefined when the config could not be read */
  accounting?: boolean;
  /** the remote folder, resolved, when writable */
  remoteDir?: string;
  /** partitions: name, availability, nodes, state */
  partitions: string[];
}
