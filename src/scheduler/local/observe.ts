/**
 * Task states of local jobs, from the files the supervisors write. The supervisor's liveness is checked
 * BEFORE the task files are read: a supervisor writes every task's final state before it exits, so once
 * it is seen dead, what the files say is all there will ever be, and a task they leave unfinished is lost
 * (NODE_FAIL, restartable), never silently pending forever.
 */
import { lstat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { isFinal } from '../../model/states.js';
import type { JobRecord, TaskStatus } from '../../model/record.js';
import { latestArrayFor, logPath, taskNumbersOf } from '../../model/attempts.js';
import { lastErrorLine, tailCandidates, TAIL_WINDOW_BYTES, TAILS_PER_CALL } from '../../model/last-error.js';
import type { ReadTails } from '../../model/tracking.js';
import { readLocalFile } from '../../transport/chunked-read.js';
import { applyExpected, expectCandidates } from '../../model/expected.js';
import { missingLocal } from './expect.js';
import { arrayFile, cancelMarkers, isCancelled, processAlive, readJson, sameBoot, taskFile, type ArrayFile, type TaskFile } from './files.js';

export interface TaskFacts {
  file: TaskFile | undefined;
  supervisorAlive: boolean;
  /** The task's own main process still runs (only asked when the supervisor is gone). */
  taskAlive: boolean;
  cancelRequested: boolean;
}

/** Pure: what one task's files and processes mean. */
export function classifyTask(f: TaskFacts): Pick<TaskStatus, 'state' | 'exitCode' | 'reason' | 'signal' | 'start' | 'end'> {
  const { file } = f;
  if (file && isFinal(file.state)) {
    // the signal's number, as Slurm reports it (`0:9`): the failure class says SIGNAL 9, not EXIT -
    const signal = file.signal ? osConstants.signals[file.signal as NodeJS.Signals] : undefined;
    // a task cancelled before it started has an end but no start: it never ran
    const times = file.start ? { start: file.start, ...(file.end ? { end: file.end } : {}) } : {};
    return { state: file.state, exitCode: file.exitCode, ...(signal ? { signal } : {}), ...(file.reason ? { reason: file.reason } : {}), ...times };
  }
  if (file?.state === 'RUNNING') {
    if (f.supervisorAlive) return { state: 'RUNNING', exitCode: null, ...(file.start ? { start: file.start } : {}) };
    if (f.taskAlive) return { state: 'RUNNING', exitCode: null, reason: 'its supervisor is gone; the outcome will not be known' };
    return { state: 'NODE_FAIL', exitCode: null, reason: 'the task and its supervisor are gone (machine restarted or processes killed)' };
  }
  if (f.supervisorAlive) return { state: 'PENDING', exitCode: null, ...(f.cancelRequested ? { reason: 'cancel requested' } : {}) };
  if (f.cancelRequested) return { state: 'CANCELLED', exitCode: null, reason: 'cancelled before it started' };
  return { state: 'NODE_FAIL', exitCode: null, reason: 'never started: its supervisor is gone' };
}

/** Whether the supervisor of submission `id` runs (same boot, pid alive, and it is that supervisor). */
export function supervisorAlive(jobDir: string, id: string, spec = readJson<ArrayFile>(arrayFile(jobDir, id))): boolean {
  const s = spec?.supervisor;
  return !!s && sameBoot(s.boot) && processAlive(s.pid, [jobDir, id]);
}

export function observeLocal(records: JobRecord[]): Map<string, Map<number, TaskStatus>> {
  const out = new Map<string, Map<number, TaskStatus>>();
  for (const record of records) {
    const jobDir = record.remote.jobDir;
    const byArray = new Map<string, { attempt: number; offset: number; tasks: number[] }>();
    for (const t of taskNumbersOf(record)) {
      const latest = latestArrayFor(record, t);
      if (!latest || record.finalStates[String(t)]?.attempt === latest.attempt) continue;
      const id = latest.array.jobId;
      const group = byArray.get(id) ?? { attempt: latest.attempt, offset: latest.array.offset, tasks: [] };
      group.tasks.push(t);
      byArray.set(id, group);
    }
    const states = new Map<number, TaskStatus>();
    const expects = Boolean(record.info.expectedFiles?.length);
    const requests = new Map(expectCandidates(record, Infinity).map((r) => [r.task, r]));
    for (const [id, group] of byArray) {
      const spec = readJson<ArrayFile>(arrayFile(jobDir, id));
      const alive = supervisorAlive(jobDir, id, spec);
      // a pid recorded before a reboot says nothing about the process that has it now
      const thisBoot = !!spec?.supervisor && sameBoot(spec.supervisor.boot);
      const markers = cancelMarkers(jobDir);
      for (const t of group.tasks) {
        const index = t - group.offset;
        const file = readJson<TaskFile>(taskFile(jobDir, id, index));
        const taskAlive = !alive && thisBoot && file?.state === 'RUNNING' && file.pid !== null && processAlive(file.pid);
        const c = classifyTask({ file, supervisorAlive: alive, taskAlive, cancelRequested: isCancelled(markers, id, index) });
        // checked right after the state was read: a task seen final has written all it will write
        const request = c.state === 'COMPLETED' ? requests.get(t) : undefined;
        states.set(t, applyExpected({ index: t, attempt: group.attempt, ...c }, request, request && missingLocal(jobDir, request.paths), expects));
      }
    }
    out.set(record.name, states);
  }
  return out;
}

/**
 * The last stderr lines of the tasks tailCandidates picks, as the Slurm status command reads them (same
 * window, same budget, same cleaning), read after the states so a task seen final has written all of it.
 * Only regular files are read (readLocalFile): anything else, or nothing, reads as ''.
 */
export async function readTailsLocal(records: readonly JobRecord[]): Promise<ReadTails> {
  const out: ReadTails = new Map();
  let budget = TAILS_PER_CALL;
  for (const record of records) {
    const wanted = tailCandidates(record, budget);
    budget -= wanted.length;
    for (const { task, attempt } of wanted) {
      const file = join(record.remote.jobDir, logPath(record, task, attempt, 'err')!);
      let text = '';
      try {
        const size = (await lstat(file)).size;
        const parts: Buffer[] = [];
        await readLocalFile(file, Math.max(0, size - TAIL_WINDOW_BYTES), (c) => { parts.push(c); });
        text = lastErrorLine(Buffer.concat(parts), { cut: size > TAIL_WINDOW_BYTES });
      } catch {
        text = '';   // absent, or not a regular file: nothing to show
      }
      (out.get(record.name) ?? out.set(record.name, new Map()).get(record.name)!).set(task, { attempt, text });
    }
  }
  return out;
}
