// Log reading in bounded memory: the pipelined chunk reader, the regular-file check of local reads, the
// local cache (positional writes, cursor, .complete marker), tail from the end of the cache, and --follow.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { streamTaskLog, syncLog, tailStart, type LogTarget } from '../../src/engine/logs.js';
import { isPilotError } from '../../src/model/errors.js';
import type { Backend } from '../../src/scheduler/backend.js';
import type { JobRecord } from '../../src/model/record.js';
import { chunkedRead, readLocalFile, type ChunkSink } from '../../src/transport/chunked-read.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pilot-logs-unit-'));

describe('chunkedRead', () => {
  it('delivers [start, end) in order with at most `depth` reads in flight', async () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    let inFlight = 0;
    let most = 0;
    const read = async (pos: number, len: number) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, Math.random() * 5));   // answers come back out of order
      inFlight--;
      return data.subarray(pos, pos + len);
    };
    const got: Buffer[] = [];
    const n = await chunkedRead(read, 10, 1000, (c) => { got.push(c); }, { chunkSize: 64, depth: 4 });
    expect(n).toBe(990);
    expect(Buffer.concat(got).equals(data.subarray(10))).toBe(true);
    expect(most).toBeLessThanOrEqual(4);
  });

  it('continues a short read where it stopped and ends early when the file shrank', async () => {
    const data = Buffer.from('abcdefghijklmnopqrstuvwxyz');
    const short = async (pos: number, len: number) => data.subarray(pos, pos + Math.min(len, 3));
    const got: Buffer[] = [];
    await chunkedRead(short, 0, data.length, (c) => { got.push(c); }, { chunkSize: 8, depth: 3 });
    expect(Buffer.concat(got).toString()).toBe(data.toString());
    const shrunk = async (pos: number, len: number) => data.subarray(pos, Math.min(pos + len, 10));
    expect(await chunkedRead(shrunk, 0, 26, () => {}, { chunkSize: 4 })).toBe(10);
  });

  it('passes read errors on, and waits for the consumer before reading far ahead', async () => {
    const fail = async (pos: number) => { if (pos >= 8) throw new Error('boom'); return Buffer.alloc(4); };
    await expect(chunkedRead(fail, 0, 64, () => {}, { chunkSize: 4, depth: 4 })).rejects.toThrow('boom');
    // a slow consumer holds the reader back: never more than depth × chunkSize read ahead of it
    let requested = 0;
    let consumed = 0;
    let ahead = 0;
    const counting = async (pos: number, len: number) => { requested = Math.max(requested, pos + len); return Buffer.alloc(len); };
    await chunkedRead(counting, 0, 200 * 1024, async (c) => {
      ahead = Math.max(ahead, requested - consumed);
      await new Promise((r) => setImmediate(r));
      consumed += c.length;
    }, { chunkSize: 1024, depth: 4 });
    expect(consumed).toBe(200 * 1024);
    expect(ahead).toBeLessThanOrEqual(4 * 1024);
  });
});

