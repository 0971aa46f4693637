/**
 * A cluster as the engine knows it once config.yaml (or, later, an OpenSSH alias) is resolved. `local` is
 * built in. Types only.
 */
export interface RemoteClusterConfig {
  /** the scheduler dialect spoken on it */
  kind: 'slurm';
  name: string;
  host: string;
  port: number;
  user: string;
  identityFile?: string;
  knownHosts: string;
  /** Remote working folder; `~/` is the remote home. */
  remoteDir: string;
  partition?: string;
  account?: string;
  proxyJump?: string;
  /** Overrides the MaxArraySize read from `scontrol show config` (sites that hide it, tests). */
  maxArraySize?: number;
}

export interface LocalClusterConfig {
  kind: 'local';
  name: 'local';
}

export type ClusterConfig = RemoteClusterConfig | LocalClusterConfig;

