/**
 * Automatic retries, decided purely from a job's record: which final tasks deserve another attempt, and with
 * which resources. The retry count of a task is DERIVED from the record's attempts (how many submissions
 * included it), never kept as a counter of its own: two watchers deciding under the job lock read the same
 * attempts, so neither can push a task past `maxRetries`.
 */
import { latestArrayFor, taskNumbersOf } from './attempts.js';
import { failureClass, type FailureClass } from './failure.js';
import { PilotError } from './errors.js';
import type { JobRecord, TaskStatus } from './record.js';
import { rangesInclude } from './ranges.js';
import { parseTimeLimit } from './time.js';
import { groupResourcesOf, type ResourceGroup } from './resources.js';
import type { Warning } from './checks.js';
import { DEFAULT_COLLECTION } from './collection.js';

/** Classes retried when `retryOn` is not given: the ones a program's own bug does not cause. */
export const DEFAULT_RETRY_ON: readonly FailureClass[] = ['TIMEOUT', 'NODE_FAIL', 'PREEMPTED'];

export type NotifyEvent = 'job_end' | 'job_failed' | 'collection_final';

export interface NotifyConfig {
  /**
   * Events to send (default job_end). collection_final: once every job of the job's collection is final (only
   * for a collection named with `collection:`/`--collection`, never for `default`).
   */
  on: NotifyEvent[];
  /** POST the payload as JSON to this URL. */
  webhook?: string;
  /** Run this local command (through `sh -c`, the payload on stdin only, never interpolated). */
  command?: string;
}

/** The job fields of retries and notifications (the same in JobInfo and NormalizedJobInfo). */
export interface AutomationFields {
  /** Extra attempts per task at most (default 0: no automatic retries). @example 2 */
  maxRetries?: number;
  /**
   * Failure classes retried (default TIMEOUT, NODE_FAIL, PREEMPTED). A program's own failure only when listed:
   * FAILED (or NONZERO_EXIT, `why`'s name) covers EXIT (non-zero exit code) and SIGNAL.
   * @example ['TIMEOUT', 'FAILED']
   */
  retryOn?: (FailureClass | 'FAILED')[];
  /** A task that timed out gets `timeFactor` × its time limit on its next attempt. @example { timeFactor: 2 } */
  onTimeout?: { timeFactor: number };
  /** A task that ran out of memory gets `memFactor` × its memory on its next attempt. @example { memFactor: 2 } */
  onOutOfMemory?: { memFactor: number };
  /** Tell someone when the job ends (sent by `wait`/`watch`, once per event). */
  notify?: NotifyConfig;
}

/** Resources of one attempt that differ from the job's own (escalated retries). */
export interface AttemptResources { time?: string; mem?: string }

/** One submission a retry pass makes: tasks sharing the same escalated resources. */
export interface RetryGroup { indices: number[]; resources: AttemptResources }

/** How many times task `task` was submitted again after its first attempt. */
export function retriesOf(record: Pick<JobRecord, 'attempts'>, task: number): number {
  return Math.max(0, record.attempts.filter((a) => rangesInclude(a.indices, task)).length - 1);
}

/** The resources task `task` ran with on its latest attempt (the job's unless a retry escalated them). */
export function resourcesOf(record: JobRecord, task: number): AttemptResources {
  const latest = latestArrayFor(record, task);
  const own = latest && record.attempts.find((a) => a.attempt === latest.attempt)?.resources;
  // a sweep task's own resource set (its array's) comes before the job's
  const set = latest?.array.resources;
  return { time: own?.time ?? set?.time ?? record.info.time, mem: own?.mem ?? set?.mem ?? record.info.mem };
}

/** Slurm time syntax for a number of seconds (D-HH:MM:SS or HH:MM:SS), rounded up to whole seconds. */
export function formatSlurmTime(ms: number): string {
  const total = Math.ceil(ms / 1000);
  const d = Math.floor(total / 86_400), h = Math.floor(total / 3600) % 24, m = Math.floor(total / 60) % 60, s = total % 60;
  const hms = [h, m, s].map((n) => String(n).padStart(2, '0')).join(':');
  return d ? `${d}-${hms}` : hms;
}

/** `factor` × a Slurm time limit; undefined (no limit) stays undefined: nothing to scale. */
export function scaleTime(time: string | undefined, factor: number): string | undefined {
  const ms = parseTimeLimit(time);
  return ms === undefined ? time : formatSlurmTime(ms * factor);
}

const MEM_UNITS: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };

