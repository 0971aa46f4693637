/**
 * restart-failed: resubmits only the failed tasks on the same remote script, args and bundle (nothing is
 * uploaded), as a new attempt. Read, decide, submit and record happen under the job's lock, so two restarts at
 * the same moment submit once; the submission is recorded as pending before it is sent, like a launch.
 */
import { adoptSubmission } from '../model/attempts.js';
import { PilotError } from '../model/errors.js';
import { DEFAULT_RESTART_STATES, type TaskState } from '../model/states.js';
import { ownerMark } from '../util/process.js';
import type { Engine } from './engine.js';
import { refresh } from './track.js';
import type { RestartResult } from './types.js';

export async function restartFailed(engine: Engine, name: string, options: { states?: TaskState[]; dryRun?: boolean } = {}): Promise<RestartResult> {
  const states = new Set<TaskState>(options.states ?? DEFAULT_RESTART_STATES);
  const { store } = engine;
  await engine.load(name);
  return store.withLock(name, async () => {
    const [status] = await refresh(engine, [await store.read(name)], { locked: true });
    if (status!.stale) {
      throw new PilotError('REMOTE', `cannot restart '${name}': its current states are unknown (${status!.stale})`, { hint: 'try again when the cluster answers' });
    }
    if (status!.pending) throw new PilotError('REMOTE', `cannot restart '${name}' now: ${status!.pending}`, { hint: `look again with \`pilot status ${name}\`` });
    const indices = status!.tasks.filter((t) => states.has(t.state)).map((t) => t.index);
    const attempt = status!.attempts + 1;
    if (!indices.length || options.dryRun) return { name, attempt: indices.length ? attempt : status!.attempts, indices, slurmJobIds: [] };
    const record = await store.read(name);
    const backend = await engine.backendFor(record.cluster);
    let recorded = false;
    try {
      const arrays = await backend.resubmit(record, indices, async ({ pending }) => {
        await store.write({ ...record, pending: { ...pending, owner: ownerMark().trim() } });
        recorded = true;
      });
      await store.write(adoptSubmission(await store.read(name), arrays));
      engine.events.emit('submitted', { name, attempt, jobIds: arrays.map((a) => a.jobId) });
      return { name, attempt, indices, slurmJobIds: arrays.map((a) => a.jobId) };
    } catch (err) {
      if (!recorded) throw err;
      const cur = await store.read(name);
      // refused by the scheduler: nothing was submitted; otherwise the reply was lost and the next command settles it
      const pending = err instanceof PilotError && err.code === 'SUBMIT' ? undefined : cur.pending && { ...cur.pending, owner: undefined };
      await store.write({ ...cur, pending });
      if (pending && err instanceof PilotError) {
        err.hint = `the restart may have reached the cluster; \`pilot status ${name}\` finds out and tracks it. Do not restart again before that.`;
      }
      throw err;
    }
  });
}
