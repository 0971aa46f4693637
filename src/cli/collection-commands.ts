/**
 * `pilot collection …` (a group of subcommands) and `pilot resubmit --collection`, defined apart from
 * job-commands.ts; like them, each action imports its module (./commands/collection.js) only when it runs.
 */
import { Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { examples, wholeNumber, type Finish } from './define.js';

const run = async () => import('./commands/collection.js');
const attemptMode = () => new Option('--attempt-mode <mode>', "Each task's latest attempt, or its first (primary)").choices(['latest', 'primary'] as const).default('latest' as const);
const FILTER_HELP = 'all, failed (every failure state: FAILED TIMEOUT OUT_OF_MEMORY NODE_FAIL PREEMPTED MISSING_OUTPUT), completed, pending, running, or one state (timeout, cancelled, …)';

export function addCollectionCommands(parent: CommandUnknownOpts, finish: Finish): void {
  const g = parent.command('collection')
    .description('Collections: named sets of jobs (an experiment) with their submission groups; counts, history, analysis by parameter')
    .addHelpText('after', `
A job joins a collection when launched (--collection NAME, or collection: in the
job file; default "default"); it is made when missing.
${examples(
    'pilot launch sweep.yaml --collection lr-sweep',
    'pilot collection list',
    'pilot collection update lr-sweep && pilot collection analyze lr-sweep --param lr',
    'pilot resubmit --collection lr-sweep --filter failed --extra-args "--resume last.ckpt"',
  )}`);

  g.command('create')
    .description('Create an empty collection')
    .argument('<name>', 'collection name (letters, digits, . _ -)')
    .option('--description <text>', 'What it is for')
    .addHelpText('after', examples('pilot collection create lr-sweep --description "learning rates, take 2"'))
    .action(async (name, opts) => finish(await (await run()).create(name, opts)));

  g.command('list')
    .description('Every collection: Total / Completed / Failed / Pending / Running tasks (stored states; `update` refreshes)')
    .addOption(attemptMode())
    .option('--json', 'Print [{ name, jobs, missing, summary: { total, completed, failed, pending, running, other }, groups }] as JSON')
    .addHelpText('after', examples('pilot collection list', 'pilot collection list --attempt-mode primary   # how the first attempts went'))
    .action(async (opts) => finish(await (await run()).list(opts)));

  g.command('show')
    .description("A collection's tasks: job, index, state, attempt, params (stored states; `update` refreshes)")
    .argument('<name>', 'collection name')
    .option('--state <state>', `Only tasks in this state: ${FILTER_HELP}`)
    .addOption(new Option('--format <format>', 'Output format').choices(['table', 'json', 'yaml'] as const).default('table' as const))
    .option('--show-history', "Every attempt of each task (state, exit code), oldest first")
    .option('--submission-group <group>', 'Only tasks sent by this submission group (see `groups`)')
    .addOption(attemptMode())
    .addHelpText('after', examples(
      'pilot collection show lr-sweep --state failed',
      'pilot collection show lr-sweep --show-history',
      'pilot collection show lr-sweep --submission-group resume --format json',
    ))
    .action(async (name, opts) => finish(await (await run()).show(name, opts)));

  g.command('update')
    .description("Refresh the states of every job in a collection: ONE status call per cluster for all of them")
    .argument('<name>', 'collection name')
    .option('--json', 'Print the refreshed collection (as show --format json)')
    .addHelpText('after', examples('pilot collection update lr-sweep'))
    .action(async (name, opts) => finish(await (await run()).update(name, opts)));

  g.command('delete')
    .description('Forget a collection (its jobs and their records stay)')
    .argument('<name>', 'collection name')
    .addHelpText('after', examples('pilot collection delete scratch'))
    .action(async (name) => finish(await (await run()).remove(name)));

  g.command('add')
    .description('Add recorded jobs to a collection (made when missing)')
    .argument('<name>', 'collection name')
    .argument('<jobs...>', 'job names')
    .addHelpText('after', examples('pilot collection add lr-sweep lr-sweep-2 lr-sweep-3'))
    .action(async (name, jobs) => finish(await (await run()).add(name, jobs)));

  g.command('remove')
    .description('Take jobs out of a collection (the jobs stay)')
    .argument('<name>', 'collection name')
    .argument('<jobs...>', 'job names')
    .addHelpText('after', examples('pilot collection remove lr-sweep lr-sweep-2'))
    .action(async (name, jobs) => finish(await (await run()).removeJobs(name, jobs)));

  g.command('groups')
    .description('Submission groups of a collection (initial, and one per resubmit): Slurm jobs, tasks, first/last submission')
    .argument('<name>', 'collection name')
    .option('--json', 'Print [{ name, slurmJobs, tasks, firstSubmit, lastSubmit, extraArgs? }] as JSON')
    .addHelpText('after', examples('pilot collection groups lr-sweep'))
    .action(async (name, opts) => finish(await (await run()).groups(name, opts)));

  g.command('analyze')
    .description('Failure analysis by parameter: counts and failure/completion rates per value, riskiest and most stable values, a bar chart')
    .argument('<name>', 'collection name')
    .option('--param <key>', 'Only this parameter; repeatable (default: every parameter)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--min-support <n>', 'Values seen on fewer tasks are marked Low-N and ranked last', wholeNumber, 3)
    .option('--top-k <n>', 'How many risky and stable values to list', wholeNumber, 5)
    .addOption(attemptMode())
    .addOption(new Option('--format <format>', 'Output format').choices(['table', 'json'] as const).default('table' as const))
    .addHelpText('after', `
Rates are over the tasks with that value: failure rate = failed / n (every
failure state), completion rate = completed / n. Params come from object args
({ lr: 0.1 }) and sweeps. Stored states: run \`collection update\` first.
${examples(
    'pilot collection analyze lr-sweep',
    'pilot collection analyze lr-sweep --param lr --param batch --min-support 5',
    "pilot collection analyze lr-sweep --format json | jq '.topRisky[0]'",
  )}`)
    .action(async (name, opts) => finish(await (await run()).analyzeCommand(name, opts)));

  parent.command('resubmit')
    .description('Resubmit the finished tasks of a collection that match a filter, as a new attempt of each job (same script and args)')
    .requiredOption('--collection <name>', 'collection name')
    .option('--filter <state>', `Which tasks: ${FILTER_HELP}`, 'failed')
    .option('--extra-args <words>', 'Words appended to the argv of the resubmitted tasks, for this attempt only (split as shell words, never run by a shell)')
    .option('--submission-group <group>', 'Name of the group recorded (default resubmit_YYYYMMDD_HHMMSS)')
    .option('--select <FILE:FUNCTION>', 'A JS module function (task: { job, index, params, argv, state, exitCode, attempt }) → boolean: only the tasks it keeps')
    .option('--repack', 'Run the sources as they are now (as restart-failed --repack)')
    .option('--dry-run', 'Only say which tasks would be resubmitted')
    .option('--json', 'Print { collection, group, extraArgs, jobs: [{ name, attempt, indices, slurmJobIds }] } as JSON')
    .addHelpText('after', examples(
      'pilot resubmit --collection lr-sweep --filter failed --extra-args "--resume last.ckpt"',
      'pilot resubmit --collection lr-sweep --filter timeout --submission-group longer',
      'pilot resubmit --collection lr-sweep --filter all --select pick.mjs:bigLr --dry-run',
    ))
    .action(async (opts) => finish(await (await run()).resubmit(opts)));
}
