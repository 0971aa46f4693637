/**
 * Collections, pure: what a collection stores (its jobs and its submission groups), the tasks of its jobs read
 * per attempt (latest or primary, with history), summaries by normalized state, and resubmission filters.
 */
import type { JobRecord, TaskStatus } from './record.js';
import { jobStatus } from './tracking.js';
import { DEFAULT_RESTART_STATES, TASK_STATES, type TaskState } from './states.js';
import { PilotError } from './errors.js';
import { tasksOf, type TaskParams } from './job.js';

/** One submission of some tasks of a job, recorded in a group as the scheduler acknowledged it. */
export interface GroupSubmission {
  job: string;
  attempt: number;
  /** task numbers, compressed (`2,5-7`) */
  indices: string;
  jobIds: string[];
  submittedAt: string;
}

/** A named set of submissions: `initial` (launches and jobs added), or one `pilot resubmit` each. */
export interface SubmissionGroup {
  name: string;
  createdAt: string;
  /** words the resubmission appended to the argv, if any */
  extraArgs?: string[];
  submissions: GroupSubmission[];
}

/** $PILOT_HOME/collections/<name>.json (plus the joins in <name>.members.log, folded in when read: store/collection-log.ts) */
export interface CollectionRecord {
  version: 1;
  name: string;
  description?: string;
  createdAt: string;
  /** job names, in the order they joined */
  jobs: string[];
  groups: SubmissionGroup[];
  /** collection_final sent (notify:): when, and for which jobs (a job added since re-arms it) */
  notified?: { collection_final?: { at: string; jobs: string[] } };
}

/** The collection a job joins when it names none. */
export const DEFAULT_COLLECTION = 'default';

/** The group launches and `collection add` record their first attempt in. */
export const INITIAL_GROUP = 'initial';

/** `latest`: each task's newest attempt (default); `primary`: its first one. */
export type AttemptMode = 'latest' | 'primary';

/** The four buckets `collection list` counts: every state falls in exactly one (or `other`: CANCELLED). */
export type Bucket = 'completed' | 'failed' | 'pending' | 'running' | 'other';

/** Failure states (the ones restart-failed resubmits): FAILED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, MISSING_OUTPUT. */
const FAILURES: ReadonlySet<TaskState> = new Set(DEFAULT_RESTART_STATES);

export function bucketOf(state: TaskState): Bucket {
  if (state === 'COMPLETED') return 'completed';
  if (FAILURES.has(state)) return 'failed';
  if (state === 'PENDING' || state === 'UNKNOWN') return 'pending';
  if (state === 'RUNNING') return 'running';
  return 'other';
}

/** One task of a collection, as `show`, `analyze` and `resubmit --select` see it. */
export interface CollectionTask {
  job: string;
  index: number;
  params?: TaskParams;
  argv: string[];
  state: TaskState;
  exitCode: number | null;
  /** the attempt these state and exit code are from */
  attempt: number;
  /** every attempt's status, oldest first (the last one is the current state) */
  history: TaskStatus[];
}

/** The tasks of one job record, per attempt mode. */
export function tasksOfRecord(record: JobRecord, mode: AttemptMode = 'latest'): CollectionTask[] {
  // argv and params by task number, from the job's task list (whatever number its first task has)
  const spec = new Map(tasksOf(record.info).map((t) => [t.index, t]));
  return jobStatus(record).tasks.map((current) => {
    const history = [...(record.history?.[current.index] ?? []), current];
    const chosen = mode === 'primary' ? history[0]! : current;
    const { params, argv = [] } = spec.get(current.index) ?? {};
    return {
      job: record.name, index: current.index, ...(params ? { params } : {}), argv: [...argv],
      state: chosen.state, exitCode: chosen.exitCode, attempt: chosen.attempt, history,
    };
  });
}

export type Summary = Record<'total' | Bucket, number>;

export function summarize(tasks: readonly Pick<CollectionTask, 'state'>[]): Summary {
  const s: Summary = { total: tasks.length, completed: 0, failed: 0, pending: 0, running: 0, other: 0 };
  for (const t of tasks) s[bucketOf(t.state)]++;
  return s;
}

/** What `--filter` / `--state` accept: a bucket, a state name, or `all`. */
export const FILTER_WORDS = ['all', 'failed', 'completed', 'pending', 'running', ...TASK_STATES.map((s) => s.toLowerCase())] as const;

/**
 * The predicate of a filter word: `all`; `failed` (every failure state, as restart-failed); `completed`,
 * `pending`, `running` (their buckets); or one state by name, case-insensitive (`timeout`, `out_of_memory`).
 */
export function stateFilter(word: string, where = '--filter'): (state: TaskState) => boolean {
  const w = word.trim().toLowerCase();
  if (w === 'all') return () => true;
  if (w === 'failed') return (s) => FAILURES.has(s);
  if (w === 'completed' || w === 'pending' || w === 'running') return (s) => bucketOf(s) === w;
  const state = TASK_STATES.find((s) => s.toLowerCase() === w);
  if (state) return (s) => s === state;
  throw new PilotError('BAD_INPUT', `${where} '${word}' is not a state`, { hint: `use one of: all, failed (every failure state), completed, pending, running, or a state (${TASK_STATES.join(', ').toLowerCase()})` });
}

/** Default group name of a resubmission: `resubmit_YYYYMMDD_HHMMSS` (local time). */
export function defaultGroupName(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `resubmit_${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}_${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

/** A group as `collection groups` lists it. */
export interface GroupSummary {
  name: string;
  /** scheduler jobs (arrays) submitted */
  slurmJobs: number;
  tasks: number;
  firstSubmit?: string;
  lastSubmit?: string;
  extraArgs?: string[];
}

export function summarizeGroups(groups: readonly SubmissionGroup[], countTasks: (indices: string) => number): GroupSummary[] {
  return groups.map((g) => {
    const times = g.submissions.map((s) => s.submittedAt).sort();
    return {
      name: g.name,
      slurmJobs: g.submissions.reduce((n, s) => n + s.jobIds.length, 0),
      tasks: g.submissions.reduce((n, s) => n + countTasks(s.indices), 0),
      ...(times.length ? { firstSubmit: times[0], lastSubmit: times[times.length - 1] } : {}),
      ...(g.extraArgs?.length ? { extraArgs: g.extraArgs } : {}),
    };
  });
}
