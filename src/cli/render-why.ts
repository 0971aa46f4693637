/**
 * `pilot why` as text (pure; the JSON is the report itself). Everything shown from the logs was cleaned of
 * control characters by the model before it got here.
 */
import type { WhyReport, WhyTask } from '../engine/why.js';

function headline(t: WhyTask): string {
  const exit = t.exitCode === null ? '' : `  exit ${t.exitCode}`;
  const signal = t.signal ? `  signal ${t.signal}` : '';
  return `task ${t.index}  ${t.state}${exit}${signal}  attempt ${t.attempt}  ${t.failure ?? 'no failure found'}`;
}

function taskBlock(t: WhyTask): string[] {
  const lines = [headline(t)];
  if (t.reason) lines.push(`  reason: ${t.reason}`);
  if (t.missingFiles?.length) lines.push(`  missing files: ${t.missingFiles.join(', ')}`);
  if (t.errorLines.length) {
    lines.push('  error lines:');
    for (const e of t.errorLines) lines.push(`    ${e.stream}:${e.line}  ${e.text}`);
  }
  if (t.stderrTail.length) {
    lines.push('  last stderr lines:');
    for (const l of t.stderrTail) lines.push(`    ${l}`);
  } else if (t.logsMissing) {
    lines.push('  no logs (the task never ran, or they were deleted)');
  }
  return lines;
}

export function renderWhy(report: WhyReport): string {
  const out = [`${report.name}  on ${report.cluster}`];
  if (report.stale) out.push(`  ! states may be out of date: ${report.stale}`);
  if (report.logsUnreadable) out.push(`  ! the logs could not be read: ${report.logsUnreadable}`);
  if (!report.groups.length && !report.tasks.some((t) => t.failure)) {
    out.push(report.tasks.length ? '  nothing wrong found' : '  no failed task');
  }
  for (const g of report.groups) out.push(`  ${g.failure} (${g.tasks.length}): ${g.tasks.join(', ')}`);
  if (report.truncated) out.push(`  (${report.truncated} more not shown in detail)`);
  for (const t of report.tasks) out.push('', ...taskBlock(t));
  return out.join('\n');
}
