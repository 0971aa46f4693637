/**
 * The sweep fields of a job (`parameters`, `resources`, `taskNamePattern`, `argsPattern`): their zod rules,
 * and the step of normalizeJobInfo that turns them into tasks (argv, params, names) and resource groups. The
 * expansion itself is pure (plan/sweep.ts); the user's functions arrive already loaded (sweep-load.ts).
 */
import * as z from 'zod';
import { PilotError } from '../model/errors.js';
import type { TaskParams } from '../model/job.js';
import { groupByResources, RESOURCE_FIELDS, type ResourceGroup, type TaskResources } from '../model/resources.js';
import { expandParameters, showParams, sweepArgv, taskNames, taskResources, type SweepHooks } from '../plan/sweep.js';
import { resourcesSchema } from './resource-spec.js';
import { formatZodError } from './zod-error.js';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const paramValue = z.union([scalar, z.null(), z.array(scalar)]);
const paramSet = z.record(z.string().min(1, 'a parameter needs a name'), paramValue);
const moduleFunction = z.union([z.object({
  file: z.string().min(1, 'a .js or .mjs file, relative to the job file'),
  function: z.string().min(1, 'the name of a function the file exports'),
}).strict(), z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', 'give { file, function } (or, with the SDK, a function)')]);

export const sweepShape = {
  parameters: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('grid'), values: z.record(z.string().min(1), z.array(paramValue)), filter: moduleFunction.optional() }).strict(),
    z.object({ mode: z.literal('list'), values: z.array(paramSet).min(1, 'give at least one parameter set'), filter: moduleFunction.optional() }).strict(),
  ]).optional(),
  resources: z.object({ defaults: resourcesSchema.optional(), logic: moduleFunction.optional() }).strict().optional(),
  taskNamePattern: z.string().min(1).optional(),
  argsPattern: z.string().optional(),
};

type SweepFields = { [K in keyof typeof sweepShape]?: z.infer<(typeof sweepShape)[K]> } & { args?: unknown; arrayBase?: 0 | 1 } & TaskResourcesInput;
type TaskResourcesInput = Omit<TaskResources, 'gpus'> & { gpus?: number | string };

export interface AppliedSweep {
  argv?: string[][];
  params?: TaskParams[];
  taskNames?: string[];
  resourceGroups?: ResourceGroup[];
  /** The job's own resource fields: its fields with `resources.defaults` laid over them. */
  jobResources: TaskResources;
}

/** Only the fields that are set, gpus as text. */
function resourcesOf(r: TaskResourcesInput): TaskResources {
  const out: Record<string, unknown> = {};
  for (const f of RESOURCE_FIELDS) if (r[f] !== undefined) out[f] = f === 'gpus' ? String(r[f]) : r[f];
  return out as TaskResources;
}

/** The sweep of a validated job, or undefined when it has no sweep fields. */
export function applySweep(info: SweepFields, hooks: SweepHooks, where: string): AppliedSweep | undefined {
  const jobResources = resourcesOf({ ...resourcesOf(info), ...info.resources?.defaults });
  if (!info.parameters) {
    const needs = (['taskNamePattern', 'argsPattern'] as const).find((f) => info[f] !== undefined) ?? (info.resources?.logic ? 'resources.logic' : undefined);
    if (needs) throw new PilotError('BAD_INPUT', `${where}: ${needs} needs parameters (a sweep)`, { hint: 'add parameters: { mode: grid, values: { … } }, or remove it' });
    return info.resources ? { jobResources } : undefined;
  }
  if (info.args !== undefined) {
    throw new PilotError('BAD_INPUT', `${where}: give either args or parameters, not both`, { hint: 'parameters make one task per parameter set (their argv is --key value); args list the tasks one by one' });
  }
  const missing = [info.parameters.filter && !hooks.filter && 'parameters.filter', info.resources?.logic && !hooks.logic && 'resources.logic',
    (info.taskNamePattern ?? info.argsPattern) !== undefined && !hooks.render && 'the nunjucks renderer'].find(Boolean);
  if (missing) throw new PilotError('INTERNAL', `${where}: ${missing} was not loaded`, { hint: 'load it with engine/sweep-load.ts before normalizing' });
  const params = expandParameters(info.parameters, hooks.filter, `${where}: parameters`);
  const argv = sweepArgv(params, info.argsPattern, hooks.render);
  argv.forEach((words, i) => {
    if (words.some((w) => w.includes('\0'))) throw new PilotError('BAD_INPUT', `${where}: task ${i + 1} (${showParams(params[i]!)}) has an argument with a NUL byte`, { hint: 'no program argument can carry a NUL byte' });
  });
  const names = info.taskNamePattern === undefined ? undefined : taskNames(params, info.taskNamePattern, hooks.render!);
  let groups: ResourceGroup[] | undefined;
  if (hooks.logic) {
    const perTask = taskResources(params, jobResources as Record<string, unknown>, hooks.logic).map((r, i) => {
      const parsed = resourcesSchema.safeParse(r);
      if (!parsed.success) {
        throw new PilotError('BAD_INPUT', `${where}: resources.logic ${hooks.logic!.name} gave task ${i + 1} ${showParams(params[i]!)} bad resources: ${formatZodError(parsed.error)}`, {
          hint: `allowed fields: ${RESOURCE_FIELDS.join(', ')}, with the rules of the job's own fields; nothing was submitted`,
        });
      }
      return resourcesOf(parsed.data);
    });
    groups = groupByResources(perTask, info.arrayBase ?? 1);   // task numbers, 0-based with arrayBase: 0
  }
  return {
    argv,
    params,
    ...(names ? { taskNames: names } : {}),
    // one set for every task is simply the job's own: no group needed
    ...(groups && groups.length > 1 ? { resourceGroups: groups } : {}),
    jobResources: groups?.length === 1 ? groups[0]!.resources : jobResources,
  };
}
