/**
 * What a job must pass before anything is queued: the program it names is in the bundle (not merely on disk:
 * a .gitignore or `exclude` may leave it out), and its interpreter exists where the tasks will run. A job that
 * fails here would only fail after waiting in the queue. Pure: callers list the bundle, look at the disk and
 * ask the cluster (one line of the probe).
 */
import { posix } from 'node:path';
import { PilotError } from './errors.js';
import type { NormalizedJobInfo } from './job.js';

/** Something worth telling the user that does not stop the work (the CLI prints `warning: …` on stderr). */
export interface Warning {
  message: string;
  hint?: string;
}

/** One entry of a bundle as listed before a byte is written, by its archive path (`src/train.py`, `lib/x/y.py`). */
export interface ListedEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  /** bytes for files, 0 otherwise */
  size: number;
  mode: number;
  linkTarget?: string;
}

/** Files larger than this many MB are named in a warning unless the job says otherwise (`largeFileMB`). */
export const DEFAULT_LARGE_FILE_MB = 50;

/** Interpreter options whose next word is a module or code, not a file (`python3 -m pkg.train`, `node -e`). */
const TAKES_NON_FILE = /^(-m|-c|-e|--eval)$/;

/** The program's path inside srcDir, normalised (`./a//b.py` → `a/b.py`). */
function inSrc(path: string): string {
  return posix.normalize(path).replace(/^(\.\/)+/, '');
}

/** An interpreter given as a path relative to srcDir (`venv/bin/python`): it must be shipped, like the entrypoint. */
function bundledInterpreter(info: Pick<NormalizedJobInfo, 'interpreter'>): string | undefined {
  const word = info.interpreter[0];
  return word && word.includes('/') && !word.startsWith('/') ? word : undefined;
}

/**
 * The word to look up on the cluster's PATH (`command -v`), or undefined when there is none to look up (no
 * interpreter: the entrypoint runs directly; a relative path: it is checked in the bundle instead).
 */
export function interpreterToFind(info: Pick<NormalizedJobInfo, 'interpreter'>): string | undefined {
  const word = info.interpreter[0];
  return word && !bundledInterpreter(info) ? word : undefined;
}

/** Finds an entry by archive path, following symlinks inside the bundle (at most 40, like the kernel). */
function lookup(entries: ReadonlyMap<string, ListedEntry>, path: string): ListedEntry | undefined {
  let parts = path.split('/');
  for (let hops = 0; hops <= 40; hops++) {
    let k = 0;   // down through folders to the first component that is not one
    while (k < parts.length - 1 && entries.get(parts.slice(0, k + 1).join('/'))?.type === 'dir') k++;
    const prefix = parts.slice(0, k + 1).join('/');
    const e = entries.get(prefix);
    if (e?.type !== 'symlink') return k === parts.length - 1 ? e : undefined;
    parts = [...posix.normalize(posix.join(posix.dirname(prefix), e.linkTarget ?? '')).split('/'), ...parts.slice(k + 1)];
  }
  return undefined;
}

/**
 * Refuses a job whose entrypoint (or interpreter given as a path inside srcDir) is not a file of the bundle,
 * naming the likely cause: it does not exist, or it exists but is left out by a rule. An entrypoint run
 * directly must also be executable. `onDisk(rel)` says whether srcDir holds `rel` at all. Returns what was
 * checked, a line each (what a dry run shows).
 */
export function checkProgram(info: NormalizedJobInfo, entries: ReadonlyMap<string, ListedEntry>, onDisk: (rel: string) => boolean): string[] {
  const nonFile = TAKES_NON_FILE.test(info.interpreter.at(-1) ?? '');
  const programs: [string, string][] = nonFile ? [] : [['entrypoint', info.entrypoint]];
  const interp = bundledInterpreter(info);
  if (interp) programs.push(['interpreter', interp]);
  const checked = nonFile ? [`entrypoint ${info.entrypoint}: given to ${info.interpreter.join(' ')}, not a file (not checked)`] : [];
  for (const [field, path] of programs) {
    const rel = inSrc(path);
    const entry = lookup(entries, `src/${rel}`);
    if (!entry) throw missing(field, rel, info, entries, onDisk(rel));
    if (entry.type !== 'file') {
      throw new PilotError('BAD_INPUT', `${field} ${rel} is a folder, not a program`, { hint: `name the file to run inside srcDir (${info.srcDir}); nothing was submitted` });
    }
    const runDirectly = field === 'interpreter' || !info.interpreter.length;
    if (runDirectly && !(entry.mode & 0o111)) {
      throw new PilotError('BAD_INPUT', `${field} ${rel} is run directly (${field === 'entrypoint' ? 'no interpreter is set' : 'it is the interpreter'}), but it is not executable`, {
        hint: field === 'entrypoint' ? `chmod +x ${rel}, or set interpreter: (e.g. bash, python3); nothing was submitted` : `chmod +x ${rel}; nothing was submitted`,
      });
    }
    checked.push(`${field} ${rel}: in the bundle${runDirectly ? ', executable' : ''}`);
  }
  return checked;
}

function missing(field: string, rel: string, info: NormalizedJobInfo, entries: ReadonlyMap<string, ListedEntry>, onDisk: boolean): PilotError {
  if (onDisk) {
    return new PilotError('BAD_INPUT', `${field} ${rel} exists in ${info.srcDir} but is left out of the bundle`, {
      hint: `a .gitignore, the default excludes (.venv, node_modules, __pycache__, …) or the job's exclude: patterns leave it out; ` +
        `change that rule or re-include the file with exclude: ['!${rel}'] (a file inside an excluded folder cannot be re-included). Nothing was submitted`,
    });
  }
  const base = posix.basename(rel).toLowerCase();
  const near = [...entries.values()]
    .filter((e) => e.type === 'file' && e.name.startsWith('src/') && posix.basename(e.name).toLowerCase() === base)
    .map((e) => e.name.slice(4)).slice(0, 3);
  return new PilotError('BAD_INPUT', `${field} ${rel} does not exist in srcDir ${info.srcDir}`, {
    hint: `${near.length ? `did you mean ${near.join(' or ')}? ` : ''}the ${field} is a path relative to srcDir; nothing was submitted`,
  });
}

/**
 * The verdict on the interpreter's lookup where the tasks run (`found`: its path, null when not found,
 * undefined when not asked). Missing, it refuses the job, unless the job's setup lines or its PATH could
 * provide it (`module load python`): those run only in the task, so then it is a warning.
 */
export function interpreterVerdict(info: NormalizedJobInfo, where: string, found: string | null | undefined): Warning | undefined {
  const word = interpreterToFind(info);
  if (!word || found !== null) return undefined;
  const what = `interpreter ${word} is not found on ${where}`;
  if (info.setup.length || info.env.PATH !== undefined) {
    return { message: `${what} (before the job's setup lines run)`, hint: 'it is launched anyway, as setup: or env: PATH may provide it; if not, every task fails at once' };
  }
  throw new PilotError('BAD_INPUT', `${what}: nothing was submitted`, {
    hint: `install it there, give its full path (interpreter: /path/to/${posix.basename(word)}), or load it with setup: (e.g. module load …)`,
  });
}
