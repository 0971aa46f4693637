/**
 * `pilot watch NAME…`: the SDK's watch() with a line per retry on stderr and the final statuses on stdout;
 * the exit code is `status --check`'s (0 all completed, 1 a task failed for good, 124 not final yet), and 1
 * when a job waits on a dependency that can never be satisfied (said as `wait` says it; cancelled on request).
 */
import { stuckOnDependency } from '../../model/dependencies.js';
import { EXIT_CODES } from '../../model/errors.js';
import type { JobStatus } from '../../model/tracking.js';
import { printJson, withWrapper } from '../common.js';
import { checkExitCode } from '../exit-codes.js';
import { useColor } from '../progress.js';
import { renderStatus } from '../render.js';
import { unsatisfiableLines } from '../unsatisfiable.js';
import { statusJson } from './status.js';

export interface WatchCliOptions { once?: boolean; interval?: number; json?: boolean; cancelUnsatisfiable?: boolean }

export async function run(names: string[], opts: WatchCliOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    let cancelled: JobStatus[] = [];
    const statuses = await pilot.watch(names, {
      once: opts.once, intervalMs: opts.interval === undefined ? undefined : opts.interval * 1000,
      cancelUnsatisfiable: opts.cancelUnsatisfiable, onUnsatisfiable: (stuck) => { cancelled = stuck; },
    });
    if (opts.json) printJson(statuses.map((s) => statusJson(s)));
    else for (const s of statuses) process.stdout.write(renderStatus(s, { color: useColor(process.stdout) }) + '\n');
    const stuck = cancelled.length ? unsatisfiableLines(cancelled, true) : unsatisfiableLines(statuses.filter((s) => stuckOnDependency(s)));
    if (stuck.length) {
      process.stderr.write(stuck.map((l) => `error: ${l}\n`).join(''));
      return EXIT_CODES.FAILED;
    }
    return checkExitCode(statuses);
  });
}
