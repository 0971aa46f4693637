/** `pilot restart-failed NAME`: resubmits only the failed tasks on the same script and args (`--repack`: new code). */
import type { TaskState } from '../../model/states.js';
import { splitShellWords } from '../../model/args.js';
import { printJson, withWrapper } from '../common.js';

/** `states` comes checked by the CLI's --states parser (define.ts). */
export interface RestartFailedOptions { states: readonly TaskState[]; repack?: boolean; dryRun?: boolean; json?: boolean; extraArgs?: string }

export async function run(name: string, opts: RestartFailedOptions): Promise<number> {
  const { states } = opts;
  return withWrapper(async (pilot) => {
    const extraArgs = opts.extraArgs === undefined ? undefined : splitShellWords(opts.extraArgs, '--extra-args');
    const r = await pilot.restartFailed(name, { states: [...states], repack: Boolean(opts.repack), dryRun: Boolean(opts.dryRun), ...(extraArgs ? { extraArgs } : {}) });
    // (changed sources without --repack are a `warning:` line on stderr, printed as the engine finds them)
    const code = opts.repack && r.sourcesChanged ? ' with the new sources' : opts.repack && r.sourcesChanged === false ? ' (sources unchanged: same bundle)' : '';
    if (opts.json) printJson(r);
    else if (!r.indices.length) process.stdout.write(`${r.name}: no task is ${states.join('/')}; nothing to restart\n`);
    else if (opts.dryRun) process.stdout.write(`${r.name}: would resubmit ${r.indices.length} task(s) as attempt ${r.attempt}${code}: ${r.indices.join(',')}\n`);
    else {
      const shipped = r.bundle?.repacked ? `, bundle ${r.bundle.sha256.slice(0, 12)}` : '';
      process.stdout.write(`${r.name}: resubmitted ${r.indices.length} task(s) as attempt ${r.attempt}${code} (job ${r.slurmJobIds.join(', ')}${shipped}): ${r.indices.join(',')}\n`);
    }
    return 0;
  });
}
