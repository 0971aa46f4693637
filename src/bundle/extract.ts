/**
 * Safe extraction of bundles (local backend) and of result archives (`pilot download`). Archives from the
 * cluster are not fully trusted — a job can write anything into its output folder — so on top of node-tar's
 * own defences we skip, explicitly and reportably, every entry that could write or point outside `dest`.
 * node-tar writes files and folders only; links are created afterwards by links.ts, which checks where each
 * one leads on disk (a text check cannot: `s/..` depends on what `s` is).
 */
import { mkdir, realpath } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { x, type ReadEntry } from 'tar';
import { PilotError } from '../model/errors.js';
import { createLinks, type DeferredLink } from './links.js';
import { OddNames } from './odd-names.js';

export type ExtractOptions = {
  /** called for every entry left out, with the reason (nothing below the CLI prints) */
  onSkip?: (path: string, reason: string) => void;
  /** keep the archive's mtimes; default false for bundles (their mtimes are all 0), true for streams */
  keepMtime?: boolean;
  /** entries (files and links) to keep, by archive path; the others are passed over silently (`download --glob`) */
  accept?: (path: string) => boolean;
};

/** Only `/` separates components in a tar path read on POSIX; on Windows `\` does too. */
const SEPARATORS = process.platform === 'win32' ? /[\\/]/ : /\//;

/**
 * Why an entry must not be extracted, or undefined if it may be. Pure: tar paths are posix strings. Where a
 * relative link leads is not decided here but on disk, when it is created (links.ts).
 */
export function unsafeEntryReason(path: string, type: string, linkpath?: string): string | undefined {
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'absolute path';
  if (path.split(SEPARATORS).includes('..')) return "path contains '..'";
  if (type === 'SymbolicLink' || type === 'Link') {
    const target = linkpath ?? '';
    if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) return `link to absolute path ${target}`;
    // hard links name an archive member, from the archive root: like paths, no `..`
    if (type === 'Link' && target.split(SEPARATORS).includes('..')) return `hard link to ${target} contains '..'`;
  }
  if (!['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link'].includes(type)) {
    return `unsupported entry type ${type}`;
  }
  return undefined;
}

/** What one extraction puts off until node-tar is done: the links, and the names it cannot write. */
class Plan {
  /** archive path → link, in archive order; a later entry of the same path replaces it (as in tar) */
  readonly links = new Map<string, DeferredLink>();
  readonly odd = new OddNames();
}

/** node-tar options shared by both entry points; `fatal` collects warnings that mean a damaged archive. */
function safeOptions(dest: string, opts: ExtractOptions, keepMtime: boolean, fatal: string[], plan: Plan) {
  return {
    cwd: dest,
    preservePaths: false, // strips leading `/`, refuses `..` (node-tar's default, stated so it stays)
    preserveOwner: false, // running as root must not chown files to uids from the remote machine
    noMtime: !keepMtime,
    strict: false, // per-entry problems are skips reported through onSkip; damage is collected in `fatal`
    filter: (path: string, entry: unknown) => {
      const e = entry as ReadEntry;
      const reason = unsafeEntryReason(path, e.type, e.linkpath);
      if (reason) {
        opts.onSkip?.(path, reason);
        return false;
      }
      const key = posix.normalize(path).replace(/\/+$/, '');
      if (opts.accept && e.type !== 'Directory' && !opts.accept(key)) return false;
      plan.links.delete(key);
      if (e.type === 'SymbolicLink' || e.type === 'Link') {
        plan.links.set(key, { path: key, type: e.type, target: e.linkpath ?? '' });
        return false;
      }
      e.path = plan.odd.placeholderPath(e.path);
      return true;
    },
    onwarn: (code: string, message: string, data: { [k: string]: unknown }) => {
      if (code === 'TAR_ENTRY_INVALID' || code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ABORT') fatal.push(message);
      else if (code !== 'TAR_ENTRY_INFO') {
        const path = String(data.path ?? (data.entry as ReadEntry | undefined)?.path ?? '');
        opts.onSkip?.(plan.odd.original(path), message);
      }
    },
  };
}

function failure(what: string, detail: string, cause?: unknown): PilotError {
  return new PilotError('BUNDLE', `extracting ${what} failed: ${detail}`, {
    cause, hint: 'The archive is damaged or truncated; download or pack it again.',
  });
}

/**
 * node-tar writes files and folders through `unpack`; then odd names get their real name, and the links
 * are made (only those that stay inside `dest`).
 */
async function extractSafely(what: string, dest: string, opts: ExtractOptions, keepMtime: boolean,
  unpack: (options: ReturnType<typeof safeOptions>) => Promise<void>): Promise<void> {
  const cwd = resolve(dest);
  await mkdir(cwd, { recursive: true });
  const fatal: string[] = [];
  const plan = new Plan();
  try {
    await unpack(safeOptions(cwd, opts, keepMtime, fatal, plan));
  } catch (err) {
    throw failure(what, (err as Error).message, err);
  }
  if (fatal.length) throw failure(what, fatal.join('; '));
  await plan.odd.finish(cwd, opts.onSkip);
  // links are resolved against the real path of dest, as the kernel will resolve them
  await createLinks(await realpath(cwd), [...plan.links.values()], opts.onSkip);
}

/**
 * Extracts a bundle (.tar.gz) into `dest` (created if missing).
 *
 * @example
 * await extractBundle(bundle.file, '/scratch/run-1');   // → /scratch/run-1/src/..., /scratch/run-1/lib/...
 */
export async function extractBundle(tarGz: string, dest: string, opts: ExtractOptions = {}): Promise<void> {
  await extractSafely(tarGz, dest, opts, opts.keepMtime ?? false, (o) => x({ file: tarGz, ...o }));
}

/**
 * Extracts a tar stream (plain or gzipped, detected from its first bytes) into `dest` (created if missing).
 *
 * @example
 * await safeExtractStream(await transport.readStream('~/pilot/jobs/x/out.tar.gz'), './results');
 */
export async function safeExtractStream(stream: Readable | NodeJS.ReadableStream, dest: string,
  opts: ExtractOptions = {}): Promise<void> {
  await extractSafely('stream', dest, opts, opts.keepMtime ?? true, (o) => {
    const unpack = x(o);
    return new Promise<void>((done, fail) => {
      // node-tar's Unpack is a minipass stream: it reports completion with 'close' (after all files are
      // written), which stream.pipeline does not wait for, hence the manual wiring.
      stream.once('error', fail);
      unpack.once('error', fail);
      unpack.once('close', () => done());
      stream.pipe(unpack);
    });
  });
}
