/** `pilot results [NAME…]`: one row per task, with its parameters and its result file, as a table, JSON or CSV. */
import { tableObjects, toCsv } from '../../model/results.js';
import { printJson, printProblem, withWrapper } from '../common.js';
import { renderResults } from '../render-results.js';

export interface ResultsCliOptions { collection?: string; file: string; format: 'table' | 'json' | 'csv'; all?: boolean }

export async function run(names: string[], opts: ResultsCliOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    const jobs = await pilot.results(names, { file: opts.file, all: opts.all, ...(opts.collection ? { collection: opts.collection } : {}) });
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
