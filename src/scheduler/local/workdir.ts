/**
 * The local side of a job's working directory: bundles made read-only once unpacked, work/ filled by the very
 * shell text a cluster runs (scheduler/workdir.ts), and downloads that take what tasks wrote.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readdir, readlink, realpath, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLinks, type DeferredLink } from '../../bundle/links.js';
import { PilotError } from '../../model/errors.js';
import { WORK_DIR } from '../../model/task-env.js';
import { WHOLE_JOB, type DownloadOptions } from '../backend.js';
import { WORK_STAMP, workDirCommand } from '../workdir.js';

/** Takes the write bits off every file and folder of `dir` (an unpacked bundle): writes into it fail loudly. */
export async function readOnlyTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await readOnlyTree(p);
    else if (e.isFile()) await chmod(p, (await stat(p)).mode & 0o555);
  }
  await chmod(dir, (await stat(dir)).mode & 0o555);
}

/** Gives the folders of `dir` their owner's write bit back, so that it can be removed (gc of a read-only bundle). */
export async function writableDirs(dir: string): Promise<void> {
  const s = await lstat(dir).catch(() => undefined);
  if (!s?.isDirectory()) return;
  await chmod(dir, s.mode | 0o200);
  for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) await writableDirs(join(dir, e.name));
}

/** Fills `<jobDir>/work` from the bundle, as the submit command does on a cluster. */
export async function makeWorkDir(jobDir: string, bundleDir: string): Promise<void> {
  try {
    await promisify(execFile)('bash', ['-c', `B=$1; J=$2; ${workDirCommand(':')}`, 'pilot-workdir', bundleDir, jobDir]);
  } catch (err) {
    throw new PilotError('REMOTE', `cannot make the working directory ${join(jobDir, WORK_DIR)}: ${(err as { stdout?: string }).stdout?.trim() || (err as Error).message}`, { hint: 'is the disk full?' });
  }
}

/**
 * Copies what `options.selection` names of a job folder into `dest`; returns the bytes copied. Files and
 * folders are copied; links are made afterwards, as for a remote download, only where they stay inside `dest`.
 */
export async function downloadLocal(jobDir: string, dest: string, options: DownloadOptions = {}): Promise<number> {
  const selection = options.selection ?? WHOLE_JOB;
  let bytes = 0;
  const links: DeferredLink[] = [];
  await mkdir(dest, { recursive: true });
  const stampMs = selection.work ? (await stat(join(jobDir, WORK_STAMP)).catch(() => undefined))?.mtimeMs : undefined;
  const roots = [...selection.paths, ...(stampMs === undefined ? [] : [WORK_DIR])];
  for (const sub of roots) {
    const from = join(jobDir, sub);
    if (!existsSync(from)) continue;
    const fromWork = sub === WORK_DIR;
    await cp(from, join(dest, sub), { recursive: true, filter: async (src) => {
      const s = await lstat(src);
      const rel = src === from ? sub : `${sub}/${src.slice(from.length + 1)}`;
      if (s.isDirectory()) return true;
      // in work/, only what tasks wrote (newer than the stamp), never the shipped sources; --glob on top
      if ((fromWork && !(s.mtimeMs > stampMs!)) || (options.accept && !options.accept(rel))) return false;
      if (s.isSymbolicLink()) links.push({ path: rel, type: 'SymbolicLink', target: await readlink(src) });
      else if (!s.isFile()) options.onSkip?.(rel, 'not a file, folder or link');
      if (s.isFile()) bytes += s.size;
      return s.isFile();   // never a link or a device: cp would copy them unchecked
    } });
  }
  await createLinks(await realpath(dest), links, options.onSkip);
  // as from a cluster: work/ brings files only, not the (empty) folders of the shipped sources
  if (stampMs !== undefined) await pruneEmptyDirs(join(dest, WORK_DIR));
  return bytes;
}

/** Removes the empty folders under `dir` (and `dir` when it ends up empty), bottom up. */
async function pruneEmptyDirs(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return;
  for (const e of entries) if (e.isDirectory()) await pruneEmptyDirs(join(dir, e.name));
  if (!(await readdir(dir)).length) await rmdir(dir);
}
