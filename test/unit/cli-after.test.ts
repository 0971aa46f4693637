// `pilot launch --after` and job graph files, as far as they go without a cluster: the option is repeatable
// and parsed (a bad value exits 2), a graph's order is printed by --dry-run, bad graphs exit 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pilot.js');
const SRC = join(import.meta.dirname, '..', 'fixtures', 'echo-argv');

function setup(): { home: string; file: (name: string, lines: string[]) => string } {
  const home = mkdtempSync(join(tmpdir(), 'pilot-cli-after-'));
  writeFileSync(join(home, 'config.yaml'), 'clusters:\n  lab: { host: fake.invalid, partition: debug }\n');
  const file = (name: string, lines: string[]) => {
    const path = join(home, name);
    writeFileSync(path, lines.join('\n'));
    return path;
  };
  return { home, file };
}
const run = (home: string, args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, PILOT_HOME: home }, encoding: 'utf8' });
const jobLine = (name: string, after = '') => `  - { jobName: ${name}, cluster: lab, srcDir: ${SRC}, entrypoint: echo.sh${after} }`;

describe('pilot launch --after', () => {
  it('is repeatable and shown by --dry-run (the ids are looked up at launch)', () => {
    const { home, file } = setup();
    const job = file('b.yaml', ['jobName: b', 'cluster: lab', `srcDir: ${SRC}`, 'entrypoint: echo.sh', 'after: [{ job: x }]']);
    const r = run(home, ['launch', job, '--dry-run', '--after', 'prep', '--after', 'warm-up:any']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('after: x:ok, prep:ok, warm-up:any (the job ids are looked up at launch)');
  });
  it('refuses a value that is not NAME[:ok|notok|any] (exit 2), and --after on the local cluster', () => {
    const { home, file } = setup();
    const job = file('b.yaml', ['jobName: b', 'cluster: lab', `srcDir: ${SRC}`, 'entrypoint: echo.sh']);
    const bad = run(home, ['launch', job, '--dry-run', '--after', 'prep:later']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--after "prep:later" is not NAME[:ok|notok|any]');
    const local = run(home, ['launch', job, '--dry-run', '--cluster', 'local', '--after', 'prep']);
    expect(local.status).toBe(2);
    expect(local.stderr).toContain('after: is not supported on the local cluster');
  });
  it('documents itself with examples', () => {
    const help = run(setup().home, ['launch', '--help']).stdout;
    expect(help).toContain('--after <NAME[:when]>');
    expect(help).toContain('pilot launch train.yaml --after prep --after warmup:any');
    expect(run(setup().home, ['wait', '--help']).stdout).toContain('--cancel-unsatisfiable');
    expect(run(setup().home, ['status', '--help']).stdout).toContain('--cancel-unsatisfiable');
  });
});

describe('pilot launch GRAPH.yaml', () => {
  it('--dry-run prints the launch order (a diamond) without connecting', () => {
    const { home, file } = setup();
    const graph = file('g.yaml', ['jobs:', jobLine('d', ', after: [{ job: b }, { job: c, when: any }]'), jobLine('b', ', after: [{ job: a }]'), jobLine('c', ', after: [{ job: a }]'), jobLine('a')]);
    const r = run(home, ['launch', graph, '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('a on lab\nb on lab after a:ok\nc on lab after a:ok\nd on lab after b:ok, c:any\n');
  });
  it('refuses cycles, unknown names, other top-level keys, --name and --after, with exit 2', () => {
    const { home, file } = setup();
    const cycle = file('c.yaml', ['jobs:', jobLine('a', ', after: [{ job: b }]'), jobLine('b', ', after: [{ job: a }]')]);
    expect(run(home, ['launch', cycle]).stderr).toContain('cycle: a → b → a');
    expect(run(home, ['launch', cycle]).status).toBe(2);
    const unknown = file('u.yaml', ['jobs:', jobLine('a', ', after: [{ job: zz }]')]);
    expect(run(home, ['launch', unknown]).stderr).toContain("a runs after 'zz', which is neither in this file nor a recorded job");
    const extra = file('e.yaml', ['jobs:', jobLine('a'), 'cluster: lab']);
    expect(run(home, ['launch', extra]).stderr).toContain('a job graph file holds only jobs: [...], not cluster');
    const ok = file('ok.yaml', ['jobs:', jobLine('a')]);
    expect(run(home, ['launch', ok, '--name', 'x']).status).toBe(2);
    expect(run(home, ['launch', ok, '--after', 'x']).stderr).toContain('--after cannot be used with a job graph');
  });
});
