/** The actions of `pilot collection …` and `pilot resubmit` (definitions: ../collection-commands.ts). */
import type { AttemptMode } from '../../model/collection.js';
import { printJson, withWrapper } from '../common.js';
import { renderAnalysis, renderCollections, renderGroups, renderSummary, renderTasks } from '../render-collection.js';

const out = (text: string) => process.stdout.write(text);

export async function create(name: string, opts: { description?: string }): Promise<number> {
  return withWrapper(async (pilot) => {
    await pilot.createCollection(name, opts);
    out(`${name}\n`);
    return 0;
  });
}

export async function list(opts: { attemptMode: AttemptMode; json?: boolean }): Promise<number> {
  return withWrapper(async (pilot) => {
    const all = await pilot.collections({ attemptMode: opts.attemptMode });
    if (opts.json) printJson(all);
    else out(renderCollections(all));
    return 0;
  });
}

export interface ShowCliOptions { state?: string; format: 'table' | 'json' | 'yaml'; showHistory?: boolean; submissionGroup?: string; attemptMode: AttemptMode }

export async function show(name: string, opts: ShowCliOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    const v = await pilot.collection(name, { state: opts.state, submissionGroup: opts.submissionGroup, attemptMode: opts.attemptMode });
    const doc = opts.showHistory ? v : { ...v, tasks: v.tasks.map(({ history: _h, ...t }) => t) };
    if (opts.format === 'json') printJson(doc);
    else if (opts.format === 'yaml') out((await import('yaml')).stringify(doc));
    else {
      out(renderSummary(v.name, v.summary));
      if (v.missing.length) out(`(jobs gone from the records: ${v.missing.join(', ')})\n`);
      out(renderTasks(v.tasks, { history: opts.showHistory }));
    }
    return 0;
  });
}

export async function update(name: string, opts: { json?: boolean }): Promise<number> {
  return withWrapper(async (pilot) => {
    const v = await pilot.updateCollection(name);
    for (const s of v.stale ?? []) process.stderr.write(`warning: states not refreshed: ${s}\n`);
    if (opts.json) printJson({ ...v, tasks: v.tasks.map(({ history: _h, ...t }) => t) });
    else out(renderSummary(v.name, v.summary));
    return 0;
  });
}

export async function remove(name: string): Promise<number> {
  return withWrapper(async (pilot) => {
    const r = await pilot.deleteCollection(name);
    out(`${name}: deleted (its ${r.jobs.length} job${r.jobs.length === 1 ? '' : 's'} stay)\n`);
    return 0;
  });
}

export async function add(name: string, jobs: string[]): Promise<number> {
  return withWrapper(async (pilot) => {
    const c = await pilot.addToCollection(name, jobs);
    out(`${name}: ${c.jobs.length} job${c.jobs.length === 1 ? '' : 's'}\n`);
    return 0;
  });
}

export async function removeJobs(name: string, jobs: string[]): Promise<number> {
  return withWrapper(async (pilot) => {
    const c = await pilot.removeFromCollection(name, jobs);
    out(`${name}: ${c.jobs.length} job${c.jobs.length === 1 ? '' : 's'}\n`);
    return 0;
  });
}

export async function groups(name: string, opts: { json?: boolean }): Promise<number> {
  return withWrapper(async (pilot) => {
    const gs = await pilot.submissionGroups(name);
    if (opts.json) printJson(gs);
    else out(renderGroups(gs));
    return 0;
  });
}

export interface AnalyzeCliOptions { param: string[]; minSupport: number; topK: number; attemptMode: AttemptMode; format: 'table' | 'json' }

export async function analyzeCommand(name: string, opts: AnalyzeCliOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    const a = await pilot.analyzeCollection(name, { params: opts.param, minSupport: opts.minSupport, topK: opts.topK, attemptMode: opts.attemptMode });
    if (opts.format === 'json') printJson(a);
    else out(renderAnalysis(name, a));
    return 0;
  });
}

export interface ResubmitCliOptions {
  collection: string; filter: string; extraArgs?: string; submissionGroup?: string; select?: string; repack?: boolean; dryRun?: boolean; json?: boolean;
}

export async function resubmit(opts: ResubmitCliOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    const r = await pilot.resubmit(opts.collection, {
      filter: opts.filter, extraArgs: opts.extraArgs, submissionGroup: opts.submissionGroup, select: opts.select, repack: opts.repack, dryRun: opts.dryRun,
    });
    if (opts.json) printJson(r);
    else if (!r.jobs.length) out(`${r.collection}: no task matches --filter ${opts.filter}${opts.select ? ' and --select' : ''}; nothing to resubmit\n`);
    else {
      for (const j of r.jobs) {
        out(`${j.name}: ${opts.dryRun ? 'would resubmit' : 'resubmitted'} ${j.indices.length} task(s) as attempt ${j.attempt}${j.slurmJobIds.length ? ` (job ${j.slurmJobIds.join(', ')})` : ''}: ${j.indices.join(',')}\n`);
      }
      if (!opts.dryRun) out(`group ${r.group}${r.extraArgs.length ? `, extra args: ${r.extraArgs.join(' ')}` : ''}\n`);
    }
    return 0;
  });
}
