/**
 * Pure lookups over a job record's attempts: which submission ran a task, and where its logs are.
 * An attempt may hold several arrays (split at MaxArraySize): task t sits in the chunk with offset
 * floor((t-base)/chunkSize)*chunkSize, as array index t - offset (base = arrayBase, 1 unless 0 was asked for).
 */
import { posix } from 'node:path';
import { compressRanges, expandRanges, rangesInclude } from './ranges.js';
import type { ArraySubmission, JobRecord, TaskStatus } from './record.js';
import { arrayBaseOf, taskNumbers } from './job.js';

/** The array submission of `attempt` that ran task `task`, if that attempt included it. */
export function arrayFor(record: JobRecord, task: number, attempt: number): ArraySubmission | undefined {
  const a = record.attempts.find((x) => x.attempt === attempt);
  if (!a || !rangesInclude(a.indices, task)) return undefined;
  return a.arrays.find((x) => holds(record, x, task));
}

/** Whether array `x` holds task `task`: by its stored task list when it has one, else by its chunk offset. */
function holds(record: Pick<JobRecord, 'chunkSize' | 'info'>, x: Pick<ArraySubmission, 'offset' | 'tasks'>, task: number): boolean {
  return x.tasks !== undefined ? rangesInclude(x.tasks, task) : x.offset === chunkOffset(record, task);
}

/**
 * The newest attempt that ran `task`, with its array submission, found by searching the attempts newest first:
 * what latestArrayFor answers, for ONE task without the table of all of them (which a 100 000-task record
 * takes ~10 ms to build): `pilot logs NAME/I` asks it once.
 */
export function newestArrayFor(record: Pick<JobRecord, 'attempts' | 'chunkSize' | 'info'>, task: number): { attempt: number; array: ArraySubmission } | undefined {
  for (let i = record.attempts.length - 1; i >= 0; i--) {
    const a = record.attempts[i]!;
    const array = rangesInclude(a.indices, task) ? a.arrays.find((x) => holds(record, x, task)) : undefined;
    if (array) return { attempt: a.attempt, array };
  }
  return undefined;
}

/** The newest attempt that included `task`, with its array submission (newestArrayFor, from a table kept per record). */
export function latestArrayFor(record: JobRecord, task: number): { attempt: number; array: ArraySubmission } | undefined {
  const table = latestTable(record);
  const code = table.codes[task - table.base];
  if (code === undefined || code < 0) return undefined;
  const { attempt, array } = table.slots[code]!;
  return { attempt, array };
}

/**
 * Which (attempt, array) last ran each task, for every task at once: built in one pass over the attempts'
 * task lists and kept while the record's attempts stay the same (records are replaced, not changed in place;
 * an attempt pushed onto the same list is noticed all the same). A status call of a 100 000-task job asks
 * for every open task, several times; searching the attempts and parsing their ranges per task cost about a
 * microsecond each time.
 */
interface LatestTable {
  /** task number of codes[0] (the job's arrayBase) */
  base: number;
  /** per task (index task - base): its slot in `slots`, -1 when no attempt holds it */
  codes: Int32Array;
  slots: { attempt: number; array: ArraySubmission }[];
  /** how many attempts it was made from (an attempt pushed onto the same list makes it out of date) */
  attempts: number;
}

const latestTables = new WeakMap<JobRecord['attempts'], LatestTable>();

function latestTable(record: JobRecord): LatestTable {
  const known = latestTables.get(record.attempts);
  if (known && known.codes.length === record.tasks && known.attempts === record.attempts.length) return known;
  const base = arrayBaseOf(record.info);
  const codes = new Int32Array(record.tasks).fill(-1);
  const slots: LatestTable['slots'] = [];
  // oldest first: a later attempt's array overwrites what an earlier one ran
  for (const a of record.attempts) {
    const first = slots.length;
    for (const array of a.arrays) slots.push({ attempt: a.attempt, array });
    // the usual attempt: arrays found by chunk offset alone; with task lists (a sweep's resource sets), the
    // first array that holds the task, as arrayFor finds it
    const byOffset = a.arrays.some((x) => x.tasks !== undefined) ? undefined : new Map<number, number>();
    a.arrays.forEach((x, k) => { if (byOffset && !byOffset.has(x.offset)) byOffset.set(x.offset, first + k); });
    for (const t of expandRanges(a.indices)) {
      const i = t - base;
      if (i < 0 || i >= codes.length) continue;
      const k = byOffset ? byOffset.get(chunkOffset(record, t)) : first + a.arrays.findIndex((x) => holds(record, x, t));
      if (k !== undefined && k >= first) codes[i] = k;
    }
  }
  const table = { base, codes, slots, attempts: record.attempts.length };
  latestTables.set(record.attempts, table);
  return table;
}

