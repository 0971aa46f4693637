/** `pilot logs NAME/I`: a task's stdout as is (stderr with --stderr), streamed as it is fetched, and cached. */
import { printJson, withWrapper } from '../common.js';
import { gcPacer } from '../gc-pacer.js';

export interface LogsOptions { stderr?: boolean; attempt?: number; tail?: number; follow?: boolean; json?: boolean }

export async function run(ref: string, opts: LogsOptions): Promise<number> {
  const { attempt, tail } = opts;
  return withWrapper(async (pilot) => {
    if (opts.json) {
      printJson(await pilot.logs(ref, { attempt }));
      return 0;
    }
    const pace = gcPacer();
    let r;
    try {
      r = await pilot.streamLog(ref, {
        to: process.stdout, stream: opts.stderr ? 'stderr' : 'stdout', attempt, tail, follow: Boolean(opts.follow),
        onProgress: ({ fetched, written }) => pace(fetched + written),
      });
    } catch (err) {
      // the reader went away (`pilot logs x | head`): not an error of ours
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
      throw err;
    }
    // an empty answer must not look like an empty log: say the task has not started (or written) yet
    if (r.state) {
      const task = `${r.name}/${r.index}`;
      const why = r.state === 'PENDING' ? 'has not started yet' : r.state === 'RUNNING' ? `has written nothing to ${opts.stderr ? 'stderr' : 'stdout'} yet` : 'has no log yet';
      process.stderr.write(`${task} ${why} (${r.state}); \`pilot logs ${task}${opts.stderr ? ' --stderr' : ''} --follow\` prints its output as it comes\n`);
    }
    return 0;
  });
}
