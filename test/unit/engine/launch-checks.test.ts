// Checks before anything is queued, over the fake transport: a missing or excluded entrypoint never connects;
// a missing interpreter stops at the probe (one command, no upload, the name free); warnings reach `warning`
// listeners (nothing below the CLI prints); a dry run shows what it could check without connecting.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PilotError, type JobInfo } from '../../../src/index.js';
import { fakeLab } from '../../support/fake-cluster.js';

const SRC = join(import.meta.dirname, '..', '..', 'fixtures', 'echo-argv');

function srcWith(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-src-'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data, { mode: 0o755 });
  return dir;
}

function lab() {
  const { cluster, pilot } = fakeLab();
  const warnings: string[] = [];
  pilot.on('warning', (w) => warnings.push(`${w.message} | ${w.hint}`));
  const launch = (jobName: string, extra: Partial<JobInfo> = {}) => pilot.scheduleJobs({ jobName, cluster: 'lab', srcDir: SRC, entrypoint: 'echo.sh', args: ['1', '2'], ...extra });
  const refused = async (jobName: string, extra: Partial<JobInfo>) => {
    const err = await launch(jobName, extra).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PilotError);
    expect((err as PilotError).exitCode).toBe(2);
    // nothing recorded: the name is free again
    await expect(pilot.store.read(jobName)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    return err as PilotError;
  };
  return { cluster, pilot, warnings, launch, refused };
}

describe('the entrypoint must be in the bundle', () => {
  it('a missing one is refused before connecting, named, and the name stays free', async () => {
    const { cluster, launch, refused } = lab();
    const e = await refused('typo', { entrypoint: 'ehco.sh' });
    expect(e.message).toBe(`entrypoint ehco.sh does not exist in srcDir ${SRC}`);
    expect(cluster.commands).toEqual([]);
    expect(cluster.uploads).toEqual([]);
    expect((await launch('typo')).name).toBe('typo');
  });

  it('one that is on disk but left out by .gitignore or exclude is refused with that cause', async () => {
    const { cluster, refused } = lab();
    const ignored = srcWith({ 'run.sh': 'echo hi\n', '.gitignore': 'run.sh\n' });
    expect((await refused('ignored', { srcDir: ignored, entrypoint: 'run.sh' })).message).toBe(`entrypoint run.sh exists in ${ignored} but is left out of the bundle`);
    expect((await refused('excluded', { exclude: ['*.sh'] })).hint).toMatch(/exclude: \['!echo.sh'\]/);
    expect(cluster.commands).toEqual([]);
  });
});

describe('the interpreter must be on the cluster', () => {
  it('is looked up in the probe; a missing one stops there: no upload, no submit, the name free', async () => {
    const { cluster, launch, refused } = lab();
    const e = await refused('nopy', { interpreter: 'no-such-python' });
    expect(e.message).toBe('interpreter no-such-python is not found on lab: nothing was submitted');
    expect(cluster.commands).toHaveLength(1);
    expect(cluster.commands[0]).toContain('command -v no-such-python');
    expect(cluster.uploads).toEqual([]);
    // fixed, the same name launches, still with one probe and one submit
    await launch('nopy', { interpreter: 'bash' });
    expect(cluster.commands.slice(1).map((c) => (c.includes('command -v bash') ? 'probe' : c.includes('sbatch') ? 'submit' : c))).toEqual(['probe', 'submit']);
  });

  it('is only a warning when setup lines may provide it', async () => {
    const { warnings, launch } = lab();
    const r = await launch('modules', { interpreter: 'no-such-python', setup: 'module load python' });
    expect(r.slurmJobIds).toEqual(['14']);
    expect(warnings).toEqual([expect.stringMatching(/^interpreter no-such-python is not found on lab \(before the job's setup lines run\) \| /)]);
  });
});

describe('large files and the bundle on the launch line', () => {
  it('names files over largeFileMB in a warning, and the result carries the bundle size and file count', async () => {
    const { warnings, launch } = lab();
    const src = srcWith({ 'echo.sh': 'echo hi\n', 'data.bin': Buffer.alloc(2 * 1024 * 1024), 'notes.txt': 'x' });
    const r = await launch('big', { srcDir: src, largeFileMB: 1 });
    expect(warnings).toEqual([expect.stringMatching(/^the bundle holds 1 file over 1 MB: data\.bin \(2\.0 MB\) \| .*exclude:.*largeFileMB/)]);
    expect(r.bundle).toMatchObject({ files: 3, uploadedBytes: r.bundle.bytes });
    await launch('big-default', { srcDir: src });
    await launch('big-off', { srcDir: src, largeFileMB: 0 });
    expect(warnings).toHaveLength(1);
  });
});

describe('a dry run shows the checks', () => {
  it('checks what it can without connecting, and says the interpreter needs the cluster', async () => {
    const { cluster, pilot } = lab();
    const d = await pilot.dryRun({ jobName: 'dry', cluster: 'lab', srcDir: SRC, entrypoint: 'echo.sh' });
    expect(d.checks).toEqual([
      'entrypoint echo.sh: in the bundle',
      'no file over 50 MB',
      'interpreter bash: not checked, it needs the cluster (the launch looks it up on lab before submitting)',
    ]);
    expect(d.sbatchCommand).toMatch(new RegExp(`job\\.sh 0 1 ${d.bundle.sha256}$`));
    await expect(pilot.dryRun({ jobName: 'dry', cluster: 'lab', srcDir: SRC, entrypoint: 'nope.sh' })).rejects.toThrow(/entrypoint nope.sh does not exist/);
    expect(cluster.commands).toEqual([]);
  });

  it('on the local cluster, looks the interpreter up on this machine', async () => {
    const { pilot } = lab();
    const d = await pilot.dryRun({ jobName: 'dry-local', cluster: 'local', srcDir: SRC, entrypoint: 'echo.sh' });
    expect(d.checks.at(-1)).toMatch(/^interpreter bash: \/.*bash on this machine$/);
    await expect(pilot.dryRun({ jobName: 'dry-local', cluster: 'local', srcDir: SRC, entrypoint: 'echo.sh', interpreter: 'no-such-python' }))
      .rejects.toThrow('interpreter no-such-python is not found on this machine: nothing was submitted');
  });
});
