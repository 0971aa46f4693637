/**
 * Collections: named sets of jobs that outlive one launch (an experiment), with the submission groups that
 * sent their tasks. Reading one never connects (`list`, `show`, `analyze`, `groups` use the stored states);
 * `update` asks each cluster ONCE for every open task of every job in it (engine/track.ts's refresh).
 */
import { PilotError } from '../model/errors.js';
import {
  INITIAL_GROUP, stateFilter, summarize, summarizeGroups, tasksOfRecord,
  type AttemptMode, type CollectionRecord, type CollectionTask, type GroupSubmission, type GroupSummary, type Summary,
} from '../model/collection.js';
import { expandRanges, rangesInclude } from '../model/ranges.js';
import type { JobRecord } from '../model/record.js';
import { CollectionStore } from '../store/collections.js';
import type { Engine } from './engine.js';
import { refresh } from './track.js';

export const collectionStore = (engine: Engine) => new CollectionStore(engine.home);

const newCollection = (name: string, description?: string): CollectionRecord => ({
  version: 1, name, ...(description ? { description } : {}), createdAt: new Date().toISOString(), jobs: [], groups: [],
});

/** The first attempt of a job as a group submission. */
function firstSubmission(record: JobRecord): GroupSubmission | undefined {
  const a = record.attempts[0];
  return a && { job: record.name, attempt: a.attempt, indices: a.indices, jobIds: a.arrays.map((x) => x.jobId), submittedAt: a.submittedAt };
}

/** Adds submissions to a group of `c` (made when missing). */
export function recordInGroup(c: CollectionRecord, group: string, subs: GroupSubmission[], extraArgs?: string[]): CollectionRecord {
  const groups = [...c.groups];
  const at = groups.findIndex((g) => g.name === group);
  const g = at >= 0 ? groups[at]! : { name: group, createdAt: new Date().toISOString(), ...(extraArgs?.length ? { extraArgs } : {}), submissions: [] };
  const fresh = subs.filter((s) => !g.submissions.some((x) => x.job === s.job && x.attempt === s.attempt));
  const next = { ...g, submissions: [...g.submissions, ...fresh] };
  if (at >= 0) groups[at] = next;
  else groups.push(next);
  return { ...c, groups };
}

/**
 * A launched job joins its collection (made when missing); its first attempt goes to the `initial` group. One
 * line appended to the collection's members log, not a rewrite of its file (store/collection-log.ts).
 */
export async function joinCollection(engine: Engine, name: string | undefined, record: JobRecord): Promise<void> {
  if (!name) return;
  const first = firstSubmission(record);
  await collectionStore(engine).join(name, { job: record.name, ...(first ? { group: INITIAL_GROUP, sub: first } : {}) }, () => newCollection(name));
}

/**
 * A job forgotten (`pilot rm`) leaves every collection that lists it, each under its own lock, so none shows a
 * member that no longer exists. Its submissions stay in the groups (history, as `collection remove` leaves
 * them). A collection that cannot be read or written is named in a warning; the job is gone either way.
 * Returns the collections it left.
 */
export async function leaveCollections(engine: Engine, job: string): Promise<string[]> {
  const store = collectionStore(engine);
  const left: string[] = [];
  for (const name of await store.names()) {
    try {
      if (!(await store.find(name))?.jobs.includes(job)) continue;   // a cheap look first: most do not list it
      const changed = await store.update(name, (c) => (c?.jobs.includes(job) ? { ...c, jobs: c.jobs.filter((j) => j !== job) } : undefined));
      if (changed) left.push(name);
    } catch (err) {
      engine.warn(job, [{ message: `'${job}' was removed but is still listed in collection '${name}': ${(err as Error).message}`, hint: `take it out with \`pilot collection remove ${name} ${job}\`` }]);
    }
  }
  return left;
}

export async function createCollection(engine: Engine, name: string, options: { description?: string } = {}): Promise<CollectionRecord> {
  return collectionStore(engine).update(name, (c) => {
    if (c) throw new PilotError('EXISTS', `a collection named '${name}' already exists`, { hint: `look at it with \`pilot collection show ${name}\`` });
    return newCollection(name, options.description);
  });
}

export async function deleteCollection(engine: Engine, name: string): Promise<{ name: string; jobs: string[] }> {
  const c = await collectionStore(engine).read(name);
  await collectionStore(engine).remove(name);
  return { name, jobs: c.jobs };
}

/** Adds recorded jobs (each must exist) to a collection, made when missing. */
export async function addToCollection(engine: Engine, name: string, jobs: string[]): Promise<CollectionRecord> {
  const records = await Promise.all(jobs.map((j) => engine.store.read(j)));
  return collectionStore(engine).update(name, (c) => {
    let cur = c ?? newCollection(name);
    for (const r of records) {
      if (!cur.jobs.includes(r.name)) cur = { ...cur, jobs: [...cur.jobs, r.name] };
      const first = firstSubmission(r);
      if (first) cur = recordInGroup(cur, INITIAL_GROUP, [first]);
    }
    return cur;
  });
}

