/**
 * restart-failed: resubmits only the failed tasks on the same remote script and args, as a new attempt. Read,
 * decide, submit and record happen under the job's lock, so two restarts at the same moment submit once; the
 * submission is recorded as pending before it is sent, like a launch.
 *
 * The tasks rerun the code they ran before (right for transient failures) unless `repack` ships the sources
 * as they are now: the new bundle is uploaded if the cluster lacks it and recorded on the attempt. Either way
 * the sources are packed again locally and compared, so a fix made since is never silently left out.
 */
import { adoptSubmission, currentBundle } from '../model/attempts.js';
import { PilotError } from '../model/errors.js';
import type { JobRecord } from '../model/record.js';
import type { JobStatus } from '../model/tracking.js';
import { encodeArgsFile } from '../model/args.js';
import { DEFAULT_RESTART_STATES, type TaskState } from '../model/states.js';
import { ownerMark } from '../util/process.js';
import type { Engine } from './engine.js';
import { updateDependents } from './dependents.js';
import { describeChanges, sourcesNow, type SourcesNow } from './sources.js';
import { refresh } from './track.js';
import type { RestartResult } from './types.js';
import type { Bundle } from '../bundle/pack.js';
import type { AttemptResources } from '../model/retry.js';

export interface RestartOptions {
  /** States to restart (default: FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, MISSING_OUTPUT). */
  states?: TaskState[];
  /** Only say which tasks would be restarted (and whether the sources changed). */
  dryRun?: boolean;
  /** Ship the sources as they are now (when they changed) instead of rerunning the bundle the tasks ran. */
  repack?: boolean;
}

/** The sources compared with the job's bundle; undefined when they cannot be packed (without repack: a warning). */
async function compareSources(engine: Engine, record: JobRecord, repack: boolean): Promise<SourcesNow | undefined> {
  const { name } = record;
  let now: SourcesNow;
  try {
    now = await sourcesNow(engine.home, record, repack);
  } catch (err) {
    if (repack) throw err;   // shipping them needs them
    engine.warn(name, [{ message: `cannot tell whether the sources of '${name}' changed: ${(err as Error).message}`, hint: 'the restarted tasks run the code they ran before' }]);
    return undefined;
  }
  if (!now.changed) return now;
  if (!repack) {
    engine.warn(name, [{
      message: `the sources of '${name}' changed since its bundle was packed${describeChanges(now.changedFiles)}; the restarted tasks run the code they ran before`,
      hint: 'to run the new code, restart with --repack (SDK: restartFailed(name, { repack: true }))',
    }]);
    return now;
  }
  if (!record.bundlePerAttempt) {
    throw new PilotError('BAD_INPUT', `'${name}' cannot run a new bundle: its script was written by an older pilot, or by a template of your own that does not take the bundle as its third argument`, {
      hint: 'restart without --repack to rerun the code it ran, or launch the job again (a template of your own needs `PILOT_BUNDLE_SHA=${3:-…}` as in templates/slurm-array.sh.njk)',
    });
  }
  engine.warn(name, now.warnings);
  return now;
}

export async function restartFailed(engine: Engine, name: string, options: RestartOptions & AttemptExtras = {}): Promise<RestartResult> {
  const states = new Set<TaskState>(options.states ?? DEFAULT_RESTART_STATES);
  return restartTasks(engine, name, (status) => status.tasks.filter((t) => states.has(t.state)).map((t) => t.index), options);
}

/** What a resubmission adds to restart-failed's options (`pilot resubmit`: engine/resubmit.ts). */
export interface AttemptExtras {
  /** Words appended to the argv of the resubmitted tasks, for this attempt only (e.g. a checkpoint to resume). */
  extraArgs?: string[];
  /** The collection's submission group recorded on the attempt. */
  group?: string;
}

/**
 * The one path of restart-failed and `pilot resubmit`: under the job's lock, fresh states, `choose` picks
 * the task numbers (from the fresh status and record), and they are submitted as the next attempt.
 */
