// The holes an attack run found, closed and proven on the real cluster: a newline in config.yaml, reserved sbatch
// options in disguise, NUL arguments, concurrent restarts, names left blocked by a killed launch.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { launchKilledAfter, pilot } from '../support/cli.js';
import { connect, makeHome, sleep, slurmArraysUnder } from '../support/cluster.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'echo-argv');

function jobYaml(name: string, extra: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-trust-'));
  cpSync(FIXTURE, join(dir, 'code'), { recursive: true });
  writeFileSync(join(dir, 'job.yaml'), [`jobName: ${name}`, 'cluster: lab', 'srcDir: code', 'entrypoint: echo.sh', 'args: ["1", "2"]', ...extra].join('\n'));
  return join(dir, 'job.yaml');
}

/** The remote root of a home made by makeHome: nothing may have been created there by a refused launch. */
async function remoteRootExists(home: string): Promise<boolean> {
  const ssh = await connect();
  const r = await ssh.exec(`test -e ~/pilot-tests/${home.split('/').pop()} && echo yes || echo no`);
  await ssh.close();
  return r.stdout.trim() === 'yes';
}

describe('refused before anything is sent', () => {
  it('a newline in config.yaml partition or account: exit 2, no command runs on the cluster', async () => {
    for (const field of ['partition', 'account']) {
      const marker = `/tmp/pilot-pwned-${field}-${process.pid}`;
      const home = makeHome();
      const config = readFileSync(join(home, 'config.yaml'), 'utf8').replace(/^ {4}partition: .*$/m, '');
      writeFileSync(join(home, 'config.yaml'), `${config}\n    ${field}: "debug\\ntouch ${marker}"\n`);
      const r = await pilot(['launch', jobYaml(`nl-${field}`)], home);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`${field} contains a newline`));
      expect(await remoteRootExists(home)).toBe(false);
      const ssh = await connect();
      expect((await ssh.exec(`test -e ${marker} && echo pwned || echo clean`)).stdout.trim()).toBe('clean');
      await ssh.close();
      expect(existsSync(join(home, 'jobs', `nl-${field}`))).toBe(false);
    }
  });

  it.each([['-o/tmp/x', 'output'], ['--out=x', 'output'], ['-Jevil', 'job-name'], ['--chd=/tmp', 'chdir'], ['--array=1-5', 'array']])(
    'sbatchArgs %s is refused by name (exit 2, nothing sent)', async (opt, option) => {
      const home = makeHome();
      const r = await pilot(['launch', jobYaml('reserved', [`sbatchArgs: [${JSON.stringify(opt)}]`])], home);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(opt);
      expect(r.stderr).toMatch(option === 'array' ? /--array=1-5 is set by hpc-pilot/ : new RegExp(`--${option}\\) is set by hpc-pilot`));
      expect(await remoteRootExists(home)).toBe(false);
    });

  it('an argument with a NUL byte is refused through the SDK (exit-2 error, nothing recorded)', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    const err = await w.scheduleJobs({ jobName: 'nul', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: [['ok', 'a\u0000b']] }).catch((e: unknown) => e);
    await w.close();
    expect((err as { exitCode: number }).exitCode).toBe(2);
    expect(String((err as Error).message)).toMatch(/NUL byte/);
    expect(existsSync(join(home, 'jobs', 'nul'))).toBe(false);
  });
});

