/**
 * Task logs, in bounded memory whatever their size: a log is fetched into the local cache
 * ($PILOT_HOME/jobs/<name>/logs/<index>.attempt<A>.<out|err>) from the byte where the cache ends, and streamed
 * chunk by chunk to the caller's Writable while it arrives. Nothing here holds a whole log, except
 * `readCached` for the string API, which is bounded by the caller.
 */
import { constants as bufferConstants } from 'node:buffer';
import { constants } from 'node:fs';
import { mkdir, open, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { exists } from '../util/files.js';
import { dirname } from 'node:path';
import { PilotError } from '../model/errors.js';
import type { Backend } from '../scheduler/backend.js';
import { latestArrayFor } from '../model/attempts.js';
import type { JobRecord } from '../model/record.js';
import type { TaskState } from '../model/states.js';
import { chunkedRead, type ChunkSink } from '../transport/chunked-read.js';

export interface LogTarget {
  /** Opened only when bytes must be fetched: a complete cached log needs no connection. */
  backend: () => Promise<Backend>;
  record: JobRecord;
  index: number;
  attempt: number;
  stream: 'out' | 'err';
  /** The local cache file. */
  file: string;
}

const BLOCK = 64 * 1024;
/** `logs()` returns strings up to this size; bigger logs are streamed with `streamLog()`. */
const DEFAULT_MAX_STRING_BYTES = 256 * 1024 * 1024;

export interface StreamLogOptions {
  /** Where the bytes go, as they arrive (not ended afterwards). */
  to: NodeJS.WritableStream;
  /** Default 'stdout'. */
  stream?: 'stdout' | 'stderr';
  /** An older attempt (default: the latest one that ran this task). */
  attempt?: number;
  /** Only the last N lines (then new bytes, with `follow`). */
  tail?: number;
  /** Keep streaming new bytes until the attempt is over. */
  follow?: boolean;
  /** With `follow`: pause after a fetch that found nothing new (default 250 ms; 100 ms locally). */
  pollMs?: number;
  /** With `follow`: how often the task's state is asked (default 1 s; 250 ms locally). */
  statusEveryMs?: number;
  /** With `follow`: stops following (what was fetched is written). */
  signal?: AbortSignal;
  /** Called after each chunk fetched from the cluster or written to `to`, with the totals of this call. */
  onProgress?: (progress: { fetched: number; written: number }) => void;
}

export interface StreamLogResult {
  name: string;
  index: number;
  attempt: number;
  /** Bytes written to `to`. */
  bytes: number;
  /**
   * Set when nothing was written and the task has not finished: its state then (PENDING: it has not started,
   * so there is no log yet; RUNNING: it has written nothing so far). `follow` waits for its output.
   */
  state?: TaskState;
}

/** Where a reader is: bytes of the cache before `printed` went to `sink` already. */
export interface LogCursor {
  sink: ChunkSink;
  printed: number;
}

/**
 * Brings the cache up to date: fetches the bytes past its length and writes them at their own offsets. With
 * a cursor, cached bytes it has not printed yet (another `pilot logs` may have fetched them) go to its sink
 * first, then each fetched chunk as it lands. With `final` (the attempt was known to be over BEFORE this
 * fetch, so it got every byte) a `.complete` marker is left and later calls ask the cluster nothing.
 * Returns the cache's size and how many bytes this call fetched.
 */
export async function syncLog(t: LogTarget, final: boolean, cursor?: LogCursor, onFetched?: (bytes: number) => void): Promise<{ size: number; fetched: number }> {
  const marker = `${t.file}.complete`;
  const cached = await stat(t.file).then((s) => s.size, () => 0);
  if (cursor && cursor.printed < cached) cursor.printed += await copyCached(t.file, cursor.printed, cached, cursor.sink);
  if (await exists(marker)) return { size: cached, fetched: 0 };
  let fh: FileHandle | undefined;
  let position = cached;
  try {
    await (await t.backend()).readLog(t.record, t.index, t.attempt, t.stream, cached, async (chunk) => {
      if (!fh) {
        await mkdir(dirname(t.file), { recursive: true });
        // positional writes, not O_APPEND: two `pilot logs` fetching at once write the same bytes at the same place
        fh = await open(t.file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      }
      await fh.write(chunk, 0, chunk.length, position);
      position += chunk.length;
      onFetched?.(chunk.length);
      if (cursor?.printed === position - chunk.length) {
        await cursor.sink(chunk);
        cursor.printed = position;
      }
    });
  } finally {
    await fh?.close();
  }
  if (final) {
    await mkdir(dirname(t.file), { recursive: true });
    await writeFile(marker, '');
  }
  return { size: position, fetched: position - cached };
}

/** Calls `fn` with the cache file open for reading (an absent file reads as empty). */
async function withCache<T>(file: string, fn: (read: (position: number, length: number) => Promise<Buffer>) => Promise<T>, empty: T): Promise<T> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty;
    throw err;
  }
  try {
    return await fn(async (position, length) => {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    });
  } finally {
    await fh.close();
  }
}

/** Streams bytes [start, end) of the cache into `sink`. */
export function copyCached(file: string, start: number, end: number, sink: ChunkSink): Promise<number> {
  return withCache(file, (read) => chunkedRead(read, start, end, sink, { depth: 2 }), 0);
}

/** Bytes [0, size) of the cache, as one buffer (for the string API; the caller bounds `size`). */
export function readCached(file: string, size: number): Promise<Buffer> {
  return withCache(file, async (read) => {
    const parts: Buffer[] = [];
    await chunkedRead(read, 0, size, (c) => { parts.push(c); }, { chunkSize: 1024 * 1024, depth: 1 });
    return Buffer.concat(parts);
  }, Buffer.alloc(0));
}

