/** `pilot cancel NAME[/I]`: says what was cancelled, or that nothing was left to cancel. */
import { withWrapper } from '../common.js';
import { countsLine } from '../render.js';

export async function run(ref: string): Promise<number> {
  return withWrapper(async (pilot) => {
    const r = await pilot.cancel(ref);
    const what = r.index === undefined ? r.name : `${r.name}/${r.index}`;
    const cancelled = Object.values(r.cancelled).reduce((a, b) => a + b, 0);
    const finished = countsLine({ counts: r.finished });
    if (!cancelled) {
      process.stdout.write(`nothing to cancel: ${r.index === undefined ? `every task of ${what} has` : `${what} has`} finished (${finished})\n`);
    } else {
      process.stdout.write(`cancelled ${what}: ${cancelled} task${cancelled === 1 ? '' : 's'} (${countsLine({ counts: r.cancelled })})` +
        `${finished ? `; already finished: ${finished}` : ''}\n`);
    }
    return 0;
  });
}
