/**
 * The arrays of one submission when a sweep's tasks have different resource sets: one array (or chain of
 * chunks past MaxArraySize) per set, each with the job's %K, each holding a sparse index list
 * (`--array=1,3,5%K`), its task numbers and resources stored so that status, logs and restarts find them.
 */
import { chunkOffset } from '../model/attempts.js';
import { arrayBaseOf, type NormalizedJobInfo } from '../model/job.js';
import { compressRanges } from '../model/ranges.js';
import { splitByGroup } from '../model/resources.js';
import type { Dialect, PlannedArray } from './dialect.js';

export function planSubmission(dialect: Pick<Dialect, 'planArrays'>, info: Pick<NormalizedJobInfo, 'resourceGroups' | 'arrayBase'>,
  taskNumbers: readonly number[], chunkSize: number, maxConcurrent?: number): PlannedArray[] {
  const base = arrayBaseOf(info);
  if (!info.resourceGroups?.length) return dialect.planArrays(taskNumbers, chunkSize, maxConcurrent, base);
  return splitByGroup(info.resourceGroups, taskNumbers).flatMap((part, group) => dialect.planArrays(part.tasks, chunkSize, maxConcurrent, base).map((a) => ({
    ...a,
    group,
    tasks: compressRanges(part.tasks.filter((t) => chunkOffset({ chunkSize, info }, t) === a.offset)),
    ...(part.resources ? { resources: part.resources } : {}),
  })));
}

/**
 * How many arrays are chained one after another (afterany) in a submission: chunks of one resource set are;
 * the arrays of different sets are not (for the check of a user's own dependency that cannot be combined).
 */
export function chainedArrays(arrays: readonly PlannedArray[]): number {
  return 1 + arrays.filter((a, i) => i > 0 && a.group === arrays[i - 1]!.group).length;
}
