/**
 * The OpenSSH transport: the system `ssh` client, so everything the user's ssh does (their config, agent,
 * ProxyJump, GSSAPI, FIDO keys, 2FA) works as in their terminal. ONE master connection (ControlMaster) per
 * host carries every command: login happens once per ControlPersist window (10 min by default), shared by
 * every pilot process of the user, and each command after it costs a local fork, not an authentication.
 * close() leaves the master running for the next command; stopMaster() ends it.
 */
import { spawn } from 'node:child_process';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isatty } from 'node:tty';
import { PilotError } from '../model/errors.js';
import { processAlive } from '../util/process.js';
import { assertRegularFile } from './chunked-read.js';
import {
  connectError, controlArgs, controlName, describeTarget, execArgs, headerSplitter, kindStats, masterArgs, parseMasterPid,
  parseReadHeader, parseVerbose, promptEnv, promptMode, putCommand, readScript, SSH_FAILED, type OpenSshTarget, type ReadHeader,
} from './openssh-args.js';
import { askpassProgram, controlDir, startAskpassBridge } from './openssh-local.js';
import { chooseAsker } from './prompt.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from './ssh.js';
import { emptyStats, type ConnectContext, type HopInfo, type ExecOptions, type ExecResult, type ReadStreamOptions, type Transport, type TransportStats } from './types.js';

export interface OpenSshOptions {
  /** How long an idle master stays up, seconds. Default $PILOT_CONTROL_PERSIST, else 600. */
  persistSeconds?: number;
  /** Where the master sockets live (tests). Default <tmp>/pilot-cm-<uid>. */
  controlDir?: string;
}

interface RunOptions {
  args: string[];
  env?: NodeJS.ProcessEnv;
  stdin?: Buffer | NodeJS.ReadableStream;
  /** May return a promise: stdout is paused until it settles (bounded memory); a rejection kills ssh. */
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  keepStdout?: boolean;
  timeoutMs?: number;
  onTimeout?: () => PilotError;
  onBytes?: (n: number) => void;
  /**
   * Settle soon after ssh exits even if its pipes stay open: a ProxyJump's ssh started by a master run with -v
   * keeps our stderr for the master's whole life.
   */
  settleOnExit?: boolean;
}

/** Runs the ssh client once. Rejects only if it cannot start, times out or onStdout fails; exit codes are returned. */
function runSsh(o: RunOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', o.args, { env: o.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const errs: Buffer[] = [];
    let failed: Error | undefined;
    // chunks go to onStdout one at a time, in order. Pausing stdout is the backpressure, but it cannot be the
    // ordering: node resumes a child's paused stdio when the child exits (flushStdio), and a mux client exits
    // while the master still writes into the pipe it handed over. `inflight` is the queue's tail.
    let inflight: Promise<void> = Promise.resolve();
    let queued = 0;
    // a mux client hands its pipes to the master, so they stay open until the remote command ends whatever
    // happens to the client: a failure settles at once and cuts our ends (the master then drops the session)
    const fail = (err: Error) => {
      if (failed) return;
      failed = err;
      clearTimeout(timer);
      child.kill('SIGTERM');
      for (const s of [child.stdin, child.stdout, child.stderr]) s.destroy();
      reject(err);
    };
    const timer = o.timeoutMs ? setTimeout(() => fail(o.onTimeout!()), o.timeoutMs) : undefined;
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT'
        ? new PilotError('SSH', 'the ssh client was not found on the PATH (transport: openssh)', { hint: 'install OpenSSH (openssh-client), or use transport: ssh2 for this cluster', cause: err })
        : new PilotError('SSH', `cannot run ssh: ${err.message}`, { cause: err }));
    });
    child.stdout.on('data', (d: Buffer) => {
      o.onBytes?.(d.length);
      if (o.keepStdout !== false) out.push(d);
      if (!o.onStdout) return;
      queued++;
      child.stdout.pause();
      inflight = inflight
        .then(async () => { if (!failed) await o.onStdout!(d); })
        .then(() => { if (--queued === 0 && !failed) child.stdout.resume(); }, (err: Error) => fail(err));
    });
    child.stderr.on('data', (d: Buffer) => {
      o.onBytes?.(d.length);
      errs.push(d);
    });
    if (o.settleOnExit) {
      child.on('exit', () => {
        setTimeout(() => { for (const s of [child.stdout, child.stderr]) s.destroy(); }, 500).unref();
      });
    }
    child.stdin.on('error', () => {}); // ssh gone before reading everything: its exit status says why
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failed) return;
      void inflight.then(() => failed ? reject(failed) : resolve({ code: code ?? (signal ? 128 : SSH_FAILED), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errs).toString('utf8') }));
    });
    if (o.stdin && !Buffer.isBuffer(o.stdin)) o.stdin.pipe(child.stdin);
    else child.stdin.end(o.stdin);
  });
}

