/**
 * `after:` resolved against the records: each named job must be recorded on the same cluster, with a confirmed
 * submission; its latest attempt's array ids become the scheduler's dependency while it is unfinished; once it
 * has ended, pilot decides (met: no dependency; never: refused). Checked before anything is packed, uploaded
 * or submitted.
 */
import type { ClusterConfig } from '../model/cluster.js';
import { afterOutcome, combineDependencies, dependencyString } from '../model/dependencies.js';
import { PilotError } from '../model/errors.js';
import type { NormalizedJobInfo } from '../model/job.js';
import type { JobRecord } from '../model/record.js';
import { jobStatus, openTasks } from '../model/tracking.js';
import { dialectFor } from '../scheduler/index.js';
import type { Engine } from './engine.js';
import { refresh } from './track.js';

/** Refuses `after:` a backend cannot honour: the local cluster has no scheduler to hold a job back. */
export function checkAfterSupported(info: NormalizedJobInfo, cluster: ClusterConfig): void {
  if (info.after?.length && cluster.kind === 'local') {
    throw new PilotError('BAD_INPUT', `${info.jobName}: after: is not supported on the local cluster`, {
      hint: 'run it on a Slurm cluster, or launch the jobs one by one with `pilot launch a.yaml --wait && pilot launch b.yaml`; nothing was submitted',
    });
  }
  // the same for a --dependency among sbatchArgs (or a script's #SBATCH lines): the local runner would ignore it
  const own = cluster.kind === 'local' ? dialectFor(cluster.kind).userDependency(info, 1) : undefined;
  if (own) {
    throw new PilotError('BAD_INPUT', `${info.jobName}: --dependency=${own} is not supported on the local cluster`, {
      hint: 'remove it from sbatchArgs (or the script\'s #SBATCH lines), and start the job once the other has ended: `pilot wait other && pilot launch job.yaml`; nothing was submitted',
    });
  }
}

/** A named job's record, if it is one `after:` may name for this cluster (else the reason, for the error). */
async function dependedOn(engine: Engine, name: string, job: string, cluster: string): Promise<JobRecord> {
  let record: JobRecord;
  try {
    record = await engine.load(name);
  } catch (err) {
    if (err instanceof PilotError && err.code === 'NOT_FOUND') {
      throw new PilotError('BAD_INPUT', `${job}: after: no recorded job is called '${name}'`, { hint: 'name a job that `pilot list` shows (launch it first); nothing was submitted' });
    }
    throw err;
  }
  if (record.cluster !== cluster) {
    throw new PilotError('BAD_INPUT', `${job}: after: '${name}' ran on cluster ${record.cluster}, not on ${cluster}`, {
      hint: 'a scheduler only knows its own jobs: depend on jobs of the same cluster; nothing was submitted',
    });
  }
  if (!record.attempts.length) {
    throw new PilotError('BAD_INPUT', `${job}: after: '${name}' has no confirmed submission yet`, { hint: `run \`pilot status ${name}\`, then launch again; nothing was submitted` });
  }
  return record;
}

/**
 * The dependency value for `info.after` (undefined when it names nobody), combined with the user's own
 * `--dependency` from sbatchArgs, so that a mix that cannot work is refused now rather than by sbatch.
 */
export async function resolveAfter(engine: Engine, info: NormalizedJobInfo, cluster: ClusterConfig): Promise<string | undefined> {
  checkAfterSupported(info, cluster);
  if (!info.after?.length) return undefined;
  const records = await Promise.all(info.after.map((a) => dependedOn(engine, a.job, info.jobName, cluster.name)));
  // states asked now (one round trip on the connection the launch uses anyway): a job Slurm has forgotten is
  // decided here, since sbatch takes an unknown job id as a dependency already met
  const open = records.filter((r) => openTasks(r).length);
  const fresh = new Map((open.length ? await refresh(engine, open) : []).map((s) => [s.name, s]));
  const resolved = info.after.map((a, i) => {
    const record = records[i]!;
    const latest = record.attempts[record.attempts.length - 1]!;
    const status = fresh.get(record.name) ?? jobStatus(record);
    const outcome = afterOutcome(status, latest.attempt, a.when);
    if (outcome === 'never') {
      const counts = Object.entries(status.counts).map(([k, n]) => `${k} ${n}`).join(', ');
      throw new PilotError('BAD_INPUT', `${info.jobName}: after: '${a.job}' has already ended (${counts}), so after${a.when} can never be satisfied`, {
        hint: `use when: any, or \`pilot restart-failed ${a.job}\` first (after: follows its latest attempt); nothing was submitted`,
      });
    }
    // every array of the latest attempt: Slurm's after* on an array id covers all its tasks
    return { when: a.when, jobIds: outcome === 'met' ? [] : latest.arrays.map((x) => x.jobId) };
  });
  const ours = dependencyString(resolved);
  combineDependencies(dialectFor(cluster.kind).userDependency(info, 1), ours, info.jobName);
  return ours;
}
