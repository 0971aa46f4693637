/**
 * The scheduler folder's face to the engine: which dialect a cluster speaks, and opening its backend. The
 * engine names no scheduler; adding PBS means a dialect here and a `kind` in the cluster config.
 */
import { join } from 'node:path';
import type { ClusterConfig, RemoteClusterConfig } from '../model/cluster.js';
import { PilotError } from '../model/errors.js';
import type { ConnectContext, Transport } from '../transport/types.js';
import type { Backend } from './backend.js';
import type { Dialect } from './dialect.js';
import { slurmDialect } from './slurm/index.js';

const DIALECTS = new Map<string, Dialect>([['slurm', slurmDialect]]);

/** The dialect of a cluster kind; `local` runs the Slurm script under its own supervisor, so it renders Slurm's. */
export function dialectFor(kind: string): Dialect {
  const d = DIALECTS.get(kind === 'local' ? 'slurm' : kind);
  if (!d) throw new PilotError('CONFIG', `no scheduler dialect named '${kind}'`, { hint: `known: ${[...DIALECTS.keys()].join(', ')}` });
  return d;
}

/** Opens how a transport is made for a remote cluster (tests inject a fake one). */
export type Connect = (cluster: RemoteClusterConfig, context: ConnectContext) => Promise<Transport>;

/** The backend of a cluster: the local supervisor, or the one driver running the cluster's dialect over SSH. */
export async function openBackend(cluster: ClusterConfig, home: string, connect: Connect = connectTransport, context: ConnectContext = {}): Promise<Backend> {
  if (cluster.kind === 'local') {
    const { LocalBackend } = await import('./local/backend.js');
    return new LocalBackend(join(home, 'local'));
  }
  const { RemoteBackend } = await import('./driver.js');
  const transport = await connect(cluster, context);
  return new RemoteBackend(cluster, transport, dialectFor(cluster.kind), join(home, 'cache', 'clusters'));
}

/** The cluster's own transport: pilot's ssh2 connection, or the system OpenSSH client with a master socket. */
export async function connectTransport(cluster: RemoteClusterConfig, context: ConnectContext): Promise<Transport> {
  if (cluster.transport === 'openssh') {
    const { connectOpenSsh } = await import('../transport/openssh.js');
    return connectOpenSsh({ ...cluster.openssh, hostKeyPolicy: cluster.ssh.target.strictHostKeyChecking }, context);
  }
  const { connectSsh } = await import('../transport/ssh.js');
  return connectSsh(cluster.ssh, context);
}

/** An existing sbatch script's #SBATCH lines as job fields (`script:` jobs, `pilot launch run.sbatch`). */
export { parseScriptDirectives, type ScriptDirectives } from './slurm/script-directives.js';
