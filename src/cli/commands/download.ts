/** `pilot download NAME [--to DIR]`: logs and outputs in one stream. */
import { formatBytes, withWrapper } from '../common.js';

export async function run([name]: unknown[], opts: Record<string, unknown>): Promise<number> {
  return withWrapper(async (pilot) => {
    const r = await pilot.download(String(name), { to: opts.to === undefined ? undefined : String(opts.to) });
    process.stdout.write(`${r.dest}\n`);
    process.stderr.write(`  ${formatBytes(r.bytes)} received (logs/ and outputs/)\n`);
    return 0;
  });
}
