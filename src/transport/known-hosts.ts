/**
 * Pure parsing and matching of OpenSSH known_hosts files, so host keys can be checked strictly without
 * shelling out to ssh-keygen. Supports plain and hashed (|1|salt|hmac) host fields, [host]:port entries,
 * comma-separated host lists, negated patterns, wildcards, the @revoked marker, and @cert-authority lines
 * (recorded so a host vouched for only by a CA is refused with a clear reason: pilot's ssh2 transport does
 * not verify host certificates).
 */
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostEntry {
  hosts: string;          // the raw host field
  keyType: string;        // e.g. ssh-ed25519
  key: Buffer;            // the decoded public key blob
  revoked: boolean;
  certAuthority: boolean;
  /** Where the line was read (file:line), for messages. */
  source?: string;
}

export function parseKnownHosts(text: string, file?: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    const [hosts, keyType, keyB64] = fields;
    if (!hosts || !keyType || !keyB64) return;
    entries.push({
      hosts, keyType, key: Buffer.from(keyB64, 'base64'),
      revoked: marker === '@revoked', certAuthority: marker === '@cert-authority',
      ...(file ? { source: `${file}:${i + 1}` } : {}),
    });
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (globToRegExp(pattern.slice(1)).test(name)) return false;
    } else if (globToRegExp(pattern).test(name)) {
      matched = true;
    }
  }
  return matched;
}

/**
 * trusted: a plain line holds this key. revoked: a @revoked line does. mismatch: the host is known with
 * other keys (a changed key: never accepted). certificate: only a @cert-authority line covers the host.
 * unknown: nothing about this host.
 */
export type HostKeyVerdict = 'trusted' | 'mismatch' | 'unknown' | 'revoked' | 'certificate';

/** Decides whether `key` is a trusted host key for `name` (see knownHostName, or a HostKeyAlias). */
export function checkHostKey(entries: KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  const mine = entries.filter((e) => hostFieldMatches(e.hosts, name));
  if (mine.some((e) => e.revoked && e.key.equals(key))) return 'revoked';
  const plain = mine.filter((e) => !e.revoked && !e.certAuthority);
  if (plain.some((e) => e.key.equals(key))) return 'trusted';
  if (plain.length) return 'mismatch';
  return mine.some((e) => e.certAuthority) ? 'certificate' : 'unknown';
}

/** The lines that already name this host (shown when its key changed). */
export function entriesFor(entries: KnownHostEntry[], name: string): KnownHostEntry[] {
  return entries.filter((e) => !e.revoked && !e.certAuthority && hostFieldMatches(e.hosts, name));
}

/** Key types known for this host, to offer them first during negotiation (as OpenSSH does). */
export function knownKeyTypes(entries: KnownHostEntry[], name: string): string[] {
  return [...new Set(entriesFor(entries, name).map((e) => e.keyType))];
}

/** The key type written inside an SSH public key blob (its first string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const n = key.readUInt32BE(0);
  return n > 0 && n < 64 && key.length >= 4 + n ? key.subarray(4, 4 + n).toString('latin1') : 'unknown';
}

/** `SHA256:…`, as `ssh-keygen -lf` and OpenSSH's prompts print it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** A known_hosts line for `name` (written by `pilot trust` or accept-new). */
export function knownHostsLine(name: string, key: Buffer): string {
  return `${name} ${keyTypeOf(key)} ${key.toString('base64')}\n`;
}
