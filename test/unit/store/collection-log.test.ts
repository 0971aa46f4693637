// The members log of a collection (store/collection-log.ts): a join appends one line instead of rewriting the
// collection file; reads fold it in order, once per job; a rewrite compacts it; torn lines and a rewrite killed
// before it deleted the log leave the collection right.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CollectionRecord, GroupSubmission } from '../../../src/model/collection.js';
import { CollectionStore } from '../../../src/store/collections.js';

const fresh = (name: string): CollectionRecord => ({ version: 1, name, createdAt: '2026-01-01T00:00:00.000Z', jobs: [], groups: [] });
const sub = (job: string, attempt = 1): GroupSubmission => ({ job, attempt, indices: '1-2', jobIds: [`${job}-id`], submittedAt: '2026-01-02T00:00:00.000Z' });
const entry = (job: string) => ({ job, group: 'initial', sub: sub(job) });

function setup() {
  const home = mkdtempSync(join(tmpdir(), 'pilot-collog-'));
  const store = new CollectionStore(home);
  const file = (n: string) => join(home, 'collections', `${n}.json`);
  const log = (n: string) => join(home, 'collections', `${n}.members.log`);
  return { store, file, log };
}

describe('collection members log', () => {
  it('a join into a collection of 20 000 jobs appends one short line and leaves the file untouched', async () => {
    const { store, file, log } = setup();
    const jobs = Array.from({ length: 20_000 }, (_, i) => `j${i}`);
    await store.update('default', () => ({ ...fresh('default'), jobs, groups: [{ name: 'initial', createdAt: 'x', submissions: jobs.map((j) => sub(j)) }] }));
    const before = statSync(file('default'));
    await store.join('default', entry('new-1'), () => fresh('default'));
    await store.join('default', entry('new-2'), () => fresh('default'));
    const after = statSync(file('default'));
    expect([after.ino, after.size, after.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs]);   // not rewritten
    expect(readFileSync(log('default'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    expect(statSync(log('default')).size).toBeLessThan(500);   // O(1) bytes per join, whatever the collection's size
    const c = (await store.find('default'))!;
    expect(c.jobs.slice(-3)).toEqual(['j19999', 'new-1', 'new-2']);
    expect(c.groups[0]!.submissions.slice(-2).map((s) => s.job)).toEqual(['new-1', 'new-2']);
  });

  it('folds in join order, each job once and each (job, attempt) once; a missing collection is made', async () => {
    const { store, file, log } = setup();
    await store.join('c', entry('a'), () => fresh('c'));   // made: a full write, no log
    expect(existsSync(file('c'))).toBe(true);
    expect(existsSync(log('c'))).toBe(false);
    for (const j of ['b', 'a', 'c', 'b']) await store.join('c', entry(j), () => fresh('c'));
    await store.join('c', { job: 'd' }, () => fresh('c'));   // a job without a submission
    const c = (await store.find('c'))!;
    expect(c.jobs).toEqual(['a', 'b', 'c', 'd']);
    expect(c.groups).toHaveLength(1);
    expect(c.groups[0]!.submissions.map((s) => s.job)).toEqual(['a', 'b', 'c']);
    expect(await store.names()).toEqual(['c']);   // the log is no collection
  });

  it('a full rewrite compacts the log; notified survives joins, and a job joining later re-arms it', async () => {
    const { store, file, log } = setup();
    await store.update('c', () => ({ ...fresh('c'), jobs: ['a'], notified: { collection_final: { at: 't', jobs: ['a'] } } }));
    await store.join('c', entry('b'), () => fresh('c'));
    const c = (await store.find('c'))!;
    expect(c.notified).toEqual({ collection_final: { at: 't', jobs: ['a'] } });
    expect(c.jobs.every((j) => c.notified!.collection_final!.jobs.includes(j))).toBe(false);   // b re-arms it
    await store.update('c', (cur) => ({ ...cur!, description: 'x' }));
    expect(existsSync(log('c'))).toBe(false);
    const stored = JSON.parse(readFileSync(file('c'), 'utf8')) as CollectionRecord;
    expect(stored.jobs).toEqual(['a', 'b']);
    expect(await store.find('c')).toMatchObject({ jobs: ['a', 'b'], description: 'x', notified: { collection_final: { jobs: ['a'] } } });
    expect(await store.find('c')).not.toHaveProperty('foldedLog');
  });

  it('a torn line is ignored, and the next join still reads', async () => {
    const { store, log } = setup();
    await store.update('c', () => fresh('c'));
    await store.join('c', entry('a'), () => fresh('c'));
    appendFileSync(log('c'), '{"id":"0123456789ab","job":"torn","gro');   // a writer killed mid-line
    expect((await store.find('c'))!.jobs).toEqual(['a']);
    await store.join('c', entry('b'), () => fresh('c'));
    expect((await store.find('c'))!.jobs).toEqual(['a', 'b']);
  });

  it('a rewrite killed after writing the file but before deleting the log: what it removed stays removed', async () => {
    const { store, file, log } = setup();
    await store.update('c', () => fresh('c'));
    await store.join('c', entry('a'), () => fresh('c'));
    await store.join('c', entry('b'), () => fresh('c'));
    const kept = readFileSync(log('c'), 'utf8');
    await store.update('c', (cur) => ({ ...cur!, jobs: cur!.jobs.filter((j) => j !== 'a') }));
    writeFileSync(log('c'), kept);   // as if the process died before `rm log`
    expect((await store.find('c'))!.jobs).toEqual(['b']);
    await store.join('c', entry('e'), () => fresh('c'));   // later joins still count
    expect((await store.find('c'))!.jobs).toEqual(['b', 'e']);
    await store.update('c', (cur) => cur);
    expect(JSON.parse(readFileSync(file('c'), 'utf8')).jobs).toEqual(['b', 'e']);
  });

  it('the log is compacted by joins once it is as large as the file, so it never grows without bound', async () => {
    const { store, log } = setup();
    await store.update('c', () => fresh('c'));
    let largest = 0;
    for (let i = 0; i < 450; i++) {
      await store.join('c', entry(`job-${i}`), () => fresh('c'));
      if (existsSync(log('c'))) largest = Math.max(largest, statSync(log('c')).size);
    }
    expect(largest).toBeLessThanOrEqual(64 * 1024 + 300);
    const c = (await store.find('c'))!;
    expect(c.jobs).toHaveLength(450);
    expect(c.jobs[0]).toBe('job-0');
    expect(c.jobs[449]).toBe('job-449');
    expect(c.groups[0]!.submissions).toHaveLength(450);
  });

  it('joins at once (the lock serialises them) lose none', async () => {
    const { store } = setup();
    await store.update('c', () => fresh('c'));
    const names = Array.from({ length: 40 }, (_, i) => `p${i}`);
    await Promise.all(names.map((j) => store.join('c', entry(j), () => fresh('c'))));
    const c = (await store.find('c'))!;
    expect([...c.jobs].sort()).toEqual([...names].sort());
    expect(c.groups[0]!.submissions).toHaveLength(40);
  });

  it('delete removes the log with the file', async () => {
    const { store, log } = setup();
    await store.update('c', () => fresh('c'));
    await store.join('c', entry('a'), () => fresh('c'));
    expect(await store.remove('c')).toBe(true);
    expect(existsSync(log('c'))).toBe(false);
    expect(await store.find('c')).toBeUndefined();
  });
});
