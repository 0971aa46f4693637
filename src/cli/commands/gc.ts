/** `pilot gc [--dry-run] [--older-than DAYS]`: reclaim the space no job refers to any more. */
import type { GcResult } from '../../engine/types.js';
import { formatBytes, printJson, printProblem, withWrapper } from '../common.js';

export async function run(opts: { dryRun?: boolean; olderThan: number; json?: boolean }): Promise<number> {
  return withWrapper(async (pilot) => {
    const r = await pilot.gc({ dryRun: opts.dryRun, olderThanDays: opts.olderThan });
    // an unreachable cluster keeps everything: said on stderr, the rest of gc stands (exit 0)
    for (const s of r.skipped) printProblem('warning', { message: `skipped ${s.cluster}: ${s.reason}`, hint: 'nothing there was removed; run gc again when it answers' });
    if (opts.json) printJson(r);
    else process.stdout.write(render(r, opts.olderThan));
    return 0;
  });
}

function render(r: GcResult, days: number): string {
  const kept = `(remote folders changed in the last ${days} day${days === 1 ? '' : 's'} are kept; see --older-than)`;
  if (!r.removed.length) return `nothing to remove ${kept}\n`;
  const rows = r.removed.map((e) => [e.where, e.kind, formatBytes(e.bytes), e.path]);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = rows.map((row) => `  ${row.map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : c < 2 ? cell.padEnd(widths[c]!) : cell)).join('  ')}`);
  const n = r.removed.length;
  return `${r.dryRun ? 'would remove (dry run, nothing was removed):' : 'removed:'}\n${lines.join('\n')}\n` +
    `${r.dryRun ? 'would free' : 'freed'} ${formatBytes(r.bytes)} in ${n} item${n === 1 ? '' : 's'} ${kept}\n`;
}
