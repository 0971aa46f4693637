/**
 * `pilot report --collection C`: one page over every job of a collection. Each job's report is gathered as for
 * one job (report.ts), then put together: states counted over all of them, one timeline and one results table
 * in which every task names its job, and the failure rate by parameter and the run times over every task (what
 * a collection is for: which values fail, whichever launch they were in). One status call per cluster.
 */
import { PilotError } from '../model/errors.js';
import { arrayBaseOf } from '../model/job.js';
import { durations, failureRates, histogram } from '../model/report-stats.js';
import { countStates, type JobStatus } from '../model/tracking.js';
import type { Engine } from './engine.js';
import { reportFor, type ReportData } from './report.js';
import { statusOf } from './track.js';
import type { ResultsOptions } from './results.js';

export async function collectionReportOf(engine: Engine, collection: string, options: ResultsOptions = {}): Promise<ReportData> {
  const { collectionStore, membersOf } = await import('./collections.js');
  const { records, missing } = await membersOf(engine, await collectionStore(engine).read(collection));
  if (!records.length) throw new PilotError('NOT_FOUND', `collection '${collection}' has no recorded job`, { hint: '`pilot collection show NAME` lists its jobs' });
  // one status call per cluster for every job of the collection, then each job's report from its status
  const statuses = await statusOf(engine, records.map((r) => r.name));
  const parts: ReportData[] = [];
  for (const [i, r] of records.entries()) parts.push(await reportFor(engine, r.name, statuses[i]!, options));
  const tag = <T extends object>(job: string, xs: readonly T[]) => xs.map((x) => ({ ...x, job }));
  const tasks = parts.flatMap((p) => tag(p.name, p.status.tasks));
  const timeline = parts.flatMap((p) => tag(p.name, p.timeline)).sort((a, b) => a.start - b.start);
  const submitted = parts.map((p) => p.status.submittedAt).filter((s): s is string => !!s).sort();
  const status: JobStatus = {
    name: collection, cluster: clustersOf(parts), tasks, counts: countStates(tasks), done: parts.every((p) => p.status.done),
    slurmJobIds: parts.flatMap((p) => p.status.slurmJobIds), attempts: Math.max(...parts.map((p) => p.status.attempts)),
    ...(submitted.length ? { submittedAt: submitted[0] } : {}),
  };
  // parameters by position in each job (argv, params and names are kept in task order)
  const rateInputs = parts.flatMap((p, i) => p.status.tasks.map((t) => ({ state: t.state, params: records[i]!.info.params?.[t.index - arrayBaseOf(records[i]!.info)] })));
  const columns = ['job', ...new Set(parts.flatMap((p) => p.results.columns).filter((c) => c !== 'job'))];
  const truncated = parts.reduce((n, p) => n + (p.failedTruncated ?? 0), 0);
  return {
    name: collection, jobs: parts.map((p) => p.name), cluster: status.cluster, generatedAt: new Date().toISOString(), status, timeline,
    failureRates: failureRates(rateInputs),
    runTimes: histogram(durations(timeline)),
    failed: parts.flatMap((p) => tag(p.name, p.failed)), ...(truncated ? { failedTruncated: truncated } : {}),
    results: { name: collection, cluster: status.cluster, file: parts[0]!.results.file, columns, rows: parts.flatMap((p) => tag(p.name, p.results.rows)) },
    problems: [...parts.flatMap((p) => p.problems.map((x) => `${p.name}: ${x}`)), ...missing.map((m) => `${m}: no longer recorded (pilot rm?), left out`)],
  };
}

function clustersOf(parts: readonly ReportData[]): string {
  return [...new Set(parts.map((p) => p.cluster))].join(', ');
}
