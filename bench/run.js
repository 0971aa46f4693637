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
const { directHop } = await import(join(root, 'dist/model/cluster.js'));
const { packBundle } = await import(join(root, 'dist/bundle/pack.js'));
const rows = [];
const time = async (fn) => { const t = performance.now(); await fn(); return (performance.now() - t) / 1000; };
// `target`: issue #16's bound on ours/naive for the rows that have one (e.g. 1.5: at most 1.5× the floor)
const row = (what, naiveLabel, naive, oursLabel, ours, target) => rows.push({ what, naiveLabel, naive, oursLabel, ours, target });

const envFile = join(process.env.LAB_DIR ?? join(process.env.TMPDIR ?? '/tmp', 'pilot-test-cluster'), 'cluster.env');
if (existsSync(envFile)) {
  const env = Object.fromEntries(readFileSync(envFile, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const target = { host: env.PILOT_TEST_SSH_HOST, port: Number(env.PILOT_TEST_SSH_PORT), user: env.PILOT_TEST_SSH_USER, identityFile: env.PILOT_TEST_SSH_KEY, knownHosts: env.PILOT_TEST_SSH_KNOWN_HOSTS };
  const route = { jumps: [], target: directHop({ host: target.host, port: target.port, user: target.user, identityFiles: [target.identityFile], knownHostsFiles: [target.knownHosts] }) };
  const home = mkdtempSync(join(tmpdir(), 'pilot-bench-'));
  writeFileSync(join(home, 'config.yaml'), `clusters:\n  lab: { host: ${target.host}, port: ${target.port}, user: ${target.user}, identityFile: ${target.identityFile}, knownHosts: ${target.knownHosts}, remoteDir: ~/pilot-bench, partition: debug }\n`);
  const N = 100;
  const src = join(root, 'test/fixtures/echo-argv');
  const ids = [];
  const naive = await time(async () => {
    for (let i = 0; i < N; i++) {
      const ssh = await connectSsh(route);
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
  const ssh = await connectSsh(route);
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
  await speedRows(target, route, home, src);
} else {
  console.log(`(no test cluster at ${envFile}: submission and status benchmarks skipped; run bash test/cluster/up.sh as root)`);
}

const coldNode = await time(async () => { for (let i = 0; i < 10; i++) spawnSync(process.execPath, ['-e', '0']); });
const coldPilot = await time(async () => { for (let i = 0; i < 10; i++) spawnSync(process.execPath, [join(root, 'bin/pilot.js'), '--help']); });
row('cold start ×10', 'node -e 0', coldNode, 'pilot --help', coldPilot, 1.3);

const tree = join(root, 'node_modules');
const out = mkdtempSync(join(tmpdir(), 'pilot-bench-pack-'));
const gnu = await time(async () => execFileSync('tar', ['-czf', join(out, 'gnu.tgz'), '-C', tree, '.']));
const mine = await time(() => packBundle({ srcDir: tree, outDir: out, exclude: ['!node_modules'] }));
row('pack node_modules', 'GNU tar -czf', gnu, 'packBundle', mine);

/**
 * The launch path as people use it, each against its floor, medians of interleaved runs:
 *  - `pilot launch job.yaml` (100 tasks, bundle already there) vs `ssh host sbatch --array=1-100%10` (OpenSSH)
 *  - SDK launch on an open connection vs a bare sbatch on that connection
 *  - launch of an unchanged 20 MB srcDir vs of a 1 kB one (the pack index at work)
 *  - `pilot logs NAME/1` of a final, cached task vs `node -e 0`
 */
async function speedRows(target, route, home, src) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const runs = 5;
  const sshArgs = ['-i', target.identityFile, '-p', String(target.port), '-o', `UserKnownHostsFile=${target.knownHosts}`, '-o', 'BatchMode=yes', `${target.user}@${target.host}`];
  const dir = mkdtempSync(join(tmpdir(), 'pilot-bench-yaml-'));
  const yaml = (name, srcDir, extra = '') => {
    const f = join(dir, `${name}.yaml`);
    writeFileSync(f, `jobName: ${name}\ncluster: lab\nsrcDir: ${srcDir}\nentrypoint: echo.sh\nmaxConcurrent: 10\nsbatchArgs: [--hold]\nargs: [${Array.from({ length: 100 }, (_, i) => `"${i}"`).join(', ')}]\n${extra}`);
    return f;
  };
  const cleanup = [];
  const pilotCli = (args) => spawnSync(process.execPath, [join(root, 'bin/pilot.js'), ...args], { env: { ...process.env, PILOT_HOME: home }, encoding: 'utf8' });
  const cli = [], floor = [];
  for (let i = 0; i < runs; i++) {
    floor.push(await time(async () => { const r = spawnSync('ssh', [...sshArgs, `cd pilot-bench && sbatch --parsable --hold --array=1-100%10 -o /dev/null --wrap true`], { encoding: 'utf8' }); cleanup.push(r.stdout.trim()); }));
    cli.push(await time(async () => { const r = pilotCli(['launch', yaml(`cli-${i}`, src), '--json']); cleanup.push(...(JSON.parse(r.stdout || '{"slurmJobIds":[]}').slurmJobIds)); }));
  }
  row('pilot launch (100 tasks)', 'ssh host sbatch', median(floor), 'pilot launch', median(cli), 1.5);

  const p = new SlurmWrapper({ home });
  const ssh = await connectSsh(route);
  const sdk = [], bare = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await time(async () => { cleanup.push((await ssh.exec('cd pilot-bench && sbatch --parsable --hold --array=1-100%10 -o /dev/null --wrap true')).stdout.trim()); }));
    sdk.push(await time(async () => { cleanup.push(...(await p.scheduleJobs({ jobName: `sdk-${i}`, cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', maxConcurrent: 10, sbatchArgs: ['--hold'], args: Array.from({ length: 100 }, (_, k) => String(k)) })).slurmJobIds); }));
  }
  row('SDK launch, open connection', 'sbatch on it', median(bare), 'scheduleJobs', median(sdk), 1.5);

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
  row('launch unchanged 20 MB src', '1 kB src', median(small), '20 MB src', median(large), 1.3);

  const done = await p.scheduleJobs({ jobName: 'logs-bench', cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: ['x'] });
  await p.wait(done.name, { minIntervalMs: 300, maxIntervalMs: 1000 });
  pilotCli(['logs', 'logs-bench/1']);
  const bareNode = [], logs = [];
  for (let i = 0; i < runs * 2; i++) {
    bareNode.push(await time(async () => spawnSync(process.execPath, ['-e', '0'])));
    logs.push(await time(async () => pilotCli(['logs', 'logs-bench/1'])));
  }
  row('pilot logs (final, cached)', 'node -e 0', median(bareNode), 'pilot logs', median(logs), 1.3);
  await ssh.exec(`scancel ${cleanup.filter((x) => /^\d+$/.test(x)).join(' ')}`);
  await ssh.close();
  await p.close();
}

const w = Math.max(...rows.map((r) => r.what.length));
console.log(`\n${'benchmark'.padEnd(w)}  ${'naive'.padEnd(22)} ${'hpc-pilot'.padEnd(22)} ${'naive/ours'.padEnd(11)} #16 target (ours/naive)`);
for (const r of rows) {
  const slowdown = r.ours / r.naive;
  const target = r.target === undefined ? '' : `${slowdown.toFixed(2)}× ≤ ${r.target}×: ${slowdown <= r.target ? 'met' : 'NOT met'}`;
  console.log(`${r.what.padEnd(w)}  ${`${r.naiveLabel} ${r.naive.toFixed(3)}s`.padEnd(22)} ${`${r.oursLabel} ${r.ours.toFixed(3)}s`.padEnd(22)} ${`${(r.naive / r.ours).toFixed(2)}×`.padEnd(11)} ${target}`);
}
const jsonFile = process.env.PILOT_BENCH_JSON ?? join(tmpdir(), 'pilot-bench.json');
writeFileSync(jsonFile, JSON.stringify({ at: new Date().toISOString(), node: process.version, rows: rows.map((r) => ({ ...r, ratio: r.naive / r.ours, ...(r.target === undefined ? {} : { met: r.ours / r.naive <= r.target }) })) }, null, 2) + '\n');
console.log(`\n(written to ${jsonFile}; ratio = naive/ours: above 1 means pilot is faster, below 1 slower than the floor)`);
