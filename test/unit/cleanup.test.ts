// The remote commands of `pilot rm --remote` and `pilot gc`, run here with the local sh on a folder laid out as
// a cluster's root (the scheduler's answer stubbed): what goes, what stays, and that nothing outside pilot's
// own names is ever touched. The integration tier runs the same commands on the real cluster over SSH.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PilotError } from '../../src/model/errors.js';
import { checkJobDir, gcCommand, keepList, parseGc, removeJobCommand } from '../../src/scheduler/cleanup.js';
import { probeCommand } from '../../src/scheduler/slurm/submit.js';
import { quote } from '../../src/util/quote.js';

const sha = (c: string) => c.repeat(64);
const [KEPT, RUNNING, GARBAGE, YOUNG, LISTED] = [sha('1'), sha('2'), sha('3'), sha('4'), sha('5')];
const TEN_DAYS_AGO = new Date(Date.now() - 10 * 86_400_000);

/** A cluster root: job folders whose job.sh names a bundle (as the template does), bundles, leftovers, oddities. */
function root(): { dir: string; outside: string; active: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-gc-root-'));
  const outside = mkdtempSync(join(tmpdir(), 'pilot-gc-outside-'));
  writeFileSync(join(outside, 'precious'), 'x');
  const job = (folder: string, bundle: string, old = true) => {
    mkdirSync(join(dir, 'jobs', folder, 'logs'), { recursive: true });
    writeFileSync(join(dir, 'jobs', folder, 'job.sh'), `PILOT_BUNDLE_DIR=$(cd -P "$PILOT_JOB_DIR/../../bundles/"${bundle} && pwd)\n`);
    if (old) utimesSync(join(dir, 'jobs', folder), TEN_DAYS_AGO, TEN_DAYS_AGO);
  };
  const bundle = (name: string, old = true) => {
    mkdirSync(join(dir, 'bundles', name), { recursive: true });
    if (old) utimesSync(join(dir, 'bundles', name), TEN_DAYS_AGO, TEN_DAYS_AGO);
  };
  job('recorded-0000aaaa', KEPT);          // a local record refers to it
  job('running-0000bbbb', RUNNING);        // unrecorded, but the scheduler runs it (another machine's job)
  job('forgotten-0000cccc', GARBAGE);      // nothing refers to it: goes
  job('fresh-0000dddd', YOUNG, false);     // nothing refers to it, but changed today
  for (const b of [KEPT, RUNNING, GARBAGE, LISTED]) bundle(b);
  bundle(YOUNG);
  writeFileSync(join(dir, 'bundles', `${GARBAGE}.0123abcd.tar.gz`), 'x');   // an upload whose launch died
  utimesSync(join(dir, 'bundles', `${GARBAGE}.0123abcd.tar.gz`), TEN_DAYS_AGO, TEN_DAYS_AGO);
  mkdirSync(join(dir, 'bundles', `${GARBAGE}.tmp.4242`));                   // a fresh unpack: stays a day at least
  // not pilot's names: never touched, whatever their age
  writeFileSync(join(dir, 'jobs', 'fail-1'), '');
  for (const odd of ['notes', 'my job-0000eeee', 'x-0000EEEE']) mkdirSync(join(dir, 'jobs', odd));
  mkdirSync(join(dir, 'bundles', 'not-a-hash'));
  symlinkSync(outside, join(dir, 'jobs', 'link-0000ffff'));
  symlinkSync(outside, join(dir, 'bundles', sha('6')));
  const active = join(dir, '..', `${dir.split('/').pop()}.active`);
  writeFileSync(active, `${dir}/jobs/running-0000bbbb\n/elsewhere/jobs/x-12345678\n`);
  return { dir, outside, active };
}

function gc(dir: string, active: string, options: { olderThanMinutes?: number; dryRun?: boolean; activeWorkDirs?: string } = {}) {
  const cmd = gcCommand({ remoteDir: dir, olderThanMinutes: options.olderThanMinutes ?? 7 * 1440, dryRun: options.dryRun ?? false, activeWorkDirs: options.activeWorkDirs ?? `cat ${quote(active)}` });
  let code = 0;
  let stdout = '';
  try {
    stdout = execSync(cmd, { input: keepList(['recorded-0000aaaa'], [LISTED]), encoding: 'utf8', shell: '/bin/sh' });
  } catch (err) {
    code = (err as { status: number }).status;
    stdout = (err as { stdout: string }).stdout;
  }
  return parseGc(code, stdout, '', 'lab');
}

const names = (dir: string, sub: string) => readdirSync(join(dir, sub)).sort();

