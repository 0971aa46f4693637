/**
 * Pure lookups over a job record's attempts: which submission ran a task, and where its logs are.
 * An attempt may hold several arrays (split at MaxArraySize): task t sits in the chunk with offset
 * floor((t-1)/chunkSize)*chunkSize, as array index t - offset.
 */
import { posix } from 'node:path';
import { compressRanges, expandRanges, rangesInclude } from './ranges.js';
import type { ArraySubmission, JobRecord, TaskStatus } from './record.js';

/** The array submission of `attempt` that ran task `task`, if that attempt included it. */
export function arrayFor(record: JobRecord, task: number, attempt: number): ArraySubmission | undefined {
  const a = record.attempts.find((x) => x.attempt === attempt);
  if (!a || !rangesInclude(a.indices, task)) return undefined;
  const offset = chunkOffset(record, task);
  return a.arrays.find((x) => x.offset === offset);
}

/** The newest attempt that included `task`, with its array submission. */
export function latestArrayFor(record: JobRecord, task: number): { attempt: number; array: ArraySubmission } | undefined {
  for (let i = record.attempts.length - 1; i >= 0; i--) {
    const attempt = record.attempts[i]!.attempt;
    const array = arrayFor(record, task, attempt);
    if (array) return { attempt, array };
  }
  return undefined;
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
  const open: number[] = [];
  for (let t = 1; t <= record.tasks; t++) if (!record.finalStates[t]) open.push(t);
  return open;
}

/** The remote root a job lives in (`<root>/jobs/<folder>`): restarts find bundles next to the job's folder. */
export function remoteRoot(record: Pick<JobRecord, 'remote'>): string {
  return posix.dirname(posix.dirname(record.remote.jobDir));
}

/** The offset of the split array that holds task t (arrays hold chunkSize tasks each). */
export function chunkOffset(record: Pick<JobRecord, 'chunkSize'>, task: number): number {
  return Math.floor((task - 1) / record.chunkSize) * record.chunkSize;
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
  const sent = new Set(arrays.map((a) => a.offset));
  const tasks = expandRanges(pending.indices);
  const covered = new Set(tasks.filter((t) => sent.has(chunkOffset(record, t))));
  const finalStates = { ...record.finalStates };
  const lastKnown: Record<string, TaskStatus> = { ...(record.lastKnown ?? {}) };
  const history = { ...(record.history ?? {}) };
  for (const t of tasks) {
    const earlier = finalStates[t];
    if (earlier && covered.has(t)) history[t] = [...(history[t] ?? []), earlier];
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
    ? [...record.attempts, { attempt: pending.attempt, submittedAt: pending.startedAt, indices: compressRanges(covered), arrays, ...(pending.bundle ? { bundle: pending.bundle } : {}), ...(pending.resources ? { resources: pending.resources } : {}) }]
    : record.attempts;
  const { pending: _done, ...rest } = record;
  return { ...rest, attempts, finalStates, lastKnown, ...(Object.keys(history).length ? { history } : {}) };
}
