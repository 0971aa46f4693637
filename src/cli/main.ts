/**
 * `pilot`: a thin CLI over the SDK. Only cac and this file load at start-up; each command imports what it
 * needs (ssh2, nunjucks, zod, yaml) when it runs, so `pilot --help` starts about as fast as bare node.
 */
import { cac } from 'cac';
import { isPilotError } from '../model/errors.js';
import { packageVersion } from '../util/version.js';

type Handler = (args: unknown[], options: Record<string, unknown>) => Promise<number | void>;

/** Imports `./commands/<file>.js` only when the command runs. */
function lazy(file: string): (...args: unknown[]) => Promise<number | void> {
  return async (...all: unknown[]) => {
    const options = all.pop() as Record<string, unknown>;
    const mod = (await import(`./commands/${file}.js`)) as { run: Handler };
    return mod.run(all, options);
  };
}

export async function main(argv: string[]): Promise<number> {
  const cli = cac('pilot');
  cli.option('--home <dir>', 'Pilot home with config.yaml and job records (default: $PILOT_HOME or ~/.pilot)');
  cli.option('--verbose', 'Show stack traces on errors');

  cli.command('launch <job.yaml>', 'Pack the sources once, upload them if the cluster lacks them, submit ONE job array')
    .option('--cluster <name>', 'Cluster from config.yaml, or `local` (overrides the YAML)')
    .option('--name <jobName>', 'Job name (overrides the YAML)')
    .option('--unique', 'If the name is taken, add a suffix instead of failing')
    .option('--dry-run', 'Print the script, the args file and the sbatch command; connect to nothing')
    .option('--wait', 'Wait until every task has finished, then print the status')
    .option('--timeout <seconds>', 'With --wait: give up after this many seconds')
    .option('--json', 'Print { name, tasks, slurmJobIds } as JSON')
    .example('pilot launch examples/fine-tune-mlp/job.yaml --cluster local --wait')
    .action(lazy('launch'));

  cli.command('status [...names]', 'Per-task states of jobs (all recorded jobs when no name is given)')
    .option('--json', 'Print { name, cluster, tasks: [{ index, state, exitCode, attempt }], counts } as JSON')
    .option('--tasks', 'List every task, not only the summary')
    .example('pilot status fine-tune-mlp --tasks')
    .action(lazy('status'));

  cli.command('wait <name>', 'Wait until every task of a job has finished, showing progress')
    .option('--timeout <seconds>', 'Give up after this many seconds (exit 1)')
    .option('--json', 'Print the final status as JSON')
    .action(lazy('wait'));

  cli.command('logs <name/index>', "Print a task's stdout (or stderr), fetching only new bytes")
    .option('--stderr', 'Print stderr instead of stdout')
    .option('--attempt <n>', 'An older attempt (default: the latest one that ran this task)')
    .option('--tail <lines>', 'Only the last N lines')
    .option('--follow', 'Keep printing new output until the task ends')
    .option('--json', 'Print { stdout, stderr, attempt } as JSON')
    .example('pilot logs fine-tune-mlp/3 --stderr --tail 20')
    .action(lazy('logs'));

  cli.command('restart-failed <name>', 'Resubmit only the failed tasks, on the same bundle, script and args (no upload)')
    .option('--states <list>', 'Comma-separated states to restart', { default: 'FAILED,TIMEOUT,NODE_FAIL,OUT_OF_MEMORY,PREEMPTED' })
    .option('--dry-run', 'Only print which tasks would be resubmitted')
    .option('--json', 'Print { name, attempt, indices, slurmJobIds } as JSON')
    .action(lazy('restart-failed'));

  cli.command('cancel <name[/index]>', 'Cancel a whole job or one task')
    .action(lazy('cancel'));

  cli.command('list', 'Every recorded job with counts per state')
    .option('--json', 'Print as JSON')
    .action(lazy('list'));

  cli.command('download <name>', "Fetch every log and the job's outputs in one stream")
    .option('--to <dir>', 'Target folder (default: ./<name>)')
    .option('--json', 'Print { dest, bytes, skipped: [{ path, reason }] } as JSON')
    .action(lazy('download'));

  cli.command('test-ssh <cluster>', 'Connect to a cluster, check the host key, run sinfo')
    .option('--json', 'Print the result as JSON')
    .action(lazy('test-ssh'));

  cli.example('pilot launch examples/fine-tune-mlp/job.yaml --cluster local --wait   # try it, no cluster needed');
  cli.example('pilot status fine-tune-mlp && pilot logs fine-tune-mlp/3 && pilot restart-failed fine-tune-mlp');
  cli.example('pilot test-ssh lab   # clusters live in $PILOT_HOME/config.yaml (see README)');
  cli.help();
  cli.version(packageVersion());

  try {
    cli.parse(['node', 'pilot', ...argv], { run: false });
    if (cli.options.home) process.env.PILOT_HOME = String(cli.options.home);
    if (!cli.matchedCommand) {
      if (cli.options.help || cli.options.version) return 0;
      if (cli.args.length) {
        console.error(`pilot: unknown command '${cli.args[0]}'. Run \`pilot --help\` for the list.`);
        return 2;
      }
      cli.outputHelp();
      return 0;
    }
    const code = await cli.runMatchedCommand();
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    if (isPilotError(err)) {
      console.error(`error: ${err.message}`);
      if (err.hint) console.error(`hint: ${err.hint}`);
      if (cli.options.verbose) console.error(err.stack);
      return err.exitCode;
    }
    if (err instanceof Error && err.name === 'CACError') {
      console.error(`pilot: ${err.message}. Run \`pilot --help\`.`);
      return 2;
    }
    console.error(cli.options.verbose ? err : `error: ${(err as Error)?.message ?? String(err)} (run with --verbose for details)`);
    return 1;
  }
}
