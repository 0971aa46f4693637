// Daily use on the built-in `local` cluster, through the CLI as a new user meets it (issue 9): exit codes that
// scripts can trust, failures shown with their class and last stderr line, the latest job and name prefixes,
// the job list, a progress line that fits an 80-column terminal, and the small things (pending logs, cancel
// of a finished job, an empty --name).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pilot } from '../support/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pilot.js');
const freshHome = () => mkdtempSync(join(tmpdir(), 'pilot-daily-'));

/** A job file whose task 2 writes `boom: something broke` to stderr and exits 3; the others succeed after `sleep` s. */
function sweep(name: string, opts: { sleep?: number; tasks?: number; maxConcurrent?: number; fail?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-daily-src-'));
  writeFileSync(join(dir, 'run.sh'), [
    'echo "task $1 starts"',
    `sleep ${opts.sleep ?? 0}`,
    ...(opts.fail === false ? [] : ['if [ "$1" = 2 ]; then echo "some warning" >&2; echo "boom: something broke" >&2; exit 3; fi']),
    'echo "task $1 done"',
  ].join('\n'));
  writeFileSync(join(dir, 'job.yaml'), [
    `jobName: ${name}`, 'cluster: local', 'srcDir: .', 'entrypoint: run.sh', `maxConcurrent: ${opts.maxConcurrent ?? 4}`,
    'args:', ...Array.from({ length: opts.tasks ?? 3 }, (_, i) => `  - "${i + 1}"`),
  ].join('\n'));
  return join(dir, 'job.yaml');
}

describe('exit codes and failures (local)', () => {
  it('launch --wait and wait exit 1 on a failed sweep, print the document in every outcome, and status shows EXIT 3 with the stderr line', async () => {
    const home = freshHome();
    const launched = await pilot(['launch', sweep('dl-fail'), '--wait', '--json'], home);
    expect(launched.code, launched.stderr).toBe(1);
    const doc = JSON.parse(launched.stdout);
    expect(doc.counts).toEqual({ COMPLETED: 2, FAILED: 1 });
    expect(doc.timedOut).toBeUndefined();
    expect(doc.tasks[1]).toMatchObject({ index: 2, state: 'FAILED', exitCode: 3, attempt: 1, failure: 'EXIT', lastError: 'boom: something broke' });
    expect(doc.tasks[0]).toMatchObject({ index: 1, state: 'COMPLETED', exitCode: 0, attempt: 1 });

    const status = await pilot(['status', 'dl-fail'], home);
    expect(status.code).toBe(0);                                   // status reports; --check judges
    expect(status.stdout).toMatch(/^\s+2\s+FAILED\s+3\s+1\s+EXIT 3\s+boom: something broke$/m);
    expect((await pilot(['status', 'dl-fail', '--check'], home)).code).toBe(1);
    expect((await pilot(['wait', 'dl-fail'], home)).code).toBe(1);
    const shell = execFileSync('sh', ['-c', `node ${BIN} wait dl-fail --no-progress && echo NEXT-RAN || echo "NEXT-SKIPPED $?"`], { env: { ...process.env, PILOT_HOME: home }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(shell).toMatch(/NEXT-SKIPPED 1\n$/);

    const ok = await pilot(['launch', sweep('dl-ok', { fail: false }), '--wait', '--no-progress'], home);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).not.toMatch(/\[[#.]+\]/);                     // --no-progress
    expect((await pilot(['status', 'dl-ok', '--check'], home)).code).toBe(0);
  });

  it('an expired --timeout exits 124 with the last status (JSON: "timedOut": true); logs of a pending task say so; cancel says what it did', async () => {
    const home = freshHome();
    expect((await pilot(['launch', sweep('dl-slow', { sleep: 30, tasks: 2, maxConcurrent: 1, fail: false })], home)).code).toBe(0);
    const waited = await pilot(['wait', 'dl-slow', '--timeout', '1', '--json'], home);
    expect(waited.code, waited.stderr).toBe(124);
    const doc = JSON.parse(waited.stdout);
    expect(doc).toMatchObject({ name: 'dl-slow', done: false, timedOut: true });
    expect(waited.stderr).toMatch(/^error: job 'dl-slow' is not finished after \d+ s/m);
    const text = await pilot(['wait', 'dl-slow', '--timeout', '0'], home);
    expect(text.code).toBe(124);
    expect(text.stdout).toMatch(/^dl-slow  on local  2 tasks/);
    expect((await pilot(['status', '--check'], home)).code).toBe(124);

    const logs = await pilot(['logs', 'dl-slow/2'], home);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toBe('');
    expect(logs.stderr).toBe('dl-slow/2 has not started yet (PENDING); `pilot logs dl-slow/2 --follow` prints its output as it comes\n');

    const cancel = await pilot(['cancel', 'dl-slow'], home);
    expect(cancel.stdout).toBe('cancelled dl-slow: 2 tasks (RUNNING 1  PENDING 1)\n');
    await pilot(['wait', 'dl-slow', '--timeout', '30'], home);
    const again = await pilot(['cancel', 'dl-slow'], home);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('nothing to cancel: every task of dl-slow has finished (CANCELLED 2)\n');
  });

  it('refuses an empty --name or --cluster (exit 2) instead of using the job file\'s', async () => {
    const home = freshHome();
    for (const flag of ['--name', '--cluster']) {
      const r = await pilot(['launch', sweep('dl-empty'), flag, ''], home);
      expect(r.code, flag).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error: ${flag} is empty`));
    }
    expect((await pilot(['list', '--json'], home)).stdout).toBe('[]\n');
  });
});

describe('the latest job, prefixes and the list (local)', () => {
  it('an omitted job means the latest, a unique prefix is enough, an ambiguous one lists the candidates (exit 2)', async () => {
    const home = freshHome();
    for (const name of ['ref-alpha', 'ref-beta']) expect((await pilot(['launch', sweep(name, { fail: false }), '--wait', '--no-progress'], home)).code).toBe(0);
    const latest = await pilot(['status'], home);
    expect(latest.stdout).toMatch(/^ref-beta  on local/);
    expect(latest.stdout).not.toContain('ref-alpha');
    expect(latest.stderr).toMatch(/the latest job; 1 other: `pilot status --all`/);
    expect((await pilot(['status', '--all'], home)).stdout).toMatch(/ref-beta[\s\S]*ref-alpha/);
    // `status --json` without a name keeps listing every job, as before names could be left out
    expect(JSON.parse((await pilot(['status', '--json'], home)).stdout).map((s: { name: string }) => s.name)).toEqual(['ref-beta', 'ref-alpha']);
    expect((await pilot(['logs', '/3'], home)).stdout).toBe('task 3 starts\ntask 3 done\n');
    expect((await pilot(['logs', 'ref-a/1'], home)).stdout).toBe('task 1 starts\ntask 1 done\n');
    expect(JSON.parse((await pilot(['status', 'ref-al', '--json'], home)).stdout).name).toBe('ref-alpha');
    expect(JSON.parse((await pilot(['wait', '--json'], home)).stdout).name).toBe('ref-beta');
    const ambiguous = await pilot(['status', 'ref'], home);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/^error: 'ref' is the start of 2 job names: ref-alpha, ref-beta\n/);
    expect((await pilot(['logs', 'nope/1'], home)).code).toBe(2);

    const list = await pilot(['list'], home);
    const [head, first, second] = list.stdout.split('\n');
    expect(head).toMatch(/^name\s+cluster\s+submitted\s+age\s+tasks\s+attempts\s+states$/);
    expect(first).toMatch(/^ref-beta\s+local\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d+s\s+3\s+1\s+COMPLETED 3  \(done\)$/);
    expect(second).toMatch(/^ref-alpha\s/);
    const last = await pilot(['list', '--last', '1', '--json'], home);
    expect(JSON.parse(last.stdout).map((s: { name: string; submittedAt: string }) => [s.name, typeof s.submittedAt])).toEqual([['ref-beta', 'string']]);
  });
});

describe('progress on a terminal (local)', () => {
  /** Runs the CLI under a pseudo-terminal of `cols` columns (util-linux script), returning what the terminal got. */
  function onTerminal(args: string[], home: string, cols: number, env: Record<string, string> = {}): { code: number | null; out: string } {
    const cmd = `stty cols ${cols}; ${process.execPath} ${BIN} ${args.map((a) => `'${a}'`).join(' ')}`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, PILOT_HOME: home, ...env }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout };
  }

  it('stays one line no wider than the terminal (80 columns, a long name), with elapsed time, in colour unless NO_COLOR', () => {
    const home = freshHome();
    const name = `progress-${'x'.repeat(90)}`;
    const { code, out } = onTerminal(['launch', sweep(name, { sleep: 1, tasks: 4, maxConcurrent: 2 }), '--wait'], home, 80);
    expect(code).toBe(1);
    const redraws = out.split('\r\x1b[2K').slice(1).map((s) => s.split(/\r?\n/)[0]!);
    expect(redraws.length).toBeGreaterThan(1);
    for (const line of redraws) {
      expect(line.replace(/\x1b\[[0-9;]*m/g, '').length, line).toBeLessThan(80);
      expect(line).toMatch(/^progress-x+… .*\d+\/4  \d+s/);
    }
    expect(out).toMatch(/\x1b\[31mF 1\x1b\[0m/);
    const plain = onTerminal(['wait', name.slice(0, 12)], home, 80, { NO_COLOR: '1' }).out;
    expect(plain).not.toMatch(/\x1b\[[0-9;]*m/);
    expect(plain).toMatch(/EXIT 3\s+boom: something broke/);
  });
});
