/**
 * The ssh2 transport: ONE authenticated connection carries every exec channel and the SFTP session of a
 * command, so a 2FA user is prompted at most once and N tasks cost the same round trips as one. It is opened
 * by connect.ts (jump hosts, host keys, login); this module only uses it.
 */
import type { Client, SFTPWrapper, Stats } from 'ssh2';
import { PilotError } from '../model/errors.js';
import { assertRegularFile, chunkedRead } from './chunked-read.js';
import { emptyStats, type ExecOptions, type ExecResult, type HopInfo, type ReadStreamOptions, type Transport, type TransportStats } from './types.js';

export { connectSsh } from './connect.js';


export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

export class SshTransport implements Transport {
  readonly stats: TransportStats;
  readonly hops: readonly HopInfo[];
  private readonly jumps: Client[];
  private sftpSession?: Promise<SFTPWrapper>;
  /** Set once the connection is gone; every pending and later call fails with it instead of hanging. */
  private lost?: PilotError;
  private readonly onLost = new Set<(err: PilotError) => void>();

  constructor(private readonly client: Client, private readonly label = 'the cluster',
    extra: { stats?: TransportStats; jumps?: Client[]; hops?: HopInfo[] } = {}) {
    this.stats = extra.stats ?? emptyStats();
    this.jumps = extra.jumps ?? [];
    this.hops = extra.hops ?? [];
    const drop = (why?: Error) => {
      if (this.lost) return;
      this.lost = new PilotError('SSH', `the connection to ${label} was lost${why?.message ? `: ${why.message}` : ''}`, {
        hint: 'check the network (VPN) and that the cluster\'s ssh server runs; `pilot test-ssh CLUSTER` tries the connection alone',
        cause: why,
      });
      for (const fail of this.onLost) fail(this.lost);
      this.onLost.clear();
    };
    // a jump host going away takes the tunnel, and so this connection, with it
    for (const c of [client, ...this.jumps]) {
      c.on('error', drop);
      c.on('close', () => drop());
      c.on('end', () => drop());
    }
  }

  get closed(): boolean {
    return this.lost !== undefined;
  }

