/**
 * Reads the `#SBATCH` lines of an existing batch script (`pilot launch run.sbatch`, `script:` in a job file), so
 * that a script written for plain `sbatch` runs unchanged as each task. Pure: text in, job fields out.
 *
 * As sbatch does, only the lines before the first command count (blank lines and other comments may come
 * between them), a line may hold several options (`#SBATCH --array=1-4%2 --mem=500M`), and a `#` after a space
 * starts a comment. Options pilot owns are not taken: the output/error patterns give way to pilot's per-task logs,
 * the job name to jobName, the working folder to the job's own.
 */
import { splitShellWords } from '../../model/args.js';
import { PilotError } from '../../model/errors.js';
import { expandRanges } from '../../model/ranges.js';
import type { TaskResources } from '../../model/resources.js';

/** What a script's directives give: JobInfo fields, and a line each for `--dry-run`. */
export interface ScriptDirectives extends TaskResources {
  /** Task count and first index from `--array` (only contiguous ranges from 0 or 1). */
  tasks?: number;
  arrayBase?: 0 | 1;
  maxConcurrent?: number;
  jobName?: string;
  // partition, account, cpus, gpus, mem, time, nodes: TaskResources
  /** Other options, passed on as they were written (`--qos=high`). */
  sbatchArgs: string[];
  /** What was taken, e.g. `--mem=500M → mem: 500M`. */
  taken: string[];
  /** What was left out and why, e.g. `--output=slurm-%A_%a.out: ignored, pilot keeps per-task logs`. */
  ignored: string[];
}

/** Long names of the short options a directive may use (sbatch's own letters). */
const SHORT: Record<string, string> = {
  a: 'array', A: 'account', c: 'cpus-per-task', G: 'gpus', J: 'job-name', N: 'nodes', p: 'partition', t: 'time',
  o: 'output', e: 'error', D: 'chdir', n: 'ntasks', q: 'qos', C: 'constraint', w: 'nodelist', x: 'exclude',
  d: 'dependency', M: 'clusters', L: 'licenses', F: 'nodefile', i: 'input', m: 'distribution', B: 'extra-node-info',
};
/** sbatch's short options that take no value. */
const SHORT_FLAGS = new Set('hHIkOQsuvVW'.split(''));

const IGNORED: Record<string, string> = {
  output: 'pilot keeps per-task logs (pilot logs NAME/I)',
  error: 'pilot keeps per-task logs (pilot logs NAME/I --stderr)',
  chdir: 'tasks run in the job\'s own folder',
  parsable: 'pilot reads the job id itself',
  wrap: 'the script is the program',
  'job-name': 'the job is named by jobName',
};

/** The `--name=value` options of one directive line (short options spelled out as long ones). */
function options(words: string[], where: string): { name: string; value?: string; text: string }[] {
  const out: { name: string; value?: string; text: string }[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const takeValue = () => (words[i + 1] !== undefined && !words[i + 1]!.startsWith('-') ? words[++i] : undefined);
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w.slice(2) : w.slice(2, eq);
      const value = eq < 0 ? takeValue() : w.slice(eq + 1);
      out.push({ name, value, text: value === undefined ? `--${name}` : `--${name}=${value}` });
    } else if (/^-[A-Za-z]/.test(w)) {
      const letter = w[1]!;
      if (SHORT_FLAGS.has(letter)) { out.push({ name: letter, text: w }); continue; }
      const name = SHORT[letter] ?? letter;
      const value = w.length > 2 ? w.slice(2).replace(/^=/, '') : takeValue();
      out.push({ name, value, text: name.length === 1 ? `${w}${value !== undefined && w.length === 2 ? ` ${value}` : ''}` : `--${name}=${value ?? ''}` });
    } else {
      throw new PilotError('BAD_INPUT', `${where}: '${w}' in an #SBATCH line is not an option`, { hint: 'each #SBATCH line holds options such as --mem=4G or -p debug' });
    }
  }
  return out;
}

