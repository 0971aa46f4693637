/**
 * The members log of a collection: `$PILOT_HOME/collections/<name>.members.log`, beside `<name>.json`.
 *
 * Why: every launch joins a collection (`default` when it names none). Rewriting the whole collection file for
 * that made each launch O(jobs in the collection) in bytes written (20 000 jobs: a 4.5 MB file, ~50 ms per
 * launch). A join now appends ONE line here, under the collection's lock; reading the collection folds the log
 * into the file's record, and any full rewrite (CollectionStore.update) writes the folded record and deletes the
 * log (compaction). A join also compacts once the log has grown as large as the file, so the log never costs a
 * reader more than the file itself, and the bytes written per join stay constant on average.
 *
 * Crash safety: a line is one `write` ending in a newline; a torn last line does not parse and is ignored (the
 * next append starts a new line first). A compaction writes the file atomically with `foldedLog`, the id of
 * the last log line it folded, BEFORE deleting the log: killed in between, readers skip the lines up to that id
 * instead of folding them again (a job removed by that rewrite must not come back). Ids are random, so a log
 * made anew after the deletion never matches an old mark.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import type { CollectionRecord, GroupSubmission } from '../model/collection.js';
import { JOB_NAME_RE } from '../model/record-check.js';

/** One join: the job, and the submission it records in a group (the launch's first attempt, in `initial`). */
export interface MemberEntry {
  job: string;
  group?: string;
  sub?: GroupSubmission;
}

export interface LogLine extends MemberEntry {
  id: string;
}

export const logFile = (collectionFile: string) => collectionFile.replace(/\.json$/, '.members.log');

/** Appends one entry (the caller holds the collection's lock); returns the log's size after it, in bytes. */
export async function appendMember(file: string, entry: MemberEntry): Promise<number> {
  const fh = await open(file, 'a+');
  try {
    const { size } = await fh.stat();
    let lead = '';
    if (size > 0) {
      // a torn last line (a writer killed mid-line) must not swallow this one
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) lead = '\n';
    }
    const line: LogLine = { id: randomBytes(6).toString('hex'), ...entry };
    const text = `${lead}${JSON.stringify(line)}\n`;
    await fh.appendFile(text);
    return size + Buffer.byteLength(text);
  } finally {
    await fh.close();
  }
}

function parseLine(text: string): LogLine | undefined {
  try {
    const l = JSON.parse(text) as LogLine;
    if (typeof l !== 'object' || l === null || typeof l.id !== 'string' || typeof l.job !== 'string' || !JOB_NAME_RE.test(l.job)) return undefined;
    if (l.sub !== undefined && (typeof l.group !== 'string' || typeof l.sub !== 'object' || l.sub === null || typeof l.sub.attempt !== 'number' || typeof l.sub.indices !== 'string')) return undefined;
    return l;
  } catch {
    return undefined;   // a torn or damaged line: that join is lost, never the collection
  }
}

/** The log's complete lines (a torn or damaged one left out), oldest first; none when there is no log. */
export async function readLog(file: string): Promise<LogLine[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text.split('\n').map(parseLine).filter((l): l is LogLine => l !== undefined);
}

/** The entries a file marked `folded` does not hold yet: those after that line (all of them when the log lacks it). */
export function unfolded(lines: readonly LogLine[], folded?: string): MemberEntry[] {
  const mark = folded === undefined ? -1 : lines.findIndex((l) => l.id === folded);
  return lines.slice(mark + 1).map(({ id: _id, ...e }) => e);
}

/** The record with the log's entries folded in: jobs in the order they joined, each once; submissions once per (job, attempt). */
export function foldMembers(record: CollectionRecord, entries: readonly MemberEntry[]): CollectionRecord {
  if (!entries.length) return record;
  const jobs = [...record.jobs];
  const seen = new Set(jobs);
  const groups = record.groups.map((g) => ({ ...g, submissions: [...g.submissions] }));
  const keys = new Map<string, Set<string>>();
  const keysOf = (g: CollectionRecord['groups'][number]) => {
    let k = keys.get(g.name);
    if (!k) keys.set(g.name, (k = new Set(g.submissions.map((s) => `${s.job}\0${s.attempt}`))));
    return k;
  };
  for (const e of entries) {
    if (!seen.has(e.job)) {
      seen.add(e.job);
      jobs.push(e.job);
    }
    if (!e.sub || !e.group) continue;
    let g = groups.find((x) => x.name === e.group);
    if (!g) groups.push((g = { name: e.group, createdAt: e.sub.submittedAt, submissions: [] }));
    const k = keysOf(g);
    const key = `${e.sub.job}\0${e.sub.attempt}`;
    if (k.has(key)) continue;
    k.add(key);
    g.submissions.push(e.sub);
  }
  return { ...record, jobs, groups };
}
