/** `pilot list`: every recorded job with counts per state. */
import { printJson, printProblem, withWrapper } from '../common.js';
import { renderList } from '../render.js';
import { statusJson } from './status.js';

export async function run(opts: { json?: boolean }): Promise<number> {
  return withWrapper(async (pilot) => {
    // a damaged record is said once, on stderr; every other job is listed as usual (exit 0)
    const all = await pilot.list({ onDamaged: (d) => printProblem('warning', d.error) });
    if (opts.json) printJson(all.map((s) => ({ ...statusJson(s), tasks: undefined, total: s.tasks.length })));
    else process.stdout.write(renderList(all) + '\n');
    return 0;
  });
}
