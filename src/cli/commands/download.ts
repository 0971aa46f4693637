/** `pilot download NAME[/I] [--to DIR] [--glob G] [--json]`: logs, outputs and what tasks wrote in work/, in one stream. */
import { formatBytes, printJson, withWrapper } from '../common.js';

export interface DownloadOptions { to?: string; glob?: string; json?: boolean }

export async function run(name: string | undefined, opts: DownloadOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    const r = await pilot.download(name, {
      to: opts.to,
      glob: opts.glob,
      // a left-out link or file is data the user expected: say so as it happens, even with --json
      onSkip: (path, reason) => { process.stderr.write(`warning: skipped ${path}: ${reason}\n`); },
    });
    if (opts.json) {
      printJson({ dest: r.dest, bytes: r.bytes, skipped: r.skipped });
      return 0;
    }
    process.stdout.write(`${r.dest}\n`);
    const left = r.skipped.length ? `; ${r.skipped.length} ${r.skipped.length === 1 ? 'entry' : 'entries'} skipped (see the warnings above)` : '';
    process.stderr.write(`  ${formatBytes(r.bytes)} received (logs/, outputs/, work/)${left}\n`);
    return 0;
  });
}