export async function restartTasks(engine: Engine, name: string, choose: (status: JobStatus, record: JobRecord) => number[] | Promise<number[]>, options: RestartOptions & AttemptExtras = {}): Promise<RestartResult> {
  const { store } = engine;
  await engine.load(name);
  return store.withLock(name, async () => {
    const [status] = await refresh(engine, [await store.read(name)], { locked: true });
    if (status!.stale) {
      throw new PilotError('REMOTE', `cannot restart '${name}': its current states are unknown (${status!.stale})`, { hint: 'try again when the cluster answers' });
    }
    if (status!.pending) throw new PilotError('REMOTE', `cannot restart '${name}' now: ${status!.pending}`, { hint: `look again with \`pilot status ${name}\`` });
    const record = await store.read(name);
    const indices = await choose(status!, record);
    if (!indices.length) return { name, attempt: status!.attempts, indices, slurmJobIds: [] };
    if (options.extraArgs?.length && !record.attemptArgs) {
      throw new PilotError('BAD_INPUT', `'${name}' cannot take extra arguments: its script was written by an older pilot or by a template of your own`, {
        hint: 'resubmit without --extra-args, or launch it again (a template of your own needs the extra-args block of templates/slurm-array.sh.njk)',
      });
    }
    const sources = await compareSources(engine, record, Boolean(options.repack));
    const ship = options.repack && sources?.changed ? sources.bundle : undefined;
    const attempt = status!.attempts + 1;
    const checked = { name, attempt, indices, sourcesChanged: sources?.changed, changedFiles: sources?.changedFiles };
    if (options.dryRun) return { ...checked, slurmJobIds: [] };
    const { arrays, uploadedBytes } = await submitAttempt(engine, record, indices, { ship, extraArgs: options.extraArgs, group: options.group });
    // as after an automatic retry: jobs waiting for this one (after:) follow the new attempt
    await updateDependents(engine, await store.read(name));
    const bundle = { sha256: ship?.sha256 ?? currentBundle(record), repacked: Boolean(ship), uploadedBytes };
    return { ...checked, slurmJobIds: arrays.map((a) => a.jobId), bundle };
  });
}

/**
 * Submits `indices` of `record` again as its next attempt; the caller holds the job's lock and has just
 * refreshed the record. Recorded as pending before it is sent (with its escalated `resources`), adopted after:
 * restart-failed and automatic retries (engine/retry.ts) share this.
 */
export async function submitAttempt(engine: Engine, record: JobRecord, indices: number[], opts: { ship?: Bundle; resources?: AttemptResources } & AttemptExtras = {}) {
  const { store } = engine;
  const { name } = record;
  const backend = await engine.backendFor(record.cluster);
  const resources = opts.resources && Object.keys(opts.resources).length ? opts.resources : undefined;
  // scripts that read args-extra.<attempt>.b64 get one on every resubmission (empty without extra words), so a
  // file left by a refused submission of the same attempt number is never read by the next one
  const attemptArgs = record.attemptArgs ? encodeArgsFile([opts.extraArgs ?? []]) : undefined;
  const extras = { ...(opts.extraArgs?.length ? { extraArgs: opts.extraArgs } : {}), ...(opts.group ? { group: opts.group } : {}) };
  let recorded = false;
  try {
    const done = await backend.resubmit(record, indices, async ({ pending }) => {
      await store.write({ ...record, pending: { ...pending, owner: ownerMark().trim(), ...(resources ? { resources } : {}), ...extras } });
      recorded = true;
    }, opts.ship, resources, attemptArgs);
    await store.write(adoptSubmission(await store.read(name), done.arrays));
    engine.events.emit('submitted', { name, attempt: record.attempts.length + 1, jobIds: done.arrays.map((a) => a.jobId) });
    return done;
  } catch (err) {
    if (!recorded) throw err;
    const cur = await store.read(name);
    // refused by the scheduler: nothing was submitted; otherwise the reply was lost and the next command settles it
    const pending = err instanceof PilotError && err.code === 'SUBMIT' ? undefined : cur.pending && { ...cur.pending, owner: undefined };
    await store.write({ ...cur, pending });
    if (pending && err instanceof PilotError) {
      err.hint = `the submission may have reached the cluster; \`pilot status ${name}\` finds out and tracks it. Do not restart again before that.`;
    }
    throw err;
  }
}
