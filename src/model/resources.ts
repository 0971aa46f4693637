/**
 * Per-task resources of a sweep (`resources.logic`): tasks whose resource sets differ run as one array per
 * distinct set inside the same job. Stored on the job (`NormalizedJobInfo.resourceGroups`) so that a restart
 * resubmits each task with its own set; pure lookups only.
 */
import { compressRanges, rangesInclude } from './ranges.js';

/** The scheduler resources one task asks for (the job-level fields of the same names). */
export interface TaskResources {
  partition?: string;
  account?: string;
  cpus?: number;
  gpus?: string;
  mem?: string;
  time?: string;
  nodes?: number;
}

/** The resource fields, in the order they are shown and compared. */
export const RESOURCE_FIELDS = ['partition', 'account', 'cpus', 'gpus', 'mem', 'time', 'nodes'] as const;

/** Tasks (compressed numbers, e.g. `1,3-5`) sharing one resource set. */
export interface ResourceGroup {
  tasks: string;
  resources: TaskResources;
}

/** A stable key of a resource set: equal sets give equal keys whatever the order of their fields. */
export function resourceKey(r: TaskResources): string {
  return JSON.stringify(RESOURCE_FIELDS.map((f) => r[f] ?? null));
}

/** `mem=32G cpus=4`: a resource set for humans (dry runs, status). */
export function describeResources(r: TaskResources | undefined): string {
  if (!r) return '';
  return RESOURCE_FIELDS.filter((f) => r[f] !== undefined).map((f) => `${f}=${r[f]}`).join(' ');
}

/**
 * Task i's resource set (index 0 = task 1) grouped: one group per distinct set, in order of first appearance,
 * so the first task's set is group 1.
 */
export function groupByResources(perTask: readonly TaskResources[], base: 0 | 1 = 1): ResourceGroup[] {
  const groups = new Map<string, { tasks: number[]; resources: TaskResources }>();
  perTask.forEach((r, i) => {
    const key = resourceKey(r);
    (groups.get(key) ?? groups.set(key, { tasks: [], resources: r }).get(key)!).tasks.push(i + base);
  });
  return [...groups.values()].map((g) => ({ tasks: compressRanges(g.tasks), resources: g.resources }));
}

/**
 * Splits task numbers by the job's resource groups (one part per group that holds any of them, in group
 * order); a job without groups gives one part without resources.
 */
export function splitByGroup(groups: readonly ResourceGroup[] | undefined, taskNumbers: readonly number[]): { tasks: number[]; resources?: TaskResources }[] {
  if (!groups?.length) return [{ tasks: [...taskNumbers] }];
  const parts = groups.map((g) => ({ tasks: taskNumbers.filter((t) => rangesInclude(g.tasks, t)), resources: g.resources }));
  // a task in no group (cannot happen for a record written by pilot) still runs, with the job's own resources
  const lost = taskNumbers.filter((t) => !groups.some((g) => rangesInclude(g.tasks, t)));
  return [...parts, ...(lost.length ? [{ tasks: lost }] : [])].filter((p) => p.tasks.length);
}

/** The resource set of task `task` in a job with resource groups (undefined: the job's own). */
export function groupResourcesOf(groups: readonly ResourceGroup[] | undefined, task: number): TaskResources | undefined {
  return groups?.find((g) => rangesInclude(g.tasks, task))?.resources;
}
