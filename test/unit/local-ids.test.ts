// Real files, no mocks: concurrent claims in one process interleave at every await (link, read, rename).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocateIds } from '../../src/scheduler/local/ids.js';

const tmpRoot = () => mkdtempSync(join(tmpdir(), 'pilot-ids-'));

describe('allocateIds', () => {
  it('hands out consecutive blocks one after another', async () => {
    const root = tmpRoot();
    expect(await allocateIds(root, 3)).toBe(1);
    expect(await allocateIds(root, 1)).toBe(4);
    expect(await allocateIds(root, 10)).toBe(5);
    expect(await allocateIds(root)).toBe(15);
  });

  it('never overlaps blocks claimed concurrently', async () => {
    const root = tmpRoot();
    const sizes = Array.from({ length: 60 }, (_, i) => 1 + (i * 7) % 5);
    const starts = await Promise.all(sizes.map((s) => allocateIds(root, s)));
    const owner = new Map<number, number>();
    starts.forEach((start, k) => {
      for (let id = start; id < start + sizes[k]!; id++) {
        expect(owner.has(id), `id ${id} claimed twice`).toBe(false);
        owner.set(id, k);
      }
    });
  });

  it('stays correct when the hint is stale or damaged', async () => {
    const root = tmpRoot();
    await allocateIds(root, 5);                    // 1..5
    const b = await allocateIds(root, 2);          // 6..7
    writeFileSync(join(root, 'ids', 'next'), '1\n');
    expect(await allocateIds(root, 1)).toBe(b + 2);
    writeFileSync(join(root, 'ids', 'next'), 'garbage');
    expect(await allocateIds(root, 1)).toBe(b + 3);
  });
});
