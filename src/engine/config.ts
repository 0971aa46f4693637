/**
 * Cluster definitions from `$PILOT_HOME/config.yaml`:
 *
 *   clusters:
 *     lab: { host: 127.0.0.1, port: 2222, user: pilot, identityFile: ~/.ssh/id_ed25519,
 *            knownHosts: ~/.ssh/known_hosts, remoteDir: ~/pilot, partition: debug, account: null, proxyJump: null }
 *
 * `local` is built in and needs no entry.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PilotError } from '../model/errors.js';
import { expandPath } from '../util/paths.js';
import { formatZodError } from './zod-error.js';
import { directHop, type ClusterConfig, type RemoteClusterConfig } from '../model/cluster.js';
import { dialectFor } from '../scheduler/index.js';
import type { z as Z } from 'zod';

export type { ClusterConfig, LocalClusterConfig, RemoteClusterConfig } from '../model/cluster.js';

export async function loadConfigFile(home: string): Promise<Record<string, RemoteClusterConfig>> {
  const file = join(home, 'config.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new PilotError('CONFIG', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const [{ parse }, { z }] = await Promise.all([import('yaml'), import('zod')]);
  let doc: unknown;
  try {
    doc = parse(text) ?? {};
  } catch (err) {
    throw new PilotError('CONFIG', `${file} is not valid YAML: ${(err as Error).message}`, { hint: 'fix the YAML syntax at the line shown', cause: err });
  }
  // YAML `null` and a missing key mean the same: not set
  const nullable = (t: Z.ZodString) => t.nullish().transform((v: string | null | undefined) => v ?? undefined);
  const cluster = z.object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().min(1).default(() => process.env.USER ?? 'root'),
    identityFile: nullable(z.string()),
    knownHosts: z.string().default('~/.ssh/known_hosts'),
    remoteDir: z.string().default('~/pilot'),
    partition: nullable(z.string()),
    account: nullable(z.string()),
    proxyJump: nullable(z.string()),
    maxArraySize: z.number().int().min(2).optional(),
    transport: z.enum(['ssh2', 'openssh']).default('ssh2'),
  }).strict();
  const schema = z.object({ clusters: z.record(z.string(), cluster).default({}) }).passthrough();
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    throw new PilotError('CONFIG', `${file} is invalid: ${formatZodError(parsed.error)}`, {
      hint: 'each cluster needs at least `host`; allowed keys: host, port, user, identityFile, knownHosts, remoteDir, partition, account, proxyJump, maxArraySize, transport',
    });
  }
  const out: Record<string, RemoteClusterConfig> = {};
  for (const [name, c] of Object.entries(parsed.data.clusters)) {
    if (name === 'local') throw new PilotError('CONFIG', `${file}: the cluster name 'local' is reserved for the built-in local backend`, { hint: 'rename that cluster' });
    // partition and account become script directives: the dialect refuses what could end their line
    dialectFor('slurm').checkDefaults({ partition: c.partition, account: c.account }, `${file}: clusters.${name}`);
    const identityFiles = c.identityFile ? [expandPath(c.identityFile, homedir())] : [];
    const knownHostsFiles = [expandPath(c.knownHosts, homedir())];
    const target = directHop({ alias: name, host: c.host, port: c.port, user: c.user, identityFiles, knownHostsFiles });
    out[name] = {
      kind: 'slurm',
      name,
      transport: c.transport,
      ssh: { jumps: [], target },
      openssh: {
        destination: `${c.user}@${c.host}`,
        args: ['-p', String(c.port), ...identityFiles.flatMap((f) => ['-i', f]), ...(identityFiles.length ? ['-o', 'IdentitiesOnly=yes'] : []),
          '-o', `UserKnownHostsFile=${knownHostsFiles.map((f) => `"${f}"`).join(' ')}`, '-o', 'StrictHostKeyChecking=yes'],
      },
      remoteDir: c.remoteDir,
      partition: c.partition,
      account: c.account,
      maxArraySize: c.maxArraySize,
    };
    if (c.proxyJump) {
      throw new PilotError('CONFIG', `cluster '${name}': proxyJump is not supported yet`, { hint: 'remove proxyJump, or use a tunnel (ssh -L) and point host/port at it' });
    }
  }
  return out;
}

export async function resolveCluster(home: string, name: string): Promise<ClusterConfig> {
  if (name === 'local') return { kind: 'local', name: 'local' };
  const clusters = await loadConfigFile(home);
  const found = clusters[name];
  if (!found) {
    const known = ['local', ...Object.keys(clusters)].join(', ');
    throw new PilotError('CONFIG', `unknown cluster '${name}'`, {
      hint: `known clusters: ${known}. Add it under clusters: in ${join(home, 'config.yaml')}`,
    });
  }
  return found;
}
