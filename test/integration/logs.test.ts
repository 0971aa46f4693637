// `pilot logs` against hostile and huge logs, on the real cluster and on the local backend (issue 17, item 7):
// a log over 512 MiB streams in bounded memory and arrives complete, a FIFO or a link to /dev/zero is refused
// at once, and --follow keeps up with a task that writes as fast as it can.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPilotError, SlurmWrapper } from '../../src/index.js';
import { quote } from '../../src/util/quote.js';
import { BACKENDS, connect, makeHome } from '../support/cluster.js';
import { pilotMeasured } from '../support/measured.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'echo-argv');
const MAX_RSS_KB = 100 * 1024;
/** `seq 1 70000000` is 628,888,897 bytes: past V8's longest string (0x1fffffe8 characters, ~512 MiB). */
const BIG_LINES = 70_000_000;

describe.each(BACKENDS)('pilot logs on %s', (cluster) => {
  const isLocal = cluster === 'local';
  /** Runs a shell command where the job's files are: this machine for `local`, the cluster over ssh for `lab`. */
  async function sh(cmd: string): Promise<string> {
    if (isLocal) return execFileSync('bash', ['-c', cmd], { encoding: 'utf8' });
    const ssh = await connect();
    try {
      const r = await ssh.exec(cmd);
      if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}`);
      return r.stdout;
    } finally {
      await ssh.close();
    }
  }

  /** Runs a job to its end and returns the path of task i's stdout log (on the cluster for `lab`). */
  async function finishedJob(home: string, jobName: string, tasks = 1): Promise<(task: number, ext?: string) => string> {
    const w = new SlurmWrapper({ home });
    await w.scheduleJobs({ jobName, cluster, srcDir: FIXTURE, entrypoint: 'echo.sh', args: Array.from({ length: tasks }, (_, i) => String(i + 1)) });
    await w.wait(jobName, { minIntervalMs: 300, maxIntervalMs: 1000, timeoutMs: 120_000 });
    const record = await w.store.read(jobName);
    await w.close();
    const id = record.attempts[0]!.arrays[0]!.jobId;
    return (task, ext = 'out') => `${record.remote.jobDir}/logs/${id}_${task}.${ext}`;
  }

  it('streams a log over 512 MiB to stdout in bounded memory, complete; --tail reads from the end', async () => {
    const home = makeHome();
    const name = `big-${cluster}`;
    const log = (await finishedJob(home, name))(1);
    try {
      // the task is over; its log is replaced by a big one (numbered lines, so --tail is checkable)
      const [size, sha] = (await sh(`seq 1 ${BIG_LINES} > ${quote(log)} && stat -c %s ${quote(log)} && sha256sum ${quote(log)} | cut -d' ' -f1`)).trim().split('\n');
      expect(Number(size)).toBeGreaterThan(512 * 1024 * 1024);

      const full = await pilotMeasured(['logs', `${name}/1`], home);
      console.log(`[logs ${cluster}] ${size} bytes in ${full.ms} ms, peak RSS ${(full.peakRssKb / 1024).toFixed(1)} MiB`);
      expect(full.code, full.stderr).toBe(0);
      expect(full.bytes).toBe(Number(size));
      expect(full.sha256).toBe(sha);
      expect(full.peakRssKb).toBeGreaterThan(0);
      expect(full.peakRssKb).toBeLessThan(MAX_RSS_KB);

      // now from the local cache: the whole log again, and only its end
      const cached = await pilotMeasured(['logs', `${name}/1`], home);
      expect(cached.sha256).toBe(sha);
      expect(cached.peakRssKb).toBeLessThan(MAX_RSS_KB);
      const tail = await pilotMeasured(['logs', `${name}/1`, '--tail', '3'], home, { keep: true });
      expect(tail.code, tail.stderr).toBe(0);
      expect(tail.stdout).toBe(`${BIG_LINES - 2}\n${BIG_LINES - 1}\n${BIG_LINES}\n`);
      expect(tail.peakRssKb).toBeLessThan(MAX_RSS_KB);

      // the string API refuses it clearly instead of dying on V8's string limit
      const w = new SlurmWrapper({ home });
      const err = await w.logs(`${name}/1`).then(() => undefined, (e: unknown) => e);
      await w.close();
      expect(isPilotError(err) && err.code).toBe('TOO_LARGE');
      expect((err as { hint: string }).hint).toMatch(/streamLog/);
    } finally {
      await sh(`rm -f ${quote(log)}`);
      rmSync(join(home, 'jobs', name, 'logs'), { recursive: true, force: true });
    }
  });

  it('refuses a FIFO log and a log linked to /dev/zero at once, naming the file', async () => {
    const home = makeHome();
    const name = `odd-${cluster}`;
    const log = await finishedJob(home, name, 3);
    await sh([
      `rm -f ${quote(log(1))} && mkfifo ${quote(log(1))}`,
      `ln -sf /dev/zero ${quote(log(2))}`,
      `ln -sf ${quote(log(3, 'err'))} ${quote(log(3))}`,   // even a link to a regular file: Slurm never writes one
    ].join(' && '));
    try {
      for (const [task, what] of [[1, 'a FIFO (named pipe)'], [2, 'a symbolic link'], [3, 'a symbolic link']] as const) {
        const r = await pilotMeasured(['logs', `${name}/${task}`], home, { killAfterMs: 60_000 });
        expect(r.killed, `logs ${name}/${task} hung`).toBe(false);
        expect(r.ms).toBeLessThan(20_000);   // "at once": no open() waiting for a writer, no endless read
        expect(r.code, r.stderr).toBe(2);   // a bad file refused before reading: nothing done (issue 14)
        expect(r.bytes).toBe(0);
        expect(r.stderr).toContain(`error: refusing to read ${log(task)}`);
        expect(r.stderr).toContain(`it is ${what}, not a regular file`);
        expect(r.stderr).toMatch(/^hint: .*regular files/m);
        expect(r.peakRssKb).toBeLessThan(MAX_RSS_KB);
      }
      // the other stream of the same task is still readable
      const err = await pilotMeasured(['logs', `${name}/1`, '--stderr'], home);
      expect(err.code, err.stderr).toBe(0);
    } finally {
      await sh(`rm -f ${quote(log(1))}`);   // nobody will ever write to that FIFO
    }
  });

  it('--follow keeps up with a fast writer: every line, in order, then exits when the task ends', async () => {
    const home = makeHome();
    const name = `fast-${cluster}`;
    const src = mkdtempSync(join(tmpdir(), 'pilot-fast-'));
    // numbered lines in five bursts over ~5 s: 620 MB in all, more than one string can hold
    const burst = BIG_LINES / 5;
    writeFileSync(join(src, 'fast.sh'), `for b in 0 1 2 3 4; do seq $((b * ${burst} + 1)) $(((b + 1) * ${burst})); sleep 1; done\necho done\n`);
    const w = new SlurmWrapper({ home });
    await w.scheduleJobs({ jobName: name, cluster, srcDir: src, entrypoint: 'fast.sh' });
    const record = await w.store.read(name);
    await w.close();
    const log = `${record.remote.jobDir}/logs/${record.attempts[0]!.arrays[0]!.jobId}_1.out`;
    try {
      const r = await pilotMeasured(['logs', `${name}/1`, '--follow'], home, { killAfterMs: 170_000 });
      console.log(`[follow ${cluster}] ${r.bytes} bytes in ${r.ms} ms, peak RSS ${(r.peakRssKb / 1024).toFixed(1)} MiB`);
      expect(r.killed).toBe(false);
      expect(r.code, r.stderr).toBe(0);
      // what was printed is the whole sequence, byte for byte, and the very file the task wrote
      const [expected, file] = (await sh(`{ seq 1 ${BIG_LINES}; echo done; } | sha256sum | cut -d' ' -f1; sha256sum ${quote(log)} | cut -d' ' -f1`)).trim().split('\n');
      expect(r.sha256).toBe(expected);
      expect(r.sha256).toBe(file);
      expect(r.peakRssKb).toBeLessThan(MAX_RSS_KB);
    } finally {
      await sh(`rm -f ${quote(log)}`);
      rmSync(join(home, 'jobs', name, 'logs'), { recursive: true, force: true });
    }
  });
});
