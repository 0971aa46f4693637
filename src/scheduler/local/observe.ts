/**
 * Task states of local jobs, from the files the supervisors write. The supervisor's liveness is checked
 * BEFORE the task files are read: a supervisor writes every task's final state before it exits, so once
 * it is seen dead, what the files say is all there will ever be, and a task they leave unfinished is lost
 * (NODE_FAIL, restartable), never silently pending forever.
 */
import { isFinal } from '../../model/states.js';
import type { JobRecord, TaskStatus } from '../../model/record.js';
import { latestArrayFor } from '../../model/attempts.js';
import { arrayFile, cancelMarkers, isCancelled, processAlive, readJson, sameBoot, taskFile, type ArrayFile, type TaskFile } from './files.js';

export interface TaskFacts {
  file: TaskFile | undefined;
  supervisorAlive: boolean;
  /** The task's own main process still runs (only asked when the supervisor is gone). */
  taskAlive: boolean;
  cancelRequested: boolean;
}

/** Pure: what one task's files and processes mean. */
export function classifyTask(f: TaskFacts): Pick<TaskStatus, 'state' | 'exitCode' | 'reason'> {
  const { file } = f;
  if (file && isFinal(file.state)) return { state: file.state, exitCode: file.exitCode, ...(file.reason ? { reason: file.reason } : {}) };
  if (file?.state === 'RUNNING') {
    if (f.supervisorAlive) return { state: 'RUNNING', exitCode: null };
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
    for (let t = 1; t <= record.tasks; t++) {
      const latest = latestArrayFor(record, t);
      if (!latest || record.finalStates[String(t)]?.attempt === latest.attempt) continue;
      const id = latest.array.jobId;
      const group = byArray.get(id) ?? { attempt: latest.attempt, offset: latest.array.offset, tasks: [] };
      group.tasks.push(t);
      byArray.set(id, group);
    }
    const states = new Map<number, TaskStatus>();
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
        states.set(t, { index: t, attempt: group.attempt, ...c });
      }
    }
    out.set(record.name, states);
  }
  return out;
}
