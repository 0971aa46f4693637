/**
 * `pilot report`: everything one self-contained HTML page shows about a job, gathered with one status call,
 * ONE command reading the ends of the failed tasks' stderr (the log-tails reader `why` uses) and ONE reading
 * the result files (results.ts). The numbers are model/report-stats.ts's, the page report-html.ts's.
 */
import { logPath } from '../model/attempts.js';
import { lastLines } from '../model/error-lines.js';
import { arrayBaseOf } from '../model/job.js';
import { PilotError } from '../model/errors.js';
import { failureClass, type FailureClass } from '../model/failure.js';
import { durations, failureRates, histogram, isFailure, timelineBars, type Bin, type ParamRates, type TimelineBar } from '../model/report-stats.js';
import type { TaskState } from '../model/states.js';
import type { JobStatus } from '../model/tracking.js';
import type { Engine } from './engine.js';
import { resolveName } from './refs.js';
import { resultsFor, type JobResults, type ResultsOptions } from './results.js';
import { statusOf } from './track.js';
import { WHY_MAX_TASKS, WHY_STDERR_LINES, WHY_TAIL_BYTES } from './why.js';

export interface ReportFailedTask {
  index: number;
  /** the task's job, in a collection's report */
  job?: string;
  attempt: number;
  state: TaskState;
  exitCode: number | null;
  failure?: FailureClass;
  /** the last lines of its stderr, cleaned of control characters (raw text: escape it to show it) */
  stderrTail: string[];
}

export interface ReportData {
  /** the job's name, or the collection's */
  name: string;
  /** a collection's report: its jobs, in order (the tasks, bars, failures and rows then name their job) */
  jobs?: string[];
  cluster: string;
  /** ISO 8601 */
  generatedAt: string;
  status: JobStatus;
  /** every attempt of every task that started */
  timeline: TimelineBar[];
  failureRates: ParamRates[];
  /** run time (seconds) of the attempts that ended */
  runTimes: Bin[];
  /** the failed tasks (at most WHY_MAX_TASKS), with their last stderr lines */
  failed: ReportFailedTask[];
  /** failed tasks left out of `failed` */
  failedTruncated?: number;
  results: JobResults;
  /** why something could not be read (the cluster did not answer): the rest is still shown */
  problems: string[];
}

/** The report of one job (name, unique prefix, or the latest job). */
export async function reportOf(engine: Engine, given: string | undefined, options: ResultsOptions = {}): Promise<ReportData> {
  const name = await resolveName(engine.store, given);
  const [status] = await statusOf(engine, [name]);
  return reportFor(engine, name, status!, options);
}

/** The report of a job whose status is known (a collection's report asks once per cluster for all its jobs). */
export async function reportFor(engine: Engine, name: string, status: JobStatus, options: ResultsOptions = {}): Promise<ReportData> {
  const record = await engine.load(name);
  const problems: string[] = status.stale ? [`states may be out of date: ${status.stale}`] : [];
  const failedAll = status.tasks.filter((t) => isFailure(t.state));
  const shown = failedAll.slice(0, WHY_MAX_TASKS);
  const files = shown.map((t) => logPath(record, t.index, t.attempt, 'err')).filter((p): p is string => !!p);
  let tails = new Map<string, { size: number; bytes: Buffer } | undefined>();
  try {
    if (files.length) tails = await (await engine.backendFor(record.cluster)).readLogTails(record, files, WHY_TAIL_BYTES);
  } catch (err) {
    if (!(err instanceof PilotError) || err.code === 'INTERNAL') throw err;
    problems.push(`stderr not read: ${err.message}`);
  }
  const failed = shown.map((t): ReportFailedTask => {
    const p = logPath(record, t.index, t.attempt, 'err');
    const tail = p ? tails.get(p) : undefined;
    let text = tail ? tail.bytes.toString('utf8') : '';
    if (tail && tail.size > tail.bytes.length) text = text.slice(text.search(/\r|\n/) + 1);
    const failure = failureClass(t);
    return { index: t.index, attempt: t.attempt, state: t.state, exitCode: t.exitCode, ...(failure ? { failure } : {}), stderrTail: lastLines(text, WHY_STDERR_LINES) };
  });
  let results: JobResults;
  try {
    results = await resultsFor(engine, record, status, options);
  } catch (err) {
    if (!(err instanceof PilotError) || err.code === 'INTERNAL' || err.code === 'BAD_INPUT') throw err;
    problems.push(`results not read: ${err.message}`);
    results = { name, cluster: record.cluster, file: options.file ?? 'results.json', columns: [], rows: [] };
  }
  const now = Date.now();
  const timeline = timelineBars(status.tasks, record.history, now);
  return {
    name, cluster: record.cluster, generatedAt: new Date(now).toISOString(), status: status, timeline,
    failureRates: failureRates(status.tasks.map((t) => ({ state: t.state, params: record.info.params?.[t.index - arrayBaseOf(record.info)] }))),
    runTimes: histogram(durations(timeline)),
    failed, ...(failedAll.length > shown.length ? { failedTruncated: failedAll.length - shown.length } : {}),
    results, problems,
  };
}
