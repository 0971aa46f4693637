/** `pilot list [--last N]`: every recorded job, newest first, with when it was submitted and counts per state. */
import { printJson, printProblem, withWrapper } from '../common.js';
import { useColor } from '../progress.js';
import { renderList } from '../render.js';
import { statusJson } from './status.js';
import { taskCount } from '../../model/tracking.js';

export async function run(opts: { json?: boolean; last?: number }): Promise<number> {
  return withWrapper(async (pilot) => {
    // the list shows no stderr lines: finished jobs cost no connection here; a damaged record is said once, on
    // stderr, and every other job is listed as usual (exit 0)
    const all = await pilot.list({ last: opts.last, openOnly: true, onDamaged: (d) => printProblem('warning', d.error) });
    if (opts.json) printJson(all.map((s) => ({ ...statusJson(s, { withTasks: false }), submittedAt: s.submittedAt, total: taskCount(s) })));
    else process.stdout.write(renderList(all, { color: useColor(process.stdout) }) + '\n');
    return 0;
  });
}
