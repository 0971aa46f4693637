/** `pilot cancel NAME[/I]`. */
import { withWrapper } from '../common.js';

export async function run([ref]: unknown[]): Promise<number> {
  return withWrapper(async (pilot) => {
    await pilot.cancel(String(ref));
    process.stdout.write(`cancelled ${String(ref)}\n`);
    return 0;
  });
}
