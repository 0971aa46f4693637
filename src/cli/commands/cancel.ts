/** `pilot cancel NAME[/I]`. */
import { withWrapper } from '../common.js';

export async function run(ref: string): Promise<number> {
  return withWrapper(async (pilot) => {
    await pilot.cancel(ref);
    process.stdout.write(`cancelled ${ref}\n`);
    return 0;
  });
}
