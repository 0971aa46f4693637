/** `pilot restart-failed NAME`: resubmits only the failed tasks on the same bundle, script and args. */
import type { TaskState } from '../../model/states.js';
import { printJson, withWrapper } from '../common.js';

/** `states` comes checked by the CLI's --states parser (define.ts). */
export interface RestartFailedOptions { states: readonly TaskState[]; dryRun?: boolean; json?: boolean }

export async function run(name: string, opts: RestartFailedOptions): Promise<number> {
  const { states } = opts;
  return withWrapper(async (pilot) => {
    const r = await pilot.restartFailed(name, { states: [...states], dryRun: Boolean(opts.dryRun) });
    if (opts.json) printJson(r);
    else if (!r.indices.length) process.stdout.write(`${r.name}: no task is ${states.join('/')}; nothing to restart\n`);
    else if (opts.dryRun) process.stdout.write(`${r.name}: would resubmit ${r.indices.length} task(s) as attempt ${r.attempt}: ${r.indices.join(',')}\n`);
    else process.stdout.write(`${r.name}: resubmitted ${r.indices.length} task(s) as attempt ${r.attempt} (job ${r.slurmJobIds.join(', ')}): ${r.indices.join(',')}\n`);
    return 0;
  });
}
