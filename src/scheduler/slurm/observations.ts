/**
 * What one Slurm query said of each array task, looked up by (array job id, index): the own row of a task, or
 * the range row that lists it. Filled by the row parsers of parse.ts.
 */
import { expandRanges, rangesInclude } from '../../model/ranges.js';
import { isFinal, type ArrayTaskObservation, type TaskState } from '../../model/states.js';
import type { JobIdToken } from './parse.js';

/** Map key of one array element: `${jobId}_${arrayIndex}`, as Slurm itself writes it. */
export function taskKey(jobId: string, arrayIndex: number): string {
  return `${jobId}_${arrayIndex}`;
}

/**
 * What one query said of each task; a task's own row beats a range row that also lists it (a lagging sacct
 * can still show `J_[7-20%3]` after tasks 7-9 got their own records). Range rows stay rows: the pending rest
 * of a 100 000-task array is ONE row, and a task's observation is made from it when looked up (`find`).
 */
export class TaskObservations {
  /** from the tasks' own rows: the later row wins */
  private readonly own = new Map<string, ArrayTaskObservation>();
  /** range rows by job id, in order (the later row wins), kept as rows: a task's observation is made when asked for */
  private readonly ranges = new Map<string, { spec: string; state: TaskState; reason: string | undefined }[]>();

  /**
   * Adds one row and returns the observation of a task's own row (to add its times). A task row keeps the exit
   * code of a task that ended; a range row's tasks never ran, so its `0:0` is no exit code.
   */
  addRow(token: Extract<JobIdToken, { kind: 'task' | 'range' }>, state: TaskState, exit: ExitFields, reason: string | undefined, key?: string): ArrayTaskObservation | undefined {
    if (token.kind === 'task') {
      const obs = observation(token.jobId, token.index, state, isFinal(state) ? exit : undefined, reason);
      this.own.set(key ?? taskKey(obs.jobId, obs.arrayIndex), obs);
      return obs;
    }
    // a pending remainder of 100 000 tasks is one range row: kept as one, not as 100 000 observations
    const rows = this.ranges.get(token.jobId) ?? this.ranges.set(token.jobId, []).get(token.jobId)!;
    rows.push({ spec: token.spec, state, reason });
    return undefined;
  }

  find(jobId: string, arrayIndex: number, key = taskKey(jobId, arrayIndex)): ArrayTaskObservation | undefined {
    const own = this.own.get(key);
    if (own) return own;
    const rows = this.ranges.get(jobId);
    for (let i = (rows?.length ?? 0) - 1; i >= 0; i--) {
      const row = rows![i]!;
      if (rangesInclude(row.spec, arrayIndex)) return observation(jobId, arrayIndex, row.state, undefined, row.reason);
    }
    return undefined;
  }

  /** No row at all. */
  get empty(): boolean {
    return this.own.size === 0 && this.ranges.size === 0;
  }

  /** Every task's observation, range rows expanded (own rows first, then the range rows' other tasks). */
  list(): ArrayTaskObservation[] {
    const out = [...this.own.values()];
    const ranged = new Map<string, ArrayTaskObservation>();
    for (const [jobId, rows] of this.ranges) {
      for (const row of rows) for (const index of expandRanges(row.spec)) ranged.set(taskKey(jobId, index), observation(jobId, index, row.state, undefined, row.reason));
    }
    for (const [key, obs] of ranged) if (!this.own.has(key)) out.push(obs);
    return out;
  }

  /** A set of the given observations, each as its task's own row (what tests and callers with lists pass). */
  static of(observations: readonly ArrayTaskObservation[] | TaskObservations | undefined): TaskObservations {
    if (observations instanceof TaskObservations) return observations;
    const set = new TaskObservations();
    for (const obs of observations ?? []) set.own.set(taskKey(obs.jobId, obs.arrayIndex), obs);
    return set;
  }
}
export type ExitFields = Pick<ArrayTaskObservation, 'exitCode' | 'signal'>;

/**
 * One task's observation, built field by field (no spreads: a large answer makes 100 000 of them) and without
 * undefined fields, so observations compare and serialise cleanly.
 */
export function observation(jobId: string, arrayIndex: number, state: TaskState, exit: ExitFields | undefined, reason: string | undefined): ArrayTaskObservation {
  const obs: ArrayTaskObservation = { jobId, arrayIndex, state };
  if (exit?.exitCode !== undefined) obs.exitCode = exit.exitCode;
  if (exit?.signal !== undefined) obs.signal = exit.signal;
  if (reason !== undefined) obs.reason = reason;
  return obs;
}

