/**
 * Name reservations under `$PILOT_HOME/jobs/`: a job's folder exists from the moment its name is taken, holding
 * `.reserved` (the launching process: pid + boot) until the launch writes its record. The folder is made aside
 * with its owner file and renamed into place, so a reservation never exists without its owner (a launch killed
 * between a mkdir and the owner write used to block the name with a misleading "already exists"); a rename onto
 * a folder that holds anything fails, so two launches never share a name. One whose launch is gone is taken back.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exists, sweepTemps, tempName, withFileLock } from '../util/files.js';
import { ownerMark, ownerState } from '../util/process.js';
import { homeError } from './home.js';

export const RECORD = 'job.json';
/** The owner file of a reservation; the record's write removes it. */
export const RESERVED = '.reserved';
/** A reservation folder with no owner file (made by an older pilot between its mkdir and the owner write). */
const OWNERLESS_GRACE_MS = 10_000;

/** Who holds the reservation in `dir`: 'alive', 'dead', or 'unknown' (no owner file). */
export async function reservationOwner(dir: string): Promise<ReturnType<typeof ownerState>> {
  return ownerState(await readFile(join(dir, RESERVED), 'utf8').catch(() => undefined));
}

/** Takes `name` in `jobsDir` if it is free or its reservation was abandoned; false when someone holds it. */
export async function tryReserve(jobsDir: string, name: string, home: string): Promise<boolean> {
  // folders of launches killed while reserving (their pid is gone; never this process's own): swept while
  // this one reserves, as a listing of jobs/ grows with the jobs recorded
  const swept = sweepTemps(jobsDir);
  try {
    return await reserveIn(jobsDir, name, home);
  } finally {
    await swept;
  }
}

async function reserveIn(jobsDir: string, name: string, home: string): Promise<boolean> {
  const dir = join(jobsDir, name);
  for (let tries = 0; tries < 3; tries++) {
    const aside = tempName(dir);
    try {
      await mkdir(aside);
      await writeFile(join(aside, RESERVED), ownerMark());
      await rename(aside, dir);
      return true;
    } catch (err) {
      await rm(aside, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw await homeError(err, home);
    }
    if (!(await reclaimAbandoned(jobsDir, name))) return false;
  }
  return false;
}

/**
 * Takes back a reservation without a record whose launch is gone (killed before it submitted anything: a
 * launch writes its record BEFORE it submits). Serialised by a store-wide lock, and the owner is checked
 * again inside it, so a fresh reservation is never taken.
 */
async function reclaimAbandoned(jobsDir: string, name: string): Promise<boolean> {
  const dir = join(jobsDir, name);
  return withFileLock(join(jobsDir, '.reserve.lock'), async () => {
    if (await exists(join(dir, RECORD))) return false;
    const owner = await reservationOwner(dir);
    const age = await stat(dir).then((s) => Date.now() - s.mtimeMs, () => Infinity);
    if (owner === 'alive' || (owner === 'unknown' && age < OWNERLESS_GRACE_MS)) return false;
    const aside = join(jobsDir, `.abandoned-${name}.${process.pid}`);
    await rename(dir, aside).catch(() => undefined);
    await rm(aside, { recursive: true, force: true });
    return true;
  });
}
