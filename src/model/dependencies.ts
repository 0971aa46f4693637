/**
 * Dependencies between jobs (`after: [{ job, when }]`), as pure facts: the `--after NAME[:when]` syntax, the
 * scheduler's dependency string for the named jobs' array ids, the order a job graph launches in, and which
 * tasks wait on a dependency that can never be satisfied. The engine resolves names (engine/dependencies.ts).
 */
import { PilotError } from './errors.js';
import { JOB_NAME_RE } from './record-check.js';
import { isFinal, type TaskState } from './states.js';
import { arrayFor, latestArrayFor, taskNumbersOf } from './attempts.js';
import { expandRanges } from './ranges.js';
import type { ArraySubmission, JobRecord } from './record.js';

export const AFTER_WHEN = ['ok', 'notok', 'any'] as const;
export type AfterWhen = (typeof AFTER_WHEN)[number];

/** Start only after every task of the latest attempt of `job` ended: completed (ok), failed (notok), either (any). */
export interface AfterSpec {
  job: string;
  /** Default `ok`. */
  when?: AfterWhen;
}

/** Slurm's reason for a job whose dependency failed: it stays PENDING for ever (unless kill_invalid_depend). */
export const NEVER_SATISFIED = 'DependencyNeverSatisfied';

/**
 * Parses one `--after` value: `NAME`, `NAME:ok`, `NAME:notok`, `NAME:any`.
 * @example parseAfter('prep:any')   // { job: 'prep', when: 'any' }
 */
export function parseAfter(text: string): Required<AfterSpec> {
  const i = text.lastIndexOf(':');
  const job = i < 0 ? text : text.slice(0, i);
  const when = i < 0 ? 'ok' : text.slice(i + 1);
  if (!JOB_NAME_RE.test(job) || !(AFTER_WHEN as readonly string[]).includes(when)) {
    throw new PilotError('BAD_INPUT', `--after ${JSON.stringify(text)} is not NAME[:ok|notok|any]`, {
      hint: 'e.g. --after prep (waits for prep to complete), --after prep:any (whatever its outcome), --after prep:notok',
    });
  }
  return { job, when: when as AfterWhen };
}

/**
 * The value of sbatch's `--dependency` for resolved `after` entries: one `after<when>:ID:ID…` per entry, joined
 * with `,` (all must hold). Slurm's afterok on an array job id waits for every task of that array.
 * @example dependencyString([{ when: 'ok', jobIds: ['12', '13'] }, { when: 'any', jobIds: ['20'] }])   // 'afterok:12:13,afterany:20'
 */
export function dependencyString(resolved: readonly { when?: AfterWhen; jobIds: readonly string[] }[]): string | undefined {
  const parts = resolved.filter((r) => r.jobIds.length).map((r) => `after${r.when ?? 'ok'}:${r.jobIds.join(':')}`);
  return parts.length ? parts.join(',') : undefined;
}

/**
 * Joins the user's own `--dependency` (from sbatchArgs) with pilot's: both must hold. sbatch reads only the last
 * --dependency given, so the two can only be one value. A user's `?` (any of) cannot be mixed with `,`.
 */
export function combineDependencies(user: string | undefined, pilot: string | undefined, where = 'job'): string | undefined {
  if (user && pilot && user.includes('?')) {
    throw new PilotError('BAD_INPUT', `${where}: sbatchArgs --dependency=${user} uses '?' (any of), which cannot be combined with after:`, {
      hint: 'use \',\' (all of) in your own --dependency, or express it with after: alone; nothing was submitted',
    });
  }
  return [user, pilot].filter(Boolean).join(',') || undefined;
}

/**
 * The order a graph of jobs launches in: every job after the jobs it names (depth first, in the file's order:
 * a job comes as soon as what it waits for has come). Names outside the graph must satisfy `known` (already recorded jobs).
 * Refuses duplicates, unknown names and cycles before anything is submitted.
 */
