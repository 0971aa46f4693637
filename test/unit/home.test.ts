// A pilot home that cannot be used (issue 9, item 11): one HOME error with a hint and exit 2, from every
// command, and never a loop. Tests run as root, where chmod does not stop writes: an impossible home is a
// path under /proc (which answers ENOENT to mkdir, and made Node's recursive mkdir spin for ever) or a file
// standing where the folder should be; the chmod case runs only for other users.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { PilotError } from '../../src/model/errors.js';
import { JobStore } from '../../src/store/store.js';
import { makeDirs } from '../../src/util/files.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pilot.js');
const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'fine-tune-mlp', 'job.yaml');
const isRoot = process.getuid?.() === 0;

/** Runs the CLI, killing it after `ms`: a command that loops shows as `timedOut`. */
function cli(home: string, args: string[], ms = 15_000): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, ms);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, timedOut }); });
  });
}

/** Resolves within `ms` or fails the test (a promise that never settles is what Node's mkdir did). */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms))]);
}

const tmp = () => mkdtempSync(join(tmpdir(), 'pilot-home-err-'));
function aFile(): string {
  const file = join(tmp(), 'not-a-folder');
  writeFileSync(file, 'x');
  return file;
}

describe('makeDirs', () => {
  it('ends under /proc where Node\'s recursive mkdir never settles, with the error of the part that cannot be made', async () => {
    await expect(within(5_000, makeDirs('/proc/pilot-test/jobs'))).rejects.toMatchObject({ code: 'ENOENT', path: '/proc/pilot-test' });
    await expect(within(5_000, makeDirs('/proc/pilot-test'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('makes nested folders, accepts existing ones, refuses a file in the way', async () => {
    const root = tmp();
    await makeDirs(join(root, 'a', 'b', 'c'));
    await makeDirs(join(root, 'a', 'b'));
    expect(existsSync(join(root, 'a', 'b', 'c'))).toBe(true);
    const file = aFile();
    await expect(makeDirs(file)).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(makeDirs(join(file, 'x', 'y'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('an unusable home in the SDK', () => {
  const cases: [string, () => string, RegExp][] = [
    ['a path under /proc', () => '/proc/pilot-home', /\/proc\/pilot-home cannot be created: \/proc takes no new folders/],
    ['a missing parent that cannot be created', () => '/proc/no-such/deeper/pilot', /\/proc\/no-such cannot be created/],
    ['a file where the folder should be', aFile, /not-a-folder is a file, not a folder/],
    ['a folder inside a file', () => join(aFile(), 'pilot'), /not-a-folder is a file, not a folder/],
  ];
  for (const [what, make, message] of cases) {
    it(`${what}: one HOME error naming the path, with a hint, from launch, dry run, status and list`, async () => {
      const dir = make();
      const pilot = new SlurmWrapper({ home: dir });
      const job = { jobName: 'x', cluster: 'local', srcDir: join(import.meta.dirname, '..', 'fixtures', 'echo-argv'), entrypoint: 'echo.sh' };
      const calls: (() => Promise<unknown>)[] = [() => pilot.scheduleJobs(job), () => pilot.dryRun(job), () => pilot.status('x'), () => pilot.list(), () => pilot.rm('x')];
      for (const call of calls) {
        const err = await within(5_000, call()).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PilotError);
        expect((err as PilotError).code).toBe('HOME');
        expect((err as PilotError).exitCode).toBe(2);
        expect((err as PilotError).message).toMatch(new RegExp(`^cannot use ${dir} as the pilot home: `));
        expect((err as PilotError).message).toMatch(message);
        expect((err as PilotError).hint).toMatch(/PILOT_HOME \(or --home DIR\)/);
      }
    });
  }

  it('a folder without write permission (chmod 0555): one clear error', () => {
    // root writes anywhere, so the check runs as `nobody` in a child process (the test runner is root in CI)
    const dir = tmp();
    chmodSync(dir, 0o755);
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    chmodSync(locked, 0o555);
    // a copy of the build `nobody` can read wherever the checkout lives (it needs no package from node_modules)
    const copy = tmp();
    chmodSync(copy, 0o755);
    cpSync(join(import.meta.dirname, '..', '..', 'dist'), join(copy, 'dist'), { recursive: true });
    const store = join(copy, 'dist', 'store', 'store.js');
    const code = `const { JobStore } = await import(${JSON.stringify(store)});
      try { await new JobStore(${JSON.stringify(join(locked, 'home'))}).ensureHome(); console.log('made'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', ...(isRoot ? { uid: 65534, gid: 65534 } : {}) });
    const out = JSON.parse(r.stdout.trim()) as { code: string; message: string };
    expect(out.code).toBe('HOME');
    expect(out.message).toMatch(/permission denied in /);
  });

  it('a home that can be made is made on first use, and a missing one lists no jobs', async () => {
    const dir = join(tmp(), 'new', 'home');
    expect(await new SlurmWrapper({ home: dir }).list()).toEqual([]);
    expect(existsSync(join(dir, 'jobs'))).toBe(true);
  });
});

describe('an unusable home in the CLI', () => {
  it('every command exits 2 with error + hint at once, never spinning (PILOT_HOME=/proc/pilot used to loop at 70 % CPU)', async () => {
    const file = aFile();
    for (const home of ['/proc/pilot', file]) {
      for (const args of [['launch', EXAMPLE, '--cluster', 'local'], ['launch', EXAMPLE, '--dry-run'], ['status'], ['status', 'x'], ['list'], ['gc'], ['rm', 'x']]) {
        const r = await cli(home, args);
        const what = `${home}: ${args.join(' ')}`;
        expect(r.timedOut, what).toBe(false);
        expect(r.code, `${what}: ${r.stderr}`).toBe(2);
        expect(r.stderr, what).toMatch(new RegExp(`^error: cannot use ${home} as the pilot home: .+\nhint: .+\n$`));
      }
    }
  });
});
