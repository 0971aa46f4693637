/**
 * What the local backend and its supervisors share on disk, inside each job folder:
 *   state/array-<id>.json   one submission (ArrayFile): indices, K, time limit, the supervisor's pid
 *   state/<id>_<index>.json one task of it (TaskFile), written by the supervisor only, atomically
 *   cancel/<id>.<rand>.json one cancel request (CancelFile): a whole submission or some of its indices
 * Every write is temp + rename, so a reader sees the old or the new file, never half of one. The sync fs
 * calls are deliberate: the supervisor is a process of its own and must write a state before it reacts to
 * the next event, and the backend reads a handful of small files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomicSync } from '../../util/files.js';
import { bootMark, processAlive, sameBoot } from '../../util/process.js';
import type { TaskState } from '../../model/states.js';

export interface ArrayFile {
  arrayId: string;
  jobName: string;
  /** task number = array index + offset (always 0 locally: there is no MaxArraySize to split by) */
  offset: number;
  /** Attempt number of the job this submission belongs to (the script's PILOT_ATTEMPT). */
  attempt: number;
  /** The bundle this submission runs: the script's third argument (absent in files of older versions). */
  bundleSha?: string;
  /** Array indices of this submission, compressed (`1-6`, `2,5`). */
  indices: string;
  maxConcurrent: number;
  timeLimitMs: number | null;
  /** SIGTERM → SIGKILL delay for time limits, cancels and left-over processes. */
  graceMs: number;
  /**
   * The i-th index of this submission has job id firstTaskJobId + i (ids are claimed as a block, as Slurm numbers
   * array tasks); not given to tasks as SLURM_JOB_ID, which a real `srun` would try to join (runner.ts taskEnv).
   */
  firstTaskJobId: number;
  cpus: number | null;
  submittedAt: string;
  /** Set by the backend right after spawning the supervisor. */
  supervisor: { pid: number; boot: string } | null;
}

export interface TaskFile {
  state: TaskState;
  exitCode: number | null;
  /** Signal name when the task's main process was killed by one. */
  signal: string | null;
  /** The task's process id, which is also its process group id. */
  pid: number | null;
  start: string | null;
  end: string | null;
  reason?: string;
}

/** One `cancel` call for one submission, written as ONE file so the supervisor sees all of it or none. */
export interface CancelFile {
  arrayId: string;
  /** Array indices, or null for the whole submission. */
  indices: number[] | null;
  at: string;
}

export const arrayFile = (jobDir: string, id: string) => join(jobDir, 'state', `array-${id}.json`);
export const taskFile = (jobDir: string, id: string, index: number) => join(jobDir, 'state', `${id}_${index}.json`);
export const cancelDir = (jobDir: string) => join(jobDir, 'cancel');

/** Every write is temp + rename (one home for it: util/files.ts). */
export const writeJsonAtomic = writeJsonAtomicSync;

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Every cancel request of a job folder, as `<id>` (whole submission) and `<id>_<index>` keys. */
export function cancelMarkers(jobDir: string): Set<string> {
  let names: string[];
  try {
    names = readdirSync(cancelDir(jobDir)).filter((n) => n.endsWith('.json'));
  } catch {
    return new Set(); // nothing was ever cancelled
  }
  const keys = new Set<string>();
  for (const n of names) {
    const c = readJson<CancelFile>(join(cancelDir(jobDir), n));
    if (!c) continue;
    if (c.indices === null) keys.add(c.arrayId);
    else for (const i of c.indices) keys.add(`${c.arrayId}_${i}`);
  }
  return keys;
}

export function isCancelled(markers: Set<string>, id: string, index: number): boolean {
  return markers.has(id) || markers.has(`${id}_${index}`);
}

export { bootMark, processAlive, sameBoot };

/** Sends `signal` to a task's whole process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
