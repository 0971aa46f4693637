import type { NormalizedJobInfo } from './job.js';
import type { TaskState } from './states.js';
import type { AttemptResources, NotifyEvent } from './retry.js';
import type { TaskResources } from './resources.js';
import { PACKED_VERSION, unpackStates, type PackedStates } from './record-pack.js';

/**
 * One submission of an attempt, STORED as the scheduler acknowledged it (never derived): the scheduler's job id
 * of the array (Slurm's array job id, or the local backend's own id), the offset added to its array indices,
 * and the array spec it was given.
 */
export interface ArraySubmission {
  jobId: string;
  /** task number = array index + offset (arrays larger than MaxArraySize are split). */
  offset: number;
  /** The --array value given, e.g. `1-1000%3` or `4,7%3`. */
  arraySpec: string;
  /**
   * Task numbers this array holds (compressed), stored when several arrays share an offset (one array per
   * resource set of a sweep); absent: the chunk at `offset` (model/attempts.ts's chunkOffset).
   */
  tasks?: string;
  /** This array's own resource set (a sweep's `resources.logic`), given on sbatch's command line. */
  resources?: TaskResources;
}

export interface Attempt {
  attempt: number;
  submittedAt: string;
  /** Task numbers of this attempt, compressed (`1-50`, `4,7`). */
  indices: string;
  arrays: ArraySubmission[];
  /** sha256 of the bundle this attempt ran (absent in older records: the job's `bundle`). */
  bundle?: string;
  /** Resources that differ from the job's own (an escalated automatic retry: model/retry.ts). */
  resources?: AttemptResources;
  /** Words this attempt appended to its tasks' argv (`pilot resubmit --extra-args`). */
  extraArgs?: string[];
  /** The collection's submission group that sent this attempt (`pilot resubmit --submission-group`). */
  group?: string;
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
  /** the arrays it meant to submit, in order (`tasks`/`resources`: one array per resource set) */
  planned: { offset: number; spec: string; tasks?: string; resources?: TaskResources }[];
  /** sha256 of the bundle it runs, recorded on the attempt once adopted */
  bundle?: string;
  /** escalated resources, recorded on the attempt once adopted */
  resources?: AttemptResources;
  /** extra argv words and submission group, recorded on the attempt once adopted */
  extraArgs?: string[];
  group?: string;
  /**
   * `<pid> <boot>` of the process submitting it, cleared when that process learns the outcome or gives up:
   * while it lives, nobody else may decide what happened.
   */
  owner?: string;
}

export interface TaskStatus {
  index: number;
  /** A sweep task's name (`taskNamePattern`), in status output only (not stored per state). */
  name?: string;
  state: TaskState;
  exitCode: number | null;
  /** The signal that ended the task (Slurm's `0:9` → 9), when the scheduler says. */
  signal?: number;
  attempt: number;
  reason?: string;
  /**
   * The last line of the task's stderr, cleaned of control characters and capped (model/last-error.ts), for
   * a task that ended in a failure state: '' once looked for and empty or absent, undefined until looked for.
   */
  lastError?: string;
  /** MISSING_OUTPUT: the `expectedFiles` patterns (with `{index}` replaced) that matched nothing. */
  missingFiles?: string[];
  /** When this attempt of the task started and ended (ISO 8601), when the scheduler says: the report's timeline. */
  start?: string;
  end?: string;
  /**
   * A final state still missing its exit code (squeue saw FAILED before sacct caught up): shown, but kept
   * out of the stored final states and asked for again, so the exit code is not lost.
   */
  provisional?: boolean;
}

export interface JobRecord {
  /** 2: submissions carry `jobId` (version 1 called it `slurmJobId`); read() upgrades older records */
  version: 2;
  name: string;
  cluster: string;
  backend: 'slurm' | 'local';
  createdAt: string;
  tasks: number;
  maxConcurrent?: number;
  /** Largest array index the cluster accepts per submission (MaxArraySize - 1), i.e. the split size. */
  chunkSize: number;
  info: NormalizedJobInfo;
  /** The bundle packed at launch (attempts record the one each ran: restart-failed --repack ships new ones). */
  bundle: { sha256: string; bytes: number; files: number };
  /**
   * The job's script runs the bundle named by its third argument (the default template since `--repack`
   * exists), so an attempt can run another bundle than the first; false or absent: only the launch bundle.
   */
  bundlePerAttempt?: boolean;
  /** The script appends `args-extra.<attempt>.b64` to its argv (templates since `pilot resubmit --extra-args`). */
  attemptArgs?: boolean;
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
  /**
   * The final states of earlier attempts, by task number, oldest first: kept when a restart makes a task
   * PENDING again (the report's timeline, `collection show --show-history`, `--attempt-mode primary`).
   * Absent in older records.
   */
  history?: Record<string, TaskStatus[]>;
  /** Last known states of unfinished tasks (kept when a status call fails). */
  lastKnown?: Record<string, TaskStatus>;
  updatedAt?: string;
  /** Notifications delivered (event → when), so each is sent once (engine/notify.ts). */
  notified?: Partial<Record<NotifyEvent, string>>;
}

/**
 * Brings a record read from disk to the current version. Version 1 named a submission's id `slurmJobId`,
 * also for the local backend, whose ids are not Slurm's. Version 3 is version 2 with its per-task data packed
 * (record-pack.ts): unpacked, it is version 2 again.
 */
export function upgradeRecord(raw: unknown): JobRecord {
  const r = unpackStates(raw as Omit<JobRecord, 'version'> & { version: number } & PackedStates);
  if (r.version === PACKED_VERSION) return { ...r, version: 2 } as JobRecord;   // unpacked: as in memory
  if (r.version === 1) {
    const rename = (a: ArraySubmission & { slurmJobId?: string }) => {
      const { slurmJobId, ...rest } = a;
      return { ...rest, jobId: a.jobId ?? slurmJobId! };
    };
    return {
      ...r,
      version: 2,
      info: { ...r.info, params: r.info.params ?? [] },
      attempts: r.attempts.map((at) => ({ ...at, arrays: at.arrays.map(rename) })),
    } as JobRecord;
  }
  return r as JobRecord;
}
