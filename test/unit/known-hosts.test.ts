import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHostKey, fingerprint, keyTypeOf, knownHostName, knownHostsLine, knownKeyTypes, parseKnownHosts } from '../../src/transport/known-hosts.js';

const KEY = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIFBxZRcExE3wyF9c74Js+zbIBSictLPHdCpatL2f/Q5m', 'base64');
const OTHER = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIFBxZRcExE3wyF9c74Js+zbIBSictLPHdCpatL2f/Q5n', 'base64');

describe('known_hosts', () => {
  it('matches [host]:port entries (as written by the test cluster)', () => {
    const e = parseKnownHosts(`[127.0.0.1]:2222 ssh-ed25519 ${KEY.toString('base64')}\n`);
    expect(checkHostKey(e, knownHostName('127.0.0.1', 2222), KEY)).toBe('trusted');
    expect(checkHostKey(e, knownHostName('127.0.0.1', 2222), OTHER)).toBe('mismatch');
    expect(checkHostKey(e, knownHostName('127.0.0.1', 22), KEY)).toBe('unknown');
    expect(checkHostKey(e, knownHostName('127.0.0.2', 2222), KEY)).toBe('unknown');
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
    expect(checkHostKey(e, knownHostName('login.hpc.example', 22), KEY)).toBe('trusted');
    expect(checkHostKey(e, knownHostName('b.example', 22), KEY)).toBe('trusted');
    expect(checkHostKey(e, knownHostName('x.wild.example', 22), KEY)).toBe('trusted');
    // negated out of the plain line, but a @cert-authority line covers *.example: refused as "certificate"
    expect(checkHostKey(e, knownHostName('bad.wild.example', 22), KEY)).toBe('certificate');
    expect(checkHostKey(e, knownHostName('nothing.org', 22), KEY)).toBe('unknown');
    expect(checkHostKey(e, knownHostName('rev.example', 22), KEY)).toBe('revoked');
    expect(knownKeyTypes(e, 'a.example')).toEqual(['ssh-ed25519']);
  });

  it('prints fingerprints as ssh-keygen does, and writes lines OpenSSH reads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-kh-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    const pub = execFileSync('ssh-keygen', ['-y', '-f', join(dir, 'k')], { encoding: 'utf8' }).trim().split(' ');
    const blob = Buffer.from(pub[1]!, 'base64');
    expect(keyTypeOf(blob)).toBe('ssh-ed25519');
    const printed = execFileSync('ssh-keygen', ['-lf', join(dir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1];
    expect(fingerprint(blob)).toBe(printed);
    writeFileSync(join(dir, 'known_hosts'), knownHostsLine(knownHostName('login.example', 2222), blob));
    // OpenSSH itself finds the line we wrote
    const found = execFileSync('ssh-keygen', ['-F', '[login.example]:2222', '-f', join(dir, 'known_hosts')], { encoding: 'utf8' });
    expect(found).toContain(pub[1]);
    expect(checkHostKey(parseKnownHosts(knownHostsLine('h', blob)), 'h', blob)).toBe('trusted');
  });
});
