/** Acting on recorded jobs: cancel, download what they wrote, and checking that a cluster answers. */
import { resolve } from 'node:path';
import { PilotError } from '../model/errors.js';
import { makeDirs } from '../util/files.js';
import type { Engine } from './engine.js';
import { checkIndex, parseRef } from './refs.js';
import type { ConnectionCheck, DownloadResult } from './types.js';

export async function cancel(engine: Engine, ref: string): Promise<void> {
  const { name, index } = parseRef(ref);
  const record = await engine.load(name);
  if (index !== undefined) checkIndex(record, index);
  await (await engine.backendFor(record.cluster)).cancel(record, index === undefined ? undefined : [index]);
}

export async function download(engine: Engine, name: string, options: { to?: string; onSkip?: (path: string, reason: string) => void } = {}): Promise<DownloadResult> {
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

/** Connects (strict host key) and runs the scheduler's health command. */
export async function checkConnection(engine: Engine, clusterName: string): Promise<ConnectionCheck> {
  const cluster = await engine.cluster(clusterName);
  if (cluster.kind === 'local') return { cluster: 'local', target: 'local', connectMs: 0, ok: true, output: 'runs on this machine, no SSH needed' };
  const started = Date.now();
  const backend = await engine.backend(cluster);
  const connectMs = Date.now() - started;
  const health = await backend.health!();
  return { cluster: cluster.name, target: `${cluster.user}@${cluster.host}:${cluster.port}`, connectMs, ...health };
}
