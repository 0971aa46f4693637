/** `pilot why NAME[/I]`: why tasks failed, from their states and the ends of their logs. */
import { printJson, withWrapper } from '../common.js';
import { renderWhy } from '../render-why.js';

export interface WhyOptions { json?: boolean }

export async function run(ref: string, opts: WhyOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    const report = await pilot.why(ref);
    if (opts.json) printJson(report);
    else process.stdout.write(renderWhy(report) + '\n');
    return 0;
  });
}
