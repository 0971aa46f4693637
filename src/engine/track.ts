/**
 * Tracking: ONE remote command per cluster for every open task of the jobs asked about, lag-safe merging into
 * the records (final states stored, never asked again), stale marking when a cluster cannot answer, events
 * for every task whose state changed, and waiting with backoff.
 */
import { PilotError } from '../model/errors.js';
import type { JobRecord, TaskStatus } from '../model/record.js';
import { applyObservations, jobStatus, openTasks, type JobStatus } from '../model/tracking.js';
import type { DamagedRecord } from '../store/store.js';
import { pollUntil } from '../util/poll.js';
import type { Engine } from './engine.js';
import { pendingNote, settle } from './submission.js';

/** Asks each cluster once about every open task of `records`, stores what it learned. `locked`: the caller holds the jobs' locks. */
export async function refresh(engine: Engine, records: JobRecord[], options: { locked?: boolean } = {}): Promise<JobStatus[]> {
  const byCluster = new Map<string, JobRecord[]>();
  for (const r of records) {
    if (openTasks(r).length) (byCluster.get(r.cluster) ?? byCluster.set(r.cluster, []).get(r.cluster)!).push(r);
  }
  const observed = new Map<string, Map<number, TaskStatus>>();
  const stale = new Map<string, string>();
  await Promise.all([...byCluster.entries()].map(async ([clusterName, recs]) => {
    try {
      const result = await (await engine.backendFor(clusterName)).observe(recs);
      for (const [name, tasks] of result.states) observed.set(name, tasks);
      if (result.warning) for (const r of recs) stale.set(r.name, result.warning);
    } catch (err) {
      // only an unreachable cluster makes states stale; a bug must surface, not hide as "stale"
      if (!(err instanceof PilotError) || err.code === 'INTERNAL') throw err;
      for (const r of recs) stale.set(r.name, err.message);
    }
  }));
  return Promise.all(records.map(async (r) => {
    const fresh = observed.get(r.name);
    const apply = (cur: JobRecord) => applyObservations(cur, fresh!);
    let updated = r;
    if (fresh && options.locked) await engine.store.write((updated = apply(await engine.store.read(r.name))));
    else if (fresh) updated = await engine.store.update(r.name, apply);
    const status: JobStatus = { ...jobStatus(updated, stale.get(r.name)), ...(updated.pending ? { pending: pendingNote(updated) } : {}) };
    announce(engine, jobStatus(r), status);
    return status;
  }));
}

/** Emits taskChanged for every task whose state differs from the record's before, and jobFinished. */
function announce(engine: Engine, before: JobStatus, after: JobStatus): void {
  for (const task of after.tasks) {
    const was = before.tasks[task.index - 1];
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
  /**
   * Called once for each record that cannot be read (truncated, edited by hand, written by a newer pilot),
   * which `list()` leaves out; `error` is a DAMAGED PilotError naming the file, with a hint saying what to do.
   */
  onDamaged?: (damaged: DamagedRecord) => void;
}

export async function listAll(engine: Engine, options: ListOptions = {}): Promise<JobStatus[]> {
  const { records: read, damaged } = await engine.store.readAll();
  for (const d of damaged) options.onDamaged?.(d);
  const settled = await Promise.all(read.map((r) => settle(engine, r).catch((err: unknown) => {
    if (err instanceof PilotError && err.code === 'NOT_FOUND') return undefined; // a launch that never happened
    throw err;
  })));
  const records = settled.filter((r): r is JobRecord => r !== undefined);
  records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  return refresh(engine, records);
}

export interface WaitOptions {
  timeoutMs?: number;
  onProgress?: (status: JobStatus) => void;
  minIntervalMs?: number;
  maxIntervalMs?: number;
}

export async function waitFor(engine: Engine, name: string, options: WaitOptions = {}): Promise<JobStatus> {
  // asking the local backend costs a few file reads, asking Slurm a round trip and a sacct query
  const local = (await engine.store.read(name)).backend === 'local';
  return pollUntil(async () => {
    const [status] = await statusOf(engine, [name]);
    options.onProgress?.(status!);
    return status!;
  }, (s) => s.done, {
    minMs: options.minIntervalMs ?? (local ? 200 : 1000),
    maxMs: options.maxIntervalMs ?? (local ? 2000 : 30_000),
    timeoutMs: options.timeoutMs,
    onTimeout: (status, ms) => new PilotError('TIMEOUT', `job '${name}' is not finished after ${Math.round(ms / 1000)} s: ${Object.entries(status.counts).map(([s, n]) => `${n} ${s}`).join(', ')}`, {
      hint: `it keeps running; look again with \`pilot status ${name}\` or \`pilot wait ${name}\``,
    }),
  });
}
