/** The normalised task states every backend reports (fixed names: users and scripts rely on them). */
export const TASK_STATES = [
  'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'UNKNOWN',
  // pilot's own: the scheduler said COMPLETED but a file of the job's `expectedFiles` is missing (model/expected.ts)
  'MISSING_OUTPUT',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States after which a task will never change again. */
export const FINAL_STATES: ReadonlySet<TaskState> = new Set([
  'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'MISSING_OUTPUT',
]);

/** What `restart-failed` resubmits unless told otherwise. */
export const DEFAULT_RESTART_STATES: readonly TaskState[] = ['FAILED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'MISSING_OUTPUT'];

export function isFinal(state: TaskState): boolean {
  return FINAL_STATES.has(state);
}

/** One scheduler-level observation of one array element (Slurm array job id + array index). */
export interface ArrayTaskObservation {
  /** The array's own job id (the `J` in `J_7`). */
  jobId: string;
  /** The Slurm array index (the `7` in `J_7`), NOT necessarily the user's task number (see offsets). */
  arrayIndex: number;
  state: TaskState;
  /** Process exit code (the first half of Slurm's `1:0`), when known. */
  exitCode?: number;
  /** Signal that ended the task (the second half of `0:9`), when non-zero. */
  signal?: number;
  /** Slurm's reason (squeue %r / scontrol Reason), e.g. JobArrayTaskLimit, DependencyNeverSatisfied. */
  reason?: string;
  /** When the task started and ended (ISO 8601, UTC), when the scheduler says (sacct; the local supervisor). */
  start?: string;
  end?: string;
}
