/**
 * Turns normalised job info into the exact files a backend ships: the bundle, the rendered script and the
 * args files. Pure apart from packing (local disk only): nothing here touches the network.
 */
import { join } from 'node:path';
import { quoteArgv } from '../util/quote.js';
import { commandWords, renderScript } from '../scheduler/render.js';
import type { Dialect, DirectiveDefaults } from '../scheduler/dialect.js';
import type { PreparedJob } from '../scheduler/backend.js';
import { encodeArgsFile } from '../model/args.js';
import { packageVersion } from '../util/version.js';
import type { NormalizedJobInfo } from '../model/job.js';

export async function prepareJob(
  name: string,
  info: NormalizedJobInfo,
  defaults: DirectiveDefaults,
  outDir: string,
  dialect: Dialect,
): Promise<PreparedJob> {
  const { packBundle } = await import('../bundle/pack.js');
  const bundle = await packBundle({ srcDir: info.srcDir, libraries: info.libraries, exclude: info.exclude, outDir });
  const tasks = info.argv.length;
  const script = await renderScript({
    version: packageVersion(),
    jobName: name,
    bundleSha: bundle.sha256,
    sbatchLines: dialect.directives({ ...info, jobName: name }, tasks, defaults),
    env: info.env,
    setup: info.setup,
    command: commandWords(info),
  }, info.template ?? dialect.template);
  return {
    name,
    info,
    tasks,
    bundle,
    script,
    argsFile: encodeArgsFile(info.argv),
    argsText: info.argv.map((argv) => quoteArgv(argv)).join('\n') + '\n',
  };
}

export function bundleCacheDir(home: string): string {
  return join(home, 'cache', 'bundles');
}
