/**
 * Pure bookkeeping of task states: which tasks still need asking, how fresh observations combine with what
 * the record already knows, counts per state. Final states are kept in the record so a finished task is
 * never asked for again; the last known states survive a failed status call.
 */
import { TASK_STATES, isFinal, type TaskState } from './states.js';
import type { JobRecord, TaskStatus } from './record.js';
import { latestArrayFor, taskNumbersOf } from './attempts.js';
import { failureClass } from './failure.js';
import { arrayBaseOf, type TaskParams } from './job.js';
import { planTaskEnv, taskOutputDir } from './task-env.js';
export { openTasks } from './attempts.js';

/** A task's state with what it ran: its exact argv (placeholders filled), parameters and output folder. */
export interface TaskView extends TaskStatus {
  /** the argv the task got (absent when the record cannot say) */
  argv?: string[];
  /** its parameters, when its args were given as an object */
  params?: TaskParams;
  /** its latest attempt's output folder on the cluster ($PILOT_OUTPUT_DIR), absolute */
  outputDir?: string;
}

export interface JobStatus {
  name: string;
  cluster: string;
  /** The job's folder on the cluster (job.sh, logs/, outputs/, work/): what a combine step reads. */
  remoteDir?: string;
  tasks: TaskView[];
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
  /** When the job was launched (ISO 8601). */
  submittedAt?: string;
  /** When its latest attempt was submitted (the launch, or the latest restart-failed). */
  attemptSubmittedAt?: string;
  /** A sweep's task names (`taskNamePattern`), in task order (also on each task as `name`). */
  taskNames?: string[];
}

/** The stderr lines a status call read: job name → task → the attempt read and its last line (cleaned). */
export type ReadTails = Map<string, Map<number, { attempt: number; text: string }>>;

/** The attempt each task last ran in. */
export function latestAttemptOf(record: JobRecord, task: number): number {
  return latestArrayFor(record, task)?.attempt ?? 1;
}

/**
 * Folds fresh observations into the record: final states move to `finalStates`, the rest to `lastKnown`.
 * Stderr lines read in the same call are kept on the failures of the attempt they were read for; a line read
 * for a task still running (or that completed) is dropped. Returns the changed record (a new object; the input
 * is not modified), or the input itself when the observations change nothing, so the caller can skip the write.
 */
export function applyObservations(record: JobRecord, observed: Map<number, TaskStatus>, tails?: Map<number, { attempt: number; text: string }>): JobRecord {
  const finalStates = { ...record.finalStates };
  const lastKnown: Record<string, TaskStatus> = { ...(record.lastKnown ?? {}) };
  let changed = record.lastKnown === undefined;
  for (const [task, status] of observed) {
    if (finalStates[task]) continue;
    if (isFinal(status.state) && !status.provisional) {
      finalStates[task] = status;
      delete lastKnown[task];
      changed = true;
    } else if (status.state !== 'UNKNOWN' || !lastKnown[task]) {
      // UNKNOWN (e.g. sacct lagging) never overwrites a real state we saw before
      if (!sameStatus(lastKnown[task], status)) changed = true;
      lastKnown[task] = status;
    }
  }
  for (const [task, tail] of tails ?? []) {
    const s = finalStates[task];
    if (s && s.attempt === tail.attempt && s.lastError === undefined && failureClass(s)) {
      finalStates[task] = { ...s, lastError: tail.text };
      changed = true;
    }
  }
  return changed ? { ...record, finalStates, lastKnown } : record;
}

/** Whether two stored states say the same (same fields, same values; stored states hold only flat fields and lists). */
function sameStatus(a: TaskStatus | undefined, b: TaskStatus): boolean {
  if (!a) return false;
  const keys = Object.keys(b) as (keyof TaskStatus)[];
  if (Object.keys(a).length !== keys.length) return false;
  return keys.every((k) => a[k] === b[k] || (Array.isArray(a[k]) && JSON.stringify(a[k]) === JSON.stringify(b[k])));
}

/** How many tasks a status covers, from its counts (reading `tasks` would build every task's view). */
export function taskCount(status: Pick<JobStatus, 'counts'>): number {
  let n = 0;
  for (const k in status.counts) n += status.counts[k as TaskState] ?? 0;
  return n;
}

