// Shared by the bench modules: the test cluster's address, a fresh PILOT_HOME, timing, the CLI run as a child
// (its --verbose line says connections, remote commands and bytes; /usr/bin/time its peak RSS), and the rows.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const root = join(import.meta.dirname, '..');
export const dist = (path) => import(join(root, 'dist', path));

/** Seconds `fn` takes. */
export const time = async (fn) => { const t = performance.now(); await fn(); return (performance.now() - t) / 1000; };
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The rows of the one table. `ref` and `ours` are { label, value }; `unit` says what value is ('s', 'cmds', 'B',
 * 'KB', 'ms', 'conns'); the ratio printed is ours/ref; `max` is the bound on it from the issues (e.g. 0.02: ours at
 * least 50× faster); `source`: 'real' (measured on the test cluster), 'replay' (generated Slurm output through the
 * real parser and engine over the fake transport) or 'local'.
 */
export const rows = [];
export const row = (r) => { rows.push(r); return r; };

/** The test cluster's address (test/cluster/up.sh writes it), or undefined when it is not up. */
export function clusterEnv() {
  const envFile = join(process.env.LAB_DIR ?? join(process.env.TMPDIR ?? '/tmp', 'pilot-test-cluster'), 'cluster.env');
  if (!existsSync(envFile)) return { envFile };
  const env = Object.fromEntries(readFileSync(envFile, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const target = { host: env.PILOT_TEST_SSH_HOST, port: Number(env.PILOT_TEST_SSH_PORT), user: env.PILOT_TEST_SSH_USER, identityFile: env.PILOT_TEST_SSH_KEY, knownHosts: env.PILOT_TEST_SSH_KNOWN_HOSTS };
  const sshArgs = ['-i', target.identityFile, '-p', String(target.port), '-o', `UserKnownHostsFile=${target.knownHosts}`, '-o', 'BatchMode=yes', `${target.user}@${target.host}`];
  return { envFile, target, sshArgs };
}

/** The route connectSsh takes to the test cluster. */
export async function routeOf(target) {
  const { directHop } = await dist('model/cluster.js');
  return { jumps: [], target: directHop({ host: target.host, port: target.port, user: target.user, identityFiles: [target.identityFile], knownHostsFiles: [target.knownHosts] }) };
}

/** A fresh PILOT_HOME whose cluster `lab` is the test cluster (`extra`: more fields of its entry). */
export function makeHome(target, extra = '') {
  const home = mkdtempSync(join(tmpdir(), 'pilot-bench-'));
  writeFileSync(join(home, 'config.yaml'), `clusters:\n  lab: { host: ${target.host}, port: ${target.port}, user: ${target.user}, identityFile: ${target.identityFile}, knownHosts: ${target.knownHosts}, remoteDir: ~/pilot-bench, partition: debug${extra} }\n`);
  return home;
}

/**
 * Runs `pilot --verbose ARGS` with PILOT_HOME=home under /usr/bin/time: seconds, peak RSS (KB), and what its
 * --verbose line says (connections, remote commands, bytes up and down; 0 when it made no connection).
 */
export function pilotCli(home, args) {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '@@rss %M', process.execPath, join(root, 'bin/pilot.js'), '--verbose', ...args], { env: { ...process.env, PILOT_HOME: home }, encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t) / 1000;
  const v = /verbose: \S+: (\d+) connections?, \d+ prompts?, (\d+) remote commands, (\d+) uploads, (\d+) bytes up, (\d+) bytes down/.exec(r.stderr) ?? [];
  const rssKB = Number(/@@rss (\d+)/.exec(r.stderr)?.[1]);
  if (r.status !== 0) throw new Error(`pilot ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { stdout: r.stdout, stderr: r.stderr, seconds, rssKB, connections: Number(v[1] ?? 0), commands: Number(v[2] ?? 0), uploads: Number(v[3] ?? 0), bytesUp: Number(v[4] ?? 0), bytesDown: Number(v[5] ?? 0) };
}

/** Counter deltas of a wrapper's connection to `lab` around `fn`. */
export async function counted(pilot, fn) {
  const before = { ...((await pilot.transportStats('lab').catch(() => undefined)) ?? { commands: 0, uploads: 0, bytesUp: 0, bytesDown: 0 }) };
  const seconds = await time(fn);
  const after = await pilot.transportStats('lab');
  return { seconds, commands: after.commands - before.commands, uploads: after.uploads - before.uploads, bytesUp: after.bytesUp - before.bytesUp, bytesDown: after.bytesDown - before.bytesDown };
}

/** `n` argument lines: task i gets the word i. */
export const argsOf = (n) => Array.from({ length: n }, (_, i) => String(i));

/**
 * A TCP relay on loopback to `port` that delays every chunk by `oneWayMs` each way (in order): a link with a
 * round trip of 2 × oneWayMs, as from a laptop to a cluster, for rows that loopback's ~0.1 ms would distort.
 * Both sockets run without Nagle, as pilot's own do. Returns the relay's port and a close().
 */
export async function delayedLink(port, oneWayMs) {
  const net = await import('node:net');
  const relay = (from, to) => {
    let last = 0;
    from.on('data', (d) => {
      const at = Math.max(performance.now() + oneWayMs, last);
      last = at;
      setTimeout(() => { if (!to.destroyed) to.write(d); }, at - performance.now());
    });
    from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - performance.now())));
    from.on('error', () => to.destroy());
  };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const s of [client, upstream]) { s.setNoDelay(true); sockets.add(s); }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => { for (const s of sockets) s.destroy(); server.close(); } };
}
