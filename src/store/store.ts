/**
 * Local job records: one folder per job under `$PILOT_HOME/jobs/<name>/`, with `job.json` written
 * atomically (temp file + rename) under a lock, so concurrent `pilot` processes never see half a record.
 * A name is reserved by its folder, which names its owner (reservations.ts): two launches never share a name,
 * and one left by a killed launch is taken back, never blocking.
 * Every record is checked on read (model/record-check.ts): a damaged one fails with a DAMAGED PilotError that
 * names its file and the way out, and never takes the other jobs down with it.
 */
import type { BigIntStats } from 'node:fs';
import { readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PilotError } from '../model/errors.js';
import { JOB_NAME_RE, recordProblem } from '../model/record-check.js';
import { exists, LockBusyError, makeDirs, sweepTemps, withFileLock, writeJsonAtomic } from '../util/files.js';
import { upgradeRecord, type JobRecord } from '../model/record.js';
import { packStates } from '../model/record-pack.js';
import { ensureHome, homeError } from './home.js';
import { RECORD, RESERVED, reservationOwner, tryReserve } from './reservations.js';

const LOCK = 'job.lock';

/** A record that could not be read, as `list()` reports it: the job's name, its file, and the DAMAGED error. */
export interface DamagedRecord {
  name: string;
  file: string;
  error: PilotError;
}

export const isDamaged = (err: unknown): err is PilotError => err instanceof PilotError && err.code === 'DAMAGED';

/** Records of jobs with more tasks are written on one line. */
const PRETTY_UP_TO = 1000;

export class JobStore {
  private homeReady?: Promise<void>;
  /** The file each record was parsed from (inode, size, mtime in ns), for `reread`. */
  private readonly parsedFrom = new WeakMap<JobRecord, string>();

  constructor(readonly home: string) {}

