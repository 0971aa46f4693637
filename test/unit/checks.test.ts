// The checks before anything is queued, as pure functions: the program is in the bundle (not just on disk),
// the interpreter's lookup in the probe (built and parsed here, and run by a real sh), and its verdict.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProgram, interpreterToFind, interpreterVerdict, type ListedEntry } from '../../src/model/checks.js';
import type { NormalizedJobInfo } from '../../src/model/job.js';
import { parseProbe, probeCommand } from '../../src/scheduler/slurm/submit.js';
import { refusal } from '../support/refusal.js';

function info(extra: Partial<NormalizedJobInfo> = {}): NormalizedJobInfo {
  return {
    jobName: 'j', srcDir: '/p/src', entrypoint: 'train.py', interpreter: ['python3'], libraries: [], exclude: [], argv: [[]],
    params: [undefined], sbatchArgs: [], env: {}, setup: [], uniqueName: false, ...extra,
  };
}
const file = (name: string, mode = 0o644): ListedEntry => ({ name, type: 'file', size: 10, mode });
const dir = (name: string): ListedEntry => ({ name, type: 'dir', size: 0, mode: 0o755 });
const link = (name: string, linkTarget: string): ListedEntry => ({ name, type: 'symlink', size: 0, mode: 0o777, linkTarget });
const bundle = (...entries: ListedEntry[]) => new Map(entries.map((e) => [e.name, e]));
const nowhere = () => false;


describe('checkProgram: the entrypoint is a file of the bundle', () => {
  it('passes an entrypoint in the bundle, however it is spelled', () => {
    const b = bundle(dir('src'), dir('src/scripts'), file('src/scripts/train.py'));
    expect(checkProgram(info({ entrypoint: './scripts//train.py' }), b, nowhere)).toEqual(['entrypoint scripts/train.py: in the bundle']);
  });

  it('names a missing entrypoint, with the file of the same name elsewhere as a suggestion', () => {
    const e = refusal(() => checkProgram(info(), bundle(dir('src'), dir('src/scripts'), file('src/scripts/train.py')), nowhere));
    expect(e.message).toBe('entrypoint train.py does not exist in srcDir /p/src');
    expect(e.hint).toMatch(/did you mean scripts\/train.py\?/);
  });

  it('says when the entrypoint is on disk but left out by a rule (.gitignore, exclude)', () => {
    const e = refusal(() => checkProgram(info({ entrypoint: 'run.sh', interpreter: ['bash'] }), bundle(dir('src')), (rel) => rel === 'run.sh'));
    expect(e.message).toBe('entrypoint run.sh exists in /p/src but is left out of the bundle');
    expect(e.hint).toMatch(/\.gitignore/);
    expect(e.hint).toContain("exclude: ['!run.sh']");
  });

  it('refuses a folder, and a program run directly that is not executable', () => {
    expect(refusal(() => checkProgram(info({ entrypoint: 'pkg' }), bundle(dir('src'), dir('src/pkg')), nowhere)).message).toMatch(/pkg is a folder/);
    const direct = info({ entrypoint: 'bin/run', interpreter: [] });
    const e = refusal(() => checkProgram(direct, bundle(dir('src'), dir('src/bin'), file('src/bin/run', 0o644)), nowhere));
    expect(e.message).toMatch(/bin\/run is run directly .* not executable/);
    expect(e.hint).toMatch(/chmod \+x bin\/run/);
    expect(checkProgram(direct, bundle(dir('src'), dir('src/bin'), file('src/bin/run', 0o755)), nowhere)).toEqual(['entrypoint bin/run: in the bundle, executable']);
  });

  it('follows links inside the bundle, and refuses one that dangles', () => {
    const b = bundle(dir('src'), link('src/bin', 'tools'), dir('src/tools'), file('src/tools/run.py'), link('src/gone.py', 'nothing.py'));
    expect(checkProgram(info({ entrypoint: 'bin/run.py' }), b, nowhere)).toHaveLength(1);
    refusal(() => checkProgram(info({ entrypoint: 'gone.py' }), b, nowhere));
  });

  it('leaves a module name alone (python3 -m) and checks an interpreter shipped in srcDir instead', () => {
    expect(checkProgram(info({ entrypoint: 'pkg.train', interpreter: ['python3', '-m'] }), bundle(dir('src')), nowhere)[0]).toMatch(/not a file \(not checked\)/);
    const shipped = info({ interpreter: ['env/bin/python'] });
    expect(interpreterToFind(shipped)).toBeUndefined();
    const e = refusal(() => checkProgram(shipped, bundle(dir('src'), file('src/train.py')), nowhere));
    expect(e.message).toBe('interpreter env/bin/python does not exist in srcDir /p/src');
  });
});

describe('the interpreter, looked up in the probe', () => {
  it('asks `command -v` for the first word of the interpreter, quoted, and only when there is one', () => {
    expect(interpreterToFind(info({ interpreter: ['python3', '-u'] }))).toBe('python3');
    expect(interpreterToFind(info({ interpreter: [] }))).toBeUndefined();
    expect(probeCommand('~/pilot', 'ab'.repeat(32), false, 'python3')).toContain('command -v python3 2>/dev/null');
    expect(probeCommand('~/pilot', 'ab'.repeat(32), false)).not.toContain('command -v');
  });

  it('parses the answer: a path, nothing found (null), or not asked (absent)', () => {
    const base = 'home=/h\nroot=/h/p\nbundle=missing\ncontroller=1\n';
    expect(parseProbe(`${base}interpreter=/usr/bin/python3\n`).interpreter).toBe('/usr/bin/python3');
    expect(parseProbe(`${base}interpreter=\n`).interpreter).toBeNull();
    expect('interpreter' in parseProbe(base)).toBe(false);
  });

  it('really finds bash and does not find no-such-python when run by sh (the round trip the cluster makes)', () => {
    const root = mkdtempSync(join(tmpdir(), 'pilot-probe-'));
    const ask = (word: string) => parseProbe(execFileSync('bash', ['-c', probeCommand(root, 'cd'.repeat(32), false, word)], { encoding: 'utf8', cwd: root })).interpreter;
    expect(ask('bash')).toMatch(/\/bash$/);
    expect(ask('no-such-python')).toBeNull();
    expect(ask("$(touch pwned) 'x")).toBeNull();   // quoted: looked up as a name, never run
    expect(existsSync(join(root, 'pwned'))).toBe(false);
  });

  it('refuses a missing interpreter, but only warns when setup lines or env PATH may provide it', () => {
    const e = refusal(() => interpreterVerdict(info({ interpreter: ['no-such-python'] }), 'lab', null));
    expect(e.message).toBe('interpreter no-such-python is not found on lab: nothing was submitted');
    expect(e.hint).toMatch(/full path|setup:/);
    expect(interpreterVerdict(info(), 'lab', '/usr/bin/python3')).toBeUndefined();
    expect(interpreterVerdict(info(), 'lab', undefined)).toBeUndefined();
    expect(interpreterVerdict(info({ setup: ['module load python'] }), 'lab', null)?.message).toMatch(/not found on lab \(before the job's setup lines run\)/);
    expect(interpreterVerdict(info({ env: { PATH: '/opt/py/bin:/usr/bin' } }), 'lab', null)).toBeDefined();
  });
});
