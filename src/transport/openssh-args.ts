/**
 * The pure half of the OpenSSH transport: which `ssh` argument lists it runs, how it answers prompts, the one
 * remote command that reads a file and how its answer is parsed, and how OpenSSH's stderr becomes a PilotError.
 * Kept apart from the process handling so all of it is unit-tested without an ssh binary.
 */
import { createHash } from 'node:crypto';
import { PilotError } from '../model/errors.js';
import { quote, shScript } from '../util/quote.js';
import type { FileKindStats } from './chunked-read.js';
import { trustCommand } from './host-trust.js';
import type { HostKeyPolicy } from '../model/cluster.js';
import type { HopInfo, PromptRequest } from './types.js';

/** How the system client names a host: the arguments (-p, -i, -F, -o ...) and the destination. */
export interface OpenSshTarget {
  destination: string;
  args: string[];
  /** The StrictHostKeyChecking the cluster resolved to (config.yaml or `ssh -G`); decides whether ssh may ask. */
  hostKeyPolicy?: HostKeyPolicy;
}

/** How prompts during login are answered: our socket, the user's askpass program, the terminal, or nobody. */
export type PromptMode =
  | { kind: 'callback' }
  | { kind: 'askpass'; program: string; require: 'force' | 'prefer' }
  | { kind: 'tty' }
  | { kind: 'batch' };

/** Picks the prompt mode in the order ConnectContext documents: callback, $PILOT_ASKPASS, $SSH_ASKPASS, terminal, none. */
export function promptMode(hasCallback: boolean, env: NodeJS.ProcessEnv, hasTty: boolean): PromptMode {
  if (hasCallback) return { kind: 'callback' };
  if (env.PILOT_ASKPASS) return { kind: 'askpass', program: env.PILOT_ASKPASS, require: 'force' };
  // the user's own SSH_ASKPASS: OpenSSH ignores it without $DISPLAY unless asked to prefer it
  if (env.SSH_ASKPASS) return { kind: 'askpass', program: env.SSH_ASKPASS, require: env.SSH_ASKPASS_REQUIRE === 'force' ? 'force' : 'prefer' };
  if (hasTty) return { kind: 'tty' };
  return { kind: 'batch' };
}

/** The socket name of a target's master: one per (destination, args), so a different key or host file gets its own. */
export function controlName(target: OpenSshTarget): string {
  return createHash('sha256').update(JSON.stringify([target.destination, ...target.args])).digest('hex').slice(0, 16);
}

/** `user@host[:port]` for messages and prompts: the destination with the port of `-p`, when given. */
export function describeTarget(target: OpenSshTarget): string {
  const i = target.args.lastIndexOf('-p');
  const port = i >= 0 ? target.args[i + 1] : undefined;
  return port ? `${target.destination}:${port}` : target.destination;
}

// Options given before the user's: OpenSSH keeps the FIRST value it reads, so these win over both the user's
// arguments and their config files. The ControlPath must be ours (private folder, short enough for a socket);
// a RemoteCommand or RequestTTY of their config would replace our commands or mangle bytes through a pty,
// their forwardings and LocalCommand are for their interactive sessions, not for pilot's master.
function leading(controlPath: string): string[] {
  return ['-o', `ControlPath=${controlPath}`, ...SESSION];
}
const SESSION = ['-o', 'RequestTTY=no', '-o', 'RemoteCommand=none', '-o', 'ClearAllForwardings=yes', '-o', 'PermitLocalCommand=no'];

// Defaults given after the user's arguments, so an explicit `-o ConnectTimeout=...` of theirs is kept: a dead
// network is noticed by the master within ~30 s, and a connection attempt does not wait for ever.
const DEFAULTS = ['-o', 'ConnectTimeout=20', '-o', 'ServerAliveInterval=10', '-o', 'ServerAliveCountMax=3'];

/**
 * Starts the master (or reuses one another process started meanwhile) and leaves it in the background.
 * `logFile`: `-v -E file`, for test-ssh (the debug lines name the host key and the login method; -E because a
 * backgrounded master with -v keeps stderr open, and our pipe with it, for its whole life).
 */
