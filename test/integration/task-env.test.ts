// Issue 13 items 1, 2, 7 and issue 11 item 2, on the real cluster and on `local`: each job runs in its own
// working directory (work/, hard links to a read-only bundle), each task writes to its own output folder per
// attempt, pilot fills {index0} {outputDir} {job} itself, download brings back what tasks wrote (not the
// sources), status gives what a combine step needs, and logs points at stderr when stdout is empty.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { quote } from '../../src/util/quote.js';
import { pilot } from '../support/cli.js';
import { BACKENDS, connect, makeHome } from '../support/cluster.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'task-env');
const poll = { minIntervalMs: 300, maxIntervalMs: 1000, timeoutMs: 120_000 };

function srcCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-src-'));
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** Runs a shell command where the job ran (the cluster over SSH, or here). */
async function sh(cluster: string, cmd: string): Promise<string> {
  if (cluster === 'local') {
    const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  }
  const ssh = await connect();
  try {
    const r = await ssh.exec(cmd);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  } finally {
    await ssh.close();
  }
}

const files = (dir: string, sub = ''): string[] => readdirSync(join(dir, sub), { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? files(dir, join(sub, e.name)) : [join(sub, e.name)])).sort();

describe.each(BACKENDS)('the task environment on %s', (cluster) => {
  it('two jobs of the same code write out.txt in their own work/, the bundle stays as shipped, download brings both back', async () => {
    const home = makeHome();
    const src = srcCopy();
    const w = new SlurmWrapper({ home });
    const [a, b] = [`te-a-${cluster}`, `te-b-${cluster}`];
    // the probe tries to write into the shipped file and into the bundle: file modes stop every user but root
    const root = (await sh(cluster, 'id -u')).trim() === '0';
    const ja = await w.scheduleJobs({ jobName: a, cluster, srcDir: src, entrypoint: 'write.sh', args: [['A', ...(root ? [] : ['probe'])]] });
    const jb = await w.scheduleJobs({ jobName: b, cluster, srcDir: src, entrypoint: 'write.sh', args: [['B']] });
    expect(ja.remoteDir).not.toBe(jb.remoteDir);
    for (const n of [a, b]) expect((await w.wait(n, poll)).counts).toEqual({ COMPLETED: 1 });
    const out = (await w.logs(`${a}/1`)).stdout;
    expect(out).toContain(`cwd=${ja.remoteDir}/work work=${ja.remoteDir}/work`);
    await w.close();

    if (!root) expect(out).toContain('shipped=read-only\nbundle=read-only\n');   // a write into the bundle fails loudly
    // the bundle (one: both jobs share it) holds exactly what was shipped, and is read-only
    const bundles = `${ja.remoteDir}/../../bundles`;
    const listing = await sh(cluster, `cd ${quote(bundles)} && for d in */; do cd "$d/src" && find . -type f | sort && cat data.txt && ` +
      `find .. -perm -u+w ! -type l | wc -l; cd ../..; done`);
    expect(listing).toBe('./args.sh\n./data.txt\n./pkg/helper.txt\n./write.sh\nshipped data\n0\n');
    // each job has its own out.txt, with its own content
    expect(await sh(cluster, `cat ${quote(`${ja.remoteDir}/work/out.txt`)} ${quote(`${jb.remoteDir}/work/out.txt`)}`)).toBe('A\nB\n');

    // download: what the tasks wrote (work/ files, outputs/<i>/<attempt>, logs), never the shipped sources
    const dir = mkdtempSync(join(tmpdir(), 'pilot-te-dl-'));
    for (const [n, v] of [[a, 'A'], [b, 'B']] as const) {
      const dl = await pilot(['download', n, '--to', join(dir, n)], home);
      expect(dl.code, dl.stderr).toBe(0);
      const got = files(join(dir, n));
      expect(existsSync(join(dir, n, 'work', 'pkg'))).toBe(false);   // not even the shipped folders
      expect(got.filter((f) => !f.startsWith('logs/'))).toEqual(['outputs/1/1/o.txt', 'work/out.txt', 'work/results/r.txt']);
      expect(got.filter((f) => f.startsWith('logs/')).map((f) => f.replace(/\d+_/, 'N_'))).toEqual(['logs/N_1.err', 'logs/N_1.out']);
      expect(readFileSync(join(dir, n, 'work', 'out.txt'), 'utf8')).toBe(`${v}\n`);
      expect(readFileSync(join(dir, n, 'work', 'results', 'r.txt'), 'utf8')).toBe(`${v}/1\n`);
    }
    // one task, filtered: its output folder only
    const one = await pilot(['download', `${a}/1`, '--to', join(dir, 'one'), '--glob', '*.txt'], home);
    expect(one.code, one.stderr).toBe(0);
    expect(files(join(dir, 'one'))).toEqual(['outputs/1/1/o.txt']);
  });

  it('fills {index0} {outputDir} {job} {index} and {{, warns about $VARS, refuses an unknown placeholder; restart --repack runs in work/', async () => {
    const home = makeHome();
    const src = srcCopy();
    const name = `te-args-${cluster}`;
    const words = ['--seed {index0}', '--out', '{outputDir}/r.json', '{{literal} $SLURM_ARRAY_TASK_ID'];
    const yaml = join(src, 'job.yaml');
    writeFileSync(yaml, JSON.stringify({
      jobName: name, cluster, srcDir: '.', entrypoint: 'args.sh', env: { RUN: '{job}#{index}' },
      args: [words, words, ['fail', ...words]],
    }));
    const bad = join(src, 'bad.yaml');
    writeFileSync(bad, JSON.stringify({ jobName: `${name}-bad`, cluster, srcDir: '.', entrypoint: 'args.sh', args: ['ok', '--x {seed}'] }));
    const refused = await pilot(['launch', bad], home);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/task 2: argument "\{seed\}": unknown placeholder \{seed\}/);
    expect((await pilot(['list', '--json'], home)).stdout).not.toContain(`${name}-bad`);

    const launch = await pilot(['launch', yaml, '--wait'], home);
    expect(launch.code, launch.stderr).toBe(1);   // task 3 fails until the fix ships
    expect(launch.stderr).toMatch(/warning: \$SLURM_ARRAY_TASK_ID in args or env is not expanded.*\n.*write \{index\} instead/);

    const status = JSON.parse((await pilot(['status', name, '--json'], home)).stdout);
    const dir = status.remoteDir as string;
    expect(dir).toMatch(new RegExp(`/jobs/${name}-[0-9a-f]{8}$`));
    for (const i of [1, 2]) {
      const outDir = `${dir}/outputs/${i}/1`;
      expect(status.tasks[i - 1]).toMatchObject({ index: i, state: 'COMPLETED', outputDir: outDir,
        argv: [`--seed ${i - 1}`, '--out', `${outDir}/r.json`, '{literal} $SLURM_ARRAY_TASK_ID'] });
      const logs = await pilot(['logs', `${name}/${i}`], home);
      expect(logs.stdout).toBe(`[--seed ${i - 1}]\n[--out]\n[${outDir}/r.json]\n[{literal} $SLURM_ARRAY_TASK_ID]\nRUN=${name}#${i}\n`);
      expect(await sh(cluster, `cat ${quote(`${outDir}/r.json`)}`)).toBe('{"ok":true}\n');
    }

    // the failed task wrote nothing to stdout: logs says so and shows its stderr; --all shows both, labelled
    const empty = await pilot(['logs', `${name}/3`], home);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toMatch(new RegExp(`^${name}/3 wrote nothing to stdout \\(attempt 1\\).*\\nno fix yet: failing on purpose\\n$`));
    const all = await pilot(['logs', `${name}/3`, '--all'], home);
    expect(all.stdout).toBe(`==> ${name}/3 stdout <==\n(empty)\n==> ${name}/3 stderr <==\nno fix yet: failing on purpose\n\n`);

    // the fix ships with --repack: attempt 2 runs the new sources in the same work/, into its own output folder
    writeFileSync(join(src, 'fixed.txt'), 'yes\n');
    const restart = await pilot(['restart-failed', name, '--repack'], home);
    expect(restart.code, restart.stderr).toBe(0);
    const done = await pilot(['wait', name, '--json'], home);
    expect(done.code, done.stderr).toBe(0);
    const t3 = JSON.parse(done.stdout).tasks[2];
    expect(t3).toMatchObject({ state: 'COMPLETED', attempt: 2, outputDir: `${dir}/outputs/3/2`, argv: ['fail', '--seed 2', '--out', `${dir}/outputs/3/2/r.json`, '{literal} $SLURM_ARRAY_TASK_ID'] });
    expect(await sh(cluster, `cat ${quote(`${dir}/outputs/3/2/r.json`)}; ls ${quote(`${dir}/outputs/3`)}`)).toBe('{"ok":true}\n1\n2\n');
    expect(existsSync(join(src, 'fixed.txt'))).toBe(true);
  });
});
