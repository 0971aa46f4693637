/**
 * The ssh2 transport: ONE authenticated connection carries every exec channel and the SFTP session of a call,
 * so a 2FA user is prompted at most once and N tasks cost the same round trips as one.
 * Host keys are verified strictly against known_hosts: an unknown or changed key refuses the connection.
 */
import { readFile } from 'node:fs/promises';
import type { Client, ConnectConfig, SFTPWrapper, Stats } from 'ssh2';
import { PilotError } from '../model/errors.js';
import { assertRegularFile, chunkedRead } from './chunked-read.js';
import { checkHostKey, knownHostName, knownKeyTypes, parseKnownHosts } from './known-hosts.js';
import type { SshRoute } from '../model/cluster.js';
import { emptyStats, type ConnectContext, type ExecOptions, type ExecResult, type ReadStreamOptions, type Transport, type TransportStats } from './types.js';


// known_hosts names a key type; the algorithms ssh2 negotiates for it.
const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const DEFAULT_HOST_KEY_ORDER = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];

async function readOptional(path: string, what: string, hint: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new PilotError('SSH', `cannot read ${what} ${path}: ${(cause as Error).message}`, { hint, cause });
  }
}

export async function connectSsh(route: SshRoute, _context: ConnectContext = {}): Promise<SshTransport> {
  const { Client } = await import('ssh2');
  const hop = route.target;
  const target = { host: hop.host, port: hop.port, user: hop.user, identityFile: hop.identityFiles[0], knownHosts: hop.knownHostsFiles[0]!, readyTimeout: hop.connectTimeoutMs };
  const knownText = await readOptional(target.knownHosts, 'known_hosts file', 'set knownHosts in the cluster config to a file that holds the host key (ssh-keyscan -p PORT HOST >> FILE, after checking the fingerprint)');
  const entries = parseKnownHosts(knownText.toString('utf8'));
  const known = knownKeyTypes(entries, target.host, target.port);
  const preferred = known.flatMap((t) => HOST_KEY_ALGORITHMS[t] ?? [t]);
  const serverHostKey = [...new Set([...preferred, ...DEFAULT_HOST_KEY_ORDER])];

  let verdict: ReturnType<typeof checkHostKey> | undefined;
  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    readyTimeout: target.readyTimeout ?? 20_000,
    // a connection that silently died (VPN dropped, server gone) is noticed within ~30 s, so nothing waits for ever
    keepaliveInterval: 10_000,
    keepaliveCountMax: 3,
    algorithms: { serverHostKey: serverHostKey as never },
    hostVerifier: (key: Buffer) => {
      verdict = checkHostKey(entries, target.host, target.port, key);
      return verdict === 'trusted';
    },
  };
  if (target.identityFile) {
    config.privateKey = await readOptional(target.identityFile, 'identity file', 'set identityFile in the cluster config to your private key');
  } else if (process.env.SSH_AUTH_SOCK) {
    config.agent = process.env.SSH_AUTH_SOCK;
  }

  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (err) => {
      const name = knownHostName(target.host, target.port);
      if (verdict === 'mismatch' || verdict === 'revoked') {
        reject(new PilotError('HOST_KEY', `host key for ${name} does NOT match ${target.knownHosts}${verdict === 'revoked' ? ' (key is revoked)' : ''}: refusing to connect`, {
          hint: 'someone may be intercepting the connection, or the host was reinstalled. Check the fingerprint with your cluster admins before editing known_hosts.',
          cause: err,
        }));
      } else if (verdict === 'unknown') {
        reject(new PilotError('HOST_KEY', `host ${name} is not in ${target.knownHosts}: refusing to connect (strict host-key checking)`, {
          hint: `add its key after checking the fingerprint, e.g. ssh-keyscan -p ${target.port} ${target.host} >> ${target.knownHosts}`,
          cause: err,
        }));
      } else {
        reject(new PilotError('SSH', `cannot connect to ${target.user}@${target.host}:${target.port}: ${err.message}`, {
          hint: 'check host, port, user and identityFile in the cluster config; `pilot test-ssh CLUSTER` tries the connection alone',
          cause: err,
        }));
      }
    });
    client.connect(config);
    // Nagle's algorithm would hold every small request until the previous one is acknowledged (~40-80 ms per
    // round trip on a submit); pilot's traffic is small requests and answers
    client.setNoDelay(true);
  });
  return new SshTransport(client, `${target.user}@${target.host}:${target.port}`);
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

export class SshTransport implements Transport {
  readonly stats: TransportStats = emptyStats();
  private sftpSession?: Promise<SFTPWrapper>;
  /** Set once the connection is gone; every pending and later call fails with it instead of hanging. */
  private lost?: PilotError;
  private readonly onLost = new Set<(err: PilotError) => void>();

  constructor(private readonly client: Client, private readonly label = 'the cluster') {
    const drop = (why?: Error) => {
      if (this.lost) return;
      this.lost = new PilotError('SSH', `the connection to ${label} was lost${why?.message ? `: ${why.message}` : ''}`, {
        hint: 'check the network (VPN) and that the cluster\'s ssh server runs; `pilot test-ssh CLUSTER` tries the connection alone',
        cause: why,
      });
      for (const fail of this.onLost) fail(this.lost);
      this.onLost.clear();
    };
    client.on('error', drop);
    client.on('close', () => drop());
    client.on('end', () => drop());
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
  }

  /** Cuts the connection at once, as a network failure would (tests use it to drop a launch mid-way). */
  destroy(): void {
    this.client.destroy();
  }
}

const SFTP_NO_SUCH_FILE = 2;

function sftpError(what: string, path: string, err: Error): PilotError {
  return new PilotError('REMOTE', `SFTP ${what} of ${path} failed: ${err.message}`, { cause: err });
}