export function masterArgs(target: OpenSshTarget, controlPath: string, mode: PromptMode, persistSeconds: number, logFile?: string): string[] {
  return [
    ...leading(controlPath), ...strictHostKeys(target, mode), '-o', 'ControlMaster=auto', '-o', `ControlPersist=${persistSeconds}`,
    ...(mode.kind === 'batch' ? ['-o', 'BatchMode=yes'] : []),
    ...(logFile ? ['-v', '-E', logFile] : []),
    ...target.args, ...DEFAULTS, target.destination, '--', 'true',
  ];
}

/**
 * A host key is accepted at a terminal, where ssh itself shows the fingerprint and the user types yes, or by
 * `pilot trust`; never through an askpass program (the user's own SSH_ASKPASS would get ssh's "continue
 * connecting (yes/no)?" and could answer yes blindly). Our bridge refuses those questions itself (keeping the
 * fingerprint for the error); an askpass handed to ssh itself gets strict checking (connectOpenSsh runs the
 * user's SSH_ASKPASS through the bridge as well, so this is the guard for other callers). Given before the user's
 * arguments and config: OpenSSH keeps the first value it reads. accept-new is the user's explicit choice.
 */
function strictHostKeys(target: OpenSshTarget, mode: PromptMode): string[] {
  return mode.kind === 'askpass' && target.hostKeyPolicy !== 'accept-new' ? ['-o', 'StrictHostKeyChecking=yes'] : [];
}

/**
 * One command through the master. BatchMode: nothing here may ever ask anything. ProxyCommand=false: if the
 * master is gone, ssh would quietly open (and authenticate) a connection of its own; this makes it fail at
 * once instead (the caller then notices the lost master). Skipped with `-J`, which OpenSSH refuses to combine.
 */
export function execArgs(target: OpenSshTarget, controlPath: string, command: string): string[] {
  const noFallback = target.args.includes('-J') ? [] : ['-o', 'ProxyCommand=false'];
  return [
    ...leading(controlPath), '-o', 'ControlMaster=no', '-o', 'BatchMode=yes', ...noFallback,
    ...target.args, target.destination, '--', command,
  ];
}

/** `ssh -O check|exit`: asks the master (never the network) whether it runs, or to stop. */
export function controlArgs(target: OpenSshTarget, controlPath: string, op: 'check' | 'exit'): string[] {
  return ['-O', op, '-o', `ControlPath=${controlPath}`, ...target.args, target.destination];
}

