// The engine and the Slurm driver over a fake transport that answers with outputs recorded on the real cluster:
// launch, chunking past MaxArraySize, status lag, restart-failed, cancel, lost replies. Runs in milliseconds;
// the integration tier runs the same flows against real Slurm.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../../src/index.js';
import { PilotError } from '../../../src/model/errors.js';
import { fakeLab, FakeCluster, fixture, framed, type FakeClusterOptions } from '../../support/fake-cluster.js';

const SRC = join(import.meta.dirname, '..', '..', 'fixtures', 'echo-argv');

function setup(options: FakeClusterOptions = {}) {
  const { home, cluster, pilot } = fakeLab(options);
  const job = (jobName: string, tasks: number, extra: Record<string, unknown> = {}) =>
    pilot.scheduleJobs({ jobName, cluster: 'lab', srcDir: SRC, entrypoint: 'echo.sh', args: Array.from({ length: tasks }, (_, i) => String(i + 1)), ...extra });
  return { home, cluster, pilot, job };
}

describe('launch', () => {
  it('costs a probe and one submit whatever N is, uploads the bundle once, records the array; then ONE command', async () => {
    const { cluster, pilot, job } = setup({ jobIds: ['14', '15'] });
    const events: string[] = [];
    pilot.on('submitted', (e) => events.push(`${e.name}:${e.jobIds.join(',')}`));
    const a = await job('one', 1000, { maxConcurrent: 3 });
    expect(a.slurmJobIds).toEqual(['14']);
    expect(cluster.commands).toHaveLength(2);
    expect(cluster.uploads).toHaveLength(1);
    expect(cluster.commands[1]).toContain("--array=1-1000%3");
    const b = await job('two', 10);
    expect(b.bundle.uploadedBytes).toBe(0);
    expect(cluster.uploads).toHaveLength(1);
    // the cluster's facts are cached and the bundle was seen there: the submit command checks them itself
    expect(cluster.commands).toHaveLength(3);
    expect(cluster.commands[2]).toContain('@@unready bundle');
    expect(events).toEqual(['one:14', 'two:15']);
    const record = await pilot.store.read('one');
    expect(record.attempts[0]!.arrays).toEqual([{ jobId: '14', offset: 0, arraySpec: '1-1000%3' }]);
    expect(record.pending).toBeUndefined();
  });

  it('splits past MaxArraySize into chained arrays with offsets, keeping a user dependency', async () => {
    const { cluster, pilot, job } = setup({ maxArraySize: 4, jobIds: ['30', '31', '32'] });
    const r = await job('split', 7, { maxConcurrent: 2, sbatchArgs: ['--dependency=afterok:99'] });
    expect(r.slurmJobIds).toEqual(['30', '31', '32']);
    const submit = cluster.commands[1]!;
    expect(submit).toContain('--array=1-3%2 job.sh 0 1');
    expect(submit).toContain('--array=1%2 --dependency=afterok:99,afterany:"$prev" job.sh 6 1');
    expect((await pilot.store.read('split')).attempts[0]!.arrays.map((a) => a.offset)).toEqual([0, 3, 6]);
    await expect(job('split-or', 7, { sbatchArgs: ['--dependency=afterok:1?afterok:2'] })).rejects.toThrow(/cannot be combined/);
  });

  it('a launch that skipped the probe falls back to it when the bundle is gone, and refuses like it', async () => {
    const { cluster, pilot, job } = setup({ jobIds: ['20', '21', '22'] });
    await job('first', 2);
    const sha = (await pilot.store.read('first')).bundle.sha256;
    cluster.gone.add(sha);   // removed on the cluster (pilot gc elsewhere)
    const n = cluster.commands.length;
    const r = await job('after-gc', 2);
    expect(r.slurmJobIds).toEqual(['21']);
    // the submit command stopped at its check, then probe, upload, submit as a first launch
    expect(cluster.commands.slice(n).map((c) => (c.includes('@@unready') ? 'checked submit' : c.includes('bundle=present') ? 'probe' : 'submit'))).toEqual(['checked submit', 'probe', 'submit']);
    expect(cluster.uploads).toHaveLength(2);
    const record = await pilot.store.read('after-gc');
    expect(record.pending).toBeUndefined();
    expect(record.remote.jobDir).toMatch(/^\/home\/pilot\/pilot\/jobs\/after-gc-/);
    // a missing interpreter found by the submit command's own check: exit 2, nothing recorded, the name free
    await job('interp-ok', 1, { interpreter: 'bash' });
    const refused = await job('no-interp', 1, { interpreter: 'no-such-shell' }).catch((e: unknown) => e as PilotError);
    expect(refused).toBeInstanceOf(PilotError);
    expect((refused as PilotError).exitCode).toBe(2);
    expect((refused as PilotError).message).toMatch(/interpreter no-such-shell is not found on lab/);
    await expect(pilot.store.read('no-interp')).rejects.toThrow();
  });

  it('the controller down at a launch that skipped the probe: nothing submitted, the name is free', async () => {
    const { cluster, pilot, job } = setup({ jobIds: ['40'] });
    await job('up', 1);
    (cluster as unknown as { options: { controllerUp: boolean } }).options.controllerUp = false;
    const e = await job('down-late', 1).then(() => { throw new Error('launched'); }, (err: unknown) => err as PilotError);
    expect(e.message).toMatch(/controller of lab is not answering/);
    expect(e.hint).toMatch(/name is free/);
    expect(cluster.commands.at(-1)).toContain('@@unready');   // it was the submit command's own check
    await expect(pilot.store.read('down-late')).rejects.toThrow();
  });

  it('a controller back while the launch waits to ask again: the next try submits, once', async () => {
    const { cluster, job } = setup({ controllerUp: false, jobIds: ['50'] });
    const options = (cluster as unknown as { options: { controllerUp: boolean } }).options;
    const exec = cluster.exec.bind(cluster);
    cluster.exec = async (command, o) => {
      const r = await exec(command, o);
      if (command.includes('bundle=present')) options.controllerUp = true;   // back after the first probe
      return r;
    };
    expect((await job('back', 2)).slurmJobIds).toEqual(['50']);
    expect(cluster.commands.filter((c) => c.includes('bundle=present'))).toHaveLength(2);
    expect(cluster.commands.filter((c) => c.includes('sbatch --parsable'))).toHaveLength(1);
  });

  it('stops at the probe when the controller is down: nothing submitted, the name is free', async () => {
    const { cluster, job, home } = setup({ controllerUp: false });
    await expect(job('down', 2)).rejects.toThrow(/controller of lab is not answering: nothing was submitted \(asked 3 times over 0 s\)/);
    // asked again with backoff ($PILOT_SUBMIT_RETRY_MS: two waits in the unit tier), then the clear error
    expect(cluster.commands.filter((c) => c.includes('bundle=present'))).toHaveLength(3);
    expect(cluster.commands.some((c) => c.includes('sbatch --parsable'))).toBe(false);
    const again = new SlurmWrapper({ home, connect: async () => new FakeCluster() });
    expect((await again.scheduleJobs({ jobName: 'down', cluster: 'lab', srcDir: SRC, entrypoint: 'echo.sh' })).name).toBe('down');
  });

  it('a lost submit reply leaves a pending record that the next status adopts from the marker', async () => {
    const { pilot, job, home } = setup({ loseSubmitReply: true });
    const err = await job('lost', 6).then(() => undefined, (e: Error & { step?: string }) => e);
    expect(err?.step).toBe('submit');
    expect((await pilot.store.read('lost')).pending).toBeDefined();
    const marker = '@@pilot-adopt:marker\nbegin 4242\nsubmitted 14 0 1-6\nend\n@@pilot-adopt:squeue\n@@pilot-adopt:rc=0\n@@pilot-adopt:sacct\n@@pilot-adopt:rc=0\n';
    const later = new SlurmWrapper({ home, connect: async () => new FakeCluster({ adopt: marker, status: [fixture('status-accounting-3ids')] }) });
    const s = await later.status('lost');
    expect(s.slurmJobIds).toEqual(['14']);
    expect(s.counts).toEqual({ COMPLETED: 4, FAILED: 2 });
    expect((await later.store.read('lost')).pending).toBeUndefined();
  });
});

