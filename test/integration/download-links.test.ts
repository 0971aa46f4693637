// `pilot download` of a job folder holding crafted links (issue 17, item 6), on the real test cluster: the job
// folder is the attacker's, the download folder and the file next to it are the user's.
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../src/index.js';
import { quote } from '../../src/util/quote.js';
import { pilot } from '../support/cli.js';
import { connect, makeHome } from '../support/cluster.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'echo-argv');
const NAME = 'dl-links';

describe('pilot download with links that lead outside', () => {
  it('leaves out links escaping the download folder, warns on stderr, lists them in --json, keeps a\\..\\b', async () => {
    const home = makeHome();
    const w = new SlurmWrapper({ home });
    const job = await w.scheduleJobs({ jobName: NAME, cluster: 'lab', srcDir: FIXTURE, entrypoint: 'echo.sh', args: ['1'] });
    const done = await w.wait(NAME, { minIntervalMs: 500, maxIntervalMs: 1000, timeoutMs: 120_000 });
    expect(done.counts).toEqual({ COMPLETED: 1 });
    await w.close();

    // what a hostile job could leave in its outputs/ (from download/outputs/, s/../.. is the download's parent)
    const ssh = await connect();
    try {
      const r = await ssh.exec(`cd ${quote(`${job.remoteDir}/outputs`)} && ln -s . s && ln -s s/.. vd && ` +
        `ln -s s/../../victim.txt v && ln -s vd/../victim.txt v2 && touch 'a\\..\\b' && ` +
        'mkdir -p ckpt/10 && echo weights > ckpt/10/m && ln -s ckpt/10 latest');
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await ssh.close();
    }

    const dir = mkdtempSync(join(tmpdir(), 'pilot-dl-links-'));
    writeFileSync(join(dir, 'victim.txt'), 'SECRET');
    const to = join(dir, 'download');
    const dl = await pilot(['download', NAME, '--to', to], home);
    expect(dl.code, dl.stderr).toBe(2);   // hostile remote data: everything else comes home, then one error
    expect(dl.stderr.match(/^error: /gm), dl.stderr).toHaveLength(1);
    expect(dl.stderr).toMatch(/^error: 2 entries of the job folder were left out of .*download/m);
    expect(dl.stderr).toMatch(/^warning: skipped outputs\/v: link s\/\.\.\/\.\.\/victim\.txt points outside the destination folder/m);
    expect(dl.stderr).toMatch(/^warning: skipped outputs\/v2: link vd\/\.\.\/victim\.txt points outside/m);
    for (const bad of ['v', 'v2']) expect(() => lstatSync(join(to, 'outputs', bad))).toThrow(/ENOENT/);
    expect(readlinkSync(join(to, 'outputs', 's'))).toBe('.');
    expect(readlinkSync(join(to, 'outputs', 'vd'))).toBe('s/..');          // = the download folder: inside
    expect(readFileSync(join(to, 'outputs', 'latest', 'm'), 'utf8')).toBe('weights\n');
    expect(existsSync(join(to, 'outputs', 'a\\..\\b'))).toBe(true);
    expect(readFileSync(join(to, 'logs', `${job.slurmJobIds[0]}_1.out`), 'utf8')).toContain('task=1');

    const json = await pilot(['download', NAME, '--to', join(dir, 'again'), '--json'], home);
    expect(json.code, json.stderr).toBe(2);
    const out = JSON.parse(json.stdout) as { dest: string; bytes: number; skipped: { path: string; reason: string }[] };
    expect(out.dest).toBe(join(dir, 'again'));
    expect(out.bytes).toBeGreaterThan(0);
    expect(out.skipped.map((s) => s.path).sort()).toEqual(['outputs/v', 'outputs/v2']);
    for (const s of out.skipped) expect(s.reason).toMatch(/points outside the destination folder/);
    expect(json.stderr).toMatch(/^warning: skipped outputs\/v: /m);
    expect(readFileSync(join(dir, 'victim.txt'), 'utf8')).toBe('SECRET');
  });
});
