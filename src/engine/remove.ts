/**
 * `pilot rm`: forgets a job, so its name is free and its space can be reclaimed. The record and the job's
 * local folder (cached logs) go; with `remote`, its folder on the cluster too, deleted BEFORE the record so a
 * failure leaves the record that says where the folder is. Unfinished tasks are never orphaned silently: the
 * job is refused unless `force`, which cancels them and waits until the scheduler reports them ended. A job
 * removed leaves every collection that lists it.
 */
import { PilotError } from '../model/errors.js';
import type { JobRecord } from '../model/record.js';
import { isFinal, type TaskState } from '../model/states.js';
import type { JobStatus } from '../model/tracking.js';
import { isDamaged } from '../store/store.js';
import { leaveCollections } from './collections.js';
import type { Engine } from './engine.js';
import { refresh, waitFor } from './track.js';
import type { RemoveResult } from './types.js';

export interface RemoveOptions {
  /** also delete the job's folder on the cluster (script, args, logs, outputs) */
  remote?: boolean;
  /** cancel unfinished tasks first (and wait for them to end) instead of refusing */
  force?: boolean;
}

/** How long cancelled tasks may take to be reported ended (Slurm's kill wait, the local grace period). */
const CANCEL_WAIT_MS = 90_000;

const unfinished = (status: JobStatus) => status.tasks.filter((t) => !isFinal(t.state)).map((t) => t.index);

export async function remove(engine: Engine, name: string, options: RemoveOptions = {}): Promise<RemoveResult> {
  const { store } = engine;
  const localDir = store.jobDir(name);
  let record: JobRecord;
  try {
    record = await engine.load(name);
  } catch (err) {
    if (!isDamaged(err)) throw err;
    // the way out a damaged record's error names: nothing in it can be trusted, so only the local folder goes
    await store.remove(name);
    await leaveCollections(engine, name);
    return { name, localDir, cancelled: [], damaged: err.message };
  }

  const [before] = await refresh(engine, [record]);
  const cancelled = unfinished(before!);
  if (cancelled.length && options.force && !before!.pending) {
    // every task open: cancel the arrays themselves (Slurm reports elements of a held array cancelled one by one
    // only as a plain array row, which cannot be told apart per task)
    await (await engine.backendFor(record.cluster)).cancel(record, cancelled.length === record.tasks ? undefined : cancelled);
    await waitFor(engine, name, { timeoutMs: CANCEL_WAIT_MS }).catch((err: unknown) => {
      if (!(err instanceof PilotError && err.code === 'TIMEOUT')) throw err;
      throw new PilotError('TIMEOUT', `the cancelled tasks of '${name}' are not reported ended after ${CANCEL_WAIT_MS / 1000} s: nothing was removed`, {
        hint: `look with \`pilot status ${name}\`, then run \`pilot rm ${name}\` again`,
      });
    });
  }
  // decided again under the job's lock: a restart-failed may have submitted meanwhile
  const result = await store.withLock(name, async () => {
    const current = await store.read(name);
    const [status] = await refresh(engine, [current], { locked: true });
    refuseUnfinished(name, status!);
    let remoteDir: string | undefined;
    if (options.remote) {
      await (await engine.backendFor(current.cluster)).removeJob(current);
      remoteDir = current.remote.jobDir;
    }
    await store.remove(name);
    return { name, localDir, ...(remoteDir ? { remoteDir } : {}), cancelled: options.force ? cancelled : [] };
  });
  // after the job's lock is let go: no lock is held while another is awaited (the record is gone already)
  await leaveCollections(engine, name);
  return result;
}

function refuseUnfinished(name: string, status: JobStatus): void {
  if (status.pending) {
    throw new PilotError('REMOTE', `cannot remove '${name}' now: ${status.pending}`, { hint: `look again with \`pilot status ${name}\` in a moment` });
  }
  const open = unfinished(status);
  if (!open.length) return;
  const counts = Object.entries(status.counts).filter(([s]) => !isFinal(s as TaskState)).map(([s, n]) => `${n} ${s}`).join(', ');
  throw new PilotError('BAD_INPUT', `job '${name}' still has ${open.length} unfinished task${open.length === 1 ? '' : 's'} (${counts}): nothing was removed`, {
    hint: `wait for them (\`pilot wait ${name}\`), or add --force (force: true) to cancel them and remove the job${status.stale ? `; its states may be out of date: ${status.stale}` : ''}`,
  });
}
