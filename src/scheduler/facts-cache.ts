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

  /**
   * The file as this object last read or wrote it: read once per connection, not once or twice per launch
   * (each read is a file system round trip on the launch's path). Another process's newer facts are missed
   * until then, which costs nothing unsafe: every fact is checked again by the command that relies on it.
   */
  private known?: Promise<ClusterCache>;

  private file(): string {
    return join(this.cacheDir, `${this.clusterName}.json`);
  }

  read(): Promise<ClusterCache> {
    this.known ??= this.readFile();
    return this.known;
  }

  private async readFile(): Promise<ClusterCache> {
    try {
      return JSON.parse(await readFile(this.file(), 'utf8')) as ClusterCache;
    } catch {
      return {};
    }
  }

  /**
   * Merges facts into the cache; written only when something changed (a launch should not pay a write, nor a
   * read: a change is looked for in what is known first, then merged into the file as it is now).
   */
  async remember(change: { maxArraySize?: number; root?: [string, string]; bundle?: string; forgetBundle?: string }): Promise<void> {
    const known = await this.read();
    if (sameFacts(known, merged(known, change))) return;
    const cache = await this.readFile();
    const next = merged(cache, change);
    this.known = Promise.resolve(next);
    if (sameFacts(next, cache)) return;
    await mkdir(this.cacheDir, { recursive: true });
    await writeJsonAtomic(this.file(), next).catch(() => undefined);   // a cache: losing a write costs a probe
  }
}

const sameFacts = (a: ClusterCache, b: ClusterCache) => JSON.stringify(a) === JSON.stringify(b);

function merged(cache: ClusterCache, change: Parameters<FactsCache['remember']>[0]): ClusterCache {
  const bundles = (cache.bundles ?? []).filter((b) => b !== change.bundle && b !== change.forgetBundle);
  if (change.bundle) bundles.push(change.bundle);
  return {
    ...cache,
    ...(change.maxArraySize ? { maxArraySize: change.maxArraySize } : {}),
    ...(change.root ? { roots: { ...cache.roots, [change.root[0]]: change.root[1] } } : {}),
    bundles: bundles.slice(-CACHED_BUNDLES),
  };
}
