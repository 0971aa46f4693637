// The CLI's compiled-code cache (src/cli/code-cache.ts): made by a command's first successful run, used as it is
// by the next ones, replaced when V8 refuses it, never taken from a folder someone else may write into, never
// able to fail a command. Runs the built CLI (npm test builds first).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeCacheDir } from '../../src/cli/code-cache.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'pilot.js');

function pilot(args: string[], env: Record<string, string>) {
  const home = mkdtempSync(join(tmpdir(), 'pilot-cc-home-'));
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, PILOT_HOME: home, ...env } });
}

const v8Files = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.v8')).sort();

describe('the CLI code cache', () => {
  it('is made by the first successful run of a command, one file per command, and used as it is afterwards', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pilot-cc-')), 'made-here');
    const first = pilot(['list', '--json'], { PILOT_CODE_CACHE: dir });
    expect(first.status).toBe(0);
    expect(first.stdout).toBe('[]\n');
    const [file, ...more] = v8Files(dir);
    expect(more).toEqual([]);
    expect(file).toMatch(/^cli-list-node/);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const made = statSync(join(dir, file!));
    const bytes = readFileSync(join(dir, file!));
    expect(bytes.length).toBeGreaterThan(10_000);   // compiled code, not a placeholder

    // accepted by V8: the next run does not write it again, and prints the same
    const second = pilot(['list', '--json'], { PILOT_CODE_CACHE: dir });
    expect(second.stdout).toBe(first.stdout);
    expect(statSync(join(dir, file!)).mtimeMs).toBe(made.mtimeMs);
    expect(statSync(join(dir, file!)).ino).toBe(made.ino);

    // another command has its own file
    expect(pilot(['status', '--json'], { PILOT_CODE_CACHE: dir }).status).toBe(0);
    expect(v8Files(dir).map((f) => f.split('-')[1])).toEqual(['list', 'status']);
  });

  it("is used by a command that streams a log too (its gc pacer leaves V8's flags as they were)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-cc-'));
    const home = mkdtempSync(join(tmpdir(), 'pilot-cc-home-'));
    writeFileSync(join(home, 'job.yaml'), `jobName: streamed\ncluster: local\nsrcDir: ${join(ROOT, 'test', 'fixtures', 'echo-argv')}\nentrypoint: echo.sh\nargs: [x]\n`);
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, PILOT_HOME: home, PILOT_CODE_CACHE: dir } });
    expect(run(['launch', join(home, 'job.yaml'), '--wait', '--no-progress']).status).toBe(0);
    // --tail: the full command (not the cached-log printer), which streams with the pacer
    const first = run(['logs', 'streamed/1', '--tail', '5']);
    expect(first.status, first.stderr).toBe(0);
    const file = v8Files(dir).find((f) => f.startsWith('cli-logs-'))!;
    const made = statSync(join(dir, file));
    expect(run(['logs', 'streamed/1', '--tail', '5']).stdout).toBe(first.stdout);
    expect(statSync(join(dir, file)).mtimeMs).toBe(made.mtimeMs);   // accepted: not written again
  });

  it('replaces a file V8 refuses, and removes the files of older builds (any command), not those of another node', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-cc-'));
    expect(pilot(['list'], { PILOT_CODE_CACHE: dir }).status).toBe(0);
    const [file] = v8Files(dir);
    writeFileSync(join(dir, file!), Buffer.alloc(4096, 7));   // damaged
    const stale = file!.replace(/-\d+-\d+-\d+\.v8$/, '-1-2-3.v8');   // the same command, another build
    writeFileSync(join(dir, stale), 'old');
    writeFileSync(join(dir, stale.replace('cli-list-', 'cli-report-')), 'old');   // another command, another build
    writeFileSync(join(dir, 'cli-status-node-other.v8'), 'another node');
    const dead = spawnSync('true').pid!;   // a pilot killed while it saved left its temp file
    writeFileSync(join(dir, `.${file}.${dead}.0a1b2c3d.tmp`), 'half');
    const r = pilot(['list', '--json'], { PILOT_CODE_CACHE: dir });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('[]\n');
    expect(readFileSync(join(dir, file!)).subarray(0, 64).equals(Buffer.alloc(64, 7))).toBe(false);
    expect(v8Files(dir)).toEqual([file, 'cli-status-node-other.v8'].sort());
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('never uses a folder that others may write into, and can be turned off', () => {
    const shared = mkdtempSync(join(tmpdir(), 'pilot-cc-'));
    chmodSync(shared, 0o777);
    expect(pilot(['list'], { PILOT_CODE_CACHE: shared }).status).toBe(0);
    expect(v8Files(shared)).toEqual([]);

    const xdg = mkdtempSync(join(tmpdir(), 'pilot-cc-xdg-'));
    expect(pilot(['list'], { PILOT_CODE_CACHE: 'off', XDG_CACHE_HOME: xdg }).status).toBe(0);
    expect(readdirSync(xdg)).toEqual([]);
    expect(codeCacheDir({ PILOT_CODE_CACHE: '0' })).toBeUndefined();
    // the default: the user's cache folder
    expect(codeCacheDir({ XDG_CACHE_HOME: xdg })).toBe(join(xdg, 'hpc-pilot'));
    expect(pilot(['list'], { XDG_CACHE_HOME: xdg, PILOT_CODE_CACHE: '' }).status).toBe(0);
    expect(v8Files(join(xdg, 'hpc-pilot'))).toHaveLength(1);
  });

  it('is not made by a command that failed, and a cache folder that cannot be made fails nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-cc-'));
    const bad = pilot(['status', 'no-such-job'], { PILOT_CODE_CACHE: dir });
    expect(bad.status).toBe(2);
    expect(v8Files(dir)).toEqual([]);
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const r = pilot(['list', '--json'], { PILOT_CODE_CACHE: join(file, 'below') });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('[]\n');
  });

  it('lends the loader its import() for modules chosen at run time (a sweep filter and logic module)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-cc-'));
    // with the cache, and loaded by require when node applies source maps
    for (const extra of [{}, { NODE_OPTIONS: '--enable-source-maps' }] as Record<string, string>[]) {
      const r = pilot(['launch', join(ROOT, 'examples', 'lr-sweep', 'job.yaml'), '--cluster', 'local', '--dry-run'], { PILOT_CODE_CACHE: dir, ...extra });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/2 resource sets/);   // resources.logic ran
    }
  });

  it('names src/ files in stack traces when node applies source maps (--enable-source-maps), and the script otherwise', () => {
    const env = { PILOT_CODE_CACHE: mkdtempSync(join(tmpdir(), 'pilot-cc-')) };
    const mapped = pilot(['status', 'no-such-job', '--verbose'], { ...env, NODE_OPTIONS: '--enable-source-maps' });
    expect(mapped.status).toBe(2);
    expect(mapped.stderr).toMatch(/at JobStore\.notFound \(.*src\/store\/store\.ts:\d+:\d+\)/);
    expect(pilot(['status', 'no-such-job', '--verbose'], env).stderr).toMatch(/at JobStore\.notFound \(.*dist\/pilot\/cli\.cjs:\d+:\d+\)/);
  });
});
