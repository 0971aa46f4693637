/** `pilot report [NAME] --html FILE`: one self-contained HTML page about a job. */
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../util/files.js';
import { printJson, printProblem, withWrapper } from '../common.js';

export interface ReportCliOptions { collection?: string; html: string; file: string; json?: boolean }

export async function run(name: string | undefined, opts: ReportCliOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    const data = await pilot.report(name, { file: opts.file, ...(opts.collection ? { collection: opts.collection } : {}) });
    const { renderReportHtml } = await import('../../engine/report-html.js');
    await writeFileAtomic(resolve(opts.html), renderReportHtml(data));
    for (const p of data.problems) printProblem('warning', { message: `${data.name}: ${p}` });
    if (opts.json) printJson(data);
    else process.stdout.write(`${data.name}: report written to ${opts.html} (${data.status.tasks.length} tasks, ${data.timeline.length} bars, ${data.results.rows.length} result rows)\n`);
    return 0;
  });
}
