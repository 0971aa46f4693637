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
import { isSlurmTime } from '../model/time.js';
import { expandPath } from '../util/paths.js';
import { assertShippable } from '../bundle/files.js';
import { formatZodError } from './zod-error.js';
import { expandJobSources } from './job-sources.js';
import { automationFields, automationSchema } from './retry-spec.js';
import { diagnosisFields, diagnosisValues } from './diagnosis-spec.js';


/** A partition or account name: what schedulers accept, nothing a directive line could be split on. */
const SCHEDULER_WORD_RE = /^[A-Za-z0-9][A-Za-z0-9._,:-]*$/;
const MEM_RE = /^\d+[KMGT]?B?$/i;

const scalarArg = z.union([z.string(), z.number(), z.boolean(), z.bigint()]);
const schema = z.object({
  jobName: z.string().regex(JOB_NAME_RE, 'must be 1-100 characters of letters, digits, . _ - (starting with a letter or digit)'),
  cluster: z.string().min(1).optional(),
  srcDir: z.string().min(1).default('.'),
  entrypoint: z.string().min(1, 'name the program to run, e.g. train.py'),
  interpreter: z.string().optional(),
  libraries: z.array(z.string().min(1)).default([]),
  exclude: z.array(z.string().min(1)).default([]),
  // a single string is ONE task's arguments (`args: "--foo=bar"`), as in slurmpilot (issue 13)
  args: z.union([z.string(), z.array(z.union([
    z.string(),
    z.array(scalarArg),
    z.record(z.string(), z.union([scalarArg, z.null(), z.array(scalarArg)])),
  ])).min(1, 'give at least one task (or leave args out for a single task without arguments)')]).optional(),
  arrayBase: z.union([z.literal(0), z.literal(1)], { error: 'must be 0 (tasks 0..N-1) or 1 (tasks 1..N, the default)' }).optional(),
  maxConcurrent: z.number().int().positive('must be a positive whole number').optional(),
  partition: z.string().regex(SCHEDULER_WORD_RE, 'must be a Slurm partition name').optional(),
  account: z.string().regex(SCHEDULER_WORD_RE, 'must be a Slurm account name').optional(),
  cpus: z.number().int().positive().optional(),
  gpus: z.union([z.number().int().nonnegative(), z.string().regex(/^[A-Za-z0-9_:.-]+$/, 'like 2 or a100:2')]).optional(),
  mem: z.string().regex(MEM_RE, 'like 4G, 500M or 16000').optional(),
  time: z.string().refine(isSlurmTime, 'like 30 (minutes), 2:00:00 or 1-12:00:00').optional(),
  nodes: z.number().int().positive().optional(),
  sbatchArgs: z.array(z.string().regex(/^-/, 'each must be an option starting with -, e.g. --qos=high')).default([]),
  after: z.array(z.object({
    job: z.string().regex(JOB_NAME_RE, 'must be the name of a recorded job (or of one earlier in the same file)'),
    when: z.enum(AFTER_WHEN).default('ok'),
  }).strict()).default([]),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a shell variable name'), z.union([z.string(), z.number(), z.boolean()])).default({}),
  setup: z.union([z.string(), z.array(z.string())]).optional(),
  template: z.string().optional(),
  uniqueName: z.boolean().default(false),
  collection: z.string().regex(JOB_NAME_RE, 'must be 1-100 characters of letters, digits, . _ - (starting with a letter or digit)').default('default'),
  largeFileMB: z.number().nonnegative('must be 0 (never warn) or more').optional(),
  ...automationSchema,
  ...diagnosisFields,
}).strict();

/**
 * Validates and normalises job info (the scheduler's own checks follow: Dialect.checkJob). Relative paths resolve against `base` (the YAML file's folder for
 * `pilot launch`, the working directory for the SDK).
 */
export function normalizeJobInfo(given: unknown, base = process.cwd(), where = 'job'): NormalizedJobInfo {
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
  const args = info.args === undefined ? [[]] : typeof info.args === 'string' ? [info.args] : info.args;
  const argv = args.map((a, i) => toArgv(a as TaskArgs, `${where}: ${sources.argsWhere?.[i] ?? `args[${i}]`}`));
  const params = args.map((a) => (a && typeof a === 'object' && !Array.isArray(a) ? { ...(a as Record<string, unknown>) } : undefined));
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
    maxConcurrent: info.maxConcurrent,
    partition: info.partition,
    account: info.account,
    cpus: info.cpus,
    gpus: info.gpus === undefined ? undefined : String(info.gpus),
    mem: info.mem,
    time: info.time,
    nodes: info.nodes,
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