/** The pid in `Master running (pid=1234)`, the answer of `ssh -O check`. */
export function parseMasterPid(stderr: string): number | undefined {
  const m = /Master running \(pid=(\d+)\)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** Environment of the master's ssh: how it asks its questions. */
export function promptEnv(mode: PromptMode, base: NodeJS.ProcessEnv, ourAskpass?: { program: string; socket: string; token: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  if (mode.kind === 'callback' && ourAskpass) {
    Object.assign(env, { SSH_ASKPASS: ourAskpass.program, SSH_ASKPASS_REQUIRE: 'force', PILOT_ASKPASS_SOCKET: ourAskpass.socket, PILOT_ASKPASS_TOKEN: ourAskpass.token });
  } else if (mode.kind === 'askpass') {
    Object.assign(env, { SSH_ASKPASS: mode.program, SSH_ASKPASS_REQUIRE: mode.require });
  } else {
    delete env.SSH_ASKPASS_REQUIRE;
  }
  return env;
}

/** What OpenSSH asks, as a PromptRequest: its wording tells a key passphrase from a password or a server question. */
export function promptRequest(message: string, hop: string): PromptRequest {
  const kind = /passphrase/i.test(message) ? 'passphrase' : /password/i.test(message) ? 'password' : 'keyboard-interactive';
  return { kind, message: message.trim(), echo: false, hop };
}

/** ssh's exit status when it (not the remote command) failed. */
export const SSH_FAILED = 255;

/** What connectOpenSsh learnt besides ssh's stderr: the fingerprint of a refused host-key question, the cluster's name. */
export interface ConnectFailure {
  fingerprint?: string;
  /** The host of that question (`[host]:port`), which may be a jump host. */
  host?: string;
  clusterName?: string;
}

const FINGERPRINT = /SHA256:[A-Za-z0-9+/]{43}/g;

/**
 * A failed login: a refused host key is HOST_KEY, anything else SSH; both quote OpenSSH's own words (its last
 * lines, debug lines left out). The fingerprints are searched in ALL of stderr: for a changed key, ssh prints
 * the new one in the middle of its banner, far from the last lines.
 */
export function connectError(target: OpenSshTarget, stderr: string, mode: PromptMode, found: ConnectFailure = {}): PilotError {
  const name = describeTarget(target);
  const lines = stderr.replace(/\r/g, '').split('\n').map((l) => l.trim()).filter((l) => l && !/^(debug\d:|OpenSSH_\S+ )/.test(l));
  const said = lines.slice(-6).join(' / ') || 'no message';
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|host key for .* has changed|Host key verification failed|No \S+ host key is known|revoked/i.test(stderr)) {
    const changed = /HAS CHANGED|has changed/i.test(stderr);
    const revoked = !changed && /revoked/i.test(stderr);
    const prints = [...new Set([...(found.fingerprint ? [found.fingerprint] : []), ...(lines.join('\n').match(FINGERPRINT) ?? [])])];
    const key = prints.length ? ` (host key ${prints.join(', ')})` : '';
    const trust = `\`${trustCommand(found.clusterName)}\``;
    const head = changed ? `the host key of ${name}${key} does NOT match known_hosts`
      : revoked ? `the host key of ${name}${key} is marked @revoked in known_hosts`
        : `${found.host ? `${name}: ${found.host}` : name} is not a known host${key}`;
    return new PilotError('HOST_KEY', `${head}: refusing to connect (OpenSSH: ${said})`, {
      hint: changed
        ? 'someone may be intercepting the connection, or the host was reinstalled. Check the new fingerprint with your cluster admins; ' +
          `only then remove the old line from known_hosts (ssh-keygen -R HOST) and run ${trust}. pilot never replaces a key itself.`
        : revoked ? 'the cluster admins revoked this key; ask them for the current one'
          : `compare the fingerprint with the one your cluster documents, then run ${trust} (it shows the fingerprint and asks before writing to known_hosts)`,
    });
  }
  const noPrompt = mode.kind === 'batch' && /Permission denied|passphrase|password/i.test(stderr)
    ? ' No prompt could be shown (no terminal, no PILOT_ASKPASS or SSH_ASKPASS, no prompt callback).'
    : '';
  return new PilotError('SSH', `cannot connect to ${name} with the system ssh client: ${said}`, {
    hint: `check the host, port, user and key (\`ssh ${quote(target.destination)}\` by hand shows the same error); \`pilot test-ssh CLUSTER\` tries the connection alone.${noPrompt}`,
  });
}

/**
 * The hops of a `ssh -v` login (test-ssh): each `Authenticating to HOST:PORT as 'USER'` starts one, its
 * `Server host key:` is the key that was verified, and the key the server accepted (`Server accepts key:`)
 * or the method of `Authenticated ... using "..."` is how it logged in; keyboard-interactive is added when
 * the server asked for it after the key (two factors).
 */
export function parseVerbose(text: string): HopInfo[] {
  const hops: HopInfo[] = [];
  for (const block of text.replace(/\r/g, '').split(/^(?=debug1: Authenticating to )/m)) {
    const to = /^debug1: Authenticating to (.+):(\d+) as '([^']*)'/.exec(block);
    const hostKey = /Server host key: \S+ (SHA256:\S+)/.exec(block)?.[1];
    const done = /Authenticated to .* using "([^"]+)"/.exec(block);
    if (!to || !hostKey || !done) continue;
    const key = /Server accepts key: (\S+)/.exec(block)?.[1];
    const methods = [...block.matchAll(/Authenticated using "([^"]+)" with partial success/g)].map((m) => m[1]!);
    const all = [...methods, done[1]!].map((m) => (m === 'publickey' ? `key${key ? ` ${key}` : ''}` : m));
    hops.push({ hop: `${to[3]}@${to[1]}:${to[2]}`, hostKey, auth: [...new Set(all)].join(', ') });
  }
  return hops;
}

