// Reservations and locks name their owner: one left by a killed process never blocks, a live one is respected.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobStore } from '../../src/store/store.js';
import { sweepTemps, withFileLock } from '../../src/util/files.js';
import { bootMark } from '../../src/util/process.js';

/** A pid that certainly belongs to no process any more. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('name reservations', () => {
  it('takes back a reservation whose launch was killed, keeps one whose launch is alive', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-res-')));
    mkdirSync(store.jobDir('dead'), { recursive: true });
    writeFileSync(join(store.jobDir('dead'), '.reserved'), `${deadPid()} ${bootMark()}\n`);
    expect(await store.reserve('dead')).toBe('dead');
    mkdirSync(store.jobDir('alive'), { recursive: true });
    writeFileSync(join(store.jobDir('alive'), '.reserved'), `${process.ppid} ${bootMark()}\n`);
    await expect(store.reserve('alive')).rejects.toThrow(/already exists/);
  });

  it('a reservation from another boot is dead whatever its pid', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-res-')));
    mkdirSync(store.jobDir('old'), { recursive: true });
    writeFileSync(join(store.jobDir('old'), '.reserved'), `${process.ppid} another-boot-id\n`);
    expect(await store.reserve('old')).toBe('old');
  });

  it('is never without its owner: a launch killed while reserving leaves only a temp folder, swept, never a block', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-res-')));
    await store.ensureHome();
    // what a launch killed after making its reservation folder (aside) and before the rename leaves behind
    const left = join(store.jobsDir, `.cut.${deadPid()}.0a1b2c3d.tmp`);
    mkdirSync(left);
    expect(await store.reserve('cut')).toBe('cut');   // at once: no 10 s of "already exists"
    expect(readdirSync(store.jobDir('cut'))).toEqual(['.reserved']);
    expect(readdirSync(store.jobsDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // and two launches reserving one name at once: exactly one gets it
    const both = await Promise.allSettled([store.reserve('race'), store.reserve('race')]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(readdirSync(store.jobsDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('never takes a recorded job', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-res-')));
    mkdirSync(store.jobDir('done'), { recursive: true });
    writeFileSync(join(store.jobDir('done'), 'job.json'), '{}');
    writeFileSync(join(store.jobDir('done'), '.reserved'), `${deadPid()}\n`);
    await expect(store.reserve('done')).rejects.toThrow(/already exists/);
  });
});

describe('withFileLock', () => {
  it('breaks a lock left by a dead process at once and serialises live holders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-lock-'));
    const file = join(dir, 'x.lock');
    writeFileSync(file, `${deadPid()} ${bootMark()}\n`);
    const order: string[] = [];
    await Promise.all(['a', 'b', 'c'].map((id) => withFileLock(file, async () => {
      order.push(`${id}+`);
      await new Promise((r) => setTimeout(r, 30));
      order.push(`${id}-`);
    })));
    // strictly nested: every holder leaves before the next enters
    for (let i = 0; i < order.length; i += 2) expect(order[i]!.slice(0, 1)).toBe(order[i + 1]!.slice(0, 1));
    expect(existsSync(file)).toBe(false);
  });

  it('gives up on a live holder after its timeout', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pilot-lock-')), 'x.lock');
    writeFileSync(file, `${process.ppid} ${bootMark()}\n`);
    await expect(withFileLock(file, async () => 1, { timeoutMs: 200 })).rejects.toThrow(/held by another process/);
  });
});

describe('sweepTemps', () => {
  it('removes temp files of dead writers only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-sweep-'));
    writeFileSync(join(dir, `.job.json.${deadPid()}.ab12.tmp`), 'half');
    writeFileSync(join(dir, `.job.json.${process.ppid}.cd34.tmp`), 'in progress');
    writeFileSync(join(dir, 'job.json'), '{}');
    await sweepTemps(dir);
    expect(readdirSync(dir).sort()).toEqual([`.job.json.${process.ppid}.cd34.tmp`, 'job.json']);
  });
});
