// Daily use against the real Slurm test cluster (issue 9): a failed sweep makes `launch --wait` and `wait` exit 1,
// `status` shows each failure's class and the last line of its stderr, read in the SAME remote command as the
// states; an expired --timeout exits 124 with the last status; logs of a pending task and cancel say what is so.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { pilot } from '../support/cli.js';
import { makeHome } from '../support/cluster.js';

/** A job file for the cluster `lab`: task 2 writes `boom: something broke` to stderr and exits 3. */
function sweep(name: string, opts: { sleep?: number; tasks?: number; maxConcurrent?: number } = {}): { yaml: string; src: string } {
  const src = mkdtempSync(join(tmpdir(), 'pilot-daily-slurm-'));
  writeFileSync(join(src, 'run.sh'), [
    'echo "task $1 starts"',
    `sleep ${opts.sleep ?? 0}`,
    'if [ "$1" = 2 ]; then echo "some warning" >&2; printf "boom: something broke\\n" >&2; exit 3; fi',
    'echo "task $1 done"',
  ].join('\n'));
  const yaml = join(src, 'job.yaml');
  writeFileSync(yaml, [
    `jobName: ${name}`, 'cluster: lab', 'srcDir: .', 'entrypoint: run.sh', `maxConcurrent: ${opts.maxConcurrent ?? 3}`,
    'args:', ...Array.from({ length: opts.tasks ?? 3 }, (_, i) => `  - "${i + 1}"`),
  ].join('\n'));
  return { yaml, src };
}

describe('daily use on the Slurm test cluster', () => {
  it('a failed sweep: launch --wait exits 1 with the JSON; status shows `EXIT 3  boom: something broke`', async () => {
    const home = makeHome();
    const launched = await pilot(['launch', sweep('sl-boom').yaml, '--wait', '--json'], home);
    expect(launched.code, launched.stderr).toBe(1);
    const doc = JSON.parse(launched.stdout);
    expect(doc.counts).toEqual({ COMPLETED: 2, FAILED: 1 });
    expect(doc.tasks[1]).toMatchObject({ index: 2, state: 'FAILED', exitCode: 3, attempt: 1, failure: 'EXIT', lastError: 'boom: something broke' });

    const status = await pilot(['status'], home);                  // the latest job
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^\s+2\s+FAILED\s+3\s+1\s+EXIT 3\s+boom: something broke$/m);
    expect((await pilot(['status', 'sl-b', '--check'], home)).code).toBe(1);
    expect((await pilot(['wait', 'sl-boom'], home)).code).toBe(1);
    expect((await pilot(['logs', '/2', '--stderr'], home)).stdout).toBe('some warning\nboom: something broke\n');
    const cancel = await pilot(['cancel', 'sl-boom'], home);
    expect(cancel.stdout).toBe('nothing to cancel: every task of sl-boom has finished (COMPLETED 2  FAILED 1)\n');
  });

  it('reads the stderr line in the same single remote command as the states, and never again', async () => {
    const home = makeHome();
    const { src } = sweep('unused');
    const w = new SlurmWrapper({ home });
    try {
      await w.scheduleJobs({ jobName: 'sl-once', cluster: 'lab', srcDir: src, entrypoint: 'run.sh', args: ['1', '2'] });
      const stats = (await w.transportStats('lab'))!;
      let final;
      for (let i = 0; i < 120; i++) {
        const before = stats.commands;
        final = await w.status('sl-once');
        expect(stats.commands - before).toBe(1);                    // ONE remote command per status call
        if (final.done) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(final!.done).toBe(true);
      expect(final!.tasks[1]).toMatchObject({ state: 'FAILED', exitCode: 3 });
      // read in the call that saw the failure final, or (sacct lagging) the next one: then never asked again
      const settled = await w.status('sl-once');
      expect(settled.tasks[1]!.lastError).toBe('boom: something broke');
      expect(settled.tasks[0]!.lastError).toBeUndefined();
      const before = stats.commands;
      await w.status('sl-once');
      expect(stats.commands).toBe(before);
    } finally {
      await w.close();
    }
  });

  it('an expired --timeout exits 124 with the last status; a pending task\'s logs say so; cancel says what it cancelled', async () => {
    const home = makeHome();
    expect((await pilot(['launch', sweep('sl-slow', { sleep: 60, tasks: 2, maxConcurrent: 1 }).yaml], home)).code).toBe(0);
    const waited = await pilot(['wait', 'sl-slow', '--timeout', '2', '--json'], home);
    expect(waited.code, waited.stderr).toBe(124);
    expect(JSON.parse(waited.stdout)).toMatchObject({ name: 'sl-slow', done: false, timedOut: true });
    expect(waited.stderr).toMatch(/^error: job 'sl-slow' is not finished after \d+ s/m);
    expect((await pilot(['status', 'sl-slow', '--check'], home)).code).toBe(124);

    const logs = await pilot(['logs', 'sl-slow/2'], home);        // %1: task 2 waits for task 1
    expect(logs.code).toBe(0);
    expect(logs.stdout).toBe('');
    expect(logs.stderr).toBe('sl-slow/2 has not started yet (PENDING); `pilot logs sl-slow/2 --follow` prints its output as it comes\n');

    const cancel = await pilot(['cancel', 'sl-slow'], home);
    expect(cancel.stdout).toMatch(/^cancelled sl-slow: 2 tasks \((RUNNING 1  PENDING 1|PENDING 2)\)\n$/);
    const over = await pilot(['wait', 'sl-slow', '--timeout', '90', '--json'], home);
    expect(over.code, over.stderr).toBe(1);                         // cancelled tasks did not complete
    expect(JSON.parse(over.stdout).counts).toEqual({ CANCELLED: 2 });
    expect((await pilot(['cancel', 'sl-slow'], home)).stdout).toBe('nothing to cancel: every task of sl-slow has finished (CANCELLED 2)\n');
  });
});