describe('status', () => {
  it('is lag-safe: an empty answer never turns a known state into UNKNOWN, and changes are announced', async () => {
    const { pilot, job } = setup({
      jobIds: ['20'],
      status: [
        framed({ sacct: fixture('sacct-just-submitted'), squeue: fixture('squeue-just-submitted') }),
        framed({ sacct: '', squeue: '' }),
        framed({ sacct: fixture('sacct-throttled'), squeue: fixture('squeue-throttled') }),
      ],
    });
    await job('lag', 20, { maxConcurrent: 3 });
    const changes: string[] = [];
    pilot.on('taskChanged', (e) => { if (e.index <= 4) changes.push(`${e.index}:${e.from}->${e.to}`); });
    // recorded right after sbatch: sacct has no row yet, squeue already shows 3 running
    expect((await pilot.status('lag')).counts).toEqual({ RUNNING: 3, PENDING: 17 });
    // an answer without the tasks (sacct lagging, squeue purged) keeps what was known, and the job is not done
    const second = await pilot.status('lag');
    expect(second.counts).toEqual({ RUNNING: 3, PENDING: 17 });
    expect(second.done).toBe(false);
    expect((await pilot.status('lag')).counts).toEqual({ RUNNING: 3, PENDING: 17 });
    expect(changes).toEqual(['1:UNKNOWN->RUNNING', '2:UNKNOWN->RUNNING', '3:UNKNOWN->RUNNING', '4:UNKNOWN->PENDING']);
  });

  it('asks once per cluster for many jobs, and never again for final ones', async () => {
    const { cluster, pilot, job } = setup({ jobIds: ['14', '142'], status: [fixture('status-accounting-3ids')] });
    await job('a', 6);
    await job('b', 6);
    const before = cluster.commands.length;
    const [a, b] = await pilot.status(['a', 'b']);
    expect(cluster.commands.length - before).toBe(1);
    expect(a!.done && b!.done).toBe(true);
    expect(a!.tasks[2]).toMatchObject({ state: 'FAILED', exitCode: 3 });
    await pilot.status(['a', 'b']);
    expect(cluster.commands.length - before).toBe(1);
  });
});

