/**
 * The job as users describe it (JobInfo: SDK fields, the same in job YAML) and as the rest of the system uses
 * it (NormalizedJobInfo: paths absolute, args as exact argv, defaults applied). Types and pure facts only; the
 * validation (zod, filesystem checks) is engine/job-spec.ts.
 */
import type { TaskArgs } from './args.js';
import type { AutomationFields } from './retry.js';
import type { AfterSpec } from './dependencies.js';
import type { ResourceGroup, TaskResources } from './resources.js';

/** A JS module and the function it exports, for a sweep's `filter` and `resources.logic` (path relative to the YAML). */
export interface ModuleFunction { file: string; function: string }

/** A sweep's parameters: every combination of `values` (grid) or the listed sets (list). */
export interface SweepParameters {
  /** `grid`: the cartesian product of `values` (the LAST key varies fastest); `list`: `values` as given. */
  mode: 'grid' | 'list';
  /** grid: `{ key: [values…] }`; list: `[{ key: value, … }, …]`. */
  values: Record<string, readonly unknown[]> | readonly Record<string, unknown>[];
  /**
   * grid only: a `.js`/`.mjs` module whose function (params) → boolean keeps a combination when true (with the
   * SDK, also the function itself).
   */
  filter?: ModuleFunction | ((params: Record<string, unknown>) => boolean);
}

/** A sweep's resources: `defaults` for every task, `logic(params, defaults)` → one task's own. */
export interface SweepResources {
  defaults?: TaskResources & { gpus?: number | string };
  /** (params, defaults) → that task's resources: a module's function (with the SDK, also the function itself). */
  logic?: ModuleFunction | ((params: Record<string, unknown>, defaults: TaskResources) => TaskResources);
}

/**
 * What users give: the fields of `scheduleJobs()`, the same (camelCase) in a job YAML for `pilot launch`,
 * where relative paths are resolved against the YAML's folder (the working directory for the SDK).
 */
