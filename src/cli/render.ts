/**
 * Pure text renderers for the CLI (tested with recorded statuses; nothing here does I/O). Colour is only ever
 * added when the caller says so (a terminal, no NO_COLOR, no --json): widths are always measured on the text
 * without it.
 */
import { failureClass } from '../model/failure.js';
import type { TaskStatus } from '../model/record.js';
import type { TaskState } from '../model/states.js';
import { taskCount, type JobStatus } from '../model/tracking.js';

const ORDER: readonly TaskState[] = ['RUNNING', 'PENDING', 'COMPLETED', 'FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'CANCELLED', 'MISSING_OUTPUT', 'UNKNOWN'];
/** squeue's short state codes, which Slurm users read at a glance; for narrow progress lines. */
const SHORT: Record<TaskState, string> = {
  RUNNING: 'R', PENDING: 'PD', COMPLETED: 'CD', FAILED: 'F', TIMEOUT: 'TO', OUT_OF_MEMORY: 'OOM', NODE_FAIL: 'NF', PREEMPTED: 'PR', CANCELLED: 'CA', MISSING_OUTPUT: 'MO', UNKNOWN: '?',
};
/** SGR colours: green done, red failed, yellow stopped from outside, cyan running, dim waiting. */
const COLOUR: Record<TaskState, string> = {
  RUNNING: '36', PENDING: '2', COMPLETED: '32', FAILED: '31', OUT_OF_MEMORY: '31', NODE_FAIL: '31', TIMEOUT: '33', PREEMPTED: '33', CANCELLED: '33', MISSING_OUTPUT: '31', UNKNOWN: '35',
};

export interface Style {
  /** Add ANSI colours (only for a terminal). */
  color?: boolean;
}

function paint(state: TaskState, text: string, color: boolean | undefined): string {
  return color ? `\x1b[${COLOUR[state]}m${text}\x1b[0m` : text;
}

/** Cuts `text` to `max` characters, marking the cut with `…`. */
export function ellipsize(text: string, max: number): string {
  if (text.length <= max) return text;
  return max <= 0 ? '' : `${text.slice(0, max - 1)}…`;
}

/** 45s, 3m05s, 2h07m, 3d04h: two units at most, so it stays short. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

/** `2025-11-23 18:02`, in local time. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '-';
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

function countItems(status: Pick<JobStatus, 'counts'>, short: boolean): { state: TaskState; text: string }[] {
  return ORDER.filter((s) => status.counts[s]).map((s) => ({ state: s, text: short ? `${SHORT[s]} ${status.counts[s]}` : `${s} ${status.counts[s]}` }));
}

export function countsLine(status: Pick<JobStatus, 'counts'>, style: Style & { short?: boolean } = {}): string {
  return countItems(status, Boolean(style.short)).map((c) => paint(c.state, c.text, style.color)).join(style.short ? ' ' : '  ');
}

/** A table cell: text, painted as a state's colour when `state` is given. */
export type Cell = string | { text: string; state: TaskState };

export function table(rows: Cell[][], style: Style = {}): string {
  const text = (c: Cell) => (typeof c === 'string' ? c : c.text);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => text(r[c]!).length)));
  return rows.map((r) => '  ' + r.map((cell, c) => {
    const padded = text(cell).padEnd(widths[c]!);
    return typeof cell === 'string' ? padded : paint(cell.state, padded, style.color);
  }).join('  ').trimEnd()).join('\n');
}

/** `EXIT 3`, `SIGNAL 9`, `TIMEOUT`, …: why a task did not complete ('' when it did, or has not finished). */
export function failureText(task: Pick<TaskStatus, 'state' | 'exitCode' | 'signal' | 'missingFiles'>): string {
  const cls = failureClass(task);
  if (cls === 'EXIT') return `EXIT ${task.exitCode ?? '?'}`;
  if (cls === 'SIGNAL') return `SIGNAL ${task.signal}`;
  if (cls === 'MISSING_OUTPUT' && task.missingFiles?.length) return `MISSING_OUTPUT ${task.missingFiles.join(' ')}`;
  return cls ?? '';
}

function taskRows(tasks: readonly TaskStatus[], style: Style & { width?: number }, names?: readonly string[]): string {
  const failures = tasks.some((t) => failureClass(t));
  const reasons = tasks.some((t) => t.reason);
  const errors = tasks.some((t) => t.lastError);
  const rows: Cell[][] = [
    ['task', ...(names ? ['name'] : []), 'state', 'exit', 'attempt', ...(failures ? ['failure'] : []), ...(reasons ? ['reason'] : []), ...(errors ? ['last stderr line'] : [])],
    ...tasks.map((t) => [
      String(t.index), ...(names ? [t.name ?? ''] : []), { text: t.state, state: t.state }, t.exitCode === null ? '-' : String(t.exitCode), String(t.attempt),
      ...(failures ? [failureText(t)] : []), ...(reasons ? [t.reason ?? ''] : []), ...(errors ? [t.lastError ?? ''] : []),
    ]),
  ];
  if (errors && style.width !== undefined) {
    // on a terminal the line gives way to the width (it can be 300 characters); whole in pipes and --json
    const before = table(rows.map((r) => r.slice(0, -1))).split('\n').reduce((m, l) => Math.max(m, l.length), 0);
    const room = Math.max(20, style.width - before - 2);
    for (const r of rows) r[r.length - 1] = ellipsize(r[r.length - 1] as string, room);
  }
  return table(rows, style);
}

