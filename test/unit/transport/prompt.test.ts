import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cannotAsk, chooseAsker } from '../../../src/transport/prompt.js';
import type { PromptRequest } from '../../../src/transport/types.js';

const Q: PromptRequest = { kind: 'keyboard-interactive', message: 'One-time password (OATH) for `pilot\': ', echo: false, hop: 'pilot@h:22' };

function program(body: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pilot-askpass-')), 'ask');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('who answers a login question', () => {
  it('the SDK callback first, then PILOT_ASKPASS, then SSH_ASKPASS only when forced (tests have no terminal)', async () => {
    const cb = async () => 'from-callback';
    expect(await chooseAsker(cb, { PILOT_ASKPASS: program('echo no') })!(Q)).toBe('from-callback');
    // the question is the program's argument; its first line is the answer
    expect(await chooseAsker(undefined, { PILOT_ASKPASS: program('printf "%s|x\\n" "$1"') })!(Q)).toBe(`${Q.message}|x`);
    expect(await chooseAsker(undefined, { SSH_ASKPASS: program('echo forced'), SSH_ASKPASS_REQUIRE: 'force' })!(Q)).toBe('forced');
    // no terminal here: an unforced SSH_ASKPASS is used (as OpenSSH does), unless it says never
    expect(await chooseAsker(undefined, { SSH_ASKPASS: program('echo plain') })!(Q)).toBe('plain');
    expect(chooseAsker(undefined, { SSH_ASKPASS: program('echo plain'), SSH_ASKPASS_REQUIRE: 'never' })).toBeUndefined();
    expect(chooseAsker(undefined, {})).toBeUndefined();
  });

  it('a failing askpass program is an error naming it; nobody to ask is an error naming the question', async () => {
    const bad = program('exit 3');
    await expect(chooseAsker(undefined, { PILOT_ASKPASS: bad })!(Q)).rejects.toThrow(`the askpass program ${bad} failed`);
    const e = cannotAsk(Q);
    expect(e.message).toBe('the login to pilot@h:22 asks "One-time password (OATH) for `pilot\':" (keyboard-interactive), but there is no terminal to ask on');
    expect(e.hint).toMatch(/PILOT_ASKPASS/);
  });
});
