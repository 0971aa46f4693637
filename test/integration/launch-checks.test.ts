// Checks before anything is queued, as a new user meets them through the CLI, on the real cluster and on the
// local one: a missing entrypoint and a missing interpreter are refused with exit 2, nothing reaches the
// scheduler and the name stays free; large files are a warning; the launch line shows the bundle.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pilot } from '../support/cli.js';
import { BACKENDS, connect, makeHome } from '../support/cluster.js';

/** A project folder with `files` and a job.yaml of `fields`; a job name of its own (Slurm job names are shared). */
function project(cluster: string, fields: Record<string, string>, files: Record<string, string | Buffer> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-proj-'));
  const name = `${fields.jobName}-${randomBytes(3).toString('hex')}`;
  for (const [f, data] of Object.entries({ 'run.sh': 'echo "ran $*"\n', ...files })) writeFileSync(join(dir, f), data, { mode: 0o755 });
  const yaml = Object.entries({ cluster, srcDir: '.', entrypoint: 'run.sh', ...fields, jobName: name }).map(([k, v]) => `${k}: ${v}`);
  writeFileSync(join(dir, 'job.yaml'), [...yaml, 'args: ["1", "2"]'].join('\n') + '\n');
  return { yaml: join(dir, 'job.yaml'), name };
}

describe.each(BACKENDS)('checks before anything is queued on %s', (cluster) => {
  const isLocal = cluster === 'local';

  /** What the cluster holds for this home (job folders and bundles), and whether Slurm knows the job name. */
  async function onCluster(home: string, name: string): Promise<string[]> {
    if (isLocal) {
      return ['jobs', 'bundles'].flatMap((d) => (existsSync(join(home, 'local', d)) ? readdirSync(join(home, 'local', d)) : []));
    }
    const root = `pilot-tests/${home.split('/').pop()}`;
    const ssh = await connect();
    const r = await ssh.exec(`ls -A ${root}/jobs ${root}/bundles 2>/dev/null | grep -v ':$' | grep .; squeue -h -t all -n ${name} -o %i`);
    await ssh.close();
    return r.stdout.split('\n').filter(Boolean);
  }

  it('refuses a missing entrypoint (exit 2, naming it), submits nothing, and the name stays free', async () => {
    const home = makeHome();
    const { yaml, name } = project(cluster, { jobName: 'typo', entrypoint: 'rnu.sh' });
    const r = await pilot(['launch', yaml], home);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: entrypoint rnu\.sh does not exist in srcDir /m);
    expect(r.stderr).toMatch(/^hint: .*nothing was submitted/m);
    expect(await onCluster(home, name)).toEqual([]);
    expect((await pilot(['status', name], home)).code).toBe(2);   // unknown: the name was given back
    // one that is there but left out of the bundle is refused with that cause
    const ignored = project(cluster, { jobName: 'ignored' }, { '.gitignore': 'run.sh\n' });
    const e = await pilot(['launch', ignored.yaml], home);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/entrypoint run\.sh exists in .* but is left out of the bundle/);
  });

  it('refuses an interpreter the cluster does not have: exit 2, nothing submitted, the name free', async () => {
    const home = makeHome();
    const { yaml, name } = project(cluster, { jobName: 'nopy', interpreter: 'no-such-python' });
    const r = await pilot(['launch', yaml], home);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`error: interpreter no-such-python is not found on ${isLocal ? 'this machine' : 'lab'}: nothing was submitted`);
    expect(await onCluster(home, name)).toEqual([]);
    // the name is free: the same job with an interpreter that exists launches under it
    const ok = await pilot(['launch', project(cluster, { jobName: 'bash', interpreter: 'bash' }).yaml, '--name', name, '--wait', '--json'], home);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name, counts: { COMPLETED: 2 } });
  });

  it('warns of a large file on stderr, and the launch line shows the bundle size and file count', async () => {
    const home = makeHome();
    const { yaml, name } = project(cluster, { jobName: 'big', largeFileMB: '1' }, { 'weights.bin': Buffer.alloc(3 * 1024 * 1024) });
    const r = await pilot(['launch', yaml], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${name}\n`);
    expect(r.stderr).toMatch(/^warning: the bundle holds 1 file over 1 MB: weights\.bin \(3\.0 MB\)\n {2}.*largeFileMB/m);
    expect(r.stderr).toMatch(new RegExp(`^ {2}2 tasks on ${cluster} as job \\d+ \\(bundle [0-9a-f]{12}: \\d+\\.\\d kB, 3 files; ${isLocal ? 'unpacked' : 'uploaded'}\\)$`, 'm'));
  });

  it('a dry run shows the checks it could make without connecting', async () => {
    const home = makeHome();
    const { yaml } = project(cluster, { jobName: 'dry' });
    const r = await pilot(['launch', yaml, '--dry-run'], home);
    expect(r.code, r.stderr).toBe(0);
    const checks = r.stdout.slice(r.stdout.indexOf('# ---- checks\n'));
    expect(checks).toContain('entrypoint run.sh: in the bundle\nno file over 50 MB\n');
    expect(checks).toMatch(isLocal ? /interpreter bash: \/\S+ on this machine\n$/ : /interpreter bash: not checked, it needs the cluster .*\n$/);
  });
});