describe('concurrency and killed launches', () => {
  it('two restart-failed at the same moment produce exactly one new attempt', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    // echo.sh fails task 2 while <remote root>/jobs/fail-2 exists: made BEFORE the launch, so no task can outrun it
    const failFlag = `~/pilot-tests/${home.split('/').pop()}/jobs/fail-2`;
    const ssh = await connect();
    await ssh.exec(`mkdir -p ${failFlag.replace(/\/fail-2$/, '')} && touch ${failFlag}`);
    const job = await w.scheduleJobs({ jobName: 'double-restart', cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: ['1', '2', '3'] });
    await w.wait(job.name, { minIntervalMs: 300, maxIntervalMs: 1000, timeoutMs: 90_000 });
    await ssh.exec(`rm -f ${failFlag}`);
    await ssh.close();
    await w.close();
    const runs = await Promise.all([1, 2].map(() => pilot(['restart-failed', job.name, '--json'], home)));
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    const results = runs.map((r) => JSON.parse(r.stdout) as { indices: number[]; slurmJobIds: string[] });
    expect(results.filter((r) => r.slurmJobIds.length).length).toBe(1);
    expect(results.flatMap((r) => r.slurmJobIds)).toHaveLength(1);
    const record = JSON.parse(readFileSync(join(home, 'jobs', job.name, 'job.json'), 'utf8')) as { attempts: { attempt: number; indices: string }[] };
    expect(record.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect(record.attempts[1]!.indices).toBe('2');
  });

  it('a launch killed with SIGKILL at any point: the name is usable again, the work is submitted once, no temp file is left', async () => {
    const home = makeHome();
    const yaml = jobYaml('killed');
    // 30 MB of incompressible bytes: packing and uploading take long enough to be killed in the middle
    const big = Buffer.alloc(30 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
    writeFileSync(join(yaml, '..', 'code', 'weights.bin'), big);
    const delays = [100, 400, 900, 1500];
    let killedMidway = 0;
    const rounds: string[] = [];   // per round: how it ended and the array ids pilot knows (shown when a check fails)
    const known = new Set<string>();
    for (const delay of delays) {
      // new bytes every round: packing and uploading really happen each time (no index hit, no bundle on the cluster)
      writeFileSync(join(yaml, '..', 'code', 'weights.bin'), Buffer.concat([big, Buffer.from(String(delay))]));
      const { finishedFirst } = await launchKilledAfter(yaml, home, delay);
      if (!finishedFirst) {
        killedMidway++;
        // the same launch again: adopts what the killed one submitted, or launches anew; never blocked, never twice
        // killed after sbatch was sent, the remote submit may still be unpacking: pilot then refuses to decide
        // ("cannot be checked yet") and the hint says to look again in a moment, which is what a user does
        let again = await pilot(['launch', yaml, '--json'], home);
        for (let i = 0; i < 20 && /cannot be checked yet/.test(again.stderr); i++) {
          await sleep(500);
          again = await pilot(['launch', yaml, '--json'], home);
        }
        expect(again.code, again.stderr).toBe(0);
        expect(JSON.parse(again.stdout).name).toBe('killed');
      }
      const status = await pilot(['status', 'killed', '--json'], home);
      expect(status.code === 0 || status.code === 1, status.stderr).toBe(true);
      const ids: string[] = JSON.parse(status.stdout).slurmJobIds;
      rounds.push(`${delay} ms: ${finishedFirst ? 'finished first' : 'killed'}, arrays ${ids.join(',')}`);
      ids.forEach((id) => known.add(id));
      expect((await pilot(['cancel', 'killed'], home)).code).toBe(0);
      rmSync(join(home, 'jobs', 'killed'), { recursive: true, force: true });   // as `pilot rm` would
    }
    expect(killedMidway).toBeGreaterThanOrEqual(2);
    // every round tracked exactly one array of its own
    expect(known.size, rounds.join('\n')).toBe(delays.length);
    // and Slurm holds no other job of this home: nothing was submitted twice or left untracked. A cancelled job
    // leaves squeue after MinJobAge and may reach sacct seconds later: asked until every known id is seen
    // (with -s and -E: an array cancelled before the scheduler looked at it has Eligible=Unknown, and sacct's
    // time window alone leaves it out)
    const ssh = await connect();
    const root = `pilot-tests/${home.split('/').pop()}/`;
    const seen = await slurmArraysUnder(ssh, 'killed', root, known);
    await ssh.close();
    expect(seen.sort(), rounds.join('\n')).toEqual([...known].sort());
    // no temp file of a killed writer is left in the bundle cache
    const cache = readdirSync(join(home, 'cache', 'bundles'));
    expect(cache.filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
