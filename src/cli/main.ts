/**
 * `pilot`: a thin CLI over the SDK, on commander. Only commander and the command definitions load at
 * start-up; each command imports what it needs (the engine, ssh2, nunjucks, zod, yaml) when it runs, so
 * `pilot --help` and a usage error cost node plus commander, never the SDK.
 *
 * Commands are added by `add…Commands(program, finish)` functions. A group of subcommands (`pilot collection
 * list`) is one more such function: `const g = program.command('collection').description(…)`, then
 * `g.command('list')…` as in job-commands.ts; the error format and the global options reach it unchanged.
 */
import { Command, CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { isPilotError } from '../model/errors.js';
import { packageVersion } from '../util/version.js';
import { cli, printProblem } from './common.js';
import { examples } from './define.js';
import { addClusterCommands } from './cluster-commands.js';
import { addJobCommands } from './job-commands.js';
import { addWatchCommand } from './watch-command.js';
import { addWhyCommands } from './why-commands.js';
import { addCollectionCommands } from './collection-commands.js';
import { addResultsCommands } from './results-commands.js';

/** README "Exit codes" in short; the values are model/errors.ts's EXIT_CODES. */
const EXIT_CODE_HELP = `
Exit codes:
  0    success; for wait, launch --wait and status --check: every task completed
  1    a task ended in a failure state (FAILED, TIMEOUT, OUT_OF_MEMORY,
       NODE_FAIL, PREEMPTED, CANCELLED), or the command failed
  2    bad input (unknown command, option or job; invalid job file): nothing
       was done
  124  --timeout expired before every task finished (status --check: some task
       still waits or runs, none failed)
`;

export function createProgram() {
  return new Command('pilot')
    .usage('<command> [options]')
    .description('Launch Slurm job arrays over SSH: ship the code once, one sbatch --array, per-task status and logs.')
    .option('--home <dir>', 'Pilot home with config.yaml and job records (default: $PILOT_HOME or ~/.pilot)')
    .option('--verbose', 'Show stack traces on errors, and per cluster: connections, login prompts, remote commands')
    .version(`pilot/${packageVersion()} ${process.platform}-${process.arch} node-${process.version}`, '-v, --version', 'Print the version')
    .helpOption('-h, --help', 'Show help')
    .helpCommand('help [command]', 'Show help for a command')
    // exitOverride: commander must not call process.exit; main() returns the code and bin/pilot.js sets it
    .exitOverride()
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', examples(
      'pilot launch examples/fine-tune-mlp/job.yaml --cluster local --wait   # try it, no cluster needed',
      'pilot status fine-tune-mlp && pilot logs fine-tune-mlp/3 && pilot restart-failed fine-tune-mlp',
      'pilot test-ssh lab   # clusters live in $PILOT_HOME/config.yaml (see README)',
    ) + EXIT_CODE_HELP + '\nRun `pilot <command> --help` for its options and examples.\n');
}

/**
 * Commander's errors (unknown command or option, missing argument, bad number) come as "error: …" plus
 * maybe "(Did you mean …?)" on the next line; print them as one line that says where to read more. Set on
 * every command, after all are defined, so each points at its own --help.
 */
function oneLineErrors(cmd: CommandUnknownOpts, path: string): void {
  cmd.configureOutput({
    writeOut,
    outputError: (str, write) => write(`${str.trim().split(/\s*\n\s*/).join(' ').replace(/\.$/, '')}. Run \`${path} --help\`.\n`),
  });
  for (const sub of cmd.commands) oneLineErrors(sub, `${path} ${sub.name()}`);
}

/**
 * A reader that stops early (`pilot launch x --dry-run | head -1`, `pilot --help | head`) is no error: the
 * write would otherwise crash with an unhandled EPIPE, in the middle of whatever the command was doing (a
 * launch must still record what it submitted). The rest of the output is dropped; the command goes on.
 */
function ignoreClosedStdout(): void {
  if (!process.stdout.listenerCount('error')) {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'EPIPE') throw err; });
  }
}

/** Help and version text (commander writes with process.stdout.write, not console.log). */
function writeOut(str: string): void {
  ignoreClosedStdout();
  process.stdout.write(str);
}

/** True when argv holds only global options: then print the help and succeed, as `pilot` always has. */
function onlyGlobals(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--home' && i + 1 < argv.length) i++;   // a bare trailing --home is commander's to reject
    else if (argv[i] !== '--verbose' && !argv[i]!.startsWith('--home=')) return false;
  }
  return true;
}

/**
 * The top-level help as `pilot --help` prints it when not on a terminal (80 columns). The build writes it to
 * dist/cli/help.txt, which bin/pilot.js prints without loading commander: the most common cold start stays
 * as fast as node itself. A unit test checks the file against this function.
 */
export function topLevelHelp(): string {
  const program = createProgram();
  addJobCommands(program, () => {});
  addWatchCommand(program, () => {});
  addClusterCommands(program, () => {});
  addWhyCommands(program, () => {});
  addCollectionCommands(program, () => {});
  addResultsCommands(program, () => {});
  let text = '';
  program.configureOutput({ getOutHelpWidth: () => 80, writeOut: (str) => { text += str; } });
  program.outputHelp();
  return text;
}

export async function main(argv: string[]): Promise<number> {
  ignoreClosedStdout();
  let code = 0;
  const program = createProgram();
  addJobCommands(program, (c) => { code = c; });
  addWatchCommand(program, (c) => { code = c; });
  addClusterCommands(program, (c) => { code = c; });
  addWhyCommands(program, (c) => { code = c; });
  addCollectionCommands(program, (c) => { code = c; });
  addResultsCommands(program, (c) => { code = c; });
  oneLineErrors(program, 'pilot');
  // global options may come before or after the command (`pilot status --home x`): read them once parsed
  program.hook('preAction', () => {
    const { home, verbose } = program.opts();
    if (home !== undefined) process.env.PILOT_HOME = home;
    cli.verbose = verbose === true;
  });

  if (onlyGlobals(argv)) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    // --help and --version end with a CommanderError too, exit code 0; every other one is a usage error
    // that commander has already printed (oneLineErrors)
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const verbose = program.opts().verbose === true;
    if (isPilotError(err)) {
      printProblem('error', err);
      if (verbose) console.error(err.stack);
      return err.exitCode;
    }
    console.error(verbose ? err : `error: ${(err as Error)?.message ?? String(err)} (run with --verbose for details)`);
    return 1;
  }
}
