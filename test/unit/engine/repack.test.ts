// restart-failed after fixing the code, over the fake transport: the sources are packed again and compared;
// changed sources give a warning naming the files and `--repack`, and by default the tasks rerun the old
// bundle; repack ships the new one (probe, upload if missing, submit) and every attempt records its bundle.
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeLab, fixture } from '../../support/fake-cluster.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'echo-argv');

/** A job whose tasks 3 and 5 failed in attempt 1 (array 14) and again in attempt 2 (array 142), as recorded. */
async function failedJob(jobName: string) {
  const src = mkdtempSync(join(tmpdir(), 'pilot-src-'));
  cpSync(FIXTURE, src, { recursive: true });
  const { cluster, pilot } = fakeLab({ jobIds: ['14', '142', '90'], status: [fixture('status-accounting-3ids')] });
  const warnings: string[] = [];
  pilot.on('warning', (w) => warnings.push(`${w.message} | ${w.hint}`));
  const launched = await pilot.scheduleJobs({ jobName, cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: ['1', '2', '3', '4', '5', '6'] });
  const sent = () => cluster.commands.filter((c) => c.includes('sbatch --parsable') || c.includes('bundle=present'))
    .map((c) => (c.includes('sbatch') ? `submit ${/job\.sh (\d+ \d+ \w+)/.exec(c)![1]}` : 'probe'));
  return { src, cluster, pilot, warnings, sha: launched.bundle.sha256, sent };
}

describe('restart-failed and changed sources', () => {
  it('without a change: reruns the same bundle in one command, and says the sources did not change', async () => {
    const { pilot, warnings, sha, sent } = await failedJob('same');
    const r = await pilot.restartFailed('same', { repack: true });
    expect(r).toMatchObject({ indices: [3, 5], sourcesChanged: false, changedFiles: undefined, bundle: { sha256: sha, repacked: false, uploadedBytes: 0 } });
    expect(sent()).toEqual(['probe', 'submit 0 1 ' + sha, 'submit 0 2 ' + sha]);
    expect(warnings).toEqual([]);
  });

  it('after a fix: warns naming the file and --repack and reruns the old code; --repack ships and records the new bundle', async () => {
    const { src, cluster, pilot, warnings, sha, sent } = await failedJob('fix');
    appendFileSync(join(src, 'echo.sh'), 'echo fixed\n');

    const dry = await pilot.restartFailed('fix', { dryRun: true });
    expect(dry).toMatchObject({ attempt: 2, indices: [3, 5], slurmJobIds: [], sourcesChanged: true, changedFiles: ['echo.sh'] });
    expect(warnings).toEqual([expect.stringMatching(/^the sources of 'fix' changed since its bundle was packed \(1 file: echo\.sh\); the restarted tasks run the code they ran before \| .*--repack/)]);

    // the default stays "same code": no probe, no upload, the launch's bundle
    const again = await pilot.restartFailed('fix');
    expect(again).toMatchObject({ attempt: 2, sourcesChanged: true, bundle: { sha256: sha, repacked: false } });
    expect(warnings).toHaveLength(2);

    const fixed = await pilot.restartFailed('fix', { repack: true });
    expect(warnings).toHaveLength(2);
    const next = fixed.bundle!.sha256;
    expect(next).not.toBe(sha);
    expect(fixed).toMatchObject({ attempt: 3, indices: [3, 5], slurmJobIds: ['90'], sourcesChanged: true, bundle: { repacked: true } });
    expect(fixed.bundle!.uploadedBytes).toBeGreaterThan(0);
    expect(sent()).toEqual(['probe', `submit 0 1 ${sha}`, `submit 0 2 ${sha}`, 'probe', `submit 0 3 ${next}`]);
    expect(cluster.uploads.map((u) => u.includes(`/bundles/${next}.`))).toEqual([false, true]);
    expect(cluster.commands.at(-1)).toContain('tar -xzf');   // the uploaded bundle is unpacked by the submit command

    const record = await pilot.store.read('fix');
    expect(record.attempts.map((a) => a.bundle)).toEqual([sha, sha, next]);
    expect(record.bundle.sha256).toBe(sha);
  });

  it('refuses --repack for a job whose script cannot switch bundles, before anything is sent', async () => {
    const { src, pilot, sent } = await failedJob('legacy');
    await pilot.store.update('legacy', ({ bundlePerAttempt: _gone, ...r }) => r);
    appendFileSync(join(src, 'echo.sh'), 'echo fixed\n');
    await expect(pilot.restartFailed('legacy', { repack: true })).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/cannot run a new bundle/) });
    expect(sent()).toHaveLength(2);
  });

  it('when the sources are gone: a warning, and the restart still reruns the old code (repack cannot)', async () => {
    const { src, pilot, warnings, sha } = await failedJob('moved');
    rmSync(src, { recursive: true });
    await expect(pilot.restartFailed('moved', { repack: true })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    const r = await pilot.restartFailed('moved');
    expect(r).toMatchObject({ attempt: 2, sourcesChanged: undefined, bundle: { sha256: sha, repacked: false } });
    expect(warnings).toEqual([expect.stringMatching(/^cannot tell whether the sources of 'moved' changed: .*does not exist/)]);
  });
});