export interface JobInfo extends AutomationFields {
  /**
   * The job's name: unique among your recorded jobs, 1-100 letters, digits, `.`, `_`, `-`. Also the Slurm job
   * name. Never overwritten: a taken name fails, unless `uniqueName`.
   * @example 'fine-tune-mlp'
   */
  jobName: string;
  /**
   * Where to run: a cluster from `$PILOT_HOME/config.yaml`, or `local` (this machine, no Slurm needed).
   * @example 'lab'
   */
  cluster?: string;
  /**
   * The folder shipped to the cluster (once per content hash), without what `.gitignore` and `exclude` leave
   * out and without `.git`, `node_modules`, `__pycache__`, `.venv`… Default `.`.
   * @example './'
   */
  srcDir?: string;
  /**
   * The program to run (or give `script`), a path inside `srcDir`: runs `<interpreter> <entrypoint> <task argv…>` in the unpacked
   * sources.
   * @example 'train.py'
   */
  entrypoint?: string;
  /**
   * The command that runs the entrypoint, split on spaces. Default: guessed from the extension (`.py` python3,
   * `.js`/`.mjs` node, `.sh` bash, `.R` Rscript); none means the entrypoint is executed directly.
   * @example 'python3 -u'
   */
  interpreter?: string;
  /**
   * More folders (or files), each shipped as `lib/<name>` and put on PYTHONPATH / NODE_PATH.
   * @example ['../custom_library']
   */
  libraries?: string[];
  /**
   * More gitignore-style patterns to leave out of the bundle, relative to `srcDir` (and to each library).
   * @example ['data/', '*.ckpt']
   */
  exclude?: string[];
  /**
   * One entry per task: a shell-words string (quotes honoured, nothing expanded), an exact argv list, or an
   * object (`{ lr: 0.01, fast: true }` → `--lr 0.01 --fast`; `false`/`null` left out; lists repeat their
   * values after the flag). Omitted: a single task with no arguments. A single string (not in a list) is one
   * task's arguments.
   * @example ['--lr 0.001', ['--name', 'a b'], { lr: 0.01, fast: true }]
   */
  args?: TaskArgs[] | string;
  /**
   * A file with one task per line, instead of `args` (not both): each line is shell words as in an `args`
   * string; blank lines and lines starting with `#` are skipped. Relative to the job file.
   * @example 'iterations.txt'
   */
  argsFile?: string;
  /**
   * An existing sbatch script to run unchanged (with bash) as each task, instead of `entrypoint`: its `#SBATCH`
   * lines give the tasks (`--array=0-4%2`: 5 tasks numbered from 0, 2 at once), partition, time, mem, cpus…
   * unless the job file sets them; its `--output`/`--error` are ignored (pilot keeps per-task logs). srcDir
   * defaults to the script's folder. `pilot launch run.sbatch` does the same without a job file.
   * @example './run-array.sbatch'
   */
  script?: string;
  /**
   * The first task's number: 1 (default: tasks 1..N) or 0 (tasks 0..N-1, as 0-based tools and scripts expect:
   * `SLURM_ARRAY_TASK_ID`, `name/0`, `{index}` and status all count from 0).
   * @example 0
   */
  arrayBase?: 0 | 1;
  /**
   * A sweep instead of `args`: one task per parameter set, whose argv is `--key value` per parameter (the
   * object rule of `args`) or `argsPattern`. The sets are stored per task and given to it as PILOT_PARAMS_JSON.
   * @example { mode: 'grid', values: { model: ['mlp', 'cnn'], lr: [0.1, 0.01] }, filter: { file: 'sweep.mjs', function: 'keep' } }
   */
  parameters?: SweepParameters;
  /**
   * Per-task resources of a sweep: `defaults` override the job's fields; `logic` (a `.js`/`.mjs` function
   * (params, defaults) → resources) gives each task its own. One array per distinct set, in the same job.
   * @example { defaults: { mem: '4G' }, logic: { file: 'sweep.mjs', function: 'resources' } }
   */
  resources?: SweepResources;
  /** A sweep task's name, a nunjucks template over its parameters (shown by status). @example '{{ model }}_lr{{ lr }}' */
  taskNamePattern?: string;
  /**
   * A sweep task's argv as a nunjucks template over its parameters, rendered then split as shell words
   * (quotes honoured, nothing expanded). Default: `--key value` per parameter.
   * @example '--model {{ model }} --lr={{ lr }}'
   */
  argsPattern?: string;
  /**
   * At most this many tasks run at once (the K in `--array=1-N%K`). Default: no limit.
   * @example 4
   */
  maxConcurrent?: number;
  /** Slurm partition (default: the cluster's `partition` in config.yaml). @example 'gpu' */
  partition?: string;
  /** Slurm account to charge (default: the cluster's `account`). @example 'lab-ml' */
  account?: string;
  /** CPUs per task (`--cpus-per-task`). @example 4 */
  cpus?: number;
  /** GPUs per task: a count or `type:count` (`--gpus`). @example 'a100:1' */
  gpus?: number | string;
  /** Memory per node, sbatch units: a number of megabytes or with K/M/G/T (`--mem`). @example '16G' */
  mem?: string;
  /**
   * Time limit per task in sbatch's syntax: minutes, M:S, H:M:S, D-H, D-H:M, D-H:M:S (`--time`). The local
   * cluster enforces it too. @example '2:00:00'
   */
  time?: string;
  /** Nodes per task (`--nodes`). @example 1 */
  nodes?: number;
  /**
   * More `#SBATCH` options, each starting with `-`. The options pilot owns (array, output, error, chdir,
   * job-name, parsable, wrap) are refused in every spelling, and so is any control character.
   * @example ['--qos=high', '--constraint=a100']
   */
  sbatchArgs?: string[];
  /**
   * Start only after other jobs, recorded on the same cluster (or earlier in the same job graph): every array of
   * each named job's latest attempt. `when`: `ok` (default: every task completed), `notok` (some task failed),
   * `any` (whatever happened). Slurm only (the local cluster refuses it). A dependency that can no longer be
   * met is reported by status and wait (reason `DependencyNeverSatisfied`).
   * @example [{ job: 'preprocess' }, { job: 'warmup', when: 'any' }]
   */
  after?: AfterSpec[];
  /**
   * Environment variables for the program. Values are quoted, never executed.
   * @example { OMP_NUM_THREADS: 4, WANDB_MODE: 'offline' }
   */
  env?: Record<string, string | number | boolean>;
  /**
   * Shell lines run before the program in each task: your own code, run as is.
   * @example ['module load cuda/12', 'source ~/venv/bin/activate']
   */
  setup?: string | string[];
  /** A nunjucks template of your own instead of templates/slurm-array.sh.njk. @example './my-array.sh.njk' */
  template?: string;
  /** When jobName is taken, append -2, -3, … instead of failing. Default false. */
  uniqueName?: boolean;
  /** The collection the job joins (created if missing; `pilot collection …`). Default `default`. @example 'lr-sweep' */
  collection?: string;
  /** Files in the bundle larger than this many MB are named in a warning (default 50; 0: never). */
  largeFileMB?: number;
  /**
   * Files every task must leave: globs (`*`, `?`, `[…]`) relative to the output folder ($PILOT_OUTPUT_DIR), or
   * to the job folder when they start with `$PILOT_JOB_DIR/`; `{index}` is the task number. A task that
   * completes while one matches nothing becomes MISSING_OUTPUT (restarted by `restart-failed`).
   * @example ['model-{index}.pt', 'metrics/{index}/*.json']
   */
  expectedFiles?: string[];
  /**
   * More error lines for `pilot why` to find in a task's logs (JavaScript regular expressions), on top of the
   * built-in ones (Traceback, `Error:`, `Killed`, `CUDA out of memory`, `slurmstepd: error`, …).
   * @example ['^FATAL', 'loss is nan']
   */
  errorPatterns?: string[];
  /**
   * Harmless messages `pilot why` must not report: a line sharing at least `errorWhitelistWords` words with one
   * of them is left out (the numbers and paths that change from run to run do not have to match).
   * @example ['UserWarning: TypedStorage is deprecated']
   */
  errorWhitelist?: string[];
  /** Shared words that make a line match an `errorWhitelist` entry (default 3; fewer when the entry is shorter). */
  errorWhitelistWords?: number;
}

