/**
 * Deciding whether to trust the key a server presents, against every known_hosts file of the hop. Nothing is
 * accepted blindly: a known key passes; a changed or revoked key is refused loudly and never overwritten; an
 * unknown host is refused with its fingerprint and the exact fix (`pilot trust`), unless the user's config
 * says `StrictHostKeyChecking accept-new` or the caller asked the user and they said yes — then the key is
 * appended to the user's known_hosts.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeHop, type SshHop } from '../model/cluster.js';
import { PilotError } from '../model/errors.js';
import {
  checkHostKey, entriesFor, fingerprint, keyTypeOf, knownHostName, knownHostsLine, knownKeyTypes, parseKnownHosts, type KnownHostEntry,
} from './known-hosts.js';
import type { ConnectContext } from './types.js';

// known_hosts names a key type; the algorithms ssh2 negotiates for it.
const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const DEFAULT_HOST_KEY_ORDER = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];

export interface HostCheck {
  /** Host key algorithms to offer, the types already known for this host first (as OpenSSH does). */
  algorithms: string[];
  /** ssh2's hostVerifier (asynchronous form). */
  verify: (key: Buffer, done: (ok: boolean) => void) => void;
  /** Set when the key was refused: the error to report instead of ssh2's "Host denied". */
  problem(): PilotError | undefined;
  /** The fingerprint of the key the server presented. */
  seen(): string | undefined;
}

async function readKnownHosts(files: string[]): Promise<KnownHostEntry[]> {
  const texts = await Promise.all(files.map((f) => readFile(f, 'utf8').then((t) => parseKnownHosts(t, f), () => [])));
  return texts.flat();
}

/** How `pilot trust` is spelled for this hop (the cluster name when the CLI knows it). */
export function trustCommand(cluster: string | undefined): string {
  return `pilot trust ${cluster ?? 'CLUSTER'}`;
}

export async function hostCheck(hop: SshHop, context: ConnectContext, prefix: string): Promise<HostCheck> {
  const entries = await readKnownHosts(hop.knownHostsFiles);
  const name = hop.hostKeyAlias ?? knownHostName(hop.host, hop.port);
  const preferred = knownKeyTypes(entries, name).flatMap((t) => HOST_KEY_ALGORITHMS[t] ?? [t]);
  const files = hop.knownHostsFiles.join(', ') || '(no known_hosts file configured)';
  let problem: PilotError | undefined;
  let seen: string | undefined;

  const refuse = (err: PilotError, done: (ok: boolean) => void) => {
    problem = err;
    done(false);
  };
  const verify = (key: Buffer, done: (ok: boolean) => void) => {
    seen = fingerprint(key);
    const what = `${prefix}host key of ${name} (${keyTypeOf(key)} ${seen})`;
    const verdict = checkHostKey(entries, name, key);
    if (verdict === 'trusted') return done(true);
    if (verdict === 'revoked') {
      return refuse(new PilotError('HOST_KEY', `${what} is marked @revoked in ${files}: refusing to connect`, {
        hint: 'the cluster admins revoked this key; ask them for the current one',
      }), done);
    }
    if (verdict === 'mismatch') {
      const lines = entriesFor(entries, name).map((e) => `${e.source ?? 'known_hosts'} (${e.keyType} ${fingerprint(e.key)})`).join('; ');
      return refuse(new PilotError('HOST_KEY', `${what} does NOT match the key recorded in ${lines}: refusing to connect`, {
        hint: 'someone may be intercepting the connection, or the host was reinstalled. Check the new fingerprint with your cluster admins; ' +
          `only then remove the old line (ssh-keygen -R '${name}') and run \`${trustCommand(context.clusterName)}\`. pilot never replaces a key itself.`,
      }), done);
    }
    if (verdict === 'certificate') {
      return refuse(new PilotError('HOST_KEY', `${what}: this host is vouched for by a @cert-authority line in ${files}, and pilot's built-in SSH does not verify host certificates`, {
        hint: 'set `transport: openssh` for this cluster in config.yaml (the system ssh client checks certificates), or trust the key itself with ' +
          `\`${trustCommand(context.clusterName)}\``,
      }), done);
    }
    // unknown host
    const file = hop.knownHostsFiles[0];
    const record = async () => {
      await mkdir(dirname(file!), { recursive: true, mode: 0o700 });
      await appendFile(file!, knownHostsLine(name, key), { mode: 0o600 });
    };
    if (file && hop.strictHostKeyChecking === 'accept-new') {
      return record().then(() => {
        context.notice?.(`added the host key of ${name} (${keyTypeOf(key)} ${seen}) to ${file} (StrictHostKeyChecking accept-new)`);
        done(true);
      }, (err) => refuse(new PilotError('HOST_KEY', `cannot record the host key of ${name} in ${file}: ${(err as Error).message}`), done));
    }
    if (file && context.confirmHostKey) {
      return context.confirmHostKey({ hop: describeHop(hop), name, keyType: keyTypeOf(key), fingerprint: seen, file }).then(async (yes) => {
        if (!yes) return refuse(new PilotError('HOST_KEY', `${what} was not trusted: nothing written`), done);
        await record();
        done(true);
      }).catch((err) => refuse(err instanceof PilotError ? err : new PilotError('HOST_KEY', `cannot record the host key of ${name} in ${file}: ${(err as Error).message}`), done));
    }
    refuse(new PilotError('HOST_KEY', `${prefix}${name} is not a known host (its ${keyTypeOf(key)} key is ${seen}; looked in ${files}): refusing to connect`, {
      hint: `compare the fingerprint with the one your cluster documents, then run \`${trustCommand(context.clusterName)}\` (asks before writing to ${file ?? '~/.ssh/known_hosts'})`,
    }), done);
  };
  return {
    algorithms: [...new Set([...preferred, ...DEFAULT_HOST_KEY_ORDER])],
    verify,
    problem: () => problem,
    seen: () => seen,
  };
}
