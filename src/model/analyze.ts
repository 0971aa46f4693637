/**
 * Failure analysis by parameter, pure: for each parameter and each of its values, how many tasks had it and
 * how they ended; which values fail most (risky) and least (stable). Rates are over the tasks with that value
 * (pending and running ones included: they count as neither failed nor completed). A value seen on fewer than
 * `minSupport` tasks is marked low-N and ranked after the others: one failed task proves little.
 */
import { bucketOf, summarize, type CollectionTask, type Summary } from './collection.js';
import { valueKey } from './report-stats.js';

export interface ValueStats {
  param: string;
  /** the value as shown: strings as is, everything else as JSON */
  value: string;
  n: number;
  completed: number;
  failed: number;
  pending: number;
  running: number;
  other: number;
  /** failed / n */
  failureRate: number;
  /** completed / n */
  completionRate: number;
  /** n < minSupport */
  lowN: boolean;
}

export interface AnalyzeOptions {
  /** only these parameters (default: every parameter any task has) */
  params?: readonly string[];
  /** values seen on fewer tasks are marked low-N (default 3) */
  minSupport?: number;
  /** how many risky and stable values to list (default 5) */
  topK?: number;
}

export interface Analysis {
  overall: Summary;
  /** tasks without params (string or list args): not in any per-value count */
  withoutParams: number;
  minSupport: number;
  params: { param: string; values: ValueStats[] }[];
  /** highest failure rate first (failed > 0 only), low-N values last */
  topRisky: ValueStats[];
  /** highest completion rate first (completed > 0 only), low-N values last */
  topStable: ValueStats[];
}

export function analyze(tasks: readonly CollectionTask[], options: AnalyzeOptions = {}): Analysis {
  const minSupport = options.minSupport ?? 3;
  const topK = options.topK ?? 5;
  const names = options.params?.length ? [...options.params] : [...new Set(tasks.flatMap((t) => Object.keys(t.params ?? {})))].sort();
  const params = names.map((param) => {
    const byValue = new Map<string, ValueStats>();
    for (const t of tasks) {
      if (!t.params || !(param in t.params)) continue;
      const value = valueKey(t.params[param]);   // the report groups values the same way
      const s = byValue.get(value) ?? byValue.set(value, { param, value, n: 0, completed: 0, failed: 0, pending: 0, running: 0, other: 0, failureRate: 0, completionRate: 0, lowN: false }).get(value)!;
      s.n++;
      s[bucketOf(t.state)]++;
    }
    const values = [...byValue.values()].map((s) => ({ ...s, failureRate: s.failed / s.n, completionRate: s.completed / s.n, lowN: s.n < minSupport }));
    return { param, values: values.sort((a, b) => numericOrText(a.value, b.value)) };
  });
  const all = params.flatMap((p) => p.values);
  const supportedFirst = (a: ValueStats, b: ValueStats) => Number(a.lowN) - Number(b.lowN);
  const topRisky = all.filter((s) => s.failed > 0)
    .sort((a, b) => supportedFirst(a, b) || b.failureRate - a.failureRate || b.n - a.n).slice(0, topK);
  const topStable = all.filter((s) => s.completed > 0)
    .sort((a, b) => supportedFirst(a, b) || b.completionRate - a.completionRate || a.failureRate - b.failureRate || b.n - a.n).slice(0, topK);
  return { overall: summarize(tasks), withoutParams: tasks.filter((t) => !t.params).length, minSupport, params, topRisky, topStable };
}

/** Numbers in numeric order (0.001 before 0.01 before 0.1), anything else as text. */
function numericOrText(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  return a.trim() && b.trim() && Number.isFinite(x) && Number.isFinite(y) ? x - y : a.localeCompare(b);
}

/** A terminal bar of `rate` (0..1) in `width` cells, eighths included. */
export function bar(rate: number, width = 20): string {
  const eighths = Math.round(Math.max(0, Math.min(1, rate)) * width * 8);
  const partial = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'][eighths % 8]!;
  return ('█'.repeat(Math.floor(eighths / 8)) + partial).padEnd(width, '·');
}
