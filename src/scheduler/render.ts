/**
 * Renders the ONE array script of a job from a nunjucks template. Values are validated (names, resources)
 * or quoted with `quote` (the `q` filter): a template never turns a raw string into shell code. The only raw
 * shell is the user's own `setup` lines, which are their code by design.
 */
import { readFileSync } from 'node:fs';
import { assertSbatchValue } from './slurm/options.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NormalizedJobInfo } from '../model/job.js';
import { quote } from '../util/quote.js';

const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');
export const DEFAULT_TEMPLATE = join(TEMPLATES_DIR, 'slurm-array.sh.njk');

export interface ScriptContext {
  version: string;
  jobName: string;
  bundleSha: string;
  /** Validated `--opt=value` words for #SBATCH lines. */
  sbatchLines: string[];
  env: Record<string, string>;
  setup: string[];
  /** interpreter words + entrypoint; each quoted by the template. */
  command: string[];
}

/** The #SBATCH options of a job: resources, the default array spec, and per-task log files. */
export function sbatchLines(info: NormalizedJobInfo, tasks: number, defaults: { partition?: string; account?: string } = {}): string[] {
  const lines = [`--job-name=${info.jobName}`];
  const partition = info.partition ?? defaults.partition;
  const account = info.account ?? defaults.account;
  if (partition) lines.push(`--partition=${partition}`);
  if (account) lines.push(`--account=${account}`);
  if (info.nodes) lines.push(`--nodes=${info.nodes}`);
  if (info.cpus) lines.push(`--cpus-per-task=${info.cpus}`);
  if (info.gpus) lines.push(`--gpus=${info.gpus}`);
  if (info.mem) lines.push(`--mem=${info.mem}`);
  if (info.time) lines.push(`--time=${info.time}`);
  lines.push(`--array=${arraySpec(`1-${tasks}`, info.maxConcurrent)}`);
  lines.push('--output=logs/%A_%a.out', '--error=logs/%A_%a.err');
  lines.push(...info.sbatchArgs);
  // the last line of defence: whatever the source, no value may end its #SBATCH line early
  for (const line of lines) assertSbatchValue(line, '#SBATCH line', `job ${info.jobName}`);
  return lines;
}

export function arraySpec(indices: string, maxConcurrent?: number): string {
  return maxConcurrent ? `${indices}%${maxConcurrent}` : indices;
}

export function commandWords(info: NormalizedJobInfo): string[] {
  const entry = info.interpreter.length ? info.entrypoint : `./${info.entrypoint.replace(/^\.\//, '')}`;
  return [...info.interpreter, entry];
}

export async function renderScript(ctx: ScriptContext, templatePath = DEFAULT_TEMPLATE): Promise<string> {
  const nunjucks = (await import('nunjucks')).default;
  // autoescape would HTML-escape values (&amp; in a shell script); quoting is our job, done by `q`
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true, trimBlocks: false });
  env.addFilter('q', (v: unknown) => quote(String(v)));
  const source = readFileSync(templatePath, 'utf8');
  return env.renderString(source, ctx as unknown as object);
}
