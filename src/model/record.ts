import type { NormalizedJobInfo } from './job.js';
import type { TaskState } from './states.js';

/** One `sbatch` of an attempt: Slurm array job id, the offset added to its array indices, and its --array. */
export interface ArraySubmission {
  slurmJobId: string;
  /** task number = array index + offset (arrays larger than MaxArraySize are split). */
  offset: number;
  /** The --array value given, e.g. `1-1000%3` or `4,7%3`. */
  arraySpec: string;
}

export interface Attempt {
  attempt: number;
  submittedAt: string;
  /** Task numbers of this attempt, compressed (`1-50`, `4,7`). */
  indices: string;
  arrays: ArraySubmission[];
}

/**
 * A submission that was sent but whose reply has not been seen (recorded BEFORE sbatch runs). Every command
 * on the job first settles it: adopts the arrays Slurm accepted, or drops it when nothing was submitted.
 */
export interface PendingSubmission {
  attempt: number;
  /** names the submission's marker file on the cluster */
  token: string;
  startedAt: string;
  /** task numbers of this submission, compressed */
  indices: string;
  /** the arrays it meant to submit, in order */
  planned: { offset: number; spec: string }[];
  /**
   * `<pid> <boot>` of the process submitting it, cleared when that process learns the outcome or gives up:
   * while it lives, nobody else may decide what happened.
   */
  owner?: string;
}

export interface TaskStatus {
  index: number;
  state: TaskState;
  exitCode: number | null;
  attempt: number;
  reason?: string;
  /**
   * A final state still missing its exit code (squeue saw FAILED before sacct caught up): shown, but kept
   * out of the stored final states and asked for again, so the exit code is not lost.
   */
  provisional?: boolean;
}

export interface JobRecord {
  version: 1;
  name: string;
  cluster: string;
  backend: 'slurm' | 'local';
  createdAt: string;
  tasks: number;
  maxConcurrent?: number;
  /** Largest array index the cluster accepts per submission (MaxArraySize - 1), i.e. the split size. */
  chunkSize: number;
  info: NormalizedJobInfo;
  bundle: { sha256: string; bytes: number; files: number };
  remote: {
    /** Absolute path of this job's folder on the cluster (holds job.sh, args.b64, logs/, outputs/). */
    jobDir: string;
    bundleDir: string;
  };
  /** Every submission whose outcome is known (empty only while the first one is pending). */
  attempts: Attempt[];
  pending?: PendingSubmission;
  /** Final states learned so far, by task number, so finished tasks are never asked for again. */
  finalStates: Record<string, TaskStatus>;
  /** Last known states of unfinished tasks (kept when a status call fails). */
  lastKnown?: Record<string, TaskStatus>;
  updatedAt?: string;
}
