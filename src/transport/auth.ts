/**
 * Logging in the way OpenSSH does, as an ssh2 authHandler: the agent's keys, then the key files (a
 * passphrase asked once per process), then keyboard-interactive (one-time passwords: the server's prompts
 * shown as sent), then a password, each only when the server offers it and the user's config allows it.
 * What was offered and tried is kept, so a refusal can say exactly that.
 */
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AnyAuthMethod, AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import { describeHop, type SshHop } from '../model/cluster.js';
import { PilotError } from '../model/errors.js';
import type { PromptRequest } from './types.js';

type Ask = (request: PromptRequest) => Promise<string>;
type Candidate = { method: 'publickey' | 'keyboard-interactive' | 'password'; label: string; make: () => Promise<AnyAuthMethod | undefined> };

/** OpenSSH's default identities, tried when the config names none. */
const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk'];

/** Keys decrypted in this process, so a reconnect does not ask for the passphrase again. */
const decrypted = new Map<string, ParsedKey>();

export interface Login {
  handler: AuthHandlerMiddleware;
  /** Methods the server offered at its last answer. */
  offered(): string[];
  /** What was tried, in order ("agent", "key ~/.ssh/id_ed25519", "keyboard-interactive"). */
  tried(): string[];
  /** Once logged in: the methods the server accepted (a key, then keyboard-interactive when both were required). */
  accepted(): string[];
}

/**
 * The login of one hop. `ask` answers prompts (it may throw when nobody can); `fail` ends the connection
 * attempt with an error that is better than ssh2's "All configured authentication methods failed".
 */
export function planLogin(hop: SshHop, ask: Ask, fail: (err: Error) => void): Login {
  const username = hop.user;
  const where = describeHop(hop);
  let offered: string[] = [];
  const tried: string[] = [];
  const usedKeys: Buffer[] = [];
  const candidates: Candidate[] = [];

  const agentSock = hop.identityAgent === 'none' ? undefined
    : hop.identityAgent && hop.identityAgent !== 'SSH_AUTH_SOCK' ? hop.identityAgent : process.env.SSH_AUTH_SOCK;
  const files = hop.identityFiles.length ? hop.identityFiles : DEFAULT_IDENTITIES.map((f) => join(homedir(), '.ssh', f));

  if (hop.pubkeyAuthentication) {
    if (agentSock) candidates.push({ method: 'publickey', label: 'agent', make: () => agentLogin(agentSock, hop.identitiesOnly ? files : undefined, usedKeys, username) });
    for (const file of files) {
      candidates.push({ method: 'publickey', label: `key ${file}`, make: () => keyLogin(file, usedKeys, username, where, ask) });
    }
  }
  if (hop.kbdInteractiveAuthentication) {
    candidates.push({
      method: 'keyboard-interactive', label: 'keyboard-interactive', make: async () => ({
        type: 'keyboard-interactive', username,
        prompt: (name, instructions, _lang, prompts, finish) => {
          const intro = [name, instructions].filter((s) => s && s.trim()).join('\n');
          (async () => {
            const answers: string[] = [];
            for (const [i, p] of prompts.entries()) {
              answers.push(await ask({ kind: 'keyboard-interactive', message: (i === 0 && intro ? `${intro}\n` : '') + p.prompt, echo: p.echo === true, hop: where }));
            }
            return answers;
          })().then(finish, fail);
        },
      }),
    });
  }
  if (hop.passwordAuthentication) {
    candidates.push({
      method: 'password', label: 'password',
      make: async () => ({ type: 'password', username, password: await ask({ kind: 'password', message: `${username}@${hop.host}'s password:`, echo: false, hop: where }) }),
    });
  }

  const partial: string[] = [];
  const handler: AuthHandlerMiddleware = (methodsLeft, partialSuccess, next) => {
    // the first call (no methods known yet) asks the server which methods it offers
    if (!methodsLeft) return next({ type: 'none', username });
    // partial success: the method just tried was accepted, and the server wants another one as well
    if (partialSuccess && tried.length) partial.push(tried.at(-1)!);
    offered = methodsLeft;
    (async () => {
      while (candidates.length) {
        const c = candidates.shift()!;
        if (!methodsLeft.includes(c.method)) continue;
        const method = await c.make();
        if (!method) continue;
        tried.push(c.label);
        return method;
      }
      return false as const;
    })().then((m) => next(m as AnyAuthMethod), fail);
  };
  return { handler, offered: () => offered, tried: () => tried, accepted: () => [...new Set([...partial, ...tried.slice(-1)])] };
}

