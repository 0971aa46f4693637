#!/usr/bin/env node
// npm run bench: measures what hpc-pilot promises, side by side with the naive way, in one run.
//   1. submitting N tasks: N × (new SSH connection + sbatch)   vs   one scheduleJobs (one array, one connection)
//   2. status of J jobs: J separate sacct/squeue round trips   vs   one status() call
//   3. CLI cold start: `node -e 0`   vs   `pilot --help`
//   4. packing a tree: GNU `tar -czf`   vs   the reproducible bundle writer
// Needs the test cluster (bash test/cluster/up.sh, as root) for 1 and 2; they are skipped with a note otherwise.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = join(import.meta.dirname, '..');
const { SlurmWrapper } = await import(join(root, 'dist/index.js'));
const { connectSsh } = await import(join(root, 'dist/transport/ssh.js'));
const { packBundle } = await import(join(root, 'dist/bundle/pack.js'));
const rows = [];
const time = async (fn) => { const t = performance.now(); await fn(); return (performance.now() - t) / 1000; };
const row = (what, naiveLabel, naive, oursLabel, ours) => rows.push({ what, naiveLabel, naive, oursLabel, ours });

const envFile = join(process.env.LAB_DIR ?? join(process.env.TMPDIR ?? '/tmp', 'pilot-test-cluster'), 'cluster.env');
if (existsSync(envFile)) {
  const env = Object.fromEntries(readFileSync(envFile, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const target = { host: env.PILOT_TEST_SSH_HOST, port: Number(env.PILOT_TEST_SSH_PORT), user: env.PILOT_TEST_SSH_USER, identityFile: env.PILOT_TEST_SSH_KEY, knownHosts: env.PILOT_TEST_SSH_KNOWN_HOSTS };
  const home = mkdtempSync(join(tmpdir(), 'pilot-bench-'));
  writeFileSync(join(home, 'config.yaml'), `clusters:\n  lab: { host: ${target.host}, port: ${target.port}, user: ${target.user}, identityFile: ${target.identityFile}, knownHosts: ${target.knownHosts}, remoteDir: ~/pilot-bench, partition: debug }\n`);
  const N = 100;
  const src = join(root, 'test/fixtures/echo-argv');
  const ids = [];
  const naive = await time(async () => {
    for (let i = 0; i < N; i++) {
      const ssh = await connectSsh(target);
      const r = await ssh.exec(`sbatch --parsable --hold -o /dev/null --wrap 'echo ${i}'`);
      ids.push(r.stdout.trim());
      await ssh.close();
    }
  });
  const pilot = new SlurmWrapper({ home });
  await pilot.scheduleJobs({ jobName: 'warm', cluster: 'lab', srcDir: src, entrypoint: 'echo.sh' }); // uploads the bundle once
  let job;
  const ours = await time(async () => {
    const p = new SlurmWrapper({ home });
    job = await p.scheduleJobs({ jobName: 'bench', cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: Array.from({ length: N }, (_, i) => [String(i)]), sbatchArgs: ['--hold'] });
    await p.close();
  });
  row(`submit ${N} tasks`, `${N}× ssh+sbatch`, naive, 'scheduleJobs', ours);

  const names = [];
  for (let i = 0; i < 10; i++) names.push((await pilot.scheduleJobs({ jobName: `st-${i}`, cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: ['a'], sbatchArgs: ['--hold'] })).name);
  const records = await Promise.all(names.map((n) => pilot.store.read(n)));
  const ssh = await connectSsh(target);
  const naivePoll = await time(async () => {
    for (const r of records) {
      const id = r.attempts[0].arrays[0].jobId;
      await ssh.exec(`sacct -X -P -n -j ${id} --format=JobID,State,ExitCode; squeue -h -t all -r -j ${id} -o '%i|%T|%r'`);
    }
  });
  await pilot.status(names); // connection is open in both cases
  const oursPoll = await time(() => pilot.status(names));
  row('status of 10 jobs', '10 round trips', naivePoll, 'one status()', oursPoll);
  const all = [...ids, ...job.slurmJobIds, ...records.map((r) => r.attempts[0].arrays[0].jobId)];
  await ssh.exec(`scancel ${all.join(' ')}`);
  await ssh.close();
  await pilot.close();
} else {
  console.log(`(no test cluster at ${envFile}: submission and status benchmarks skipped; run bash test/cluster/up.sh as root)`);
}

const coldNode = await time(async () => { for (let i = 0; i < 10; i++) spawnSync(process.execPath, ['-e', '0']); });
const coldPilot = await time(async () => { for (let i = 0; i < 10; i++) spawnSync(process.execPath, [join(root, 'bin/pilot.js'), '--help']); });
row('cold start ×10', 'node -e 0', coldNode, 'pilot --help', coldPilot);

const tree = join(root, 'node_modules');
const out = mkdtempSync(join(tmpdir(), 'pilot-bench-pack-'));
const gnu = await time(async () => execFileSync('tar', ['-czf', join(out, 'gnu.tgz'), '-C', tree, '.']));
const mine = await time(() => packBundle({ srcDir: tree, outDir: out, exclude: ['!node_modules'] }));
row('pack node_modules', 'GNU tar -czf', gnu, 'packBundle', mine);

const w = Math.max(...rows.map((r) => r.what.length));
console.log(`\n${'benchmark'.padEnd(w)}  ${'naive'.padEnd(22)} ${'hpc-pilot'.padEnd(22)} ratio (naive/ours)`);
for (const r of rows) {
  console.log(`${r.what.padEnd(w)}  ${`${r.naiveLabel} ${r.naive.toFixed(3)}s`.padEnd(22)} ${`${r.oursLabel} ${r.ours.toFixed(3)}s`.padEnd(22)} ${(r.naive / r.ours).toFixed(2)}×`);
}
