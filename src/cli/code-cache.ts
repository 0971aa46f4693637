/**
 * Runs the CLI (dist/pilot/cli.cjs, ONE bundled script: scripts/build-cli.js) compiled with V8's code cache.
 *
 * Why: a `pilot` command spent much of its time compiling JavaScript (ours, zod, yaml, commander, ssh2): a
 * `pilot launch` on the test machine took 0.34 s, 0.25 s with the cache (issue #16). Node 22 caches compiled
 * code by itself (module.enableCompileCache); node 20 does not, but `vm.Script` takes and makes V8's cache.
 * The first run of a command compiles as before and then saves what V8 compiled while it ran, functions
 * included; later runs of that command start from it.
 *
 * The cache is a per-user folder: `$PILOT_CODE_CACHE` (`off` to disable), else `$XDG_CACHE_HOME/hpc-pilot`
 * or `~/.cache/hpc-pilot`. It holds compiled code that this process will run, so a folder that someone else
 * owns or may write into is never used. V8 refuses data made by another V8 version or with other flags; it
 * checks only the length of the source, so the file name also carries the bundle's size, mtime and inode.
 * Nothing about the cache can fail a command: it is skipped when anything about it goes wrong.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { LENT_IMPORT } from '../util/import-file.js';

const BUNDLE = fileURLToPath(new URL('../pilot/cli.cjs', import.meta.url));

/** The folder of compiled code, or undefined when caching is off. */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env.PILOT_CODE_CACHE;
  if (given === 'off' || given === '0') return undefined;
  if (given) return given;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'hpc-pilot');
}

/** Whether `dir` may hold code this process runs: ours, and nobody else may write into it. */
function trusted(dir: string): boolean {
  try {
    const st = statSync(dir);
    return st.isDirectory() && (process.getuid === undefined || st.uid === process.getuid()) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** What names this node and this very bundle file in a cache file's name. */
const nodeTag = `node${process.version}-${process.arch}`;
const bundleTag = (bundle: Stats) => `${bundle.size}-${Math.trunc(bundle.mtimeMs)}-${bundle.ino}`;

/**
 * The cache file of this bundle and command: one per command, since each one compiles different functions.
 * The word is the first argument that looks like a command (only a command that succeeded is saved).
 */
function cacheFile(dir: string, bundle: Stats, argv: readonly string[]): string {
  const command = argv.find((a) => /^[a-z][a-z-]{0,30}$/.test(a)) ?? '_';
  return join(dir, `cli-${command}-${nodeTag}-${bundleTag(bundle)}.v8`);
}

type Main = (argv: string[]) => Promise<number>;

/** Runs `pilot ARGV` from the bundle; resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  (globalThis as { [LENT_IMPORT]?: (url: string) => Promise<unknown> })[LENT_IMPORT] = (url) => import(url);
  // node applies source maps (--enable-source-maps) only to what its own loaders load: then the script is
  // loaded by require, without the cache, and stack traces name src/ files
  if (process.sourceMapsEnabled) return (createRequire(import.meta.url)(BUNDLE) as { main: Main }).main(argv);
  const fd = openSync(BUNDLE, 'r');
  let source: string;
  let stats: Stats;
  try {
    stats = fstatSync(fd);   // of the very file read: its name in the cache can never pair stale code with new text
    source = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const dir = codeCacheDir();
  const file = dir === undefined ? undefined : cacheFile(dir, stats, argv);
  let cachedData: Buffer | undefined;
  try {
    cachedData = file !== undefined && trusted(dir!) ? readFileSync(file) : undefined;
  } catch {
    cachedData = undefined;   // not made yet
  }
  // CommonJS's wrapper, as node's own loader puts it around a module (on the first line: line numbers stay)
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, { filename: BUNDLE, cachedData });
  const module = { exports: {} as { main?: Main } };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  const code = await module.exports.main!(argv);
  if (code === 0 && file !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
    await saveCodeCache(dir!, file, bundleTag(stats), script).catch(() => undefined);
  }
  return code;
}

/** Writes what V8 compiled so far (the command's functions too), and drops the files of older bundles. */
async function saveCodeCache(dir: string, file: string, bundle: string, script: Script): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!trusted(dir)) return;
  const { sweepTemps, writeFileAtomic } = await import('../util/files.js');
  await writeFileAtomic(file, script.createCachedData());
  await sweepTemps(dir);   // a pilot killed while it saved (its pid gone) left its temp file
  // any command's file made by this node from another bundle (pilot updated or rebuilt): never read again
  for (const old of readdirSync(dir)) {
    if (old.startsWith('cli-') && old.includes(`-${nodeTag}-`) && !old.endsWith(`-${bundle}.v8`)) rmSync(join(dir, old), { force: true });
  }
}
