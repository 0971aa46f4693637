// The submit command RUN here by the local sh on a folder laid out as a cluster's root, with sbatch, scontrol
// and scancel stubbed and every other command it may start wrapped to log its name (PATH holds nothing else,
// so a command it was not meant to start fails the test): what it writes, what it undoes, the marker it
// leaves, and which processes it starts (each one costs a login node a millisecond or more).
// As root the links branch of work/ cannot be taken (root may write any file), so when the tests run as root
// they also run the command as `nobody` (setpriv) to see it.
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SubmitCommandInput } from '../../src/scheduler/dialect.js';
import { parseProbe, probeCommand, submitCommand } from '../../src/scheduler/slurm/submit.js';
import { memoryTar } from '../../src/bundle/mem-tar.js';
import { INLINE_MAX, inlineOrTar } from '../../src/scheduler/inline-files.js';

const SHA = 'ab'.repeat(32);
const WRAPPED = ['mkdir', 'tar', 'cp', 'find', 'chmod', 'id', 'touch', 'rm', 'cat', 'grep', 'sed', 'pwd'];
const real = (cmd: string) => execSync(`command -v ${cmd}`, { shell: '/bin/sh', encoding: 'utf8' }).trim();
const isRoot = process.getuid?.() === 0;
const setpriv = isRoot && existsSync('/usr/bin/setpriv');

interface Run {
  /** the pid of the shell that ran the command */
  pid: number;
  stdout: string;
  code: number;
  jobDir: string;
  marker: string;
  logFile: string;
  /** the names of the processes started, in order */
  log: () => string[];
}

/**
 * A cluster root under a home: bundles/<SHA> unpacked read-only as the submit command leaves it, jobs/; owned
 * by `nobody` for its runs (Linux's protected_hardlinks refuses links to another user's files).
 */
function cluster(nobody = false) {
  const home = realpathSync(mkdtempSync(join(tmpdir(), 'pilot-submit-run-')));
  chmodSync(home, 0o777);   // `nobody` writes here too
  const root = join(home, 'pilot');
  const bundle = join(root, 'bundles', SHA);
  mkdirSync(join(bundle, 'src', 'sub', 'deep'), { recursive: true });
  mkdirSync(join(root, 'jobs'), { recursive: true });
  writeFileSync(join(bundle, 'src', 'main.sh'), 'echo hi\n', { mode: 0o755 });
  writeFileSync(join(bundle, 'src', 'sub', 'data.txt'), 'data\n');
  writeFileSync(join(bundle, '.pilot-complete'), '');
  execSync(`chmod -R a+rwX ${root} && chmod -R a-w ${bundle}${nobody ? ` && chown -R 65534:65534 ${root}` : ''}`);
  const bin = join(home, 'bin');
  mkdirSync(bin);
  const script = (name: string, body: string) => writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  for (const cmd of WRAPPED) {
    const extra = cmd === 'cp'
      // a cp without the option (busybox, BSD), or one that takes it but keeps the bundle's folder modes (old GNU)
      ? 'case "$CP_KIND" in none) case "$*" in *--no-preserve*) exit 1;; esac;; old) [ "$2" = --no-preserve=mode ] && shift 2 && set -- -Rlf "$@";; nolink) [ "$1" = -Rlf ] && exit 1;; esac\n'
      : '';
    script(cmd, `echo ${cmd} >> "$LOG"\n${extra}exec ${real(cmd)} "$@"`);
  }
  script('sh', `exec ${real('sh')} "$@"`);
  script('sbatch', 'echo sbatch >> "$LOG"; [ -z "$SBATCH_FAIL" ] || { echo "sbatch: error: Invalid partition name specified" >&2; exit 1; }; echo "$PWD $*" >> "$LOG.sbatch"; echo "4242;cluster"');
  script('scontrol', 'echo scontrol >> "$LOG"; echo "Slurmctld(primary) at ctl is ${CTLD:-UP}"');
  script('scancel', 'echo "scancel $*" >> "$LOG"');
  return { home, root, bundle, bin };
}

