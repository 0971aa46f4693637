// Proves the test bed itself from Node: strict host-key SSH, sinfo, a throttled array read back from sacct.
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PilotError } from '../../src/model/errors.js';
import type { SshTransport } from '../../src/transport/ssh.js';
import { cluster, connect, sleep } from '../support/cluster.js';

describe('test bed', () => {
  let ssh: SshTransport;
  beforeAll(async () => { ssh = await connect(); });
  afterAll(async () => { await ssh?.close(); });

  it('connects with strict host-key checking and runs sinfo', async () => {
    const r = await ssh.exec('sinfo -h -o "%P %a %T"');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${cluster().partition}\\* up (idle|mixed|allocated)`));
  });

  it('refuses a host whose key does not match known_hosts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-kh-'));
    const wrong = join(dir, 'known_hosts');
    const c = cluster();
    // a well-formed ed25519 key that is not the server's
    const realLine = readFileSync(c.knownHosts, 'utf8').trim();
    const [host, type, b64] = realLine.split(/\s+/);
    const bytes = Buffer.from(b64!, 'base64');
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(wrong, `${host} ${type} ${bytes.toString('base64')}\n`);
    const err = await connect({ knownHosts: wrong }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).code).toBe('HOST_KEY');
    expect((err as PilotError).message).toMatch(/does NOT match/);
  });

  it('refuses a host missing from known_hosts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-kh-'));
    const empty = join(dir, 'known_hosts');
    writeFileSync(empty, '# nothing\n');
    const err = await connect({ knownHosts: empty }).then(() => null, (e: unknown) => e);
    expect((err as PilotError).code).toBe('HOST_KEY');
    expect((err as PilotError).message).toMatch(/is not a known host \(its ssh-ed25519 key is SHA256:/);
  });

  it('runs a 10-task array with %3 and reads per-task states from sacct', async () => {
    const dir = `bedtest/${Date.now()}-${process.pid}`;
    const script = [
      '#!/bin/bash',
      '#SBATCH --array=1-10%3',
      '#SBATCH --output=logs/%A_%a.out',
      '#SBATCH --time=00:02:00',
      'sleep 1',
      '[ "$SLURM_ARRAY_TASK_ID" != 6 ]',
    ].join('\n');
    const sub = await ssh.exec(`mkdir -p ${dir}/logs && cd ${dir} && cat > a.sh && sbatch --parsable a.sh`, { stdin: script });
    expect(sub.code, sub.stderr).toBe(0);
    const jobId = sub.stdout.trim().split(';')[0]!;
    expect(jobId).toMatch(/^\d+$/);
    let maxRunning = 0;
    let rows: string[] = [];
    for (let i = 0; i < 120; i++) {
      const r = await ssh.exec(`squeue -h -r -j ${jobId} -o '%i|%T' 2>/dev/null; echo ---; sacct -X -j ${jobId} --format=JobID,State,ExitCode -P -n`);
      const [q, acct] = r.stdout.split('---\n');
      maxRunning = Math.max(maxRunning, q!.split('\n').filter((l) => l.endsWith('|RUNNING')).length);
      rows = acct!.trim().split('\n').filter((l) => /^\d+_\d+\|(COMPLETED|FAILED)\|/.test(l));
      if (rows.length === 10) break;
      await sleep(500);
    }
    expect(rows).toHaveLength(10);
    expect(rows).toContain(`${jobId}_6|FAILED|1:0`);
    expect(rows.filter((l) => l.includes('|COMPLETED|0:0'))).toHaveLength(9);
    expect(maxRunning).toBeLessThanOrEqual(3);
    expect(maxRunning).toBeGreaterThanOrEqual(1);
  });
});
