import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderList, renderProgress, renderStatus } from '../../src/cli/render.js';
import type { JobStatus } from '../../src/model/tracking.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pilot.js');
const ROOT = join(import.meta.dirname, '..', '..');
const run = (args: string[], home = mkdtempSync(join(tmpdir(), 'pilot-cli-'))) =>
  spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, PILOT_HOME: home }, encoding: 'utf8' });

const status: JobStatus = {
  name: 'fine-tune-mlp', cluster: 'local', attempts: 1, slurmJobIds: ['7'], done: true,
  counts: { COMPLETED: 2, FAILED: 1 },
  tasks: [
    { index: 1, state: 'COMPLETED', exitCode: 0, attempt: 1 },
    { index: 2, state: 'FAILED', exitCode: 3, attempt: 1 },
    { index: 3, state: 'COMPLETED', exitCode: 0, attempt: 1 },
  ],
};

describe('renderers', () => {
  it('shows counts and the unsuccessful tasks', () => {
    const text = renderStatus(status);
    expect(text).toContain('fine-tune-mlp  on local  3 tasks  attempt 1  job 7  (done)');
    expect(text).toContain('COMPLETED 2  FAILED 1');
    expect(text).toMatch(/2\s+FAILED\s+3\s+1/);
    expect(text).not.toMatch(/^\s+1\s+COMPLETED/m);
    expect(renderStatus(status, { all: true })).toMatch(/^\s+1\s+COMPLETED/m);
  });
  it('draws progress and lists jobs', () => {
    expect(renderProgress({ ...status, done: false }, { width: 53 })).toBe('fine-tune-mlp [##########] 3/3  COMPLETED 2  FAILED 1');
    expect(renderList([status])).toMatch(/^fine-tune-mlp\s+local\s+-\s+-\s+3\s+1\s+COMPLETED 2  FAILED 1  \(done\)$/m);
  });
});

const COMMANDS = ['launch', 'status', 'wait', 'logs', 'restart-failed', 'cancel', 'list', 'rm', 'gc', 'download', 'test-ssh'];

