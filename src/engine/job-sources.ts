/**
 * Job fields that come from files next to the job (issue 13): `script:` (an existing sbatch script, run unchanged
 * as each task, its `#SBATCH` lines read) and `argsFile:` (one task per line). Both are turned into the plain
 * fields (entrypoint, args, resources…) BEFORE validation, so every value passes the same checks as if written
 * in the job file. Bad input is BAD_INPUT (exit 2) naming the file and line; nothing is submitted.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, relative, sep } from 'node:path';
import { PilotError } from '../model/errors.js';
import { expandPath } from '../util/paths.js';
import { parseScriptDirectives } from '../scheduler/index.js';

/** What `--dry-run` reports about a script job: the script, and what its directives gave or did not. */
export interface ScriptOrigin {
  path: string;
  taken: string[];
  ignored: string[];
}

function readText(path: string, field: string, where: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new PilotError('BAD_INPUT', `${where}: ${field}: cannot read ${path}: ${why}`, { hint: `${field} is a path relative to the job file (the working directory for the SDK)` });
  }
}

/**
 * The lines of an args file, one task each: shell words as in an `args` string (quotes honoured, nothing
 * expanded); blank lines and lines starting with `#` are skipped. Returns [line number, text] pairs.
 */
export function argsFileLines(text: string): [number, string][] {
  return text.split(/\r?\n/).map((l, i) => [i + 1, l] as [number, string]).filter(([, l]) => l.trim() !== '' && !l.trim().startsWith('#'));
}

/** A job name made from a file name: `run-array.sbatch` → `run-array` (characters a name cannot hold → `-`). */
export function nameFromFile(path: string): string {
  const stem = basename(path).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return (stem || 'script').slice(0, 100);
}

/**
 * `input` with `script:` and `argsFile:` replaced by the fields they stand for, plus the script's origin for
 * dry-run. Fields written in the job file win over the script's directives (its `--array` must agree).
 */
export function expandJobSources(input: unknown, base: string, where: string): { input: unknown; script?: ScriptOrigin; argsFile?: string; argsWhere?: string[] } {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return { input };
  const doc: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  let argsFile: string | undefined;
  let argsWhere: string[] | undefined;
  if (doc.argsFile !== undefined) {
    if (typeof doc.argsFile !== 'string' || !doc.argsFile) throw new PilotError('BAD_INPUT', `${where}: argsFile must be a file path`, { hint: 'e.g. argsFile: iterations.txt (one task per line)' });
    if (doc.args !== undefined) throw new PilotError('BAD_INPUT', `${where}: give args or argsFile, not both`, { hint: 'argsFile reads one task per line; put every task in it, or list them in args' });
    argsFile = expandPath(doc.argsFile, base);
    const lines = argsFileLines(readText(argsFile, 'argsFile', where));
    if (!lines.length) throw new PilotError('BAD_INPUT', `${where}: argsFile ${argsFile} holds no task`, { hint: 'write one task\'s arguments per line (blank lines and # comments are skipped)' });
    doc.args = lines.map(([, l]) => l);
    delete doc.argsFile;
    // errors in a line name the file and line, not args[i]
    argsWhere = lines.map(([n]) => `argsFile ${argsFile}:${n}`);
  }
  if (doc.script === undefined) return { input: doc, argsFile, argsWhere };
  if (typeof doc.script !== 'string' || !doc.script) throw new PilotError('BAD_INPUT', `${where}: script must be a file path`, { hint: 'e.g. script: run-array.sbatch' });
  if (doc.entrypoint !== undefined) throw new PilotError('BAD_INPUT', `${where}: give script or entrypoint, not both`, { hint: 'script: runs an sbatch script unchanged with bash; entrypoint: runs a program with its interpreter' });
  const path = expandPath(doc.script, base);
  const d = parseScriptDirectives(readText(path, 'script', where), path);
  delete doc.script;
  const srcDir = doc.srcDir === undefined ? dirname(path) : expandPath(String(doc.srcDir), base);
  const entrypoint = relative(srcDir, path);
  if (entrypoint.startsWith(`..${sep}`) || entrypoint === '..' || entrypoint.startsWith(sep)) {
    throw new PilotError('BAD_INPUT', `${where}: script ${path} is not inside srcDir ${srcDir}`, { hint: 'leave srcDir out (the script\'s folder is shipped) or give a folder that holds the script' });
  }
  doc.srcDir = srcDir;
  doc.entrypoint = entrypoint.split(sep).join('/');
  doc.interpreter ??= 'bash';
  doc.jobName ??= d.jobName ?? nameFromFile(path);
  if (d.tasks !== undefined) {
    const given = Array.isArray(doc.args) ? doc.args.length : doc.args === undefined ? undefined : 1;
    if (given !== undefined && given !== d.tasks) {
      throw new PilotError('BAD_INPUT', `${where}: the script's --array gives ${d.tasks} tasks but args gives ${given}`, { hint: 'make them agree, or leave args out (each task then runs the script with no arguments)' });
    }
    if (doc.arrayBase !== undefined && doc.arrayBase !== d.arrayBase) {
      throw new PilotError('BAD_INPUT', `${where}: arrayBase ${String(doc.arrayBase)} disagrees with the script's --array (from ${d.arrayBase})`, { hint: 'leave arrayBase out: the script\'s range decides it, so SLURM_ARRAY_TASK_ID is what sbatch would give' });
    }
    doc.args ??= Array.from({ length: d.tasks }, () => []);
    doc.arrayBase = d.arrayBase;
  }
  for (const key of ['maxConcurrent', 'partition', 'account', 'cpus', 'gpus', 'mem', 'time', 'nodes'] as const) {
    if (doc[key] === undefined && d[key] !== undefined) doc[key] = d[key];
  }
  if (d.sbatchArgs.length) doc.sbatchArgs = [...d.sbatchArgs, ...(Array.isArray(doc.sbatchArgs) ? doc.sbatchArgs : [])];
  return { input: doc, argsFile, argsWhere, script: { path, taken: d.taken, ignored: d.ignored } };
}
