/**
 * The `#SBATCH` lines of a job: resources, the default array spec, per-task log files, the user's own
 * options. Every value is checked once more here, whatever its source.
 */
import { taskRange, type NormalizedJobInfo } from '../../model/job.js';
import type { DirectiveDefaults } from '../dialect.js';
import { assertSbatchValue } from './options.js';

/** The #SBATCH options of a job: resources, the default array spec, and per-task log files. */
export function sbatchLines(info: NormalizedJobInfo, tasks: number, defaults: DirectiveDefaults = {}): string[] {
  const lines = [`--job-name=${info.jobName}`];
  const partition = info.partition ?? defaults.partition;
  const account = info.account ?? defaults.account;
  if (partition) lines.push(`--partition=${partition}`);
  if (account) lines.push(`--account=${account}`);
  if (info.nodes) lines.push(`--nodes=${info.nodes}`);
  if (info.cpus) lines.push(`--cpus-per-task=${info.cpus}`);
  if (info.gpus) lines.push(`--gpus=${info.gpus}`);
  if (info.mem) lines.push(`--mem=${info.mem}`);
  if (info.time) lines.push(`--time=${info.time}`);
  lines.push(`--array=${arraySpec(taskRange(tasks, info), info.maxConcurrent)}`);   // 1-N, or 0-(N-1) with arrayBase 0
  lines.push('--output=logs/%A_%a.out', '--error=logs/%A_%a.err');
  lines.push(...info.sbatchArgs);
  // the last line of defence: whatever the source, no value may end its #SBATCH line early
  for (const line of lines) assertSbatchValue(line, '#SBATCH line', `job ${info.jobName}`);
  return lines;
}

export function arraySpec(indices: string, maxConcurrent?: number): string {
  return maxConcurrent ? `${indices}%${maxConcurrent}` : indices;
}

