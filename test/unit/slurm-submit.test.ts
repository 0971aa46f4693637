import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PilotError } from '../../src/model/errors.js';
import { parseProbe, parseSubmitOutput, planArrays, probeCommand, remotePathExpr, submitCommand } from '../../src/scheduler/slurm/submit.js';

// the commands are `sh -c '<script>'`: check the inner script's syntax with the remote's sh (-n: parse only)
const bashSyntaxOk = (cmd: string) => {
  expect(cmd.startsWith('sh -c ')).toBe(true);
  execFileSync('bash', ['-c', cmd.replace(/^sh -c /, 'sh -n -c ')]);
};

describe('planArrays', () => {
  it('keeps one array when N fits', () => {
    expect(planArrays([1, 2, 3, 4, 5], 100, 3)).toEqual([{ offset: 0, spec: '1-5%3' }]);
  });
  it('splits at the chunk size with offsets, indices starting at 1 in each array', () => {
    const all = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(planArrays(all, 7)).toEqual([{ offset: 0, spec: '1-7' }, { offset: 7, spec: '1-7' }, { offset: 14, spec: '1-6' }]);
  });
  it('plans restarts of scattered tasks per chunk', () => {
    expect(planArrays([4, 7, 9, 15], 7, 2)).toEqual([{ offset: 0, spec: '4,7%2' }, { offset: 7, spec: '2%2' }, { offset: 14, spec: '1%2' }]);
  });
});

describe('remote commands', () => {
  it('expands ~ through $HOME and quotes the rest', () => {
    expect(remotePathExpr('~/pilot dir')).toBe(`"$HOME"/'pilot dir'`);
    expect(remotePathExpr('/scratch/$USER')).toBe(`'/scratch/$USER'`);
  });
  it('builds syntactically valid shell', () => {
    bashSyntaxOk(probeCommand('~/pilot', 'ab'.repeat(32), true));
    bashSyntaxOk(submitCommand({ root: '/h/p', jobDir: "/h/p/jobs/it's-1", bundleSha: 'cd'.repeat(32), uploadedTarball: '/h/p/bundles/x.tar.gz', withJobFiles: true, script: 'job.sh', attempt: 1, token: 'ab12', arrays: [{ offset: 0, spec: '1-7%2' }, { offset: 7, spec: '1-3%2' }] }));
  });
  it('chains split arrays with afterany and cancels earlier arrays when one fails', () => {
    const cmd = submitCommand({ root: '/r', jobDir: '/r/jobs/j', bundleSha: 'x', withJobFiles: false, script: 'job.sh', attempt: 2, token: 'cd34', arrays: [{ offset: 0, spec: '1-7' }, { offset: 7, spec: '1-2' }] });
    expect(cmd).toContain('--dependency=afterany:"$prev"');
    expect(cmd).toContain('scancel $ids');
    expect(cmd).not.toContain('tar -xf -');
    expect(cmd).toContain(' job.sh 7 2 x 2>');   // offset, attempt, the bundle the attempt runs
  });
});

describe('parsers', () => {
  it('parses the probe', () => {
    expect(parseProbe('home=/home/pilot\nroot=/home/pilot/pilot\nbundle=present\nmaxArraySize=100001\ncontroller=1\n')).toEqual({ home: '/home/pilot', root: '/home/pilot/pilot', bundlePresent: true, maxArraySize: 100001, controllerUp: true });
    expect(parseProbe('home=/h\nroot=/h/p\nbundle=missing\ncontroller=0\n').controllerUp).toBe(false);
    expect(parseProbe('Welcome!\nhome=/h\nroot=/h/p\nbundle=missing\n').bundlePresent).toBe(false);
    expect(() => parseProbe('garbage')).toThrowError(PilotError);
  });
  it('parses submitted arrays and sbatch refusals', () => {
    expect(parseSubmitOutput(0, '@@submitted 41 0 1-7%2\n@@submitted 42 7 1-3%2\n', '')).toEqual([
      { jobId: '41', offset: 0, arraySpec: '1-7%2' }, { jobId: '42', offset: 7, arraySpec: '1-3%2' }]);
    // recorded from the test cluster with --partition=nosuchpartition
    const e = (() => { try { parseSubmitOutput(7, '@@error sbatch\nsbatch: error: invalid partition specified: nosuchpartition\nsbatch: error: Batch job submission failed: Invalid partition name specified\n', ''); } catch (x) { return x as PilotError; } })();
    expect(e?.code).toBe('SUBMIT');
    expect(e?.message).toMatch(/invalid partition specified: nosuchpartition/);
  });
});
