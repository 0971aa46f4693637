// Values that become #SBATCH lines: control characters and pilot's own options are refused in every spelling.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/engine/config.js';
import { normalizeJobInfo } from '../../src/engine/job-spec.js';
import { PilotError } from '../../src/model/errors.js';
import { sbatchLines } from '../../src/scheduler/slurm/directives.js';
import { slurmDialect } from '../../src/scheduler/slurm/index.js';
import { checkSbatchArgs, findReservedOption } from '../../src/scheduler/slurm/options.js';

const base = mkdtempSync(join(tmpdir(), 'pilot-sbopt-'));
mkdirSync(join(base, 'src'));

function failure(fn: () => unknown): PilotError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PilotError) return e;
    throw e;
  }
  throw new Error('expected a PilotError');
}

const job = (extra: Record<string, unknown>) => () => {
  const info = normalizeJobInfo({ jobName: 'j', srcDir: 'src', entrypoint: 'x.sh', ...extra }, base);
  slurmDialect.checkJob(info, 'job');   // what a launch runs next, once the cluster is known
  return info;
};

describe('reserved sbatch options', () => {
  it.each([
    ['--array=1-3', 'array'], ['-a', 'array'], ['-a1-3', 'array'], ['--arr=5', 'array'],
    ['-o/tmp/x', 'output'], ['--out=x', 'output'], ['--output', 'output'], ['-o', 'output'],
    ['-e/tmp/e', 'error'], ['--err=x', 'error'],
    ['-Jevil', 'job-name'], ['--job=x', 'job-name'], ['--job-name=x', 'job-name'],
    ['--chd=/tmp', 'chdir'], ['-D/tmp', 'chdir'], ['--chdir', 'chdir'],
    ['-Ho/tmp/x', 'output'], ['-vHJx', 'job-name'],
    ['--pars', 'parsable'], ['--wrap=true', 'wrap'],
  ])('finds %s as --%s', (word, option) => {
    expect(findReservedOption([word])?.option).toBe(option);
  });

  it.each([['--qos=high'], ['--hold'], ['-pdebug'], ['-p', 'debug'], ['--exclusive'], ['--comment=ok'], ['-Hv'], ['--mem-per-cpu=2G'], ['-po'], ['--export=ALL']])(
    'lets %s through', (...words) => {
      expect(findReservedOption(words)).toBeUndefined();
    });

  it('reads an entry with a value after a space, as an #SBATCH line does', () => {
    const e = failure(() => checkSbatchArgs(['--qos high', '--hold -o /tmp/x'], 'job.yaml'));
    expect(e.message).toMatch(/-o \(read by sbatch as --output\) is set by hpc-pilot/);
    expect(e.hint).toMatch(/logs/);
    expect(e.exitCode).toBe(2);
  });

  it('refuses them from a job description by name', () => {
    for (const opt of ['-o/x', '--out=x', '-Jx', '--chd=x', '--array=1-2']) {
      const e = failure(job({ sbatchArgs: [opt] }));
      expect(e.code).toBe('BAD_INPUT');
      expect(e.message).toContain(opt);
      expect(e.message).toMatch(/set by hpc-pilot/);
    }
  });
});

describe('control characters in #SBATCH values', () => {
  const evil = ['debug\ntouch /tmp/x', 'debug\rtouch', 'de\u001bbug', 'debug\u0000x', 'debug\u007f'];

  it.each(['partition', 'account', 'mem', 'time', 'gpus', 'jobName'])('refuses them in the job field %s', (field) => {
    for (const value of evil) {
      const e = failure(job({ [field]: value }));
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain(field);
    }
  });

  it('refuses them in each sbatchArgs entry, naming the entry', () => {
    const e = failure(job({ sbatchArgs: ['--qos=high', '--comment=a\nrm -rf ~'] }));
    expect(e.message).toMatch(/sbatchArgs\[1\] contains a newline/);
    expect(failure(job({ sbatchArgs: ['--comment=a\rb'] })).message).toMatch(/carriage return/);
    expect(failure(job({ sbatchArgs: ['--comment=a\u0007'] })).message).toMatch(/U\+0007/);
  });

  it('refuses them in config.yaml partition and account, before anything else happens', async () => {
    for (const field of ['partition', 'account']) {
      const home = mkdtempSync(join(tmpdir(), 'pilot-sbcfg-'));
      writeFileSync(join(home, 'config.yaml'), `clusters:\n  lab:\n    host: 127.0.0.1\n    ${field}: "debug\\ntouch /tmp/pwned"\n`);
      const e = await loadConfigFile(home).then(() => undefined, (err: PilotError) => err);
      expect(e?.exitCode).toBe(2);
      expect(e?.message).toMatch(new RegExp(`clusters\\.lab: ${field} contains a newline`));
    }
  });

  it('guards the rendered lines whatever their source (defaults from a config included)', () => {
    const info = normalizeJobInfo({ jobName: 'j', srcDir: 'src', entrypoint: 'x.sh' }, base);
    expect(() => sbatchLines(info, 2, { partition: 'debug\ntouch /tmp/x' })).toThrow(/contains a newline/);
    expect(sbatchLines(info, 2, { partition: 'debug' })).toContain('--partition=debug');
  });
});

describe('NUL bytes', () => {
  it.each([
    [{ args: [['ok', 'a\u0000b']] }, /args\[0\]: word 2 .* NUL byte/],
    [{ args: ['--x "a\u0000b"'] }, /args\[0\].*NUL byte/],
    [{ args: [{ key: 'a\u0000b' }] }, /args\[0\].*NUL byte/],
    [{ env: { A: 'x\u0000y' } }, /env\.A contains a NUL byte/],
    [{ setup: ['echo a\u0000b'] }, /setup\[0\] contains a NUL byte/],
  ])('refuses %j', (extra, message) => {
    const e = failure(job(extra));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(message);
  });
});
