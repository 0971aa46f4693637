/** `pilot export [NAME…] --format json`: the records as one JSON document (nothing is asked of a cluster). */
import { printJson, printProblem, withWrapper } from '../common.js';

export interface ExportOptions { format: 'json' }

export async function run(names: string[], _opts: ExportOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    printJson(await pilot.export(names, { onDamaged: (d) => printProblem('warning', d.error) }));
    return 0;
  });
}