/** Takes jobs out of a collection (the jobs themselves stay); a job not in it is BAD_INPUT. */
export async function removeFromCollection(engine: Engine, name: string, jobs: string[]): Promise<CollectionRecord> {
  return collectionStore(engine).update(name, (c) => {
    if (!c) throw new PilotError('NOT_FOUND', `no collection named '${name}'`, { hint: 'see `pilot collection list`' });
    const absent = jobs.filter((j) => !c.jobs.includes(j));
    if (absent.length) throw new PilotError('BAD_INPUT', `not in collection '${name}': ${absent.join(', ')}`, { hint: `its jobs are: ${c.jobs.join(', ') || '(none)'}` });
    return { ...c, jobs: c.jobs.filter((j) => !jobs.includes(j)) };
  });
}

/** The records of a collection's jobs; jobs whose records are gone (deleted by hand; `pilot rm` takes its job out) or unreadable are listed in `missing`. */
export async function membersOf(engine: Engine, c: CollectionRecord): Promise<{ records: JobRecord[]; missing: string[] }> {
  const found = await Promise.all(c.jobs.map((j) => engine.store.find(j).catch((err: unknown) => {
    if (err instanceof PilotError && err.code === 'DAMAGED') return undefined;
    throw err;
  })));
  return { records: found.filter((r): r is JobRecord => r !== undefined), missing: c.jobs.filter((_, i) => !found[i]) };
}

export interface CollectionSummary {
  name: string;
  description?: string;
  createdAt: string;
  jobs: string[];
  /** jobs of the collection whose records are gone or damaged */
  missing: string[];
  /** per normalized state, over each task's latest (or primary) attempt */
  summary: Summary;
  groups: number;
}

export interface CollectionView extends CollectionSummary {
  tasks: CollectionTask[];
  /** set by update when a cluster could not answer: states are the last known ones */
  stale?: string[];
}

export interface ShowOptions {
  /** `latest` (default) or `primary` (each task's first attempt) */
  attemptMode?: AttemptMode;
  /** only tasks in this state or bucket (`failed`, `completed`, `timeout`, …: model/collection.ts's stateFilter) */
  state?: string;
  /** only tasks a submission of this group sent */
  submissionGroup?: string;
}

function view(c: CollectionRecord, records: JobRecord[], missing: string[], options: ShowOptions = {}): CollectionView {
  let tasks = records.flatMap((r) => tasksOfRecord(r, options.attemptMode));
  const summary = summarize(tasks);
  if (options.submissionGroup !== undefined) {
    const g = c.groups.find((x) => x.name === options.submissionGroup);
    if (!g) throw new PilotError('BAD_INPUT', `collection '${c.name}' has no submission group '${options.submissionGroup}'`, { hint: `its groups are: ${c.groups.map((x) => x.name).join(', ') || '(none)'}` });
    tasks = tasks.filter((t) => g.submissions.some((s) => s.job === t.job && rangesInclude(s.indices, t.index)));
  }
  if (options.state !== undefined) {
    const keep = stateFilter(options.state, '--state');
    tasks = tasks.filter((t) => keep(t.state));
  }
  return { name: c.name, ...(c.description ? { description: c.description } : {}), createdAt: c.createdAt, jobs: c.jobs, missing, summary, groups: c.groups.length, tasks };
}

/** One collection and its tasks, from the stored states (connects to nothing). */
export async function showCollection(engine: Engine, name: string, options: ShowOptions = {}): Promise<CollectionView> {
  const c = await collectionStore(engine).read(name);
  const { records, missing } = await membersOf(engine, c);
  return view(c, records, missing, options);
}

/** Every collection with its counts (stored states: `update` refreshes them). */
export async function listCollections(engine: Engine, options: { attemptMode?: AttemptMode } = {}): Promise<CollectionSummary[]> {
  const store = collectionStore(engine);
  return Promise.all((await store.names()).map(async (n) => {
    const c = await store.read(n);
    const { records, missing } = await membersOf(engine, c);
    const { tasks: _t, ...summary } = view(c, records, missing, options);
    return summary;
  }));
}

/** Fresh states for every job of the collection: ONE status call per cluster, whatever the number of jobs. */
export async function updateCollection(engine: Engine, name: string, options: ShowOptions = {}): Promise<CollectionView> {
  const c = await collectionStore(engine).read(name);
  const { records, missing } = await membersOf(engine, c);
  const statuses = await refresh(engine, records);
  const stale = statuses.filter((s) => s.stale).map((s) => `${s.name}: ${s.stale}`);
  const fresh = await Promise.all(records.map((r) => engine.store.read(r.name)));
  return { ...view(c, fresh, missing, options), ...(stale.length ? { stale } : {}) };
}

/** The submission groups of a collection, oldest first: scheduler jobs, tasks, first and last submission. */
export async function collectionGroups(engine: Engine, name: string): Promise<GroupSummary[]> {
  const c = await collectionStore(engine).read(name);
  return summarizeGroups(c.groups, (indices) => expandRanges(indices).length);
}