/** The directive lines: `#SBATCH` lines before the first command (sbatch stops reading there). */
export function directiveLines(text: string): { line: number; body: string }[] {
  const found: { line: number; body: string }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (i === 0 && l.startsWith('#!')) continue;
    if (l === '' ) continue;
    if (!l.startsWith('#')) break;
    const m = /^#SBATCH\s+(.*)$/.exec(l);
    if (m) found.push({ line: i + 1, body: m[1]!.replace(/\s+#.*$/, '') });
  }
  return found;
}

/** A `--array` value: contiguous from 0 or 1, with an optional `%K`. */
function arrayOf(value: string, where: string): { tasks: number; base: 0 | 1; max?: number } {
  const m = /^([^%]+)(?:%(\d+))?$/.exec(value);
  let indices: number[] = [];
  try {
    indices = m ? expandRanges(m[1]!) : [];
  } catch { /* not a range at all: refused below, naming the directive */ }
  const first = indices[0];
  const contiguous = indices.every((n, i) => n === first! + i);
  if (!m || !indices.length || (first !== 0 && first !== 1) || !contiguous) {
    throw new PilotError('BAD_INPUT', `${where}: --array=${value} is not a range pilot can run as it is`, {
      hint: 'pilot runs ranges that start at 0 or 1 without gaps (0-4, 1-10%2): SLURM_ARRAY_TASK_ID then reaches the script as sbatch would give it. Change the #SBATCH --array line, or give args: in a job file',
    });
  }
  return { tasks: indices.length, base: first as 0 | 1, ...(m[2] ? { max: Number(m[2]) } : {}) };
}

const positive = (value: string | undefined, what: string, where: string): number => {
  if (!value || !/^\d+$/.test(value) || Number(value) < 1) {
    throw new PilotError('BAD_INPUT', `${where}: ${what} must be a positive whole number, got ${JSON.stringify(value ?? '')}`, { hint: `fix the #SBATCH ${what} line` });
  }
  return Number(value);
};

/**
 * The job fields an sbatch script's directives give.
 * @example
 * parseScriptDirectives('#!/bin/bash\n#SBATCH --array=0-4%2 --mem=500M\npython3 run.py\n', 'run.sbatch')
 * // → { tasks: 5, arrayBase: 0, maxConcurrent: 2, mem: '500M', … }
 */
export function parseScriptDirectives(text: string, where: string): ScriptDirectives {
  const out: ScriptDirectives = { sbatchArgs: [], taken: [], ignored: [] };
  for (const { line, body } of directiveLines(text)) {
    const at = `${where}:${line}`;
    for (const o of options(splitShellWords(body, at), at)) {
      const v = o.value;
      const take = (field: string, value: unknown) => out.taken.push(`${o.text} → ${field}: ${String(value)}`);
      switch (o.name) {
        case 'array': {
          const a = arrayOf(v ?? '', at);
          out.tasks = a.tasks; out.arrayBase = a.base;
          if (a.max !== undefined) out.maxConcurrent = a.max;
          take('tasks', `${a.tasks} (numbered from ${a.base}${a.max !== undefined ? `, at most ${a.max} at once` : ''})`);
          break;
        }
        case 'partition': out.partition = v; take('partition', v); break;
        case 'account': out.account = v; take('account', v); break;
        case 'cpus-per-task': out.cpus = positive(v, '--cpus-per-task', at); take('cpus', v); break;
        case 'gpus': out.gpus = v; take('gpus', v); break;
        case 'mem': out.mem = v; take('mem', v); break;
        case 'time': out.time = v; take('time', v); break;
        case 'nodes':
          // a node range (2-4) is sbatch's own business: passed on as written
          if (v && /^\d+$/.test(v)) { out.nodes = positive(v, '--nodes', at); take('nodes', v); } else { out.sbatchArgs.push(o.text); take('sbatchArgs', o.text); }
          break;
        default:
          if (IGNORED[o.name]) {
            if (o.name === 'job-name' && v) out.jobName = v;
            out.ignored.push(`${o.text}: ignored, ${IGNORED[o.name]}`);
          } else {
            out.sbatchArgs.push(o.text);
            take('sbatchArgs', o.text);
          }
      }
    }
  }
  return out;
}
