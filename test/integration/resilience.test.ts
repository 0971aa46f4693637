// A bad day without restarting any daemon (issue 14, item 3), on the real cluster: accounting that cannot be
// reached while tasks run, and connections that drop during `wait` (over ssh2, and over the system ssh client in
// the integration-openssh project). The faults come from the engine's wrapTransport (what each command sees),
// so this file runs in the normal tier next to everyone else's; the same scenarios with the daemons really
// stopped are in test/integration-faults/.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import type { Transport } from '../../src/transport/types.js';
import { cluster, connect, makeHome, statusUntilForgotten } from '../support/cluster.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'echo-argv');
const WAIT = { minIntervalMs: 300, maxIntervalMs: 1000, timeoutMs: 120_000 };

/** A transport whose exec is `change`d first (the rest passes through, bound to the real one). */
function around(t: Transport, change: (target: Transport, cmd: string, opts: Parameters<Transport['exec']>[1]) => ReturnType<Transport['exec']>): Transport {
  return new Proxy(t, {
    get(target, prop) {
      if (prop === 'exec') return (cmd: string, opts: Parameters<Transport['exec']>[1] = {}) => change(target, cmd, opts);
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * Drops a connection as a network failure would: ssh2's socket is destroyed; the system ssh client's master
 * process (transport: openssh, under the integration-openssh project) is killed.
 */
function drop(t: Transport): void {
  const c = t as unknown as { destroy?: () => void; pid?: number };
  if (c.destroy) c.destroy();
  else if (c.pid) process.kill(c.pid, 'SIGKILL');
  else throw new Error('this transport cannot be dropped by the test');
}

/** What sacct (Slurm 22.05) prints, exit 1, when slurmdbd is down: the status command's sacct gets this instead. */
const DBD_DOWN = 'dbd_down() { echo sacct: error: slurm_persist_conn_open_without_init: failed to open persistent connection to host:localhost:6819: Connection refused >&2; ' +
  'echo sacct: error: Problem talking to the database: Connection refused >&2; return 1; }; ';

describe('a bad day on the real cluster, without restarting daemons', () => {
  // the status command and its parsing are the same over every transport: once, over ssh2 (not registered at
  // all under integration-openssh, as BACKENDS does, rather than counted as skipped)
  if (!process.env.PILOT_TEST_TRANSPORT) it('accounting unreachable while tasks run: status falls back to the controller, never reports a task COMPLETED wrongly nor done, and settles right once sacct answers', async () => {
    const home = makeHome();
    let dbdDown = false;
    let sacctRefused = 0;
    const w = new SlurmWrapper({
      home,
      wrapTransport: (t) => around(t, (target, cmd, opts) => {
        if (!dbdDown || !cmd.includes('$T sacct -X')) return target.exec(cmd, opts);
        sacctRefused++;
        return target.exec(cmd.replace('exec 3>&1; ', `exec 3>&1; ${DBD_DOWN}`).replace('$T sacct -X', 'dbd_down -X'), opts);
      }),
    });
    // task 2 fails (echo.sh exits 1 while <remote root>/jobs/fail-2 exists), made before the launch
    const ssh = await connect();
    const root = `~/pilot-tests/${home.split('/').pop()}`;
    await ssh.exec(`mkdir -p ${root}/jobs && touch ${root}/jobs/fail-2`);
    const job = await w.scheduleJobs({ jobName: 'dbd-down', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: ['1', '2', '3'], env: { SLEEP: '1' } });
    await w.status(job.name);   // accounting is known to be on from here: scontrol is not asked
    dbdDown = true;
    // until Slurm has finished the array and the controller has forgotten it (MinJobAge), accounting stays down
    const { seen, forgotten } = await statusUntilForgotten(ssh, () => w.status(job.name), job.slurmJobIds[0]!);
    expect(sacctRefused).toBeGreaterThanOrEqual(seen.length);
    const states = (i: number) => seen.map((s) => s.tasks.find((t) => t.index === i)!.state);
    // the failing task is never COMPLETED; no task is final for good while only the controller was asked
    expect(states(2)).not.toContain('COMPLETED');
    for (const s of seen) expect(s.done, JSON.stringify(s.tasks)).toBe(false);
    expect(seen.some((s) => s.tasks.some((t) => t.state === 'RUNNING' || t.state === 'PENDING'))).toBe(true);
    // gone from the controller and not in accounting: the last states seen stay, provisional (asked again),
    // never stored as final: without sacct there is no exit code to trust
    expect(forgotten).toBe(true);
    expect(seen.at(-1)!.tasks.map((t) => [t.state, t.provisional])).toEqual([['COMPLETED', true], ['FAILED', true], ['COMPLETED', true]]);
    const record = await w.store.read(job.name);
    expect(record.finalStates).toEqual({});

    dbdDown = false;
    const final = await w.wait(job.name, WAIT);
    await ssh.exec(`rm -f ${root}/jobs/fail-2`);
    await ssh.close();
    await w.close();
    expect(final.counts).toEqual({ COMPLETED: 2, FAILED: 1 });
    expect(final.tasks.map((t) => [t.index, t.state, t.exitCode])).toEqual([[1, 'COMPLETED', 0], [2, 'FAILED', 1], [3, 'COMPLETED', 0]]);
  });

  it('the connection dropped during wait, twice: wait reconnects and goes on, nothing is submitted again', async () => {
    // its own known_hosts file (a copy): over openssh that makes its own ssh master (masters are shared by
    // target and options), so killing it drops no other test's connection running at the same time
    const knownHosts = join(mkdtempSync(join(tmpdir(), 'pilot-kh-')), 'known_hosts');
    copyFileSync(cluster().knownHosts, knownHosts);
    const home = makeHome();
    const config = join(home, 'config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^( {4}knownHosts: ).*$/m, `$1${knownHosts}`));
    let statusCalls = 0;
    const w = new SlurmWrapper({
      home,
      // the 2nd and 4th status queries lose the connection while the command runs, as a VPN drop would
      wrapTransport: (t) => around(t, async (target, cmd, opts) => {
        if (opts?.what !== 'the status query') return target.exec(cmd, opts);   // (observe.ts names it so)
        statusCalls++;
        if (statusCalls !== 2 && statusCalls !== 4) return target.exec(cmd, opts);
        const running = target.exec(cmd, opts);
        drop(target);
        return running;
      }),
    });
    const job = await w.scheduleJobs({ jobName: 'drop-wait', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: ['1', '2', '3'], env: { SLEEP: '3' } });
    const stale: string[] = [];
    const final = await w.wait(job.name, { ...WAIT, onProgress: (s) => { if (s.stale) stale.push(s.stale); } });
    const opened = (await w.connections()).find((c) => c.cluster === 'lab')?.opened;
    const record = await w.store.read(job.name);
    await w.close();
    expect(statusCalls).toBeGreaterThanOrEqual(5);
    expect(stale.length, 'each drop made one look stale').toBeGreaterThanOrEqual(2);
    expect(opened).toBe(3);   // the launch's connection, then one per drop
    expect(final.counts).toEqual({ COMPLETED: 3 });
    expect(final.slurmJobIds).toEqual(job.slurmJobIds);
    expect(record.attempts).toHaveLength(1);
  });
});
