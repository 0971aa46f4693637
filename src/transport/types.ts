/**
 * A transport moves bytes and runs commands on one machine. It knows nothing about Slurm.
 * Every implementation counts what it does, so tests and benchmarks can check that the number of remote
 * round trips does not grow with the number of tasks.
 */
import type { ReadStreamOptions } from './chunked-read.js';

export type { ReadStreamOptions } from './chunked-read.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Bytes written to the command's standard input, then closed. */
  stdin?: string | Buffer;
  /** Called with stdout chunks as they arrive. */
  onStdout?: (chunk: Buffer) => void;
  /** false: stdout is only streamed to onStdout, not kept (large downloads). Default true. */
  keepStdout?: boolean;
  /**
   * Give up after this long: the channel is closed and the call fails with an error naming `what`.
   * Default 60 s; 0 = no limit (streams whose length cannot be known in advance).
   */
  timeoutMs?: number;
  /** What the command does, for error messages ("status query", "sbatch"). */
  what?: string;
}

export interface TransportStats {
  /** Remote commands run (exec calls). */
  commands: number;
  /** Files written (put calls). */
  uploads: number;
  /** Bytes sent: put contents + exec stdin. */
  bytesUp: number;
  /** Bytes received: exec stdout/stderr + readStream contents. */
  bytesDown: number;
  /** Questions asked while connecting (key passphrase, one-time password...): a 2FA user sees this many. */
  prompts: number;
}

export interface Transport {
  /** Runs a shell command line (interpreted by the remote login shell, usually bash). */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Writes a file, creating nothing but the file itself (the folder must exist). */
  put(localPathOrData: string | Buffer, remotePath: string): Promise<void>;
  /**
   * Streams a regular file from byte `start` to its size when opened (bytes appended later are left for the
   * next call) into `onChunk`, in bounded memory. Returns the bytes delivered; null when the file does not
   * exist. Throws a PilotError (NOT_A_FILE) for a FIFO, device, socket or symbolic link, before opening it.
   */
  readStream(remotePath: string, options: ReadStreamOptions): Promise<number | null>;
  readonly stats: TransportStats;
  /** true once the connection is gone (dropped or closed): a new one must be made */
  readonly closed?: boolean;
  /** How the connection was made, when the transport knows. */
  readonly hops?: readonly HopInfo[];
  close(): Promise<void>;
}

export function emptyStats(): TransportStats {
  return { commands: 0, uploads: 0, bytesUp: 0, bytesDown: 0, prompts: 0 };
}

/** A question the login needs answered by the user (or a script standing in for them). */
export interface PromptRequest {
  /** passphrase: of a key file; keyboard-interactive: what the server asks (one-time password...); password. */
  kind: 'passphrase' | 'keyboard-interactive' | 'password';
  /** The text to show, as the server or OpenSSH would word it. */
  message: string;
  /** false: the answer is a secret (not echoed). */
  echo: boolean;
  /** `user@host:port` being logged in to. */
  hop: string;
}

/** Answers a prompt; rejecting aborts the login. */
export type Prompter = (request: PromptRequest) => Promise<string>;

/** What a transport needs from its caller while connecting. */
export interface ConnectContext {
  /** Answers login prompts; without it: $PILOT_ASKPASS / $SSH_ASKPASS, else the terminal, else a clear error. */
  prompt?: Prompter;
  /** Asked about a host that is in no known_hosts file; true appends its key to the hop's first known_hosts. */
  confirmHostKey?: (question: HostKeyQuestion) => Promise<boolean>;
  /** Told what the connection did on the user's behalf (a host key recorded under accept-new). */
  notice?: (message: string) => void;
  /** Collect what each hop did (host key, login method) for `transport.hops` (`pilot test-ssh`). */
  inspect?: boolean;
  /** The cluster's name in pilot, for the fixes errors suggest (`pilot trust NAME`). */
  clusterName?: string;
  /**
   * Login prompts wait for it; when it rejects, the login is abandoned with its error. A launch connects while
   * it validates the job, and bad input must never cost a one-time password.
   */
  promptsAfter?: Promise<unknown>;
}

export interface HostKeyQuestion {
  /** `user@host:port` */
  hop: string;
  /** The name looked up in known_hosts (`[host]:port` or the HostKeyAlias). */
  name: string;
  keyType: string;
  /** `SHA256:…` */
  fingerprint: string;
  /** Where the key will be appended. */
  file: string;
}

/** What a connection found on its way, hop by hop (jump hosts first), for `pilot test-ssh`. */
export interface HopInfo {
  hop: string;
  /** `SHA256:…` of the host key that was verified */
  hostKey: string;
  /** The login method that was accepted ("agent", "key ~/.ssh/id_ed25519, keyboard-interactive"). */
  auth: string;
  /** Milliseconds from the start of this hop to logged in (ssh2; the system client does not tell). */
  ms?: number;
}