  /**
   * Makes the home and its jobs/ folder on first use, or throws ONE HOME PilotError saying why it cannot be
   * used. Checked once per store (a failure is not kept: the user may fix it while an SDK program runs).
   */
  ensureHome(): Promise<void> {
    this.homeReady ??= ensureHome(this.home).catch((err: unknown) => {
      this.homeReady = undefined;
      throw err;
    });
    return this.homeReady;
  }

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
    await this.ensureHome();
    for (let n = 1; n < 10_000; n++) {
      const candidate = n === 1 ? name : `${name}-${n}`;
      if (await tryReserve(this.jobsDir, candidate, this.home)) return candidate;
      if (!unique) {
        throw new PilotError('EXISTS', `a job named '${name}' already exists in ${this.jobsDir}`, {
          hint: 'choose another jobName, pass --unique (uniqueName: true) to get a suffix, or look at it with `pilot status ' + name + '`',
        });
      }
    }
    throw new PilotError('EXISTS', `no free name like '${name}-N'`, { hint: 'choose another jobName' });
  }

  async release(name: string): Promise<void> {
    // only a reservation that never became a record is removed: a recorded job is never deleted here
    if (!(await exists(join(this.jobDir(name), RECORD)))) await rm(this.jobDir(name), { recursive: true, force: true });
  }

  /**
   * Deletes a job's folder: its record, cached logs and lock (moved aside first, so the name is free at once
   * and nobody reads half a folder). A launch proven to have submitted nothing, or `pilot rm`.
   */
  async remove(name: string): Promise<void> {
    const dir = this.checkedDir(name);
    const aside = join(this.jobsDir, `.removed-${name}.${process.pid}`);
    try {
      await rename(dir, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw await this.notFound(name);
      throw await homeError(err, this.home);
    }
    await rm(aside, { recursive: true, force: true });
  }

  /** The record of `name`, checked: NOT_FOUND when there is none, DAMAGED when it cannot be used. */
  async read(name: string): Promise<JobRecord> {
    return (await this.find(name, true))!;
  }

  /**
   * The record, or undefined when there is none: a launch asks this of every new name, and read's NOT_FOUND
   * lists the recorded jobs, which costs a stat per job in a home that holds thousands.
   */
  async find(name: string, mustExist = false): Promise<JobRecord | undefined> {
    const file = join(this.checkedDir(name), RECORD);
    let text: string;
    let seen: string;
    try {
      // stat BEFORE reading: a file replaced in between is then only read again needlessly by `reread`, never
      // taken for the old one
      seen = fingerprint(await stat(file, { bigint: true }));
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        if (mustExist) throw await this.notFound(name);
        return undefined;
      }
      throw await homeError(err, this.home);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw damaged(name, file, `is not valid JSON (${text.trim() ? (err as Error).message : 'the file is empty'})`, false, err);
    }
    const problem = recordProblem(raw, name);
    if (problem) throw damaged(name, file, problem.problem, problem.newer);
    const record = upgradeRecord(raw);
    this.parsedFrom.set(record, seen);
    return record;
  }

  /**
   * The record as it is now, for a read-decide-write under the job's lock that already holds `known` (read
   * earlier, before taking the lock): `known` itself when its file was not replaced since (every write is a
   * rename of a new file, so a write by anyone changes the inode or the mtime), else the record read again.
   * Why: a status call of a 100 000-task job read and checked its record of megabytes twice (bench/replay-scale.ts).
   */
  async reread(known: JobRecord): Promise<JobRecord> {
    const seen = this.parsedFrom.get(known);
    if (seen !== undefined) {
      const now = await stat(join(this.checkedDir(known.name), RECORD), { bigint: true }).then(fingerprint, () => undefined);
      if (now === seen) return known;
    }
    return this.read(known.name);
  }

  /**
   * Writes the record atomically; other processes see the old or the new file, never a mix. `reserved`: the
   * job's first record, written in its reservation, whose owner file then goes (left behind by a crash in
   * between, it is harmless: a reservation is only ever looked at in a folder without a record).
   */
  async write(record: JobRecord, options: { reserved?: boolean } = {}): Promise<void> {
    const dir = this.checkedDir(record.name);
    await this.ensureHome();
    // indented for people reading it, up to a size where that costs (a per-task entry each); the per-task data
    // of a large job packed (model/record-pack.ts)
    const stored = { ...packStates(record), updatedAt: new Date().toISOString() };
    const put = () => writeJsonAtomic(join(dir, RECORD), stored, record.tasks > PRETTY_UP_TO ? 0 : 2);
    try {
      // each step a file system round trip, and a launch writes twice: the folder is made only when the write
      // finds none (it holds the reservation), and the sweep (of dead writers' temp files: never this
      // process's own) runs alongside the write
      await Promise.all([
        sweepTemps(dir),
        put().catch(async (err: unknown) => {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          await makeDirs(dir);
          await put();
        }),
      ]);
      if (options.reserved) {
        await unlink(join(dir, RESERVED)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
      }
    } catch (err) {
      throw await homeError(err, this.home);
    }
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
    const lock = join(this.checkedDir(name), LOCK);
    try {
      return await withFileLock(lock, fn, { timeoutMs: 120_000 });
    } catch (err) {
      // the folder went while we waited (`pilot rm`), or the home cannot be written
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (err as NodeJS.ErrnoException).path === lock) throw await this.notFound(name);
      if (!(err instanceof LockBusyError)) throw await homeError(err, this.home);
      throw new PilotError('STORE', `job '${name}' is busy: another pilot process has held ${lock} for 2 minutes`, {
        hint: 'wait for that command to finish; the lock frees itself if that process dies',
      });
    }
  }

  /** Names of all recorded jobs, sorted by name (damaged records included: reading them says what is wrong). */
  async names(): Promise<string[]> {
    const recorded = await Promise.all((await this.entries()).map((n) => stat(join(this.jobsDir, n, RECORD)).then(() => n, () => null)));
    return recorded.filter((n): n is string => n !== null).sort();
  }

  /** Every record that can be read, and every one that cannot (each once), for commands that look at all jobs. */
  async readAll(): Promise<{ records: JobRecord[]; damaged: DamagedRecord[] }> {
    const records: JobRecord[] = [];
    const damagedOnes: DamagedRecord[] = [];
    await Promise.all((await this.names()).map(async (name) => {
      try {
        records.push(await this.read(name));
      } catch (err) {
        if (isDamaged(err)) damagedOnes.push({ name, file: join(this.jobDir(name), RECORD), error: err });
        else if (!(err instanceof PilotError && err.code === 'NOT_FOUND')) throw err;   // removed meanwhile
      }
    }));
    damagedOnes.sort((a, b) => a.name.localeCompare(b.name));
    return { records, damaged: damagedOnes };
  }

  /** Names being launched right now: reserved, not recorded yet, by a process that is alive. */
  async launchesInProgress(): Promise<string[]> {
    const live = await Promise.all((await this.entries()).map(async (n) => {
      if (await exists(join(this.jobsDir, n, RECORD))) return null;
      return (await reservationOwner(this.jobDir(n))) === 'alive' ? n : null;
    }));
    return live.filter((n): n is string => n !== null);
  }

  /** Folder names under jobs/, without the ones set aside while being removed or taken back (`.…`). */
  private async entries(): Promise<string[]> {
    try {
      return (await readdir(this.jobsDir)).filter((n) => !n.startsWith('.'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw await homeError(err, this.home);
    }
    // nothing launched yet: make the home now, so that one that cannot be made says so from the first command
    await this.ensureHome();
    return [];
  }

  /** The folder of a job, refusing names that could reach outside jobs/ (`..`, `a/b`): they name no job. */
  private checkedDir(name: string): string {
    if (!JOB_NAME_RE.test(name)) {
      throw new PilotError('NOT_FOUND', `no job named '${name}'`, { hint: 'job names are letters, digits, . _ - (starting with a letter or digit)' });
    }
    return this.jobDir(name);
  }

  private async notFound(name: string): Promise<PilotError> {
    const names = await this.names();
    return new PilotError('NOT_FOUND', `no job named '${name}'`, {
      hint: names.length ? `recorded jobs: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}` : `no jobs recorded in ${this.home} yet`,
    });
  }
}

function damaged(name: string, file: string, problem: string, newer = false, cause?: unknown): PilotError {
  return new PilotError('DAMAGED', `the record of job '${name}' (${file}) ${problem}`, {
    cause,
    hint: newer
      ? `upgrade pilot to read it, or remove the job from this pilot with \`pilot rm ${name}\``
      : `remove the job with \`pilot rm ${name}\` (its folder on the cluster stays until \`pilot gc\`), or repair the file or restore it from a backup`,
  });
}

function fingerprint(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

