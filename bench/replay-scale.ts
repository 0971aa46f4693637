// The status path at 100 000 tasks, replayed: the real engine, store, parser and record, with the fake transport
// of the unit tier (test/support/fake-cluster.ts) answering with generated sacct/squeue output shaped like the
// recordings in test/fixtures/slurm/. Why replayed: sacct of a held array on the test cluster is ONE range row,
// and the test bed cannot run 100 000 tasks; what a finished 100 000-task array prints is one row per task.
// bench/run.js bundles this file (esbuild) and runs each step in its own child process, so peak RSS is the one
// process's, as for a CLI command. Usage: node replay.mjs STEP HOME (steps below); prints one JSON line.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fakeLab, FakeCluster, framed } from '../test/support/fake-cluster.js';
import { SlurmWrapper } from '../src/engine/wrapper.js';
import { parseStatusOutput } from '../src/scheduler/slurm/status.js';

const [step = 'launch', homeArg, tasksArg = '100000', jobsArg = '1'] = process.argv.slice(2);
const N = Number(tasksArg);
const JOBS = Number(jobsArg);
const FIRST_ID = 5000;
const T0 = '2026-11-24T00:00:00', T1 = '2026-11-24T00:00:07';
/** Tasks that fail in the replay: every 100th (1 000 of 100 000), as a sweep with a bad corner would. */
const failed = (i: number) => i % 100 === 0;

/** sacct -X -P -n --format=JobID,JobIDRaw,State,ExitCode,Reason,Start,End of a job whose tasks all ended. */
function sacctFinished(jobId: number, n: number, attemptIndices?: number[]): string {
  const rows: string[] = [];
  const indices = attemptIndices ?? Array.from({ length: n }, (_, k) => k + 1);
  for (const i of indices) {
    const bad = attemptIndices ? false : failed(i);
    rows.push(`${jobId}_${i}|${jobId + i}|${bad ? 'FAILED' : 'COMPLETED'}|${bad ? '1:0' : '0:0'}|None|${T0}|${T1}`);
  }
  return rows.join('\n');
}

/** Half way: the first third ended, 10 running, the rest one pending range row (as sacct and squeue print a throttled array). */
function midRun(jobId: number, n: number): { sacct: string; squeue: string } {
  const done = Math.floor(n / 3);
  const sacct: string[] = [], squeue: string[] = [];
  for (let i = 1; i <= done; i++) sacct.push(`${jobId}_${i}|${jobId + i}|${failed(i) ? 'FAILED' : 'COMPLETED'}|${failed(i) ? '1:0' : '0:0'}|None|${T0}|${T1}`);
  for (let i = done + 1; i <= done + 10; i++) {
    sacct.push(`${jobId}_${i}|${jobId + i}|RUNNING|0:0|None|${T0}|Unknown`);
    squeue.push(`${jobId}_${i}|RUNNING|None`);
  }
  sacct.push(`${jobId}_[${done + 11}-${n}%10]|${jobId}|PENDING|0:0|JobArrayTaskLimit|Unknown|Unknown`);
  // squeue (without -r, as the status command runs it) prints the pending rest as one line too
  squeue.push(`${jobId}_[${done + 11}-${n}%10]|PENDING|JobArrayTaskLimit`);
  return { sacct: sacct.join('\n'), squeue: squeue.join('\n') };
}

/** The counts per state each status step must report (from the generators above). */
function expectedCounts(step: string): Record<string, number> {
  const failedIn = (n: number) => Math.floor(n / 100);
  if (step === 'status-mid') {
    const done = Math.floor(N / 3);
    return { PENDING: N - done - 10, RUNNING: 10, COMPLETED: done - failedIn(done), FAILED: failedIn(done) };
  }
  if (step === 'status-final') return { COMPLETED: N - failedIn(N), FAILED: failedIn(N) };
  return { COMPLETED: N };
}

const names = Array.from({ length: JOBS }, (_, j) => `scale-${j}`);
const ids = names.map((_, j) => FIRST_ID + j * 1_000_000);
const restartId = 9_999_000;

