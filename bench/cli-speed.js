// The launch path as people use it (issue #16), each against its floor, medians of interleaved runs:
//  - `pilot launch job.yaml` (100 tasks, bundle already there) vs `ssh host sbatch --array=1-100%10` (OpenSSH),
//    as it runs every time but the first (the CLI's compiled code cached), and with no code cache at all
//  - SDK launch on an open connection vs a bare sbatch on that connection
//  - launch of an unchanged 20 MB srcDir vs of a 1 kB one (the pack index at work)
//  - `pilot logs NAME/1` of a final, cached task vs `node -e 0`
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SRC as src } from './launch.js';
import { dist, median, root, routeOf, row, time } from './lib.js';

export async function speedRows(env, home, cleanup) {
  const { SlurmWrapper } = await dist('index.js');
  const { connectSsh } = await dist('transport/ssh.js');
  const runs = 5;
  const dir = mkdtempSync(join(tmpdir(), 'pilot-bench-yaml-'));
  const yaml = (name, srcDir, extra = '') => {
    const f = join(dir, `${name}.yaml`);
    writeFileSync(f, `jobName: ${name}\ncluster: lab\nsrcDir: ${srcDir}\nentrypoint: echo.sh\nmaxConcurrent: 10\nsbatchArgs: [--hold]\nargs: [${Array.from({ length: 100 }, (_, i) => `"${i}"`).join(', ')}]\n${extra}`);
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
  const ssh = await connectSsh(await routeOf(env.target));
  const sdk = [], bare = [];
  for (let i = 0; i < runs; i++) {
    bare.push(await time(async () => { cleanup.push((await ssh.exec('cd pilot-bench && sbatch --parsable --hold --array=1-100%10 -o /dev/null --wrap true')).stdout.trim()); }));
    sdk.push(await time(async () => { cleanup.push(...(await p.scheduleJobs({ jobName: `sdk-${i}`, cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', maxConcurrent: 10, sbatchArgs: ['--hold'], args: Array.from({ length: 100 }, (_, k) => String(k)) })).slurmJobIds); }));
  }
  row({ what: 'SDK launch, open connection', ref: { label: 'sbatch on it', value: median(bare) }, ours: { label: 'scheduleJobs', value: median(sdk) }, unit: 's', source: 'real', max: 1.5 });

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
  await ssh.close();
  await p.close();
}