describe('pilot CLI', () => {
  it('lists every command in --help, teaches each with examples, and prints its version', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    for (const cmd of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    expect(help.stdout).toMatch(/--home <dir>/);
    expect(help.stdout).toMatch(/--verbose/);
    for (const cmd of COMMANDS) {
      const sub = run([cmd, '--help']);
      expect(sub.status, cmd).toBe(0);
      expect(sub.stdout, cmd).toMatch(new RegExp(`^Usage: pilot ${cmd} `));
      expect(sub.stdout, cmd).toMatch(new RegExp(`^Examples:\n  \\$ pilot (--home \\S+ )?${cmd}\\b`, 'm'));
      expect(sub.stdout, cmd).toMatch(/^Global Options:\n {2}--home <dir>/m);
    }
    expect(run(['help', 'logs']).stdout).toMatch(/^Usage: pilot logs .*<name\/index>/);
    expect(run([]).stdout).toBe(help.stdout);   // bare `pilot`: the help, exit 0
    // the fast path prints the help the build wrote from the commander program: the two never differ
    expect(help.stdout).toBe(run(['help']).stdout);
    expect(readFileSync(join(ROOT, 'dist', 'cli', 'help.txt'), 'utf8')).toBe(help.stdout);
    expect(run([]).status).toBe(0);
    expect(run(['--version']).stdout).toMatch(/^pilot\/\d+\.\d+\.\d+/);
    expect(run(['-v']).status).toBe(0);
  });

  it('does not load the engine, ssh2, nunjucks, zod or yaml to print help or a usage error (but does when a command needs them)', () => {
    // the CLI is one bundled script (dist/pilot/cli.cjs) in which each source calls a hook when it first runs
    // (scripts/build-cli.js): a preload that listens reports the heavy ones
    const dir = mkdtempSync(join(tmpdir(), 'pilot-hooks-'));
    const heavy = /node_modules\/(ssh2|nunjucks|zod|yaml|tar|ignore)\/|(^|\/)(dist|src)\/(engine|scheduler|transport|store|bundle|cli\/commands)\//;
    writeFileSync(join(dir, 'listen.mjs'), `globalThis[Symbol.for('hpc-pilot.init')] = (p) => {
      if (${heavy}.test(p)) process.stderr.write('HEAVY ' + p + '\\n');
    };`);
    const withHooks = (args: string[]) => spawnSync(process.execPath, ['--import', join(dir, 'listen.mjs'), BIN, ...args], { encoding: 'utf8', env: { ...process.env, PILOT_HOME: dir } });
    // what runs whenever the script starts (reached from its entry by static imports) holds nothing heavy
    const contents = JSON.parse(readFileSync(join(ROOT, 'dist', 'pilot', 'contents.json'), 'utf8')) as Record<string, string[]>;
    expect(contents['cli.cjs at start-up']).toContain('src/cli/main.ts');
    expect(contents['cli.cjs at start-up']!.filter((p) => heavy.test(p))).toEqual([]);
    const cases: [string[], number][] = [
      [['--help'], 0], [[], 0], [['--version'], 0], [['launch', '--help'], 0], [['logs', '--help'], 0],
      [['lauch'], 2], [['logs', 'x/1', '--tail', 'abc'], 2], [['launch'], 2],
    ];
    for (const [args, code] of cases) {
      const r = withHooks(args);
      expect(r.stderr, args.join(' ')).not.toContain('HEAVY');
      expect(r.status, args.join(' ')).toBe(code);
    }
    // control: a command that parses YAML trips the hook, so the check above can fail
    writeFileSync(join(dir, 'job.yaml'), 'jobName: x\n');
    expect(withHooks(['launch', join(dir, 'job.yaml')]).stderr).toContain('HEAVY');
  });

  it('suggests the command meant by a typo and exits 2 with one line', () => {
    const r = run(['lauch', 'x.yaml']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: unknown command 'lauch' \(Did you mean launch\?\)\. Run `pilot --help`\.\n$/);
    const opt = run(['status', '--jsn']);
    expect(opt.status).toBe(2);
    expect(opt.stderr).toMatch(/^error: unknown option '--jsn' \(Did you mean --json\?\)\. Run `pilot status --help`\.\n$/);
  });

  it('exits 2 naming the option when a number is not a whole number ≥ 0', () => {
    for (const [args, flag] of [
      [['logs', 'x/1', '--tail', 'abc'], '--tail'], [['logs', 'x/1', '--tail=-1'], '--tail'], [['logs', 'x/1', '--attempt', '1.5'], '--attempt'],
      [['wait', 'x', '--timeout', ''], '--timeout'], [['launch', 'job.yaml', '--wait', '--timeout', '1e3'], '--timeout'],
    ] as const) {
      const r = run([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`^error: option '${flag} <\\w+>' argument '.*' is invalid\\. Expected a whole number`));
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('checks --states before connecting anywhere', () => {
    const r = run(['restart-failed', 'ghost', '--states', 'FAILED,FIALED']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/'--states <list>' argument 'FAILED,FIALED' is invalid\. Unknown state FIALED; the states are PENDING/);
    // a valid list in any case gets past the parser (and then meets the unknown job)
    expect(run(['restart-failed', 'ghost', '--states', 'failed,timeout']).stderr).toMatch(/no job named 'ghost'/);
  });

  it('a reader that stops early is no error: `launch --dry-run | head -1` exits 0 without an EPIPE crash', () => {
    const home = mkdtempSync(join(tmpdir(), 'pilot-cli-'));
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" launch examples/fine-tune-mlp/job.yaml --cluster local --dry-run | head -1; exit \${PIPESTATUS[0]}`],
      { cwd: ROOT, env: { ...process.env, PILOT_HOME: home }, encoding: 'utf8' });
    expect(r.stdout).toBe('# ---- 6 tasks\n');
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.status).toBe(0);
  });

  it('prints [] for status --json and list --json with no jobs, and takes --home before or after the command', () => {
    const home = mkdtempSync(join(tmpdir(), 'pilot-cli-'));
    const status = run(['status', '--json'], home);
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual([]);
    expect(JSON.parse(run(['list', '--json'], home).stdout)).toEqual([]);
    // PILOT_HOME points at a home with a job record; --home overrides it, wherever it is written
    const other = mkdtempSync(join(tmpdir(), 'pilot-cli-'));
    expect(run(['status', 'ghost', '--home', other], home).stderr).toContain(other);
    expect(run(['--home', other, 'status', 'ghost'], home).stderr).toContain(other);
  });

  it('exits 2 with one clear message for bad input, and submits nothing', () => {
    const home = mkdtempSync(join(tmpdir(), 'pilot-cli-'));
    const unknown = run(['frobnicate'], home);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'.*pilot --help/);
    const noFile = run(['launch'], home);
    expect(noFile.status).toBe(2);
    expect(noFile.stderr).toMatch(/^error: missing required argument 'job\.yaml'\. Run `pilot launch --help`\.\n$/);
    expect(run(['launch', 'a.yaml', 'b.yaml'], home).status).toBe(2);
    const missing = run(['launch', join(home, 'nope.yaml')], home);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.yaml: no such file/);
    expect(missing.stderr).toMatch(/^hint: /m);
    expect(missing.stderr).not.toMatch(/^\s+at /m);                                   // no stack without --verbose
    expect(run(['launch', join(home, 'nope.yaml'), '--verbose'], home).stderr).toMatch(/^\s+at /m);
    const yaml = join(home, 'job.yaml');
    writeFileSync(yaml, 'jobName: x\nentrypoint: run.sh\ncluster: local\nmaxConcurrent: zero\n');
    const bad = run(['launch', yaml], home);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/maxConcurrent/);
    expect(bad.stderr).toMatch(/^hint: /m);
    const noCluster = run(['launch', yaml, '--cluster', 'nowhere'], home);
    expect(noCluster.status).toBe(2);
    expect(run(['status', 'ghost'], home).stderr).toMatch(/no job named 'ghost'/);
  });
});
