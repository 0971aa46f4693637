/**
 * A cluster as the engine knows it once config.yaml and the user's OpenSSH config are resolved. `local` is
 * built in. Types only: resolving lives in engine/config.ts and transport/ssh-config.ts.
 */

/** How host keys that are not in known_hosts are treated (OpenSSH's StrictHostKeyChecking). */
export type HostKeyPolicy = 'yes' | 'accept-new' | 'ask';

/**
 * One SSH endpoint with everything needed to reach and trust it, resolved as `ssh -G` would (or from
 * config.yaml). A jump host is an SshHop too, resolved with its own settings.
 */
export interface SshHop {
  /** What the user named (alias, cluster name or host), for messages. */
  alias: string;
  /** The address connected to (HostName). */
  host: string;
  port: number;
  user: string;
  /** Private key files, tried in order (files that do not exist are skipped, as OpenSSH does). */
  identityFiles: string[];
  /** true: only the identityFiles are tried, not every key of the agent. */
  identitiesOnly: boolean;
  /** The agent socket; undefined = $SSH_AUTH_SOCK; 'none' = no agent. */
  identityAgent?: string;
  /** known_hosts files checked, in order; the first one is where `pilot trust` appends. */
  knownHostsFiles: string[];
  strictHostKeyChecking: HostKeyPolicy;
  /** The name looked up in known_hosts instead of host:port. */
  hostKeyAlias?: string;
  /** Connect timeout (TCP + handshake), ms. */
  connectTimeoutMs: number;
  /** Keepalive interval, ms; 0 = none. */
  serverAliveIntervalMs: number;
  serverAliveCountMax: number;
  /** Methods the user's config allows (PubkeyAuthentication, KbdInteractiveAuthentication, PasswordAuthentication). */
  pubkeyAuthentication: boolean;
  kbdInteractiveAuthentication: boolean;
  passwordAuthentication: boolean;
}

/** The hops to go through, first one connected first, then the target. */
export interface SshRoute {
  jumps: SshHop[];
  target: SshHop;
  /** The target's ProxyCommand (transport: openssh runs it; pilot's own SSH cannot). */
  proxyCommand?: string;
}

/** ssh2: pilot speaks SSH itself. openssh: the system `ssh` client with a ControlMaster socket. */
export type TransportKind = 'ssh2' | 'openssh';

export interface RemoteClusterConfig {
  /** the scheduler dialect spoken on it */
  kind: 'slurm';
  name: string;
  transport: TransportKind;
  ssh: SshRoute;
  /**
   * How the system `ssh` client names this cluster (the openssh transport passes it on): the alias, with
   * `-F configFile` when one was used; for clusters spelled out in config.yaml, the options that describe them.
   */
  openssh: { destination: string; args: string[] };
  /** Remote working folder; `~/` is the remote home. */
  remoteDir: string;
  partition?: string;
  account?: string;
  /** Overrides the MaxArraySize read from `scontrol show config` (sites that hide it, tests). */
  maxArraySize?: number;
}

export interface LocalClusterConfig {
  kind: 'local';
  name: 'local';
}

export type ClusterConfig = RemoteClusterConfig | LocalClusterConfig;

/** `user@host:port` of a hop, for messages. */
export function describeHop(hop: SshHop): string {
  return `${hop.user}@${hop.host}:${hop.port}`;
}

/** `user@host:port via a -> b`, for messages. */
export function describeRoute(route: SshRoute): string {
  return describeHop(route.target) + (route.jumps.length ? ` via ${route.jumps.map(describeHop).join(' -> ')}` : '');
}

/** The settings OpenSSH uses when its config says nothing, for hosts spelled out in config.yaml. */
export function directHop(fields: Pick<SshHop, 'host' | 'port' | 'user'> & Partial<SshHop>): SshHop {
  return {
    alias: fields.host,
    identityFiles: [],
    identitiesOnly: (fields.identityFiles?.length ?? 0) > 0,
    knownHostsFiles: [],
    strictHostKeyChecking: 'ask',
    connectTimeoutMs: 20_000,
    // a connection that silently died (VPN dropped, server gone) is noticed within ~30 s, so nothing waits for ever
    serverAliveIntervalMs: 10_000,
    serverAliveCountMax: 3,
    pubkeyAuthentication: true,
    kbdInteractiveAuthentication: true,
    passwordAuthentication: true,
    ...fields,
  };
}