  /** Runs `op` unless the connection is gone; rejects as soon as it goes, whatever `op` is waiting for. */
  private guard<T>(op: (reject: (err: PilotError) => void) => Promise<T>): Promise<T> {
    if (this.lost) return Promise.reject(this.lost);
    let fail!: (err: PilotError) => void;
    const lost = new Promise<never>((_, reject) => { fail = reject; });
    this.onLost.add(fail);
    return Promise.race([op(fail), lost]).finally(() => this.onLost.delete(fail));
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.stats.commands++;
    const what = options.what ?? 'remote command';
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return this.guard((fail) => new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) return reject(this.lost ?? new PilotError('REMOTE', `cannot start ${what}: ${err.message}`, { cause: err }));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        const timer = timeoutMs > 0 ? setTimeout(() => {
          stream.close();
          fail(new PilotError('REMOTE', `${what} on ${this.label} did not finish within ${Math.round(timeoutMs / 1000)} s`, {
            hint: 'the cluster (or its scheduler) is slow or not answering; try again later. Nothing was retried.',
          }));
        }, timeoutMs) : undefined;
        stream.on('data', (d: Buffer) => {
          if (options.keepStdout !== false) out.push(d);
          this.stats.bytesDown += d.length;
          options.onStdout?.(d);
        });
        stream.stderr.on('data', (d: Buffer) => {
          errs.push(d);
          this.stats.bytesDown += d.length;
        });
        stream.on('close', (code: number | null, signal?: string) => {
          clearTimeout(timer);
          // no exit status at all: the channel died with the connection, not with the command
          if (code === null || code === undefined) {
            if (!signal) return reject(this.lost ?? new PilotError('SSH', `${what}: the connection to ${this.label} closed before the command finished`, { hint: 'check the network and try again' }));
          }
          resolve({
            code: code ?? 128,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errs).toString('utf8'),
          });
        });
        if (options.stdin !== undefined) {
          const data = typeof options.stdin === 'string' ? Buffer.from(options.stdin) : options.stdin;
          this.stats.bytesUp += data.length;
          stream.end(data);
        } else {
          stream.end();
        }
      });
    }));
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((resolve, reject) => {
      this.client.sftp((err, sftp) => (err ? reject(new PilotError('SSH', `cannot open SFTP: ${err.message}`, { hint: 'the server needs an sftp subsystem (Subsystem sftp internal-sftp)', cause: err })) : resolve(sftp)));
    });
    return this.sftpSession;
  }

  async put(localPathOrData: string | Buffer, remotePath: string): Promise<void> {
    return this.guard(() => this.putUnguarded(localPathOrData, remotePath));
  }

  private async putUnguarded(localPathOrData: string | Buffer, remotePath: string): Promise<void> {
    const sftp = await this.sftp();
    this.stats.uploads++;
    if (typeof localPathOrData === 'string') {
      const { stat } = await import('node:fs/promises');
      this.stats.bytesUp += (await stat(localPathOrData)).size;
      await new Promise<void>((resolve, reject) =>
        sftp.fastPut(localPathOrData, remotePath, (err) => (err ? reject(sftpError('upload', remotePath, err)) : resolve())));
    } else {
      this.stats.bytesUp += localPathOrData.length;
      await new Promise<void>((resolve, reject) =>
        sftp.writeFile(remotePath, localPathOrData, (err) => (err ? reject(sftpError('write', remotePath, err)) : resolve())));
    }
  }

  readStream(remotePath: string, options: ReadStreamOptions): Promise<number | null> {
    return this.guard(() => this.readStreamUnguarded(remotePath, options));
  }

  private async readStreamUnguarded(remotePath: string, options: ReadStreamOptions): Promise<number | null> {
    const sftp = await this.sftp();
    const call = <T>(what: string, fn: (cb: (err: Error | undefined, value: T) => void) => void) =>
      new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(sftpError(what, remotePath, err)) : resolve(value))));
    // lstat BEFORE open: opening a FIFO blocks the (single-threaded) sftp-server until a writer comes
    const before = await new Promise<Stats | null>((resolve, reject) => sftp.lstat(remotePath, (err, s) => {
      if (!err) resolve(s);
      else if ((err as Error & { code?: number }).code === SFTP_NO_SUCH_FILE) resolve(null);
      else reject(sftpError('lstat', remotePath, err));
    }));
    if (!before) return null;
    assertRegularFile(remotePath, before, ' on the cluster');
    const handle = await call<Buffer>('open', (cb) => sftp.open(remotePath, 'r', cb));
    try {
      // and fstat the handle: the name may have been swapped between lstat and open
      const opened = await call<Stats>('fstat', (cb) => sftp.fstat(handle, cb));
      assertRegularFile(remotePath, opened, ' on the cluster');
      const read = (position: number, length: number) => call<Buffer>('read', (cb) =>
        sftp.read(handle, Buffer.allocUnsafe(length), 0, length, position, (err, n, data) => cb(err, err ? Buffer.alloc(0) : data.subarray(0, n))));
      return await chunkedRead(read, options.start, opened.size ?? 0, (chunk) => {
        this.stats.bytesDown += chunk.length;
        return options.onChunk(chunk);
      });
    } finally {
      await call<void>('close', (cb) => sftp.close(handle, (err) => cb(err ?? undefined, undefined))).catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.client.end();
    for (const c of this.jumps) c.end();
  }

  /** Cuts the connection at once, as a network failure would (tests use it to drop a launch mid-way). */
  destroy(): void {
    this.client.destroy();
    for (const c of this.jumps) c.destroy();
  }
}

const SFTP_NO_SUCH_FILE = 2;

function sftpError(what: string, path: string, err: Error): PilotError {
  return new PilotError('REMOTE', `SFTP ${what} of ${path} failed: ${err.message}`, { cause: err });
}
