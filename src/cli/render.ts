/** Pure text renderers for the CLI (tested with recorded statuses; nothing here does I/O). */
import type { JobStatus } from '../model/tracking.js';
import type { TaskStatus } from '../model/record.js';

const ORDER = ['RUNNING', 'PENDING', 'COMPLETED', 'FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'CANCELLED', 'UNKNOWN'];

export function countsLine(status: Pick<JobStatus, 'counts'>): string {
  return ORDER.filter((s) => status.counts[s as keyof JobStatus['counts']])
    .map((s) => `${s} ${status.counts[s as keyof JobStatus['counts']]}`).join('  ');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => '  ' + r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

function taskRows(tasks: readonly TaskStatus[]): string {
  const reasons = tasks.some((t) => t.reason);
  return table([
    ['task', 'state', 'exit', 'attempt', ...(reasons ? ['reason'] : [])],
    ...tasks.map((t) => [String(t.index), t.state, t.exitCode === null ? '-' : String(t.exitCode), String(t.attempt), ...(reasons ? [t.reason ?? ''] : [])]),
  ]);
}

/** A job's summary; unsuccessful tasks are listed (every task with `all`). */
export function renderStatus(status: JobStatus, options: { all?: boolean } = {}): string {
  const n = status.tasks.length;
  const lines = [
    `${status.name}  on ${status.cluster}  ${n} task${n === 1 ? '' : 's'}  attempt ${status.attempts}  job ${status.slurmJobIds.join(',')}${status.done ? '  (done)' : ''}`,
    `  ${countsLine(status)}`,
  ];
  if (status.stale) lines.push(`  ! states may be out of date: ${status.stale}`);
  const shown = options.all ? status.tasks : status.tasks.filter((t) => t.state !== 'COMPLETED' && t.state !== 'RUNNING' && t.state !== 'PENDING');
  if (shown.length) lines.push(taskRows(shown));
  return lines.join('\n');
}

export function renderList(statuses: readonly JobStatus[]): string {
  if (!statuses.length) return 'no jobs yet: start one with `pilot launch job.yaml`';
  return table([
    ['name', 'cluster', 'tasks', 'attempts', 'states'],
    ...statuses.map((s) => [s.name, s.cluster, String(s.tasks.length), String(s.attempts), countsLine(s) + (s.stale ? '  (stale)' : '')]),
  ]).replace(/^ {2}/gm, '');
}

/** One progress line: a bar of finished tasks and the counts. */
export function renderProgress(status: JobStatus, width = 30): string {
  const n = status.tasks.length || 1;
  const finished = status.tasks.filter((t) => !['PENDING', 'RUNNING', 'UNKNOWN'].includes(t.state)).length;
  const fill = Math.round((finished / n) * width);
  return `${status.name} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${finished}/${n}  ${countsLine(status)}`;
}

