/**
 * Submissions that never lose a job and never run twice. A submission is recorded as pending (with a token
 * and its owner process) BEFORE sbatch runs; when the reply comes, the record adopts the arrays. When it does
 * not come (connection cut, pilot killed, timeout), the next command on the job settles it with one query:
 * adopt what Slurm accepted, or drop it when provably nothing was submitted. While the owner process lives,
 * nobody else decides.
 */
import { PilotError, type LaunchStep } from '../model/errors.js';
import type { Backend } from '../scheduler/backend.js';
import { adoptSubmission } from '../model/attempts.js';
import type { JobRecord } from '../model/record.js';
import type { JobStore } from '../store/store.js';
import { ownerState } from '../util/process.js';

export interface EngineContext {
  store: JobStore;
  backendFor(clusterName: string): Promise<Backend>;
}

/** Why a pending submission is still undecided, for status output; undefined when it is settled. */
export function pendingNote(record: JobRecord): string | undefined {
  const p = record.pending;
  if (!p) return undefined;
  const by = ownerState(p.owner) === 'alive' ? ` by process ${p.owner!.split(' ')[0]}` : '';
  return `attempt ${p.attempt} is being submitted${by} (since ${p.startedAt}); its outcome is not confirmed yet`;
}

/**
 * Settles the job's pending submission, if any, and returns the record as it now stands. A first launch that
 * provably never reached the cluster is removed (its name is free again) and NOT_FOUND is thrown.
 */
export async function settle(ctx: EngineContext, record: JobRecord): Promise<JobRecord> {
  if (!record.pending || ownerState(record.pending.owner) === 'alive') return record;
  return ctx.store.withLock(record.name, async () => {
    const cur = await ctx.store.read(record.name);
    const pending = cur.pending;
    if (!pending || ownerState(pending.owner) === 'alive') return cur;
    let verdict;
    try {
      verdict = await (await ctx.backendFor(cur.cluster)).settle({ ...cur, pending });
    } catch {
      return cur; // cannot tell now (cluster unreachable): stays pending, asked again next time
    }
    if (verdict.kind === 'unknown') return cur;
    if (verdict.kind === 'submitted') {
      const next = adoptSubmission(cur, verdict.arrays);
      await ctx.store.write(next);
      return next;
    }
    if (cur.attempts.length === 0) {
      await ctx.store.remove(cur.name);
      throw new PilotError('NOT_FOUND', `the launch of '${cur.name}' never reached the cluster: nothing was submitted, and the name is free again`, {
        hint: 'launch it again',
      });
    }
    const { pending: _dropped, ...rest } = cur;
    await ctx.store.write(rest);
    return rest;
  });
}

const NEXT_STEP: Record<LaunchStep, string> = {
  pack: 'packing the sources',
  connect: 'connecting to the cluster',
  upload: 'uploading the bundle',
  unpack: 'unpacking the bundle on the cluster',
  submit: 'submitting',
  record: 'recording the job',
};

/**
 * Turns any failure of a launch into one error that names the step and says what is safe to do next.
 * Before the submission was recorded nothing can have reached Slurm: the name is released. After, the
 * outcome is either known (sbatch refused, or the remote script stopped before sbatch: the record goes) or
 * not (the reply was lost: the record stays pending, released by this process, for the next command).
 */
export async function launchFailed(ctx: EngineContext, name: string, recorded: boolean, err: unknown): Promise<PilotError> {
  const e = err instanceof PilotError ? err
    : new PilotError('INTERNAL', (err as Error)?.message ?? String(err), { cause: err, hint: 'run with --verbose and report it' });
  const step = e.step ?? (recorded ? 'submit' : 'pack');
  const what = `launch of '${name}' failed while ${NEXT_STEP[step]}`;
  if (!recorded) {
    await ctx.store.release(name);
    if (e.exitCode === 2) return e; // bad input: the message already says what to fix
    return wrap(e, step, `${what}: ${e.message}`, `${e.hint ? `${e.hint.replace(/\.$/, '')}. ` : ''}Nothing was submitted and the name is free: fix the cause and launch again.`);
  }
  if (e.code === 'SUBMIT' || e.nothingSubmitted) {
    await ctx.store.remove(name).catch(() => undefined);
    if (e.exitCode === 2) return e; // bad input found by the cluster's checks: the message says what to fix
    return wrap(e, step, `${what}: ${e.message}`, `${e.hint ? `${e.hint.replace(/\.$/, '')}. ` : ''}Nothing was submitted and the name is free again.`);
  }
  // the reply was lost: whether Slurm accepted the job is unknown; let the next command find out
  await ctx.store.update(name, (r) => (r.pending ? { ...r, pending: { ...r.pending, owner: undefined } } : r)).catch(() => undefined);
  return wrap(e, step, `${what}: ${e.message}`,
    `the job may have reached Slurm. Do NOT launch a copy: \`pilot status ${name}\` looks for it (one query) and tracks it if it was submitted, or frees the name if it was not.`);
}

function wrap(e: PilotError, step: LaunchStep, message: string, hint: string): PilotError {
  const out = new PilotError(e.code, message, { hint, cause: e });
  out.step = step;
  return out;
}