function persistSeconds(options: OpenSshOptions): number {
  const env = Number(process.env.PILOT_CONTROL_PERSIST);
  return options.persistSeconds ?? (Number.isInteger(env) && env > 0 ? env : 600);
}

/** Reuses the target's master if one runs (no login at all), else starts one, answering prompts as the context says. */
export async function connectOpenSsh(target: OpenSshTarget, context: ConnectContext = {}, options: OpenSshOptions = {}): Promise<OpenSshTransport> {
  const dir = await controlDir(options.controlDir);
  const controlPath = join(dir, controlName(target));
  const transport = new OpenSshTransport(target, controlPath);
  if (await transport.masterPid() !== undefined) return transport;

  // $PILOT_ASKPASS is run through the bridge as well, so its questions are counted like the callback's (--verbose)
  const own = context.prompt ?? (process.env.PILOT_ASKPASS ? chooseAsker(undefined, process.env) : undefined);
  let mode = promptMode(own !== undefined, process.env, isatty(0));
  // the user's own $SSH_ASKPASS too: handed to ssh, it would get the host-key questions of jump hosts (the
  // ProxyJump's ssh gets none of our -o options), and an askpass printing `yes` would accept them blindly
  const prompt = own ?? (mode.kind === 'askpass' ? chooseAsker(undefined, { PILOT_ASKPASS: mode.program }) : undefined);
  if (mode.kind === 'askpass') mode = { kind: 'callback' };
  const bridge = mode.kind === 'callback' ? await startAskpassBridge(dir, prompt!, describeTarget(target)) : undefined;
  const logDir = context.inspect ? await mkdtemp(join(tmpdir(), 'pilot-sshv-')) : undefined;
  const logFile = logDir && join(logDir, 'log');
  try {
    const env = promptEnv(mode, process.env, bridge && { program: await askpassProgram(dir), socket: bridge.socket, token: bridge.token });
    // without any way to answer, BatchMode makes ssh fail at once; ConnectTimeout bounds the rest, this is a last guard
    const r = await runSsh({
      args: masterArgs(target, controlPath, mode, persistSeconds(options), logFile), env, settleOnExit: true,
      timeoutMs: mode.kind === 'batch' ? 90_000 : 0,
      onTimeout: () => new PilotError('SSH', `connecting to ${describeTarget(target)} with the system ssh client did not finish within 90 s`, { hint: 'check the network (VPN) and the host name' }),
    });
    // -E sends the target's lines to the file; a ProxyJump's own ssh (given -v, not -E) writes to stderr
    const log = logFile ? await readFile(logFile, 'utf8').catch(() => '') : '';
    if (r.code !== 0) throw connectError(target, `${r.stderr}\n${log}`, mode, { fingerprint: bridge?.hostKeyFingerprint, host: bridge?.hostKeyHost, clusterName: context.clusterName });
    if (logFile) transport.hops = [...parseVerbose(r.stderr), ...parseVerbose(log)];
  } finally {
    transport.stats.prompts += bridge?.asked ?? 0;
    await bridge?.close();
    // the master keeps writing to its (now unlinked) log until it ends: only our private folder is removed
    if (logDir) await rm(logDir, { recursive: true, force: true });
  }
  if (await transport.masterPid() === undefined) {
    throw new PilotError('SSH', `logged in to ${describeTarget(target)}, but no ssh master is listening on ${controlPath}`, {
      hint: 'a ControlPath/ControlMaster setting of your own may be in the way; transport: ssh2 does without a master',
    });
  }
  return transport;
}

export class OpenSshTransport implements Transport {
  readonly stats: TransportStats = emptyStats();
  /** What each hop did, when the connection was made with `inspect` (test-ssh). */
  hops?: HopInfo[];
  private readonly label: string;
  private pid?: number;
  private lost?: PilotError;
  private ended = false;

  constructor(private readonly target: OpenSshTarget, readonly controlPath: string) {
    this.label = describeTarget(target);
  }

  /** The master's pid (asking the master itself, never the network); undefined when none runs. */
  async masterPid(): Promise<number | undefined> {
    const r = await runSsh({ args: controlArgs(this.target, this.controlPath, 'check') });
    this.pid = r.code === 0 ? parseMasterPid(r.stderr) : undefined;
    return this.pid;
  }

  /** true once the master is gone (killed, its network dropped: ServerAlive ends it) or close() was called. */
  get closed(): boolean {
    if (this.ended || this.lost) return true;
    // the master is a local process: whether it lives is known without a round trip (no argv check: the
    // master renames itself `ssh: <path> [mux]`; a reused pid only delays the notice to the next command)
    if (this.pid !== undefined && !processAlive(this.pid)) this.markLost();
    return this.lost !== undefined;
  }

