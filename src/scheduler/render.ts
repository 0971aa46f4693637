/**
 * Renders the ONE array script of a job from a nunjucks template (the dialect names the template and gives
 * the directive lines). Values are validated (names, resources)
 * or quoted with `quote` (the `q` filter): a template never turns a raw string into shell code. The only raw
 * shell is the user's own `setup` lines, which are their code by design.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NormalizedJobInfo } from '../model/job.js';
import { taskOutputDir } from '../model/task-env.js';
import { compileTemplate, compiledTemplate } from './template-compile.js';

const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');
export const TEMPLATES = TEMPLATES_DIR;

export interface ScriptContext {
  version: string;
  jobName: string;
  /** the launch's bundle: what the script runs when no bundle is passed as its third argument */
  bundleSha: string;
  /** Validated `--opt=value` words for the directive lines (`#SBATCH` for Slurm). */
  sbatchLines: string[];
  env: Record<string, string>;
  setup: string[];
  /** interpreter words + entrypoint; each quoted by the template. */
  command: string[];
  /** The first task number, 0 or 1 (arrayBase): task i reads argument line i + 1 - arrayBase. */
  arrayBase: 0 | 1;
  /** Library folders (`lib/<name>`), each put on PYTHONPATH itself too: see libraryDirs / taskPaths in model/task-paths.ts. */
  libraryDirs: string[];
  /** The task's output folder relative to the job folder, in shell variables (model/task-env.ts taskOutputDir). */
  outputDir?: string;
  /** Placeholder tokens job.sh replaces as plain text, and the (fixed, pilot-written) shell value of each. */
  fills?: { token: string; value: string }[];
  /** env names whose values hold a token. */
  envToFill?: string[];
}

/**
 * Whether a rendered script runs the bundle named by its third argument, as the default template does (a
 * template of your own may not): only then can an attempt run another bundle than the launch's.
 */
export function takesBundleArg(script: string): boolean {
  return script.includes('PILOT_BUNDLE_SHA=${3');
}

/** Whether a rendered script appends `args-extra.<attempt>.b64` to its argv (`pilot resubmit --extra-args`). */
export function takesAttemptArgs(script: string): boolean {
  return script.includes('args-extra.$PILOT_ATTEMPT.b64');
}

export function commandWords(info: NormalizedJobInfo): string[] {
  const entry = info.interpreter.length ? info.entrypoint : `./${info.entrypoint.replace(/^\.\//, '')}`;
  return [...info.interpreter, entry];
}

/**
 * Compiled templates, per file, with the stat they had: building the environment and compiling the template
 * cost more than rendering it, and an SDK launching many jobs renders the same one each time. An edited
 * template (another size, mtime or inode) is compiled again.
 */
const compiled = new Map<string, { stamp: string; render: (ctx: object) => string }>();

export async function renderScript(ctx: ScriptContext, templatePath: string): Promise<string> {
  const s = statSync(templatePath);
  const stamp = `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  let known = compiled.get(templatePath);
  if (known?.stamp !== stamp) {
    const text = readFileSync(templatePath, 'utf8');
    // compiled when pilot was built, if it was this text; else now (autoescape off, `q` quotes: template-compile.ts)
    known = { stamp, render: (await compiledTemplate(text, templatePath)) ?? (await compileTemplate(text, templatePath)) };
    compiled.set(templatePath, known);
  }
  const full = { outputDir: taskOutputDir('${PILOT_TASK_INDEX}', '${PILOT_ATTEMPT}'), fills: [], envToFill: [], ...ctx };
  return known.render(full as unknown as object);
}