describe('the gc command', () => {
  it('lists with sizes and removes nothing on a dry run', () => {
    const { dir, active } = root();
    const before = [names(dir, 'jobs'), names(dir, 'bundles')];
    const found = gc(dir, active, { dryRun: true });
    expect(found.map((e) => [e.kind, e.path]).sort()).toEqual([
      ['bundle', `${dir}/bundles/${GARBAGE}`],
      ['job', `${dir}/jobs/forgotten-0000cccc`],
      ['leftover', `${dir}/bundles/${GARBAGE}.0123abcd.tar.gz`],
    ]);
    expect(found.every((e) => e.bytes > 0)).toBe(true);
    expect([names(dir, 'jobs'), names(dir, 'bundles')]).toEqual(before);
  });

  it('removes what nothing refers to and is old enough; keeps recorded, running, recent and foreign entries', () => {
    const { dir, outside, active } = root();
    gc(dir, active);
    expect(names(dir, 'jobs')).toEqual(['fail-1', 'fresh-0000dddd', 'link-0000ffff', 'my job-0000eeee', 'notes', 'recorded-0000aaaa', 'running-0000bbbb', 'x-0000EEEE']);
    // the bundles of kept jobs stay with them (found in their job.sh), and the one a record names
    expect(names(dir, 'bundles')).toEqual([KEPT, RUNNING, YOUNG, `${GARBAGE}.tmp.4242`, LISTED, sha('6'), 'not-a-hash'].sort());
    expect(existsSync(join(outside, 'precious'))).toBe(true);
  });

  it('with --older-than 0 takes recent entries too, but never a running job, a recorded one, or a fresh leftover', () => {
    const { dir, active } = root();
    const found = gc(dir, active, { olderThanMinutes: 0 });
    expect(found.map((e) => e.path.slice(dir.length + 1)).sort()).toEqual([
      `bundles/${GARBAGE}`, `bundles/${GARBAGE}.0123abcd.tar.gz`, `bundles/${YOUNG}`, 'jobs/forgotten-0000cccc', 'jobs/fresh-0000dddd',
    ]);
    expect(existsSync(join(dir, 'jobs', 'running-0000bbbb'))).toBe(true);
    expect(existsSync(join(dir, 'bundles', RUNNING))).toBe(true);
    expect(existsSync(join(dir, 'bundles', `${GARBAGE}.tmp.4242`))).toBe(true);
  });

  it('removes nothing when the scheduler cannot say what runs, and nothing where there is no root', () => {
    const { dir, active } = root();
    const before = names(dir, 'jobs');
    expect(() => gc(dir, active, { olderThanMinutes: 0, activeWorkDirs: 'false' })).toThrowError(/the scheduler did not say which jobs are unfinished: nothing was removed/);
    expect(names(dir, 'jobs')).toEqual(before);
    expect(gc(join(dir, 'nowhere'), active)).toEqual([]);
  });
});

describe('a launch while gc runs', () => {
  it('keeps the bundle of a job folder made after gc listed jobs/ (a launch reusing an old bundle)', () => {
    const { dir, active } = root();
    // the first `grep` of gc's job loop makes the folder, as a launch would (its .pilot-bundles names the bundle)
    const bin = mkdtempSync(join(tmpdir(), 'pilot-gc-bin-'));
    const late = join(dir, 'jobs', 'late-0000abcd');
    const grep = execSync('command -v grep', { encoding: 'utf8', shell: '/bin/sh' }).trim();
    writeFileSync(join(bin, 'grep'), `#!/bin/sh\n[ -e ${quote(late)} ] || { mkdir ${quote(late)} && echo bundles/${GARBAGE} > ${quote(late)}/.pilot-bundles; }\nexec ${grep} "$@"\n`, { mode: 0o755 });
    const cmd = gcCommand({ remoteDir: dir, olderThanMinutes: 7 * 1440, dryRun: false, activeWorkDirs: `cat ${quote(active)}` });
    const out = execSync(cmd, { input: keepList(['recorded-0000aaaa'], [LISTED]), encoding: 'utf8', shell: '/bin/sh', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    const found = parseGc(0, out, '', 'lab');
    expect(existsSync(join(late, '.pilot-bundles'))).toBe(true);
    expect(existsSync(join(dir, 'bundles', GARBAGE))).toBe(true);
    // what nothing refers to still goes
    expect(found.map((e) => e.path.slice(dir.length + 1)).sort()).toEqual(['bundles/' + GARBAGE + '.0123abcd.tar.gz', 'jobs/forgotten-0000cccc']);
  });
});

describe('ages on the cluster', () => {
  it('a launch that reuses a bundle touches it, so gc ages a bundle from its last use', () => {
    expect(probeCommand('~/pilot', GARBAGE, false)).toContain(`then touch -c "$R/bundles/"${GARBAGE}; echo bundle=present`);
  });
});

describe('removing one job folder', () => {
  it('takes exactly <root>/jobs/<name>-<8 hex>, and refuses anything else a record could say', () => {
    const { dir } = root();
    const out = execSync(removeJobCommand(`${dir}/jobs/forgotten-0000cccc`, 'lab'), { encoding: 'utf8', shell: '/bin/sh' });
    expect(out.trim()).toBe('removed');
    expect(existsSync(join(dir, 'jobs', 'forgotten-0000cccc'))).toBe(false);
    expect(execSync(removeJobCommand(`${dir}/jobs/forgotten-0000cccc`, 'lab'), { encoding: 'utf8', shell: '/bin/sh' }).trim()).toBe('absent');
    for (const bad of [`${dir}/jobs/..`, `${dir}/jobs/../jobs/x-0000aaaa`, `${dir}/other/x-0000aaaa`, 'jobs/x-0000aaaa', `${dir}/jobs/x`, `${dir}/jobs/`, '/', `${dir}/jobs/x-0000aaaa/`, `${dir}//jobs/x-0000aaaa`]) {
      expect(() => checkJobDir(bad, 'lab'), bad).toThrowError(PilotError);
      expect(() => removeJobCommand(bad, 'lab'), bad).toThrowError(/is not one pilot made/);
    }
  });
});
