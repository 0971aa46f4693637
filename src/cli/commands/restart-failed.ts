/** `pilot restart-failed NAME`: resubmits only the failed tasks on the same bundle, script and args. */
import { PilotError } from '../../model/errors.js';
import { TASK_STATES, type TaskState } from '../../model/states.js';
import { printJson, withWrapper } from '../common.js';

export async function run([name]: unknown[], opts: Record<string, unknown>): Promise<number> {
  const states = String(opts.states).split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const bad = states.filter((s) => !(TASK_STATES as readonly string[]).includes(s));
  if (bad.length) throw new PilotError('BAD_INPUT', `--states: unknown state ${bad.join(', ')}`, { hint: `states are ${TASK_STATES.join(' ')}` });
  return withWrapper(async (pilot) => {
    const r = await pilot.restartFailed(String(name), { states: states as TaskState[], dryRun: Boolean(opts.dryRun) });
    if (opts.json) printJson(r);
    else if (!r.indices.length) process.stdout.write(`${r.name}: no task is ${states.join('/')}; nothing to restart\n`);
    else if (opts.dryRun) process.stdout.write(`${r.name}: would resubmit ${r.indices.length} task(s) as attempt ${r.attempt}: ${r.indices.join(',')}\n`);
    else process.stdout.write(`${r.name}: resubmitted ${r.indices.length} task(s) as attempt ${r.attempt} (job ${r.slurmJobIds.join(', ')}): ${r.indices.join(',')}\n`);
    return 0;
  });
}
