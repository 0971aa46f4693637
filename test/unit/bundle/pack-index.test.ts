// The pack index: an unchanged tree is not packed again; any change, or any doubt, packs it.
import { mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packBundle } from '../../../src/bundle/pack.js';

function tree(): { src: string; out: string } {
  const src = mkdtempSync(join(tmpdir(), 'pilot-idx-src-'));
  writeFileSync(join(src, 'train.py'), 'print("v1")\n');
  writeFileSync(join(src, 'data.bin'), Buffer.alloc(4096, 7));
  return { src, out: mkdtempSync(join(tmpdir(), 'pilot-idx-out-')) };
}

/** Makes every file look a minute old, so the index trusts it (it distrusts files changed near a walk). */
function age(dir: string, seconds = 60): void {
  const t = Date.now() / 1000 - seconds;
  for (const n of readdirSync(dir)) utimesSync(join(dir, n), t, t);
}

/** Rewrites a file with other bytes of the same size, then restores its times: only the contents differ. */
function sneakyEdit(file: string, data: string): void {
  const { atime, mtime } = statSync(file);
  writeFileSync(file, data);
  utimesSync(file, atime, mtime);
}

describe('pack index', () => {
  it('reuses the bundle of an unchanged tree without reading its files', async () => {
    const { src, out } = tree();
    age(src);
    const first = await packBundle({ srcDir: src, outDir: out });
    // same size, same mtime, same inode: only a re-read could see this; the index trusts the tree instead
    sneakyEdit(join(src, 'train.py'), 'print("v2")\n');
    const second = await packBundle({ srcDir: src, outDir: out });
    expect(second.sha256).toBe(first.sha256);
  });

  it('packs again when a file changes, is added or removed', async () => {
    const { src, out } = tree();
    age(src);
    const first = await packBundle({ srcDir: src, outDir: out });
    writeFileSync(join(src, 'train.py'), 'print("v2")\n');
    const edited = await packBundle({ srcDir: src, outDir: out });
    expect(edited.sha256).not.toBe(first.sha256);
    writeFileSync(join(src, 'new.py'), '');
    expect((await packBundle({ srcDir: src, outDir: out })).sha256).not.toBe(edited.sha256);
  });

  it('does not trust a tree packed right after it changed (racily clean), nor a missing bundle file', async () => {
    const { src, out } = tree();
    const first = await packBundle({ srcDir: src, outDir: out });   // files are fresh: the entry is racy
    sneakyEdit(join(src, 'train.py'), 'print("v2")\n');
    const second = await packBundle({ srcDir: src, outDir: out });
    expect(second.sha256).not.toBe(first.sha256);
    age(src);
    const third = await packBundle({ srcDir: src, outDir: out });
    const { rmSync } = await import('node:fs');
    rmSync(third.file);
    const fourth = await packBundle({ srcDir: src, outDir: out });
    expect(fourth.sha256).toBe(third.sha256);
    expect(statSync(fourth.file).size).toBe(fourth.bytes);
  });
});
