/**
 * The pilot home ($PILOT_HOME, --home, ~/.pilot) as a place to write: made when missing, and when it cannot
 * be used (a file where the folder should be, no write permission, a read-only disk, a parent such as /proc
 * that takes no folders) ONE HOME PilotError says which path is at fault and how to choose another home,
 * instead of a raw EACCES or, as Node's recursive mkdir does under /proc, a loop that never ends.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PilotError } from '../model/errors.js';
import { makeDirs } from '../util/files.js';

const CHOOSE = 'point PILOT_HOME (or --home DIR) at a folder you can write to; the default is ~/.pilot';

/** Makes `home` and its jobs/ folder, and checks that pilot may write there. Throws a HOME PilotError if not. */
export async function ensureHome(home: string): Promise<void> {
  const jobs = join(home, 'jobs');
  try {
    await makeDirs(jobs);
    // as root, access() passes on a folder chmod 0500 (root may write there): that is the truth, not a gap
    await access(jobs, constants.W_OK);
  } catch (err) {
    throw await homeError(err, home);
  }
}

/**
 * Turns an fs error met under the home into a HOME PilotError naming the path at fault; errors that are not
 * about the home being usable (ENOSPC, EIO, …) come back unchanged.
 */
export async function homeError(err: unknown, home: string): Promise<unknown> {
  if (err instanceof PilotError) return err;
  const e = err as NodeJS.ErrnoException;
  const path = e.path ?? home;
  const at = (what: string, hint: string) =>
    new PilotError('HOME', `cannot use ${home} as the pilot home: ${what}`, { hint: `${hint}; or ${CHOOSE}`, cause: err });
  switch (e.code) {
    case 'ENOTDIR':
    case 'EEXIST': {
      const file = await firstNonFolder(path);
      return at(`${file} is a file, not a folder`, `move ${file} out of the way`);
    }
    case 'EACCES':
    case 'EPERM': {
      // making a folder or a file needs write access to the folder it goes in; reading a folder, read access
      const dir = (await stat(path).catch(() => undefined))?.isDirectory() ? path : dirname(path);
      return at(`permission denied in ${dir}`, `give yourself access to it (chmod u+rwx ${dir})`);
    }
    case 'EROFS':
      return at(`${path} is on a read-only file system`, 'remount it read-write');
    case 'ENOENT':
      // the parent exists (makeDirs made it) yet the folder cannot be made in it: /proc, /sys, a dead mount
      return at(`${path} cannot be created: ${dirname(path)} takes no new folders`, 'use a folder on a normal disk');
    case 'ELOOP':
    case 'ENAMETOOLONG':
      return at(`${path}: ${e.message}`, 'use a shorter path without link loops');
    default:
      return err;
  }
}

/** The first path from the root down to `path` that exists and is not a folder (what stands in the way). */
async function firstNonFolder(path: string): Promise<string> {
  const chain: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of chain) {
    const s = await stat(p).catch(() => undefined);
    if (s && !s.isDirectory()) return p;
    if (!s) break;
  }
  return path;
}