/**
 * Where the last `lines` lines of the first `size` bytes of the cache start, found by reading backwards one
 * block at a time. A final newline ends the last line; it does not start an empty one.
 */
export function tailStart(file: string, size: number, lines: number): Promise<number> {
  if (lines === 0) return Promise.resolve(size);
  return withCache(file, async (read) => {
    let end = size;
    if (end > 0 && (await read(end - 1, 1))[0] === 0x0a) end--;
    let seen = 0;
    while (end > 0) {
      const from = Math.max(0, end - BLOCK);
      const block = await read(from, end - from);
      for (let i = block.length - 1; i >= 0; i--) {
        if (block[i] === 0x0a && ++seen === lines) return from + i + 1;
      }
      end = from;
    }
    return 0;
  }, 0);
}

/**
 * A sink writing to a Writable, each write awaited so memory stays bounded. The stream's 'error' event (EPIPE
 * when the reader went away) rejects the pending write instead of crashing the process; `release` detaches.
 */
function writableSink(to: NodeJS.WritableStream): { sink: ChunkSink; release: () => void } {
  let failed: Error | undefined;
  let pending: ((err: Error) => void) | undefined;
  const onError = (err: Error) => {
    failed ??= err;
    pending?.(err);
  };
  to.on('error', onError);
  return {
    sink: (chunk) => new Promise<void>((resolve, reject) => {
      if (failed) return reject(failed);
      pending = reject;
      to.write(chunk, (err?: Error | null) => {
        pending = undefined;
        if (err) reject(err);
        else resolve();
      });
    }),
    release: () => { to.removeListener('error', onError); },
  };
}

export interface FollowOptions {
  /** True once the task's attempt is over (asked every `statusEveryMs`). */
  isOver: () => Promise<boolean>;
  statusEveryMs: number;
  /** Pause when a fetch found nothing new. */
  pollMs: number;
  signal?: AbortSignal;
  onFetched?: (bytes: number) => void;
}

/**
 * Prints new bytes until the attempt is over. The log is fetched again at once while it grows (a fast writer
 * is never left behind by a fixed poll interval); the state is asked alongside, and once it is final one
 * last fetch takes what was written before the end.
 */
export async function followLog(t: LogTarget, cursor: LogCursor, options: FollowOptions): Promise<void> {
  let nextStatus = 0;
  for (;;) {
    if (options.signal?.aborted) return;
    const due = Date.now() >= nextStatus;
    if (due) nextStatus = Date.now() + options.statusEveryMs;
    const [over, { fetched }] = await Promise.all([due ? options.isOver() : false, syncLog(t, false, cursor, options.onFetched)]);
    if (over) {
      await syncLog(t, true, cursor, options.onFetched);
      return;
    }
    if (!fetched) await sleep(options.pollMs, options.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A task's attempt writes no more once its final state is stored, or once a later attempt ran it. */
export function attemptOver(record: JobRecord, index: number, attempt: number): boolean {
  return record.finalStates[index]?.attempt === attempt || (latestArrayFor(record, index)?.attempt ?? 1) > attempt;
}

/**
 * The whole log as a string (the `logs()` API), fetched into the cache first. A log over `maxBytes` (at
 * most the longest string V8 can make: utf8 never needs more characters than bytes) is refused before it
 * is read into memory.
 */
export async function logText(t: LogTarget, maxBytes = DEFAULT_MAX_STRING_BYTES): Promise<string> {
  const { size } = await syncLog(t, attemptOver(t.record, t.index, t.attempt));
  const limit = Math.min(maxBytes, bufferConstants.MAX_STRING_LENGTH);
  if (size > limit) throw tooLarge(`${t.record.name}/${t.index}`, t.stream === 'out' ? 'stdout' : 'stderr', size, limit);
  return (await readCached(t.file, size)).toString('utf8');
}

/**
 * The `streamLog()` API: the log (or its last `tail` lines) into `options.to`, then, with `follow`, new bytes
 * until `isOver()`. Returns the bytes written.
 */
export async function streamTaskLog(t: LogTarget, options: StreamLogOptions, local: boolean, isOver: () => Promise<boolean>): Promise<number> {
  const over = attemptOver(t.record, t.index, t.attempt);
  const out = writableSink(options.to);
  const progress = { fetched: 0, written: 0 };
  const onFetched = (n: number) => { progress.fetched += n; options.onProgress?.({ ...progress }); };
  const sink: ChunkSink = async (chunk) => {
    await out.sink(chunk);
    progress.written += chunk.length;
    options.onProgress?.({ ...progress });
  };
  try {
    let cursor: LogCursor = { sink, printed: 0 };
    if (options.tail !== undefined) {
      const { size } = await syncLog(t, over, undefined, onFetched);
      cursor = { sink, printed: await tailStart(t.file, size, options.tail) };
    }
    await syncLog(t, over, cursor, onFetched);
    if (options.follow && !over) {
      await followLog(t, cursor, {
        isOver,
        // asking the local backend costs a few file reads, asking Slurm a round trip and a sacct query
        statusEveryMs: options.statusEveryMs ?? (local ? 250 : 1000),
        pollMs: options.pollMs ?? (local ? 100 : 250),
        signal: options.signal,
        onFetched,
      });
    }
    return progress.written;
  } finally {
    out.release();
  }
}

function tooLarge(ref: string, stream: 'stdout' | 'stderr', size: number, maxBytes: number): PilotError {
  return new PilotError('TOO_LARGE', `the ${stream} of ${ref} is ${size} bytes, more than logs() returns as a string (maxBytes ${maxBytes})`, {
    hint: `stream it instead: pilot.streamLog('${ref}', { stream: '${stream}', to: someWritable }), or \`pilot logs ${ref}${stream === 'stderr' ? ' --stderr' : ''} > FILE\``,
  });
}