describe('the last stderr line of failed tasks', () => {
  const STDERR = { '14_3': 'Traceback (most recent call last):\n  ...\nboom: something broke\n', '14_1': 'a warning\n' };

  it('comes in the same round trip as the states, for the failures only, and is never asked for again', async () => {
    const { cluster, pilot, job } = setup({ jobIds: ['14'], status: [fixture('status-accounting-3ids')], stderr: STDERR });
    await job('tails', 6);
    const before = cluster.commands.length;
    const s = await pilot.status('tails');
    expect(cluster.commands.length - before).toBe(1);
    expect(cluster.commands.at(-1)).toContain('s tails t /home/pilot/pilot/jobs/tails-');
    expect(s.tasks[2]).toMatchObject({ state: 'FAILED', exitCode: 3, lastError: 'boom: something broke' });
    expect(s.tasks[4]).toMatchObject({ state: 'FAILED', signal: 9, lastError: '' });   // no stderr file: read, empty
    expect(s.tasks[0]!.lastError).toBeUndefined();                                     // completed: not kept
    await pilot.status('tails');
    expect(cluster.commands.length - before).toBe(1);
  });

  it('a finished job whose failures were never read owes one call that reads only their stderr files', async () => {
    const { cluster, pilot, job } = setup({ jobIds: ['14'], status: [fixture('status-accounting-3ids')], stderr: STDERR });
    await job('legacy', 6);
    await pilot.status('legacy');
    // as a record written before lastError existed
    const r = await pilot.store.read('legacy');
    for (const t of Object.values(r.finalStates)) delete t.lastError;
    await pilot.store.write(r);
    const before = cluster.commands.length;
    await pilot.list({ openOnly: true });                                                   // `pilot list` shows no such line
    expect(cluster.commands.length).toBe(before);
    expect((await pilot.status('legacy')).tasks[2]!.lastError).toBe('boom: something broke');
    expect(cluster.commands.slice(before)).toHaveLength(1);
    expect(cluster.commands.at(-1)).toMatch(/s tails t \S+ 14_3 14_5;/);
    expect(cluster.commands.at(-1)).not.toContain('sacct');
    await pilot.status('legacy');
    expect(cluster.commands.length - before).toBe(1);
  });
});

