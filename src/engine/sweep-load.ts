/**
 * Loads what a sweep needs before its job can be normalized: the user's `parameters.filter` and
 * `resources.logic` functions (ES modules: `.js`/`.mjs`/`.cjs`, paths relative to the job file) and, for
 * `taskNamePattern`/`argsPattern`, a nunjucks renderer. I/O only: the expansion is plan/sweep.ts.
 *
 * TypeScript files are refused with a clear message: Node 20 imports `.ts` only through a loader (tsx,
 * ts-node) that pilot does not install; compile them, or write the few lines as `.mjs`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { importFile } from '../util/import-file.js';
import { PilotError } from '../model/errors.js';
import type { NamedFunction, SweepHooks } from '../plan/sweep.js';

type Fn = (...args: never[]) => unknown;

/** A field's `{ file, function }` when it looks like one (zod reports anything else later). */
function moduleRef(v: unknown): { file: string; function: string } | undefined {
  const r = v as { file?: unknown; function?: unknown } | undefined;
  return r && typeof r.file === 'string' && typeof r.function === 'string' ? { file: r.file, function: r.function } : undefined;
}

/** Imports `file` (relative to `base`) and returns its exported function `name`, or refuses with exit 2. */
export async function loadFunction<A extends unknown[]>(ref: { file: string; function: string }, base: string, field: string): Promise<NamedFunction<A>> {
  const path = resolve(base, ref.file);
  const name = `${ref.file}: ${ref.function}`;
  if (/\.(c|m)?tsx?$/.test(ref.file)) {
    throw new PilotError('BAD_INPUT', `${field}: ${ref.file} is TypeScript, which Node ${process.versions.node} cannot import without a loader`, {
      hint: 'write the function in a .mjs (or .js) file, or compile the .ts to .js first; nothing was submitted',
    });
  }
  if (!existsSync(path)) throw new PilotError('BAD_INPUT', `${field}: ${ref.file} does not exist (looked for ${path})`, { hint: 'the path is relative to the job file; nothing was submitted' });
  let mod: Record<string, unknown>;
  try {
    mod = await importFile(path);
  } catch (err) {
    throw new PilotError('BAD_INPUT', `${field}: cannot load ${ref.file}: ${(err as Error)?.message ?? String(err)}`, { hint: 'fix the module (an ES module, .mjs or .js); nothing was submitted', cause: err });
  }
  // a CommonJS module's exports arrive as `default`
  const fn = mod[ref.function] ?? (mod.default as Record<string, unknown> | undefined)?.[ref.function];
  if (typeof fn !== 'function') {
    const exported = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new PilotError('BAD_INPUT', `${field}: ${ref.file} exports no function ${ref.function}`, {
      hint: `${exported.length ? `its functions: ${exported.join(', ')}` : 'it exports no function'}; e.g. export function ${ref.function}(params) { … }. Nothing was submitted`,
    });
  }
  return { fn: fn as Fn as NamedFunction<A>['fn'], name };
}

/** The hooks a job's sweep fields need (none for a job without them). */
export async function loadSweepHooks(input: unknown, base = process.cwd()): Promise<SweepHooks> {
  const job = (input ?? {}) as { parameters?: { filter?: unknown }; resources?: { logic?: unknown }; taskNamePattern?: unknown; argsPattern?: unknown };
  const hooks: SweepHooks = {};
  // the SDK may pass the functions themselves
  const filter = job.parameters?.filter;
  if (typeof filter === 'function') hooks.filter = { fn: filter as (p: unknown) => unknown, name: `${filter.name || 'function'}()` };
  else if (moduleRef(filter)) hooks.filter = await loadFunction(moduleRef(filter)!, base, 'parameters.filter');
  const logic = job.resources?.logic;
  if (typeof logic === 'function') hooks.logic = { fn: logic as (p: unknown, d: unknown) => unknown, name: `${logic.name || 'function'}()` };
  else if (moduleRef(logic)) hooks.logic = await loadFunction(moduleRef(logic)!, base, 'resources.logic');
  if (typeof job.taskNamePattern === 'string' || typeof job.argsPattern === 'string') {
    const nunjucks = (await import('nunjucks')).default;
    // plain text out: no HTML escaping; an undefined variable is an error, not an empty string
    const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
    hooks.render = (template, params) => env.renderString(template, { ...params });
  }
  return hooks;
}