function input(c: ReturnType<typeof cluster>, over: Partial<SubmitCommandInput> = {}): SubmitCommandInput {
  return {
    root: c.root, jobDir: join(c.root, 'jobs', `j-${Math.random().toString(16).slice(2, 10)}`), bundleSha: SHA, withJobFiles: true,
    arrays: [{ offset: 0, spec: '1-3%2' }], script: 'job.sh', attempt: 1, token: 'cafe01',
    precheck: { remoteDir: '~/pilot', interpreter: 'cat', interpreterRequired: true }, ...over,
  };
}

const jobFiles = () => memoryTar([{ name: 'job.sh', data: '#!/bin/bash\n', mode: 0o755 }, { name: 'args.b64', data: 'x\n' }]);

function run(c: ReturnType<typeof cluster>, inp: SubmitCommandInput, env: Record<string, string> = {}, asNobody = false): Run {
  const log = join(c.home, `log.${Math.random().toString(16).slice(2)}`);
  writeFileSync(log, '');
  chmodSync(log, 0o666);
  const cmd = submitCommand(inp);
  // `exec`: the command's `sh -c` takes this very pid, as it takes the login shell's on a cluster
  const argv = asNobody ? ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '/bin/sh', '-c', `exec ${cmd}`] : ['/bin/sh', '-c', `exec ${cmd}`];
  const child = spawnSync(argv[0]!, argv.slice(1), { cwd: c.home, input: inp.withJobFiles ? jobFiles() : '', encoding: 'utf8', env: { PATH: c.bin, HOME: c.home, LOG: log, ...env } });
  const stdout = child.stdout;
  const code = child.status ?? -1;
  const marker = join(inp.jobDir, `.pilot-submit-${inp.token}`);
  return { pid: child.pid!, stdout, code, jobDir: inp.jobDir, marker, logFile: log, log: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

/** The background touch of a reused bundle may end after the command: waited for (bounded), never timed. */
function touched(r: Run): boolean {
  for (let i = 0; i < 200 && !r.log().includes('touch'); i++) execSync('sleep 0.01');
  return r.log().includes('touch');
}

describe('the submit command on a cached launch (run by sh)', () => {
  const users = [{ who: isRoot ? 'root' : 'a user', nobody: false }, ...(setpriv ? [{ who: 'a user (nobody)', nobody: true }] : [])];
  for (const { who, nobody } of users) {
    const linked = !isRoot || nobody;
    it(`as ${who}: writes the job folder, submits, and starts only mkdir, scontrol, tar, cp and sbatch before replying`, () => {
      const c = cluster(nobody);
      const r = run(c, input(c), {}, nobody);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^@@interpreter=.*\/cat$/m);
      expect(r.stdout).toMatch(/^@@submitted 4242 0 1-3%2$/m);
      const marker = readFileSync(r.marker, 'utf8').split('\n');
      expect(marker[0]).toMatch(/^begin \d+$/);
      // the pid of the subshell that submits (the pipe's reader), not of the command's shell
      expect(Number(marker[0]!.slice(6))).not.toBe(r.pid);
      expect(marker.slice(1)).toEqual(['submitted 4242 0 1-3%2', 'end', '']);
      for (const d of ['logs', 'outputs', 'work', 'work/sub', 'work/sub/deep']) expect(statSync(join(r.jobDir, d)).isDirectory()).toBe(true);
      expect(readFileSync(join(r.jobDir, 'job.sh'), 'utf8')).toBe('#!/bin/bash\n');
      expect(existsSync(join(r.jobDir, '.pilot-work'))).toBe(true);
      expect(readFileSync(join(r.jobDir, '.pilot-bundles'), 'utf8')).toBe(`bundles/${SHA}\n`);
      expect(existsSync(join(r.jobDir, '.ping'))).toBe(false);   // the controller's answer came through a pipe
      // shipped files: hard links into the read-only bundle for a user, copies for root (who could write them)
      expect(statSync(join(r.jobDir, 'work', 'sub', 'data.txt')).ino === statSync(join(c.bundle, 'src', 'sub', 'data.txt')).ino).toBe(linked);
      // folders of work/ take new files (the bundle's are read-only)
      for (const d of ['work', 'work/sub', 'work/sub/deep']) expect(statSync(join(r.jobDir, d)).mode & 0o200).toBe(0o200);
      expect(readFileSync(`${r.logFile}.sbatch`, 'utf8')).toBe(`${r.jobDir} --parsable --array=1-3%2 job.sh 0 1 ${SHA}\n`);
      const before = r.log().filter((p) => p !== 'touch');
      expect(before.sort()).toEqual(linked ? ['cp', 'mkdir', 'sbatch', 'scontrol', 'tar'] : ['chmod', 'cp', 'find', 'mkdir', 'sbatch', 'scontrol', 'tar']);
    });
  }
});


