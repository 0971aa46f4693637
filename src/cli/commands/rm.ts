/** `pilot rm NAME… [--remote] [--force]`: forget jobs, one at a time; one that cannot go does not stop the others. */
import { isPilotError } from '../../model/errors.js';
import type { RemoveResult } from '../../engine/types.js';
import { printJson, printProblem, withWrapper } from '../common.js';

export async function run(names: string[], opts: { remote?: boolean; force?: boolean; json?: boolean }): Promise<number> {
  return withWrapper(async (pilot) => {
    const done: RemoveResult[] = [];
    let code = 0;
    for (const name of names) {
      try {
        const r = await pilot.rm(name, { remote: opts.remote, force: opts.force });
        done.push(r);
        if (!opts.json) process.stdout.write(describe(r, Boolean(opts.remote)));
      } catch (err) {
        if (!isPilotError(err)) throw err;
        printProblem('error', err);
        code = Math.max(code, err.exitCode);
      }
    }
    if (opts.json) printJson(done);
    return code;
  });
}

function describe(r: RemoveResult, remoteAsked: boolean): string {
  const cancelled = r.cancelled.length ? ` after cancelling ${r.cancelled.length} unfinished task${r.cancelled.length === 1 ? '' : 's'}` : '';
  if (r.damaged) {
    return `removed ${r.name}: its damaged record and cached logs (${r.localDir})\n` +
      `  its folder on the cluster${remoteAsked ? ' could not be found from the damaged record and' : ''} stays until \`pilot gc\` finds nothing refers to it\n`;
  }
  const where = r.remoteDir ? `, and its folder ${r.remoteDir} on the cluster` : '';
  return `removed ${r.name}${cancelled}: its record and cached logs (${r.localDir})${where}\n`;
}
