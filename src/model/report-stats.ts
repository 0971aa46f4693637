/**
 * The numbers of `pilot report`, as pure functions: failure rate per parameter value, the run-time histogram,
 * the timeline's bars. Kept in one module so the math can be shared with `collection analyze` (which counts
 * the same rates per parameter value) without touching the HTML.
 */
import type { TaskParams } from './job.js';
import type { TaskStatus } from './record.js';
import { isFinal, type TaskState } from './states.js';

/** A state that counts as a failure in rates: final and not COMPLETED (CANCELLED included: it did not deliver). */
export function isFailure(state: TaskState): boolean {
  return isFinal(state) && state !== 'COMPLETED';
}

export interface ValueRate {
  /** the value as text (`0.01`, `true`, `["a","b"]`) */
  value: string;
  /** final tasks with this value */
  total: number;
  failed: number;
  completed: number;
  /** failed / total (0 when total is 0) */
  failureRate: number;
}

export interface ParamRates {
  param: string;
  values: ValueRate[];
}

/** A parameter value as the one text it is grouped and shown by. */
export function valueKey(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
}

/**
 * Per parameter, per value: how many of the tasks that reached a final state failed. Tasks still waiting or
 * running are left out (they have not failed yet); values keep the order they first appear in.
 * @example
 * failureRates([{ state: 'FAILED', params: { lr: 0.1 } }, { state: 'COMPLETED', params: { lr: 0.01 } }]);
 * // [{ param: 'lr', values: [{ value: '0.1', total: 1, failed: 1, completed: 0, failureRate: 1 }, …] }]
 */
export function failureRates(tasks: readonly { state: TaskState; params?: TaskParams }[]): ParamRates[] {
  const byParam = new Map<string, Map<string, ValueRate>>();
  for (const t of tasks) {
    if (!isFinal(t.state)) continue;
    for (const [param, raw] of Object.entries(t.params ?? {})) {
      const values = byParam.get(param) ?? byParam.set(param, new Map()).get(param)!;
      const key = valueKey(raw);
      const v = values.get(key) ?? values.set(key, { value: key, total: 0, failed: 0, completed: 0, failureRate: 0 }).get(key)!;
      v.total++;
      if (t.state === 'COMPLETED') v.completed++;
      else if (isFailure(t.state)) v.failed++;
    }
  }
  return [...byParam].map(([param, values]) => ({
    param,
    values: [...values.values()].map((v) => ({ ...v, failureRate: v.total ? v.failed / v.total : 0 })),
  }));
}

export interface Bin {
  /** seconds, inclusive */
  from: number;
  /** seconds, exclusive (inclusive for the last bin) */
  to: number;
  count: number;
}

/**
 * Equal-width bins over [min, max] of the durations (seconds); one bin when they are all equal; none for none.
 * Default count: Sturges' rule (1 + log2 n), at most 20.
 */
export function histogram(durations: readonly number[], bins?: number): Bin[] {
  const xs = durations.filter((d) => Number.isFinite(d) && d >= 0);
  if (!xs.length) return [];
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  if (max === min) return [{ from: min, to: max, count: xs.length }];
  const n = Math.max(1, Math.min(bins ?? Math.min(20, Math.ceil(1 + Math.log2(xs.length))), xs.length));
  const width = (max - min) / n;
  const out: Bin[] = Array.from({ length: n }, (_, i) => ({ from: min + i * width, to: i === n - 1 ? max : min + (i + 1) * width, count: 0 }));
  for (const x of xs) out[Math.min(n - 1, Math.floor((x - min) / width))]!.count++;
  return out;
}

/** One bar of the timeline: a task's attempt from start to end (end = `now` while it runs). */
export interface TimelineBar {
  index: number;
  /** the task's job, in a collection's report (several jobs on one timeline) */
  job?: string;
  attempt: number;
  state: TaskState;
  /** milliseconds since the epoch */
  start: number;
  end: number;
  /** still running: the end is the report's time */
  open?: boolean;
}

/**
 * Every attempt of every task that has a start time, earliest first: the final states of earlier attempts
 * (`history`) and the current one. Attempts that never started have no bar.
 */
export function timelineBars(tasks: readonly TaskStatus[], history: Readonly<Record<string, readonly TaskStatus[]>> | undefined, now: number): TimelineBar[] {
  const bars: TimelineBar[] = [];
  const add = (s: TaskStatus) => {
    const start = s.start ? Date.parse(s.start) : NaN;
    if (Number.isNaN(start)) return;
    const end = s.end ? Date.parse(s.end) : NaN;
    const open = Number.isNaN(end);
    bars.push({ index: s.index, attempt: s.attempt, state: s.state, start, end: open ? Math.max(start, now) : Math.max(start, end), ...(open ? { open } : {}) });
  };
  for (const t of tasks) {
    for (const h of history?.[t.index] ?? []) add(h);
    add(t);
  }
  return bars.sort((a, b) => a.start - b.start || a.index - b.index || a.attempt - b.attempt);
}

/** Run time in seconds of each attempt that has both ends (the histogram's input). */
export function durations(bars: readonly TimelineBar[]): number[] {
  return bars.filter((b) => !b.open).map((b) => (b.end - b.start) / 1000);
}
