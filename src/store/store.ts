/**
 * Local job records: one folder per job under `$PILOT_HOME/jobs/<name>/`, with `job.json` written
 * atomically (temp file + rename) under a lock, so concurrent `pilot` processes never see half a record.
 * A name is reserved by creating its folder (mkdir is atomic), so two launches can never share a name.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PilotError } from '../errors.js';
import type { JobRecord } from './record.js';

const RECORD = 'job.json';
const LOCK = 'job.lock';
const STALE_LOCK_MS = 30_000;

export class JobStore {
  constructor(readonly home: string) {}

  get jobsDir(): string {
    return join(this.home, 'jobs');
  }

  jobDir(name: string): string {
    return join(this.jobsDir, name);
  }

  /**
   * Reserves `name` (or, with `unique`, the first free `name-2`, `name-3`, …). Returns the reserved name.
   * The reservation is released with `release` if the submission fails.
   */
  async reserve(name: string, unique = false): Promise<string> {
    await mkdir(this.jobsDir, { recursive: true });
    for (let n = 1; n < 10_000; n++) {
      const candidate = n === 1 ? name : `${name}-${n}`;
      try {
        await mkdir(this.jobDir(candidate));
        await writeFile(join(this.jobDir(candidate), '.reserved'), `${process.pid}\n`);
        return candidate;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (!unique) {
          throw new PilotError('EXISTS', `a job named '${name}' already exists in ${this.jobsDir}`, {
            hint: 'choose another jobName, pass --unique (uniqueName: true) to get a suffix, or look at it with `pilot status ' + name + '`',
          });
        }
      }
    }
    throw new PilotError('EXISTS', `no free name like '${name}-N'`, { hint: 'choose another jobName' });
  }

  async release(name: string): Promise<void> {
    // only a reservation that never became a record is removed: a recorded job is never deleted here
    try {
      await stat(join(this.jobDir(name), RECORD));
    } catch {
      await rm(this.jobDir(name), { recursive: true, force: true });
    }
  }

  async exists(name: string): Promise<boolean> {
    try {
      await stat(join(this.jobDir(name), RECORD));
      return true;
    } catch {
      return false;
    }
  }

  async read(name: string): Promise<JobRecord> {
    const file = join(this.jobDir(name), RECORD);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        const names = await this.names();
        throw new PilotError('NOT_FOUND', `no job named '${name}'`, {
          hint: names.length ? `recorded jobs: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}` : `no jobs recorded in ${this.home} yet`,
        });
      }
      throw err;
    }
    try {
      return JSON.parse(text) as JobRecord;
    } catch (err) {
      throw new PilotError('STORE', `${file} is not valid JSON`, { hint: 'it was edited by hand or the disk is full; restore it from a backup', cause: err });
    }
  }

  /** Writes the record atomically; other processes see the old or the new file, never a mix. */
  async write(record: JobRecord): Promise<void> {
    const dir = this.jobDir(record.name);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${RECORD}.${process.pid}.${Date.now()}.tmp`);
    await writeFile(tmp, JSON.stringify({ ...record, updatedAt: new Date().toISOString() }, null, 2) + '\n');
    await rename(tmp, join(dir, RECORD));
    await rm(join(dir, '.reserved'), { force: true });
  }

  /** Read-modify-write under the job's lock. */
  async update(name: string, change: (record: JobRecord) => JobRecord | void): Promise<JobRecord> {
    return this.withLock(name, async () => {
      const record = await this.read(name);
      const next = change(record) ?? record;
      await this.write(next);
      return next;
    });
  }

  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const lock = join(this.jobDir(name), LOCK);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const fh = await open(lock, 'wx');
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // a lock left by a killed process must not block forever
        const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > STALE_LOCK_MS) await rm(lock, { force: true });
        else if (Date.now() > deadline) throw new PilotError('STORE', `job '${name}' is locked by another pilot process (${lock})`, { hint: 'wait for it, or delete the lock file if no pilot is running' });
        else await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  }

  /** Names of all recorded jobs, sorted by name. */
  async names(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.jobsDir);
    } catch {
      return [];
    }
    const recorded = await Promise.all(entries.map((n) => stat(join(this.jobsDir, n, RECORD)).then(() => n, () => null)));
    return recorded.filter((n): n is string => n !== null).sort();
  }
}
