/**
 * Pure sweep planning: parameter sets from a grid or a list (minus what a filter drops), each task's name and
 * argv from them, and each task's resources. Loading the user's modules (filter, logic) and nunjucks is I/O:
 * the engine does it (engine/sweep-load.ts) and passes the functions in.
 */
import { objectToArgv, splitShellWords } from '../model/args.js';
import { PilotError } from '../model/errors.js';
import type { TaskParams } from '../model/job.js';

export type Params = Record<string, unknown>;

/** The most tasks a sweep may expand to (each is stored in the record with its argv and parameters). */
export const MAX_TASKS = 1_000_000;

/** A user function with the name it is known by in messages (`sweep.mjs: keep`). */
export interface NamedFunction<A extends unknown[]> {
  fn: (...args: A) => unknown;
  /** `<file>: <function>` */
  name: string;
}

/** Renders a nunjucks template over a task's parameters (autoescape off). */
export type RenderFn = (template: string, params: TaskParams) => string;

/** JSON of a combination for messages, shortened. */
export function showParams(p: TaskParams): string {
  const s = JSON.stringify(p);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/**
 * Every combination of `values`, keys in the order given and the LAST key varying fastest (as nested loops,
 * or Python's itertools.product): `{ a: [1, 2], b: [x, y] }` → a1 bx, a1 by, a2 bx, a2 by.
 */
export function gridOf(values: Readonly<Record<string, readonly unknown[]>>, where = 'parameters'): Params[] {
  const size = Object.values(values).reduce((n, list) => n * list.length, 1);
  if (size > MAX_TASKS) {
    throw new PilotError('BAD_INPUT', `${where}: the grid has ${size} combinations, more than ${MAX_TASKS} tasks`, { hint: 'split the sweep into several jobs, or give fewer values' });
  }
  let out: Params[] = [{}];
  for (const [key, list] of Object.entries(values)) {
    if (!list.length) {
      throw new PilotError('BAD_INPUT', `${where}.values.${key} is empty: the grid would have no task`, { hint: `give ${key} at least one value, or leave the key out` });
    }
    out = out.flatMap((p) => list.map((v) => ({ ...p, [key]: v })));
  }
  return out;
}

/**
 * A sweep's parameter sets in task order (task 1 first): the grid's combinations that `filter` keeps, or the
 * list as given. A filter that throws or answers anything but true/false refuses the job (exit 2), naming
 * the function and the combination.
 */
export function expandParameters(
  spec: { mode: 'grid' | 'list'; values: unknown },
  filter?: NamedFunction<[Params]>,
  where = 'parameters',
): Params[] {
  if (spec.mode === 'list') {
    if (filter) throw new PilotError('BAD_INPUT', `${where}.filter applies to grids only`, { hint: 'leave the combinations out of the list instead, or use mode: grid' });
    return (spec.values as Params[]).map((p) => ({ ...p }));
  }
  const all = gridOf(spec.values as Record<string, unknown[]>, where);
  if (!filter) return all;
  const kept = all.filter((p) => {
    let answer: unknown;
    try {
      answer = filter.fn({ ...p });
    } catch (err) {
      throw new PilotError('BAD_INPUT', `${where}.filter ${filter.name} threw on ${showParams(p)}: ${(err as Error)?.message ?? String(err)}`, {
        hint: 'fix the filter (it is called once per combination, with the parameters as one object); nothing was submitted',
        cause: err,
      });
    }
    if (typeof answer !== 'boolean') {
      throw new PilotError('BAD_INPUT', `${where}.filter ${filter.name} returned ${answer instanceof Promise ? 'a Promise' : JSON.stringify(answer) ?? String(answer)} for ${showParams(p)}`, {
        hint: 'the filter must return true (keep) or false (drop), synchronously; nothing was submitted',
      });
    }
    return answer;
  });
  if (!kept.length) throw new PilotError('BAD_INPUT', `${where}.filter ${filter.name} dropped all ${all.length} combinations`, { hint: 'a sweep needs at least one task; check the filter' });
  return kept;
}

/** A rendered template, or an error naming the field and the task's parameters. */
function renderFor(render: RenderFn, template: string, p: TaskParams, field: string, task: number): string {
  try {
    return render(template, p);
  } catch (err) {
    throw new PilotError('BAD_INPUT', `${field}: cannot render task ${task} (${showParams(p)}): ${(err as Error)?.message ?? String(err)}`, {
      hint: 'a nunjucks template over the task\'s parameters, e.g. {{ model }}_lr{{ lr }}; nothing was submitted',
      cause: err,
    });
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Task names from `taskNamePattern`: one line of printable text each, at most 200 characters. */
export function taskNames(params: readonly TaskParams[], pattern: string, render: RenderFn): string[] {
  return params.map((p, i) => {
    const name = renderFor(render, pattern, p, 'taskNamePattern', i + 1).trim();
    if (!name || CONTROL.test(name) || name.length > 200) {
      throw new PilotError('BAD_INPUT', `taskNamePattern gives task ${i + 1} (${showParams(p)}) the name ${JSON.stringify(name)}`, {
        hint: 'a name must be 1-200 printable characters on one line; nothing was submitted',
      });
    }
    return name;
  });
}

/**
 * Each task's argv: `argsPattern` rendered and split as shell words (quotes honoured, nothing expanded), or
 * the object rule of `args` (`--key value`; true → `--key`; false/null left out; a list → `--key v1 v2`).
 */
export function sweepArgv(params: readonly TaskParams[], pattern: string | undefined, render: RenderFn | undefined): string[][] {
  return params.map((p, i) => (pattern !== undefined && render
    ? splitShellWords(renderFor(render, pattern, p, 'argsPattern', i + 1), `argsPattern (task ${i + 1})`)
    : objectToArgv(p, `parameters (task ${i + 1})`)));
}

/**
 * Each task's resource set as `logic(params, defaults)` returns it, laid over `defaults` (a field it leaves out
 * keeps the default). Validation of the values is the caller's (the job's own field rules).
 */
export function taskResources(params: readonly TaskParams[], defaults: Params, logic: NamedFunction<[Params, Params]> | undefined): Params[] {
  return params.map((p, i) => {
    if (!logic) return { ...defaults };
    let r: unknown;
    try {
      r = logic.fn({ ...p }, { ...defaults });
    } catch (err) {
      throw new PilotError('BAD_INPUT', `resources.logic ${logic.name} threw on task ${i + 1} ${showParams(p)}: ${(err as Error)?.message ?? String(err)}`, {
        hint: 'fix the function (called once per task with (params, defaults)); nothing was submitted',
        cause: err,
      });
    }
    if (r === undefined || r === null) return { ...defaults };
    if (typeof r !== 'object' || Array.isArray(r) || r instanceof Promise) {
      throw new PilotError('BAD_INPUT', `resources.logic ${logic.name} returned ${r instanceof Promise ? 'a Promise' : JSON.stringify(r)} for task ${i + 1} ${showParams(p)}`, {
        hint: 'return an object such as { mem: \'16G\', cpus: 4 }, synchronously; nothing was submitted',
      });
    }
    return { ...defaults, ...(r as Params) };
  });
}

/** The user's functions and the template renderer a sweep needs, loaded by the engine (engine/sweep-load.ts). */
export interface SweepHooks {
  filter?: NamedFunction<[Params]>;
  logic?: NamedFunction<[Params, Params]>;
  render?: RenderFn;
}
