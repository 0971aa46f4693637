/**
 * The `collection_final` notification: sent once, by `wait`/`watch` of a member job whose `notify.on` asks for
 * it, when every job of its collection is final with no automatic retry due. Only for a collection named by
 * the job (`collection:` / `--collection`): every job without one joins `default`, whose "all final" moments
 * would say nothing (the launch warns about it; see model/retry.ts automationWarnings).
 *
 * Member states are refreshed with one status call per cluster (as `collection update`). The send is recorded
 * in the collection's record under its lock (`notified.collection_final = { at, jobs }`): at least once, as for
 * job events (notify.ts), and a job added to the collection later re-arms it.
 */
import { failureClass } from '../model/failure.js';
import { DEFAULT_COLLECTION } from '../model/collection.js';
import { dueRetries } from '../model/retry.js';
import type { JobRecord } from '../model/record.js';
import { jobStatus, taskCount, type JobStatus } from '../model/tracking.js';
import { collectionStore, membersOf } from './collections.js';
import type { Engine } from './engine.js';
import { deliver, failedTask } from './notify.js';
import { refresh } from './track.js';

/** What collection_final says: the collection, its jobs, summed counts, failed tasks as `job/index`. */
export function collectionPayload(collection: string, statuses: readonly JobStatus[]) {
  const counts: Record<string, number> = {};
  for (const s of statuses) for (const [state, n] of Object.entries(s.counts)) counts[state] = (counts[state] ?? 0) + (n ?? 0);
  const failed = statuses.flatMap((s) => s.tasks.filter((t) => failureClass(t)).map((t) => ({ task: `${s.name}/${t.index}`, job: s.name, ...failedTask(t) })));
  return {
    event: 'collection_final' as const, collection, jobs: statuses.map((s) => s.name),
    tasks: statuses.reduce((n, s) => n + taskCount(s), 0), counts, failed, sentAt: new Date().toISOString(),
  };
}

const settled = (record: JobRecord, status: JobStatus) => status.done && !status.stale && !status.pending && !dueRetries(record).length;

/** Sends collection_final for the collection of job `name` when it is due; true when it was sent now. */
export async function sendCollectionDue(engine: Engine, name: string): Promise<boolean> {
  const record = await engine.store.read(name);
  const cfg = record.info.notify;
  const collection = record.info.collection;
  if (!cfg?.on.includes('collection_final') || !collection || collection === DEFAULT_COLLECTION) return false;
  const store = collectionStore(engine);
  const c = await store.find(collection);
  const sentFor = (jobs: string[], to?: { jobs: string[] }) => Boolean(to) && jobs.every((j) => to!.jobs.includes(j));
  if (!c || !c.jobs.includes(name) || sentFor(c.jobs, c.notified?.collection_final)) return false;
  const { records } = await membersOf(engine, c);
  // a member known final needs no question; the others are asked, one status call per cluster
  const open = records.filter((r) => !settled(r, jobStatus(r)));
  if (open.some((r) => dueRetries(r).length)) return false;   // its own wait/watch retries it first
  const refreshed = await refresh(engine, open);
  if (refreshed.some((s) => !s.done || s.stale)) return false;
  const fresh = await Promise.all(records.map((r) => engine.store.read(r.name)));
  if (!fresh.every((r) => settled(r, jobStatus(r)))) return false;
  let sent = false;
  await store.update(collection, async (cur) => {
    if (!cur || sentFor(cur.jobs, cur.notified?.collection_final)) return undefined;   // another watcher sent it
    const jobs = fresh.filter((r) => cur.jobs.includes(r.name));
    try {
      await deliver(cfg, JSON.stringify(collectionPayload(collection, jobs.map((r) => jobStatus(r)))), 'collection_final', name, { PILOT_COLLECTION: collection });
    } catch (err) {
      engine.warn(name, [{ message: `the collection_final notification of collection '${collection}' was not delivered: ${(err as Error).message}`, hint: 'the next `pilot wait`/`pilot watch` of one of its jobs tries again' }]);
      return undefined;
    }
    sent = true;
    // every name of the collection, also of a job whose record is gone, so that it does not re-arm the event
    return { ...cur, notified: { ...cur.notified, collection_final: { at: new Date().toISOString(), jobs: cur.jobs } } };
  });
  return sent;
}
