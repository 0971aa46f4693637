/** `pilot launch JOB.yaml`: the SDK's scheduleJobs with the same fields in YAML, paths relative to the file. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PilotError } from '../../model/errors.js';
import { cli, formatBytes, printJson, withWrapper } from '../common.js';
import { describeResources } from '../../model/resources.js';
import { quoteArgv } from '../../util/quote.js';
import type { DryRun } from '../../engine/types.js';

export async function readJobYaml(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PilotError('BAD_INPUT', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, {
      hint: 'give the path of a job YAML, e.g. pilot launch examples/fine-tune-mlp/job.yaml',
    });
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new PilotError('BAD_INPUT', `${file} is not valid YAML: ${(err as Error).message}`, { hint: 'fix the YAML syntax at the line shown' });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new PilotError('BAD_INPUT', `${file} must be a mapping of job fields (jobName, entrypoint, args, …)`, { hint: 'see README: "Job files"' });
  }
  return doc as Record<string, unknown>;
}

/**
 * Whether `file` is a batch script rather than a job YAML: by extension (.sbatch .slurm .sh .bash .job), or,
 * for any other name but .yaml/.yml, a `#!` first line or an `#SBATCH` line (neither is ever a job file's).
 */
export async function isBatchScript(file: string): Promise<boolean> {
  if (/\.ya?ml$/i.test(file)) return false;
  if (/\.(sbatch|slurm|sh|bash|job)$/i.test(file)) return true;
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.startsWith('#!') || /^#SBATCH\s/m.test(text);
}

export interface LaunchOptions {
  cluster?: string; name?: string; unique?: boolean; collection?: string; dryRun?: boolean; wait?: boolean; timeout?: number; json?: boolean; progress?: boolean;
  after?: string[];
}

export async function run(file: string, opts: LaunchOptions): Promise<number> {
  // an empty value (`--name "$UNSET"`) is a mistake, not "use the YAML's": refuse it before reading anything
  for (const [flag, value] of [['--name', opts.name], ['--cluster', opts.cluster], ['--collection', opts.collection]] as const) {
    if (value !== undefined && !value.trim()) throw new PilotError('BAD_INPUT', `${flag} is empty`, { hint: `give a value, or leave ${flag} out to use the job file's` });
  }
  const path = resolve(file);
  // an sbatch script given as it is (issue 13): the same as a job file holding only `script: <it>`
  const doc = await isBatchScript(path) ? { script: path } as Record<string, unknown> : await readJobYaml(path);
  // several jobs linked by after: (a graph) are launched by their own module
  if (Array.isArray(doc.jobs)) return (await import('./graph.js')).runGraph(doc, dirname(path), opts);
  if (opts.after?.length) {
    const { parseAfter } = await import('../../model/dependencies.js');
    doc.after = [...(Array.isArray(doc.after) ? doc.after : []), ...opts.after.map(parseAfter)];
  }
  if (opts.cluster !== undefined) doc.cluster = opts.cluster;
  if (opts.name !== undefined) doc.jobName = opts.name;
  if (opts.collection !== undefined) doc.collection = opts.collection;
  if (opts.unique) doc.uniqueName = true;
  const base = dirname(path);

  return withWrapper(async (pilot) => {
    if (opts.dryRun) {
      const d = await pilot.dryRun(doc as never, { base });
      if (opts.json) {
        printJson(d);
      } else {
        process.stdout.write(taskTableText(d));
        process.stdout.write(`# ---- job.sh (${d.tasks} tasks on ${d.cluster}, bundle ${d.bundle.sha256.slice(0, 12)}, ${d.bundle.files} files, ${formatBytes(d.bundle.bytes)})\n`);
        process.stdout.write(d.script);
        process.stdout.write(`# ---- args.txt (one line per task; the script reads the same argv from args.b64)\n${d.argsText}`);
        process.stdout.write(`# ---- submit\n${d.sbatchCommand}\n`);
        if (d.directives) process.stdout.write(`# ---- from the script's #SBATCH lines\n${d.directives.map((l) => `${l}\n`).join('')}`);
        process.stdout.write(`# ---- task environment (search paths)\n${d.environment.map((l) => `${l}\n`).join('')}`);
        // what could be checked without connecting (warnings went to stderr as they were found)
        process.stdout.write(`# ---- checks\n${d.checks.map((c) => `${c}\n`).join('')}`);
      }
      return 0;
    }
    const job = await pilot.scheduleJobs(doc as never, { base });
    if (opts.json && !opts.wait) {
      printJson({ name: job.name, tasks: job.tasks, slurmJobIds: job.slurmJobIds });
    } else if (!opts.json) {
      process.stdout.write(`${job.name}\n`);
      const { bundle } = job;
      process.stderr.write(`  ${job.tasks} task${job.tasks === 1 ? '' : 's'} on ${job.cluster} as job ${job.slurmJobIds.join(', ')}` +
        ` (bundle ${bundle.sha256.slice(0, 12)}: ${formatBytes(bundle.bytes)}, ${bundle.files} file${bundle.files === 1 ? '' : 's'};` +
        ` ${bundle.uploadedBytes ? (job.cluster === 'local' ? 'unpacked' : 'uploaded') : 'already there, nothing sent'})\n` +
        `  next: pilot status ${job.name} · pilot logs ${job.name}/${job.arrayBase ?? 1} · pilot wait ${job.name}\n`);
      if (cli.verbose && job.environment) process.stderr.write(`verbose: task environment:\n${job.environment.map((l) => `  ${l}\n`).join('')}`);
    }
    if (opts.wait) {
      const { waitAndReport } = await import('./wait.js');
      return waitAndReport(pilot, job.name, { timeout: opts.timeout, json: opts.json, progress: opts.progress });
    }
    return 0;
  });
}

/** The dry run's task table: the first tasks with their name, parameters, argv and resources. */
function taskTableText(d: DryRun): string {
  const rows = d.taskTable.map((t) => [String(t.index), t.name ?? '', t.params ? JSON.stringify(t.params) : '', quoteArgv(t.argv), describeResources(t.resources)]);
  const header = ['index', 'name', 'params', 'argv', 'resources'];
  const keep = header.map((_, c) => c === 0 || c === 3 || rows.some((r) => r[c]));   // no empty columns
  const table = [header, ...rows].map((r) => r.filter((_, c) => keep[c]));
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  const sets = d.resourceGroups ? `; ${d.resourceGroups.length} resource sets, one array each: ${d.resourceGroups.map((g) => `tasks ${g.tasks} (${describeResources(g.resources)})`).join(', ')}` : '';
  return `# ---- ${d.tasks} task${d.tasks === 1 ? '' : 's'}${d.tasks > d.taskTable.length ? ` (the first ${d.taskTable.length} shown)` : ''}${sets}\n` +
    table.map((r) => `#  ${r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()}\n`).join('');
}
