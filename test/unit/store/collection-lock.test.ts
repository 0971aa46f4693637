// A collection's lock is taken without checking the home first (a launch joins one each time): the home and
// collections/ are made when the lock finds no folder, and a home that cannot be used still says so.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CollectionStore } from '../../../src/store/collections.js';

const fresh = (name: string) => ({ version: 1 as const, name, createdAt: new Date().toISOString(), jobs: [], groups: [] });

describe('CollectionStore locks', () => {
  it('makes a missing home and collections/ on first use, and again after they were removed', async () => {
    const home = join(mkdtempSync(join(tmpdir(), 'pilot-coll-')), 'home');
    const store = new CollectionStore(home);
    await store.join('exp', { job: 'a' }, () => fresh('exp'));
    expect((await store.read('exp')).jobs).toEqual(['a']);
    expect(existsSync(join(home, 'jobs'))).toBe(true);
    rmSync(home, { recursive: true });
    await store.join('exp', { job: 'b' }, () => fresh('exp'));
    expect((await store.read('exp')).jobs).toEqual(['b']);
    // the lock is gone after each use
    expect(readdirSync(store.dir).filter((n) => n.endsWith('.lock'))).toEqual([]);
  });

  it('a file where the home should be is a HOME error, not a raw ENOENT', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pilot-coll-')), 'a-file');
    writeFileSync(file, 'x');
    await expect(new CollectionStore(file).join('exp', { job: 'a' }, () => fresh('exp'))).rejects.toMatchObject({ code: 'HOME' });
    await expect(new CollectionStore(join(file, 'below')).update('exp', () => fresh('exp'))).rejects.toMatchObject({ code: 'HOME' });
  });
});
