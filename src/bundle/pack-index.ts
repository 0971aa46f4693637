/**
 * The pack index, as git's index avoids re-reading unchanged files: (path, type, mode, size, mtime, inode) of
 * every entry → the bundle packed from them. An unchanged 20 MB tree then costs a directory walk instead of
 * reading, tarring, gzipping and hashing it all. Any doubt falls back to packing: a missing or unreadable
 * entry, a bundle file that is gone or of another size, or a "racily clean" tree (a file modified within
 * a second of the walk that packed it, which a same-size edit in the same mtime tick could hide).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/files.js';
import type { Bundle } from './pack.js';
import type { TarEntry } from './tar-writer.js';

/** Bump when the archive format changes: old index entries must not name bundles of the old format. */
const FORMAT = 1;
const RACY_MS = 1000;

interface IndexEntry extends Omit<Bundle, 'file'> {
  /** when the walk that produced the bundle started */
  walkedAt: number;
}

/** One hash of everything that decides the archive's bytes, except the file contents themselves. */
export function treeFingerprint(entries: readonly TarEntry[]): string {
  const h = createHash('sha256').update(`pilot-pack ${FORMAT} zlib ${process.versions.zlib}\n`);
  for (const e of entries) {
    h.update(JSON.stringify([e.name, e.type, e.mode, e.linkTarget ?? null, e.stat?.size ?? null, e.stat?.mtimeMs ?? null, e.stat?.ino ?? null]));
    h.update('\n');
  }
  return h.digest('hex');
}

function indexFile(outDir: string, fingerprint: string): string {
  return join(outDir, 'index', `${fingerprint}.json`);
}

/** The bundle packed from this very tree before, if it can be trusted. */
export async function lookupPack(outDir: string, fingerprint: string, entries: readonly TarEntry[]): Promise<Bundle | undefined> {
  let known: IndexEntry;
  try {
    known = JSON.parse(await readFile(indexFile(outDir, fingerprint), 'utf8')) as IndexEntry;
  } catch {
    return undefined;
  }
  if (!/^[0-9a-f]{64}$/.test(known.sha256)) return undefined;
  if (entries.some((e) => e.stat && e.stat.mtimeMs >= known.walkedAt - RACY_MS)) return undefined;
  const file = join(outDir, `${known.sha256}.tar.gz`);
  const size = await stat(file).then((s) => s.size, () => -1);
  return size === known.bytes ? { file, sha256: known.sha256, bytes: known.bytes, files: known.files } : undefined;
}

export async function rememberPack(outDir: string, fingerprint: string, bundle: Bundle, walkedAt: number): Promise<void> {
  await mkdir(join(outDir, 'index'), { recursive: true });
  const entry: IndexEntry = { sha256: bundle.sha256, bytes: bundle.bytes, files: bundle.files, walkedAt };
  await writeJsonAtomic(indexFile(outDir, fingerprint), entry);
}
