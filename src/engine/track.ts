/**
 * Tracking: ONE remote command per cluster for every open task of the jobs asked about, lag-safe merging into
 * the records (final states stored, never asked again), stale marking when a cluster cannot answer, events
 * for every task whose state changed, and waiting with backoff.
 */
import { stuckOnDependency } from '../model/dependencies.js';
import { PilotError } from '../model/errors.js';
import type { JobRecord, TaskStatus } from '../model/record.js';
import { unreadFailures } from '../model/last-error.js';
import { applyObservations, jobStatus, openTasks, type JobStatus, type ReadTails } from '../model/tracking.js';
import type { DamagedRecord } from '../store/store.js';
import { pollUntil } from '../util/poll.js';
import type { Engine } from './engine.js';
import { recordsNewestFirst } from './refs.js';
import { pendingNote, settle } from './submission.js';

/**
 * Asks each cluster once about every open task of `records`, stores what it learned. `locked`: the caller holds
 * the jobs' locks. A finished job is asked about again only for failures whose last stderr line was never read
 * (records older than that field, more failures than one call reads), and not with `openOnly` (`list`, which
 * shows no such line: a long list must not connect to clusters only for old jobs).
 */
export async function refresh(engine: Engine, records: JobRecord[], options: { locked?: boolean; openOnly?: boolean } = {}): Promise<JobStatus[]> {
  const byCluster = new Map<string, JobRecord[]>();
  for (const r of records) {
    if (openTasks(r).length || (!options.openOnly && unreadFailures(r).length)) (byCluster.get(r.cluster) ?? byCluster.set(r.cluster, []).get(r.cluster)!).push(r);
  }
  const observed = new Map<string, Map<number, TaskStatus>>();
  const tails: ReadTails = new Map();
  const stale = new Map<string, string>();
  // only states can be stale: a job whose tasks are all final lacks at most a few stderr lines
  const markStale = (recs: JobRecord[], why: string) => { for (const r of recs) if (openTasks(r).length) stale.set(r.name, why); };
  await Promise.all([...byCluster.entries()].map(async ([clusterName, recs]) => {
    try {
      const result = await (await engine.backendFor(clusterName)).observe(recs);
      for (const [name, tasks] of result.states) observed.set(name, tasks);
      for (const [name, read] of result.tails ?? []) tails.set(name, read);
      if (result.warning) markStale(recs, result.warning);
    } catch (err) {
      // only an unreachable cluster makes states stale; a bug must surface, not hide as "stale"
      if (!(err instanceof PilotError) || err.code === 'INTERNAL') throw err;
      markStale(recs, err.message);
    }
  }));
  // the states before this look, only when someone listens for changes: at 100 000 tasks every view of the job
  // costs a pass over all of them (bench/replay-scale.ts)
  const listening = engine.events.has('taskChanged') || engine.events.has('jobFinished');
  return Promise.all(records.map(async (r) => {
    const fresh = observed.get(r.name);
    let updated = r;
    if (fresh) {
      // read again under the lock (another process may have written meanwhile); written only when the look
      // changed something: polling a long job whose states did not move rewrites nothing (at 100 000 tasks the
      // record is megabytes)
      const store = async () => {
        const cur = await engine.store.reread(r);
        const next = applyObservations(cur, fresh, tails.get(r.name));
        if (next !== cur) await engine.store.write(next);
        return next;
      };
      updated = options.locked ? await store() : await engine.store.withLock(r.name, store);
    }
    // added, not spread: a spread would build every task's view (jobStatus builds them when first read)
    const status = jobStatus(updated, stale.get(r.name));
    if (updated.pending) status.pending = pendingNote(updated);
    if (listening) announce(engine, jobStatus(r), status);
    return status;
  }));
}

