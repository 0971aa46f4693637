/**
 * Safe extraction of bundles (local backend) and of result archives (`pilot download`). Archives from the
 * cluster are not fully trusted — a job can write anything into its output folder — so on top of node-tar's
 * own defences we skip, explicitly and reportably, every entry that could write or point outside `dest`.
 */
import { mkdir } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { x, type ReadEntry } from 'tar';
import { PilotError } from '../errors.js';

export type ExtractOptions = {
  /** called for every entry left out, with the reason (nothing below the CLI prints) */
  onSkip?: (path: string, reason: string) => void;
  /** keep the archive's mtimes; default false for bundles (their mtimes are all 0), true for streams */
  keepMtime?: boolean;
};

/** Why an entry must not be extracted, or undefined if it is safe. Pure: tar paths are posix strings. */
export function unsafeEntryReason(path: string, type: string, linkpath?: string): string | undefined {
  const escapes = (p: string) => p === '..' || p.startsWith('../');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'absolute path';
  if (path.split(/[\\/]/).includes('..')) return "path contains '..'";
  if (type === 'SymbolicLink' || type === 'Link') {
    const target = linkpath ?? '';
    if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) return `link to absolute path ${target}`;
    // symlinks resolve from their own folder, hard links from the archive root
    const base = type === 'SymbolicLink' ? posix.dirname(path) : '.';
    if (escapes(posix.normalize(posix.join(base, target)))) return `link ${target} points outside the destination`;
  }
  if (!['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link'].includes(type)) {
    return `unsupported entry type ${type}`;
  }
  return undefined;
}

/** node-tar options shared by both entry points; `fatal` collects warnings that mean a damaged archive. */
function safeOptions(dest: string, opts: ExtractOptions, keepMtime: boolean, fatal: string[]) {
  return {
    cwd: dest,
    preservePaths: false, // strips leading `/`, refuses `..` (node-tar's default, stated so it stays)
    preserveOwner: false, // running as root must not chown files to uids from the remote machine
    noMtime: !keepMtime,
    strict: false, // per-entry problems are skips reported through onSkip; damage is collected in `fatal`
    filter: (path: string, entry: unknown) => {
      const e = entry as ReadEntry;
      const reason = unsafeEntryReason(path, e.type, e.linkpath);
      if (reason) opts.onSkip?.(path, reason);
      return reason === undefined;
    },
    onwarn: (code: string, message: string, data: { [k: string]: unknown }) => {
      if (code === 'TAR_ENTRY_INVALID' || code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ABORT') fatal.push(message);
      else if (code !== 'TAR_ENTRY_INFO') opts.onSkip?.(String(data.path ?? (data.entry as ReadEntry | undefined)?.path ?? ''), message);
    },
  };
}

function failure(what: string, detail: string, cause?: unknown): PilotError {
  return new PilotError('BUNDLE', `extracting ${what} failed: ${detail}`, {
    cause, hint: 'The archive is damaged or truncated; download or pack it again.',
  });
}

/**
 * Extracts a bundle (.tar.gz) into `dest` (created if missing).
 *
 * @example
 * await extractBundle(bundle.file, '/scratch/run-1');   // → /scratch/run-1/src/..., /scratch/run-1/lib/...
 */
export async function extractBundle(tarGz: string, dest: string, opts: ExtractOptions = {}): Promise<void> {
  const cwd = resolve(dest);
  await mkdir(cwd, { recursive: true });
  const fatal: string[] = [];
  try {
    await x({ file: tarGz, ...safeOptions(cwd, opts, opts.keepMtime ?? false, fatal) });
  } catch (err) {
    throw failure(tarGz, (err as Error).message, err);
  }
  if (fatal.length) throw failure(tarGz, fatal.join('; '));
}

/**
 * Extracts a tar stream (plain or gzipped, detected from its first bytes) into `dest` (created if missing).
 *
 * @example
 * await safeExtractStream(await transport.readStream('~/pilot/jobs/x/out.tar.gz'), './results');
 */
export async function safeExtractStream(stream: Readable | NodeJS.ReadableStream, dest: string,
  opts: ExtractOptions = {}): Promise<void> {
  const cwd = resolve(dest);
  await mkdir(cwd, { recursive: true });
  const fatal: string[] = [];
  const unpack = x(safeOptions(cwd, opts, opts.keepMtime ?? true, fatal));
  await new Promise<void>((done, fail) => {
    // node-tar's Unpack is a minipass stream: it reports completion with 'close' (after all files are
    // written), which stream.pipeline does not wait for, hence the manual wiring.
    const onError = (err: unknown) => fail(failure('stream', (err as Error).message, err));
    stream.once('error', onError);
    unpack.once('error', onError);
    unpack.once('close', () => done());
    stream.pipe(unpack);
  });
  if (fatal.length) throw failure('stream', fatal.join('; '));
}
