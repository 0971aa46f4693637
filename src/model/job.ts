/**
 * The job as users describe it (JobInfo: SDK fields, the same in job YAML) and as the rest of the system uses
 * it (NormalizedJobInfo: paths absolute, args as exact argv, defaults applied). Types and pure facts only; the
 * validation (zod, filesystem checks) is engine/job-spec.ts.
 */
import type { TaskArgs } from './args.js';

/** What users give. */
export interface JobInfo {
  jobName: string;
  cluster?: string;
  srcDir?: string;
  entrypoint: string;
  interpreter?: string;
  libraries?: string[];
  exclude?: string[];
  /** One entry per task. Omitted: a single task with no arguments. */
  args?: TaskArgs[];
  maxConcurrent?: number;
  partition?: string;
  account?: string;
  cpus?: number;
  gpus?: number | string;
  mem?: string;
  time?: string;
  nodes?: number;
  sbatchArgs?: string[];
  env?: Record<string, string | number | boolean>;
  setup?: string | string[];
  /** A nunjucks template of your own instead of templates/slurm-array.sh.njk. */
  template?: string;
  /** When jobName is taken, append -2, -3, … instead of failing. */
  uniqueName?: boolean;
  /** Files in the bundle larger than this many MB are named in a warning (default 50; 0: never). */
  largeFileMB?: number;
}

/** What the rest of the system uses: paths absolute, args as exact argv, defaults applied. */
export interface NormalizedJobInfo {
  jobName: string;
  cluster?: string;
  srcDir: string;
  entrypoint: string;
  interpreter: string[];
  libraries: string[];
  exclude: string[];
  argv: string[][];
  /**
   * Task i's parameters when its args were given as an object (`{ lr: 0.01 }`), next to the argv they produced
   * (undefined for string or list args), so failures and results can be read by parameter later.
   */
  params: (TaskParams | undefined)[];
  maxConcurrent?: number;
  partition?: string;
  account?: string;
  cpus?: number;
  gpus?: string;
  mem?: string;
  time?: string;
  nodes?: number;
  sbatchArgs: string[];
  env: Record<string, string>;
  setup: string[];
  template?: string;
  uniqueName: boolean;
  /** undefined in records written before it existed: DEFAULT_LARGE_FILE_MB (model/checks.ts) */
  largeFileMB?: number;
}

/** Interpreter guessed from the entrypoint's extension when none is given. */
export function defaultInterpreter(entrypoint: string): string[] {
  if (entrypoint.endsWith('.py')) return ['python3'];
  if (/\.(m?js|cjs)$/.test(entrypoint)) return ['node'];
  if (entrypoint.endsWith('.sh')) return ['bash'];
  if (entrypoint.endsWith('.R')) return ['Rscript'];
  return [];
}


/** A task's named parameters, as given (scalars, lists of them, null). */
export type TaskParams = Readonly<Record<string, unknown>>;

/** One task of a job: its number, its exact argv, and the parameters that produced it. */
export interface Task {
  index: number;
  argv: readonly string[];
  params?: TaskParams;
}

/** The tasks of a job, numbered from 1. */
export function tasksOf(info: Pick<NormalizedJobInfo, 'argv' | 'params'>): Task[] {
  return info.argv.map((argv, i) => ({ index: i + 1, argv, ...(info.params?.[i] ? { params: info.params[i] } : {}) }));
}
