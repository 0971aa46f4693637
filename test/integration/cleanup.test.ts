// `pilot rm` and `pilot gc` on the real cluster and on the built-in local one: folders really gone, folders of
// unfinished jobs really kept (also those launched from another machine into the same remote folder).
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import type { GcResult } from '../../src/engine/types.js';
import type { SshTransport } from '../../src/transport/ssh.js';
import { quote } from '../../src/util/quote.js';
import { pilot } from '../support/cli.js';
import { connect, makeHome } from '../support/cluster.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'echo-argv');
const WAIT = { minIntervalMs: 500, maxIntervalMs: 1000, timeoutMs: 120_000 };

/** A copy of the fixture with content of its own, so that it packs into a bundle of its own. */
function src(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pilot-src-${tag}-`));
  cpSync(FIXTURE, dir, { recursive: true });
  writeFileSync(join(dir, 'tag.txt'), `${tag} ${dir}\n`);
  return dir;
}

const job = (jobName: string, srcDir: string, extra: Record<string, unknown> = {}) =>
  ({ jobName, cluster: 'lab', srcDir, entrypoint: 'echo.sh', args: ['1', '2'], ...extra });

describe('rm and gc on Slurm', () => {
  let ssh: SshTransport;
  beforeAll(async () => { ssh = await connect(); });
  afterAll(async () => { await ssh?.close(); });
  const exists = async (path: string) => (await ssh.exec(`test -e ${quote(path)} && echo yes || echo no`)).stdout.trim() === 'yes';

  it('rm refuses unfinished tasks; rm --remote deletes the job folder (the bundle stays); --force cancels first; the name is free again', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    const done = await w.scheduleJobs(job('rm-done', src('rm')));
    const held = await w.scheduleJobs(job('rm-held', FIXTURE, { sbatchArgs: ['--hold'] }));
    onTestFinished(async () => { await ssh.exec(`scancel ${held.slurmJobIds.join(' ')}`); });
    await w.wait('rm-done', WAIT);
    const bundleDir = (await w.store.read('rm-done')).remote.bundleDir;
    await w.close();
    expect(await exists(done.remoteDir)).toBe(true);

    const refused = await pilot(['rm', 'rm-held', '--remote'], home);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/^error: job 'rm-held' still has 2 unfinished tasks \(2 PENDING\): nothing was removed\n/);
    expect(refused.stderr).toMatch(/^hint: .*--force/m);
    expect(existsSync(join(home, 'jobs', 'rm-held', 'job.json'))).toBe(true);
    expect(await exists(held.remoteDir)).toBe(true);

    const removed = await pilot(['rm', 'rm-done', '--remote'], home);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(`removed rm-done: its record and cached logs (${join(home, 'jobs', 'rm-done')}), and its folder ${done.remoteDir} on the cluster\n`);
    expect(existsSync(join(home, 'jobs', 'rm-done'))).toBe(false);
    expect(await exists(done.remoteDir)).toBe(false);
    expect(await exists(bundleDir)).toBe(true);   // shared by content: gc's business, not rm's

    const forced = await pilot(['rm', 'rm-held', '--force', '--remote', '--json'], home);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual([{ name: 'rm-held', localDir: join(home, 'jobs', 'rm-held'), remoteDir: held.remoteDir, cancelled: [1, 2] }]);
    expect(await exists(held.remoteDir)).toBe(false);
    expect((await ssh.exec(`squeue -h -j ${held.slurmJobIds[0]} 2>/dev/null`)).stdout.trim()).toBe('');

    const again = new SlurmWrapper({ home });
    expect((await again.scheduleJobs(job('rm-done', FIXTURE))).name).toBe('rm-done');
    await again.wait('rm-done', WAIT);
    await again.close();
  });

  it('gc removes what no record refers to, in one remote command, and keeps the folders of running jobs, recorded here or launched from elsewhere', async () => {
    const home = makeHome();
    const root = `~/pilot-tests/${home.split('/').pop()}`;
    // another machine launching into the same remote folder: its records are not ours
    const elsewhere = mkdtempSync(join(tmpdir(), 'pilot-home-'));
    writeFileSync(join(elsewhere, 'config.yaml'), readFileSync(join(home, 'config.yaml'), 'utf8'));
    const w = new SlurmWrapper({ home });
    const forgotten = await w.scheduleJobs(job('gc-forgotten', src('forgotten')));
    const running = await w.scheduleJobs(job('gc-running', src('running'), { env: { SLEEP: '300' }, time: '0:10:00' }));
    const w2 = new SlurmWrapper({ home: elsewhere });
    const foreign = await w2.scheduleJobs(job('gc-foreign', src('foreign'), { env: { SLEEP: '300' }, time: '0:10:00' }));
    await w2.close();
    onTestFinished(async () => { await ssh.exec(`scancel ${[...running.slurmJobIds, ...foreign.slurmJobIds].join(' ')}`); });
    await w.wait('gc-forgotten', WAIT);
    const bundleOf = async (name: string) => (await w.store.read(name)).remote.bundleDir;
    const [forgottenBundle, runningBundle] = [await bundleOf('gc-forgotten'), await bundleOf('gc-running')];
    const foreignBundle = (await new SlurmWrapper({ home: elsewhere }).store.read('gc-foreign')).remote.bundleDir;
    await w.rm('gc-forgotten');   // the record goes, the folders stay on the cluster
    // everything on the cluster looks old, so only references and running jobs can keep it
    await ssh.exec(`cd ${root} && touch -d '10 days ago' jobs/* bundles/*`);

    const dry = await pilot(['gc', '--dry-run', '--json'], home);
    expect(dry.code, dry.stderr).toBe(0);
    const preview = JSON.parse(dry.stdout) as GcResult;
    expect(preview.dryRun).toBe(true);
    expect(preview.removed.filter((e) => e.where === 'lab').map((e) => [e.kind, e.path]).sort())
      .toEqual([['bundle', forgottenBundle], ['job', forgotten.remoteDir]]);
    expect(preview.removed.filter((e) => e.where === 'cache').map((e) => e.path)).toEqual([join(home, 'cache', 'bundles', `${forgotten.bundle.sha256}.tar.gz`)]);
    expect(preview.removed.every((e) => e.bytes > 0)).toBe(true);
    expect(await exists(forgotten.remoteDir)).toBe(true);   // a dry run removes nothing

    const before = (await w.transportStats('lab'))!.commands;
    const result = await w.gc();
    expect((await w.transportStats('lab'))!.commands - before).toBe(1);
    expect(result.removed.map((e) => e.path).sort()).toEqual(preview.removed.map((e) => e.path).sort());
    expect(await exists(forgotten.remoteDir)).toBe(false);
    expect(await exists(forgottenBundle)).toBe(false);
    expect(existsSync(join(home, 'cache', 'bundles', `${forgotten.bundle.sha256}.tar.gz`))).toBe(false);
    for (const kept of [running.remoteDir, runningBundle, foreign.remoteDir, foreignBundle]) expect(await exists(kept), kept).toBe(true);
    expect((await w.status('gc-running')).counts).not.toHaveProperty('COMPLETED');   // still running, untouched
    await w.close();
  });
});

describe('rm and gc on the local cluster', () => {
  const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'fine-tune-mlp', 'job.yaml');

  it('rm refuses a running job and --force --remote removes it; gc reclaims the cache and the local folders nothing refers to', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pilot-local-gc-'));
    const slow = join(mkdtempSync(join(tmpdir(), 'pilot-local-gc-job-')), 'job.yaml');
    writeFileSync(slow, `jobName: loc-running\ncluster: local\nsrcDir: ${FIXTURE}\nentrypoint: echo.sh\nenv: { SLEEP: "120" }\nargs: ["1", "2"]\n`);
    const done = await pilot(['launch', EXAMPLE, '--cluster', 'local', '--name', 'loc-done', '--wait'], home);
    expect(done.code, done.stderr).toBe(1);   // the example's task 4 fails on its first attempt: exit 1 (README)
    const run = await pilot(['launch', slow, '--json'], home);
    expect(run.code, run.stderr).toBe(0);
    onTestFinished(async () => { await pilot(['rm', 'loc-running', '--force'], home); });   // no-op once the test removed it
    const jobs = () => readdirSync(join(home, 'local', 'jobs')).sort();
    const bundles = () => readdirSync(join(home, 'local', 'bundles')).sort();
    const [doneFolder, runningFolder] = jobs();
    expect(doneFolder).toMatch(/^loc-done-[0-9a-f]{8}$/);
    expect(runningFolder).toMatch(/^loc-running-[0-9a-f]{8}$/);
    expect(bundles()).toHaveLength(2);

    expect((await pilot(['rm', 'loc-running'], home)).code).toBe(2);
    const rm = await pilot(['rm', 'loc-done'], home);   // without --remote: the local cluster's folder stays
    expect(rm.code, rm.stderr).toBe(0);
    expect(jobs()).toEqual([doneFolder, runningFolder]);

    // its supervisor writes the final states, then exits: until it has, gc keeps the folder
    let dry = await pilot(['gc', '--dry-run'], home);
    for (let i = 0; i < 50 && !dry.stdout.includes(doneFolder!); i++) dry = await pilot(['gc', '--dry-run'], home);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^would remove \(dry run, nothing was removed\):\n/);
    expect(dry.stdout).toContain(join(home, 'local', 'jobs', doneFolder!));
    expect(jobs()).toEqual([doneFolder, runningFolder]);

    const gc = await pilot(['gc', '--json'], home);   // the local cluster is not aged: it belongs to this home
    expect(gc.code, gc.stderr).toBe(0);
    const removed = (JSON.parse(gc.stdout) as GcResult).removed.map((e) => `${e.where} ${e.kind}`).sort();
    expect(removed).toEqual(['cache cache', 'local bundle', 'local job']);
    expect(jobs()).toEqual([runningFolder]);                    // the running job keeps its folder,
    expect(bundles()).toHaveLength(1);                          // its bundle
    expect(readdirSync(join(home, 'cache', 'bundles')).filter((n) => n.endsWith('.tar.gz'))).toHaveLength(1);   // and its cache file

    const forced = await pilot(['rm', 'loc-running', '--force', '--remote'], home);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/^removed loc-running after cancelling 2 unfinished tasks: .* and its folder .*loc-running-[0-9a-f]{8} on the cluster\n$/);
    expect(jobs()).toEqual([]);
    await pilot(['gc'], home);
    expect(bundles()).toEqual([]);
    expect(readdirSync(join(home, 'cache', 'bundles')).filter((n) => n.endsWith('.tar.gz'))).toEqual([]);
    expect((await pilot(['list', '--json'], home)).stdout.trim()).toBe('[]');
  });
});