/** `factor` × an sbatch memory value (`4G`, `500M`, `16000`), in whole megabytes. */
export function scaleMem(mem: string | undefined, factor: number): string | undefined {
  if (mem === undefined) return undefined;
  const m = /^(\d+)([KMGT]?)B?$/i.exec(mem.trim());
  if (!m) throw new PilotError('BAD_INPUT', `mem: '${mem}' is not an sbatch memory value`, { hint: 'like 4G, 500M or 16000' });
  return `${Math.ceil(Number(m[1]) * MEM_UNITS[(m[2] || 'M').toUpperCase()]! * factor)}M`;
}

/** The class a task's failure is retried under (EXIT and SIGNAL also answer to `FAILED` and to why's `NONZERO_EXIT`). */
export function retryable(task: Pick<TaskStatus, 'state' | 'exitCode' | 'signal'>, retryOn: ReadonlySet<string>): boolean {
  const cls = failureClass(task);
  if (!cls) return false;
  return retryOn.has(cls) || ((cls === 'EXIT' || cls === 'SIGNAL') && (retryOn.has('FAILED') || retryOn.has('NONZERO_EXIT')));
}

/**
 * The retries due now: final tasks (only final ones: a pending or running task is never duplicated) whose
 * failure class is in `retryOn` and whose retries so far are below `maxRetries`, grouped by the resources
 * of their next attempt. Empty when the job asks for no retries or a submission is still unsettled.
 */
export function dueRetries(record: JobRecord): RetryGroup[] {
  const info = record.info;
  const max = info.maxRetries ?? 0;
  if (max <= 0 || record.pending) return [];
  const retryOn = new Set<string>(info.retryOn ?? DEFAULT_RETRY_ON);
  const groups = new Map<string, RetryGroup>();
  for (const t of taskNumbersOf(record)) {
    const final = record.finalStates[t];
    if (!final || final.provisional || !retryable(final, retryOn) || retriesOf(record, t) >= max) continue;
    const was = resourcesOf(record, t);
    // what the task asks for without escalation: its sweep resource set's, else the job's
    const own = { ...info, ...groupResourcesOf(info.resourceGroups, t) };
    const resources: AttemptResources = {};
    if (final.state === 'TIMEOUT' && info.onTimeout) resources.time = scaleTime(was.time, info.onTimeout.timeFactor);
    else if (was.time !== own.time) resources.time = was.time;   // an escalation sticks to later attempts
    if (final.state === 'OUT_OF_MEMORY' && info.onOutOfMemory) resources.mem = scaleMem(was.mem, info.onOutOfMemory.memFactor);
    else if (was.mem !== own.mem) resources.mem = was.mem;
    for (const k of ['time', 'mem'] as const) if (resources[k] === undefined) delete resources[k];
    const key = JSON.stringify(resources);
    (groups.get(key) ?? groups.set(key, { indices: [], resources }).get(key)!).indices.push(t);
  }
  return [...groups.values()];
}

/**
 * What a job's automation fields cannot do as written, said at launch: an escalation factor with nothing to
 * scale (no `mem:`/`time:`, so the retry runs with the cluster's default again), and collection_final for the
 * `default` collection (never sent: name a collection).
 */
export function automationWarnings(info: AutomationFields & { mem?: string; time?: string; collection?: string; resourceGroups?: ResourceGroup[] }): Warning[] {
  const warnings: Warning[] = [];
  const given = (k: 'mem' | 'time') => info[k] !== undefined || Boolean(info.resourceGroups?.some((g) => g.resources[k] !== undefined));
  if (info.onOutOfMemory && !given('mem')) {
    warnings.push({ message: 'onOutOfMemory.memFactor has no memory to scale: the job sets no mem:, so a retry after OUT_OF_MEMORY gets the same memory', hint: 'set mem: (e.g. mem: 4G) for memFactor to raise it' });
  }
  if (info.onTimeout && !given('time')) {
    warnings.push({ message: 'onTimeout.timeFactor has no time limit to scale: the job sets no time:, so a retry after TIMEOUT gets the same limit', hint: "set time: (e.g. time: '1:00:00') for timeFactor to raise it" });
  }
  if (info.notify?.on.includes('collection_final') && (info.collection ?? DEFAULT_COLLECTION) === DEFAULT_COLLECTION) {
    warnings.push({ message: `notify on collection_final is never sent for the '${DEFAULT_COLLECTION}' collection (every job without one joins it)`, hint: 'name a collection: collection: NAME in the job, or --collection NAME' });
  }
  return warnings;
}
