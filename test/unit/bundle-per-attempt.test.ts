// An attempt runs its own bundle: the script takes it as its third argument (what restart-failed --repack
// relies on), and packing leaves a manifest that names the files differing between two bundles.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedPaths, readManifest } from '../../src/bundle/manifest.js';
import { packBundle } from '../../src/bundle/pack.js';
import { normalizeJobInfo } from '../../src/engine/job-spec.js';
import { encodeArgsFile } from '../../src/model/args.js';
import { commandWords, renderScript, takesBundleArg } from '../../src/scheduler/render.js';
import { slurmDialect } from '../../src/scheduler/slurm/index.js';
import { makeWorkDir } from '../../src/scheduler/local/workdir.js';

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

describe('the array script runs the bundle of its attempt', () => {
  it('runs the bundle named by its third argument, the launch bundle without one, and refuses a bad name', async () => {
    const root = tmp('pilot-layout-');
    const [A, B] = ['a'.repeat(64), 'b'.repeat(64)];
    for (const [sha, code] of [[A, 'old'], [B, 'new']] as const) {
      mkdirSync(join(root, 'bundles', sha, 'src'), { recursive: true });
      writeFileSync(join(root, 'bundles', sha, 'src', 'who.sh'), `echo "code=${code} bundle=$PILOT_BUNDLE_SHA argv=$*"\n`);
    }
    const jobDir = join(root, 'jobs', 'j-1');
    mkdirSync(jobDir, { recursive: true });
    const info = normalizeJobInfo({ jobName: 'j', srcDir: root, entrypoint: 'who.sh', args: [['a b', '$x']] }, root);
    const script = await renderScript({ version: '0', jobName: 'j', bundleSha: A, sbatchLines: [], env: {}, setup: [], command: commandWords(info), arrayBase: 1, libraryDirs: [] }, slurmDialect.template);
    writeFileSync(join(jobDir, 'job.sh'), script);
    writeFileSync(join(jobDir, 'args.b64'), encodeArgsFile(info.argv));
    const run = (...args: string[]) => spawnSync('bash', ['job.sh', ...args], { cwd: jobDir, encoding: 'utf8', env: { ...process.env, SLURM_ARRAY_TASK_ID: '1', PILOT_JOB_DIR: jobDir } });

    // tasks run in the job's work/, which the submit command fills with the attempt's bundle (--repack: again)
    await makeWorkDir(jobDir, join(root, 'bundles', A));
    expect(run('0', '1').stdout).toBe(`code=old bundle=${A} argv=a b $x\n`);
    await makeWorkDir(jobDir, join(root, 'bundles', B));
    expect(run('0', '2', B).stdout).toBe(`code=new bundle=${B} argv=a b $x\n`);
    const bad = run('0', '2', '../../etc');
    expect(bad.status).toBe(97);
    expect(bad.stderr).toMatch(/bad bundle id/);
    expect(takesBundleArg(script)).toBe(true);
    expect(takesBundleArg('#!/bin/bash\nexec ./mine\n')).toBe(false);
  });
});

describe('bundle manifests', () => {
  it('name the files changed, added and removed between two packs, and nothing for the same tree', async () => {
    const src = tmp('pilot-src-');
    const out = tmp('pilot-out-');
    mkdirSync(join(src, 'sub'));
    for (const f of ['a.py', 'b.py', 'sub/c.sh', 'same.py']) writeFileSync(join(src, f), `${f}\n`);
    const one = await packBundle({ srcDir: src, outDir: out });
    expect(await packBundle({ srcDir: src, outDir: out })).toMatchObject({ sha256: one.sha256 });

    writeFileSync(join(src, 'a.py'), 'fixed\n');
    rmSync(join(src, 'b.py'));
    writeFileSync(join(src, 'd.py'), 'new\n');
    chmodSync(join(src, 'sub', 'c.sh'), 0o755);   // the exec bit ships, so it counts
    const two = await packBundle({ srcDir: src, outDir: out });
    expect(two.sha256).not.toBe(one.sha256);
    const [before, after] = [await readManifest(out, one.sha256), await readManifest(out, two.sha256)];
    expect(changedPaths(before!, after!)).toEqual(['src/a.py', 'src/b.py', 'src/d.py', 'src/sub/c.sh']);
    expect(await readManifest(out, 'f'.repeat(64))).toBeUndefined();
  });
});
