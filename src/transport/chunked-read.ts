/**
 * Reading files that somebody else's program wrote (task logs), shared by the SFTP transport and the local
 * backend: only regular files, in bounded memory, in order, with a few reads in flight so a remote read is
 * not one round trip per chunk.
 */
import { PilotError } from '../model/errors.js';

/** Receives the bytes of a file in order; the next chunk waits until the promise settles (backpressure). */
export type ChunkSink = (chunk: Buffer) => void | Promise<void>;

export interface ReadStreamOptions {
  /** First byte to read. */
  start: number;
  onChunk: ChunkSink;
}

/** The file-type predicates of both fs.Stats and ssh2's SFTP Stats. */
export interface FileKindStats {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

function kindOf(s: FileKindStats): string {
  if (s.isSymbolicLink()) return 'a symbolic link';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  if (s.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/**
 * Refuses anything but a regular file. Slurm (and the local supervisor) write logs as regular files, so
 * anything else was put there by the task: a link to /dev/zero never ends, a FIFO blocks whoever opens it.
 */
export function assertRegularFile(path: string, s: FileKindStats, where: string): void {
  if (s.isFile()) return;
  throw new PilotError('NOT_A_FILE', `refusing to read ${path}${where}: it is ${kindOf(s)}, not a regular file`, {
    hint: 'task logs are written as regular files; the task (or someone else) replaced this one. Look at it with `ls -l` and remove it',
  });
}

/** Reads `length` bytes at `position` (fewer at the end of the file, 0 past it). */
export type PositionalRead = (position: number, length: number) => Promise<Buffer>;

export interface ChunkedReadOptions {
  /** Bytes per read request. Default 128 KiB (one SFTP request: OpenSSH answers up to 256 KiB). */
  chunkSize?: number;
  /** Read requests in flight. Default 8: at most chunkSize × depth bytes are held. */
  depth?: number;
}

/**
 * Reads [start, end) with up to `depth` requests in flight and hands the chunks to `onChunk` in file order.
 * A short read is continued from where it stopped; a read of 0 bytes (the file shrank) ends early.
 * Returns the bytes delivered.
 */
export async function chunkedRead(read: PositionalRead, start: number, end: number, onChunk: ChunkSink, options: ChunkedReadOptions = {}): Promise<number> {
  const chunkSize = options.chunkSize ?? 128 * 1024;
  const depth = options.depth ?? 8;
  const queue: { position: number; length: number; data: Promise<Buffer> }[] = [];
  const request = (position: number, length: number) => {
    const data = read(position, length);
    data.catch(() => {});   // awaited in order below; a later failure must not be an unhandled rejection meanwhile
    return { position, length, data };
  };
  let next = start;
  let delivered = 0;
  const fill = () => {
    while (queue.length < depth && next < end) {
      const length = Math.min(chunkSize, end - next);
      queue.push(request(next, length));
      next += length;
    }
  };
  try {
    fill();
    while (queue.length) {
      const head = queue.shift()!;
      const data = await head.data;
      if (data.length === 0) break;
      if (data.length < head.length) queue.unshift(request(head.position + data.length, head.length - data.length));
      delivered += data.length;
      await onChunk(data);
      fill();
    }
  } finally {
    // requests still in flight (early end, or an error) settle before the caller closes the handle
    await Promise.allSettled(queue.map((q) => q.data));
  }
  return delivered;
}

/**
 * The same for a file on this machine: lstat, then open with O_NOFOLLOW (a link swapped in after the lstat
 * fails with ELOOP) and O_NONBLOCK (a FIFO swapped in does not block the open), then fstat the descriptor.
 * Returns the bytes delivered from `start` to the size at opening; null when the file does not exist.
 */
export async function readLocalFile(path: string, start: number, onChunk: ChunkSink): Promise<number | null> {
  const { constants, promises: fs } = await import('node:fs');
  let fh: import('node:fs/promises').FileHandle;
  try {
    assertRegularFile(path, await fs.lstat(path), '');
    fh = await fs.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new PilotError('NOT_A_FILE', `refusing to read ${path}: it is a symbolic link, not a regular file`, { hint: 'task logs are written as regular files; the task (or someone else) replaced this one', cause: err });
    throw err;
  }
  try {
    const opened = await fh.stat();
    assertRegularFile(path, opened, '');
    const read = async (position: number, length: number) => {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    };
    return await chunkedRead(read, start, opened.size, onChunk, { depth: 2 });
  } finally {
    await fh.close();
  }
}
