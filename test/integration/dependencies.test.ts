// after: on the real Slurm cluster, through the CLI: afterok on a failed job is reported never satisfiable
// (wait ends, exit 1) and cancelled on request; afterany runs whatever happened; a diamond from one YAML runs in
// dependency order (each task prints when it started and ended); bad graphs are refused before submitting.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pilot } from '../support/cli.js';
import { makeHome } from '../support/cluster.js';

/** A project folder with three tiny programs, and a job file per (name, entrypoint). */
function project(): { dir: string; job: (name: string, entrypoint: string, extra?: string[]) => string } {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-deps-'));
  const code = join(dir, 'code');
  mkdirSync(code);
  writeFileSync(join(code, 'fail.sh'), 'sleep 2\necho failing >&2\nexit 1\n');
  writeFileSync(join(code, 'ok.sh'), 'sleep 1\necho done\n');
  writeFileSync(join(code, 'flaky.sh'), 'sleep 2\nif [ "$PILOT_ATTEMPT" = 1 ]; then echo first >&2; exit 1; fi\necho recovered\n');
  // nanoseconds since the epoch at the start and the end: the order of a graph is read from the task logs
  writeFileSync(join(code, 'step.sh'), 'echo "start=$(date +%s%N)"\nsleep 1\necho "end=$(date +%s%N)"\n');
  const job = (name: string, entrypoint: string, extra: string[] = []) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, [`jobName: ${name}`, 'cluster: lab', 'srcDir: code', `entrypoint: ${entrypoint}`, "time: '0:02:00'", ...extra].join('\n'));
    return file;
  };
  return { dir, job };
}

/** A job file running ok.sh in a project made by project(). */
function job_(dir: string, name: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, [`jobName: ${name}`, 'cluster: lab', 'srcDir: code', 'entrypoint: ok.sh'].join('\n'));
  return file;
}

async function json<T>(args: string[], home: string): Promise<T> {
  const r = await pilot([...args, '--json'], home);
  return JSON.parse(r.stdout) as T;
}

interface StatusJson { done: boolean; slurmJobIds: string[]; tasks: { index: number; state: string; reason?: string }[]; neverSatisfiable?: number[] }

