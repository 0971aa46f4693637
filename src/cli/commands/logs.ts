/** `pilot logs NAME/I`: a task's stdout as is (stderr with --stderr), fetched incrementally and cached. */
import { isFinal } from '../../scheduler/states.js';
import { intOption, printJson, withWrapper } from '../common.js';
import { tailLines } from '../render.js';

export async function run([ref]: unknown[], opts: Record<string, unknown>): Promise<number> {
  const attempt = intOption(opts.attempt, 'attempt');
  const tail = intOption(opts.tail, 'tail');
  const stream = opts.stderr ? 'stderr' : 'stdout';
  return withWrapper(async (pilot) => {
    let logs = await pilot.logs(String(ref), { attempt });
    if (opts.json) {
      printJson(logs);
      return 0;
    }
    let printed = tail === undefined ? logs[stream] : tailLines(logs[stream], tail);
    process.stdout.write(printed);
    if (!opts.follow) return 0;
    // --follow: print new bytes until the task is final, then one last fetch
    let seen = logs[stream].length;
    let interval = 1000;
    for (;;) {
      const s = await pilot.status(logs.name);
      const task = s.tasks[logs.index - 1]!;
      const done = isFinal(task.state) && task.attempt === logs.attempt;
      logs = await pilot.logs(String(ref), { attempt });
      printed = logs[stream].slice(seen);
      if (printed) process.stdout.write(printed);
      seen = logs[stream].length;
      if (done) return 0;
      await new Promise((r) => setTimeout(r, interval));
      interval = Math.min(5000, interval + 500);
    }
  });
}
