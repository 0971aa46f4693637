/**
 * Turns normalised job info into the exact files a backend ships: the bundle, the rendered script and the
 * args files, after the checks that need only this machine (the program is in the bundle; large files).
 * Pure apart from packing (local disk only): nothing here touches the network.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatBytes } from '../util/bytes.js';
import { quoteArgv } from '../util/quote.js';
import { commandWords, renderScript } from '../scheduler/render.js';
import type { Dialect, DirectiveDefaults } from '../scheduler/dialect.js';
import type { Bundle, PreparedJob } from '../scheduler/backend.js';
import { encodeArgsFile } from '../model/args.js';
import { encodeParamsFile } from '../model/params.js';
import { checkProgram, DEFAULT_LARGE_FILE_MB, type ListedEntry, type Warning } from '../model/checks.js';
import { packageVersion } from '../util/version.js';
import { arrayBaseOf, type NormalizedJobInfo } from '../model/job.js';
import { libraryDirs, taskPaths } from '../model/task-paths.js';
import { planTaskEnv, shellVariableWarnings, type PlaceholderName } from '../model/task-env.js';
import { automationWarnings } from '../model/retry.js';

/** A job ready to submit, with what its checks verified (a line each) and found worth a warning. */
export interface Prepared extends PreparedJob {
  checked: string[];
  warnings: Warning[];
  /** What PYTHONPATH/NODE_PATH/PATH/R_LIBS a task gets (model/job.ts taskPaths), a line each. */
  environment: string[];
}

/** An archive path as the user knows it: `src/train.py` → `train.py` (libraries keep their `lib/<name>/`). */
export function sourcePath(archiveName: string): string {
  return archiveName.replace(/^src\//, '');
}

function largeFiles(entries: readonly ListedEntry[], mb: number): Warning | undefined {
  const big = mb > 0 ? entries.filter((e) => e.type === 'file' && e.size > mb * 1024 ** 2).sort((a, b) => b.size - a.size) : [];
  if (!big.length) return undefined;
  const shown = big.slice(0, 3).map((e) => `${sourcePath(e.name)} (${formatBytes(e.size)})`).join(', ');
  return {
    message: `the bundle holds ${big.length} file${big.length === 1 ? '' : 's'} over ${mb} MB: ${shown}${big.length > 3 ? ', …' : ''}`,
    hint: 'each is packed on every launch and uploaded whenever it changes; leave data out (exclude: or .gitignore) and read it on the cluster, or raise largeFileMB',
  };
}

/**
 * Packs a job's sources. With `check`, before a byte is written: a program missing from the bundle refuses
 * the job (BAD_INPUT), and files over `largeFileMB` become a warning.
 */
export async function packSources(info: NormalizedJobInfo, outDir: string, check: boolean): Promise<{ bundle: Bundle; checked: string[]; warnings: Warning[] }> {
  const { packBundle } = await import('../bundle/pack.js');
  const checked: string[] = [];
  const warnings: Warning[] = [];
  const onList = (entries: readonly ListedEntry[]) => {
    checked.push(...checkProgram(info, new Map(entries.map((e) => [e.name, e])), (rel) => existsSync(join(info.srcDir, rel))));
    const mb = info.largeFileMB ?? DEFAULT_LARGE_FILE_MB;
    const big = largeFiles(entries, mb);
    if (big) warnings.push(big);
    else checked.push(mb > 0 ? `no file over ${mb} MB` : 'large files: not looked for (largeFileMB: 0)');
  };
  const bundle = await packBundle({ srcDir: info.srcDir, libraries: info.libraries, exclude: info.exclude, outDir, onList: check ? onList : undefined });
  return { bundle, checked, warnings };
}

export async function prepareJob(
  name: string,
  info: NormalizedJobInfo,
  defaults: DirectiveDefaults,
  outDir: string,
  dialect: Dialect,
): Promise<Prepared> {
  const { bundle, checked, warnings } = await packSources(info, outDir, true);
  const tasks = info.argv.length;
  const libDirs = libraryDirs(info.libraries, (p) => statSync(p).isDirectory());
  const base = arrayBaseOf(info);
  const filled = planTaskEnv(name, info.argv, info.env, base);
  const script = await renderScript({
    version: packageVersion(),
    jobName: name,
    bundleSha: bundle.sha256,
    sbatchLines: dialect.directives({ ...info, jobName: name }, tasks, defaults),
    env: filled.env,
    setup: info.setup,
    command: commandWords(info),
    arrayBase: base,
    libraryDirs: libDirs,
    fills: Object.entries(filled.tokens).map(([p, token]) => ({ token, value: runtimeValue(p as PlaceholderName, base) })),
    envToFill: filled.envToFill,
  }, info.template ?? dialect.template);
  return {
    name,
    info,
    tasks,
    bundle,
    script,
    argsFile: encodeArgsFile(filled.argv),
    // for people: {outputDir} as written (job.sh fills it when the task runs), not the token standing for it
    argsText: filled.argv.map((argv) => quoteArgv(argv).replaceAll(filled.outputDirToken, '{outputDir}')).join('\n') + '\n',
    paramsFile: encodeParamsFile(info.params ?? [], tasks),
    checked,
    warnings: [...warnings, ...shellVariableWarnings([...info.argv.flat(), ...Object.values(info.env)]), ...automationWarnings(info)],
    // a template of your own sets its own paths: say so rather than describe the default one
    environment: info.template ? ['(set by your template)'] : taskPaths(info, libDirs),
  };
}

/**
 * What job.sh puts for a placeholder known only when the task runs (pilot's own shell text, never the user's):
 * `{index0}` is the task's 0-based position whatever the arrayBase.
 */
export function runtimeValue(p: PlaceholderName, base: 0 | 1): string {
  return { outputDir: '$PILOT_OUTPUT_DIR', index: '$PILOT_TASK_INDEX', index0: `$(( PILOT_TASK_INDEX - ${base} ))`, job: '$PILOT_JOB_NAME' }[p];
}

export function bundleCacheDir(home: string): string {
  return join(home, 'cache', 'bundles');
}
