/**
 * Facts about a cluster worth remembering between commands, one JSON file per cluster under
 * $PILOT_HOME/cache/clusters/: asking costs a round trip. A launch whose facts are known (the remote root, the
 * bundle seen there) skips the probe; anything stale is found by the submit command's own checks.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/files.js';

export interface ClusterCache {
  /** the scheduler's MaxArraySize */
  maxArraySize?: number;
  /** remoteDir as configured → the absolute root it resolved to */
  roots?: Record<string, string>;
  /** bundles last seen complete on the cluster, newest last: a launch of one of them skips the probe */
  bundles?: string[];
}

/** How many bundle hashes the cache remembers per cluster. */
const CACHED_BUNDLES = 20;

export class FactsCache {
  constructor(private readonly cacheDir: string, private readonly clusterName: string) {}

  private file(): string {
    return join(this.cacheDir, `${this.clusterName}.json`);
  }

  async read(): Promise<ClusterCache> {
    try {
      return JSON.parse(await readFile(this.file(), 'utf8')) as ClusterCache;
    } catch {
      return {};
    }
  }

  /** Merges facts into the cache; written only when something changed (a launch should not pay a write). */
  async remember(change: { maxArraySize?: number; root?: [string, string]; bundle?: string; forgetBundle?: string }): Promise<void> {
    const cache = await this.read();
    const bundles = (cache.bundles ?? []).filter((b) => b !== change.bundle && b !== change.forgetBundle);
    if (change.bundle) bundles.push(change.bundle);
    const next: ClusterCache = {
      ...cache,
      ...(change.maxArraySize ? { maxArraySize: change.maxArraySize } : {}),
      ...(change.root ? { roots: { ...cache.roots, [change.root[0]]: change.root[1] } } : {}),
      bundles: bundles.slice(-CACHED_BUNDLES),
    };
    if (JSON.stringify(next) === JSON.stringify(cache)) return;
    await mkdir(this.cacheDir, { recursive: true });
    await writeJsonAtomic(this.file(), next).catch(() => undefined);   // a cache: losing a write costs a probe
  }
}
