/**
 * Packs the sources and libraries of a job into one content-addressed `.tar.gz`. The hash names the bundle on
 * the cluster, so an unchanged tree is uploaded once: the archive must be byte-identical for identical
 * inputs (sorted entries, fixed metadata in tar-writer.ts, a gzip header without mtime).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zc, createGzip } from 'node:zlib';
import { PilotError } from '../model/errors.js';
import { makeDirs, sweepTemps, tempName } from '../util/files.js';
import type { ListedEntry } from '../model/checks.js';
import { assertShippable, listBundleFiles } from './files.js';
import { lookupPack, rememberPack, treeFingerprint } from './pack-index.js';
import { writeManifest, type Manifest } from './manifest.js';
import type { TarEntry } from './tar-writer.js';

export type Bundle = {
  /** path of the .tar.gz on local disk, named `<sha256>.tar.gz` */
  file: string;
  /** hex sha256 of the .tar.gz bytes */
  sha256: string;
  bytes: number;
  /** number of non-directory entries (files and symlinks) */
  files: number;
};

export type PackOptions = {
  srcDir: string;
  /** folders (or single files) shipped as lib/<basename>; `exclude` applies inside each of them too */
  libraries?: string[];
  /** gitignore-syntax patterns, relative to srcDir (and to each library) */
  exclude?: string[];
  /** where the bundle is written; defaults to os.tmpdir() */
  outDir?: string;
  /** Sees every entry once listed, before a byte is written: a check that throws stops the packing. */
  onList?: (entries: readonly ListedEntry[]) => void;
};

/** gzip header byte 9 names the OS; zlib writes 3 on Linux but 19 on macOS. Pin it so hashes agree. */
const GZIP_OS_OFFSET = 9;
const GZIP_OS_UNIX = 3;

/**
 * Packs `srcDir` as `src/...` and each library as `lib/<basename>/...`.
 *
 * @example
 * const bundle = await packBundle({ srcDir: './', libraries: ['../custom_library'], exclude: ['data/'] });
 * // bundle.file === `${os.tmpdir()}/${bundle.sha256}.tar.gz`
 */
export async function packBundle(opts: PackOptions): Promise<Bundle> {
  const walkedAt = Date.now();
  const entries = await collectEntries(opts);
  opts.onList?.(entries.map((e) => ({ name: e.name, type: e.type, size: e.stat?.size ?? 0, mode: e.mode, linkTarget: e.linkTarget })));
  const outDir = resolve(opts.outDir ?? tmpdir());
  // an unchanged tree (same paths, sizes, mtimes, inodes) was packed before: its bundle is reused, unread (and
  // the folder, which holds it, is not made again: a round trip less on every launch)
  const fingerprint = treeFingerprint(entries);
  const known = await lookupPack(outDir, fingerprint, entries);
  if (known) return known;
  await makeDirs(outDir);
  // a launch killed while packing leaves its temp files (the bundle, its manifest, the pack index): never
  // trusted (only a finished file is renamed into place), and removed here (and by \`pilot gc\`) once their writer is gone
  await sweepTemps(outDir);
  const tmp = tempName(join(outDir, 'bundle'));

  const hash = createHash('sha256');
  const manifest: Manifest = {};
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (bytes <= GZIP_OS_OFFSET && GZIP_OS_OFFSET < bytes + chunk.length) chunk[GZIP_OS_OFFSET - bytes] = GZIP_OS_UNIX;
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    // Fixed level and strategy: the defaults are not part of any contract and would silently change hashes.
    const gzip = createGzip({ level: 6, memLevel: 8, windowBits: 15, strategy: zc.Z_DEFAULT_STRATEGY });
    const digest = (e: TarEntry, sha: string) => { if (e.type !== 'dir') manifest[e.name] = sha.slice(0, 32); };
    // node-tar (its header encoder) is loaded only when packing: a launch of unchanged sources never packs
    const { tarChunks } = await import('./tar-writer.js');
    await pipeline(Readable.from(tarChunks(entries, digest)), gzip, tap, createWriteStream(tmp, { flags: 'wx' }));
    const sha256 = hash.digest('hex');
    const file = join(outDir, `${sha256}.tar.gz`);
    await rename(tmp, file); // same content → same name, so replacing an existing bundle is harmless
    await writeManifest(outDir, sha256, manifest);
    const bundle = { file, sha256, bytes, files: entries.filter((e) => e.type !== 'dir').length };
    await rememberPack(outDir, fingerprint, bundle, walkedAt);
    return bundle;
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (err instanceof PilotError) throw err;
    throw new PilotError('BUNDLE', `writing the bundle into ${outDir} failed: ${(err as Error).message}`, {
      cause: err, hint: 'Check free space and permissions of the bundle folder.',
    });
  }
}

/** Everything the archive holds, already in archive order. Lists all roots before writing a byte. */
async function collectEntries(opts: PackOptions): Promise<TarEntry[]> {
  const srcDir = resolve(opts.srcDir);
  const libs = (opts.libraries ?? []).map((l) => resolve(l));
  const byName = new Map<string, string>();
  for (const lib of libs) {
    const name = basename(lib);
    const other = byName.get(name);
    if (other !== undefined) {
      throw new PilotError('BAD_INPUT', `libraries ${other} and ${lib} would both be shipped as lib/${name}`, {
        hint: 'Library folders must have distinct names; rename or symlink one of them under another name.',
      });
    }
    if (!name) throw new PilotError('BAD_INPUT', `library ${lib} has no name`, { hint: 'Name a folder, not /.' });
    byName.set(name, lib);
    assertShippable(lib, 'folder or file', 'library');
  }

  const entries: TarEntry[] = [{ name: 'src', type: 'dir', mode: 0o755 }];
  const add = async (root: string, prefix: string) => {
    for (const f of await listBundleFiles(root, { exclude: opts.exclude })) {
      entries.push({ name: `${prefix}/${f.rel}`, type: f.type, mode: f.mode, abs: f.abs, linkTarget: f.linkTarget, stat: { size: f.size, mtimeMs: f.mtimeMs, ino: f.ino } });
    }
  };
  await add(srcDir, 'src');
  if (libs.length) entries.push({ name: 'lib', type: 'dir', mode: 0o755 });
  for (const [name, lib] of byName) {
    const st = await stat(lib);
    if (st.isFile()) {
      entries.push({ name: `lib/${name}`, type: 'file', mode: st.mode, abs: lib, stat: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } });
    } else {
      entries.push({ name: `lib/${name}`, type: 'dir', mode: 0o755 });
      await add(lib, `lib/${name}`);
    }
  }
  // one global byte-order sort makes the archive independent of the order libraries were listed in
  return entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}
