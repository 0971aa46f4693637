/**
 * Who answers a login's questions (key passphrase, one-time password, password), in this order:
 * the SDK's `prompt` callback; `$PILOT_ASKPASS` (and `$SSH_ASKPASS` when `SSH_ASKPASS_REQUIRE=force`, as
 * OpenSSH does); the terminal; `$SSH_ASKPASS` when there is no terminal. With none of them the login fails
 * at once with a clear error: waiting for an answer nobody can give would hang a script for ever.
 */
import { PilotError } from '../model/errors.js';
import type { PromptRequest, Prompter } from './types.js';

/** The one function a login calls to ask; undefined when nobody can answer. */
export function chooseAsker(callback: Prompter | undefined, env: NodeJS.ProcessEnv = process.env): Prompter | undefined {
  if (callback) return callback;
  if (env.PILOT_ASKPASS) return askpass(env.PILOT_ASKPASS);
  if (env.SSH_ASKPASS && env.SSH_ASKPASS_REQUIRE === 'force') return askpass(env.SSH_ASKPASS);
  if (process.stdin.isTTY && process.stderr.isTTY) return askTerminal;
  if (env.SSH_ASKPASS && env.SSH_ASKPASS_REQUIRE !== 'never') return askpass(env.SSH_ASKPASS);
  return undefined;
}

/** The error for a login that needs an answer when nobody can give one. */
export function cannotAsk(request: PromptRequest): PilotError {
  return new PilotError('SSH', `the login to ${request.hop} asks "${request.message.trim()}" (${request.kind}), but there is no terminal to ask on`, {
    hint: 'run the command in a terminal, set PILOT_ASKPASS to a program that prints the answer (its argument is the question), ' +
      'or pass `prompt` to new SlurmWrapper({ prompt }). For a key passphrase, an ssh-agent avoids the question.',
  });
}

/** Runs an askpass program (argument: the question) and takes its first output line as the answer. */
function askpass(program: string): Prompter {
  return async (request) => {
    const { execFile } = await import('node:child_process');
    return new Promise((resolve, reject) => {
      execFile(program, [request.message], { timeout: 5 * 60_000, maxBuffer: 64 * 1024 }, (err, stdout) => {
        if (err) {
          reject(new PilotError('SSH', `the askpass program ${program} failed for "${request.message.trim()}": ${err.message}`, {
            hint: 'PILOT_ASKPASS (or SSH_ASKPASS) must name a program that prints the answer and exits 0', cause: err,
          }));
        } else {
          resolve(stdout.replace(/\r?\n$/, ''));
        }
      });
    });
  };
}

/** Asks on the terminal (stderr), reading the answer without echo when it is a secret. */
async function askTerminal(request: PromptRequest): Promise<string> {
  const { stdin, stderr } = process;
  return new Promise((resolve, reject) => {
    let answer = '';
    const wasRaw = stdin.isRaw;
    // echo off BEFORE the question shows: an answer typed (or pasted) at once must not appear on the screen
    stdin.setRawMode?.(true);
    stdin.resume();
    stderr.write(request.message.endsWith(' ') ? request.message : `${request.message} `);
    const done = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(wasRaw);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new PilotError('SSH', `login to ${request.hop} cancelled`, { hint: 'run the command again when ready' }));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else {
          answer += ch;
          if (request.echo) stderr.write(ch);
        }
      }
    };
    stdin.on('data', onData);
  });
}