function statusAnswer(kind: string): string {
  if (kind === 'mid') {
    const parts = ids.map((id) => midRun(id, N));
    return framed({ sacct: parts.map((p) => p.sacct).join('\n'), squeue: parts.map((p) => p.squeue).join('\n') });
  }
  if (kind === 'final') return framed({ sacct: ids.map((id) => sacctFinished(id, N)).join('\n'), squeue: '' });
  // after restart-failed: attempt 2 is one array of the failed task numbers, all now COMPLETED
  const again = Array.from({ length: N }, (_, k) => k + 1).filter(failed);
  return framed({ sacct: sacctFinished(restartId, again.length, again), squeue: '' });
}

async function main(): Promise<void> {
  const home = homeArg!;
  let cluster: FakeCluster;
  let pilot: SlurmWrapper;
  if (step === 'launch') {
    ({ cluster, pilot } = fakeLab({ jobIds: ids.map(String), ...(process.env.REPLAY_MAX_ARRAY ? { maxArraySize: Number(process.env.REPLAY_MAX_ARRAY) } : {}) }));
    // the fake lab's home is made by fakeLab; the parent passes it on to the later steps
  } else {
    cluster = new FakeCluster({ jobIds: [String(restartId)], status: [statusAnswer(step === 'status-mid' ? 'mid' : step === 'status-after-restart' ? 'again' : 'final')] });
    pilot = new SlurmWrapper({ home, connect: async () => cluster });
    // the fake knows a bundle only once it saw it uploaded: this process did not, so tell it
    cluster.uploads.push(...JSON.parse(process.env.REPLAY_UPLOADS ?? '[]'));
  }
  // the generated answer above (megabytes of rows) is the bench's garbage, not the status call's: collected now
  (globalThis as { gc?: () => void }).gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let parseMs: number | undefined;
  if (step === 'launch') {
    const src = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'echo-argv');
    for (const name of names) await pilot.scheduleJobs({ jobName: name, cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: Array.from({ length: N }, (_, i) => [String(i)]) });
  } else if (step.startsWith('status')) {
    const statuses = await pilot.status(names);
    if (statuses.some((s) => s.stale)) throw new Error(`stale: ${statuses[0]!.stale}`);
    // what the generated answer says, checked: a faster path that gets states wrong must not pass for faster
    for (const s of statuses) {
      // only the first job is restarted: the others keep their failures
      const want = expectedCounts(step === 'status-after-restart' && s.name !== names[0] ? 'status-final' : step);
      if (JSON.stringify(s.counts) !== JSON.stringify(want)) throw new Error(`${s.name}: counts ${JSON.stringify(s.counts)}, expected ${JSON.stringify(want)}`);
    }
    // every task's view read too, as `pilot status NAME` and `--json` do (they are built when first read)
    for (const s of statuses) if (s.tasks.length !== N || s.tasks[N - 1]!.outputDir === undefined) throw new Error('views');
  } else if (step === 'restart') {
    const r = await pilot.restartFailed(names[0]!);
    if (r.indices.length !== N / 100) throw new Error(`restarted ${r.indices.length}`);
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (step.startsWith('status')) {
    // the parser alone, on the same output (what `status` spent of `ms` in parsing)
    const answer = statusAnswer(step === 'status-mid' ? 'mid' : step === 'status-after-restart' ? 'again' : 'final');
    const p0 = performance.now();
    parseStatusOutput(answer);
    parseMs = performance.now() - p0;
  }
  await pilot.close();
  const recordBytes = names.reduce((n, name) => n + statSync(join(pilot.home, 'jobs', name, 'job.json')).size, 0);
  const statusBytes = cluster.commands.filter((c) => c.includes('@@pilot:begin')).length;
  process.stdout.write(JSON.stringify({
    step, home: pilot.home, ms, cpuMs: (cpu.user + cpu.system) / 1000, parseMs, maxRssKB: process.resourceUsage().maxRSS,
    commands: cluster.stats.commands, statusCommands: statusBytes, uploads: cluster.uploads,
    bytesDown: step.startsWith('status') ? Buffer.byteLength(statusAnswer(step === 'status-mid' ? 'mid' : step === 'status-after-restart' ? 'again' : 'final')) : 0,
    recordBytes, record: readFileSync(join(pilot.home, 'jobs', names[0]!, 'job.json'), 'utf8').length,
  }) + '\n');
}

await main();
