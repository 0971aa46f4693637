/**
 * JobInfo: what a user passes to scheduleJobs (or writes in job.yaml), validated with zod. A bad field gives
 * ONE error naming the field path and how to fix it, before anything is packed, uploaded or submitted.
 * This module is imported lazily (zod is heavy for CLI start-up).
 */
import * as z from 'zod';
import { PilotError } from '../model/errors.js';
import { defaultInterpreter, type NormalizedJobInfo } from '../model/job.js';
import { toArgv, type TaskArgs } from '../model/args.js';
import { JOB_NAME_RE } from '../model/record-check.js';
import { AFTER_WHEN } from '../model/dependencies.js';
import { DEFAULT_COLLECTION } from '../model/collection.js';
import { expandPath } from '../util/paths.js';
import { assertShippable } from '../bundle/files.js';
import { formatZodError } from './zod-error.js';
import { expandJobSources } from './job-sources.js';
import { automationFields, automationSchema } from './retry-spec.js';
import { diagnosisFields, diagnosisValues } from './diagnosis-spec.js';
import { resourceShape } from './resource-spec.js';
import { applySweep, sweepShape } from './sweep-spec.js';
import type { SweepHooks } from '../plan/sweep.js';


const scalarArg = z.union([z.string(), z.number(), z.boolean(), z.bigint()]);
const schema = z.object({
  jobName: z.string().regex(JOB_NAME_RE, 'must be 1-100 characters of letters, digits, . _ - (starting with a letter or digit)'),
  cluster: z.string().min(1).optional(),
  srcDir: z.string().min(1).default('.'),
  entrypoint: z.string().min(1, 'name the program to run, e.g. train.py'),
  interpreter: z.string().optional(),
  libraries: z.array(z.string().min(1)).default([]),
  exclude: z.array(z.string().min(1)).default([]),
  // a single string is ONE task's arguments (`args: "--foo=bar"`, as in slurmpilot): made a list of one here, so
  // that a bad task is reported as itself rather than as "neither a string nor a list". A task given as a bare
  // number (`args: [1, 2, 3]`) is that one word.
  args: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.union([
    z.string(),
    z.number().transform(String),
    z.array(scalarArg),
    z.record(z.string(), z.union([scalarArg, z.null(), z.array(scalarArg)])),
  ], { error: 'each task is a string of shell words ("--lr 0.1"), a number, a list of words ([--lr, 0.1]) or an object of parameters ({lr: 0.1})' }))
    .min(1, 'give at least one task (or leave args out for a single task without arguments)')).optional(),
  arrayBase: z.union([z.literal(0), z.literal(1)], { error: 'must be 0 (tasks 0..N-1) or 1 (tasks 1..N, the default)' }).optional(),
  maxConcurrent: z.number().int().positive('must be a positive whole number').optional(),
  ...resourceShape,   // partition, account, cpus, gpus, mem, time, nodes (resource-spec.ts)
  sbatchArgs: z.array(z.string().regex(/^-/, 'each must be an option starting with -, e.g. --qos=high')).default([]),
  after: z.array(z.object({
    job: z.string().regex(JOB_NAME_RE, 'must be the name of a recorded job (or of one earlier in the same file)'),
    when: z.enum(AFTER_WHEN).default('ok'),
  }).strict()).default([]),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a shell variable name'), z.union([z.string(), z.number(), z.boolean()])).default({}),
  setup: z.union([z.string(), z.array(z.string())]).optional(),
  template: z.string().optional(),
  uniqueName: z.boolean().default(false),
  collection: z.string().regex(JOB_NAME_RE, 'must be 1-100 characters of letters, digits, . _ - (starting with a letter or digit)').default(DEFAULT_COLLECTION),
  largeFileMB: z.number().nonnegative('must be 0 (never warn) or more').optional(),
  ...automationSchema,
  ...diagnosisFields,
  ...sweepShape,   // parameters, resources, taskNamePattern, argsPattern (sweep-spec.ts)
}).strict();

/**
 * Validates and normalises job info (the scheduler's own checks follow: Dialect.checkJob). Relative paths resolve against `base` (the YAML file's folder for
 * `pilot launch`, the working directory for the SDK).
 */
