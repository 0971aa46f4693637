// Status rows: one 100 000-task job vs 10 jobs × 1 000 tasks: remote commands, bytes, local parse time, record
// size on disk and peak RSS of the CLI.
//   real:   `pilot --verbose status …` on the test cluster (the arrays are held: sacct prints one range row each)
//   replay: the status path with one row per task (generated sacct/squeue, shapes of test/fixtures/slurm/) through
//           the real parser, engine and store over the fake transport (bench/replay-scale.ts, one child per step)
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pilotCli, root, row } from './lib.js';

const recordKB = (home, names) => names.reduce((n, name) => n + statSync(join(home, 'jobs', name, 'job.json')).size, 0) / 1024;

export function realStatusRows(home) {
  const ten = Array.from({ length: 5 }, (_, i) => [`k1000-open-${i}`, `k1000-fresh-${i}`]).flat();
  const one = pilotCli(home, ['status', 'n100000', '--json']);
  const many = pilotCli(home, ['status', ...ten, '--json']);
  const src = 'real, held arrays';
  row({ what: 'status: remote commands', ref: { label: '10 jobs × 1000', value: many.commands }, ours: { label: '1 job × 100000', value: one.commands }, unit: 'cmds', source: src, max: 1 });
  row({ what: 'status: bytes down', ref: { label: '10 jobs × 1000', value: many.bytesDown }, ours: { label: '1 job × 100000', value: one.bytesDown }, unit: 'B', source: src });
  row({ what: 'status: CLI wall time', ref: { label: '10 jobs × 1000', value: many.seconds }, ours: { label: '1 job × 100000', value: one.seconds }, unit: 's', source: src });
  row({ what: 'status: CLI peak RSS', ref: { label: '10 jobs × 1000', value: many.rssKB }, ours: { label: '1 job × 100000', value: one.rssKB }, unit: 'KB', source: src });
  row({ what: 'status: record size on disk', ref: { label: '10 jobs × 1000', value: recordKB(home, ten) }, ours: { label: '1 job × 100000', value: recordKB(home, ['n100000']) }, unit: 'KB', source: src });
}

/** Runs one replay step in its own process (so its peak RSS is that step's, as for one CLI command). */
function replay(step, home, tasks, jobs, uploads) {
  const r = spawnSync(process.execPath, ['--expose-gc', join(root, 'dist/bench/replay.mjs'), step, home ?? '-', String(tasks), String(jobs)], { encoding: 'utf8', env: { ...process.env, REPLAY_UPLOADS: JSON.stringify(uploads ?? []) }, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`replay ${step} failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout);
}

/** One job of `tasks` tasks (× `jobs`): launch, status half way, status at the end, restart of the 1 %, status again. */
function replayRun(tasks, jobs) {
  const launch = replay('launch', undefined, tasks, jobs);
  const out = { launch };
  for (const step of ['status-mid', 'status-final', 'restart', 'status-after-restart']) out[step] = replay(step, launch.home, tasks, jobs, launch.uploads);
  return out;
}

export async function replayRows() {
  const { build } = await import('esbuild');
  await build({ entryPoints: [join(root, 'bench/replay-scale.ts')], outfile: join(root, 'dist/bench/replay.mjs'), bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
  const big = replayRun(100_000, 1);
  const many = replayRun(1000, 10);
  const small = replayRun(1000, 1);
  const src = 'replay, 1 row per task';
  const pair = (what, key, unit, f, extra = {}) => row({ what, ref: { label: '10 jobs × 1000', value: f(many[key]) }, ours: { label: '1 job × 100000', value: f(big[key]) }, unit, source: src, ...extra });
  pair('status (final): remote commands', 'status-final', 'cmds', (r) => r.commands, { max: 1 });
  pair('status (final): bytes down', 'status-final', 'B', (r) => r.bytesDown);
  pair('status (final): parse of the output', 'status-final', 'ms', (r) => r.parseMs);
  pair('status (final): local CPU', 'status-final', 'ms', (r) => r.cpuMs);
  pair('status (half way): local CPU', 'status-mid', 'ms', (r) => r.cpuMs);
  // issue #14: the status of one 100 000-task job (every task's view read, as `pilot status NAME` does) within 1 s
  for (const [what, key] of [['final', 'status-final'], ['half way', 'status-mid']]) {
    row({ what: `status (${what}) of 100000 tasks: local CPU`, ref: { label: 'budget', value: 1000 }, ours: { label: '1 job × 100000', value: big[key].cpuMs }, unit: 'ms', source: src, max: 1 });
  }
  pair('status (final): peak RSS', 'status-final', 'KB', (r) => r.maxRssKB);
  pair('status (final): record size on disk', 'status-final', 'KB', (r) => r.recordBytes / 1024);
  // growth, 1 000 → 100 000 tasks (100×): linear is a ratio of 100 or less
  const grow = (what, key, f) => row({ what, ref: { label: '1 job × 1000', value: f(small[key]) }, ours: { label: '1 job × 100000', value: f(big[key]) }, unit: 'ms', source: src, max: 100 });
  grow('growth ×100 tasks: launch CPU', 'launch', (r) => r.cpuMs);
  grow('growth ×100 tasks: status CPU', 'status-final', (r) => r.cpuMs);
  grow('growth ×100 tasks: restart 1 % failed CPU', 'restart', (r) => r.cpuMs);
  grow('growth ×100 tasks: status after restart CPU', 'status-after-restart', (r) => r.cpuMs);
  return { big, many, small };
}
