/**
 * Local job records: one folder per job under `$PILOT_HOME/jobs/<name>/`, with `job.json` written
 * atomically (temp file + rename) under a lock, so concurrent `pilot` processes never see half a record.
 * A name is reserved by creating its folder (mkdir is atomic), so two launches can never share a name; the
 * reservation names its owner (pid + boot), so one left by a killed launch is taken back, never blocking.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PilotError } from '../model/errors.js';
import { LockBusyError, sweepTemps, withFileLock, writeJsonAtomic } from '../util/files.js';
import { ownerMark, ownerState } from '../util/process.js';
import { upgradeRecord, type JobRecord } from '../model/record.js';

const RECORD = 'job.json';
const LOCK = 'job.lock';
const RESERVED = '.reserved';
/** A reservation folder with no owner file yet: its creator is between mkdir and writing the file. */
const OWNERLESS_GRACE_MS = 10_000;

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
   * The reservation is released with `release` if the launch fails before anything was submitted; one whose
   * launch was killed (no record, owner gone) is taken back here.
   */
  async reserve(name: string, unique = false): Promise<string> {
    await mkdir(this.jobsDir, { recursive: true });
    for (let n = 1; n < 10_000; n++) {
      const candidate = n === 1 ? name : `${name}-${n}`;
      if (await this.tryReserve(candidate)) return candidate;
      if (!unique) {
        throw new PilotError('EXISTS', `a job named '${name}' already exists in ${this.jobsDir}`, {
          hint: 'choose another jobName, pass --unique (uniqueName: true) to get a suffix, or look at it with `pilot status ' + name + '`',
        });
      }
    }
    throw new PilotError('EXISTS', `no free name like '${name}-N'`, { hint: 'choose another jobName' });
  }

  private async tryReserve(name: string): Promise<boolean> {
    for (let tries = 0; tries < 3; tries++) {
      try {
        await mkdir(this.jobDir(name));
        await writeFile(join(this.jobDir(name), RESERVED), ownerMark());
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (!(await this.reclaimAbandoned(name))) return false;
    }
    return false;
  }

  /**
   * Takes back a reservation without a record whose launch is gone (killed before it submitted anything:
   * a launch writes its record BEFORE it submits). Serialised by a store-wide lock, and the owner is checked
   * again inside it, so a fresh reservation is never taken.
   */
  private async reclaimAbandoned(name: string): Promise<boolean> {
    const dir = this.jobDir(name);
    return withFileLock(join(this.jobsDir, '.reserve.lock'), async () => {
      if (await exists(join(dir, RECORD))) return false;
      const owner = ownerState(await readFile(join(dir, RESERVED), 'utf8').catch(() => undefined));
      const age = await stat(dir).then((s) => Date.now() - s.mtimeMs, () => Infinity);
      if (owner === 'alive' || (owner === 'unknown' && age < OWNERLESS_GRACE_MS)) return false;
      const aside = join(this.jobsDir, `.abandoned-${name}.${process.pid}`);
      await rename(dir, aside).catch(() => undefined);
      await rm(aside, { recursive: true, force: true });
      return true;
    });
  }

  async release(name: string): Promise<void> {
    // only a reservation that never became a record is removed: a recorded job is never deleted here
    if (!(await exists(join(this.jobDir(name), RECORD)))) await rm(this.jobDir(name), { recursive: true, force: true });
  }

  /** Deletes a record and its folder (a launch proven to have submitted nothing). */
  async remove(name: string): Promise<void> {
    const aside = join(this.jobsDir, `.removed-${name}.${process.pid}`);
    await rename(this.jobDir(name), aside);
    await rm(aside, { recursive: true, force: true });
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
      return upgradeRecord(JSON.parse(text));
    } catch (err) {
      throw new PilotError('STORE', `${file} is not valid JSON`, { hint: 'it was edited by hand or the disk is full; restore it from a backup', cause: err });
    }
  }

  /** Writes the record atomically; other processes see the old or the new file, never a mix. */
  async write(record: JobRecord): Promise<void> {
    const dir = this.jobDir(record.name);
    await mkdir(dir, { recursive: true });
    await sweepTemps(dir);
    await writeJsonAtomic(join(dir, RECORD), { ...record, updatedAt: new Date().toISOString() });
    await rm(join(dir, RESERVED), { force: true });
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

  /**
   * Runs `fn` holding the job's lock: read-decide-act-record steps (restart, adopting a submission) run one at
   * a time per job, across processes. A lock left by a killed process is broken at once.
   */
  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const lock = join(this.jobDir(name), LOCK);
    try {
      return await withFileLock(lock, fn, { timeoutMs: 120_000 });
    } catch (err) {
      if (!(err instanceof LockBusyError)) throw err;
      throw new PilotError('STORE', `job '${name}' is busy: another pilot process has held ${lock} for 2 minutes`, {
        hint: 'wait for that command to finish; the lock frees itself if that process dies',
      });
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

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