async function agentLogin(sock: string, onlyFiles: string[] | undefined, usedKeys: Buffer[], username: string): Promise<AnyAuthMethod | undefined> {
  // a stale SSH_AUTH_SOCK (agent gone) is skipped quietly, as OpenSSH does
  if (!(await stat(sock).then((s) => s.isSocket(), () => false))) return undefined;
  const { OpenSSHAgent } = (await import('ssh2')).default;
  // IdentitiesOnly: only the agent's keys that match a configured identity (its .pub, or the key itself)
  const allowed = onlyFiles ? (await Promise.all(onlyFiles.map(publicBlob))).filter((b): b is Buffer => !!b) : undefined;
  if (allowed && !allowed.length) return undefined;
  const agent = new OpenSSHAgent(sock);
  // asked here, not by ssh2, so an agent with no usable key is skipped instead of being reported as tried
  const keys = await new Promise<ParsedKey[]>((resolve) => agent.getIdentities((err, k) => resolve(err ? [] : (k ?? []) as ParsedKey[])));
  const usable = keys.filter((k) => !allowed || allowed.some((b) => b.equals(k.getPublicSSH())));
  if (!usable.length) return undefined;
  usedKeys.push(...usable.map((k) => k.getPublicSSH()));
  agent.getIdentities = (cb) => cb(null, usable);
  return { type: 'agent', username, agent };
}

async function publicBlob(file: string): Promise<Buffer | undefined> {
  const { utils } = (await import('ssh2')).default;
  for (const [path, pass] of [[`${file}.pub`, undefined], [file, undefined]] as const) {
    const text = await readFile(path).catch(() => undefined);
    if (!text) continue;
    const k = utils.parseKey(text, pass);
    const key = Array.isArray(k) ? k[0] : k;
    if (key && !(key instanceof Error)) return key.getPublicSSH();
  }
  return undefined;
}

async function keyLogin(file: string, usedKeys: Buffer[], username: string, where: string, ask: Ask): Promise<AnyAuthMethod | undefined> {
  const data = await readFile(file).catch(() => undefined);
  if (!data) return undefined;   // configured but absent: OpenSSH skips it too
  const { utils } = (await import('ssh2')).default;
  const first = (k: ReturnType<typeof utils.parseKey>) => (Array.isArray(k) ? k[0] : k) as ParsedKey | Error;
  let key = decrypted.get(file) ?? first(utils.parseKey(data));
  if (key instanceof Error && /encrypted|passphrase/i.test(key.message)) {
    const passphrase = await ask({ kind: 'passphrase', message: `Enter passphrase for key '${file}':`, echo: false, hop: where });
    key = first(utils.parseKey(data, passphrase));
    if (key instanceof Error) {
      throw new PilotError('SSH', `wrong passphrase for key ${file}`, { hint: 'type it again, or load the key into an ssh-agent once (ssh-add) so pilot never asks' });
    }
    decrypted.set(file, key);
  }
  if (key instanceof Error) return undefined;   // a format ssh2 cannot read (FIDO keys...): the next method
  if (usedKeys.some((b) => b.equals((key as ParsedKey).getPublicSSH()))) return undefined;   // the agent offered it already
  return { type: 'publickey', username, key };
}

/** Why a login failed, in the user's terms. */
export function loginFailure(hop: SshHop, login: Login, prefix = ''): PilotError {
  const offered = login.offered().join(', ') || 'nothing';
  const tried = login.tried().join(', ') || 'nothing (no agent, no key file found)';
  const otp = login.offered().includes('keyboard-interactive') && !hop.kbdInteractiveAuthentication;
  return new PilotError('SSH', `${prefix}authentication to ${describeHop(hop)} failed: the server accepts ${offered}; pilot tried ${tried}`, {
    hint: otp ? 'the server wants keyboard-interactive (a one-time password) but your ssh config disables it (KbdInteractiveAuthentication no)'
      : 'check the user name and that your public key is in ~/.ssh/authorized_keys on the cluster (or load the key with ssh-add); a wrong one-time password also ends here',
  });
}
