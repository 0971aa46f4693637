/**
 * The diagnosis commands of `pilot` (`why`, `export`), defined apart from job-commands.ts so each family of
 * commands stays one module; like them, each action imports its module only when it runs.
 */
import { Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { examples, type Finish } from './define.js';

export function addWhyCommands(parent: CommandUnknownOpts, finish: Finish): void {
  parent.command('why')
    .description('Why tasks failed: state, exit code, signal, failure class, last stderr lines and the error lines of their logs')
    .argument('<name[/index]>', 'a task (fine-tune-mlp/3: whatever its state), or a job (every failed task, grouped by cause)')
    .option('--json', 'Print { name, cluster, groups: [{ failure, tasks }], tasks: [{ index, state, exitCode, signal?, failure?, stderrTail, errorLines }] } as JSON')
    .addHelpText('after', `
Failure classes: TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, CANCELLED,
NONZERO_EXIT (a non-zero exit code or a signal), MISSING_OUTPUT (completed
without a file of expectedFiles), DEPENDENCY_NEVER_SATISFIED, and LOG_ERROR
(completed, but its logs hold error lines: only for a task named by number).
Error lines: Traceback, Error:, Killed, CUDA out of memory, slurmstepd: error,
Segmentation fault, … and the job's errorPatterns, minus its errorWhitelist.
${examples(
    'pilot why fine-tune-mlp/3                    # one task, even a completed one',
    'pilot why fine-tune-mlp                      # every failed task, grouped by cause',
    "pilot why sweep --json | jq '.groups'",
  )}`)
    .action(async (ref, opts) => finish(await (await import('./commands/why.js')).run(ref, opts)));

  parent.command('export')
    .description('Dump job records (jobs, attempts, task states, argv and params) as JSON for other tools; connects to nothing')
    .argument('[names...]', 'job names or unique prefixes (default: every job)')
    .addOption(new Option('--format <format>', 'Output format').choices(['json'] as const).default('json' as const))
    .addHelpText('after', examples(
      'pilot export sweep > sweep.json',
      "pilot export --format json | jq '.jobs[].tasks[] | select(.failure) | .params'",
      'pilot status sweep >/dev/null && pilot export sweep   # fresh states first',
    ))
    .action(async (names, opts) => finish(await (await import('./commands/export.js')).run(names, opts)));
}
