// `pilot why`, expected outputs and export on the real cluster (and on the local backend): the Traceback of a
// Python-like failure is found and a whitelisted warning is not, a task that completes without its expected file
// is MISSING_OUTPUT and restart-failed restarts it, export dumps the records.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper, type WhyReport } from '../../src/index.js';
import { pilot } from '../support/cli.js';
import { BACKENDS, makeHome } from '../support/cluster.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'why-task');

function srcCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-src-'));
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

const poll = { minIntervalMs: 300, maxIntervalMs: 1500, timeoutMs: 120_000 };

describe.each(BACKENDS)('why and expected files on %s', (cluster) => {
  it('finds the Traceback, ignores the whitelisted warning, marks a missing output, and restart-failed restarts it', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    const name = `why-${cluster}`;
    await w.scheduleJobs({
      jobName: name, cluster, srcDir: srcCopy(), entrypoint: 'task.sh', args: ['ok', 'crash', 'late'], time: '0:05:00',
      expectedFiles: ['result-{index}.txt', '$PILOT_JOB_DIR/outputs/{index}/*/result-{index}.*'],
      errorWhitelist: ['could not load optional plugin, continuing'],
    });
    const first = await w.wait(name, poll);
    expect(first.tasks.map((t) => [t.state, t.exitCode])).toEqual([['COMPLETED', 0], ['FAILED', 1], ['MISSING_OUTPUT', 0]]);
    expect(first.tasks[2]!.missingFiles).toEqual(['outputs/3/1/result-3.txt', 'outputs/3/*/result-3.*']);   // the attempt's own output folder
    // the SDK: the logs of every failed task in ONE command (plus a status call, when one is owed)
    const before = (await w.transportStats(cluster))?.commands;
    const sdk = await w.why(name);
    expect(sdk.tasks.map((t) => [t.index, t.failure])).toEqual([[2, 'NONZERO_EXIT'], [3, 'MISSING_OUTPUT']]);
    if (before !== undefined) expect((await w.transportStats(cluster))!.commands - before).toBeLessThanOrEqual(2);
    await w.close();

    // one task, through the CLI
    const one = await pilot(['why', `${name}/2`, '--json'], home);
    expect(one.code, one.stderr).toBe(0);
    const r2 = JSON.parse(one.stdout) as WhyReport;
    const t2 = r2.tasks[0]!;
    expect(t2).toMatchObject({ index: 2, state: 'FAILED', exitCode: 1, failure: 'NONZERO_EXIT' });
    expect(t2.errorLines.map((l) => l.text)).toEqual(['Traceback (most recent call last):', 'ValueError: learning rate must be positive']);
    expect(t2.stderrTail.at(-1)).toBe('ValueError: learning rate must be positive');   // the escape sequence is gone
    expect(JSON.stringify(r2)).not.toContain('optional plugin, continuing"');

    // the whole job, grouped by cause; the text form names the Traceback
    const all = await pilot(['why', name, '--json'], home);
    const report = JSON.parse(all.stdout) as WhyReport;
    expect(report.groups).toEqual([{ failure: 'NONZERO_EXIT', tasks: [2] }, { failure: 'MISSING_OUTPUT', tasks: [3] }]);
    const text = await pilot(['why', name], home);
    expect(text.stdout).toContain('Traceback (most recent call last):');
    expect(text.stdout).toContain('missing files: outputs/3/1/result-3.txt');

    // a completed task: nothing wrong (the plugin message is whitelisted)
    const ok = await pilot(['why', `${name}/1`, '--json'], home);
    expect((JSON.parse(ok.stdout) as WhyReport).tasks[0]).toMatchObject({ state: 'COMPLETED', errorLines: [] });
    expect((JSON.parse(ok.stdout) as WhyReport).tasks[0]!.failure).toBeUndefined();

    // restart-failed restarts the missing output (and the crash); attempt 2 writes the file
    const restart = await pilot(['restart-failed', name, '--json'], home);
    expect(restart.code, restart.stderr).toBe(0);
    expect(JSON.parse(restart.stdout).indices).toEqual([2, 3]);
    const w2 = new SlurmWrapper({ home });
    const second = await w2.wait(name, poll);
    expect(second.tasks.map((t) => [t.state, t.attempt])).toEqual([['COMPLETED', 1], ['FAILED', 2], ['COMPLETED', 2]]);

    // export: the records, with argv and states
    const doc = await w2.export([name]);
    expect(doc.jobs[0]!.tasks.map((t) => [t.index, t.state, t.argv])).toEqual([[1, 'COMPLETED', ['ok']], [2, 'FAILED', ['crash']], [3, 'COMPLETED', ['late']]]);
    expect(doc.jobs[0]!.attempts.map((a) => a.indices)).toEqual(['1-3', '2-3']);
    await w2.close();
    const cli = await pilot(['export', name, '--format', 'json'], home);
    expect(JSON.parse(cli.stdout).jobs[0].name).toBe(name);
    expect((await pilot(['export', '--format', 'csv'], home)).code).toBe(2);

    if (cluster === 'local') return;
    // the cluster goes away: the states and classes from the record are still shown, and why the logs are not
    const cfg = join(home, 'config.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/port: \d+/, 'port: 1'));
    const offline = await pilot(['why', name], home);
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toContain('NONZERO_EXIT (1): 2');
    expect(offline.stdout).toMatch(/the logs could not be read: .*refused/);
  });
});
