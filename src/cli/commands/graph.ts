/**
 * `pilot launch graph.yaml` where the file holds `jobs: [...]`: every job validated and ordered by `after:`
 * first (cycles, unknown names refused, exit 2, nothing submitted), then launched in that order on one
 * connection per cluster. `--cluster` and `--unique` apply to every job; `--name` and `--after` would be ambiguous.
 */
import { PilotError } from '../../model/errors.js';
import type { JobInfo } from '../../model/job.js';
import { printJson, withWrapper } from '../common.js';
import type { LaunchOptions } from './launch.js';

const ALLOWED = new Set(['jobs']);

export async function runGraph(doc: Record<string, unknown>, base: string, opts: LaunchOptions): Promise<number> {
  const extra = Object.keys(doc).filter((k) => !ALLOWED.has(k));
  if (extra.length) {
    throw new PilotError('BAD_INPUT', `a job graph file holds only jobs: [...], not ${extra.join(', ')}`, { hint: 'move the fields into each job of the list (or write one job without jobs:)' });
  }
  for (const [flag, given] of [['--name', opts.name !== undefined], ['--after', Boolean(opts.after?.length)]] as const) {
    if (given) throw new PilotError('BAD_INPUT', `${flag} cannot be used with a job graph (jobs: [...])`, { hint: `set jobName / after: in each job of the file instead; nothing was submitted` });
  }
  const jobs = (doc.jobs as unknown[]).map((j, i) => {
    if (!j || typeof j !== 'object' || Array.isArray(j)) throw new PilotError('BAD_INPUT', `jobs[${i}] must be a mapping of job fields`, { hint: 'see README: "Job graphs"' });
    return { ...(j as Record<string, unknown>), ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}), ...(opts.unique ? { uniqueName: true } : {}), ...(opts.collection !== undefined ? { collection: opts.collection } : {}) } as unknown as JobInfo;
  });
  const { planGraph, scheduleGraph } = await import('../../engine/graph.js');

  return withWrapper(async (pilot) => {
    if (opts.dryRun) {
      const { order, normalized } = await planGraph(pilot, jobs, base);
      const plan = order.map((i) => ({ name: normalized[i]!.jobName, cluster: normalized[i]!.cluster, after: normalized[i]!.after ?? [] }));
      if (opts.json) printJson({ order: plan });
      else for (const p of plan) process.stdout.write(`${p.name} on ${p.cluster}${p.after.length ? ` after ${p.after.map((a) => `${a.job}:${a.when}`).join(', ')}` : ''}\n`);
      return 0;
    }
    const results = await scheduleGraph(pilot, jobs, {
      base,
      onLaunched: (job) => {
        if (!opts.json) process.stderr.write(`  ${job.name}: ${job.tasks} task${job.tasks === 1 ? '' : 's'} on ${job.cluster} as job ${job.slurmJobIds.join(', ')}\n`);
      },
    });
    if (opts.json && !opts.wait) printJson(results.map((j) => ({ name: j.name, tasks: j.tasks, slurmJobIds: j.slurmJobIds })));
    else if (!opts.json) process.stdout.write(results.map((j) => `${j.name}\n`).join(''));
    if (!opts.wait) return 0;
    // every job in launch order; the worst outcome decides: a failure, then one unfinished, then all clean
    const { waitAndReport } = await import('./wait.js');
    const codes: number[] = [];
    for (const j of results) codes.push(await waitAndReport(pilot, j.name, { timeout: opts.timeout, json: opts.json, progress: opts.progress }));
    return codes.includes(1) ? 1 : codes.find((c) => c !== 0) ?? 0;
  });
}