describe('dependencies between jobs (after:)', () => {
  it('afterok on a failed job: status and wait say it can never start; --cancel-unsatisfiable cancels it', async () => {
    const home = makeHome();
    const { dir } = project();
    // one file, so that b and c are submitted while a still runs (a job that has ended is decided by pilot)
    const graph = join(dir, 'fail-graph.yaml');
    const entry = (name: string, entrypoint: string, extra = '') => `  - { jobName: ${name}, cluster: lab, srcDir: code, entrypoint: ${entrypoint}${extra} }`;
    // c's notify: its job_end is sent by the wait that cancels it (the engine cancels, then notifies)
    const events = join(dir, 'c-events');
    const notify = `notify: { on: [job_end], command: ${JSON.stringify(`echo "$PILOT_EVENT" >> '${events}'`)} }`;
    writeFileSync(graph, ['jobs:', entry('dep-fail-a', 'fail.sh'), entry('dep-fail-b', 'ok.sh', ', args: ["1", "2"], after: [{ job: dep-fail-a }]'),
      entry('dep-fail-c', 'ok.sh', `, after: [{ job: dep-fail-a, when: ok }], ${notify}`)].join('\n'));
    expect((await pilot(['launch', graph], home)).code).toBe(0);
    const started = Date.now();
    const waited = await pilot(['wait', 'dep-fail-b', '--timeout', '90', '--no-progress'], home);
    expect(waited.code).toBe(1);   // not 124: it ended because waiting could not change anything
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(waited.stderr).toMatch(/dep-fail-b: 2 tasks \(1-2\) can never start: .*DependencyNeverSatisfied/);
    // watch ends too (it looped until killed), says the same, exit 1, and submits nothing
    const watched = await pilot(['watch', 'dep-fail-b', '--interval', '1'], home);
    expect(watched.code).toBe(1);
    expect(watched.stderr).toMatch(/dep-fail-b: 2 tasks \(1-2\) can never start: .*DependencyNeverSatisfied/);
    const status = await json<StatusJson>(['status', 'dep-fail-b'], home);
    expect(status.tasks.map((t) => [t.state, t.reason])).toEqual([['PENDING', 'DependencyNeverSatisfied'], ['PENDING', 'DependencyNeverSatisfied']]);
    expect(status.neverSatisfiable).toEqual([1, 2]);
    expect(status.slurmJobIds).toHaveLength(1);   // the watch submitted nothing
    expect((await pilot(['status', 'dep-fail-b', '--check'], home)).code).toBe(1);
    const cancelled = await pilot(['status', 'dep-fail-b', '--cancel-unsatisfiable'], home);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(/can never start.*; cancelled/);
    const after = await json<StatusJson>(['status', 'dep-fail-b'], home);
    expect(after.tasks.map((t) => t.state)).toEqual(['CANCELLED', 'CANCELLED']);
    expect(after.done).toBe(true);
    // the same from wait: it cancels, prints the final (cancelled) status, exit 1
    const w = await pilot(['wait', 'dep-fail-c', '--cancel-unsatisfiable', '--timeout', '90', '--json', '--no-progress'], home);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/dep-fail-c: 1 task \(1\) can never start: .*; cancelled/);
    expect((JSON.parse(w.stdout) as StatusJson).tasks.map((t) => t.state)).toEqual(['CANCELLED']);
    expect(readFileSync(events, 'utf8')).toBe('job_end\n');
    // now that a is known to have failed, a new afterok on it is refused at once: Slurm, having forgotten a
    // (MinJobAge), would take its id as a dependency met and start the job
    const late = await pilot(['launch', job_(dir, 'dep-fail-d'), '--after', 'dep-fail-a'], home);
    expect(late.code).toBe(2);
    expect(late.stderr).toContain("'dep-fail-a' has already ended (FAILED 1), so afterok can never be satisfied");
  });

  it('afterok on a job whose failed task pilot retries: the dependent follows the retry and runs', async () => {
    const home = makeHome();
    const { dir } = project();
    const graph = join(dir, 'retry-graph.yaml');
    writeFileSync(graph, ['jobs:',
      '  - { jobName: dep-retry-a, cluster: lab, srcDir: code, entrypoint: flaky.sh, args: ["1", "2"], maxRetries: 1, retryOn: [FAILED] }',
      '  - { jobName: dep-retry-b, cluster: lab, srcDir: code, entrypoint: ok.sh, after: [{ job: dep-retry-a }] }'].join('\n'));
    expect((await pilot(['launch', graph], home)).code).toBe(0);
    // Slurm tied b to a's first array, whose tasks failed; pilot's retry of a points b at the new array
    const watched = await pilot(['watch', 'dep-retry-a', 'dep-retry-b', '--interval', '1', '--json'], home);
    expect(watched.code, watched.stderr).toBe(0);
    const [a, b] = JSON.parse(watched.stdout) as (StatusJson & { attempts: number; tasks: { attempt: number }[] })[];
    // each task ran twice; its retry is attempt 2, or 3 when the two tasks failed at different looks (a loaded
    // machine), each retry then being an attempt of its own that b was pointed at in turn
    expect(a!.tasks.map((t) => t.state)).toEqual(['COMPLETED', 'COMPLETED']);
    expect([2, 3]).toContain(a!.attempts);
    for (const t of a!.tasks) expect(t.attempt).toBeGreaterThan(1);
    expect(b!.tasks.map((t) => t.state)).toEqual(['COMPLETED']);
  });

  it('restart-failed of a job points the jobs waiting for it (afterok) at the new attempt: they run', async () => {
    const home = makeHome();
    const { dir } = project();
    const graph = join(dir, 'restart-graph.yaml');
    writeFileSync(graph, ['jobs:',
      '  - { jobName: dep-rs-a, cluster: lab, srcDir: code, entrypoint: flaky.sh }',
      '  - { jobName: dep-rs-b, cluster: lab, srcDir: code, entrypoint: ok.sh, after: [{ job: dep-rs-a }] }'].join('\n'));
    expect((await pilot(['launch', graph], home)).code).toBe(0);
    expect((await pilot(['wait', 'dep-rs-a', '--no-progress', '--timeout', '90'], home)).code).toBe(1);
    const restarted = await pilot(['restart-failed', 'dep-rs-a'], home);
    expect(restarted.code, restarted.stderr + restarted.stdout).toBe(0);
    expect(restarted.stderr).not.toMatch(/still waits/);
    const b = await pilot(['wait', 'dep-rs-b', '--no-progress', '--timeout', '90', '--json'], home);
    expect(b.code, b.stderr).toBe(0);
    expect((JSON.parse(b.stdout) as StatusJson).tasks.map((t) => t.state)).toEqual(['COMPLETED']);
  });

  it('afterany runs after a failed job; afternotok too; the local cluster and unknown names are refused (exit 2)', async () => {
    const home = makeHome();
    const { job } = project();
    expect((await pilot(['launch', job('dep-any-a', 'fail.sh')], home)).code).toBe(0);
    const b = await pilot(['launch', job('dep-any-b', 'ok.sh', ['after: [{ job: dep-any-a, when: any }]']), '--wait', '--no-progress', '--timeout', '90'], home);
    expect(b.code).toBe(0);
    const c = await pilot(['launch', job('dep-any-c', 'ok.sh'), '--after', 'dep-any-a:notok', '--wait', '--no-progress', '--timeout', '90'], home);
    expect(c.code).toBe(0);
    const local = await pilot(['launch', job('dep-any-l', 'ok.sh'), '--cluster', 'local', '--after', 'dep-any-a'], home);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('after: is not supported on the local cluster');
    const unknown = await pilot(['launch', job('dep-any-u', 'ok.sh'), '--after', 'no-such-job'], home);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no recorded job is called 'no-such-job'");
    const list = await json<{ name: string }[]>(['list'], home);
    expect(list.map((j) => j.name).sort()).toEqual(['dep-any-a', 'dep-any-b', 'dep-any-c']);
  });

  it('a diamond from one YAML (a → b, c → d) runs in dependency order, on one connection', async () => {
    const home = makeHome();
    const { dir } = project();
    const step = (name: string, after: string[]) => `  - { jobName: ${name}, cluster: lab, srcDir: code, entrypoint: step.sh${after.length ? `, after: [${after.map((a) => `{ job: ${a} }`).join(', ')}]` : ''} }`;
    writeFileSync(join(dir, 'graph.yaml'), ['jobs:', step('dia-d', ['dia-b', 'dia-c']), step('dia-b', ['dia-a']), step('dia-c', ['dia-a']), step('dia-a', [])].join('\n'));
    const dry = await pilot(['launch', join(dir, 'graph.yaml'), '--dry-run'], home);
    expect(dry.stdout).toBe('dia-a on lab\ndia-b on lab after dia-a:ok\ndia-c on lab after dia-a:ok\ndia-d on lab after dia-b:ok, dia-c:ok\n');
    const r = await pilot(['--verbose', 'launch', join(dir, 'graph.yaml'), '--wait', '--no-progress', '--timeout', '150'], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/verbose: lab: 1 connection\b/);
    expect(r.stdout.split('\n').slice(0, 4)).toEqual(['dia-a', 'dia-b', 'dia-c', 'dia-d']);
    const times = async (name: string) => {
      const out = (await pilot(['logs', `${name}/1`], home)).stdout;
      return { start: BigInt(/start=(\d+)/.exec(out)![1]!), end: BigInt(/end=(\d+)/.exec(out)![1]!) };
    };
    const [a, b, c, d] = await Promise.all(['dia-a', 'dia-b', 'dia-c', 'dia-d'].map(times));
    expect(b!.start >= a!.end && c!.start >= a!.end).toBe(true);
    expect(d!.start >= b!.end && d!.start >= c!.end).toBe(true);
  });

  it('a graph with a cycle or an unknown name is refused, exit 2, nothing submitted', async () => {
    const home = makeHome();
    const { dir } = project();
    const file = join(dir, 'cycle.yaml');
    writeFileSync(file, ['jobs:', '  - { jobName: cyc-x, cluster: lab, srcDir: code, entrypoint: ok.sh, after: [{ job: cyc-y }] }',
      '  - { jobName: cyc-y, cluster: lab, srcDir: code, entrypoint: ok.sh, after: [{ job: cyc-x, when: any }] }'].join('\n'));
    const r = await pilot(['launch', file], home);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cycle: cyc-x → cyc-y → cyc-x');
    writeFileSync(file, ['jobs:', '  - { jobName: unk-x, cluster: lab, srcDir: code, entrypoint: ok.sh, after: [{ job: nobody }] }'].join('\n'));
    expect((await pilot(['launch', file], home)).code).toBe(2);
    expect(await json<unknown[]>(['list'], home)).toEqual([]);
  });
});
