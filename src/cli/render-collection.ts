/**
 * Pure text renderers of the collection commands (list, show, groups, analyze); nothing here does I/O.
 */
import { bar, type Analysis, type ValueStats } from '../model/analyze.js';
import type { CollectionTask, GroupSummary, Summary } from '../model/collection.js';
import type { CollectionSummary } from '../engine/collections.js';
import { formatTime } from './render.js';

/** Left-aligned columns, two spaces apart; numbers right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // the first column names things (a value like 0.1 too): always left-aligned
  const numeric = header.map((_, i) => i > 0 && rows.length > 0 && rows.every((r) => /^-?[\d.]+%?$|^-$/.test(r[i] ?? '')));
  const line = (r: string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

const summaryCells = (s: Summary) => [s.total, s.completed, s.failed, s.pending, s.running].map(String);

export function renderCollections(list: readonly CollectionSummary[]): string {
  if (!list.length) return 'no collections yet: launch a job with --collection NAME, or `pilot collection create NAME`\n';
  return table(['COLLECTION', 'JOBS', 'TOTAL', 'COMPLETED', 'FAILED', 'PENDING', 'RUNNING'],
    list.map((c) => [c.name, String(c.jobs.length - c.missing.length), ...summaryCells(c.summary)]));
}

const paramsText = (t: CollectionTask) => (t.params ? Object.entries(t.params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ') : '');

export function renderTasks(tasks: readonly CollectionTask[], options: { history?: boolean } = {}): string {
  if (!tasks.length) return 'no task matches\n';
  const rows = tasks.map((t) => {
    const hist = t.history.map((h) => `${h.attempt}:${h.state}${h.exitCode !== null && h.exitCode !== 0 ? `(${h.exitCode})` : ''}`).join(' → ');
    return [t.job, String(t.index), t.state, String(t.attempt), ...(options.history ? [hist] : []), paramsText(t)];
  });
  return table(['JOB', 'TASK', 'STATE', 'ATTEMPT', ...(options.history ? ['HISTORY'] : []), 'PARAMS'], rows);
}

export function renderSummary(name: string, s: Summary): string {
  return `${name}: ${s.total} tasks · ${s.completed} completed · ${s.failed} failed · ${s.pending} pending · ${s.running} running${s.other ? ` · ${s.other} cancelled` : ''}\n`;
}

export function renderGroups(groups: readonly GroupSummary[]): string {
  if (!groups.length) return 'no submission groups yet\n';
  return table(['GROUP', 'SLURM JOBS', 'TASKS', 'FIRST SUBMIT', 'LAST SUBMIT', 'EXTRA ARGS'],
    groups.map((g) => [g.name, String(g.slurmJobs), String(g.tasks), g.firstSubmit ? formatTime(g.firstSubmit) : '-', g.lastSubmit ? formatTime(g.lastSubmit) : '-', g.extraArgs?.join(' ') ?? '']));
}

const pct = (r: number) => `${(r * 100).toFixed(0)}%`;
const lowN = (v: ValueStats) => (v.lowN ? 'Low-N' : '');

export function renderAnalysis(name: string, a: Analysis): string {
  const out: string[] = [renderSummary(name, a.overall)];
  if (a.withoutParams) out.push(`(${a.withoutParams} task${a.withoutParams === 1 ? '' : 's'} without params: string or list args)\n`);
  if (!a.params.length) return out.concat('no parameters to analyze: give tasks object args ({ lr: 0.1 }) or a sweep\n').join('');
  for (const p of a.params) {
    out.push(`\n${p.param}\n`);
    out.push(table(['VALUE', 'N', 'COMPLETED', 'FAILED', 'PENDING', 'RUNNING', 'FAIL RATE', 'DONE RATE', ''],
      p.values.map((v) => [v.value, String(v.n), String(v.completed), String(v.failed), String(v.pending), String(v.running), v.failureRate.toFixed(2), v.completionRate.toFixed(2), lowN(v)])));
  }
  const list = (title: string, vs: ValueStats[], rate: (v: ValueStats) => number) => {
    out.push(`\n${title}\n`);
    if (!vs.length) out.push('  (none)\n');
    vs.forEach((v, i) => out.push(`  ${i + 1}. ${v.param}=${v.value}  ${pct(rate(v))} of ${v.n}${v.lowN ? `  Low-N (< ${a.minSupport})` : ''}\n`));
  };
  list('Top risky (failure rate)', a.topRisky, (v) => v.failureRate);
  list('Top stable (completion rate)', a.topStable, (v) => v.completionRate);
  out.push('\nFailure rate by value\n');
  const labels = a.params.flatMap((p) => p.values.map((v) => `${p.param}=${v.value}`));
  const w = Math.min(30, Math.max(...labels.map((l) => l.length)));
  for (const p of a.params) for (const v of p.values) {
    out.push(`  ${`${p.param}=${v.value}`.padEnd(w).slice(0, w)}  ${bar(v.failureRate)}  ${v.failureRate.toFixed(2)}  n=${v.n}${v.lowN ? ' Low-N' : ''}\n`);
  }
  return out.join('');
}
