/**
 * The SDK doors about clusters rather than jobs (checking a connection, trusting host keys, adding a cluster,
 * connection counters), kept out of wrapper.ts as a base class: the same methods on the same object.
 */
import type { HostKeyQuestion, TransportStats } from '../transport/types.js';
import type { ClusterEntry } from './config-write.js';
import { checkConnection, trustCluster } from './control.js';
import type { Engine } from './engine.js';
import type { ConnectionCheck, TrustResult } from './types.js';

export abstract class ClusterDoors {
  protected abstract readonly engine: Engine;

  /**
   * Connects to a cluster (strict host key) and checks, in one remote command, what pilot needs there: the
   * Slurm commands and version, the controller, MaxArraySize, accounting, a writable remote folder.
   * @example
   * const c = await pilot.checkConnection('lab');   // { ok: true, connectMs: 140, version: 'slurm 22.05.8', hops: [...] }
   */
  checkConnection(cluster: string): Promise<ConnectionCheck> {
    return checkConnection(this.engine, cluster);
  }

  /**
   * Records the host key of every hop of a cluster that is in no known_hosts file yet, after `confirm` says
   * yes to its fingerprint. A changed key is never replaced: that connection is refused.
   * @example
   * await pilot.trust('lab', async (q) => q.fingerprint === 'SHA256:…');
   */
  trust(cluster: string, confirm: (question: HostKeyQuestion) => Promise<boolean>): Promise<TrustResult> {
    return trustCluster(this.engine, cluster, confirm);
  }

  /**
   * Adds a cluster entry to config.yaml (comments and order kept), checked by the loader every command uses.
   * @example
   * await pilot.addCluster('hpc', { sshAlias: 'hpc-login', remoteDir: '~/pilot', partition: 'gpu' });
   */
  async addCluster(name: string, entry: ClusterEntry, options: { force?: boolean } = {}): Promise<string> {
    const { addClusterEntry } = await import('./config-write.js');
    return addClusterEntry(this.engine.home, name, entry, options);
  }

  /** Each cluster connected to: connections opened (1 unless one dropped), the current one's counters. */
  async connections(): Promise<{ cluster: string; opened: number; stats?: TransportStats }[]> {
    return Promise.all([...this.engine.connectionsOpened].map(async ([cluster, opened]) => ({
      cluster, opened, stats: (await this.engine.opened(cluster)?.catch(() => undefined))?.stats,
    })));
  }

  /** Transport counters of a cluster's open connection (commands run, bytes moved), for tests and benchmarks. */
  async transportStats(cluster: string): Promise<TransportStats | undefined> {
    return (await this.engine.opened(cluster))?.stats;
  }
}
