import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkHostKey, knownKeyTypes, parseKnownHosts } from '../../src/transport/known-hosts.js';

const KEY = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIFBxZRcExE3wyF9c74Js+zbIBSictLPHdCpatL2f/Q5m', 'base64');
const OTHER = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIFBxZRcExE3wyF9c74Js+zbIBSictLPHdCpatL2f/Q5n', 'base64');

describe('known_hosts', () => {
  it('matches [host]:port entries (as written by the test cluster)', () => {
    const e = parseKnownHosts(`[127.0.0.1]:2222 ssh-ed25519 ${KEY.toString('base64')}\n`);
    expect(checkHostKey(e, '127.0.0.1', 2222, KEY)).toBe('trusted');
    expect(checkHostKey(e, '127.0.0.1', 2222, OTHER)).toBe('mismatch');
    expect(checkHostKey(e, '127.0.0.1', 22, KEY)).toBe('unknown');
    expect(checkHostKey(e, '127.0.0.2', 2222, KEY)).toBe('unknown');
  });

  it('handles hashed names, host lists, wildcards, negation, comments and @revoked', () => {
    const salt = Buffer.from('0123456789abcdefghij');
    const hash = createHmac('sha1', salt).update('login.hpc.example').digest('base64');
    const text = [
      '# comment',
      `|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${KEY.toString('base64')}`,
      `a.example,b.example ssh-ed25519 ${KEY.toString('base64')}`,
      `*.wild.example,!bad.wild.example ssh-ed25519 ${KEY.toString('base64')}`,
      `@revoked rev.example ssh-ed25519 ${KEY.toString('base64')}`,
      `@cert-authority *.example ssh-ed25519 ${OTHER.toString('base64')}`,
    ].join('\n');
    const e = parseKnownHosts(text);
    expect(checkHostKey(e, 'login.hpc.example', 22, KEY)).toBe('trusted');
    expect(checkHostKey(e, 'b.example', 22, KEY)).toBe('trusted');
    expect(checkHostKey(e, 'x.wild.example', 22, KEY)).toBe('trusted');
    expect(checkHostKey(e, 'bad.wild.example', 22, KEY)).toBe('unknown');
    expect(checkHostKey(e, 'rev.example', 22, KEY)).toBe('revoked');
    expect(knownKeyTypes(e, 'a.example', 22)).toEqual(['ssh-ed25519']);
  });
});