export function graphOrder(jobs: readonly { jobName: string; after?: readonly AfterSpec[] }[], known: (name: string) => boolean = () => false): string[] {
  const names = jobs.map((j) => j.jobName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new PilotError('BAD_INPUT', `jobs: the name '${dup}' is given twice`, { hint: 'every job of a graph needs its own jobName; nothing was submitted' });
  const inGraph = new Set(names);
  for (const j of jobs) {
    for (const a of j.after ?? []) {
      if (!inGraph.has(a.job) && !known(a.job)) {
        throw new PilotError('BAD_INPUT', `jobs: ${j.jobName} runs after '${a.job}', which is neither in this file nor a recorded job`, {
          hint: 'fix the name in after: (`pilot list` shows the recorded jobs); nothing was submitted',
        });
      }
    }
  }
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const byName = new Map(jobs.map((j) => [j.jobName, j]));
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done' || !byName.has(name)) return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw new PilotError('BAD_INPUT', `jobs: the after: links form a cycle: ${cycle.join(' → ')}`, { hint: 'a job cannot wait for itself, directly or not; nothing was submitted' });
    }
    state.set(name, 'visiting');
    for (const a of byName.get(name)!.after ?? []) visit(a.job, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const n of names) visit(n, []);
  return order;
}

/**
 * What a job's known outcome means for an `after:` on it, decided from the states pilot has, as Slurm decides
 * on an array: `wait` while a task of its latest attempt is unfinished (or the states are stale), else `met`
 * or `never`. Slurm must not be asked to decide once it may have forgotten the job (MinJobAge): it treats an
 * unknown job id as a satisfied dependency, and would start the job even after a failure.
 */
export function afterOutcome(
  status: { stale?: string; tasks: readonly { state: TaskState; attempt: number; provisional?: boolean }[] },
  latestAttempt: number,
  when: AfterWhen,
): 'wait' | 'met' | 'never' {
  const tasks = status.tasks.filter((t) => t.attempt === latestAttempt);
  if (status.stale || !tasks.length || tasks.some((t) => !isFinal(t.state) || t.provisional)) return 'wait';
  const allOk = tasks.every((t) => t.state === 'COMPLETED');
  if (when === 'any') return 'met';
  return (when === 'ok') === allOk ? 'met' : 'never';
}

/** The tasks (numbers) still waiting on a dependency that can never be satisfied. */
export function neverSatisfiable(status: { tasks: readonly { index: number; state: TaskState; reason?: string }[] }): number[] {
  return status.tasks.filter((t) => t.state === 'PENDING' && t.reason === NEVER_SATISFIED).map((t) => t.index);
}

/** True when tasks are unfinished and every one of them waits for ever: waiting longer cannot change anything. */
export function stuckOnDependency(status: { tasks: readonly { index: number; state: TaskState; reason?: string; provisional?: boolean }[] }): boolean {
  const open = status.tasks.filter((t) => !isFinal(t.state) || t.provisional);
  return open.length > 0 && open.every((t) => t.state === 'PENDING' && t.reason === NEVER_SATISFIED);
}

/**
 * The ids an `after<when>` on job `record` must name NOW that pilot retried some of its tasks: Slurm tied the
 * dependent to the arrays of the first submission, whose retried tasks failed, so `afterok` on them can never be
 * satisfied although the job may still come out clean. `ok`: every unfinished task's own array element (a whole
 * array id when every task it holds is still its task's latest and unfinished), nothing for tasks that completed;
 * `never` when a task's latest attempt failed for good. `any`: every array of every attempt, while a task is
 * unfinished. `notok` is left to Slurm (undefined): a failure it already saw has satisfied it.
 * @example afterIdsNow(record, 'ok')   // ['102', '101_3']: task 1 completed, 2 retried as array 102, 3 still runs
 */
export function afterIdsNow(record: JobRecord, when: AfterWhen): string[] | 'never' | undefined {
  if (when === 'notok') return undefined;
  const open = new Map<string, { array: ArraySubmission; tasks: number[] }>();
  for (const t of taskNumbersOf(record)) {
    const latest = latestArrayFor(record, t);
    if (!latest) continue;
    const final = record.finalStates[String(t)];
    if (final && final.attempt === latest.attempt && !final.provisional && isFinal(final.state)) {
      if (final.state !== 'COMPLETED' && when === 'ok') return 'never';
      continue;
    }
    const key = `${latest.attempt}/${latest.array.jobId}`;
    (open.get(key) ?? open.set(key, { array: latest.array, tasks: [] }).get(key)!).tasks.push(t);
  }
  if (!open.size) return [];
  if (when === 'any') return [...new Set(record.attempts.flatMap((a) => a.arrays.map((x) => x.jobId)))];
  return [...open.entries()].flatMap(([key, { array, tasks }]) => {
    const attempt = Number(key.split('/')[0]);
    const held = expandRanges(record.attempts.find((a) => a.attempt === attempt)!.indices).filter((t) => arrayFor(record, t, attempt) === array);
    return held.length === tasks.length ? [array.jobId] : tasks.map((t) => `${array.jobId}_${t - array.offset}`);
  });
}
