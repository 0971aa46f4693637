/**
 * Which cluster a name means, resolved to everything needed to reach it (config-schema.ts reads config.yaml):
 *
 * - `local` is built in;
 * - a cluster of config.yaml spelled out (`host`, …) is used as written; its `proxyJump` hops are resolved
 *   with `ssh -G` like any OpenSSH jump (from the spec, with the entry's key and known_hosts, without an ssh client);
 * - a cluster with `sshAlias` is that Host of the OpenSSH config, resolved with `ssh -G`, and the fields the
 *   entry sets override it;
 * - any other name is taken as an OpenSSH host alias, as `ssh NAME` would. A name that no Host block matches
 *   still works if it is a host name that resolves (`pilot launch --cluster login.example.org`); one that does
 *   not resolve either is most likely a typo, and gets the "unknown cluster" error listing the known ones.
 */
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { directHop, type ClusterConfig, type HostKeyPolicy, type RemoteClusterConfig, type SshHop } from '../model/cluster.js';
import { PilotError } from '../model/errors.js';
import {
  hopFromSshG, isNoSshClient, parseProxyJump, resolveJumpChain, resolveSshRoute, runSshG, sshConfigArgs, type JumpSpec, type ParsedHop,
} from '../transport/ssh-config.js';
import { expandPath } from '../util/paths.js';
import { loadConfigFile, type ClusterEntry } from './config-schema.js';

export type { ClusterConfig, LocalClusterConfig, RemoteClusterConfig } from '../model/cluster.js';
export { loadConfigFile, type ClusterEntry } from './config-schema.js';

