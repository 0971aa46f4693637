// A launch connects while it validates the job (engine/launch.ts connectEarly). When the job turns out invalid,
// that connection must not keep anything waiting: here the "cluster" accepts TCP and never says a word (a host
// behind a firewall that drops, a hung sshd), so only the abort ends the connection before its 20 s timeout.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../../src/index.js';
import { PilotError } from '../../../src/model/errors.js';

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'pilot.js');
const SRC = join(import.meta.dirname, '..', '..', 'fixtures', 'echo-argv');

describe('a launch that connected early, for a job that is not valid', () => {
  const held: Socket[] = [];
  const server = createServer((s) => held.push(s));   // accepts, never answers
  let home: string;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    home = mkdtempSync(join(tmpdir(), 'pilot-early-'));
    writeFileSync(join(home, 'config.yaml'), `clusters:\n  mute: { host: 127.0.0.1, port: ${port}, user: nobody, remoteDir: ~/pilot }\n`);
  });
  afterAll(() => {
    held.forEach((s) => s.destroy());
    server.close();
  });

  it('SDK: refused with exit-2 error, and close() returns at once (the connection was started, then dropped)', async () => {
    const p = new SlurmWrapper({ home });
    const err = await p.scheduleJobs({ jobName: 'bad', cluster: 'mute', srcDir: SRC, entrypoint: 'echo.sh', maxConcurrent: -1 }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).exitCode).toBe(2);
    await p.close();   // would wait for the 20 s connect timeout without the abort (the test's own timeout is 10 s)
  }, 10_000);

  it('CLI: `pilot launch` of an invalid job exits 2 at once, not after the connect timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-early-job-'));
    writeFileSync(join(dir, 'job.yaml'), `jobName: bad\ncluster: mute\nsrcDir: ${SRC}\nentrypoint: echo.sh\nmaxConcurrent: lots\n`);
    const child = spawn(process.execPath, [BIN, 'launch', join(dir, 'job.yaml')], { env: { ...process.env, PILOT_HOME: home } });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(stderr).toMatch(/maxConcurrent/);
    expect(code).toBe(2);
  }, 10_000);
});
