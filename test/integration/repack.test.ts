// Fix and rerun, through the CLI, on the real cluster and on the local one: a task fails on a bug; the code is
// fixed; restart-failed warns that the sources changed (and reruns the old code, as it should for transient
// failures); restart-failed --repack ships the fix: the restarted task's log shows the new code, the first
// attempt's log still shows the old one, and each attempt records the bundle it ran.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pilot } from '../support/cli.js';
import { BACKENDS, makeHome } from '../support/cluster.js';

const code = (version: string, buggy: boolean) => [
  '#!/bin/bash',
  `echo "code=${version} task=$PILOT_TASK_INDEX attempt=$PILOT_ATTEMPT args=$*"`,
  ...(buggy ? ['if [ "$PILOT_TASK_INDEX" = 2 ]; then echo "bug in v1" >&2; exit 3; fi'] : []),
].join('\n') + '\n';

describe.each(BACKENDS)('restart-failed after fixing the code on %s', (cluster) => {
  it('warns that the sources changed, reruns the old code by default, and --repack runs the new code', async () => {
    const home = makeHome();
    const dir = mkdtempSync(join(tmpdir(), 'pilot-proj-'));
    const name = `fix-${cluster}-${randomBytes(3).toString('hex')}`;
    writeFileSync(join(dir, 'train.sh'), code('v1', true));
    writeFileSync(join(dir, 'job.yaml'), `jobName: ${name}\ncluster: ${cluster}\nentrypoint: train.sh\nargs: ["a", "b c", "d"]\n`);
    const wait = async (counts: Record<string, number>) => {
      const r = await pilot(['wait', name, '--timeout', '120', '--json'], home);
      expect(r.code, r.stderr).toBe(counts.FAILED ? 1 : 0);   // wait exits 1 when a task failed (README: exit codes)
      expect(JSON.parse(r.stdout).counts).toEqual(counts);
    };
    const log = async (attempt?: number) => (await pilot(['logs', `${name}/2`, ...(attempt ? ['--attempt', String(attempt)] : [])], home)).stdout;

    expect((await pilot(['launch', join(dir, 'job.yaml')], home)).code).toBe(0);
    await wait({ COMPLETED: 2, FAILED: 1 });

    // the fix
    writeFileSync(join(dir, 'train.sh'), code('v2', false));
    const dry = await pilot(['restart-failed', name, '--dry-run'], home);
    expect(dry.stdout).toBe(`${name}: would resubmit 1 task(s) as attempt 2: 2\n`);
    const warning = `warning: the sources of '${name}' changed since its bundle was packed (1 file: train.sh); the restarted tasks run the code they ran before\n` +
      '  to run the new code, restart with --repack';
    expect(dry.stderr).toContain(warning);

    // without --repack: the same code (what a transient failure wants), said loudly
    const same = await pilot(['restart-failed', name], home);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).toContain(warning);
    await wait({ COMPLETED: 2, FAILED: 1 });
    expect(await log(2)).toBe('code=v1 task=2 attempt=2 args=b c\n');

    // --repack: the new bundle is shipped for the restarted task
    const fixed = await pilot(['restart-failed', name, '--repack', '--json'], home);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stderr).toBe('');
    const r = JSON.parse(fixed.stdout);
    expect(r).toMatchObject({ attempt: 3, indices: [2], sourcesChanged: true, changedFiles: ['train.sh'], bundle: { repacked: true } });
    expect(r.bundle.uploadedBytes).toBeGreaterThan(0);
    await wait({ COMPLETED: 3 });
    expect(await log()).toBe('code=v2 task=2 attempt=3 args=b c\n');
    expect(await log(1)).toBe('code=v1 task=2 attempt=1 args=b c\n');

    const record = JSON.parse(readFileSync(join(home, 'jobs', name, 'job.json'), 'utf8'));
    const [first, second, third] = record.attempts.map((a: { bundle: string }) => a.bundle);
    expect(second).toBe(first);
    expect(third).toBe(r.bundle.sha256);
    expect(third).not.toBe(first);
    // nothing changed since: a further restart has nothing to say about the sources
    const quiet = await pilot(['restart-failed', name, '--states', 'COMPLETED', '--dry-run'], home);
    expect(quiet.stderr).toBe('');
  });
});