  private markLost(why = ''): PilotError {
    this.lost ??= new PilotError('SSH', `the connection to ${this.label} was lost${why ? `: ${why}` : ''}`, {
      hint: 'check the network (VPN) and that the cluster\'s ssh server runs; `pilot test-ssh CLUSTER` tries the connection alone',
    });
    return this.lost;
  }

  private usable(): void {
    if (this.ended) throw new PilotError('SSH', `the connection to ${this.label} was closed`, { hint: 'connect again' });
    if (this.closed) throw this.lost!;
  }

  /**
   * Runs one command through the master. Exit 255 is ssh's own failure or the command's status: asking the
   * master tells them apart (no master: the connection is lost, and the engine reconnects).
   */
  private async run(command: string, o: Omit<RunOptions, 'args' | 'onBytes'>): Promise<ExecResult> {
    this.usable();
    const r = await runSsh({ ...o, args: execArgs(this.target, this.controlPath, command), onBytes: (n) => { this.stats.bytesDown += n; } });
    if (r.code !== SSH_FAILED) return r;
    if (await this.masterPid() === undefined) throw this.markLost(r.stderr.replace(/\r/g, '').trim().split('\n').pop());
    // every command is a session of the one connection: sshd's MaxSessions (10 by default) caps them
    if (/session request failed|Session open refused/i.test(r.stderr)) {
      throw new PilotError('REMOTE', `${this.label} refused one more session on the connection: ${r.stderr.trim()}`, {
        hint: 'the server limits commands running at once on one connection (sshd MaxSessions); try again',
      });
    }
    return r;
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.stats.commands++;
    const what = options.what ?? 'remote command';
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const stdin = options.stdin === undefined ? undefined : Buffer.from(options.stdin);
    this.stats.bytesUp += stdin?.length ?? 0;
    return this.run(command, {
      stdin, keepStdout: options.keepStdout, timeoutMs,
      onStdout: options.onStdout && ((d) => { options.onStdout!(d); }),
      onTimeout: () => new PilotError('REMOTE', `${what} on ${this.label} did not finish within ${Math.round(timeoutMs / 1000)} s`, {
        hint: 'the cluster (or its scheduler) is slow or not answering; try again later. Nothing was retried.',
      }),
    });
  }

  async put(localPathOrData: string | Buffer, remotePath: string): Promise<void> {
    this.usable();
    this.stats.uploads++;
    let file: ReadStream | undefined;
    if (typeof localPathOrData === 'string') {
      file = createReadStream(localPathOrData);
      await new Promise<void>((resolve, reject) => file!.once('open', () => resolve()).once('error', reject));
      file.on('data', (d) => { this.stats.bytesUp += d.length; });
    } else {
      this.stats.bytesUp += localPathOrData.length;
    }
    // ssh may stop reading early (a failure): the file is closed whatever happens
    const r = await this.run(putCommand(remotePath), { stdin: file ?? (localPathOrData as Buffer) }).finally(() => file?.destroy());
    if (r.code !== 0) throw new PilotError('REMOTE', `upload of ${remotePath} to ${this.label} failed (exit ${r.code}): ${r.stderr.trim()}`, { hint: 'the remote folder must exist and be writable' });
  }

  async readStream(remotePath: string, options: ReadStreamOptions): Promise<number | null> {
    let header: ReadHeader | undefined;
    let delivered = 0;
    let pending: void | Promise<void>;
    const split = headerSplitter((line) => {
      header = parseReadHeader(line);
      if (header.kind === 'other') assertRegularFile(remotePath, kindStats(header.letter), ' on the cluster');
    }, (data) => {
      delivered += data.length;
      pending = options.onChunk(data);
    });
    const r = await this.run(readScript(remotePath, options.start), {
      keepStdout: false,
      onStdout: (chunk) => {
        pending = undefined;
        split(chunk);
        return pending;
      },
    });
    if (r.code === 0 && header?.kind === 'missing') return null;
    if (r.code === 0 && header?.kind === 'file') return delivered;
    if (/symbolic links/i.test(r.stderr)) assertRegularFile(remotePath, kindStats('l'), ' on the cluster');
    throw new PilotError('REMOTE', `reading ${remotePath} on ${this.label} failed (exit ${r.code}): ${r.stderr.trim() || 'no message'}`, {
      hint: 'pilot reads files with sh, stat and dd (GNU coreutils) on the cluster',
    });
  }

  /** Leaves the master running: the next pilot command within ControlPersist logs in without asking anything. */
  async close(): Promise<void> {
    this.ended = true;
  }

  /** Ends the master (`ssh -O exit`): tests, and users who want to log out now. */
  async stopMaster(): Promise<void> {
    this.ended = true;
    await runSsh({ args: controlArgs(this.target, this.controlPath, 'exit') });
  }
}