export interface ResolveClusterOptions {
  /** PATH (to find ssh), PILOT_SSH_CONFIG (an OpenSSH config file used instead of ~/.ssh/config), USER. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Host keys of clusters spelled out in config.yaml are checked strictly unless the entry says otherwise
 * (as config.yaml always did); aliases follow their OpenSSH config.
 */
const PLAIN_HOST_KEY_POLICY: HostKeyPolicy = 'yes';

export async function resolveCluster(home: string, name: string, options: ResolveClusterOptions = {}): Promise<ClusterConfig> {
  if (name === 'local') return { kind: 'local', name: 'local' };
  const env = options.env ?? process.env;
  const clusters = await loadConfigFile(home);
  const entry = clusters[name];
  const where = `${join(home, 'config.yaml')}: clusters.${name}`;
  if (entry?.sshAlias) return aliasCluster(name, entry.sshAlias, entry, env, where);
  if (entry) return plainCluster(name, entry, env, where);
  return unknownName(home, name, Object.keys(clusters), env);
}

function remoteFields(name: string, entry: ClusterEntry): Omit<RemoteClusterConfig, 'ssh' | 'openssh'> {
  return {
    kind: 'slurm', name, transport: entry.transport, remoteDir: entry.remoteDir,
    partition: entry.partition, account: entry.account, maxArraySize: entry.maxArraySize,
  };
}

const expandAll = (paths: string[] | undefined) => paths?.map((p) => expandPath(p, homedir()));
const knownHostsOption = (files: string[]) => `UserKnownHostsFile=${files.map((f) => `"${f}"`).join(' ')}`;

function jumpSpecs(spec: string, where: string): JumpSpec[] {
  try {
    return parseProxyJump(spec);
  } catch (err) {
    throw new PilotError('CONFIG', `${where}: ${(err as Error).message}`, {
      hint: 'proxyJump is `[user@]host[:port]`, several separated by commas (first one connected first), or `ssh://user@host:port`',
    });
  }
}

/** A Host of the OpenSSH config, with the entry's fields on top (passed to ssh as command-line options win). */
async function aliasCluster(name: string, alias: string, entry: ClusterEntry, env: NodeJS.ProcessEnv, where: string): Promise<RemoteClusterConfig> {
  const identityFiles = expandAll(entry.identityFiles);
  const knownHosts = expandAll(entry.knownHosts);
  if (entry.proxyJump) jumpSpecs(entry.proxyJump, where);
  const common = [
    ...(entry.host ? ['-o', `HostName=${entry.host}`] : []),
    ...(entry.port ? ['-p', String(entry.port)] : []),
    ...(entry.user ? ['-l', entry.user] : []),
    ...(entry.strictHostKeyChecking ? ['-o', `StrictHostKeyChecking=${entry.strictHostKeyChecking}`] : []),
    ...(entry.proxyJump ? ['-J', entry.proxyJump] : []),
  ];
  // ssh -G prints a known-hosts list space-separated (ambiguous): ask it for the global files only, add ours
  const route = await resolveSshRoute(alias, {
    env, transport: entry.transport, args: [...common, ...(knownHosts ? ['-o', 'UserKnownHostsFile=/dev/null'] : [])],
  });
  const target: SshHop = { ...route.target };
  if (knownHosts) target.knownHostsFiles = [...knownHosts, ...target.knownHostsFiles];
  // -i adds to the config's IdentityFile; config.yaml's list replaces it (and, as for plain entries, only it is tried)
  if (identityFiles) Object.assign(target, { identityFiles, identitiesOnly: true });
  return {
    ...remoteFields(name, entry),
    ssh: { ...route, target },
    openssh: {
      destination: alias,
      args: [...sshConfigArgs(env), ...common, ...(knownHosts ? ['-o', knownHostsOption(knownHosts)] : []),
        ...(identityFiles ? [...identityFiles.flatMap((f) => ['-i', f]), '-o', 'IdentitiesOnly=yes'] : [])],
    },
  };
}

/** A cluster spelled out in config.yaml; its jump hosts resolved with ssh -G, or from the spec without a client. */
async function plainCluster(name: string, entry: ClusterEntry, env: NodeJS.ProcessEnv, where: string): Promise<RemoteClusterConfig> {
  const host = entry.host!;
  const port = entry.port ?? 22;
  const user = entry.user ?? env.USER ?? 'root';
  const identityFiles = expandAll(entry.identityFiles) ?? [];
  const knownHostsFiles = expandAll(entry.knownHosts ?? ['~/.ssh/known_hosts'])!;
  const strictHostKeyChecking = entry.strictHostKeyChecking ?? PLAIN_HOST_KEY_POLICY;
  const target = directHop({ alias: name, host, port, user, identityFiles, knownHostsFiles, strictHostKeyChecking });
  let jumps: SshHop[] = [];
  const specs = entry.proxyJump ? jumpSpecs(entry.proxyJump, where) : [];
  if (specs.length) {
    try {
      jumps = await resolveJumpChain({ hop: target, proxyJump: specs }, { env, transport: entry.transport }, [host]);
    } catch (err) {
      if (!isNoSshClient(err)) throw err;
      // no ssh client: each hop as the spec says, trusted and authenticated like the cluster itself
      jumps = specs.map((s) => directHop({ alias: s.host, host: s.host, port: s.port ?? 22, user: s.user ?? user, identityFiles, knownHostsFiles, strictHostKeyChecking }));
    }
  }
  return {
    ...remoteFields(name, entry),
    ssh: { jumps, target },
    openssh: {
      destination: `${user}@${host}`,
      args: [...(specs.length ? sshConfigArgs(env) : []), '-p', String(port), ...identityFiles.flatMap((f) => ['-i', f]),
        ...(identityFiles.length ? ['-o', 'IdentitiesOnly=yes'] : []), '-o', knownHostsOption(knownHostsFiles),
        '-o', `StrictHostKeyChecking=${strictHostKeyChecking}`, ...(specs.length ? ['-J', entry.proxyJump!] : [])],
    },
  };
}

/** Lines of `ssh -G` output that do not depend on the name asked about. */
const settings = (text: string) => text.split('\n').filter((l) => !/^(host|hostname) /.test(l)).join('\n');

/** A name that is not in config.yaml: an OpenSSH alias, or a host name, or a typo (see the module comment). */
async function unknownName(home: string, name: string, known: string[], env: NodeJS.ProcessEnv): Promise<RemoteClusterConfig> {
  const unknown = (why: string, cause?: unknown) => new PilotError('CONFIG', `unknown cluster '${name}': ${why}`, {
    hint: `known clusters: ${['local', ...known].join(', ')}. Add it under clusters: in ${join(home, 'config.yaml')}, or as a Host in ~/.ssh/config`,
    cause,
  });
  if (!/^[^-\s/][^\s/]*$/.test(name)) throw unknown(`no cluster named ${name} in config.yaml`);
  // a name no Host block matches is printed back with the same settings as any other such name
  const sentinel = `pilot-no-such-host-${randomBytes(6).toString('hex')}.invalid`;
  let text: string, other: string;
  try {
    [text, other] = await Promise.all([runSshG(name, [], env), runSshG(sentinel, [], env)]);
  } catch (err) {
    if (isNoSshClient(err)) throw unknown(`no cluster named ${name} in config.yaml, and no \`ssh\` client on PATH to look for a Host ${name} in the OpenSSH config`, err);
    throw err;
  }
  let parsed: ParsedHop;
  try {
    parsed = hopFromSshG(name, text, { env });
  } catch (err) {
    throw new PilotError('CONFIG', `cannot use the OpenSSH config of '${name}': ${(err as Error).message}`, { hint: 'fix ProxyJump in your OpenSSH config', cause: err });
  }
  if (settings(text) === settings(other) && parsed.hop.host === name.toLowerCase() && !parsed.proxyJump.length && parsed.proxyCommand === undefined) {
    try {
      await lookup(name);
    } catch (err) {
      throw unknown(`no cluster named ${name} in config.yaml, no Host ${name} in ${env.PILOT_SSH_CONFIG ?? '~/.ssh/config'}, and no host of that name`, err);
    }
  }
  const jumps = await resolveJumpChain(parsed, { env }, [name]);
  return {
    kind: 'slurm', name, transport: 'ssh2', remoteDir: '~/pilot',
    ssh: { jumps, target: parsed.hop },
    openssh: { destination: name, args: sshConfigArgs(env) },
  };
}
