/**
 * A minimal, reproducible ustar/pax writer on top of node-tar's `Header`/`Pax` encoders.
 *
 * Why not `tar.create`/`Pack`: node-tar >= 7.5.14 deadlocks on trees with many hard links to one file
 * (isaacs/node-tar#458, #460), and `tar.create` reads file arguments starting with `@` as archives to append.
 * Writing the stream ourselves also gives full control over what makes archives differ between machines:
 * mtime, owner, mode bits, hard links and entry order.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Header, Pax, type HeaderData } from 'tar';
import { PilotError } from '../model/errors.js';

export type TarEntry = {
  /** path inside the archive (posix, relative, no trailing slash) */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  /** raw permission bits; only the exec bits of files matter (see normaliseMode) */
  mode: number;
  /** files: where to read the content from */
  abs?: string;
  /** symlinks: the link text */
  linkTarget?: string;
  /** what the pack index compares (not written to the archive: its mtimes are 0) */
  stat?: { size: number; mtimeMs: number; ino: number };
};

const BLOCK = 512;
const CHUNK = 256 * 1024;
const EPOCH = new Date(0);
/** the largest size a ustar header holds in octal; beyond it the size goes into the pax record */
const USTAR_MAX_SIZE = 0o77777777777;

/** Only "executable or not" survives, like git: umask and owner differences must not change the archive. */
export function normaliseMode(entry: Pick<TarEntry, 'type' | 'mode'>): number {
  if (entry.type === 'dir') return 0o755;
  if (entry.type === 'symlink') return 0o777;
  return entry.mode & 0o111 ? 0o755 : 0o644;
}

/**
 * The tar stream of `entries`, in the given order, as Buffers. Hard-linked files are read like any other
 * file, so each occurrence carries its own copy of the content (no `Link` entries). File contents are read
 * in CHUNK-sized pieces; a file whose size changes while it is read raises a BUNDLE error instead of
 * producing an archive whose header disagrees with its body. `onEntry` receives the sha256 of each entry's
 * bytes (header and content): what tells which files differ between two bundles.
 */
export async function* tarChunks(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>, onEntry?: (entry: TarEntry, sha256: string) => void): AsyncGenerator<Buffer> {
  // Coalesce headers and small files: every chunk costs a zlib thread-pool round trip downstream.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const entry of entries) {
    const hash = onEntry && createHash('sha256');
    for await (const buf of entryChunks(entry)) {
      hash?.update(buf);
      pending.push(buf);
      pendingBytes += buf.length;
      if (pendingBytes >= CHUNK) {
        yield pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        pending = [];
        pendingBytes = 0;
      }
    }
    if (hash) onEntry!(entry, hash.digest('hex'));
  }
  pending.push(Buffer.alloc(2 * BLOCK)); // end-of-archive marker
  yield Buffer.concat(pending);
}

async function* entryChunks(entry: TarEntry): AsyncGenerator<Buffer> {
  const mode = normaliseMode(entry);
  if (entry.type === 'dir') {
    yield headerBlocks({ path: `${entry.name}/`, type: 'Directory', mode, size: 0 });
  } else if (entry.type === 'symlink') {
    yield headerBlocks({ path: entry.name, type: 'SymbolicLink', mode, size: 0, linkpath: entry.linkTarget });
  } else {
    yield* fileChunks(entry, mode);
  }
}

async function* fileChunks(entry: TarEntry, mode: number): AsyncGenerator<Buffer> {
  const abs = entry.abs ?? entry.name;
  const changed = (what: string) => new PilotError('BUNDLE', `${abs} ${what} while it was being packed`, {
    hint: 'Something is writing into the source folder (a running job, an editor, a log). Exclude that file or pack again when it is quiet.',
  });
  // O_NOFOLLOW: the walk saw a regular file here; if it became a symlink since, fail rather than ship its target.
  const fh = await open(abs, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0)).catch((cause: NodeJS.ErrnoException) => {
    throw new PilotError('BUNDLE', `cannot read ${abs} (${cause.code ?? 'error'})`, {
      cause, hint: 'Fix its permissions or exclude it; if the tree was changing, pack again.',
    });
  });
  try {
    const before = await fh.stat();
    if (!before.isFile()) throw changed('stopped being a regular file');
    const size = before.size; // the size at open time is what the header promises
    yield headerBlocks({ path: entry.name, type: 'File', mode, size });
    let pos = 0;
    while (pos < size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
      for (let filled = 0; filled < buf.length;) {
        const { bytesRead } = await fh.read(buf, filled, buf.length - filled, pos + filled);
        if (bytesRead === 0) throw changed('shrank');
        filled += bytesRead;
      }
      pos += buf.length;
      yield buf;
    }
    if ((await fh.read(Buffer.alloc(1), 0, 1, size)).bytesRead > 0) throw changed('grew');
    const after = await fh.stat();
    if (after.size !== size || after.mtimeMs !== before.mtimeMs) throw changed('was modified');
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) yield Buffer.alloc(pad);
  } finally {
    await fh.close();
  }
}

/**
 * One ustar header block, preceded by a pax extended header when the path/linkpath is not ASCII or does not
 * fit ustar's name+prefix fields, or the size does not fit 11 octal digits. Owner, group and all times are
 * fixed so that only names, modes and contents reach the bytes.
 */
function headerBlocks(data: Pick<HeaderData, 'path' | 'type' | 'mode' | 'size' | 'linkpath'>): Buffer {
  const fixed: HeaderData = { uid: 0, gid: 0, uname: '', gname: '', mtime: EPOCH, linkpath: '', ...data };
  const block = Buffer.alloc(BLOCK);
  const header = new Header(fixed);
  if (!header.encode(block)) return block;
  const body = Buffer.from(new Pax({
    path: data.path,
    linkpath: data.linkpath || undefined,
    size: (data.size ?? 0) > USTAR_MAX_SIZE ? data.size : undefined,
  }).encodeBody());
  // Pax.encode() would name the pax entry after the raw basename; a sanitised ASCII name is friendlier to
  // old tars that extract unknown entries as files.
  const paxName = `PaxHeader/${posix.basename(data.path ?? '').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)}`;
  const paxHeader = Buffer.alloc(BLOCK);
  new Header({ ...fixed, path: paxName, type: 'ExtendedHeader', mode: 0o644, size: body.length, linkpath: '' })
    .encode(paxHeader);
  const paxBody = Buffer.alloc(Math.ceil(body.length / BLOCK) * BLOCK);
  body.copy(paxBody);
  return Buffer.concat([paxHeader, paxBody, block]);
}
