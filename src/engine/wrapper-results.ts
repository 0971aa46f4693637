/**
 * The SDK doors of results and reports (`results`, `report`, `reportHtml`), kept out of wrapper.ts as a base
 * class SlurmWrapper extends: the same methods on the same object, one module each.
 */
import { PilotError } from '../model/errors.js';
import type { Engine } from './engine.js';
import type { ReportData } from './report.js';
import type { JobResults, ResultsOptions } from './results.js';
import { CollectionDoors } from './wrapper-collections.js';

export type { ReportData, ReportFailedTask } from './report.js';
export type { JobResults, ResultsOptions } from './results.js';
export type { ResultRow } from '../model/results.js';

export abstract class ResultsDoors extends CollectionDoors {
  protected abstract override readonly engine: Engine;

  /**
   * One row per completed task (`all`: per task) of each named job (none: the latest job): its index, state,
   * attempt, parameters and the flattened JSON of the file it wrote in its output folder (`file`, default
   * `results.json`, of its latest attempt). One status call, then ONE remote command per job reading every
   * file. A missing, too large or non-JSON file gives its row a `note` instead of columns.
   * @example
   * const [r] = await pilot.results(['sweep']);
   * for (const row of r!.rows) console.log(row.params.lr, row.result.loss ?? row.note);
   */
  async results(names: string[] = [], options: ResultsOptions = {}): Promise<JobResults[]> {
    const { results } = await import('./results.js');
    return results(this.engine, names, options);
  }

  /**
   * Everything `pilot report` shows about a job (name, unique prefix, or the latest): states, every attempt's
   * start and end, failure rate per parameter value, run-time histogram, failed tasks with their last stderr
   * lines, and the results table.
   * @example
   * const data = await pilot.report('sweep');
   * console.log(data.failureRates[0]?.values);
   */
  async report(name?: string, options: ResultsOptions = {}): Promise<ReportData> {
    if (options.collection !== undefined) {
      // one page over every job of the collection (a name given as well is refused: one or the other)
      if (name !== undefined) throw new PilotError('BAD_INPUT', 'report: give a job name or --collection, not both', { hint: 'pilot report JOB --html F, or pilot report --collection C --html F' });
      const { collectionReportOf } = await import('./report-collection.js');
      return collectionReportOf(this.engine, options.collection, options);
    }
    const { reportOf } = await import('./report.js');
    return reportOf(this.engine, name, options);
  }

  /**
   * The report as one self-contained HTML page (inline CSS, SVG and script: it opens without network).
   * @example
   * await writeFile('sweep.html', await pilot.reportHtml('sweep'));
   */
  async reportHtml(name?: string, options: ResultsOptions = {}): Promise<string> {
    const { renderReportHtml } = await import('./report-html.js');
    return renderReportHtml(await this.report(name, options));
  }
}