/** Log file of a task relative to the job folder: logs/<array job id>_<array index>.out|.err */
export function logPath(record: JobRecord, task: number, attempt: number, stream: 'out' | 'err'): string | undefined {
  const array = arrayFor(record, task, attempt);
  return array ? `logs/${array.jobId}_${task - array.offset}.${stream}` : undefined;
}

/** sha256 of the bundle the job's newest attempt ran: what a restart runs unless it ships a new one. */
export function currentBundle(record: Pick<JobRecord, 'attempts' | 'bundle'>): string {
  for (let i = record.attempts.length - 1; i >= 0; i--) {
    const sha = record.attempts[i]!.bundle;
    if (sha) return sha;
  }
  return record.bundle.sha256;
}

/** Task numbers whose state is not final yet (the only ones worth asking the scheduler about). */
export function openTasks(record: JobRecord): number[] {
  return taskNumbersOf(record).filter((t) => !record.finalStates[t]);
}

/** Every task number of a recorded job (1..N, or 0..N-1 with arrayBase 0). */
export function taskNumbersOf(record: Pick<JobRecord, 'tasks' | 'info'>): number[] {
  return taskNumbers(record.tasks, record.info);
}

/** The remote root a job lives in (`<root>/jobs/<folder>`): restarts find bundles next to the job's folder. */
export function remoteRoot(record: Pick<JobRecord, 'remote'>): string {
  return posix.dirname(posix.dirname(record.remote.jobDir));
}

/** The offset of the split array that holds task t (arrays hold chunkSize tasks each). */
export function chunkOffset(record: Pick<JobRecord, 'chunkSize'> & { info?: { arrayBase?: 0 | 1 } }, task: number): number {
  return Math.floor((task - arrayBaseOf(record.info)) / record.chunkSize) * record.chunkSize;
}

/**
 * The record once its pending submission is known to have reached the scheduler as `arrays`: a new attempt
 * whose tasks start over as PENDING. Tasks of arrays that were planned but never submitted (the shell died
 * between two sbatch calls) are recorded as CANCELLED with the reason, so `restart-failed --states
 * CANCELLED` can send them; nothing is left waiting for ever.
 */
export function adoptSubmission(record: JobRecord, arrays: ArraySubmission[]): JobRecord {
  const pending = record.pending;
  if (!pending) return record;
  // an array gets its planned task list and resources: the plan of the same spec, else the k-th (sent in order)
  arrays = arrays.map((a, k) => {
    const plan = pending.planned.find((p) => p.offset === a.offset && p.spec === a.arraySpec) ?? pending.planned[k];
    return plan && plan.offset === a.offset && plan.tasks !== undefined ? { ...a, tasks: plan.tasks, ...(plan.resources ? { resources: plan.resources } : {}) } : a;
  });
  const tasks = expandRanges(pending.indices);
  const covered = new Set(tasks.filter((t) => arrays.some((a) => holds(record, a, t))));
  const finalStates = { ...record.finalStates };
  const lastKnown: Record<string, TaskStatus> = { ...(record.lastKnown ?? {}) };
  // the replaced attempts' final states stay readable (collections: history, --attempt-mode primary)
  const history: Record<string, TaskStatus[]> = { ...(record.history ?? {}) };
  for (const t of tasks) {
    if (finalStates[t] && covered.has(t)) history[t] = [...(history[t] ?? []), finalStates[t]!];
    delete finalStates[t];
    delete lastKnown[t];
    // a restarted task is PENDING again until seen; a first launch stays unknown until the scheduler is asked
    // (a task purged before anyone looked must show as UNKNOWN, never as waiting for ever)
    if (covered.has(t) && pending.attempt > 1) lastKnown[t] = { index: t, state: 'PENDING', exitCode: null, attempt: pending.attempt };
  }
  for (const t of tasks.filter((x) => !covered.has(x))) {
    finalStates[t] = { index: t, state: 'CANCELLED', exitCode: null, attempt: Math.max(1, pending.attempt - 1), reason: 'not submitted: the submission was cut off' };
  }
  const attempts = covered.size
    ? [...record.attempts, { attempt: pending.attempt, submittedAt: pending.startedAt, indices: compressRanges(covered), arrays, ...(pending.bundle ? { bundle: pending.bundle } : {}), ...(pending.resources ? { resources: pending.resources } : {}), ...(pending.extraArgs?.length ? { extraArgs: pending.extraArgs } : {}), ...(pending.group ? { group: pending.group } : {}) }]
    : record.attempts;
  const { pending: _done, ...rest } = record;
  return { ...rest, attempts, finalStates, lastKnown, ...(Object.keys(history).length ? { history } : {}) };
}
