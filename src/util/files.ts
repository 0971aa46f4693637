/**
 * The one home of "write a file so that nobody ever reads half of it" (temp file + rename), of sweeping the
 * temp files a killed process left behind, of the owner-checked lock files, and of making folders (`mkdir -p`
 * that cannot spin) and measuring them.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { link, lstat, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ownerMark, ownerState, processAlive } from './process.js';

/**
 * `.<name>.<pid>.<rand>.tmp` beside `file`: the same folder, so the rename is atomic; the writer's pid in it, so
 * sweepTemps (and `pilot gc`) can remove it once that process is gone.
 */
export function tempName(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Temp files made by tempName (and bundle temp files), with the writer's pid in group 1. */
const TEMP_RE = /^\..*\.(\d+)\.[0-9a-f]+\.tmp$/;

/** Writes `data` to `file` atomically: readers see the old or the new content, never a mix. */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = tempName(file);
  try {
    await writeFile(tmp, data, { flag: 'wx' });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** The same, synchronously (the local supervisor must write a state before it reacts to the next event). */
export function writeFileAtomicSync(file: string, data: string | Buffer): void {
  const tmp = tempName(file);
  try {
    writeFileSync(tmp, data, { flag: 'wx' });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** `indent` 0 writes one line: for large files (a 100 000-task record is 40 % smaller, and faster to write and read). */
export const writeJsonAtomic = (file: string, value: unknown, indent = 2) => writeFileAtomic(file, JSON.stringify(value, null, indent || undefined) + '\n');
export const writeJsonAtomicSync = (file: string, value: unknown) => writeFileAtomicSync(file, JSON.stringify(value, null, 2) + '\n');

/**
 * Removes the temp files (and temp folders) in `dir` whose writer is gone: a process killed between write and
 * rename leaves one behind. `pattern` must capture the writer's pid in group 1. Never throws.
 */
export async function sweepTemps(dir: string, pattern: RegExp = TEMP_RE): Promise<string[]> {
  const gone = await deadTemps(dir, pattern);
  await Promise.all(gone.map((n) => rm(join(dir, n), { recursive: true, force: true }).catch(() => undefined)));
  return gone;
}

/** The names of the temp files in `dir` whose writer is gone (what sweepTemps removes), removing nothing. */
export async function deadTemps(dir: string, pattern: RegExp = TEMP_RE): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => {
    const pid = Number(pattern.exec(n)?.[1]);
    return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid);
  });
}

export function sweepTempsSync(dir: string, pattern: RegExp = TEMP_RE): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(pattern.exec(n)?.[1]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) rmSync(join(dir, n), { recursive: true, force: true });
  }
}

export interface LockOptions {
  /** give up after this long (default 60 s) */
  timeoutMs?: number;
  /** called once when the lock is found taken, with the file */
  onWait?: () => void;
}

/** Thrown by withFileLock when the lock stays taken by a live process. */
export class LockBusyError extends Error {
  constructor(readonly file: string) {
    super(`${file} is held by another process`);
  }
}

/** A lock whose owner is dead (killed, or from before a reboot) is broken; one that stays unreadable too. */
const UNKNOWN_OWNER_GRACE_MS = 5_000;

/**
 * Removes a dead owner's lock. Renaming is atomic, so of several processes that judged the same lock dead one
 * moves it; a process that moved a NEWER lock (taken in between by a live process) puts it back.
 */
async function breakLock(file: string, deadIno: number): Promise<void> {
  const aside = `${file}.broken.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = await stat(aside).catch(() => undefined);
  if (moved && moved.ino !== deadIno) await link(aside, file).catch(() => undefined);
  await rm(aside, { force: true });
}

/**
 * Runs `fn` holding an exclusive lock file (created with O_EXCL, holding `<pid> <boot>`). A lock left by a
 * killed process is recognised by its owner, not by a timer, so a long operation is never robbed of it.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let waited = false;
  for (;;) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(ownerMark());
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const seen = await stat(file).catch(() => undefined);
      const owner = ownerState(await readFile(file, 'utf8').catch(() => undefined));
      const age = seen ? Date.now() - seen.mtimeMs : 0;
      if (seen && (owner === 'dead' || (owner === 'unknown' && age > UNKNOWN_OWNER_GRACE_MS))) {
        await breakLock(file, seen.ino);
        continue;
      }
      if (Date.now() > deadline) throw new LockBusyError(file);
      if (!waited) options.onWait?.();
      waited = true;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 40));
    }
  }
  try {
    return await fn();
  } finally {
    // an unlink, not rm (which looks at the path twice first): a lock is taken at least once per launch
    await unlink(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

/**
 * `mkdir -p` that always ends. Node's `mkdir(dir, { recursive: true })` spins for ever (100 % CPU, the promise
 * never settles) when a parent exists but refuses children with ENOENT, as /proc does (`PILOT_HOME=/proc/x`):
 * it reads ENOENT as "parent missing", makes the parent (EEXIST), and tries again. Here a component is made
 * once its parent exists, and an ENOENT after that is final. Throws the errno error of the component that
 * could not be made (ENOTDIR when a file stands in the way).
 */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await stat(dir)).isDirectory()) return;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', path: dir });
    }
    if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
  }
  await makeDirs(dirname(dir));
  // the parent exists now: an ENOENT from here on means it takes no children, and is final
  await mkdir(dir).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST' || !(await stat(dir)).isDirectory()) throw err;
  });
}

/** Bytes under `path` (files and links, not following links); 0 when it is gone. Like `du -s`, without blocks. */
export async function diskUsage(path: string): Promise<number> {
  const s = await lstat(path).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  const names = await readdir(path).catch(() => [] as string[]);
  let total = 0;
  for (const n of names) total += await diskUsage(join(path, n));
  return total;
}

/** Whether anything (a file, a folder, a link that resolves) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
