/** `pilot results [NAME…]`: one row per task, with its parameters and its result file, as a table, JSON or CSV. */
import { PilotError } from '../../model/errors.js';
import { tableObjects, toCsv } from '../../model/results.js';
import { printJson, printProblem, withWrapper } from '../common.js';
import { renderResults } from '../render-results.js';

export interface ResultsCliOptions { collection?: string; file: string; format: 'table' | 'json' | 'csv'; all?: boolean }

/** Refuses `--collection` until collections exist (the lead wires it: results of every job of the collection). */
export function noCollectionsYet(collection: string | undefined): void {
  // TODO(lead): resolve the collection's jobs here (helper "collections") and pass their names on
  if (collection !== undefined) {
    throw new PilotError('BAD_INPUT', `--collection is not available in this version`, { hint: 'name the jobs instead: pilot results JOB1 JOB2' });
  }
}

export async function run(names: string[], opts: ResultsCliOptions): Promise<number> {
  noCollectionsYet(opts.collection);
  return withWrapper(async (pilot) => {
    const jobs = await pilot.results(names, { file: opts.file, all: opts.all });
    for (const j of jobs) if (j.stale) printProblem('warning', { message: `${j.name}: states may be out of date: ${j.stale}` });
    if (opts.format === 'json') {
      printJson(jobs.map((j) => ({ name: j.name, cluster: j.cluster, file: j.file, columns: j.columns, rows: tableObjects(j) })));
    } else if (opts.format === 'csv') {
      // several jobs: one CSV, with a job column first
      process.stdout.write(jobs.length === 1 ? toCsv(jobs[0]!) : toCsv(jobs));
    } else {
      process.stdout.write(jobs.map((j) => renderResults(j)).join('\n\n') + '\n');
    }
    return 0;
  });
}
