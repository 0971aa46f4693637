/** What the SDK's calls return (the public types, exported from the package). */
import type { TaskPreview } from '../plan/preview.js';
export type { TaskPreview };
import type { ResourceGroup } from '../model/resources.js';
import type { HealthReport } from '../scheduler/dialect.js';
import type { HopInfo, HostKeyQuestion } from '../transport/types.js';
import type { TaskState } from '../model/states.js';
import type { Warning } from '../model/checks.js';

export interface ScheduleResult {
  name: string;
  /** true when this launch found an earlier one of the same name whose reply had been lost, and tracks it */
  adopted?: boolean;
  tasks: number;
  /** The scheduler's job ids of the arrays (several when the job was split at MaxArraySize). */
  slurmJobIds: string[];
  cluster: string;
  /** The job's own folder on the cluster (script, args, logs/, outputs/). */
  remoteDir: string;
  /** The bundle: its compressed size, how many files, and the bytes sent (0 when the cluster had it). */
  bundle: { sha256: string; bytes: number; files: number; uploadedBytes: number };
  /** What PYTHONPATH/NODE_PATH/PATH/R_LIBS a task gets, a line each (absent when the launch was adopted). */
  environment?: string[];
  /** 0 when the tasks are numbered from 0 (`arrayBase: 0`); absent: from 1. */
  arrayBase?: 0;
}

export interface DryRun {
  name: string;
  cluster: string;
  tasks: number;
  script: string;
  argsFile: string;
  argsText: string;
  /** What would be run to submit (the folder name's random part is shown as XXXXXXXX). */
  sbatchCommand: string;
  /** The first tasks (up to 10): index, name, params, argv, resources. */
  taskTable: TaskPreview[];
  /** A sweep's resource sets (one array each), when its tasks differ. */
  resourceGroups?: ResourceGroup[];
  bundle: { sha256: string; bytes: number; files: number };
  /** What was checked without connecting, a line each (the interpreter of a remote cluster needs the cluster). */
  checks: string[];
  /** What the checks found worth a warning (also emitted as `warning` events). */
  warnings: Warning[];
  /** What PYTHONPATH/NODE_PATH/PATH/R_LIBS a task gets, a line each. */
  environment: string[];
  /** A `script:` job: what was taken from its #SBATCH lines and what was ignored, a line each. */
  directives?: string[];
}

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
  /**
   * Whether the sources differ from the bundle the restarted tasks ran before (they are packed again, locally,
   * and the hashes compared); undefined when nothing was to restart or they could not be packed.
   */
  sourcesChanged?: boolean;
  /** The files that differ (changed, added or removed; libraries as `lib/<name>/…`), when known. */
  changedFiles?: string[];
  /** The bundle the new attempt runs: the new one when `repack` shipped the changed sources. */
  bundle?: { sha256: string; repacked: boolean; uploadedBytes: number };
}

/** What `download` takes, and where it puts it. */
export interface DownloadRequest {
  /** Target folder (default ./<name>, or ./<name>-<I> for one task). @example './results/run-1' */
  to?: string;
  /**
   * Only files matching this glob: without `/` it matches a file name in any folder, with `/` the path in the
   * download folder (`**` = any folders). @example '*.json'
   */
  glob?: string;
  /** Called for every entry left out (a link leading outside `to`, a device), with why. */
  onSkip?: (path: string, reason: string) => void;
}

export interface DownloadResult {
  dest: string;
  /** Bytes received (remote clusters: of the compressed stream). */
  bytes: number;
  /** Entries left out, with why: links leading outside `dest`, unsafe paths, devices... */
  skipped: { path: string; reason: string }[];
}

export interface ConnectionCheck extends Partial<HealthReport> {
  cluster: string;
  /** `user@host:port via jump -> …`, or `local` */
  target: string;
  /** the transport used (`ssh2`, `openssh`, `local`) */
  transport: string;
  connectMs: number;
  /** one empty command's round trip, ms */
  roundTripMs?: number;
  /** hop by hop: the host key verified and the login method accepted (when the transport knows) */
  hops?: readonly HopInfo[];
  /** questions asked while logging in */
  prompts?: number;
  /** everything pilot needs works */
  ok: boolean;
  /** what is missing, in words */
  problems: string[];
}

export interface CancelResult {
  name: string;
  /** The task cancelled, when one was named. */
  index?: number;
  /** Tasks that were still pending or running (or unknown) and were cancelled, by state. Empty: nothing was sent. */
  cancelled: Partial<Record<TaskState, number>>;
  /** Tasks that had already finished, by state (untouched). */
  finished: Partial<Record<TaskState, number>>;
}

export interface RemoveResult {
  name: string;
  /** The local folder removed: the record and the cached logs. */
  localDir: string;
  /** The job's folder on the cluster, when `remote` removed it. */
  remoteDir?: string;
  /** Tasks that were unfinished and cancelled first (`force`). */
  cancelled: number[];
  /**
   * Set when the record was damaged: what was wrong with it. Only the local folder went; where the job's
   * folder on the cluster is could not be read (`gc` removes it once nothing refers to it).
   */
  damaged?: string;
}

export interface GcItem {
  /** A cluster's name (`local` for the built-in one), or `cache` for the bundle cache in $PILOT_HOME/cache. */
  where: string;
  /** `cache`: a packed bundle; `bundle`: an unpacked one; `job`: a job folder; `leftover`: a dead launch's upload or temp file */
  kind: 'cache' | 'bundle' | 'job' | 'leftover';
  path: string;
  bytes: number;
}

export interface GcResult {
  dryRun: boolean;
  /** Everything removed (with `dryRun`: that would be), sorted by where and path. */
  removed: GcItem[];
  /** Their total size in bytes. */
  bytes: number;
  /** Clusters that could not be asked, with why: nothing of theirs was removed. */
  skipped: { cluster: string; reason: string }[];
}

export interface TrustResult {
  cluster: string;
  target: string;
  /** host keys written to known_hosts (empty: every hop was known already) */
  added: HostKeyQuestion[];
  hops: readonly HopInfo[];
}