/**
 * The one remote command of readStream: the type is checked without opening the file (a FIFO would block
 * the open, a link could point anywhere), then the size is printed on a header line and the bytes from
 * `start` to that size follow. dd opens with O_NOFOLLOW|O_NONBLOCK and stops at the size, so a file swapped
 * between the check and the open neither blocks nor streams for ever; fullblock: a short read (network file
 * systems) is continued, not counted as a block, so no byte before the size is left out. Header: `N` missing, `K <letter>` not a
 * regular file, `F <size>` then the bytes.
 */
export function readScript(path: string, start: number): string {
  const p = quote(path);
  return shScript([
    `p=${p}`,
    'if [ -L "$p" ]; then echo "K l"; exit 0; fi',
    'if [ ! -e "$p" ]; then echo N; exit 0; fi',
    'if [ ! -f "$p" ]; then k=o; [ -p "$p" ] && k=p; [ -c "$p" ] && k=c; [ -b "$p" ] && k=b; [ -S "$p" ] && k=s; [ -d "$p" ] && k=d; echo "K $k"; exit 0; fi',
    's=$(stat -c %s -- "$p") || exit 1',
    `n=$((s - ${start})); [ "$n" -gt 0 ] || n=0`,
    'echo "F $s"',
    `[ "$n" -gt 0 ] || exit 0`,
    `exec dd if="$p" iflag=nofollow,nonblock,skip_bytes,count_bytes,fullblock skip=${start} count="$n" bs=131072 status=none`,
  ].join('\n'));
}

export type ReadHeader = { kind: 'missing' } | { kind: 'other'; letter: string } | { kind: 'file'; size: number };

export function parseReadHeader(line: string): ReadHeader {
  if (line === 'N') return { kind: 'missing' };
  const m = /^([KF]) (\S+)$/.exec(line);
  if (m?.[1] === 'K') return { kind: 'other', letter: m[2]! };
  if (m?.[1] === 'F' && /^\d+$/.test(m[2]!)) return { kind: 'file', size: Number(m[2]) };
  throw new PilotError('REMOTE', `unexpected answer while reading a file: ${JSON.stringify(line.slice(0, 200))}`, { hint: 'the remote shell printed something of its own (a login script?); pilot needs a quiet `sh -c`' });
}

/** The letter of the remote `test` as the stats assertRegularFile reads, so both transports refuse with the same words. */
export function kindStats(letter: string): FileKindStats {
  return {
    isFile: () => false,
    isSymbolicLink: () => letter === 'l',
    isFIFO: () => letter === 'p',
    isCharacterDevice: () => letter === 'c',
    isBlockDevice: () => letter === 'b',
    isSocket: () => letter === 's',
    isDirectory: () => letter === 'd',
  };
}

/**
 * Splits the stream of readStream: bytes up to the first newline are the header, the rest is the file.
 * Returns a function fed with stdout chunks; it calls `onHeader` once and `onData` with the file's bytes.
 */
export function headerSplitter(onHeader: (line: string) => void, onData: (chunk: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer | undefined = Buffer.alloc(0);
  return (chunk) => {
    if (!pending) return onData(chunk);
    const joined = Buffer.concat([pending, chunk]);
    const nl = joined.indexOf(0x0a);
    if (nl < 0) {
      if (joined.length > 4096) throw new PilotError('REMOTE', 'no header line in the answer of a file read', { hint: 'the remote shell printed something of its own' });
      pending = joined;
      return;
    }
    pending = undefined;
    onHeader(joined.subarray(0, nl).toString('utf8'));
    if (joined.length > nl + 1) onData(joined.subarray(nl + 1));
  };
}

/** `cat > path` run by sh whatever the login shell is: the upload command of put. */
export function putCommand(path: string): string {
  return shScript(`cat > ${quote(path)}`);
}