/** What the rest of the system uses: paths absolute, args as exact argv, defaults applied. */
export interface NormalizedJobInfo extends AutomationFields, TaskResources {
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
  /** first task number (arrayBase); absent = 1, also in records written before it existed: use arrayBaseOf() */
  arrayBase?: 0 | 1;
  /** `script:` jobs: the sbatch script, what its #SBATCH lines gave and what was ignored (for dry-run) */
  fromScript?: { path: string; taken: string[]; ignored: string[] };
  /** `argsFile:` jobs: the file the task lines were read from */
  argsFile?: string;
  /** A sweep's task names (`taskNamePattern`), task at position i (index - arrayBase); absent without one. */
  taskNames?: string[];
  /**
   * A sweep's tasks by resource set (`resources.logic`), when they differ: one array per group. Absent: every
   * task has the job's own resources.
   */
  resourceGroups?: ResourceGroup[];
  maxConcurrent?: number;
  // partition, account, cpus, gpus, mem, time, nodes: TaskResources (model/resources.ts)
  sbatchArgs: string[];
  /** absent when none (and in records written before it existed) */
  after?: Required<AfterSpec>[];
  env: Record<string, string>;
  setup: string[];
  template?: string;
  uniqueName: boolean;
  /** The collection it joined at launch (absent in records written before collections existed). */
  collection?: string;
  /** undefined in records written before it existed: DEFAULT_LARGE_FILE_MB (model/checks.ts) */
  largeFileMB?: number;
  /** The JobInfo fields of the same names, as given; absent in older records (model/expected.ts, error-lines.ts). */
  expectedFiles?: string[];
  errorPatterns?: string[];
  errorWhitelist?: string[];
  errorWhitelistWords?: number;
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

// arrayBase (issue 13): the ONE home of "tasks are numbered from 0 or 1"; argv[i] is task i + base.
/** The first task number of a job: 0 or 1 (absent, as in records written before arrayBase: 1). */
export function arrayBaseOf(info: { arrayBase?: 0 | 1 } | undefined): 0 | 1 {
  return info?.arrayBase === 0 ? 0 : 1;
}

/** Every task number of a job of `tasks` tasks: base … base+tasks-1. */
export function taskNumbers(tasks: number, info: { arrayBase?: 0 | 1 } | undefined): number[] {
  const base = arrayBaseOf(info);
  // a plain loop: Array.from with a callback costs several times more, and status runs this per 100 000-task job
  const out: number[] = [];
  for (let i = 0; i < tasks; i++) out.push(i + base);
  return out;
}

/** `base-last` of a job of `tasks` tasks, e.g. `1-5` or `0-4`. */
export function taskRange(tasks: number, info: { arrayBase?: 0 | 1 } | undefined): string {
  const base = arrayBaseOf(info);
  return `${base}-${base + tasks - 1}`;
}

/** The tasks of a job, numbered from arrayBase (1 unless 0 is asked for). */
export function tasksOf(info: Pick<NormalizedJobInfo, 'argv' | 'params' | 'arrayBase'>): Task[] {
  const base = arrayBaseOf(info);
  return info.argv.map((argv, i) => ({ index: i + base, argv, ...(info.params?.[i] ? { params: info.params[i] } : {}) }));
}
