/** `pilot logs NAME/I`: a task's stdout as is (stderr with --stderr), streamed as it is fetched, and cached. */
import { PilotError } from '../../model/errors.js';
import { printJson, withWrapper } from '../common.js';
import { gcPacer } from '../gc-pacer.js';

export interface LogsOptions { stderr?: boolean; all?: boolean; attempt?: number; tail?: number; follow?: boolean; json?: boolean }

/** Lines of stderr shown when a finished task wrote nothing to stdout. */
const STDERR_TAIL_LINES = 20;

export async function run(ref: string, opts: LogsOptions): Promise<number> {
  const { attempt, tail } = opts;
  return withWrapper(async (pilot) => {
    if (opts.json) {
      printJson(await pilot.logs(ref, { attempt }));
      return 0;
    }
    if (opts.all && (opts.follow || opts.stderr)) {
      throw new PilotError('BAD_INPUT', `--all prints both streams once: it goes with neither --follow nor --stderr`, { hint: `pilot logs ${ref} --all, or pilot logs ${ref} --follow` });
    }
    const pace = gcPacer();
    const stream = (which: 'stdout' | 'stderr', to: NodeJS.WritableStream, lines = tail) => pilot.streamLog(ref, {
      to, stream: which, attempt, tail: lines, follow: Boolean(opts.follow), onProgress: ({ fetched, written }) => pace(fetched + written),
    });
    let r;
    try {
      if (opts.all) {
        // both streams, labelled (on stdout, so that `| less` shows them together)
        for (const which of ['stdout', 'stderr'] as const) {
          process.stdout.write(`==> ${ref} ${which} <==\n`);
          const one = await stream(which, process.stdout);
          process.stdout.write(one.bytes ? '\n' : `(empty)\n`);
        }
        return 0;
      }
      r = await stream(opts.stderr ? 'stderr' : 'stdout', process.stdout);
      // a finished task with an empty stdout: that is rarely the question; its stderr usually says why
      if (!opts.stderr && !r.state && r.bytes === 0 && !opts.follow) {
        process.stderr.write(`${r.name}/${r.index} wrote nothing to stdout (attempt ${r.attempt}); the end of its stderr (\`--stderr\` for all of it, \`--all\` for both):\n`);
        await stream('stderr', process.stderr, STDERR_TAIL_LINES);
      }
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
