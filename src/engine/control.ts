/** Acting on recorded jobs: cancel, download what they wrote, and checking that a cluster answers. */
import { resolve } from 'node:path';
import { describeRoute } from '../model/cluster.js';
import { PilotError } from '../model/errors.js';
import { isFinal } from '../model/states.js';
import { countStates } from '../model/tracking.js';
import { makeDirs } from '../util/files.js';
import type { Engine } from './engine.js';
import { checkIndex, resolveName, resolveRef } from './refs.js';
import { refresh } from './track.js';
import type { HostKeyQuestion } from '../transport/types.js';
import type { CancelResult, ConnectionCheck, DownloadResult, TrustResult } from './types.js';

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

export async function download(engine: Engine, ref: string | undefined, options: { to?: string; onSkip?: (path: string, reason: string) => void } = {}): Promise<DownloadResult> {
  const name = await resolveName(engine.store, ref);
  const record = await engine.load(name);
  const dest = resolve(options.to ?? name);
  const backend = await engine.backendFor(record.cluster);
  if (!backend.download) throw new PilotError('INTERNAL', `download is not available on cluster ${record.cluster}`);
  await makeDirs(dest);   // never Node's recursive mkdir: it spins for ever on --to /proc/x
  const skipped: DownloadResult['skipped'] = [];
  const bytes = await backend.download(record, dest, {
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
  const backend = await engine.backend(cluster);
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
  if (cluster.transport === 'openssh') {
    throw new PilotError('BAD_INPUT', `cluster ${cluster.name} uses the system ssh client (transport: openssh), which keeps its own known_hosts`, {
      hint: `run \`ssh ${[...cluster.openssh.args, cluster.openssh.destination].join(' ')}\` once: ssh shows the fingerprint and asks`,
    });
  }
  const added: HostKeyQuestion[] = [];
  const transport = await engine.connectOnce(cluster, {
    confirmHostKey: async (question) => {
      const yes = await confirm(question);
      if (yes) added.push(question);
      return yes;
    },
  });
  await transport.close();
  return { cluster: cluster.name, target: describeRoute(cluster.ssh), added, hops: transport.hops ?? [] };
}
