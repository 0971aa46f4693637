// What costs nothing should cost nothing: no Nagle delay on the SSH socket, and no connection at all for
// what the local cache already knows (final logs and states).
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { pilot } from '../support/cli.js';
import { connect, makeHome } from '../support/cluster.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'echo-argv');

describe('speed', () => {
  it('turns Nagle off on the SSH socket', async () => {
    const calls: unknown[] = [];
    const original = net.Socket.prototype.setNoDelay;
    net.Socket.prototype.setNoDelay = function (this: net.Socket, noDelay?: boolean) {
      calls.push(noDelay);
      return original.call(this, noDelay);
    };
    try {
      const ssh = await connect();
      expect((await ssh.exec('echo ok')).stdout.trim()).toBe('ok');
      await ssh.close();
    } finally {
      net.Socket.prototype.setNoDelay = original;
    }
    expect(calls).toContain(true);
  });

  it('reads final logs and states from the cache without connecting', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    const job = await w.scheduleJobs({ jobName: 'cached', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: ['hello'] });
    await w.wait(job.name, { minIntervalMs: 300, maxIntervalMs: 1000, timeoutMs: 60_000 });
    await w.close();
    const first = await pilot(['logs', 'cached/1'], home);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('task=1');
    expect((await pilot(['logs', 'cached/1', '--stderr'], home)).code).toBe(0);
    // from now on the cluster is unreachable: a command that tried to connect would fail
    const config = join(home, 'config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/port: \d+/, 'port: 1'));
    for (const args of [['logs', 'cached/1'], ['logs', 'cached/1', '--stderr'], ['status', 'cached', '--json'], ['list']]) {
      const r = await pilot(args, home);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr, args.join(' ')).not.toMatch(/connect|ECONNREFUSED/);
    }
    expect((await pilot(['logs', 'cached/1'], home)).stdout).toBe(first.stdout);
    expect(JSON.parse((await pilot(['status', 'cached', '--json'], home)).stdout).stale).toBeUndefined();
  });
});
