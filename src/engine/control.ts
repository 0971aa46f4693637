/** Acting on recorded jobs: cancel, download what they wrote, and checking that a cluster answers. */
import { dirname, resolve } from 'node:path';
import { logPath } from '../model/attempts.js';
import { pathGlob } from '../model/expected.js';
import type { JobRecord } from '../model/record.js';
import { taskOutputDir } from '../model/task-env.js';
import { WHOLE_JOB, type DownloadSelection } from '../scheduler/backend.js';
import { describeRoute } from '../model/cluster.js';
import { PilotError } from '../model/errors.js';
import { isFinal } from '../model/states.js';
import { countStates } from '../model/tracking.js';
import { makeDirs } from '../util/files.js';
import type { Engine } from './engine.js';
import { checkIndex, resolveRef } from './refs.js';
import { refresh } from './track.js';
import type { HostKeyQuestion } from '../transport/types.js';
import type { CancelResult, ConnectionCheck, DownloadRequest, DownloadResult, TrustResult } from './types.js';

/**
 * Cancels what still runs or waits of a job (or of one task). The states are asked first, in the same single
 * round trip as a status: when every task concerned has finished nothing is sent, and the result says what
 * was cancelled and what had finished, so nobody is told "cancelled" about a job that was over.
 */
export async function cancel(engine: Engine, ref: string): Promise<CancelResult> {
  const { name, index } = await resolveRef(engine.store, ref);
  const record = await engine.load(name);
  if (index !== undefined) checkIndex(record, index);
  const [status] = await refresh(engine, [record]);
  const concerned = index === undefined ? status!.tasks : [status!.tasks.find((t) => t.index === index)!];
  const open = concerned.filter((t) => !isFinal(t.state) || t.provisional);
  const result: CancelResult = { name, ...(index === undefined ? {} : { index }), cancelled: countStates(open), finished: countStates(concerned.filter((t) => !open.includes(t))) };
  // with states that may be out of date, cancel anyway: scancel of a finished array does no harm
  if (!open.length && !status!.stale) return result;
  await (await engine.backendFor(record.cluster)).cancel(record, index === undefined ? undefined : [index]);
  return result;
}

/** What `download` takes from a job folder: all of it, or one task's logs (every attempt) and output folders. */
export function downloadSelection(record: JobRecord, index?: number): DownloadSelection {
  if (index === undefined) return WHOLE_JOB;
  const logs = record.attempts.flatMap((a) => (['out', 'err'] as const).map((s) => logPath(record, index, a.attempt, s)));
  return { paths: [...new Set(logs.filter((p): p is string => p !== undefined)), dirname(taskOutputDir(index, 1))], work: false };
}

/**
 * Fetches what a job (or task `name/I`) left in its folder, in one stream: logs, the tasks' output folders and,
 * for a whole job, the files tasks wrote in work/ (not the shipped sources). `glob` keeps only matching files.
 */
export async function download(engine: Engine, ref: string | undefined, options: DownloadRequest = {}): Promise<DownloadResult> {
  const { name, index } = await resolveRef(engine.store, ref);
  const record = await engine.load(name);
  if (index !== undefined) checkIndex(record, index);
  const dest = resolve(options.to ?? (index === undefined ? name : `${name}-${index}`));
  const backend = await engine.backendFor(record.cluster);
  if (!backend.download) throw new PilotError('INTERNAL', `download is not available on cluster ${record.cluster}`);
  const glob = options.glob;
  if (glob !== undefined && (!glob.trim() || glob.split('/').includes('..') || glob.startsWith('/'))) {
    throw new PilotError('BAD_INPUT', `--glob ${JSON.stringify(glob)} must be a relative pattern`, { hint: "e.g. --glob '*.json' (any folder) or --glob 'outputs/*/1/*'" });
  }
  await makeDirs(dest);   // never Node's recursive mkdir: it spins for ever on --to /proc/x
  const skipped: DownloadResult['skipped'] = [];
  const bytes = await backend.download(record, dest, {
    selection: downloadSelection(record, index),
    ...(glob === undefined ? {} : { accept: pathGlob(glob) }),
    onSkip: (path, reason) => {
      skipped.push({ path, reason });
      options.onSkip?.(path, reason);
    },
  });
  return { dest, bytes, skipped };
}

/** Connects (strict host key) and checks what pilot needs on the cluster, in one remote command. */
export async function checkConnection(engine: Engine, clusterName: string): Promise<ConnectionCheck> {
  const cluster = await engine.cluster(clusterName);
  if (cluster.kind === 'local') return { cluster: 'local', target: 'local', transport: 'local', connectMs: 0, ok: true, problems: [] };
  const started = Date.now();
  const backend = await engine.backend(cluster, undefined, true);
  const connectMs = Date.now() - started;
  const health = await backend.health!();
  return {
    cluster: cluster.name, target: describeRoute(cluster.ssh), transport: cluster.transport, connectMs, ...health,
    ...(backend.hops?.length ? { hops: backend.hops } : {}), prompts: backend.stats?.prompts,
  };
}

/**
 * Connects once, asking `confirm` about every hop whose host key is in no known_hosts file; a yes appends the
 * key to that hop's first known_hosts file. Changed keys are still refused: trusting never replaces a key.
 */
export async function trustCluster(engine: Engine, clusterName: string, confirm: (question: HostKeyQuestion) => Promise<boolean>): Promise<TrustResult> {
  const cluster = await engine.cluster(clusterName);
  if (cluster.kind === 'local') throw new PilotError('BAD_INPUT', 'the local cluster has no host key to trust', { hint: 'pilot trust is for remote clusters' });
  // the system client's known_hosts are the same files, resolved by `ssh -G` into the same hops (ports,
  // HostKeyAlias, jump hosts): pilot's own SSH checks them there and asks, whatever transport runs the jobs
  if (cluster.ssh.proxyCommand !== undefined) {
    throw new PilotError('BAD_INPUT', `cluster ${cluster.name} is reached with ProxyCommand (${cluster.ssh.proxyCommand}), which pilot trust cannot run`, {
      hint: `run \`ssh ${[...cluster.openssh.args, cluster.openssh.destination].join(' ')}\` once in a terminal: ssh shows the fingerprint and asks`,
    });
  }
  const added: HostKeyQuestion[] = [];
  const transport = await engine.connectOnce({ ...cluster, transport: 'ssh2' }, {
    confirmHostKey: async (question) => {
      const yes = await confirm(question);
      if (yes) added.push(question);
      return yes;
    },
  });
  await transport.close();
  return { cluster: cluster.name, target: describeRoute(cluster.ssh), added, hops: transport.hops ?? [] };
}
