/** What the SDK's calls return (the public types, exported from the package). */
import type { TaskState } from '../model/states.js';

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
  bundle: { sha256: string; bytes: number; uploadedBytes: number };
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
  bundle: { sha256: string; bytes: number; files: number };
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
}

export interface DownloadResult {
  dest: string;
  /** Bytes received (remote clusters: of the compressed stream). */
  bytes: number;
  /** Entries left out, with why: links leading outside `dest`, unsafe paths, devices... */
  skipped: { path: string; reason: string }[];
}

export interface ConnectionCheck {
  cluster: string;
  /** `user@host:port`, or `local` */
  target: string;
  connectMs: number;
  /** the scheduler's health command succeeded */
  ok: boolean;
  /** what it printed (`sinfo`) */
  output: string;
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
