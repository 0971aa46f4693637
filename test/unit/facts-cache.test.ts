// The cluster facts cache is read once per connection and written only when a fact changed; a change is merged
// into the file as it is then (another process's facts kept).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FactsCache } from '../../src/scheduler/facts-cache.js';

const dir = () => mkdtempSync(join(tmpdir(), 'pilot-facts-'));

describe('FactsCache', () => {
  it('reads its file once: later reads are what it knows', async () => {
    const d = dir();
    writeFileSync(join(d, 'lab.json'), JSON.stringify({ maxArraySize: 1001, bundles: ['a'] }));
    const facts = new FactsCache(d, 'lab');
    expect(await facts.read()).toEqual({ maxArraySize: 1001, bundles: ['a'] });
    rmSync(join(d, 'lab.json'));
    expect(await facts.read()).toEqual({ maxArraySize: 1001, bundles: ['a'] });
  });

  it('neither reads nor writes the file when nothing changes', async () => {
    const d = dir();
    writeFileSync(join(d, 'lab.json'), JSON.stringify({ bundles: ['a', 'b'] }));
    const facts = new FactsCache(d, 'lab');
    await facts.read();
    writeFileSync(join(d, 'lab.json'), 'garbage: not read again');
    await facts.remember({ bundle: 'b' });   // already the newest
    expect(readFileSync(join(d, 'lab.json'), 'utf8')).toBe('garbage: not read again');
  });

  it('merges a change into the file as it is now, and knows the result', async () => {
    const d = dir();
    const facts = new FactsCache(d, 'lab');
    expect(await facts.read()).toEqual({});
    expect(existsSync(join(d, 'lab.json'))).toBe(false);
    // another process learned the root meanwhile
    writeFileSync(join(d, 'lab.json'), JSON.stringify({ roots: { '~/p': '/home/u/p' }, bundles: ['a'] }));
    await facts.remember({ bundle: 'b', maxArraySize: 5000 });
    const written = { roots: { '~/p': '/home/u/p' }, bundles: ['a', 'b'], maxArraySize: 5000 };
    expect(JSON.parse(readFileSync(join(d, 'lab.json'), 'utf8'))).toEqual(written);
    expect(await facts.read()).toEqual(written);
    await facts.remember({ forgetBundle: 'a' });
    expect(JSON.parse(readFileSync(join(d, 'lab.json'), 'utf8')).bundles).toEqual(['b']);
    expect((await facts.read()).bundles).toEqual(['b']);
  });
});
