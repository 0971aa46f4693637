import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderList, renderProgress, renderStatus } from '../../src/cli/render.js';
import type { JobStatus } from '../../src/model/tracking.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pilot.js');
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
    expect(renderProgress({ ...status, done: false }, 9)).toBe('fine-tune-mlp [#########] 3/3  COMPLETED 2  FAILED 1');
    expect(renderList([status])).toMatch(/^fine-tune-mlp\s+local\s+3\s+1\s+COMPLETED 2  FAILED 1$/m);
  });
});

describe('pilot CLI', () => {
  it('lists every command in --help and prints its version', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    for (const cmd of ['launch', 'status', 'logs', 'restart-failed', 'wait', 'cancel', 'list', 'download', 'test-ssh']) expect(help.stdout).toContain(cmd);
    expect(run(['--version']).stdout).toMatch(/^pilot\/\d+\.\d+\.\d+/);
  });

  it('does not load ssh2, nunjucks, zod or yaml to print help (but does when a command needs them)', () => {
    // a module hook that refuses the heavy dependencies: importing one makes the process fail
    const dir = mkdtempSync(join(tmpdir(), 'pilot-hooks-'));
    writeFileSync(join(dir, 'hooks.mjs'), `export async function resolve(s, c, next) {
      const r = await next(s, c);
      if (/node_modules\\/(ssh2|nunjucks|zod|yaml)\\//.test(r.url)) throw new Error('HEAVY ' + r.url);
      return r;
    }`);
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);`);
    const withHooks = (args: string[]) => spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), BIN, ...args], { encoding: 'utf8', env: { ...process.env, PILOT_HOME: dir } });
    const help = withHooks(['--help']);
    expect(help.stderr).not.toContain('HEAVY');
    expect(help.status).toBe(0);
    // control: a command that parses YAML trips the hook, so the check above can fail
    writeFileSync(join(dir, 'job.yaml'), 'jobName: x\n');
    expect(withHooks(['launch', join(dir, 'job.yaml')]).stderr).toContain('HEAVY');
  });

  it('exits 2 with one clear message for bad input, and submits nothing', () => {
    const home = mkdtempSync(join(tmpdir(), 'pilot-cli-'));
    const unknown = run(['frobnicate'], home);
    expect(unknown.status).toBe(2);
    const missing = run(['launch', join(home, 'nope.yaml')], home);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.yaml: no such file/);
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
