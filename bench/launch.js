// Launch rows, on the test cluster (every array held with --hold, cancelled at the end):
//   scheduleJobs(1000) vs the floor: one hand-written `sbatch --array` of the same size over an open connection,
//     and over a fresh `ssh` (the bundle is already on the cluster in both cases);
//   scheduleJobs(100) vs a naive loop of 100 scheduleJob calls (target: ≥ 50× faster);
//   remote commands per scheduleJobs for N = 10, 1 000, 10 000, 100 000 (N = 100 000 ≤ 1.5× N = 10);
//   wall time scheduleJobs(100 000) / scheduleJobs(10), also past MaxArraySize (maxArraySize: 1001 in config.yaml);
//   SSH connections per CLI command.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argsOf, counted, dist, makeHome, median, pilotCli, root, row, time } from './lib.js';

export const SRC = join(root, 'test/fixtures/echo-argv');
const job = (jobName, n, extra = {}) => ({ jobName, cluster: 'lab', srcDir: SRC, entrypoint: 'echo.sh', args: argsOf(n), sbatchArgs: ['--hold'], ...extra });

export async function launchRows(env, cleanup, afterLaunches = async () => {}) {
  const { SlurmWrapper } = await dist('index.js');
  const { connectSsh } = await dist('transport/ssh.js');
  const { routeOf } = await import('./lib.js');
  const home = makeHome(env.target);
  const keep = (r) => { cleanup.push(...r.slurmJobIds); return r; };
  const warm = new SlurmWrapper({ home });
  keep(await warm.scheduleJobs(job('warm', 1)));   // the bundle is on the cluster from here on

  // ── scheduleJobs(1000) vs one sbatch of the same array: over the open connection, and over a fresh ssh
  const ssh = await connectSsh(await routeOf(env.target));
  await ssh.exec('mkdir -p pilot-bench/floor');
  const sbatch = 'cd pilot-bench/floor && sbatch --parsable --hold --array=1-1000 -o /dev/null --wrap true';
  const runs = 5;
  const open = [], fresh = [], sdkOpen = [], sdkFresh = [];
  for (let i = 0; i < runs; i++) {
    open.push(await time(async () => cleanup.push((await ssh.exec(sbatch)).stdout.trim())));
    fresh.push(await time(async () => cleanup.push(spawnSync('ssh', [...env.sshArgs, sbatch], { encoding: 'utf8' }).stdout.trim())));
    sdkOpen.push(await time(async () => keep(await warm.scheduleJobs(job(`k1000-open-${i}`, 1000)))));
    const p = new SlurmWrapper({ home });
    sdkFresh.push(await time(async () => { keep(await p.scheduleJobs(job(`k1000-fresh-${i}`, 1000))); await p.close(); }));
  }
  row({ what: 'launch 1000 tasks, open connection', ref: { label: 'sbatch --array', value: median(open) }, ours: { label: 'scheduleJobs', value: median(sdkOpen) }, unit: 's', source: 'real' });
  row({ what: 'launch 1000 tasks, fresh connection', ref: { label: 'ssh host sbatch', value: median(fresh) }, ours: { label: 'new wrapper+scheduleJobs', value: median(sdkFresh) }, unit: 's', source: 'real' });

  // ── scheduleJobs(100) vs 100 scheduleJob calls (what a user without arrays writes: one job per task)
  const loop = await time(async () => {
    for (let i = 0; i < 100; i++) keep(await warm.scheduleJob(job(`loop-${i}`, 1, { args: [String(i)] })));
  });
  const xs = [];
  for (let i = 0; i < 3; i++) xs.push(await time(async () => keep(await warm.scheduleJobs(job(`k100-${i}`, 100)))));
  const one = median(xs);
  row({ what: 'launch 100 tasks', ref: { label: '100× scheduleJob', value: loop }, ours: { label: 'scheduleJobs(100)', value: one }, unit: 's', source: 'real', max: 1 / 50 });

  // ── remote commands and wall time per scheduleJobs, each on a fresh wrapper (probe + submit)
  const byN = {};
  for (const n of [10, 1000, 10_000, 100_000]) {
    const p = new SlurmWrapper({ home });
    let r;
    const c = await counted(p, async () => { r = keep(await p.scheduleJobs(job(`n${n}`, n))); });
    await p.close();
    byN[n] = { ...c, arrays: r.slurmJobIds.length };
  }
  for (const n of [1000, 10_000, 100_000]) {
    row({ what: `remote commands, scheduleJobs N=${n}`, ref: { label: 'N=10', value: byN[10].commands }, ours: { label: `N=${n}`, value: byN[n].commands }, unit: 'cmds', source: 'real', ...(n === 100_000 ? { max: 1.5 } : {}) });
  }
  row({ what: 'wall time scheduleJobs N=100000', ref: { label: 'N=10', value: byN[10].seconds }, ours: { label: 'N=100000 (1 array)', value: byN[100_000].seconds }, unit: 's', source: 'real' });

  // status of the 100 000-task job and of the ten 1 000-task ones (status.js), while they are queued; then everything
  // so far is cancelled: the test cluster's MaxJobCount (200 000) counts every task of a held array
  await afterLaunches(home);
  await ssh.exec(`scancel ${cleanup.filter((x) => /^\d+$/.test(String(x))).join(' ')}`);
  // slurmctld is busy for a while after cancelling ~115 000 held tasks: sbatch then took ~150 ms instead of ~10 ms
  // (measured), which the chunked launch below would be charged for
  await new Promise((r) => setTimeout(r, 15_000));

  // past MaxArraySize: the cluster entry says 1001, so 100 000 tasks are 100 arrays of 1 000 in ONE submit command
  const chunkHome = makeHome(env.target, ', maxArraySize: 1001');
  const small = new SlurmWrapper({ home: chunkHome });
  const c10 = await counted(small, async () => keep(await small.scheduleJobs(job('c10', 10))));
  await small.close();
  const big = new SlurmWrapper({ home: chunkHome });
  let chunked;
  const c100k = await counted(big, async () => { chunked = keep(await big.scheduleJobs(job('c100000', 100_000))); });
  await big.close();
  row({ what: 'wall time N=100000, chunked (MaxArraySize 1001)', ref: { label: 'N=10', value: c10.seconds }, ours: { label: `N=100000 (${chunked.slurmJobIds.length} arrays)`, value: c100k.seconds }, unit: 's', source: 'real' });
  row({ what: 'remote commands N=100000, chunked', ref: { label: 'N=10', value: c10.commands }, ours: { label: `${chunked.slurmJobIds.length} arrays`, value: c100k.commands }, unit: 'cmds', source: 'real', max: 1.5 });

  // ── SSH connections per CLI command (from `pilot --verbose`)
  const dir = mkdtempSync(join(tmpdir(), 'pilot-bench-cli-'));
  const yaml = join(dir, 'job.yaml');
  writeFileSync(yaml, `jobName: cli-conn\ncluster: lab\nsrcDir: ${SRC}\nentrypoint: echo.sh\nsbatchArgs: [--hold]\nargs: [${argsOf(1000).map((a) => `"${a}"`).join(', ')}]\n`);
  const launched = pilotCli(home, ['launch', yaml, '--json']);
  cleanup.push(...JSON.parse(launched.stdout).slurmJobIds);
  const counts = { launch: launched, status: pilotCli(home, ['status', 'cli-conn', '--json']), 'cancel': pilotCli(home, ['cancel', 'cli-conn']), list: pilotCli(home, ['list']) };
  for (const [cmd, r] of Object.entries(counts)) {
    row({ what: `SSH connections, pilot ${cmd}`, ref: { label: 'one', value: 1 }, ours: { label: `${r.commands} remote cmds`, value: r.connections }, unit: 'conns', source: 'real', max: 1 });
  }
  await ssh.close();
  await warm.close();
  return { home, byN };
}
