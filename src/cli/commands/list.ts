/** `pilot list`: every recorded job with counts per state. */
import { printJson, withWrapper } from '../common.js';
import { renderList } from '../render.js';
import { statusJson } from './status.js';

export async function run(opts: { json?: boolean }): Promise<number> {
  return withWrapper(async (pilot) => {
    const all = await pilot.list();
    if (opts.json) printJson(all.map((s) => ({ ...statusJson(s), tasks: undefined, total: s.tasks.length })));
    else process.stdout.write(renderList(all) + '\n');
    return 0;
  });
}