describe('job references', () => {
  it('takes an exact name, a unique prefix, or nothing (the latest job); an ambiguous prefix lists the names', async () => {
    const { pilot, job } = setup({ jobIds: ['14', '15', '16'] });
    await job('sweep-a', 1);
    await job('sweep-b', 1);
    await job('sweep', 1);
    expect(await pilot.resolve('sweep-a/3')).toEqual({ name: 'sweep-a', index: 3 });
    expect(await pilot.resolve('sweep')).toEqual({ name: 'sweep' });          // exact beats prefix
    expect(await pilot.resolve()).toEqual({ name: 'sweep' });                 // the latest launched
    expect(await pilot.resolve('/2')).toEqual({ name: 'sweep', index: 2 });
    const err = await pilot.resolve('sweep-').catch((e: PilotError) => e);
    expect(err).toMatchObject({ code: 'BAD_INPUT', exitCode: 2 });
    expect((err as PilotError).message).toMatch(/'sweep-' is the start of 2 job names: sweep-a, sweep-b/);
    await expect(pilot.resolve('')).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(pilot.status('nope')).rejects.toMatchObject({ code: 'NOT_FOUND', exitCode: 2 });
    expect((await pilot.list()).map((s) => s.name)).toEqual(['sweep', 'sweep-b', 'sweep-a']);   // newest first
    expect((await pilot.list({ last: 1 })).map((s) => s.name)).toEqual(['sweep']);
  });
});

describe('restart-failed and cancel', () => {
  it('resubmits exactly the failed tasks once, even when asked twice at the same moment', async () => {
    const { cluster, pilot, job } = setup({ jobIds: ['14', '90', '91'], status: [fixture('status-accounting-3ids')] });
    await job('mix', 6);
    const [r1, r2] = await Promise.all([pilot.restartFailed('mix'), pilot.restartFailed('mix')]);
    const done = [r1, r2].filter((r) => r.slurmJobIds.length);
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ attempt: 2, indices: [3, 5], slurmJobIds: ['90'] });
    expect(cluster.commands.filter((c) => c.includes('sbatch --parsable')).at(-1)).toContain("--array=3,5 job.sh 0 2");
    expect((await pilot.store.read('mix')).attempts.map((a) => a.indices)).toEqual(['1-6', '3,5']);
  });

  it('cancels a task by its array element and a job by all its arrays', async () => {
    // the status query gets no answer: the states are unknown (stale), so the cancel is sent anyway
    const { cluster, pilot, job } = setup({ jobIds: ['14'] });
    await job('stop', 6);
    expect(await pilot.cancel('stop/3')).toEqual({ name: 'stop', index: 3, cancelled: { UNKNOWN: 1 }, finished: {} });
    expect(await pilot.cancel('st')).toMatchObject({ name: 'stop', cancelled: { UNKNOWN: 6 } });   // a unique prefix
    expect(cluster.commands.filter((c) => c.startsWith('scancel'))).toEqual(['scancel 14_3', 'scancel 14']);
    await expect(pilot.cancel('stop/9')).rejects.toThrow(/has no task 9/);
  });

  it('sends nothing to cancel a job or a task that has finished, and says what had finished', async () => {
    const { cluster, pilot, job } = setup({ jobIds: ['14'], status: [fixture('status-accounting-3ids')] });
    await job('over', 6);
    expect(await pilot.cancel('over')).toEqual({ name: 'over', cancelled: {}, finished: { COMPLETED: 4, FAILED: 2 } });
    expect(await pilot.cancel('over/3')).toEqual({ name: 'over', index: 3, cancelled: {}, finished: { FAILED: 1 } });
    expect(cluster.commands.some((c) => c.startsWith('scancel'))).toBe(false);
  });
});

describe('connections', () => {
  it('replaces a dropped connection instead of failing for ever (a long wait outlives a VPN drop)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pilot-engine-'));
    writeFileSync(join(home, 'config.yaml'), 'clusters:\n  lab: { host: fake.invalid, partition: debug }\n');
    const made: FakeCluster[] = [];
    const pilot = new SlurmWrapper({ home, connect: async () => { made.push(new FakeCluster({ jobIds: ['14'], status: [fixture('status-accounting-3ids')] })); return made.at(-1)!; } });
    await pilot.scheduleJobs({ jobName: 'drop', cluster: 'lab', srcDir: SRC, entrypoint: 'echo.sh', args: ['1', '2', '3', '4', '5', '6'] });
    expect(made).toHaveLength(1);
    made[0]!.closed = true;
    const s = await pilot.status('drop');
    expect(made).toHaveLength(2);
    expect(s.stale).toBeUndefined();
    expect(s.done).toBe(true);
  });
});
