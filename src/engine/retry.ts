/**
 * Automatic retries and notifications after each look at a job (`wait`, `watch`): new attempts of only the
 * final tasks whose failure class the job retries (model/retry.ts decides), then, once nothing is due, the
 * notifications. The decision is made again inside the job's lock from the record's attempts, so two
 * watchers at once never submit a task twice nor past maxRetries.
 */
import { stuckOnDependency } from '../model/dependencies.js';
import { dueRetries } from '../model/retry.js';
import { jobStatus, type JobStatus } from '../model/tracking.js';
import type { Engine } from './engine.js';
import { sendDue } from './notify.js';
import { sendCollectionDue } from './notify-collection.js';
import { submitAttempt } from './restart.js';
import { updateDependents } from './dependents.js';
import { refresh, statusOf } from './track.js';
import { cancelNeverSatisfiable } from './unsatisfiable.js';

/** Submits the retries due for `name`; returns the task numbers resubmitted. */
export async function retryDue(engine: Engine, name: string): Promise<number[]> {
  const { store } = engine;
  if (!dueRetries(await store.read(name)).length) return [];   // the common case costs no lock
  return store.withLock(name, async () => {
    const [status] = await refresh(engine, [await store.read(name)], { locked: true });
    if (status!.stale || status!.pending) return [];   // unknown states: decide on the next look
    const done: number[] = [];
    for (const group of dueRetries(await store.read(name))) {
      const record = await store.read(name);
      await submitAttempt(engine, record, group.indices, { resources: group.resources });
      engine.events.emit('retried', { name, attempt: record.attempts.length + 1, indices: group.indices, resources: group.resources });
      done.push(...group.indices);
    }
    // the jobs that wait for this one (after:) still point at the arrays whose tasks were just retried
    if (done.length) await updateDependents(engine, await store.read(name));
    return done;
  });
}

/** What follows a look at a job: its retries, then its notifications; the status as it is afterwards. */
export async function automate(engine: Engine, status: JobStatus): Promise<JobStatus> {
  const { name } = status;
  if (status.stale || status.pending) return status;
  const info = (await engine.store.read(name)).info;
  if (!info.maxRetries && !info.notify) return status;
  const retried = await retryDue(engine, name);
  if (retried.length) return jobStatus(await engine.store.read(name));
  if (status.done) {
    await sendDue(engine, name);
    if (info.notify?.on.includes('collection_final')) await sendCollectionDue(engine, name);
  }
  return status;
}

export interface WatchOptions {
  /** One pass (a cron job): look, retry, notify, return. */
  once?: boolean;
  /** Pause between passes (default 30 s; 1 s for the local backend). */
  intervalMs?: number;
  /** Called after each pass with every job's status. */
  onPass?: (statuses: JobStatus[]) => void;
  /**
   * When the watch ends with jobs whose tasks can never start (a dependency that can never be satisfied):
   * cancel those tasks and send the final status's notifications. `onUnsatisfiable` sees them first.
   * @example { cancelUnsatisfiable: true }
   */
  cancelUnsatisfiable?: boolean;
  onUnsatisfiable?: (stuck: JobStatus[]) => void;
}

/**
 * Looks at `names` (one remote command per cluster), retries and notifies, until every job is final with no
 * retry due or pending for ever on a dependency that can never be satisfied (or after one pass with `once`).
 * Returns the last statuses.
 */
export async function watch(engine: Engine, names: string[], options: WatchOptions = {}): Promise<JobStatus[]> {
  const local = (await Promise.all(names.map((n) => engine.store.read(n)))).every((r) => r.backend === 'local');
  for (;;) {
    const statuses: JobStatus[] = [];
    for (const s of await statusOf(engine, names)) statuses.push(await automate(engine, s));
    options.onPass?.(statuses);
    // a job pending for ever on a dependency never satisfied: watching longer cannot change anything
    if (options.once || statuses.every((s) => s.done || stuckOnDependency(s))) {
      const stuck = statuses.filter((s) => !s.done && stuckOnDependency(s));
      if (!stuck.length || !options.cancelUnsatisfiable) return statuses;
      options.onUnsatisfiable?.(stuck);
      const cancelled = await cancelNeverSatisfiable(engine, statuses);
      return Promise.all(cancelled.map((s) => (stuck.some((x) => x.name === s.name) ? automate(engine, s) : s)));
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? (local ? 1000 : 30_000)));
  }
}