describe('the submit command: the other paths (run by sh)', () => {
  it('marks a reused bundle as used after replying (the touch pilot gc honours), and only on a cached launch', () => {
    const c = cluster();
    expect(touched(run(c, input(c)))).toBe(true);
    const uncached = run(c, input(c, { precheck: undefined }));
    expect(uncached.stdout).toMatch(/^@@submitted 4242 0 1-3%2$/m);
    // the probe checked the controller and touched the bundle: neither again
    expect(uncached.log()).not.toContain('scontrol');
    expect(uncached.log()).not.toContain('touch');
  });

  it('stops before writing anything when the cached facts are stale (stdin drained, the reason printed)', () => {
    const c = cluster();
    const moved = run(c, input(c, { root: '/elsewhere' }));
    expect(moved.stdout).toMatch(/^@@unready root$/m);
    expect(existsSync(moved.jobDir)).toBe(false);
    expect(moved.log()).toEqual(['cat']);
    const missing = run(c, input(c, { precheck: { remoteDir: '~/pilot', interpreter: 'no-such-interpreter', interpreterRequired: true } }));
    expect(missing.stdout).toMatch(/^@@interpreter=$/m);
    expect(missing.stdout).toMatch(/^@@unready interpreter$/m);
    expect(existsSync(missing.jobDir)).toBe(false);
    // not required (setup lines may provide it): said, and the launch goes on
    const optional = run(c, input(c, { precheck: { remoteDir: '~/pilot', interpreter: 'no-such-interpreter', interpreterRequired: false } }));
    expect(optional.stdout).toMatch(/^@@interpreter=$/m);
    expect(optional.stdout).toMatch(/^@@submitted 4242/m);
    const gone = cluster();
    execSync(`chmod -R u+w ${gone.bundle} && rm -rf ${gone.bundle}`);
    expect(run(gone, input(gone)).stdout).toMatch(/^@@unready bundle$/m);
  });

  it('takes a cached root reached through a link or a relative remoteDir (the login folder is home)', () => {
    const c = cluster();
    execSync(`ln -s ${c.root} ${join(c.home, 'via-link')}`);
    for (const remoteDir of ['~/via-link', 'pilot']) {
      const r = run(c, input(c, { precheck: { remoteDir, interpreter: 'cat', interpreterRequired: true } }));
      expect(r.stdout, remoteDir).toMatch(/^@@submitted 4242/m);
    }
  });

  it('undoes everything when the controller does not answer, before any sbatch', () => {
    const c = cluster();
    const r = run(c, input(c), { CTLD: 'DOWN' });
    expect(r.stdout).toMatch(/^@@error controller$/m);
    expect(r.code).toBe(8);
    expect(existsSync(r.jobDir)).toBe(false);
    expect(r.log()).not.toContain('sbatch');
  });

  it('undoes everything when sbatch refuses, and says why', () => {
    const c = cluster();
    const r = run(c, input(c), { SBATCH_FAIL: '1' });
    expect(r.stdout).toMatch(/^@@error sbatch\nsbatch: error: Invalid partition name specified$/m);
    expect(r.code).toBe(7);
    expect(existsSync(r.jobDir)).toBe(false);
  });

  it('a resubmission starts no mkdir in its existing folder, and fills work/ again only with a bundle of its own', () => {
    const c = cluster();
    const first = run(c, input(c));
    const again = run(c, input(c, { jobDir: first.jobDir, withJobFiles: false, precheck: undefined, attempt: 2, token: 'cafe02' }));
    expect(again.stdout).toMatch(/^@@submitted 4242 0 1-3%2$/m);
    expect(readFileSync(join(first.jobDir, '.pilot-submit-cafe02'), 'utf8')).toBe(`begin ${again.pid}\nsubmitted 4242 0 1-3%2\nend\n`);
    expect(again.log()).toEqual(['sbatch']);
    const repack = run(c, input(c, { jobDir: first.jobDir, withJobFiles: false, newBundle: true, precheck: undefined, attempt: 3, token: 'cafe03' }));
    expect(repack.log()).toContain('cp');
    expect(repack.log()).not.toContain('mkdir');
    // a resubmission that fails leaves the job folder (the job's earlier attempts live there)
    const refused = run(c, input(c, { jobDir: first.jobDir, withJobFiles: false, precheck: undefined, attempt: 4, token: 'cafe04' }), { SBATCH_FAIL: '1' });
    expect(refused.stdout).toMatch(/^@@error sbatch$/m);
    expect(existsSync(join(first.jobDir, 'job.sh'))).toBe(true);
    expect(readFileSync(join(first.jobDir, '.pilot-submit-cafe04'), 'utf8')).toMatch(/cancelled\nend\n$/);
  });

  // the links branch, which root never takes
  it.runIf(!isRoot || setpriv)('opens the folders of work/ whatever cp does with --no-preserve=mode', () => {
    for (const kind of ['none', 'old']) {
      const c = cluster(isRoot);
      const r = run(c, input(c), { CP_KIND: kind }, isRoot);
      expect(r.stdout).toMatch(/^@@submitted 4242/m);
      for (const d of ['work', 'work/sub', 'work/sub/deep']) expect(statSync(join(r.jobDir, d)).mode & 0o200).toBe(0o200);
      // linked either way, and find opens the folders (no option: linked by a plain cp -l; the option without its effect)
      const linked = statSync(join(r.jobDir, 'work', 'sub', 'data.txt')).ino === statSync(join(c.bundle, 'src', 'sub', 'data.txt')).ino;
      expect({ kind, linked, find: r.log().includes('find') }).toEqual({ kind, linked: true, find: true });
    }
    // a cp that cannot link at all (another file system): copies, folders opened
    {
      const c = cluster(isRoot);
      const r = run(c, input(c), { CP_KIND: 'nolink' }, isRoot);
      expect(r.stdout).toMatch(/^@@submitted 4242/m);
      expect(statSync(join(r.jobDir, 'work', 'sub', 'data.txt')).ino).not.toBe(statSync(join(c.bundle, 'src', 'sub', 'data.txt')).ino);
      for (const d of ['work', 'work/sub', 'work/sub/deep']) expect(statSync(join(r.jobDir, d)).mode & 0o200).toBe(0o200);
    }
  });
});

