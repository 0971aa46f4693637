/**
 * A job graph: several jobs linked by `after:`, launched by one call in dependency order through ONE wrapper
 * (hence one connection per cluster). Every job is validated, the order computed (cycles, unknown names,
 * duplicates refused) and every `after:` checked against clusters and records BEFORE the first submission.
 * A name changed by `uniqueName` (a → a-2) is followed by the jobs that wait for it.
 */
import { PilotError } from '../model/errors.js';
import { graphOrder } from '../model/dependencies.js';
import type { JobInfo, NormalizedJobInfo } from '../model/job.js';
import { resolveCluster } from './config.js';
import type { ScheduleResult } from './types.js';
import type { SlurmWrapper } from './wrapper.js';

export interface GraphOptions {
  /** Folder that relative paths are resolved against (the YAML's folder for `pilot launch`; default the working directory). */
  base?: string;
  /** Called after each job is submitted, in launch order. */
  onLaunched?: (result: ScheduleResult) => void;
}

/** Validates the whole graph and returns its launch order (indices into `jobs`). Submits nothing. */
export async function planGraph(pilot: SlurmWrapper, jobs: readonly JobInfo[], base?: string): Promise<{ order: number[]; normalized: NormalizedJobInfo[] }> {
  if (!Array.isArray(jobs) || !jobs.length) {
    throw new PilotError('BAD_INPUT', 'jobs: give a list of at least one job', { hint: 'e.g. jobs: [ { jobName: a, … }, { jobName: b, after: [{ job: a }], … } ]' });
  }
  const { normalizeJobInfo } = await import('./job-spec.js');
  const { loadSweepHooks } = await import('./sweep-load.js');
  const normalized: NormalizedJobInfo[] = [];
  for (const [i, j] of jobs.entries()) normalized.push(normalizeJobInfo(j, base, `jobs[${i}]${j?.jobName ? ` (${j.jobName})` : ''}`, await loadSweepHooks(j, base)));
  const recorded = new Set(await pilot.store.names());
  const order = graphOrder(normalized, (n) => recorded.has(n));
  const byName = new Map(normalized.map((n) => [n.jobName, n]));
  for (const job of normalized) {
    if (!job.after?.length) continue;
    const cluster = job.cluster === undefined ? undefined : await resolveCluster(pilot.home, job.cluster);
    if (cluster?.kind === 'local') {
      throw new PilotError('BAD_INPUT', `${job.jobName}: after: is not supported on the local cluster`, { hint: 'run the graph on a Slurm cluster; nothing was submitted' });
    }
    for (const a of job.after) {
      const other = byName.get(a.job)?.cluster ?? (byName.has(a.job) ? undefined : (await pilot.store.read(a.job)).cluster);
      if (other !== job.cluster) {
        throw new PilotError('BAD_INPUT', `${job.jobName}: after: '${a.job}' runs on cluster ${other ?? '(none)'}, not on ${job.cluster ?? '(none)'}`, {
          hint: 'a scheduler only knows its own jobs: every job of a graph linked by after: must use the same cluster; nothing was submitted',
        });
      }
    }
  }
  return { order: order.map((n) => normalized.findIndex((j) => j.jobName === n)), normalized };
}

/**
 * Launches every job of the graph in dependency order; returns the results in that order. A failure part-way
 * says which jobs were already launched (they stay: `pilot cancel` them or launch the rest again).
 * @example
 * const results = await scheduleGraph(pilot, [
 *   { jobName: 'prep', cluster: 'lab', entrypoint: 'prep.py' },
 *   { jobName: 'train', cluster: 'lab', entrypoint: 'train.py', after: [{ job: 'prep' }] },
 * ]);
 */
export async function scheduleGraph(pilot: SlurmWrapper, jobs: readonly JobInfo[], options: GraphOptions = {}): Promise<ScheduleResult[]> {
  const { order } = await planGraph(pilot, jobs, options.base);
  const renamed = new Map<string, string>();
  const results: ScheduleResult[] = [];
  for (const i of order) {
    const job = jobs[i]!;
    const info: JobInfo = job.after ? { ...job, after: job.after.map((a) => ({ ...a, job: renamed.get(a.job) ?? a.job })) } : job;
    try {
      const result = await pilot.scheduleJobs(info, { base: options.base });
      renamed.set(job.jobName, result.name);
      results.push(result);
      options.onLaunched?.(result);
    } catch (err) {
      if (err instanceof PilotError && results.length) {
        err.message += ` (already launched: ${results.map((r) => r.name).join(', ')}; the others were not)`;
      }
      throw err;
    }
  }
  return results;
}
