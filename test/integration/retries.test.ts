// Automatic retries and notifications on the real Slurm test cluster: a timeout retried with a doubled limit,
// a plain failure left alone unless FAILED is retried, two watchers never past maxRetries, one webhook message per event.
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { pilot } from '../support/cli.js';
import { makeHome, sleep } from '../support/cluster.js';

const SRC = join(import.meta.dirname, '..', 'fixtures', 'retry');
const job = { cluster: 'lab', srcDir: SRC, entrypoint: 'task.sh' };
const fast = { minIntervalMs: 500, maxIntervalMs: 2000 };

/** Polls status (which never retries) until every task is final. */
async function untilFinal(w: SlurmWrapper, name: string) {
  for (;;) {
    const s = await w.status(name);
    if (s.done) return s;
    await sleep(500);
  }
}

describe.concurrent('automatic retries and notifications on lab', () => {
  it('a task that times out is retried with twice the limit and completes', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    await w.scheduleJobs({ ...job, jobName: 'retry-timeout', args: ['slow-first'], time: '1', maxRetries: 2, onTimeout: { timeFactor: 2 } });
    const started = Date.now();
    const final = await w.wait('retry-timeout', { ...fast, timeoutMs: 240_000 });
    console.log(`timeout + retry took ${Math.round((Date.now() - started) / 1000)} s`);
    expect(final.counts).toEqual({ COMPLETED: 1 });
    const record = await w.store.read('retry-timeout');
    expect(record.attempts.map((a) => [a.attempt, a.indices, a.resources])).toEqual([[1, '1', undefined], [2, '1', { time: '00:02:00' }]]);
    expect((await w.logs('retry-timeout/1')).stdout).toContain('done on attempt 2');
    await w.close();
  }, 300_000);

  it('a task that exits 1 is not retried by default; with retryOn FAILED, two watchers at once stay within maxRetries', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    await w.scheduleJobs({ ...job, jobName: 'retry-exit-no', args: ['fail', 'ok'], maxRetries: 2 });
    await w.scheduleJobs({ ...job, jobName: 'retry-exit-yes', args: ['fail', 'ok'], maxRetries: 1, retryOn: ['FAILED'] });
    const no = await w.wait('retry-exit-no', { ...fast, timeoutMs: 120_000 });
    expect(no.counts).toEqual({ COMPLETED: 1, FAILED: 1 });
    expect(no.attempts).toBe(1);
    await untilFinal(w, 'retry-exit-yes');
    await w.close();
    // two cron passes at the same moment: one retry, not two
    const once = await Promise.all([pilot(['watch', '--once', 'retry-exit-yes'], home), pilot(['watch', '--once', 'retry-exit-yes'], home)]);
    expect(once.map((r) => r.stderr).join('')).toMatch(/retrying task 1 as attempt 2/);
    expect((await new SlurmWrapper({ home }).store.read('retry-exit-yes')).attempts).toHaveLength(2);
    // two long watchers to the end: the task fails again and is not retried past maxRetries
    const both = await Promise.all([pilot(['watch', 'retry-exit-yes', '--interval', '1'], home), pilot(['watch', 'retry-exit-yes', '--interval', '1', '--json'], home)]);
    expect(both.map((r) => r.code)).toEqual([1, 1]);
    const record = await new SlurmWrapper({ home }).store.read('retry-exit-yes');
    expect(record.attempts.map((a) => a.indices)).toEqual(['1-2', '1']);
    expect(record.finalStates['1']).toMatchObject({ state: 'FAILED', attempt: 2 });
  }, 240_000);

  it('a webhook receives exactly one job_end and one job_failed message, with counts and the failed task', async () => {
    const bodies: { event: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => { bodies.push(JSON.parse(body)); res.end('ok'); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const home = makeHome();
      const w = new SlurmWrapper({ home });
      await w.scheduleJobs({ ...job, jobName: 'notify-end', args: ['ok', 'fail'], notify: { on: ['job_end', 'job_failed'], webhook: url } });
      // a wait and a watch at once, then another wait: one message per event
      await Promise.all([w.wait('notify-end', { ...fast, timeoutMs: 120_000 }), pilot(['watch', 'notify-end', '--interval', '1'], home)]);
      await w.wait('notify-end', fast);
      await w.close();
      expect(bodies.map((b) => b.event).sort()).toEqual(['job_end', 'job_failed']);
      for (const b of bodies) {
        expect(b).toMatchObject({ job: 'notify-end', counts: { COMPLETED: 1, FAILED: 1 },
          failed: [{ index: 2, failureClass: 'EXIT', whyClass: 'NONZERO_EXIT', exitCode: 1, lastError: 'bad input on attempt 1' }] });
      }
    } finally {
      server.close();
    }
  }, 180_000);
});
