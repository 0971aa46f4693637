/**
 * `pilot gc`: reclaims the space jobs leave behind. On this machine, packed bundles in $PILOT_HOME/cache that
 * no record refers to; on every cluster (the local one, those in config.yaml and those records name), with
 * ONE remote command each, job folders and unpacked bundles that no record refers to and no unfinished job
 * uses (see scheduler/cleanup.ts). It refuses to run while it cannot know what is in use here: a damaged
 * record (its job may be alive) or a launch in progress (its bundle is not recorded yet).
 */
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PilotError } from '../model/errors.js';
import { deadTemps } from '../util/files.js';
import type { GcRequest } from '../scheduler/backend.js';
import { loadConfigFile } from './config.js';
import type { Engine } from './engine.js';
import { bundleCacheDir } from './prepare.js';
import type { GcItem, GcResult } from './types.js';

export interface GcOptions {
  /** list what would be removed, with sizes; remove nothing */
  dryRun?: boolean;
  /**
   * Remote clusters keep job folders and bundles changed in the last N days (default 7): another machine
   * may share the folder. The local cache and the local cluster belong to this home and are not aged.
   */
  olderThanDays?: number;
}

const DAY_MS = 86_400_000;
const CACHED_BUNDLE_RE = /^([0-9a-f]{64})\.tar\.gz$/;

export async function gc(engine: Engine, options: GcOptions = {}): Promise<GcResult> {
  const days = options.olderThanDays ?? 7;
  if (!Number.isFinite(days) || days < 0) {
    throw new PilotError('BAD_INPUT', `olderThanDays must be a number of days ≥ 0, not ${days}`, { hint: 'e.g. 7, or 0 for everything nothing refers to' });
  }
  const dryRun = Boolean(options.dryRun);
  const { store } = engine;
  const { records, damaged } = await store.readAll();
  if (damaged.length) {
    const names = damaged.map((d) => d.name).join(' ');
    throw new PilotError('DAMAGED', `gc cannot tell what ${damaged.length === 1 ? 'the damaged record' : `${damaged.length} damaged records`} of ${names} refer${damaged.length === 1 ? 's' : ''} to, so it removes nothing`, {
      hint: `repair or restore ${damaged.length === 1 ? 'it' : 'them'} (see \`pilot list\`), or remove ${damaged.length === 1 ? 'it' : 'them'} with \`pilot rm ${names}\`; then run gc again`,
    });
  }
  const launching = await store.launchesInProgress();
  if (launching.length) {
    throw new PilotError('STORE', `a launch of '${launching[0]}' is in progress: its bundle is not recorded yet, so gc removes nothing`, { hint: 'run gc again when it has finished' });
  }
  const request: GcRequest = {
    keepJobs: records.map((r) => basename(r.remote.jobDir)),
    keepBundles: [...new Set(records.map((r) => r.bundle.sha256))],
    olderThanMs: days * DAY_MS,
    dryRun,
  };
  const removed = await cleanCache(bundleCacheDir(engine.home), new Set(request.keepBundles), dryRun);
  const skipped: GcResult['skipped'] = [];
  await Promise.all((await clusters(engine, records.map((r) => r.cluster))).map(async (cluster) => {
    try {
      const entries = await (await engine.backendFor(cluster)).collectGarbage(request);
      removed.push(...entries.map((e) => ({ where: cluster, ...e })));
    } catch (err) {
      // a cluster that cannot be asked keeps everything; a bug must surface
      if (!(err instanceof PilotError) || err.code === 'INTERNAL') throw err;
      skipped.push({ cluster, reason: err.message });
    }
  }));
  removed.sort((a, b) => a.where.localeCompare(b.where) || a.path.localeCompare(b.path));
  return { dryRun, removed, bytes: removed.reduce((n, e) => n + e.bytes, 0), skipped };
}

/** Packed bundles no record refers to (the next launch of the same sources packs them again). */
async function cleanCache(dir: string, keep: ReadonlySet<string>, dryRun: boolean): Promise<GcItem[]> {
  const items: GcItem[] = [];
  const remove = async (name: string, kind: GcItem['kind']) => {
    const path = join(dir, name);
    items.push({ where: 'cache', kind, path, bytes: (await stat(path).catch(() => undefined))?.size ?? 0 });
    if (!dryRun) await rm(path, { recursive: true, force: true });
  };
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const sha = CACHED_BUNDLE_RE.exec(name)?.[1];
    if (sha && !keep.has(sha)) await remove(name, 'cache');
  }
  // what launches killed while packing left: a bundle being written, or a manifest or pack index not renamed yet
  // (the launch that finds its sources unchanged never packs again, so nothing else sweeps them)
  for (const name of await deadTemps(dir)) await remove(name, 'leftover');
  return items;
}

/**
 * The clusters to visit: the local one when it was ever used, every one in config.yaml (a job removed without
 * --remote leaves its folder there, with no record left to name the cluster), and every one a record names.
 */
async function clusters(engine: Engine, named: string[]): Promise<string[]> {
  const all = new Set([...Object.keys(await loadConfigFile(engine.home)), ...named]);
  if (existsSync(join(engine.home, 'local'))) all.add('local');
  return [...all].sort();
}
