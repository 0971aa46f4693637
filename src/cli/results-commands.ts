/**
 * The results commands of `pilot` (`results`, `report`), defined apart from job-commands.ts so each family of
 * commands stays one module; like them, each action imports its module only when it runs.
 */
import { Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { examples, type Finish } from './define.js';

export function addResultsCommands(parent: CommandUnknownOpts, finish: Finish): void {
  parent.command('results')
    .description("One row per completed task: its index, state, parameters and the JSON its result file holds, all fetched in one transfer")
    .argument('[names...]', 'job names or unique prefixes (default: the latest job)')
    .option('--collection <name>', 'every job of a collection (with the names given, if any)')
    .option('--file <path>', "the file each task wrote in its output folder ($PILOT_OUTPUT_DIR)", 'results.json')
    .addOption(new Option('--format <format>', 'Output format').choices(['table', 'json', 'csv'] as const).default('table' as const))
    .option('--all', 'also a row for each task that did not complete (with a note)')
    .addHelpText('after', `
Each task's file is read from its latest attempt's output folder; nested
JSON objects become columns "a.b". A missing, too large (> 1 MiB) or
non-JSON file gives its row a note instead of columns.
${examples(
    'pilot results sweep',
    'pilot results sweep --format csv > sweep.csv',
    'pilot results sweep --file metrics/final.json --format json | jq \'.[].rows[]\'',
    'pilot results --collection lr-study --format csv   # every job of a collection, one CSV',
  )}`)
    .action(async (names, opts) => finish(await (await import('./commands/results.js')).run(names, opts)));

  parent.command('report')
    .description('Write one self-contained HTML page about a job: timeline, states, failure rate by parameter, run times, failures, results')
    .argument('[name]', 'a job name or unique prefix (default: the latest job)')
    .option('--collection <name>', 'one page over every job of a collection (tasks named job/index)')
    .requiredOption('--html <file>', 'where to write the page (opens offline: no CDN, no network)')
    .option('--file <path>', 'the result file of each task, as for `pilot results`', 'results.json')
    .option('--json', 'Print the report data as JSON too (on stdout)')
    .addHelpText('after', examples(
      'pilot report sweep --html sweep.html && xdg-open sweep.html',
      'pilot report --html latest.html            # the latest job',
      'pilot report --collection lr-study --html study.html',
    ))
    .action(async (name, opts) => finish(await (await import('./commands/report.js')).run(name, opts)));
}