/** Emits taskChanged for every task whose state differs from the record's before, and jobFinished. */
function announce(engine: Engine, before: JobStatus, after: JobStatus): void {
  // looked up by task number, not searched: a search per task made one status call of a 100 000-task job
  // cost 10^10 comparisons (minutes of CPU; bench/replay-scale.ts measures it)
  const was0 = new Map(before.tasks.map((t) => [t.index, t]));
  for (const task of after.tasks) {
    const was = was0.get(task.index);
    if (was?.state !== task.state || was.attempt !== task.attempt) {
      engine.events.emit('taskChanged', { name: after.name, index: task.index, attempt: task.attempt, from: was?.state, to: task.state });
    }
  }
  if (after.done && !before.done) engine.events.emit('jobFinished', { status: after });
}

export async function statusOf(engine: Engine, names: string[]): Promise<JobStatus[]> {
  return refresh(engine, await Promise.all(names.map((n) => engine.load(n))));
}

export interface ListOptions {
  /** Only the N newest jobs (only those are asked about). */
  last?: number;
  /** Jobs whose tasks have all finished are not asked about again, not even for a failure's stderr line never read. */
  openOnly?: boolean;
  /**
   * Called once for each record that cannot be read (truncated, edited by hand, written by a newer pilot),
   * which `list()` leaves out; `error` is a DAMAGED PilotError naming the file, with a hint saying what to do.
   */
  onDamaged?: (damaged: DamagedRecord) => void;
}

/** Every readable recorded job, newest first; damaged records are reported through `onDamaged` and left out. */
export async function listAll(engine: Engine, options: ListOptions = {}): Promise<JobStatus[]> {
  const newest = await recordsNewestFirst(engine.store, options.onDamaged);
  const chosen = options.last === undefined ? newest : newest.slice(0, options.last);
  const settled = await Promise.all(chosen.map((r) => settle(engine, r).catch((err: unknown) => {
    if (err instanceof PilotError && err.code === 'NOT_FOUND') return undefined; // a launch that never happened
    throw err;
  })));
  return refresh(engine, settled.filter((r): r is JobRecord => r !== undefined), { openOnly: options.openOnly });
}

export interface WaitOptions {
  timeoutMs?: number;
  onProgress?: (status: JobStatus) => void;
  minIntervalMs?: number;
  maxIntervalMs?: number;
  /**
   * When the wait ends on tasks that can never start (a dependency that can never be satisfied), cancel them
   * and return the final status (its notifications sent). `onUnsatisfiable` sees the stuck status first.
   * @example { cancelUnsatisfiable: true, onUnsatisfiable: (s) => console.warn(`${s.name}: cancelling`) }
   */
  cancelUnsatisfiable?: boolean;
  onUnsatisfiable?: (status: JobStatus) => void;
}

/** `after`: what follows each look (automatic retries and notifications: engine/retry.ts). */
export async function waitFor(engine: Engine, name: string, options: WaitOptions = {}, after?: (s: JobStatus) => Promise<JobStatus>): Promise<JobStatus> {
  // asking the local backend costs a few file reads, asking Slurm a round trip and a sacct query
  const local = (await engine.store.read(name)).backend === 'local';
  const last = await pollUntil(async () => {
    const [looked] = await statusOf(engine, [name]);
    const status = after ? await after(looked!) : looked!;
    options.onProgress?.(status);
    return status;
  }, (s) => s.done || stuckOnDependency(s), {   // never-met dependency: pending for ever, waiting changes nothing
    minMs: options.minIntervalMs ?? (local ? 200 : 1000),
    maxMs: options.maxIntervalMs ?? (local ? 2000 : 30_000),
    timeoutMs: options.timeoutMs,
    onTimeout: (status, ms) => new PilotError('TIMEOUT', `job '${name}' is not finished after ${Math.round(ms / 1000)} s: ${Object.entries(status.counts).map(([s, n]) => `${n} ${s}`).join(', ')}`, {
      hint: `it keeps running; look again with \`pilot status ${name}\` or \`pilot wait ${name}\``,
    }),
  });
  if (last.done || !stuckOnDependency(last) || !options.cancelUnsatisfiable) return last;
  options.onUnsatisfiable?.(last);
  const { cancelNeverSatisfiable } = await import('./unsatisfiable.js');
  const [cancelled] = await cancelNeverSatisfiable(engine, [last]);
  return after ? after(cancelled!) : cancelled!;
}