describe('the probe (run by sh)', () => {
  const probe = (c: ReturnType<typeof cluster>, remoteDir: string, sha: string, env: Record<string, string> = {}) => {
    const log = join(c.home, `log.${Math.random().toString(16).slice(2)}`);
    writeFileSync(log, '');
    const stdout = execFileSync('/bin/sh', ['-c', probeCommand(remoteDir, sha, false, 'cat')], { cwd: c.home, encoding: 'utf8', env: { PATH: c.bin, HOME: c.home, LOG: log, ...env } });
    return { facts: parseProbe(stdout), log: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
  };

  it('says where things are with only mkdir and scontrol (and touch for a bundle it reuses)', () => {
    const c = cluster();
    const missing = probe(c, '~/pilot', 'cd'.repeat(32));
    expect(missing.facts).toEqual({ home: c.home, root: c.root, bundlePresent: false, maxArraySize: undefined, controllerUp: true, interpreter: join(c.bin, 'cat') });
    expect(missing.log.sort()).toEqual(['mkdir', 'scontrol']);
    const present = probe(c, '~/pilot', SHA);
    expect(present.facts.bundlePresent).toBe(true);
    expect(present.log.sort()).toEqual(['mkdir', 'scontrol', 'touch']);
    expect(probe(c, '~/pilot', SHA, { CTLD: 'DOWN' }).facts.controllerUp).toBe(false);
  });

  it('resolves a relative remoteDir and one through a link to the physical root', () => {
    const c = cluster();
    expect(probe(c, 'pilot', SHA).facts).toMatchObject({ root: c.root, bundlePresent: true });
    execSync(`ln -s ${c.root} ${join(c.home, 'via-link')}`);
    expect(probe(c, '~/via-link', SHA).facts).toMatchObject({ root: c.root, bundlePresent: true });
  });
});

describe('the job files inside the command (run by sh)', () => {
  const tricky = "#!/bin/bash\necho '%s %d \\n' \"$HOME\" `x` $(y) \\\\ ünïcödé\n\n\n";
  const files = [{ name: 'job.sh', data: tricky, mode: 0o755 }, { name: 'args.b64', data: 'YQ==\n' }];

  it('writes them byte for byte with printf, starting no tar and reading no stdin', async () => {
    const c = cluster();
    const inp = input(c);
    const { cmd, stdin } = await inlineOrTar(files, (inlineFiles) => submitCommand({ ...inp, inlineFiles }));
    expect(stdin).toBeUndefined();
    const log = join(c.home, 'log.inline');
    writeFileSync(log, '');
    const out = execFileSync('/bin/sh', ['-c', cmd], { cwd: c.home, input: '', encoding: 'utf8', env: { PATH: c.bin, HOME: c.home, LOG: log } });
    expect(out).toMatch(/^@@submitted 4242/m);
    expect(readFileSync(join(inp.jobDir, 'job.sh'), 'utf8')).toBe(tricky);
    expect(readFileSync(join(inp.jobDir, 'args.b64'), 'utf8')).toBe('YQ==\n');
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean).filter((p) => p !== 'touch').sort()).toEqual(isRoot ? ['chmod', 'cp', 'find', 'mkdir', 'sbatch', 'scontrol'] : ['cp', 'mkdir', 'sbatch', 'scontrol']);
  });

  it('falls back to the tar on stdin for a command past INLINE_MAX or a NUL byte, and sends nothing without files', async () => {
    const c = cluster();
    const inp = input(c);
    const build = (inlineFiles?: { name: string; data: string }[]) => submitCommand({ ...inp, inlineFiles });
    const big = await inlineOrTar([{ name: 'args.b64', data: 'x'.repeat(INLINE_MAX) }], build);
    expect(big.stdin?.length).toBeGreaterThan(INLINE_MAX);
    expect(big.cmd).toContain('tar -xf - -C "$J"');
    expect(Buffer.byteLength(big.cmd)).toBeLessThan(INLINE_MAX);
    expect((await inlineOrTar([{ name: 'args.b64', data: 'a\0b' }], build)).stdin).toBeDefined();
    expect(await inlineOrTar([], build)).toEqual({ cmd: build() });
    await expect(inlineOrTar([{ name: '../x', data: '' }], build)).rejects.toThrow(/unsupported name/);
  });
});
