/** `pilot download NAME[/I] [--to DIR] [--glob G] [--json]`: logs, outputs and what tasks wrote in work/, in one stream. */
import { formatBytes, printJson, printProblem, withWrapper } from '../common.js';

export interface DownloadOptions { to?: string; glob?: string; json?: boolean }

export async function run(name: string | undefined, opts: DownloadOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    const r = await pilot.download(name, {
      to: opts.to,
      glob: opts.glob,
      // a left-out link or file is data the user expected: say so as it happens, even with --json
      onSkip: (path, reason) => { process.stderr.write(`warning: skipped ${path}: ${reason}\n`); },
    });
    if (opts.json) printJson({ dest: r.dest, bytes: r.bytes, skipped: r.skipped });
    else {
      process.stdout.write(`${r.dest}\n`);
      process.stderr.write(`  ${formatBytes(r.bytes)} received (logs/, outputs/, work/)\n`);
    }
    if (!r.skipped.length) return 0;
    // The rest is kept, but the job folder held entries that lead outside (or cannot be written): that is
    // hostile or broken remote data, so the command fails as bad input does (exit 2), once, after the warnings.
    const n = r.skipped.length;
    printProblem('error', {
      message: `${n} ${n === 1 ? 'entry' : 'entries'} of the job folder ${n === 1 ? 'was' : 'were'} left out of ${r.dest} (see the warnings above); the rest was downloaded`,
      hint: 'Links that lead outside the download folder are never created. Look at them on the cluster, or download only what you need with --glob.',
    });
    return 2;
  });
}
