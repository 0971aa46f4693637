/** `pilot watch`: defined apart from job-commands.ts (its module is imported only when it runs). */
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { examples, wholeNumber, type Finish } from './define.js';

export function addWatchCommand(parent: CommandUnknownOpts, finish: Finish): void {
  parent.command('watch')
    .description('Track jobs, make their automatic retries (maxRetries) and send their notifications until all are final')
    .argument('<names...>', 'job names or unique prefixes')
    .option('--once', 'One pass, then exit (for a cron job on the login node or your laptop)')
    .option('--interval <seconds>', 'Pause between passes (default 30; 1 for the local cluster)', wholeNumber)
    .option('--json', 'Print the last statuses as JSON')
    .option('--cancel-unsatisfiable', 'When tasks wait on a dependency that can never be satisfied, cancel them and notify (watch ends either way, exit 1)')
    .addHelpText('after', examples(
      'pilot watch sweep eval                  # until both are final, retrying what their maxRetries allow',
      '*/10 * * * * pilot watch --once sweep   # crontab: a pass every 10 minutes, exit 0 once all completed',
      'pilot watch sweep --once --json         # exit 0 all completed, 1 a task failed for good, 124 not final yet',
      'pilot watch prep train --cancel-unsatisfiable   # prep failed, train ran afterok: cancel train, notify, exit 1',
    ))
    .action(async (names, opts) => finish(await (await import('./commands/watch.js')).run(names, opts)));
}
