/**
 * The job commands of `pilot`. Defining them costs only commander: each action imports its module
 * (./commands/<name>.js, which pulls in the engine, ssh2, yaml, …) when that command runs. The option types
 * commander infers here are checked against the options interface each module's `run` declares.
 */
import { Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { DEFAULT_RESTART_STATES } from '../model/states.js';
import { examples, stateList, wholeNumber, type Finish } from './define.js';

export function addJobCommands(parent: CommandUnknownOpts, finish: Finish): void {
  parent.command('launch')
    .description('Pack the sources once, upload them if the cluster lacks them, submit ONE job array')
    .argument('<job.yaml>', 'job file: jobName, cluster, srcDir, entrypoint, args, … (paths relative to the file); or `jobs: [...]`, several jobs launched in after: order; or an sbatch script (#! line / #SBATCH lines), run unchanged as each task')
    .option('--cluster <name>', 'Cluster from config.yaml, or `local` (overrides the YAML)')
    .option('--name <jobName>', 'Job name (overrides the YAML)')
    .option('--unique', 'If the name is taken, add a suffix instead of failing')
    .option('--collection <name>', 'Collection the job joins (overrides the YAML; default "default"; made when missing)')
    .option('--after <NAME[:when]>', 'Start only after that recorded job (same cluster): when = ok (default), notok or any; repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--dry-run', 'Print the task count, the first tasks (name, params, argv, resources), the script, the args file and the sbatch command; connect to nothing')
    .option('--wait', 'Wait until every task has finished, then print the status (exit 1 if a task failed)')
    .option('--timeout <seconds>', 'With --wait: give up after this many seconds (exit 124)', wholeNumber)
    .option('--no-progress', 'With --wait: no progress line on stderr')
    .option('--json', 'Print { name, tasks, slurmJobIds } as JSON (with --wait: the final status)')
    .addHelpText('after', examples(
      'pilot launch examples/fine-tune-mlp/job.yaml --cluster local --wait   # try it, no cluster needed',
      'pilot launch job.yaml --dry-run                                       # see what would be submitted',
      'pilot launch run-array.sbatch --cluster lab --dry-run                 # an sbatch script as it is: what its #SBATCH lines give',
      'pilot launch sweep.yaml --dry-run --json                              # a sweep (parameters:): its tasks as JSON',
      'pilot launch job.yaml --name sweep --unique --json                    # sweep, sweep-2, … for scripts',
      'pilot launch job.yaml --wait && ./analyse.sh                          # runs only if every task completed',
      'pilot launch train.yaml --after prep --after warmup:any               # sbatch --dependency=afterok:…,afterany:…',
      'pilot launch pipeline.yaml            # a graph: jobs: [ {jobName: a, …}, {jobName: b, after: [{job: a}], …} ]',
    ))
    .action(async (file, opts) => finish(await (await import('./commands/launch.js')).run(file, opts)));

  parent.command('status')
    .description('Per-task states of jobs, with each failure\'s class and last stderr line (the latest job when no name is given)')
    .argument('[names...]', 'job names or unique prefixes (default: the latest job)')
    .option('--json', 'Print { name, cluster, tasks: [{ index, state, exitCode, attempt, failure?, lastError?, start?, end? }], counts } as JSON (no name: every job, as a list)')
    .option('--tasks', 'List every task, not only the summary')
    .option('--all', 'Every recorded job')
    .option('--check', 'Exit 0 if every task completed, 1 if one failed, 124 if some still wait or run')
    .option('--cancel-unsatisfiable', 'Cancel the tasks whose dependency can never be satisfied (DependencyNeverSatisfied)')
    .addHelpText('after', examples(
      'pilot status                              # the latest job',
      'pilot status --all                        # every recorded job',
      'pilot status fine --tasks                 # fine-tune-mlp (a unique prefix), one line per task',
      "pilot status fine-tune-mlp --json | jq '.tasks[] | select(.failure)'",
      'pilot status train --cancel-unsatisfiable   # prep failed: train (afterok) can never start; cancel it',
    ))
    .action(async (names, opts) => finish(await (await import('./commands/status.js')).run(names, opts)));

  parent.command('wait')
    .description('Wait until every task of a job has finished, showing progress; exit 0 only if all completed')
    .argument('[name]', 'job name or unique prefix (default: the latest job)')
    .option('--timeout <seconds>', 'Give up after this many seconds (exit 124, printing the last status)', wholeNumber)
    .option('--no-progress', 'No progress line on stderr')
    .option('--json', 'Print the final status as JSON (with "timedOut": true when --timeout expired)')
    .option('--cancel-unsatisfiable', 'When tasks wait on a dependency that can never be satisfied, cancel them (wait ends either way, exit 1)')
    .addHelpText('after', examples(
      'pilot wait fine-tune-mlp && ./analyse.sh     # exit 0: every task completed; 1: some failed',
      'pilot wait --timeout 3600 --json > final.json  # the latest job; exit 124 if still running after an hour',
      'pilot wait train --cancel-unsatisfiable      # prep failed and train ran afterok: cancel train, exit 1',
    ))
    .action(async (name, opts) => finish(await (await import('./commands/wait.js')).run(name, opts)));

  parent.command('logs')
    .description("Print a task's stdout (or stderr), fetching only new bytes")
    .argument('<name/index>', 'job name (or a unique prefix) and task index, e.g. fine-tune-mlp/3; /3: the latest job')
    .option('--stderr', 'Print stderr instead of stdout')
    .option('--all', 'Print both streams, each under a ==> NAME/I stdout|stderr <== line')
    .option('--attempt <n>', 'An older attempt (default: the latest one that ran this task)', wholeNumber)
    .option('--tail <lines>', 'Only the last N lines', wholeNumber)
    .option('--follow', 'Keep printing new output until the task ends')
    .option('--json', 'Print { stdout, stderr, attempt } as JSON')
    .addHelpText('after', examples(
      'pilot logs fine-tune-mlp/3 --follow',
      'pilot logs /3                                  # task 3 of the latest job',
      'pilot logs fine-tune-mlp/3 --stderr --tail 20',
      'pilot logs fine-tune-mlp/4 --attempt 1        # the run before restart-failed',
      'pilot logs fine-tune-mlp/4 --all              # stdout, then stderr (an empty stdout shows the stderr tail anyway)',
    ))
    .action(async (ref, opts) => finish(await (await import('./commands/logs.js')).run(ref, opts)));

  parent.command('restart-failed')
    .description('Resubmit only the failed tasks, on the same script and args (--repack: with the changed sources)')
    .argument('<name>', 'job name')
    .addOption(new Option('--states <list>', 'Comma-separated states to restart')
      .argParser(stateList).default(DEFAULT_RESTART_STATES, DEFAULT_RESTART_STATES.join(',')))
    .option('--repack', 'Ship the sources as they are now (uploaded if the cluster lacks them) instead of rerunning the code the tasks ran')
    .option('--extra-args <words>', 'Words appended to the restarted tasks\' argv, for this attempt only (split as shell words, never run by a shell)')
    .option('--dry-run', 'Only print which tasks would be resubmitted, and whether the sources changed')
    .option('--json', 'Print { name, attempt, indices, slurmJobIds, sourcesChanged, changedFiles, bundle } as JSON')
    .addHelpText('after', examples(
      'pilot restart-failed fine-tune-mlp --dry-run',
      'pilot restart-failed fine-tune-mlp --states OUT_OF_MEMORY,TIMEOUT',
      'pilot restart-failed fine-tune-mlp --repack     # after fixing the code: the restarted tasks run the fix',
      'pilot restart-failed fine-tune-mlp --extra-args "--resume last.ckpt"',
    ))
    .action(async (name, opts) => finish(await (await import('./commands/restart-failed.js')).run(name, opts)));

  parent.command('cancel')
    .description('Cancel a whole job or one task')
    .argument('<name[/index]>', 'job name (or a unique prefix), or job name and task index')
    .addHelpText('after', examples(
      'pilot cancel fine-tune-mlp       # every task',
      'pilot cancel fine-tune-mlp/3     # only task 3',
    ))
    .action(async (ref) => finish(await (await import('./commands/cancel.js')).run(ref)));

  parent.command('list')
    .description('Every recorded job, newest first: when it was submitted, its age, counts per state')
    .option('--last <n>', 'Only the N newest jobs', wholeNumber)
    .option('--json', 'Print as JSON')
    .addHelpText('after', examples('pilot list --last 5', 'pilot --home ./experiments/.pilot list --json'))
    .action(async (opts) => finish(await (await import('./commands/list.js')).run(opts)));

  parent.command('rm')
    .description('Forget jobs: their records, cached logs and (--remote) cluster folders')
    .argument('<names...>', 'job names')
    .option('--remote', "Also delete each job's folder on the cluster (script, args, logs, outputs)")
    .option('--force', 'Cancel unfinished tasks first (and wait for them to end) instead of refusing')
    .option('--json', 'Print [{ name, localDir, remoteDir, cancelled }] as JSON')
    .addHelpText('after', examples(
      'pilot rm fine-tune-mlp                  # the name is free again; the cluster is not touched',
      'pilot rm sweep sweep-2 --remote         # and their folders on the cluster',
      'pilot rm runaway --force --remote       # cancel what still runs, then remove it all',
    ))
    .action(async (names, opts) => finish(await (await import('./commands/rm.js')).run(names, opts)));

  parent.command('gc')
    .description('Reclaim the space no recorded job uses, here and on the clusters')
    .option('--dry-run', 'Only list what would be removed, with sizes')
    .option('--older-than <days>', 'On remote clusters, keep folders changed in the last N days', wholeNumber, 7)
    .option('--json', 'Print { dryRun, removed: [{ where, kind, path, bytes }], bytes, skipped } as JSON')
    .addHelpText('after', examples(
      'pilot gc --dry-run                      # what would go, with sizes',
      'pilot rm old-sweep && pilot gc          # its bundle here; its cluster folders once a week old',
      'pilot gc --older-than 0                 # everything no record refers to, however recent',
    ))
    .action(async (opts) => finish(await (await import('./commands/gc.js')).run(opts)));

  parent.command('download')
    .description("Fetch what a job left, in one stream: logs, each task's output folders, and the files its tasks wrote in work/ (never the shipped sources)")
    .argument('[name]', 'job name or unique prefix (default: the latest job); NAME/I: task I only (its logs and outputs/I)')
    .option('--to <dir>', 'Target folder (default: ./<name>, or ./<name>-<I>)')
    .option('--glob <pattern>', "Only files matching it: '*.json' (a name, in any folder) or 'outputs/*/1/*' (a path; ** = any folders)")
    .option('--json', 'Print { dest, bytes, skipped: [{ path, reason }] } as JSON')
    .addHelpText('after', '\nEntries that lead outside the target folder (links to /etc, ../..) are left out with a warning each;\nthe rest is downloaded and the command exits 2.\n')
    .addHelpText('after', examples(
      'pilot download fine-tune-mlp                      # into ./fine-tune-mlp/{logs,outputs,work}',
      'pilot download fine-tune-mlp --to results/run-1',
      "pilot download fine-tune-mlp/3 --glob '*.json'    # task 3's JSON results, into ./fine-tune-mlp-3",
    ))
    .action(async (name, opts) => finish(await (await import('./commands/download.js')).run(name, opts)));
}