export function normalizeJobInfo(given: unknown, base = process.cwd(), where = 'job', hooks: SweepHooks = {}): NormalizedJobInfo {
  // script: and argsFile: become plain fields first, so their values pass the same checks (job-sources.ts)
  const sources = expandJobSources(given, base, where);
  const parsed = schema.safeParse(sources.input);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const field = first.path.length ? first.path.join('.') : '';
    throw new PilotError('BAD_INPUT', `${where}: ${formatZodError(parsed.error)}`, {
      hint: first.code === 'unrecognized_keys'
        ? `allowed fields: ${[...Object.keys(schema.shape), 'argsFile', 'script'].join(', ')}`
        : `fix ${field || 'the job description'}; nothing was submitted`,
    });
  }
  const info = parsed.data;
  refuseNul({ entrypoint: info.entrypoint, interpreter: info.interpreter, setup: info.setup, env: info.env }, where);
  const srcDir = expandPath(info.srcDir, base);
  assertShippable(srcDir, 'folder', `${where}: srcDir`);
  const libraries = info.libraries.map((lib, i) => {
    const path = expandPath(lib, base);
    assertShippable(path, 'folder or file', `${where}: libraries[${i}]`);
    return path;
  });
  if (info.entrypoint.startsWith('/') || info.entrypoint.split('/').includes('..')) {
    throw new PilotError('BAD_INPUT', `${where}: entrypoint must be a path inside srcDir, got ${info.entrypoint}`, { hint: 'e.g. entrypoint: train.py' });
  }
  // a sweep (parameters:) gives the tasks, their names and resource sets; its resources.defaults the job's own
  const sweep = applySweep(info, hooks, where);
  const args = info.args === undefined ? [[]] : typeof info.args === 'string' ? [info.args] : info.args;
  const argv = sweep?.argv ?? args.map((a, i) => toArgv(a as TaskArgs, `${where}: ${sources.argsWhere?.[i] ?? `args[${i}]`}`));
  const params = sweep?.params ?? args.map((a) => (a && typeof a === 'object' && !Array.isArray(a) ? { ...(a as Record<string, unknown>) } : undefined));
  const res = { ...info, ...sweep?.jobResources };
  const setup = info.setup === undefined ? [] : Array.isArray(info.setup) ? info.setup : [info.setup];
  return {
    jobName: info.jobName,
    cluster: info.cluster,
    srcDir,
    entrypoint: info.entrypoint,
    interpreter: info.interpreter === undefined ? defaultInterpreter(info.entrypoint) : info.interpreter.split(/\s+/).filter(Boolean),
    libraries,
    exclude: info.exclude,
    argv,
    params,
    // issue 13: first task number, where the tasks came from (script/argsFile); absent = defaults
    ...(info.arrayBase === undefined ? {} : { arrayBase: info.arrayBase }),
    ...(sources.script ? { fromScript: sources.script } : {}),
    ...(sources.argsFile ? { argsFile: sources.argsFile } : {}),
    ...(sweep?.taskNames ? { taskNames: sweep.taskNames } : {}),
    ...(sweep?.resourceGroups ? { resourceGroups: sweep.resourceGroups } : {}),
    maxConcurrent: info.maxConcurrent,
    partition: res.partition,
    account: res.account,
    cpus: res.cpus,
    gpus: res.gpus === undefined ? undefined : String(res.gpus),
    mem: res.mem,
    time: res.time,
    nodes: res.nodes,
    sbatchArgs: info.sbatchArgs,
    ...(info.after.length ? { after: info.after } : {}),
    env: Object.fromEntries(Object.entries(info.env).map(([k, v]) => [k, String(v)])),
    setup,
    template: info.template === undefined ? undefined : expandPath(info.template, base),
    uniqueName: info.uniqueName,
    collection: info.collection,
    largeFileMB: info.largeFileMB,
    ...automationFields({ maxRetries: info.maxRetries, retryOn: info.retryOn, onTimeout: info.onTimeout, onOutOfMemory: info.onOutOfMemory, notify: info.notify }),
    ...diagnosisValues(info),
  };
}

/** A NUL byte cannot be part of a script line, an environment value or a program argument: refuse it by name. */
function refuseNul(fields: Record<string, unknown>, where: string): void {
  const visit = (value: unknown, path: string): void => {
    if (typeof value === 'string' && value.includes('\0')) {
      throw new PilotError('BAD_INPUT', `${where}: ${path} contains a NUL byte`, { hint: 'no program argument, environment value or script line can carry a NUL byte; remove it' });
    }
    if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${path}[${i}]`));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, `${path}.${k}`);
  };
  for (const [k, v] of Object.entries(fields)) visit(v, k);
}

