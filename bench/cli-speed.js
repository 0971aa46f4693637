// The launch path as people use it (issue #16), each against its floor, medians of interleaved runs:
//  - `pilot launch job.yaml` (100 tasks, bundle already there) vs `ssh host sbatch --array=1-100%10` (OpenSSH),
//    as it runs every time but the first (the CLI's compiled code cached), and with no code cache at all
//  - SDK launch on an open connection vs a bare sbatch on that connection: on loopback (the target's row), and
//    over a link with a 20 ms round trip (delayedLink), where the two round trips both make matter as they do
//    from a laptop
//  - launch of an unchanged 20 MB srcDir vs of a 1 kB one (the pack index at work)
//  - `pilot logs NAME/1` of a final, cached task vs `node -e 0`
//  - the CLI against the SDK (a new wrapper, connecting, as a command does) and against OpenSSH doing the same
//    remote work: `pilot launch` of 10 000 tasks, `pilot logs NAME/I` not cached yet, `pilot status NAME`
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SRC as src } from './launch.js';
import { delayedLink, dist, makeHome, median, root, routeOf, row, time } from './lib.js';

export async function speedRows(env, home, cleanup) {
  const { SlurmWrapper } = await dist('index.js');
  const runs = 5;
  const dir = mkdtempSync(join(tmpdir(), 'pilot-bench-yaml-'));
  const yaml = (name, srcDir, extra = '', tasks = 100) => {
    const f = join(dir, `${name}.yaml`);
    writeFileSync(f, `jobName: ${name}\ncluster: lab\nsrcDir: ${srcDir}\nentrypoint: echo.sh\nmaxConcurrent: 10\nsbatchArgs: [--hold]\nargs: [${Array.from({ length: tasks }, (_, i) => `"${i}"`).join(', ')}]\n${extra}`);
    return f;
  };
  // the code cache in a folder of this run's own: the first launch makes it (src/cli/code-cache.ts)
  const codeCache = mkdtempSync(join(tmpdir(), 'pilot-bench-code-'));
  const pilotCli = (args, cache = codeCache) => spawnSync(process.execPath, [join(root, 'bin/pilot.js'), ...args], { env: { ...process.env, PILOT_HOME: home, PILOT_CODE_CACHE: cache }, encoding: 'utf8' });
  const launchCli = (name, cache) => { const r = pilotCli(['launch', yaml(name, src), '--json'], cache); cleanup.push(...(JSON.parse(r.stdout || '{"slurmJobIds":[]}').slurmJobIds)); };
  launchCli('cli-first');
  const cli = [], cold = [], floor = [];
  for (let i = 0; i < runs; i++) {
    floor.push(await time(async () => { const r = spawnSync('ssh', [...env.sshArgs, `cd pilot-bench && sbatch --parsable --hold --array=1-100%10 -o /dev/null --wrap true`], { encoding: 'utf8' }); cleanup.push(r.stdout.trim()); }));
    cli.push(await time(async () => launchCli(`cli-${i}`)));
    cold.push(await time(async () => launchCli(`cli-cold-${i}`, 'off')));
  }
  row({ what: 'pilot launch (100 tasks)', ref: { label: 'ssh host sbatch', value: median(floor) }, ours: { label: 'pilot launch', value: median(cli) }, unit: 's', source: 'real', max: 1.5 });
  row({ what: 'pilot launch, no code cache', ref: { label: 'ssh host sbatch', value: median(floor) }, ours: { label: 'first pilot launch', value: median(cold) }, unit: 's', source: 'real' });

  const p = new SlurmWrapper({ home });
  const open = await sdkVersusBare(p, env.target, cleanup, runs, 'sdk');
  row({ what: 'SDK launch, open connection', ref: { label: 'sbatch on it', value: open.bare }, ours: { label: 'scheduleJobs', value: open.sdk }, unit: 's', source: 'real', max: 1.5 });
  await sdkOverLink(env, cleanup, runs);

  const big = mkdtempSync(join(tmpdir(), 'pilot-bench-big-'));
  execFileSync('cp', ['-r', `${src}/.`, big]);
  const bytes = Buffer.alloc(20 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
  writeFileSync(join(big, 'weights.bin'), bytes);
  const old = Date.now() / 1000 - 60;
  for (const f of ['weights.bin', 'echo.sh']) execFileSync('touch', ['-d', `@${old}`, join(big, f)]);
  await p.scheduleJobs({ jobName: 'big-warm', cluster: 'lab', srcDir: big, entrypoint: 'echo.sh', sbatchArgs: ['--hold'] }).then((r) => cleanup.push(...r.slurmJobIds));
  const small = [], large = [];
  for (let i = 0; i < runs; i++) {
    small.push(await time(async () => { cleanup.push(...(await p.scheduleJobs({ jobName: `small-${i}`, cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', sbatchArgs: ['--hold'] })).slurmJobIds); }));
    large.push(await time(async () => { cleanup.push(...(await p.scheduleJobs({ jobName: `large-${i}`, cluster: 'lab', srcDir: big, entrypoint: 'echo.sh', sbatchArgs: ['--hold'] })).slurmJobIds); }));
  }
  row({ what: 'launch unchanged 20 MB src', ref: { label: '1 kB src', value: median(small) }, ours: { label: '20 MB src', value: median(large) }, unit: 's', source: 'real', max: 1.3 });

  const done = await p.scheduleJobs({ jobName: 'logs-bench', cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: ['x'] });
  await p.wait(done.name, { minIntervalMs: 300, maxIntervalMs: 1000 });
  pilotCli(['logs', 'logs-bench/1']);
  const bareNode = [], logs = [];
  for (let i = 0; i < runs * 2; i++) {
    bareNode.push(await time(async () => spawnSync(process.execPath, ['-e', '0'])));
    logs.push(await time(async () => pilotCli(['logs', 'logs-bench/1'])));
  }
  row({ what: 'pilot logs (final, cached)', ref: { label: 'node -e 0', value: median(bareNode) }, ours: { label: 'pilot logs', value: median(logs) }, unit: 's', source: 'real', max: 1.3 });
  await cliVersusSdk(env, home, cleanup, { runs, yaml, pilotCli, done });
  await p.close();
}

/** scheduleJobs of 100 tasks on `p`'s open connection vs a bare sbatch on one of its own to `target`, interleaved: medians. */
async function sdkVersusBare(p, target, cleanup, runs, prefix) {
  const { connectSsh } = await dist('transport/ssh.js');
  const ssh = await connectSsh(await routeOf(target));
  const sdk = [], bare = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await time(async () => { cleanup.push((await ssh.exec('cd pilot-bench && sbatch --parsable --hold --array=1-100%10 -o /dev/null --wrap true')).stdout.trim()); }));
    sdk.push(await time(async () => { cleanup.push(...(await p.scheduleJobs({ jobName: `${prefix}-${i}`, cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', maxConcurrent: 10, sbatchArgs: ['--hold'], args: Array.from({ length: 100 }, (_, k) => String(k)) })).slurmJobIds); }));
  }
  await ssh.close();
  return { bare: median(bare), sdk: median(sdk) };
}

/** The SDK row again over a 20 ms round trip: the cluster reached through delayedLink, its host key the same. */
async function sdkOverLink(env, cleanup, runs) {
  const { SlurmWrapper } = await dist('index.js');
  const link = await delayedLink(env.target.port, 10);
  const dir = mkdtempSync(join(tmpdir(), 'pilot-bench-link-'));
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, readFileSync(env.target.knownHosts, 'utf8').replaceAll(`[${env.target.host}]:${env.target.port} `, `[127.0.0.1]:${link.port} `));
  const target = { ...env.target, host: '127.0.0.1', port: link.port, knownHosts };
  const p = new SlurmWrapper({ home: makeHome(target) });
  const r = await sdkVersusBare(p, target, cleanup, runs, 'sdk-link');
  row({ what: 'SDK launch, open connection, 20 ms round trip', ref: { label: 'sbatch on it', value: r.bare }, ours: { label: 'scheduleJobs', value: r.sdk }, unit: 's', source: 'real' });
  await p.close();
  link.close();
}

/**
 * Three commands each three ways, interleaved: the CLI, the SDK on a new wrapper (connecting, as a command
 * does), and OpenSSH doing the remote part alone (`ssh host CMD`). `done` is a finished one-task job.
 */
async function cliVersusSdk(env, home, cleanup, { runs, yaml, pilotCli, done }) {
  const { SlurmWrapper } = await dist('index.js');
  const { rmSync } = await import('node:fs');
  const sdk = async (fn) => { const p = new SlurmWrapper({ home }); try { return await fn(p); } finally { await p.close(); } };
  const ssh = (cmd) => spawnSync('ssh', [...env.sshArgs, cmd], { encoding: 'utf8' });
  // each function returns the Slurm job ids it submitted (cancelled after each round, outside the timing: the
  // test cluster's MaxJobCount counts every task of a held array)
  const three = async (what, cli, viaSdk, floor) => {
    const t = { cli: [], sdk: [], floor: [] };
    for (let i = 0; i < runs; i++) {
      const ids = [];
      for (const [k, fn] of [['floor', floor], ['cli', cli], ['sdk', viaSdk]]) t[k].push(await time(async () => { const r = await fn(i); if (Array.isArray(r)) ids.push(...r); }));
      if (ids.length) ssh(`scancel ${ids.join(' ')}`);
    }
    row({ what: `${what}: CLI vs SDK`, ref: { label: 'SDK, new wrapper', value: median(t.sdk) }, ours: { label: 'pilot', value: median(t.cli) }, unit: 's', source: 'real' });
    row({ what: `${what}: CLI vs ssh`, ref: { label: 'ssh host …', value: median(t.floor) }, ours: { label: 'pilot', value: median(t.cli) }, unit: 's', source: 'real' });
  };
  const n = 10_000;
  const args = Array.from({ length: n }, (_, k) => String(k));
  await three('launch 10 000 tasks',
    async (i) => JSON.parse(pilotCli(['launch', yaml(`cli10k-${i}`, src, '', n), '--json']).stdout).slurmJobIds,
    (i) => sdk(async (p) => (await p.scheduleJobs({ jobName: `sdk10k-${i}`, cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', maxConcurrent: 10, sbatchArgs: ['--hold'], args })).slurmJobIds),
    async () => [ssh(`cd pilot-bench && sbatch --parsable --hold --array=1-${n}%10 -o /dev/null --wrap true`).stdout.trim()]);
  // the log of a finished task, fetched anew each time (the cached copy removed first)
  const record = JSON.parse((await import('node:fs')).readFileSync(join(home, 'jobs', done.name, 'job.json'), 'utf8'));
  const logFile = `${record.remote.jobDir}/logs/${record.attempts[0].arrays[0].jobId}_1.out`;
  const uncache = () => rmSync(join(home, 'jobs', done.name, 'logs'), { recursive: true, force: true });
  await three('logs of a task, not cached',
    async () => { uncache(); pilotCli(['logs', `${done.name}/1`]); },
    async () => { uncache(); await sdk((p) => p.logs(`${done.name}/1`)); },
    async () => { ssh(`cat ${logFile}`); });
  // a held 100-task job: its states need a query each time
  const held = pilotCli(['launch', yaml('status-held', src), '--json']);
  const heldIds = JSON.parse(held.stdout).slurmJobIds;
  cleanup.push(...heldIds);
  await three('status of a 100-task job',
    async () => { pilotCli(['status', 'status-held', '--json']); },
    () => sdk((p) => p.status('status-held')),
    async () => { ssh(`squeue -h -r -j ${heldIds.join(',')} -o '%i %T' >/dev/null; sacct -n -X -j ${heldIds.join(',')} >/dev/null`); });
}
