/**
 * What may become an `#SBATCH` line. Two holes are closed here, for every source of a value (job file, SDK,
 * config.yaml):
 * - a control character (newline above all) would end the `#SBATCH` line and turn the rest into a shell
 *   command that runs on the cluster;
 * - the options pilot owns (array, logs, working folder, name) must not be overridden by `sbatchArgs` in ANY
 *   spelling sbatch accepts: `--output=x`, `--output x`, unique prefixes (`--out=x`, `--chd=/tmp`), short
 *   options with attached values (`-o/tmp/x`, `-Jevil`) and short options grouped behind flags (`-Ho/x`).
 * Pure; the facts about sbatch's options were read from `sbatch --help` of Slurm 22.05.
 */
import { PilotError } from '../../model/errors.js';

/** A partition, account or QOS name as Slurm accepts it. */
export const SLURM_WORD_RE = /^[A-Za-z0-9][A-Za-z0-9._,:-]*$/;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Describes a control character for an error message: `newline (\n)`, `U+001B`. */
function describeControl(text: string): string {
  const c = CONTROL.exec(text)![0];
  const names: Record<string, string> = { '\n': 'a newline (\\n)', '\r': 'a carriage return (\\r)', '\t': 'a tab', '\0': 'a NUL byte' };
  return names[c] ?? `the control character U+${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`;
}

/**
 * Refuses a value bound for an `#SBATCH` line that holds a control character.
 * @example
 * assertSbatchValue('debug', 'partition', 'config.yaml: clusters.lab');   // ok
 */
export function assertSbatchValue(value: string, field: string, where: string): void {
  if (!CONTROL.test(value)) return;
  throw new PilotError('BAD_INPUT', `${where}: ${field} contains ${describeControl(value)}: ${JSON.stringify(value)}`, {
    hint: `${field} becomes an #SBATCH line of the job script, where a line break would start a shell command; remove it. Nothing was sent.`,
  });
}

/** Long options pilot sets itself, with why. */
const RESERVED_LONG = new Map<string, string>([
  ['array', 'the task list is pilot\'s (use maxConcurrent for the %K throttle)'],
  ['output', 'task logs must go to logs/%A_%a.out, or `pilot logs` cannot find them'],
  ['error', 'task logs must go to logs/%A_%a.err, or `pilot logs` cannot find them'],
  ['chdir', 'each task starts in the job\'s own folder, where its args file and outputs/ are'],
  ['job-name', 'the Slurm job name is the jobName (change jobName instead)'],
  ['parsable', 'pilot reads the job id from sbatch\'s --parsable output itself'],
  ['wrap', 'the batch script is pilot\'s'],
]);

const RESERVED_SHORT = new Map<string, string>([['a', 'array'], ['o', 'output'], ['e', 'error'], ['D', 'chdir'], ['J', 'job-name']]);
/**
 * sbatch's short flags (no value), which may be grouped: `-Hv`. Any other letter takes a value (`-pdebug`) or
 * is unknown to sbatch; either way the rest of the word is not options.
 */
const SHORT_FLAGS = new Set('hHIkOQsuvVW'.split(''));

export interface ReservedUse {
  /** the word as given, e.g. `-o/tmp/x` */
  word: string;
  /** the long name sbatch resolves it to, e.g. `output` */
  option: string;
  why: string;
}

/**
 * Finds the first word that sbatch would read as an option pilot owns. Every word is examined, also those that
 * may be another option's value: refusing an odd value is better than missing an option (sbatch decides
 * which options take values, and a wrong guess would let `--hold -o/x` through).
 */
export function findReservedOption(words: readonly string[]): ReservedUse | undefined {
  for (const word of words) {
    if (word.startsWith('--')) {
      const name = word.slice(2).split('=')[0]!;
      if (!name) continue;
      // getopt_long accepts any unambiguous prefix; an ambiguous one fails in sbatch, so refusing it costs nothing
      for (const [option, why] of RESERVED_LONG) if (option.startsWith(name)) return { word, option, why };
    } else if (word.startsWith('-') && word.length > 1) {
      for (const letter of word.slice(1)) {
        const option = RESERVED_SHORT.get(letter);
        if (option) return { word, option, why: RESERVED_LONG.get(option)! };
        if (!SHORT_FLAGS.has(letter)) break; // a value follows (or sbatch rejects the letter): the rest is not options
      }
    }
  }
  return undefined;
}

/**
 * Checks `sbatchArgs` entries: no control characters, and none of pilot's own options in any spelling.
 * An entry may hold an option and its value (`--qos high`), as an `#SBATCH` line may.
 * @example
 * checkSbatchArgs(['--qos=high', '--hold'], 'job.yaml');       // ok
 * checkSbatchArgs(['-o/tmp/x'], 'job.yaml');                   // throws: -o/tmp/x sets --output
 */
export function checkSbatchArgs(entries: readonly string[], where: string): void {
  entries.forEach((entry, i) => assertSbatchValue(entry, `sbatchArgs[${i}]`, where));
  const found = findReservedOption(entries.flatMap((e) => e.split(/\s+/).filter(Boolean)));
  if (found) {
    const exact = found.word.split('=')[0] === `--${found.option}`;
    const spelled = exact ? found.word : `${found.word} (read by sbatch as --${found.option})`;
    throw new PilotError('BAD_INPUT', `${where}: sbatchArgs: ${spelled} is set by hpc-pilot itself`, {
      hint: `${found.why}. Remove it from sbatchArgs; nothing was sent.`,
    });
  }
}

/**
 * The value of the user's own `--dependency` in `sbatchArgs` (any spelling: `--dependency=x`, `--dep x`, `-dx`,
 * `-d x`), or undefined. Split arrays chain on it: sbatch reads only the LAST --dependency, so pilot combines.
 */
export function userDependency(entries: readonly string[]): string | undefined {
  const words = entries.flatMap((e) => e.split(/\s+/).filter(Boolean));
  let found: string | undefined;
  words.forEach((word, i) => {
    const long = /^--(d[a-z-]*)(?:=(.*))?$/.exec(word);
    if (long && 'dependency'.startsWith(long[1]!) && long[1]!.length >= 2) found = long[2] ?? words[i + 1];
    else if (/^-d./.test(word)) found = word.slice(2);
    else if (word === '-d') found = words[i + 1];
  });
  return found;
}
