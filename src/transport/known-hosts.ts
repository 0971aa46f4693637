/**
 * Pure parsing and matching of OpenSSH known_hosts files, so host keys can be checked strictly without
 * shelling out to ssh-keygen. Supports plain and hashed (|1|salt|hmac) host fields, [host]:port entries,
 * comma-separated host lists, negated patterns, wildcards and the @revoked marker (@cert-authority lines are
 * skipped: certificates are not handled by the ssh2 transport).
 */
import { createHmac } from 'node:crypto';

export interface KnownHostEntry {
  hosts: string;          // the raw host field
  keyType: string;        // e.g. ssh-ed25519
  key: Buffer;            // the decoded public key blob
  revoked: boolean;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]!.startsWith('@')) {
      const marker = fields.shift();
      if (marker === '@cert-authority') continue;
      revoked = marker === '@revoked';
    }
    const [hosts, keyType, keyB64] = fields;
    if (!hosts || !keyType || !keyB64) continue;
    entries.push({ hosts, keyType, key: Buffer.from(keyB64, 'base64'), revoked });
  }
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

export type HostKeyVerdict = 'trusted' | 'mismatch' | 'unknown' | 'revoked';

/** Decides whether `key` is a trusted host key for host:port. */
export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostName(host, port);
  const mine = entries.filter((e) => hostFieldMatches(e.hosts, name));
  if (mine.some((e) => e.revoked && e.key.equals(key))) return 'revoked';
  if (mine.some((e) => !e.revoked && e.key.equals(key))) return 'trusted';
  return mine.some((e) => !e.revoked) ? 'mismatch' : 'unknown';
}

/** Key types known for this host, to offer them first during negotiation (as OpenSSH does). */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const name = knownHostName(host, port);
  return [...new Set(entries.filter((e) => !e.revoked && hostFieldMatches(e.hosts, name)).map((e) => e.keyType))];
}
