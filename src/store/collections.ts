/**
 * Collections on disk: `$PILOT_HOME/collections/<name>.json`, written atomically (temp + rename) under a lock
 * file per collection, with the same helpers job records use, so two `pilot` processes adding jobs or
 * recording resubmissions at once never lose one another's change. A launch joining one appends a line to its
 * members log instead of rewriting the file (collection-log.ts says why and how the two stay consistent).
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectionRecord } from '../model/collection.js';
import { PilotError } from '../model/errors.js';
import { JOB_NAME_RE } from '../model/record-check.js';
import { appendMember, foldMembers, logFile, readLog, unfolded, type MemberEntry } from './collection-log.js';
import { LockBusyError, makeDirs, sweepTemps, withFileLock, writeJsonAtomic } from '../util/files.js';
import { ensureHome, homeError } from './home.js';

export class CollectionStore {
  constructor(readonly home: string) {}

  get dir(): string {
    return join(this.home, 'collections');
  }

  private file(name: string): string {
    if (!JOB_NAME_RE.test(name)) {
      throw new PilotError('BAD_INPUT', `'${name}' is not a collection name`, { hint: 'use 1-100 letters, digits, . _ - (starting with a letter or digit)' });
    }
    return join(this.dir, `${name}.json`);
  }

  /** The collection (its members log folded in), or undefined when there is none. */
  async find(name: string): Promise<CollectionRecord | undefined> {
    return (await this.load(name))?.record;
  }

  /** The record as stored plus its members log, and the id of the log's last line (what a rewrite has folded). */
  private async load(name: string): Promise<{ record: CollectionRecord; lastId?: string } | undefined> {
    const file = this.file(name);
    // the log BEFORE the file: a rewrite in between leaves a file whose mark this log holds (nothing is lost,
    // nothing it removed comes back); the other way round, the joins it folded and deleted would be missed
    const lines = await readLog(logFile(file)).catch(async (err: unknown) => { throw await homeError(err, this.home); });
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw await homeError(err, this.home);
    }
    let stored: CollectionRecord & { foldedLog?: string };
    try {
      stored = JSON.parse(text) as CollectionRecord & { foldedLog?: string };
      if (stored.version !== 1 || stored.name !== name || !Array.isArray(stored.jobs) || !Array.isArray(stored.groups)) throw new Error('not a collection record');
    } catch (err) {
      throw new PilotError('DAMAGED', `the collection file ${file} cannot be read: ${(err as Error).message}`, { hint: `fix it by hand, or remove it with \`pilot collection delete ${name}\`` });
    }
    const { foldedLog, ...record } = stored;
    const lastId = lines[lines.length - 1]?.id;
    return { record: foldMembers(record, unfolded(lines, foldedLog)), ...(lastId ? { lastId } : {}) };
  }

  /** The collection; NOT_FOUND (naming the ones there are) when there is none. */
  async read(name: string): Promise<CollectionRecord> {
    const found = await this.find(name);
    if (found) return found;
    const names = await this.names();
    throw new PilotError('NOT_FOUND', `no collection named '${name}'`, {
      hint: names.length ? `the collections are: ${names.join(', ')}` : 'create one with `pilot collection create NAME`, or launch a job with --collection NAME',
    });
  }

  async names(): Promise<string[]> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    return entries.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).filter((n) => JOB_NAME_RE.test(n)).sort();
  }

  /**
   * Read-modify-write under the collection's lock. `change` gets undefined when the collection does not exist
   * and returns the record to write (or undefined to write nothing).
   */
  async update<T extends CollectionRecord | undefined>(name: string, change: (current: CollectionRecord | undefined) => T | Promise<T>): Promise<T> {
    return this.locked(name, () => this.rewrite(name, change));
  }

  /**
   * A job joins: one line appended to the members log (no rewrite of the file), under the collection's lock.
   * A collection not made yet is made with `create` and the entry folded in (a full write, once).
   */
  async join(name: string, entry: MemberEntry, create: () => CollectionRecord): Promise<void> {
    const file = this.file(name);
    await this.locked(name, async () => {
      const size = await stat(file).then((s) => s.size, (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (size === undefined) {
        await this.rewrite(name, (c) => foldMembers(c ?? create(), [entry]));
        return;
      }
      const logged = await appendMember(logFile(file), entry);
      // compacted once the log is as large as the file: reads stay O(file), writes O(1) per join on average
      if (logged > Math.max(size, 64 * 1024)) await this.rewrite(name, (c) => c);
    });
  }

  /** The write of update (the lock held): the folded record, marked with the last log line it holds, then no log. */
  private async rewrite<T extends CollectionRecord | undefined>(name: string, change: (current: CollectionRecord | undefined) => T | Promise<T>): Promise<T> {
    const file = this.file(name);
    const loaded = await this.load(name);
    const next = await change(loaded?.record);
    if (next) {
      await sweepTemps(this.dir);
      await writeJsonAtomic(file, loaded?.lastId ? { ...next, foldedLog: loaded.lastId } : next);
      await rm(logFile(file), { force: true });
    }
    return next;
  }

  private async locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const file = this.file(name);
    const lock = `${file}.lock`;
    try {
      // the home and collections/ are made (and checked) when the lock finds no folder to go in, not before
      // every lock: each launch joins a collection, and each check is a file system round trip
      return await withFileLock(lock, fn, { timeoutMs: 60_000 }).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT' || err.path !== lock) throw err;
        await ensureHome(this.home);
        await makeDirs(this.dir);
        return withFileLock(lock, fn, { timeoutMs: 60_000 });
      });
    } catch (err) {
      if (err instanceof PilotError) throw err;
      if (err instanceof LockBusyError) throw new PilotError('STORE', `collection '${name}' is busy: another pilot process holds ${file}.lock`, { hint: 'wait for that command to finish' });
      throw await homeError(err, this.home);
    }
  }

  /** Removes the collection file (its jobs stay). False when there was none. */
  async remove(name: string): Promise<boolean> {
    const file = this.file(name);
    const had = (await this.find(name).catch(() => true)) !== undefined;
    await rm(file, { force: true });
    await rm(logFile(file), { force: true });
    return had;
  }
}
