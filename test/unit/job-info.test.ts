import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeJobInfo } from '../../src/engine/job-spec.js';
import { slurmDialect } from '../../src/scheduler/slurm/index.js';
import { PilotError } from '../../src/model/errors.js';

const base = mkdtempSync(join(tmpdir(), 'pilot-ji-'));
mkdirSync(join(base, 'src'));
mkdirSync(join(base, 'lib1'));

function err(input: unknown): PilotError {
  try {
    slurmDialect.checkJob(normalizeJobInfo(input, base), 'job');
  } catch (e) {
    return e as PilotError;
  }
  throw new Error('expected an error');
}

describe('normalizeJobInfo', () => {
  it('a task given as a bare number is that word (args: [1, 2.5]); a bad task says what a task can be, once per problem up to 5', () => {
    expect(normalizeJobInfo({ jobName: 'n', srcDir: 'src', entrypoint: 'x.sh', args: [1, 2.5, '3'] }, base).argv).toEqual([['1'], ['2.5'], ['3']]);
    const one = err({ jobName: 'n', srcDir: 'src', entrypoint: 'x.sh', args: [[{ a: 1 }]] });
    expect(one.exitCode).toBe(2);
    expect(one.message).toContain('args[0]: each task is a string of shell words');
    const many = err({ jobName: 'n', srcDir: 'src', entrypoint: 'x.sh', args: Array.from({ length: 100 }, () => true) });
    expect(many.message.match(/each task is/g)).toHaveLength(5);
    expect(many.message).toContain('and 95 more problems');
  });

  it('resolves paths against the base, guesses the interpreter, normalises args', () => {
    const n = normalizeJobInfo({ jobName: 'j', srcDir: 'src', entrypoint: 'train.py', libraries: ['lib1'], args: ['--lr 1', ['a b'], { fast: true }], env: { N: 3 } }, base);
    expect(n.srcDir).toBe(join(base, 'src'));
    expect(n.libraries).toEqual([join(base, 'lib1')]);
    expect(n.interpreter).toEqual(['python3']);
    expect(n.argv).toEqual([['--lr', '1'], ['a b'], ['--fast']]);
    expect(n.env).toEqual({ N: '3' });
  });

  it('defaults to one task with no arguments', () => {
    expect(normalizeJobInfo({ jobName: 'j', srcDir: 'src', entrypoint: 'run' }, base).argv).toEqual([[]]);
  });

  it('names the bad field and exits as bad input', () => {
    const e = err({ jobName: 'j', srcDir: 'src', entrypoint: 'x.py', maxConcurrent: 0 });
    expect(e.code).toBe('BAD_INPUT');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/maxConcurrent/);
    expect(err({ jobName: 'bad name!', entrypoint: 'x' }).message).toMatch(/jobName/);
    expect(err({ jobName: 'j', entrypoint: 'x', srcDir: 'nope' }).message).toMatch(/srcDir: .*nope does not exist/);
    expect(err({ jobName: 'j', entrypoint: 'x', srcDir: 'src', time: 'soon' }).message).toMatch(/time/);
    expect(err({ jobName: 'j', entrypoint: 'x', srcDir: 'src', args: [[{}]] }).message).toMatch(/args/);
    expect(err({ jobName: 'j', entrypoint: 'x', srcDir: 'src', partiton: 'typo' }).hint).toMatch(/allowed fields/);
    expect(err({ jobName: 'j', entrypoint: 'x', srcDir: 'src', env: { 'A-B': '1' } }).message).toMatch(/env/);
  });

  it('refuses options the script owns and entrypoints outside srcDir', () => {
    expect(err({ jobName: 'j', entrypoint: 'x', srcDir: 'src', sbatchArgs: ['--array=1-3'] }).message).toMatch(/--array=1-3 is set by hpc-pilot/);
    expect(err({ jobName: 'j', entrypoint: 'x', srcDir: 'src', sbatchArgs: ['--qos=x\n#SBATCH --x'] }).message).toMatch(/sbatchArgs/);
    expect(err({ jobName: 'j', entrypoint: '../x.py', srcDir: 'src' }).message).toMatch(/entrypoint/);
  });
});
