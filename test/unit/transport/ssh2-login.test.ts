// ssh2 logins against ssh2's in-process server. Password (a server that offers only `password`): asked once,
// with OpenSSH's wording; a config that disables PasswordAuthentication never asks. The hop's ServerAlive* and
// ConnectTimeout settings are what the connection runs with.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { directHop, type SshHop } from '../../../src/model/cluster.js';
import { connectSsh } from '../../../src/transport/connect.js';
import type { PromptRequest } from '../../../src/transport/types.js';

const { Server, utils } = ssh2;

describe('ssh2 transport: password login', () => {
  const tries: string[] = [];
  let server: InstanceType<typeof Server>;
  let port = 0;
  beforeAll(async () => {
    const hostKey = utils.generateKeyPairSync('ed25519').private;
    server = new Server({ hostKeys: [hostKey] }, (client) => {
      client.on('authentication', (ctx) => {
        tries.push(ctx.method);
        if (ctx.method === 'password' && ctx.username === 'pilot' && ctx.password === 'hunter2') return ctx.accept();
        ctx.reject(['password']);
      });
      client.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  const hop = (fields: Partial<SshHop> = {}): SshHop => directHop({
    host: '127.0.0.1', port, user: 'pilot', identityFiles: [join(tmpdir(), 'pilot-no-such-key')], identityAgent: 'none',
    knownHostsFiles: [join(mkdtempSync(join(tmpdir(), 'pilot-pw-')), 'known_hosts')], strictHostKeyChecking: 'accept-new', ...fields,
  });

  it('asks the password once, as OpenSSH words it, and logs in', async () => {
    const asked: PromptRequest[] = [];
    const t = await connectSsh({ jumps: [], target: hop() }, { prompt: async (q) => { asked.push(q); return 'hunter2'; } });
    await t.close();
    expect(asked).toEqual([{ kind: 'password', message: "pilot@127.0.0.1's password:", echo: false, hop: `pilot@127.0.0.1:${port}` }]);
    expect(t.hops[0]!.auth).toBe('password');
    expect(t.stats.prompts).toBe(1);
  });

  it('PasswordAuthentication no: nothing is asked, and the error says what the server wanted', async () => {
    const asked: PromptRequest[] = [];
    const err = await connectSsh({ jumps: [], target: hop({ passwordAuthentication: false }) }, { prompt: async (q) => { asked.push(q); return 'hunter2'; } })
      .catch((e: Error) => e);
    expect(asked).toEqual([]);
    expect((err as Error).message).toMatch(/authentication to pilot@127\.0\.0\.1:\d+ failed: the server accepts password; pilot tried nothing/);
  });

  it('keepalives come from ServerAliveInterval/CountMax; ConnectTimeout bounds a silent host', async () => {
    const spy = vi.spyOn(ssh2.Client.prototype, 'connect');
    try {
      const t = await connectSsh({ jumps: [], target: hop({ serverAliveIntervalMs: 15_000, serverAliveCountMax: 5 }) }, { prompt: async () => 'hunter2' });
      await t.close();
      expect(spy.mock.calls[0]![0]).toMatchObject({ keepaliveInterval: 15_000, keepaliveCountMax: 5, readyTimeout: 0 });
      const off = await connectSsh({ jumps: [], target: hop({ serverAliveIntervalMs: 0 }) }, { prompt: async () => 'hunter2' });
      await off.close();
      expect(spy.mock.calls[1]![0]).toMatchObject({ keepaliveInterval: 0 });
    } finally {
      spy.mockRestore();
    }
    // ssh2's own readyTimeout is off (0): the hop's ConnectTimeout is pilot's timer, stopped while a prompt waits
    const silent = createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const quiet = (silent.address() as { port: number }).port;
    const err = await connectSsh({ jumps: [], target: hop({ port: quiet, connectTimeoutMs: 700 }) }).catch((e: Error) => e);
    silent.close();
    expect((err as Error).message).toBe(`timed out after 1 s connecting to pilot@127.0.0.1:${quiet}`);
  });
});
