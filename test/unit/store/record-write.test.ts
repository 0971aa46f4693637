// A record's write takes few file system round trips (a launch writes twice) and still does all it did: the
// folder made when missing, a dead writer's temp file swept, never this process's own, the reservation's owner
// file gone once the record exists.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../../src/model/record.js';
import { JobStore } from '../../../src/store/store.js';

const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

const record = (name: string): JobRecord => ({
  version: 2, name, cluster: 'lab', backend: 'slurm', createdAt: new Date().toISOString(), tasks: 3, chunkSize: 100,
  info: {} as JobRecord['info'], bundle: { sha256: 'x', bytes: 1, files: 1 }, remote: { jobDir: '/r/jobs/j', bundleDir: '/r/bundles/x' },
  attempts: [], finalStates: {},
});

describe('JobStore.write', () => {
  it('writes a reserved job: the record in, the owner file out, dead writers\' temp files swept, live ones kept', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-write-')));
    expect(await store.reserve('j')).toBe('j');
    const dead = `.job.json.${deadPid()}.0a1b2c3d.tmp`;
    const mine = `.job.json.${process.pid}.0a1b2c3e.tmp`;   // another write of this very process, under way
    writeFileSync(join(store.jobDir('j'), dead), '{');
    writeFileSync(join(store.jobDir('j'), mine), '{');
    await store.write(record('j'), { reserved: true });
    expect(readdirSync(store.jobDir('j')).sort()).toEqual([mine, 'job.json']);
    expect(JSON.parse(readFileSync(join(store.jobDir('j'), 'job.json'), 'utf8')).name).toBe('j');
    expect((await store.read('j')).tasks).toBe(3);
  });

  it('a later write leaves an owner file a crash left beside a record, which then counts for nothing', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-write-')));
    expect(await store.reserve('c')).toBe('c');
    writeFileSync(join(store.jobDir('c'), 'job.json'), JSON.stringify(record('c')));   // killed before the owner file went
    await store.update('c', (r) => ({ ...r, tasks: 5 }));
    expect(existsSync(join(store.jobDir('c'), '.reserved'))).toBe(true);
    // this (live) process's reservation beside a record: not a launch in progress, and the name is taken
    expect(await store.launchesInProgress()).toEqual([]);
    await expect(store.reserve('c')).rejects.toThrow(/already exists/);
    expect((await store.read('c')).tasks).toBe(5);
  });

  it('makes the folder of a job that has none (a record written without a reservation)', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-write-')));
    await store.write(record('fresh'));
    expect(existsSync(join(store.jobDir('fresh'), 'job.json'))).toBe(true);
    expect(existsSync(join(store.jobDir('fresh'), '.reserved'))).toBe(false);
  });

  it('fails with a HOME error when a file stands where the job folder goes, and leaves no temp file', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-write-')));
    await store.ensureHome();
    writeFileSync(store.jobDir('blocked'), 'not a folder');
    await expect(store.write(record('blocked'))).rejects.toMatchObject({ code: 'HOME' });
    expect(readdirSync(store.jobsDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('rewrites a record in place (update), keeping one file', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-write-')));
    mkdirSync(store.jobDir('u'), { recursive: true });
    await store.write(record('u'));
    await store.update('u', (r) => ({ ...r, tasks: 4 }));
    expect((await store.read('u')).tasks).toBe(4);
    expect(readdirSync(store.jobDir('u'))).toEqual(['job.json']);
  });
});
