/**
 * `pilot watch NAME…`: the SDK's watch() with a line per retry on stderr and the final statuses on stdout;
 * the exit code is `status --check`'s (0 all completed, 1 a task failed for good, 124 not final yet).
 */
import { printJson, withWrapper } from '../common.js';
import { checkExitCode } from '../exit-codes.js';
import { useColor } from '../progress.js';
import { renderStatus } from '../render.js';
import { statusJson } from './status.js';

export interface WatchCliOptions { once?: boolean; interval?: number; json?: boolean }

export async function run(names: string[], opts: WatchCliOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    const statuses = await pilot.watch(names, { once: opts.once, intervalMs: opts.interval === undefined ? undefined : opts.interval * 1000 });
    if (opts.json) printJson(statuses.map(statusJson));
    else for (const s of statuses) process.stdout.write(renderStatus(s, { color: useColor(process.stdout) }) + '\n');
    return checkExitCode(statuses);
  });
}