export function countStates(tasks: readonly TaskStatus[]): Partial<Record<TaskState, number>> {
  const tally = new StateTally();
  for (const t of tasks) tally.add(t.state);
  return tally.counts();
}

/** Counts per state in one pass, keys in TASK_STATES order (a filter per state was ten passes over 100 000 tasks). */
class StateTally {
  private readonly seen = new Map<TaskState, number>();
  add(state: TaskState): void {
    this.seen.set(state, (this.seen.get(state) ?? 0) + 1);
  }
  counts(): Partial<Record<TaskState, number>> {
    const counts: Partial<Record<TaskState, number>> = {};
    for (const s of TASK_STATES) if (this.seen.get(s)) counts[s] = this.seen.get(s)!;
    return counts;
  }
}

/**
 * The status of every task as the record knows it now. Counts and `done` are read from the record's states;
 * the per-task views (`tasks`: argv, params, output folder) are built when first read, once: a caller that
 * wants the counts of a 100 000-task job (wait, list, a progress line) does not pay for 100 000 views.
 */
export function jobStatus(record: JobRecord, stale?: string): JobStatus {
  const numbers = taskNumbersOf(record);
  const tally = new StateTally();
  let done = true;
  for (const t of numbers) {
    const s = storedState(record, t);
    const state = s?.state ?? 'UNKNOWN';
    tally.add(state);
    if (done && (!isFinal(state) || s!.provisional)) done = false;
  }
  const counts = tally.counts();
  let views: TaskView[] | undefined;
  const last = record.attempts[record.attempts.length - 1];
  return {
    name: record.name,
    cluster: record.cluster,
    remoteDir: record.remote.jobDir,
    // an accessor in the literal: enumerable and in its place, so spreads and JSON see `tasks` as before
    get tasks() {
      return (views ??= taskViews(record, numbers));
    },
    set tasks(value: TaskView[]) {
      views = value;
    },
    counts,
    done,
    ...(stale ? { stale } : {}),
    slurmJobIds: last?.arrays.map((a) => a.jobId) ?? [],
    attempts: record.attempts.length,
    submittedAt: record.createdAt,
    ...(last ? { attemptSubmittedAt: last.submittedAt } : {}),
    ...(record.info.taskNames ? { taskNames: record.info.taskNames } : {}),
  };
}

/** What the record knows of task `t`: its final state, else its last known one. */
function storedState(record: JobRecord, t: number): TaskStatus | undefined {
  return record.finalStates[t] ?? record.lastKnown?.[t];
}

/** One view per task: its state with what it ran (argv with placeholders filled, params, output folder). */
function taskViews(record: JobRecord, numbers: readonly number[]): TaskView[] {
  const tasks: TaskView[] = [];
  const argv = filledArgv(record);
  const names = record.info.taskNames;
  for (let pos = 0; pos < numbers.length; pos++) {
    const t = numbers[pos]!;
    const s = storedState(record, t) ?? { index: t, state: 'UNKNOWN', exitCode: null, attempt: latestAttemptOf(record, t) };
    const outputDir = `${record.remote.jobDir}/${taskOutputDir(t, s.attempt)}`;
    // built field by field, not by spreads: this runs once per task, 100 000 times for a large sweep (and
    // Object.assign copies a stored state 3-4 times faster than `{ ...s }` on node 20)
    const view: TaskView = Object.assign({}, s);
    if (names?.[pos] !== undefined) view.name = names[pos];
    const words = argv?.[pos];
    if (words) view.argv = argv!.token === undefined ? words : words.map((w) => w.replaceAll(argv!.token!, outputDir));
    const params = record.info.params?.[pos];
    if (params) view.params = params;
    view.outputDir = outputDir;
    tasks.push(view);
  }
  return tasks;
}

/**
 * Every task's argv as job.sh gets it, with the token {outputDir} stands for (undefined when no argument uses
 * it: nothing to replace); undefined for an unreadable record.
 */
function filledArgv(record: JobRecord): (string[][] & { token?: string }) | undefined {
  try {
    const plan = planTaskEnv(record.name, record.info.argv, record.info.env ?? {}, arrayBaseOf(record.info));
    return Object.assign(plan.argv, { token: plan.tokens.outputDir });
  } catch {
    return undefined;   // launched before placeholders existed, with a `{name}` pilot does not know
  }
}
