/**
 * What the OpenSSH transport keeps on this machine: a private folder for the master sockets, and the askpass
 * bridge that lets OpenSSH's login questions reach the SDK's prompt callback.
 */
import { randomBytes, createHash } from 'node:crypto';
import { chmod, lstat, mkdir, rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PilotError } from '../model/errors.js';
import { quote } from '../util/quote.js';
import { promptRequest } from './openssh-args.js';
import type { Prompter } from './types.js';

/**
 * `<tmp>/pilot-cm-<uid>`, mode 700 and ours, or an error. Unix socket paths are limited to ~104 bytes, so a long
 * $TMPDIR (macOS: /var/folders/...) gives way to /tmp; the socket names inside are 16 characters.
 */
export async function controlDir(base = tmpdir()): Promise<string> {
  const root = base.length > 60 ? '/tmp' : base;
  const uid = process.getuid?.() ?? 0;
  const dir = join(root, `pilot-cm-${uid}`);
  await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw new PilotError('SSH', `cannot create ${dir} for the ssh master sockets: ${err.message}`, { cause: err });
  });
  const s = await lstat(dir);
  // another user could have made it first (in a shared /tmp) to read or replace our sockets
  if (!s.isDirectory() || s.uid !== uid) {
    throw new PilotError('SSH', `${dir} is not a folder of yours: refusing to keep ssh master sockets there`, { hint: `remove it, or set TMPDIR to a private folder` });
  }
  if ((s.mode & 0o077) !== 0) await chmod(dir, 0o700);
  return dir;
}

/** The askpass script of this package (bin/ sits next to src/ and dist/). */
const ASKPASS_JS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'pilot-askpass.js');

/**
 * A tiny sh wrapper in the private folder that runs bin/pilot-askpass.js with this very node: SSH_ASKPASS
 * takes a program without arguments, and neither `node` on the PATH nor the script's execute bit (npm packs
 * files 644) can be relied on. Named by its content, so two installs of pilot do not overwrite each other's.
 */
export async function askpassProgram(dir: string): Promise<string> {
  const text = `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(ASKPASS_JS)} "$@"\n`;
  const file = join(dir, `askpass-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o700 });
  await rename(tmp, file);
  return file;
}

export interface AskpassBridge {
  socket: string;
  token: string;
  /** Questions answered so far (host-key questions are not: nobody is asked them). */
  readonly asked: number;
  /** The `SHA256:` fingerprint of the last host-key question ssh put (refused: see hostKeyQuestion). */
  readonly hostKeyFingerprint?: string;
  /** The host that question was about (`[host]:port`): a jump host's shows which hop is unknown. */
  readonly hostKeyHost?: string;
  close(): Promise<void>;
}

/** OpenSSH's questions about an unknown host key (asked first, then again on an answer it does not take). */
export function hostKeyQuestion(message: string): boolean {
  return /authenticity of host|continue connecting|Please type 'yes'/i.test(message);
}

/**
 * Listens on a fresh socket in the private folder; each connection is one question of OpenSSH, answered with
 * `prompt`. The token (passed to ssh in its environment only) makes sure the asker is the ssh we started.
 */
export async function startAskpassBridge(dir: string, prompt: Prompter, hop: string): Promise<AskpassBridge> {
  const socket = join(dir, `a-${randomBytes(6).toString('hex')}`);
  const token = randomBytes(16).toString('hex');
  let asked = 0;
  let fingerprint: string | undefined;
  let host: string | undefined;
  const server: Server = createServer((conn) => {
    let text = '';
    conn.setEncoding('utf8');
    conn.on('error', () => {});
    conn.on('data', (d: string) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      let question: { token?: string; message?: string; hint?: string };
      try {
        question = JSON.parse(text.slice(0, nl)) as typeof question;
      } catch {
        return conn.destroy();
      }
      if (question.token !== token) return conn.destroy();
      // `none` is a notice ("confirm user presence"), not a question: nothing to answer
      if (question.hint === 'none') return conn.end(JSON.stringify({ answer: '' }));
      // "continue connecting (yes/no/[fingerprint])?": a login prompt must never be the place where a host key
      // is accepted (an askpass printing `yes` would write it to known_hosts, and anything else makes ssh ask
      // again for ever). `no` ends the login; the error then shows the fingerprint and points to `pilot trust`.
      if (hostKeyQuestion(question.message ?? '')) {
        fingerprint = /SHA256:[A-Za-z0-9+/=]+/.exec(question.message ?? '')?.[0] ?? fingerprint;
        host = /authenticity of host '(\S+)/.exec(question.message ?? '')?.[1] ?? host;
        return conn.end(JSON.stringify({ answer: 'no' }));
      }
      asked++;
      const request = { ...promptRequest(question.message ?? '', hop), echo: question.hint === 'confirm' };
      prompt(request).then(
        (answer) => conn.end(JSON.stringify({ answer })),
        (err: unknown) => conn.end(JSON.stringify({ error: err instanceof Error ? err.message : 'cancelled' })),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new PilotError('SSH', `cannot listen on ${socket} for login prompts: ${err.message}`, { cause: err })));
    server.listen(socket, () => resolve());
  });
  await chmod(socket, 0o600);
  return {
    socket,
    token,
    get asked() { return asked; },
    get hostKeyFingerprint() { return fingerprint; },
    get hostKeyHost() { return host; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
