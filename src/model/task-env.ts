/**
 * What a task sees of its job folder, and the placeholders pilot fills in args and env values itself.
 *
 * Folders (relative to the job folder): the task runs in `work/` (a per-job tree of hard links to the shipped
 * sources, see scheduler/slurm/submit.ts) and writes its own results to `outputs/<index>/<attempt>/`
 * ($PILOT_OUTPUT_DIR), so that attempts and tasks never overwrite each other's files.
 *
 * Placeholders: `{index}` (the task id), `{index0}` (its 0-based position), `{job}` (the job name) and
 * `{outputDir}` (the task's output folder, absolute). `{{` is a literal `{`. `${NAME}` is not a placeholder
 * (it is shell syntax, left as is and warned about), nor is a brace not followed by `name}` (`{a,b}`, JSON).
 * Nothing is ever evaluated: values known at launch are replaced here; `{outputDir}` (it depends on the
 * attempt and the cluster's folder) becomes a token that job.sh replaces as plain text (`${w//tok/dir}`).
 */
import { createHash } from 'node:crypto';
import { PilotError } from './errors.js';
import type { Warning } from './checks.js';

/** The per-job working directory (cwd of every task, $PILOT_WORK_DIR), relative to the job folder. */
export const WORK_DIR = 'work';

/**
 * A task's output folder relative to the job folder: `outputs/<index>/<attempt>` ($PILOT_OUTPUT_DIR). The one
 * home of that layout: job.sh gets it with shell variables as arguments ($PILOT_TASK_INDEX), readers with the
 * task number (expected files, status, download NAME/I): both must name a task the same way (arrayBase).
 * @example taskOutputDir(3, 2) // 'outputs/3/2'
 */
export function taskOutputDir(index: number | string, attempt: number | string): string {
  return `outputs/${index}/${attempt}`;
}

export const PLACEHOLDERS = ['index', 'index0', 'job', 'outputDir'] as const;
export type PlaceholderName = typeof PLACEHOLDERS[number];

