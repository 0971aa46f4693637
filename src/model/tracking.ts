/**
 * Pure bookkeeping of task states: which tasks still need asking, how fresh observations combine with what
 * the record already knows, counts per state. Final states are kept in the record so a finished task is
 * never asked for again; the last known states survive a failed status call.
 */
import { TASK_STATES, isFinal, type TaskState } from './states.js';
import type { JobRecord, TaskStatus } from './record.js';
import { latestArrayFor } from './attempts.js';
export { openTasks } from './attempts.js';

export interface JobStatus {
  name: string;
  cluster: string;
  tasks: TaskStatus[];
  counts: Partial<Record<TaskState, number>>;
  /** Every task is in a final state. */
  done: boolean;
  /** Set when the cluster could not be asked: states are the last known ones. */
  stale?: string;
  /** Set while a submission's outcome is not confirmed (its reply was lost); the next look settles it. */
  pending?: string;
  /** Slurm job ids of the latest attempt. */
  slurmJobIds: string[];
  attempts: number;
}

/** The attempt each task last ran in. */
export function latestAttemptOf(record: JobRecord, task: number): number {
  return latestArrayFor(record, task)?.attempt ?? 1;
}

/**
 * Folds fresh observations into the record: final states move to `finalStates`, the rest to `lastKnown`.
 * Returns the changed record (a new object; the input is not modified).
 */
export function applyObservations(record: JobRecord, observed: Map<number, TaskStatus>): JobRecord {
  const finalStates = { ...record.finalStates };
  const lastKnown: Record<string, TaskStatus> = { ...(record.lastKnown ?? {}) };
  for (const [task, status] of observed) {
    if (finalStates[task]) continue;
    if (isFinal(status.state) && !status.provisional) {
      finalStates[task] = status;
      delete lastKnown[task];
    } else if (status.state !== 'UNKNOWN' || !lastKnown[task]) {
      // UNKNOWN (e.g. sacct lagging) never overwrites a real state we saw before
      lastKnown[task] = status;
    }
  }
  return { ...record, finalStates, lastKnown };
}

export function countStates(tasks: readonly TaskStatus[]): Partial<Record<TaskState, number>> {
  const counts: Partial<Record<TaskState, number>> = {};
  for (const s of TASK_STATES) {
    const n = tasks.filter((t) => t.state === s).length;
    if (n) counts[s] = n;
  }
  return counts;
}

/** The status of every task as the record knows it now. */
export function jobStatus(record: JobRecord, stale?: string): JobStatus {
  const tasks: TaskStatus[] = [];
  for (let t = 1; t <= record.tasks; t++) {
    tasks.push(record.finalStates[t] ?? record.lastKnown?.[t] ?? { index: t, state: 'UNKNOWN', exitCode: null, attempt: latestAttemptOf(record, t) });
  }
  const last = record.attempts[record.attempts.length - 1];
  return {
    name: record.name,
    cluster: record.cluster,
    tasks,
    counts: countStates(tasks),
    done: tasks.every((t) => isFinal(t.state) && !t.provisional),
    ...(stale ? { stale } : {}),
    slurmJobIds: last?.arrays.map((a) => a.jobId) ?? [],
    attempts: record.attempts.length,
  };
}
