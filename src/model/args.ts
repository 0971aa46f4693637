/**
 * Per-task arguments → exact argv arrays, and the args file that carries them to the cluster.
 *
 * A task's arguments may be given as a shell-words string (`--lr 0.01 --name 'a b'`), an exact argv array,
 * or an object (`{ lr: 0.01, fast: true }` → `--lr 0.01 --fast`). Everything is normalised to string[] here,
 * once, so the rest of the system only ever handles exact argv.
 */
import { PilotError } from './errors.js';

export type TaskArgs = string | readonly string[] | Readonly<Record<string, unknown>>;

/**
 * Splits a string into words the way a POSIX shell would for quoting purposes ONLY: single quotes, double
 * quotes and backslashes are honoured, but nothing is expanded ($, `, globs stay literal).
 */
export function splitShellWords(input: string, where = 'args'): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const fail = (what: string): never => {
    throw new PilotError('BAD_INPUT', `${where}: ${what} in ${JSON.stringify(input)}`, {
      hint: 'close the quote, or give the arguments as an exact list (YAML: - [--name, "a b"])',
    });
  };
  while (i < input.length) {
    const c = input[i]!;
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) fail('unterminated single quote');
      word += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= input.length) fail('unterminated double quote');
        const d = input[i]!;
        if (d === '"') { i++; break; }
        // inside double quotes a backslash escapes only $ ` " \ and newline
        if (d === '\\' && i + 1 < input.length && '$`"\\\n'.includes(input[i + 1]!)) {
          if (input[i + 1] !== '\n') word += input[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= input.length) fail('trailing backslash');
      if (input[i + 1] !== '\n') word += input[i + 1];
      inWord = true;
      i += 2;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** `{ lr: 0.01, fast: true, off: false, layers: [64, 32] }` → `--lr 0.01 --fast --layers 64 32`. */
export function objectToArgv(obj: Readonly<Record<string, unknown>>, where = 'args'): string[] {
  const argv: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const flag = key.startsWith('-') ? key : `--${key}`;
    if (value === false || value === null || value === undefined) continue;
    if (value === true) {
      argv.push(flag);
    } else if (Array.isArray(value)) {
      argv.push(flag, ...value.map((v, i) => scalar(v, `${where}.${key}[${i}]`)));
    } else {
      argv.push(flag, scalar(value, `${where}.${key}`));
    }
  }
  return argv;
}

function scalar(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return String(value);
  throw new PilotError('BAD_INPUT', `${where}: cannot turn ${JSON.stringify(value)} into a command-line word`, {
    hint: 'use strings, numbers, booleans or lists of them',
  });
}

export function toArgv(args: TaskArgs, where: string): string[] {
  const argv = typeof args === 'string' ? splitShellWords(args, where)
    : Array.isArray(args) ? args.map((a, i) => scalar(a, `${where}[${i}]`))
      : objectToArgv(args as Record<string, unknown>, where);
  const bad = argv.findIndex((word) => word.includes('\0'));
  if (bad >= 0) {
    // argv is a list of C strings: a NUL would silently cut the word short on the cluster
    throw new PilotError('BAD_INPUT', `${where}: word ${bad + 1} (${JSON.stringify(argv[bad])}) contains a NUL byte, which no program argument can carry`, {
      hint: 'remove the NUL byte (\\0) from the argument; nothing was submitted',
    });
  }
  return argv;
}

/**
 * The args file: line i is task i's argv, each word NUL-terminated, base64-encoded. The script decodes it with
 * `base64 -d | mapfile -d ''`: no eval, no word splitting, and any byte but NUL survives (argv cannot hold NUL).
 */
export function encodeArgsFile(argvs: readonly (readonly string[])[]): string {
  return argvs.map((argv) => Buffer.from(argv.map((w) => `${w}\0`).join(''), 'utf8').toString('base64')).join('\n') + '\n';
}

export function decodeArgsLine(line: string): string[] {
  const text = Buffer.from(line, 'base64').toString('utf8');
  return text === '' ? [] : text.split('\0').slice(0, -1);
}
