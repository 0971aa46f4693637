// The core slice on the real cluster: one bundle, one array, exact argv, %K respected, no re-upload.
import { mkdtempSync, readdirSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { PilotError } from '../../src/model/errors.js';
import { decodeArgsLine } from '../../src/model/args.js';
import { HOSTILE_ARGS } from '../support/hostile.js';
import { connect, makeHome, sleep } from '../support/cluster.js';
import type { SshTransport } from '../../src/transport/ssh.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'echo-argv');

function srcCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-src-'));
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

async function waitForLogs(ssh: SshTransport, jobDir: string, n: number): Promise<void> {
  for (let i = 0; i < 240; i++) {
    const r = await ssh.exec(`ls ${jobDir}/logs/*.out 2>/dev/null | wc -l`);
    if (Number(r.stdout.trim()) >= n) return;
    await sleep(500);
  }
  throw new Error('logs did not appear');
}

describe('scheduleJobs on Slurm', () => {
  let ssh: SshTransport;
  beforeAll(async () => { ssh = await connect(); });
  afterAll(async () => { await ssh?.close(); });

  it('runs 50 tasks with %3: exact argv for a hostile corpus, never more than 3 at once', async () => {
    const home = makeHome();
    const pilot = new SlurmWrapper({ home });
    const src = srcCopy();
    // 50 tasks: the hostile corpus (> 30 words) spread over tasks, plus whole-corpus tasks and empty argv
    const args: string[][] = Array.from({ length: 50 }, (_, i) =>
      i === 0 ? HOSTILE_ARGS : i === 1 ? [] : [HOSTILE_ARGS[i % HOSTILE_ARGS.length]!, `task-${i + 1}`, HOSTILE_ARGS[(i * 7) % HOSTILE_ARGS.length]!]);
    const job = await pilot.scheduleJobs({
      jobName: 'hostile', cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args, maxConcurrent: 3, time: '0:05:00',
      env: { SLEEP: '0.6', EVIL: '$(touch /tmp/pilot-env-pwned)' },
    });
    expect(job.tasks).toBe(50);
    expect(job.slurmJobIds).toHaveLength(1);
    let maxRunning = 0;
    const poll = async () => {
      const q = await ssh.exec(`squeue -h -r -j ${job.slurmJobIds[0]} -o '%T' 2>/dev/null | grep -c RUNNING`);
      maxRunning = Math.max(maxRunning, Number(q.stdout.trim() || 0));
    };
    for (let i = 0; i < 300; i++) {
      await poll();
      const left = await ssh.exec(`squeue -h -j ${job.slurmJobIds[0]} 2>/dev/null | wc -l`);
      if (left.stdout.trim() === '0') break;
      await sleep(300);
    }
    expect(maxRunning).toBeGreaterThanOrEqual(2);
    expect(maxRunning).toBeLessThanOrEqual(3);
    const out = await ssh.exec(`cd ${job.remoteDir}/logs && for f in *.out; do cat "$f"; done`);
    const seen = new Map<number, string[]>();
    let task = 0;
    for (const line of out.stdout.split('\n')) {
      if (line.startsWith('task=')) task = Number(line.slice(5));
      if (line.startsWith('argv=')) seen.set(task, decodeArgsLine(line.slice(5)));
    }
    expect(seen.size).toBe(50);
    for (let i = 0; i < 50; i++) expect(seen.get(i + 1), `task ${i + 1}`).toEqual(args[i]);
    const pwned = await ssh.exec('ls /tmp/pilot-pwned /tmp/pilot-env-pwned 2>/dev/null | wc -l');
    expect(pwned.stdout.trim()).toBe('0');
    await pilot.close();
  });

  it('uploads the bundle once: a second launch with unchanged sources sends 0 bundle bytes', async () => {
    const home = makeHome();
    const src = srcCopy();
    writeFileSync(join(src, 'ignored.txt'), 'x'.repeat(10_000));
    const a = new SlurmWrapper({ home });
    const first = await a.scheduleJobs({ jobName: 'once-a', cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: ['1'] });
    await a.close();
    expect(first.bundle.uploadedBytes).toBeGreaterThan(0);
    const b = new SlurmWrapper({ home });
    const second = await b.scheduleJobs({ jobName: 'once-b', cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: ['2'] });
    const stats = await b.transportStats('lab');
    await b.close();
    expect(second.bundle.sha256).toBe(first.bundle.sha256);
    expect(second.bundle.uploadedBytes).toBe(0);
    expect(stats!.uploads).toBe(0);
    // the gitignored file did not travel
    const ls = await ssh.exec(`ls ${first.remoteDir}/../../bundles/${first.bundle.sha256}/src`);
    expect(ls.stdout.split('\n')).toContain('echo.sh');
    expect(ls.stdout).not.toContain('ignored.txt');
  });

  it('runs the same number of remote commands for N = 10 and N = 1000', async () => {
    const counts: number[] = [];
    for (const n of [10, 1000]) {
      const home = makeHome();
      const pilot = new SlurmWrapper({ home });
      const job = await pilot.scheduleJobs({ jobName: `count-${n}`, cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: Array.from({ length: n }, (_, i) => [`${i}`]) });
      counts.push((await pilot.transportStats('lab'))!.commands);
      await ssh.exec(`scancel ${job.slurmJobIds.join(' ')}`);
      await pilot.close();
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeLessThanOrEqual(3);
  });

  it('a launch of sources the cluster already has is ONE remote command; a bundle removed there is uploaded again', async () => {
    const home = makeHome();
    const pilot = new SlurmWrapper({ home });
    const src = mkdtempSync(join(tmpdir(), 'pilot-onecmd-'));
    cpSync(FIXTURE, src, { recursive: true });
    writeFileSync(join(src, 'version.txt'), `v-${process.pid}-${Date.now()}\n`);   // a bundle of its own
    const first = await pilot.scheduleJobs({ jobName: 'onecmd-1', cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: ['a'] });
    const afterFirst = (await pilot.transportStats('lab'))!.commands;
    const second = await pilot.scheduleJobs({ jobName: 'onecmd-2', cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: ['b'] });
    expect((await pilot.transportStats('lab'))!.commands - afterFirst).toBe(1);
    expect(second.bundle.uploadedBytes).toBe(0);
    // the bundle is removed on the cluster (as gc elsewhere would): the submit command's own check sends pilot
    // back to the probe and the upload, and the task runs
    // (bundles are read-only: their folders need their write bit back first, as gc gives them)
    const gone = await ssh.exec(`B=${first.remoteDir}/../../bundles/${first.bundle.sha256}; chmod -R u+w "$B" && rm -rf "$B"`);
    expect(gone.code, gone.stderr).toBe(0);
    const third = await pilot.scheduleJobs({ jobName: 'onecmd-3', cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: ['c'] });
    expect(third.bundle.uploadedBytes).toBeGreaterThan(0);
    expect(third.slurmJobIds).toHaveLength(1);
    await waitForLogs(ssh, third.remoteDir, 1);
    await sleep(300);
    expect((await ssh.exec(`cat ${third.remoteDir}/logs/*.out`)).stdout).toContain('task=1');
    // an interpreter the cluster lacks is refused by that one command's own check as the probe would: exit 2,
    // nothing recorded or left in Slurm, the name free
    const before = (await pilot.transportStats('lab'))!.commands;
    const refused = await pilot.scheduleJobs({ jobName: 'onecmd-4', cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', interpreter: 'no-such-python' }).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(PilotError);
    expect((refused as PilotError).exitCode).toBe(2);
    expect((refused as PilotError).message).toMatch(/interpreter no-such-python is not found on lab/);
    expect((await pilot.transportStats('lab'))!.commands - before).toBe(2);   // the checked submit, then the probe
    expect((await pilot.list()).map((j) => j.name)).not.toContain('onecmd-4');
    expect((await ssh.exec(`squeue -h -t all -n onecmd-4 -o %i`)).stdout.trim()).toBe('');
    await ssh.exec(`scancel ${[...first.slurmJobIds, ...second.slurmJobIds].join(' ')}`);
    await pilot.close();
  });

  it('splits arrays larger than MaxArraySize; every task 1..N runs exactly once', async () => {
    const home = makeHome('    maxArraySize: 8');
    const pilot = new SlurmWrapper({ home });
    const job = await pilot.scheduleJobs({ jobName: 'split', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: Array.from({ length: 20 }, (_, i) => [`arg${i + 1}`]), maxConcurrent: 4 });
    await pilot.close();
    expect(job.slurmJobIds).toHaveLength(3); // 7 + 7 + 6
    await waitForLogs(ssh, job.remoteDir, 20);
    await sleep(500);
    const out = await ssh.exec(`cat ${job.remoteDir}/logs/*.out`);
    const tasks = out.stdout.split('\n').filter((l) => l.startsWith('task=')).map((l) => Number(l.slice(5))).sort((a, b) => a - b);
    expect(tasks).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const argvs = out.stdout.split('\n').filter((l) => l.startsWith('argv=')).map((l) => decodeArgsLine(l.slice(5))[0]).sort();
    expect(new Set(argvs).size).toBe(20);
  });

  it('reports sbatch refusing an invalid partition and records nothing', async () => {
    const home = makeHome();
    const pilot = new SlurmWrapper({ home });
    const err = await pilot.scheduleJobs({ jobName: 'badpart', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', partition: 'nosuchpartition' }).then(() => null, (e) => e);
    await pilot.close();
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).code).toBe('SUBMIT');
    expect((err as PilotError).message).toMatch(/invalid partition/i);
    expect(readdirSync(join(home, 'jobs'))).toEqual([]);
  });

  it('refuses bad job info before connecting, naming the field', async () => {
    const home = makeHome();
    const pilot = new SlurmWrapper({ home });
    const err = await pilot.scheduleJobs({ jobName: 'bad', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: ['--ok', 12 as unknown as string], maxConcurrent: -1 }).then(() => null, (e) => e);
    expect((err as PilotError).code).toBe('BAD_INPUT');
    expect((err as PilotError).message).toMatch(/args\[1\]|maxConcurrent/);
    expect(await pilot.transportStats('lab')).toBeUndefined();
  });

  it('never overwrites an existing job name', async () => {
    const home = makeHome();
    const pilot = new SlurmWrapper({ home });
    await pilot.scheduleJobs({ jobName: 'dup', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh' });
    const err = await pilot.scheduleJobs({ jobName: 'dup', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh' }).then(() => null, (e) => e);
    expect((err as PilotError).code).toBe('EXISTS');
    const third = await pilot.scheduleJobs({ jobName: 'dup', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', uniqueName: true });
    expect(third.name).toBe('dup-2');
    await pilot.close();
  });
});