describe('readLocalFile', () => {
  const collect = async (path: string, start = 0) => {
    const parts: Buffer[] = [];
    const n = await readLocalFile(path, start, (c) => { parts.push(c); });
    return n === null ? null : Buffer.concat(parts).toString();
  };
  const refusal = async (path: string) => {
    const t0 = Date.now();
    const err = await readLocalFile(path, 0, () => {}).then(() => undefined, (e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(isPilotError(err) && err.code).toBe('NOT_A_FILE');
    return (err as Error).message;
  };

  it('reads a regular file from an offset; a missing one is null', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.out'), 'hello world\n');
    expect(await collect(join(dir, 'a.out'), 6)).toBe('world\n');
    expect(await collect(join(dir, 'missing.out'))).toBeNull();
  });

  it('refuses a FIFO, a link to /dev/zero, a device, a socket and a directory at once, naming the file', async () => {
    const dir = tmp();
    execFileSync('mkfifo', [join(dir, 'fifo.out')]);
    symlinkSync('/dev/zero', join(dir, 'zero.out'));
    writeFileSync(join(dir, 'real.out'), 'x');
    symlinkSync(join(dir, 'real.out'), join(dir, 'link.out'));
    expect(await refusal(join(dir, 'fifo.out'))).toMatch(/fifo\.out: it is a FIFO/);
    expect(await refusal(join(dir, 'zero.out'))).toMatch(/zero\.out: it is a symbolic link/);
    expect(await refusal(join(dir, 'link.out'))).toMatch(/symbolic link/);
    expect(await refusal('/dev/zero')).toMatch(/character device/);
    expect(await refusal(dir)).toMatch(/directory/);
    const server = createServer().listen(join(dir, 'sock.out'));
    await new Promise((r) => server.once('listening', r));
    expect(await refusal(join(dir, 'sock.out'))).toMatch(/socket/);
    server.close();
  });
});

describe('tailStart', () => {
  // the old string implementation, as the reference
  const tailLines = (text: string, n: number) => {
    const lines = text.split('\n');
    const trailing = lines[lines.length - 1] === '' ? 1 : 0;
    return lines.slice(Math.max(0, lines.length - trailing - n)).join('\n');
  };

  it('finds the last N lines, reading backwards across blocks', async () => {
    const dir = tmp();
    const cases = ['', '\n', '\n\n', 'a', 'a\n', 'a\nb\nc\n', 'a\nb\nc', 'x\n\n\ny\n', 'a'.repeat(200_000) + '\nb\n' + 'c'.repeat(70_000)];
    for (let i = 0; i < 30; i++) cases.push(Array.from({ length: 1 + (i * 7919) % 97 }, (_, j) => (j % 5 === 0 ? '' : 'l'.repeat((j * 31) % 50_000))).join('\n'));
    for (const [k, text] of cases.entries()) {
      const file = join(dir, `t${k}`);
      writeFileSync(file, text);
      for (const n of [0, 1, 2, 3, 10, 1000]) {
        const start = await tailStart(file, Buffer.byteLength(text), n);
        expect(Buffer.from(text).subarray(start).toString(), `case ${k}, n=${n}`).toBe(tailLines(text, n));
      }
    }
  });
});

/** A backend whose one log is an in-memory buffer that the test grows. */
function fakeTarget(dir: string, log: { data: Buffer; reads: number }): LogTarget {
  const backend = {
    async readLog(_r: JobRecord, _t: number, _a: number, _s: string, offset: number, onChunk: ChunkSink) {
      log.reads++;
      if (!log.data.length) return null;
      return chunkedRead(async (p, l) => log.data.subarray(p, p + l), offset, log.data.length, onChunk, { chunkSize: 3 });
    },
  } as unknown as Backend;
  const record = { name: 'j', finalStates: {}, attempts: [{ attempt: 1, indices: '1', arrays: [{ jobId: '1', offset: 0 }] }], chunkSize: 10 } as unknown as JobRecord;
  return { backend: async () => backend, record, index: 1, attempt: 1, stream: 'out', file: join(dir, 'logs', '1.attempt1.out') };
}

function memoryWritable() {
  const parts: Buffer[] = [];
  const w = new Writable({ highWaterMark: 4, write(chunk, _enc, cb) { parts.push(chunk); setImmediate(cb); } });
  return { w, text: () => Buffer.concat(parts).toString() };
}

describe('the local log cache', () => {
  it('fetches only new bytes, prints through the cursor, and stops asking once complete', async () => {
    const dir = tmp();
    const log = { data: Buffer.from('one\ntwo\n'), reads: 0 };
    const t = fakeTarget(dir, log);
    const printed: string[] = [];
    const cursor = { sink: (c: Buffer) => { printed.push(c.toString()); }, printed: 0 };
    expect(await syncLog(t, false, cursor)).toEqual({ size: 8, fetched: 8 });
    log.data = Buffer.from('one\ntwo\nthree\n');
    expect(await syncLog(t, true, cursor)).toEqual({ size: 14, fetched: 6 });
    expect(printed.join('')).toBe('one\ntwo\nthree\n');
    expect(readFileSync(t.file, 'utf8')).toBe('one\ntwo\nthree\n');
    expect(existsSync(`${t.file}.complete`)).toBe(true);
    const before = log.reads;
    expect(await syncLog(t, false)).toEqual({ size: 14, fetched: 0 });
    expect(log.reads).toBe(before);
  });

  it('prints cached bytes another reader fetched before the new ones', async () => {
    const dir = tmp();
    const log = { data: Buffer.from('abcdef'), reads: 0 };
    const t = fakeTarget(dir, log);
    await syncLog(t, false);                           // "another pilot logs" filled the cache
    log.data = Buffer.from('abcdefghi');
    const printed: string[] = [];
    await syncLog(t, false, { sink: (c) => { printed.push(c.toString()); }, printed: 2 });
    expect(printed.join('')).toBe('cdefghi');
  });

  it('streams the tail, then follows a growing log until the attempt is over', async () => {
    const dir = tmp();
    const log = { data: Buffer.from('1\n2\n3\n'), reads: 0 };
    const t = fakeTarget(dir, log);
    const out = memoryWritable();
    let checks = 0;
    let n = 3;
    const bytes = await streamTaskLog(t, { to: out.w, tail: 2, follow: true, pollMs: 1, statusEveryMs: 0 }, true, async () => {
      // the task writes a line between two state checks, and ends after line 50
      if (n < 50) log.data = Buffer.concat([log.data, Buffer.from(`${++n}\n`)]);
      return ++checks > 60;
    });
    const expected = Array.from({ length: 49 }, (_, i) => `${i + 2}\n`).join('');
    expect(out.text()).toBe(expected);
    expect(bytes).toBe(expected.length);
    expect(existsSync(`${t.file}.complete`)).toBe(true);
  });
});