/** `{{`, or `{name}` not preceded by `$`. */
const TOKEN_RE = /\{\{|(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces the placeholders of `text` with `values`; a known placeholder without a value becomes
 * `runtime[name]` (a token job.sh replaces). An unknown `{name}` is bad input (exit 2), named with `where`.
 */
export function fillPlaceholders(text: string, values: Partial<Record<PlaceholderName, string>>, runtime: Partial<Record<PlaceholderName, string>>, where: string): string {
  if (!text.includes('{')) return text;
  return text.replace(TOKEN_RE, (whole, name: string | undefined) => {
    if (whole === '{{') return '{';
    if (!(PLACEHOLDERS as readonly string[]).includes(name!)) {
      throw new PilotError('BAD_INPUT', `${where}: unknown placeholder {${name}}`, {
        hint: `pilot fills ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}; write {{${name}} for a literal {${name}}`,
      });
    }
    const known = values[name as PlaceholderName] ?? runtime[name as PlaceholderName];
    if (known === undefined) throw new PilotError('INTERNAL', `${where}: no value for {${name}}`);
    return known;
  });
}

/** Which placeholders `text` uses (escapes skipped). */
export function placeholdersIn(text: string): Set<string> {
  const used = new Set<string>();
  if (!text.includes('{')) return used;   // most words: no regex run (100 000 tasks' args are read per status)
  for (const m of text.matchAll(TOKEN_RE)) if (m[1]) used.add(m[1]);
  return used;
}

/**
 * The token standing for `{name}` until the task runs: derived from everything the job passes (so a user
 * cannot have written it by chance) and made of letters, digits and `@_` only (no glob or shell character).
 */
export function runtimeToken(name: PlaceholderName, salt: string): string {
  return `@pilot_${name}_${createHash('sha256').update(salt).digest('hex').slice(0, 20)}@`;
}

/** Shell variables people reach for, and the placeholder that does the job without a shell. */
const INSTEAD: Record<string, PlaceholderName> = {
  SLURM_ARRAY_TASK_ID: 'index', PILOT_TASK_INDEX: 'index', PILOT_OUTPUT_DIR: 'outputDir',
  PILOT_JOB_NAME: 'job', SLURM_JOB_NAME: 'job',
};

/**
 * A warning for each distinct `$WORD` / `${WORD}` in args or env values: no shell sees them, so they reach the
 * program as they are written.
 */
export function shellVariableWarnings(texts: Iterable<string>): Warning[] {
  const seen = new Set<string>();
  for (const t of texts) for (const m of t.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)) seen.add(m[1]!);
  return [...seen].slice(0, 5).map((name) => ({
    message: `$${name} in args or env is not expanded: the task gets the text "$${name}" as it is (no shell reads args)`,
    hint: INSTEAD[name]
      ? `write {${INSTEAD[name]}} instead: pilot fills it in (see "What a task sees" in the README)`
      : `pilot fills {${PLACEHOLDERS.join('}, {')}}; read other variables in your program (os.environ), or pass them in env:`,
  }));
}

/** The values a job's args and env get: per task (`taskArgv`) and per job (`jobEnv`). */
export interface TaskEnvPlan {
  /** task i's argv, placeholders filled ({outputDir} as its token) */
  argv: string[][];
  /** env values, {job} filled, the others as tokens */
  env: Record<string, string>;
  /** tokens job.sh must replace, by placeholder (only those used) */
  tokens: Partial<Record<PlaceholderName, string>>;
  /** env names whose values hold a token */
  envToFill: string[];
  /** what {outputDir} became in `argv` (to show a task's argv with its real folder) */
  outputDirToken: string;
}

/**
 * Fills the placeholders of every task's argv and of the env values of job `name`. Task i (0-based) has the
 * id `i + arrayBase`. Throws BAD_INPUT naming the task (or env name) and the placeholder.
 * @example planTaskEnv('sweep', [['--seed {index0}']], {}).argv // [['--seed 0']]
 */
export function planTaskEnv(name: string, argv: readonly (readonly string[])[], env: Readonly<Record<string, string>>, arrayBase = 1): TaskEnvPlan {
  // made only when some word or value has a placeholder: the salt serialises every task's argv (megabytes
  // for 100 000 tasks, and the status of such a job plans them all)
  let made: Record<PlaceholderName, string> | undefined;
  const all = (): Record<PlaceholderName, string> => {
    if (made) return made;
    const salt = JSON.stringify([name, argv, env]);
    return (made = { index: runtimeToken('index', salt), index0: runtimeToken('index0', salt), job: name, outputDir: runtimeToken('outputDir', salt) });
  };
  const tokens: Partial<Record<PlaceholderName, string>> = {};
  const track = (text: string): void => {
    for (const p of placeholdersIn(text)) if (p !== 'job' && (PLACEHOLDERS as readonly string[]).includes(p)) tokens[p as PlaceholderName] = all()[p as PlaceholderName];
  };
  const filledArgv = argv.map((words, i) => !words.some((w) => w.includes('{')) ? words as string[] : words.map((w) => {
    const id = i + arrayBase;
    // {index} of an argument is known here: only {outputDir} waits for job.sh
    if (w.includes('{') && placeholdersIn(w).has('outputDir')) tokens.outputDir = all().outputDir;
    return fillPlaceholders(w, { index: String(id), index0: String(i), job: name }, { outputDir: all().outputDir }, `task ${id}: argument ${JSON.stringify(w)}`);
  }));
  const envToFill: string[] = [];
  const filledEnv = Object.fromEntries(Object.entries(env).map(([k, v]) => {
    const out = v.includes('{') ? fillPlaceholders(v, { job: name }, all(), `env.${k}`) : v;
    if ([...placeholdersIn(v)].some((p) => p !== 'job')) {
      envToFill.push(k);
      track(v);
    }
    return [k, out];
  }));
  return { argv: filledArgv, env: filledEnv, tokens, envToFill, get outputDirToken() { return all().outputDir; } };
}
