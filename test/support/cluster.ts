// Helpers for integration tests: the real test cluster's connection facts and a private PILOT_HOME per test.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { directHop } from '../../src/model/cluster.js';
import { connectSsh, type SshTransport } from '../../src/transport/ssh.js';
import type { JobStatus } from '../../src/model/tracking.js';

export interface ClusterFacts {
  host: string;
  port: number;
  user: string;
  key: string;
  knownHosts: string;
  partition: string;
  accounting: boolean;
}

export function cluster(): ClusterFacts {
  const env = inject('cluster');
  return {
    host: env.PILOT_TEST_SSH_HOST!,
    port: Number(env.PILOT_TEST_SSH_PORT),
    user: env.PILOT_TEST_SSH_USER!,
    key: env.PILOT_TEST_SSH_KEY!,
    knownHosts: env.PILOT_TEST_SSH_KNOWN_HOSTS!,
    partition: env.PILOT_TEST_SLURM_PARTITION!,
    accounting: env.PILOT_TEST_SLURM_ACCOUNTING === '1',
  };
}

export function connect(overrides: Partial<{ knownHosts: string }> = {}): Promise<SshTransport> {
  const c = cluster();
  return connectSsh({ jumps: [], target: directHop({ host: c.host, port: c.port, user: c.user, identityFiles: [c.key], knownHostsFiles: [overrides.knownHosts ?? c.knownHosts] }) });
}

/**
 * A fresh PILOT_HOME whose config.yaml names the test cluster `lab`, with its own remoteDir. Under
 * PILOT_TEST_TRANSPORT=openssh (the integration-openssh project) `lab` uses the system ssh client, so the same
 * Slurm tests run over both transports; `extra` naming a transport of its own keeps it.
 */
export function makeHome(extra = ''): string {
  const transport = process.env.PILOT_TEST_TRANSPORT && !/^\s*transport:/m.test(extra) ? `    transport: ${process.env.PILOT_TEST_TRANSPORT}` : '';
  const c = cluster();
  const home = mkdtempSync(join(tmpdir(), 'pilot-home-'));
  const remoteDir = `~/pilot-tests/${home.split('/').pop()}`;
  writeFileSync(join(home, 'config.yaml'), [
    'clusters:',
    '  lab:',
    `    host: ${c.host}`,
    `    port: ${c.port}`,
    `    user: ${c.user}`,
    `    identityFile: ${c.key}`,
    `    knownHosts: ${c.knownHosts}`,
    `    remoteDir: ${remoteDir}`,
    `    partition: ${c.partition}`,
    transport,
    extra,
  ].join('\n'));
  return home;
}

/**
 * The clusters a test written for both backends runs on: `lab` alone under PILOT_TEST_TRANSPORT (the
 * integration-openssh project), since the local backend has no transport and already ran in `integration`.
 */
export const BACKENDS: string[] = process.env.PILOT_TEST_TRANSPORT ? ['lab'] : ['lab', 'local'];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Asks pilot for a job's status every half second until the controller has forgotten its array (MinJobAge:
 * squeue no longer lists it), then once more: what status says while accounting is down. Returns every answer,
 * and whether the controller did forget it within a minute.
 */
export async function statusUntilForgotten(ssh: SshTransport, status: () => Promise<JobStatus>, arrayId: string): Promise<{ seen: JobStatus[]; forgotten: boolean }> {
  const seen: JobStatus[] = [];
  let forgotten = false;
  for (let i = 0; i < 120; i++) {
    seen.push(await status());
    const q = await ssh.exec(`squeue -h -t all -j ${arrayId} 2>/dev/null | wc -l`);
    if (q.stdout.trim() === '0' && i > 0) { forgotten = true; break; }
    await sleep(500);
  }
  seen.push(await status());
  return { seen, forgotten };
}

/**
 * The array ids Slurm holds for job name `name` whose working folder lies under `under`, asked until every id
 * of `known` is among them (a cancelled job leaves squeue after MinJobAge and may reach sacct seconds later;
 * sacct's -s and -E also find an array cancelled before it was eligible, which its time window alone misses).
 */
export async function slurmArraysUnder(ssh: SshTransport, name: string, under: string, known: ReadonlySet<string>): Promise<string[]> {
  let seen: string[] = [];
  for (let i = 0; i < 15 && ![...known].every((id) => seen.includes(id)); i++) {
    if (i) await sleep(1000);
    const r = await ssh.exec(`{ squeue -h -t all -u "$USER" -n ${name} -o '%F|%Z'; sacct -X -n -P -u "$USER" --name=${name} -S now-1hour -E now -s PD,R,CA,CD,F,TO,NF,PR,OOM --format=JobID,WorkDir; } | grep ${under} | sed 's/_.*|/|/' | cut -d'|' -f1 | sort -u`);
    seen = r.stdout.trim().split('\n').filter(Boolean);
  }
  return seen;
}