/**
 * A job's summary; the tasks that did not complete are listed (every task with `all`), each failure with its
 * class (`EXIT 3`) and the last line of its stderr. `width`: a terminal's, to keep that line on one row.
 */
export function renderStatus(status: JobStatus, options: Style & { all?: boolean; width?: number } = {}): string {
  const n = taskCount(status);
  const lines = [
    `${status.name}  on ${status.cluster}  ${n} task${n === 1 ? '' : 's'}  attempt ${status.attempts}  job ${status.slurmJobIds.join(',')}${status.done ? '  (done)' : ''}`,
    `  ${countsLine(status, options)}`,
  ];
  if (status.stale) lines.push(`  ! states may be out of date: ${status.stale}`);
  const shown = options.all ? status.tasks : status.tasks.filter((t) => t.state !== 'COMPLETED' && t.state !== 'RUNNING' && t.state !== 'PENDING');
  if (shown.length) lines.push(taskRows(shown, options, status.taskNames));
  return lines.join('\n');
}

/** One line per job, newest first as given: when it was submitted, how long ago, and its counts per state. */
export function renderList(statuses: readonly JobStatus[], options: Style & { now?: number } = {}): string {
  if (!statuses.length) return 'no jobs yet: start one with `pilot launch job.yaml`';
  const now = options.now ?? Date.now();
  return table([
    ['name', 'cluster', 'submitted', 'age', 'tasks', 'attempts', 'states'],
    ...statuses.map((s) => [
      s.name, s.cluster, s.submittedAt ? formatTime(s.submittedAt) : '-', s.submittedAt ? formatDuration(now - Date.parse(s.submittedAt)) : '-',
      String(taskCount(s)), String(s.attempts), countsLine(s, options) + (s.done ? '  (done)' : '') + (s.stale ? '  (stale)' : ''),
    ]),
  ]).replace(/^ {2}/gm, '');
}

/** Tasks that have finished, whatever their state. */
export function finishedCount(status: Pick<JobStatus, 'counts'>): number {
  return taskCount(status) - (status.counts.PENDING ?? 0) - (status.counts.RUNNING ?? 0) - (status.counts.UNKNOWN ?? 0);
}

export interface ProgressView extends Style {
  /** Columns available (a terminal's width, less one); unbounded when not given. */
  width?: number;
  elapsedMs?: number;
  etaMs?: number;
}

const BAR = 30;
const MIN_BAR = 10;
const MIN_NAME = 8;

/**
 * One progress line: name, a bar of finished tasks, n/N, elapsed time, ETA and the counts, never wider than
 * `width`. What gives way, in order: the counts' long names (to squeue's codes), the name (to 40% of the
 * line), the bar, the rest of the name (to 8 characters), the times; a line that still does not fit is cut.
 */
export function renderProgress(status: JobStatus, view: ProgressView = {}): string {
  const width = view.width ?? Infinity;
  const n = taskCount(status);
  const done = finishedCount(status);
  const times = [
    view.elapsedMs === undefined ? '' : formatDuration(view.elapsedMs),
    view.etaMs === undefined || status.done ? '' : `ETA ${formatDuration(view.etaMs)}`,
  ].filter(Boolean).join('  ');
  const line = (name: string, bar: number, short: boolean, withTimes: boolean, color?: boolean) => {
    const fill = n ? Math.round((done / n) * bar) : bar;
    const head = bar ? `${name} [${'#'.repeat(fill)}${'.'.repeat(bar - fill)}] ${done}/${n}` : `${name}  ${done}/${n}`;
    return [head, withTimes ? times : '', countsLine(status, { short, color })].filter(Boolean).join('  ');
  };
  // the name when `room` columns are left for it, never under MIN_NAME
  const cut = (room: number) => ellipsize(status.name, Math.max(MIN_NAME, room));
  const rest = (short: boolean, withTimes: boolean) => line('', 0, short, withTimes).length;
  const variants: [name: string, bar: boolean, short: boolean, times: boolean][] = [
    [status.name, true, false, true], [status.name, true, true, true], [cut(Math.floor(width * 0.4)), true, true, true],
    [status.name, false, true, true], [cut(width - rest(true, true)), false, true, true], [cut(width - rest(true, false)), false, true, false],
  ];
  for (const [name, withBar, short, withTimes] of variants) {
    // a bar of b columns makes the line b + 2 longer than the same line without one
    const room = width - line(name, 0, short, withTimes).length - (withBar ? 2 : 0);
    if (withBar && room >= MIN_BAR) return line(name, Math.min(BAR, room), short, withTimes, view.color);
    if (!withBar && room >= 0) return line(name, 0, short, withTimes, view.color);
  }
  return ellipsize(line(cut(0), 0, true, false), width);
}

/**
 * Estimated time left from tasks finished per second. The rate is measured from `first` (the wait's first
 * look) to `now`; before any task finished during the wait, from the job's submission, when some had.
 */
export function estimateEtaMs(first: { at: number; finished: number }, now: { at: number; finished: number }, total: number, submittedAt?: number): number | undefined {
  const left = total - now.finished;
  if (left <= 0) return 0;
  let rate = now.at > first.at ? (now.finished - first.finished) / (now.at - first.at) : 0;
  if (rate <= 0 && submittedAt !== undefined && now.finished > 0 && now.at > submittedAt) rate = now.finished / (now.at - submittedAt);
  return rate > 0 ? left / rate : undefined;
}
