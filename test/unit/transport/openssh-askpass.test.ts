// The askpass bridge, end to end on this machine: OpenSSH would run the program with the question; it reaches
// the prompt callback over the private socket and the answer comes back on stdout. A stranger's token gets nothing.
import { execFile } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { askpassProgram, controlDir, startAskpassBridge } from '../../../src/transport/openssh-local.js';
import type { PromptRequest } from '../../../src/transport/types.js';

function ask(program: string, question: string, env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(program, [question], { env: { ...process.env, ...env } }, (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }));
  });
}

describe('openssh askpass bridge', () => {
  it('forwards the question to the callback and prints its answer; a rejection or a wrong token aborts', async () => {
    const base = mkdtempSync('/tmp/pcm-');
    const dir = await controlDir(base);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const program = await askpassProgram(dir);
    const asked: PromptRequest[] = [];
    const bridge = await startAskpassBridge(dir, async (q) => {
      asked.push(q);
      if (q.message.includes('code')) throw new Error('no code today');
      return 'pass phrase';
    }, 'pilot@h:22');
    try {
      const env = { PILOT_ASKPASS_SOCKET: bridge.socket, PILOT_ASKPASS_TOKEN: bridge.token };
      expect(await ask(program, "Enter passphrase for key '/k': ", env)).toEqual({ code: 0, stdout: 'pass phrase\n' });
      expect(asked).toEqual([{ kind: 'passphrase', message: "Enter passphrase for key '/k':", echo: false, hop: 'pilot@h:22' }]);
      expect((await ask(program, 'Verification code: ', env)).code).toBe(1);
      expect((await ask(program, 'Password: ', { ...env, PILOT_ASKPASS_TOKEN: 'guess' })).code).toBe(1);
      expect(bridge.asked).toBe(2);
    } finally {
      await bridge.close();
      rmSync(base, { recursive: true, force: true });
    }
  });

  it("answers ssh's host-key questions `no` itself (the callback never sees them) and keeps the fingerprint", async () => {
    const base = mkdtempSync('/tmp/pcm-');
    const dir = await controlDir(base);
    const program = await askpassProgram(dir);
    const asked: PromptRequest[] = [];
    const bridge = await startAskpassBridge(dir, async (q) => { asked.push(q); return 'yes'; }, 'pilot@h:22');
    try {
      const env = { PILOT_ASKPASS_SOCKET: bridge.socket, PILOT_ASKPASS_TOKEN: bridge.token };
      const fp = `SHA256:${'c'.repeat(43)}`;
      const question = `The authenticity of host '[h]:22 ([127.0.0.1]:22)' can't be established.\nED25519 key fingerprint is ${fp}.\n` +
        'This key is not known by any other names.\nAre you sure you want to continue connecting (yes/no/[fingerprint])? ';
      expect(await ask(program, question, env)).toEqual({ code: 0, stdout: 'no\n' });
      expect(await ask(program, "Please type 'yes', 'no' or the fingerprint: ", env)).toEqual({ code: 0, stdout: 'no\n' });
      expect(asked).toEqual([]);
      expect(bridge.asked).toBe(0);
      expect(bridge.hostKeyFingerprint).toBe(fp);
    } finally {
      await bridge.close();
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('tightens a loose socket folder of its own; refuses one that somebody else made first', async () => {
    const base = mkdtempSync(join(tmpdir(), 'pcm-'));
    mkdirSync(join(base, `pilot-cm-${process.getuid!()}`), { mode: 0o755 });
    expect(statSync(await controlDir(base)).mode & 0o777).toBe(0o700);
    if (process.getuid!() !== 0) return; // making a folder owned by someone else needs root
    const other = mkdtempSync(join(tmpdir(), 'pcm-'));
    mkdirSync(join(other, 'pilot-cm-0'));
    chownSync(join(other, 'pilot-cm-0'), 65534, 65534);
    await expect(controlDir(other)).rejects.toThrow(/not a folder of yours/);
  });
});
