/**
 * Tasks pending on a dependency that can never be satisfied (Slurm keeps them PENDING for ever): cancelling them
 * is an engine step, so that `wait`/`watch --cancel-unsatisfiable` send the notifications of the final status
 * (job_end, job_failed, collection_final) in the same command rather than on the next look.
 */
import { neverSatisfiable } from '../model/dependencies.js';
import { isFinal } from '../model/states.js';
import type { JobStatus } from '../model/tracking.js';
import type { Engine } from './engine.js';
import { statusOf } from './track.js';

/**
 * Cancels the never-satisfiable tasks of each status (the whole job when no other task is unfinished), one
 * scancel per job, then returns the statuses asked again (one status call), so they show them CANCELLED.
 */
export async function cancelNeverSatisfiable(engine: Engine, statuses: JobStatus[]): Promise<JobStatus[]> {
  const affected = statuses.filter((s) => neverSatisfiable(s).length);
  if (!affected.length) return statuses;
  for (const s of affected) {
    const stuck = neverSatisfiable(s);
    const open = s.tasks.filter((t) => !isFinal(t.state) || t.provisional);
    const record = await engine.load(s.name);
    await (await engine.backendFor(record.cluster)).cancel(record, open.length === stuck.length ? undefined : stuck);
  }
  const again = new Map((await statusOf(engine, affected.map((s) => s.name))).map((s) => [s.name, s]));
  return statuses.map((s) => again.get(s.name) ?? s);
}
