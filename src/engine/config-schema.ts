/**
 * Reading and checking `$PILOT_HOME/config.yaml` (no SSH here: resolving a cluster is config.ts's job).
 *
 *   clusters:
 *     lab:   { host: login.example.org, port: 22, user: alice, identityFile: ~/.ssh/id_ed25519,
 *              knownHosts: ~/.ssh/known_hosts, proxyJump: bastion.example.org, strictHostKeyChecking: yes,
 *              remoteDir: ~/pilot, partition: debug, account: null, transport: ssh2 }
 *     hpc:   { sshAlias: hpc-login, remoteDir: /scratch/me/pilot }   # the rest from ~/.ssh/config
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostKeyPolicy, TransportKind } from '../model/cluster.js';
import { PilotError } from '../model/errors.js';
import { dialectFor } from '../scheduler/index.js';
import { formatZodError } from './zod-error.js';
import { makeDirs, writeJsonAtomic } from '../util/files.js';
import { packageVersion } from '../util/version.js';

/** One cluster of config.yaml as written (checked, nothing resolved, `null` read as unset). */
export interface ClusterEntry {
  /** An OpenSSH host alias to resolve with `ssh -G`; the fields below set in the entry override it. */
  sshAlias?: string;
  host?: string;
  port?: number;
  user?: string;
  identityFiles?: string[];
  knownHosts?: string[];
  proxyJump?: string;
  strictHostKeyChecking?: HostKeyPolicy;
  remoteDir: string;
  partition?: string;
  account?: string;
  maxArraySize?: number;
  transport: TransportKind;
}

export const CLUSTER_KEYS = ['sshAlias', 'host', 'port', 'user', 'identityFile', 'knownHosts', 'proxyJump', 'strictHostKeyChecking',
  'remoteDir', 'partition', 'account', 'maxArraySize', 'transport'] as const;

/**
 * config.yaml as last parsed, per file, with the stat it had: an SDK that launches many jobs reads and checks
 * it once (parsing and building the schema cost more than the rest of a launch on an open connection), and
 * an edited file (another size, mtime or inode) is read again.
 */
const parsedConfigs = new Map<string, { stamp: string; clusters: Record<string, ClusterEntry> }>();

/** The clusters of `<home>/config.yaml` ({} when there is no such file). Errors name the file and the key. */
export async function loadConfigFile(home: string): Promise<Record<string, ClusterEntry>> {
  const file = join(home, 'config.yaml');
  let text: string;
  let stamp: string;
  try {
    const s = await stat(file);
    stamp = `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    const known = parsedConfigs.get(file) ?? await readCheckedCopy(home, stamp);
    if (known?.stamp === stamp) {
      parsedConfigs.set(file, known);
      return structuredClone(known.clusters);
    }
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new PilotError('CONFIG', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text) ?? {};
  } catch (err) {
    throw new PilotError('CONFIG', `${file} is not valid YAML: ${(err as Error).message}`, { hint: 'fix the YAML syntax at the line shown', cause: err });
  }
  const schema = (await import('./config-zod.js')).configSchema();
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    throw new PilotError('CONFIG', `${file} is invalid: ${formatZodError(parsed.error)}`, {
      hint: `each cluster needs \`host\` (or \`sshAlias\`, a Host of ~/.ssh/config); allowed keys: ${CLUSTER_KEYS.join(', ')}`,
    });
  }
  const out: Record<string, ClusterEntry> = {};
  for (const [name, c] of Object.entries(parsed.data.clusters)) {
    if (name === 'local') throw new PilotError('CONFIG', `${file}: the cluster name 'local' is reserved for the built-in local backend`, { hint: 'rename that cluster' });
    // partition and account become script directives: the dialect refuses what could end their line
    dialectFor('slurm').checkDefaults({ partition: c.partition, account: c.account }, `${file}: clusters.${name}`);
    const { identityFile, ...rest } = c;
    out[name] = Object.fromEntries(Object.entries({ ...rest, identityFiles: identityFile }).filter(([, v]) => v !== undefined)) as unknown as ClusterEntry;
  }
  parsedConfigs.set(file, { stamp, clusters: structuredClone(out) });
  // a cache: best effort (a home whose cache folder cannot be written reads config.yaml every time)
  await makeDirs(join(home, 'cache')).then(() => writeJsonAtomic(checkedCopyFile(home), { checks: checks(), stamp, clusters: out })).catch(() => undefined);
  return out;
}

/**
 * The clusters as last checked, kept beside the bundle cache with the stat of the config.yaml they came from:
 * a CLI command (a new process each time) then needs neither the YAML parser nor the schema, about 40 ms of
 * every `pilot status`. Any change to the file (inode, size, mtime, ctime), to the checks (CONFIG_CHECKS) or to the
 * pilot version reading it, and the file is read and checked again.
 */
const checkedCopyFile = (home: string) => join(home, 'cache', 'config.checked.json');
/** Bump when the checks of config.yaml change within a version (a copy checked by the old ones is not trusted). */
const CONFIG_CHECKS = 1;
const checks = () => `${CONFIG_CHECKS}/${packageVersion()}`;

async function readCheckedCopy(home: string, stamp: string): Promise<{ stamp: string; clusters: Record<string, ClusterEntry> } | undefined> {
  try {
    const copy = JSON.parse(await readFile(checkedCopyFile(home), 'utf8')) as { checks?: unknown; stamp?: unknown; clusters?: unknown };
    if (copy.checks !== checks() || copy.stamp !== stamp || typeof copy.clusters !== 'object' || copy.clusters === null) return undefined;
    return { stamp, clusters: copy.clusters as Record<string, ClusterEntry> };
  } catch {
    return undefined;   // none yet, or unreadable: config.yaml is read as usual
  }
}
