/**
 * `why`: why a task (or every failed task of a job) did not come out right, in one call: its state, exit code,
 * signal and failure class, the last lines of its stderr, and the error lines found in the ends of its logs
 * (model/error-lines.ts: built-in patterns and the job's `errorPatterns`, minus its `errorWhitelist`).
 *
 * One status call, then ONE command reading the ends of the logs of every task concerned (bounded bytes per
 * file, WHY_MAX_TASKS tasks at most). `why NAME/I` reports that task whatever its state, so a COMPLETED task
 * whose logs hold error lines is reported as LOG_ERROR (its state stays COMPLETED: the program said it
 * succeeded, pilot only points at what looks wrong). `why NAME` reports the tasks that failed (and those pending
 * on a dependency that can never be satisfied), grouped by class; it does not read the logs of completed tasks.
 */
import { logPath } from '../model/attempts.js';
import { PilotError } from '../model/errors.js';
import type { LogTail } from '../scheduler/log-tails.js';
import { findErrorLines, lastLines, type ErrorLine } from '../model/error-lines.js';
import { whyClass, type FailureClass } from '../model/failure.js';
import type { TaskStatus } from '../model/record.js';
import type { TaskState } from '../model/states.js';
import type { Engine } from './engine.js';
import { checkIndex, resolveRef } from './refs.js';
import { statusOf } from './track.js';

/** Bytes read from the end of each log: enough for a Python traceback and what led to it. */
export const WHY_TAIL_BYTES = 16 * 1024;
/** Tasks reported in full by one call (the others are only counted in their groups). */
export const WHY_MAX_TASKS = 50;
/** Lines of stderr shown. */
export const WHY_STDERR_LINES = 10;

export interface WhyTask {
  index: number;
  attempt: number;
  state: TaskState;
  exitCode: number | null;
  signal?: number;
  /** the scheduler's reason, e.g. DependencyNeverSatisfied */
  reason?: string;
  /** undefined: nothing wrong was found */
  failure?: FailureClass;
  missingFiles?: string[];
  /** the last lines of stderr (cleaned of control characters) */
  stderrTail: string[];
  /** error lines found in the ends of stdout and stderr */
  errorLines: ErrorLine[];
  /** the logs could not be read (the task never ran, or they are gone) */
  logsMissing?: boolean;
}

export interface WhyReport {
  name: string;
  cluster: string;
  tasks: WhyTask[];
  /** failure class → the tasks of that class (all of them, also those over WHY_MAX_TASKS) */
  groups: { failure: FailureClass; tasks: number[] }[];
  /** tasks left out of `tasks` because there were more than WHY_MAX_TASKS */
  truncated?: number;
  /** states may be out of date (the cluster did not answer) */
  stale?: string;
  /** why the logs could not be read (the cluster did not answer): states and classes only */
  logsUnreadable?: string;
}

export async function why(engine: Engine, ref: string): Promise<WhyReport> {
  const { name, index } = await resolveRef(engine.store, ref);
  const record = await engine.load(name);
  if (index !== undefined) checkIndex(record, index);
  const [status] = await statusOf(engine, [name]);
  const fresh = await engine.load(name);
  const concerned = index !== undefined ? [status!.tasks.find((t) => t.index === index)!] : status!.tasks.filter((t) => whyClass(t));
  const shown = concerned.slice(0, WHY_MAX_TASKS);

  const files = shown.flatMap((t) => (['out', 'err'] as const).map((s) => logPath(fresh, t.index, t.attempt, s)).filter((p): p is string => !!p));
  let tails = new Map<string, LogTail | undefined>();
  let logsUnreadable: string | undefined;
  try {
    if (files.length) tails = await (await engine.backendFor(fresh.cluster)).readLogTails(fresh, files, WHY_TAIL_BYTES);
  } catch (err) {
    // the states and classes are still worth showing when the cluster cannot be reached; a bug must surface
    if (!(err instanceof PilotError) || err.code === 'INTERNAL') throw err;
    logsUnreadable = err.message;
  }
  const info = fresh.info;
  const options = { patterns: info.errorPatterns, whitelist: info.errorWhitelist, threshold: info.errorWhitelistWords };

  const tasks = shown.map((t): WhyTask => {
    const text = (s: 'out' | 'err') => {
      const p = logPath(fresh, t.index, t.attempt, s);
      const tail = p ? tails.get(p) : undefined;
      if (!tail) return undefined;
      const str = tail.bytes.toString('utf8');
      // a window cut inside a line: its first (partial) line is dropped
      return tail.size > tail.bytes.length ? str.slice(str.search(/\r|\n/) + 1) : str;
    };
    const out = text('out');
    const err = text('err');
    const errorLines = [...findErrorLines(err ?? '', 'stderr', options), ...findErrorLines(out ?? '', 'stdout', options)];
    return describe(t, err === undefined ? [] : lastLines(err, WHY_STDERR_LINES), errorLines, !logsUnreadable && out === undefined && err === undefined);
  });
  // a single task asked for by name counts as concerned when something was found in its logs (LOG_ERROR)
  const byClass = new Map<FailureClass, number[]>();
  const classes = new Map(tasks.map((t) => [t.index, t.failure]));
  for (const t of concerned) {
    const cls = classes.has(t.index) ? classes.get(t.index) : whyClass(t);
    if (cls) (byClass.get(cls) ?? byClass.set(cls, []).get(cls)!).push(t.index);
  }
  return {
    name,
    cluster: fresh.cluster,
    tasks,
    groups: [...byClass].map(([failure, list]) => ({ failure, tasks: list })),
    ...(concerned.length > shown.length ? { truncated: concerned.length - shown.length } : {}),
    ...(status!.stale ? { stale: status!.stale } : {}),
    ...(logsUnreadable ? { logsUnreadable } : {}),
  };
}

function describe(t: TaskStatus, stderrTail: string[], errorLines: ErrorLine[], logsMissing: boolean): WhyTask {
  const failure = whyClass(t, errorLines.length);
  return {
    index: t.index, attempt: t.attempt, state: t.state, exitCode: t.exitCode,
    ...(t.signal ? { signal: t.signal } : {}),
    ...(t.reason ? { reason: t.reason } : {}),
    ...(failure ? { failure } : {}),
    ...(t.missingFiles ? { missingFiles: t.missingFiles } : {}),
    stderrTail, errorLines,
    ...(logsMissing ? { logsMissing } : {}),
  };
}
