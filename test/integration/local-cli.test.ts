// The embedded default as a new user meets it: the README's main command, the CLI killed mid-run,
// and many launches at once, all on the built-in `local` cluster.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pilot } from '../support/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'fine-tune-mlp', 'job.yaml');
const BIN = join(ROOT, 'bin', 'pilot.js');
const freshHome = () => mkdtempSync(join(tmpdir(), 'pilot-local-'));

describe('local backend through the CLI', () => {
  it('runs the README quick start: launch --wait, status, logs, restart-failed', async () => {
    const home = freshHome();
    const t0 = Date.now();
    const launch = await pilot(['launch', EXAMPLE, '--cluster', 'local', '--wait'], home);
    const seconds = (Date.now() - t0) / 1000;
    expect(launch.code, launch.stderr).toBe(1);   // task 4 failed: `launch --wait && next` must not run next
    expect(seconds).toBeLessThan(30);   // the promise for the main command (not a benchmark: a ceiling)
    expect(launch.stdout).toMatch(/^fine-tune-mlp\n/);
    expect(launch.stdout).toContain('COMPLETED 5  FAILED 1');
    expect(launch.stdout).toMatch(/^\s+4\s+FAILED\s+1\s+1/m);

    const status = await pilot(['status'], home);
    expect(status.stdout).toContain('fine-tune-mlp  on local  6 tasks  attempt 1');
    const logs = await pilot(['logs', 'fine-tune-mlp/3'], home);
    expect(logs.stdout).toMatch(/^task 3 \(attempt 1\): lr=0.01 hidden=64 batch=128\n/);
    expect(logs.stdout).toMatch(/final loss \d\.\d{4}\n$/);
    const err = await pilot(['logs', 'fine-tune-mlp/4', '--stderr'], home);
    expect(err.stdout).toMatch(/CUDA out of memory/);

    const restart = await pilot(['restart-failed', 'fine-tune-mlp'], home);
    expect(restart.code, restart.stderr).toBe(0);
    expect(restart.stdout).toMatch(/resubmitted 1 task\(s\) as attempt 2 .*: 4\n/);
    const done = await pilot(['wait', 'fine-tune-mlp', '--json'], home);
    expect(done.code, done.stderr).toBe(0);
    const json = JSON.parse(done.stdout);
    expect(json.counts).toEqual({ COMPLETED: 6 });
    expect(json.tasks[3]).toMatchObject({ index: 4, state: 'COMPLETED', exitCode: 0, attempt: 2 });
    expect((await pilot(['logs', 'fine-tune-mlp/4'], home)).stdout).toMatch(/^task 4 \(attempt 2\)/);
    expect((await pilot(['logs', 'fine-tune-mlp/4', '--attempt', '1', '--stderr'], home)).stdout).toMatch(/out of memory/);
  });

  it('keeps tasks running when the CLI is killed; a later `pilot wait` completes', async () => {
    const home = freshHome();
    const child = spawn(process.execPath, [BIN, 'launch', EXAMPLE, '--cluster', 'local', '--name', 'killed', '--wait'], { env: { ...process.env, PILOT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    // kill the CLI as soon as it has launched (its first line is the job name)
    await new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('killed\n') && resolve()));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const waited = await pilot(['wait', 'killed', '--timeout', '60', '--json'], home);
    expect(waited.code, waited.stderr).toBe(1);   // the simulated out-of-memory task
    expect(JSON.parse(waited.stdout).counts).toEqual({ COMPLETED: 5, FAILED: 1 });
  });

  it('20 concurrent launches with different names all succeed and every record stays valid JSON', async () => {
    const home = freshHome();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pilot(['launch', EXAMPLE, '--cluster', 'local', '--name', `par-${i}`, '--json'], home)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const ids = results.map((r) => JSON.parse(r.stdout).slurmJobIds[0]);
    expect(new Set(ids).size).toBe(20);
    const names = readdirSync(join(home, 'jobs')).sort();
    expect(names).toHaveLength(20);
    for (const n of names) expect(() => JSON.parse(readFileSync(join(home, 'jobs', n, 'job.json'), 'utf8'))).not.toThrow();
    // and they all finish (status of 20 jobs while they run and update their records)
    const list = await pilot(['list', '--json'], home);
    expect(JSON.parse(list.stdout)).toHaveLength(20);
    // each joined the default collection (one appended line each, under the collection's lock): none lost
    const shown = JSON.parse((await pilot(['collection', 'show', 'default', '--format', 'json'], home)).stdout);
    expect([...shown.jobs].sort()).toEqual([...names].sort());
    for (let i = 0; i < 20; i++) await pilot(['cancel', `par-${i}`], home);
  });
});
