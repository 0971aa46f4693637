/**
 * Collections on disk: `$PILOT_HOME/collections/<name>.json`, written atomically (temp + rename) under a lock
 * file per collection, with the same helpers job records use, so two `pilot` processes adding jobs or
 * recording resubmissions at once never lose one another's change.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectionRecord } from '../model/collection.js';
import { PilotError } from '../model/errors.js';
import { JOB_NAME_RE } from '../model/record-check.js';
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

  /** The collection, or undefined when there is none. */
  async find(name: string): Promise<CollectionRecord | undefined> {
    const file = this.file(name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw await homeError(err, this.home);
    }
    try {
      const raw = JSON.parse(text) as CollectionRecord;
      if (raw.version !== 1 || raw.name !== name || !Array.isArray(raw.jobs) || !Array.isArray(raw.groups)) throw new Error('not a collection record');
      return raw;
    } catch (err) {
      throw new PilotError('DAMAGED', `the collection file ${file} cannot be read: ${(err as Error).message}`, { hint: `fix it by hand, or remove it with \`pilot collection delete ${name}\`` });
    }
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
    const file = this.file(name);
    await ensureHome(this.home);
    try {
      await makeDirs(this.dir);
      return await withFileLock(`${file}.lock`, async () => {
        const next = await change(await this.find(name));
        if (next) {
          await sweepTemps(this.dir);
          await writeJsonAtomic(file, next);
        }
        return next;
      }, { timeoutMs: 60_000 });
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
    return had;
  }
}
