#!/usr/bin/env node
// npm run bench: what hpc-pilot promises (issues #14 and #16), measured side by side in ONE run, printed as one
// table of ratios and written as JSON ($PILOT_BENCH_JSON, default $TMPDIR/pilot-bench.json). The rows:
//   launch.js     scheduleJobs vs the sbatch floor, vs a loop of scheduleJob; remote commands and wall time per N up
//                 to 100 000 (chunked past MaxArraySize too); SSH connections per CLI command
//   bundle.js     bytes uploaded by unchanged and one-file-changed re-launches of a 20 MB source
//   status.js     status of 1 × 100 000 vs 10 × 1 000 tasks, on the cluster and replayed with one row per task
//   logs.js       1 000 task logs: one stream vs one SFTP read each
//   cli-speed.js  the CLI launch path against its floors (#16)
//   here          `pilot --help` and `node -e 0` cold starts; packing a tree
// Needs the test cluster (bash test/cluster/up.sh, as root) for the 'real' rows; without it they are skipped.
// Every array submitted is held (--hold) and cancelled at the end. PILOT_BENCH_ONLY=launch,status,… runs a part.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterEnv, dist, median, root, routeOf, row, rows, time } from './lib.js';

const only = process.env.PILOT_BENCH_ONLY?.split(',');
const want = (part) => !only || only.includes(part);
const loadBefore = loadavg();
// ratios measured on a busy machine say little: say so (the JSON keeps the load either way)
if (loadBefore[0] > 2) console.log(`warning: load average ${loadBefore[0].toFixed(2)} (> 2): the machine is busy, the timings will be noisy`);
const env = clusterEnv();
const cleanup = [];
let home;
if (env.target) {
  try {
    if (want('launch') || want('status') || want('logs')) {
      const { launchRows } = await import('./launch.js');
      const { realStatusRows } = await import('./status.js');
      ({ home } = await launchRows(env, cleanup, async (h) => { if (want('status')) realStatusRows(h); }));
    }
    if (home && want('logs')) await (await import('./logs.js')).logsRows(env, home);
    if (want('bundle')) await (await import('./bundle.js')).bundleRows(home ?? (await import('./lib.js')).makeHome(env.target), cleanup);
    if (want('speed')) await (await import('./cli-speed.js')).speedRows(env, (await import('./lib.js')).makeHome(env.target), cleanup);
  } finally {
    // everything submitted is held: cancel it all in one command
    const ids = cleanup.filter((x) => /^\d+$/.test(String(x)));
    if (ids.length) {
      const { connectSsh } = await dist('transport/ssh.js');
      const ssh = await connectSsh(await routeOf(env.target));
      await ssh.exec(`scancel ${ids.join(' ')}`);
      await ssh.close();
    }
  }
} else {
  console.log(`(no test cluster at ${env.envFile}: the rows measured on it are skipped; run bash test/cluster/up.sh as root)`);
}
if (want('status')) await (await import('./status.js')).replayRows();

if (want('local')) {
  const node = [], help = [];
  for (let i = 0; i < 10; i++) {
    node.push(await time(async () => spawnSync(process.execPath, ['-e', '0'])));
    help.push(await time(async () => spawnSync(process.execPath, [join(root, 'bin/pilot.js'), '--help'])));
  }
  row({ what: 'cold start', ref: { label: 'node -e 0', value: median(node) }, ours: { label: 'pilot --help', value: median(help) }, unit: 's', source: 'local', max: 1.3 });
  const { packBundle } = await dist('bundle/pack.js');
  const tree = join(root, 'node_modules');
  const out = mkdtempSync(join(tmpdir(), 'pilot-bench-pack-'));
  const gnu = await time(async () => execFileSync('tar', ['-czf', join(out, 'gnu.tgz'), '-C', tree, '.']));
  const mine = await time(() => packBundle({ srcDir: tree, outDir: out, exclude: ['!node_modules'] }));
  row({ what: 'pack node_modules', ref: { label: 'GNU tar -czf', value: gnu }, ours: { label: 'packBundle', value: mine }, unit: 's', source: 'local' });
}

// ───────────────────────────────────────────────────────────── the table
const fmt = (v, unit) => {
  if (unit === 's') return `${v.toFixed(3)} s`;
  if (unit === 'ms') return `${v.toFixed(0)} ms`;
  if (unit === 'KB') return `${v >= 10240 ? `${(v / 1024).toFixed(1)} MB` : `${v.toFixed(0)} KB`}`;
  if (unit === 'B') return v >= 1 << 20 ? `${(v / (1 << 20)).toFixed(1)} MB` : v >= 1024 ? `${(v / 1024).toFixed(1)} KB` : `${v} B`;
  return `${v} ${unit}`;
};
const ratioOf = (r) => (r.ref.value === 0 ? (r.ours.value === 0 ? 1 : Infinity) : r.ours.value / r.ref.value);
const ratioText = (x) => (!Number.isFinite(x) ? '∞' : x < 0.1 && x > 0 ? `${x.toFixed(4)} (${(1 / x).toFixed(0)}× less)` : `${x.toFixed(2)}`);
const cells = rows.map((r) => {
  const x = ratioOf(r);
  const met = r.max === undefined ? '' : `${x <= r.max + 1e-9 ? 'met' : 'NOT met'} (≤ ${r.max < 0.1 && r.max > 0 ? `1/${Math.round(1 / r.max)}` : r.max})`;
  return [r.what, `${r.ref.label}: ${fmt(r.ref.value, r.unit)}`, `${r.ours.label}: ${fmt(r.ours.value, r.unit)}`, ratioText(x), met, r.source];
});
const head = ['row', 'reference', 'hpc-pilot', 'ours/ref', 'target', 'measured'];
const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
const line = (c) => `| ${c.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
const loadAfter = loadavg();
console.log(`\nhpc-pilot bench, ${new Date().toISOString()}, node ${process.version}, load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
console.log(line(head));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const c of cells) console.log(line(c));
const jsonFile = process.env.PILOT_BENCH_JSON ?? join(tmpdir(), 'pilot-bench.json');
writeFileSync(jsonFile, JSON.stringify({
  at: new Date().toISOString(), node: process.version, load: { before: loadBefore, after: loadAfter }, cpus: readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length,
  rows: rows.map((r) => ({ ...r, ratio: ratioOf(r), ...(r.max === undefined ? {} : { met: ratioOf(r) <= r.max + 1e-9 }) })),
}, null, 2) + '\n');
console.log(`\n(written to ${jsonFile}; ours/ref below 1: hpc-pilot needs less than the reference; 'target' is the bound from issues #14/#16)`);
