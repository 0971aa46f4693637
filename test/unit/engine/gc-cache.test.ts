// `pilot gc` and the temp files a launch killed while packing leaves in $PILOT_HOME/cache/bundles: a relaunch
// of unchanged sources never packs again, so gc is what removes them (once their writer is gone).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SlurmWrapper } from '../../../src/index.js';

describe('gc and the packing cache', () => {
  it("lists dead writers' temp files as leftovers and removes them, never a live writer's", async () => {
    const home = mkdtempSync(join(tmpdir(), 'pilot-gc-cache-'));
    const cache = join(home, 'cache', 'bundles');
    mkdirSync(cache, { recursive: true });
    const dead = spawnSync('true').pid!;   // a process that has ended
    const live = process.ppid;
    const names = {
      manifest: `.${'a'.repeat(64)}.files.json.${dead}.0a1b2c3d.tmp`,
      bundle: `.bundle.${dead}.0a1b2c3d4e5f.tmp`,
      live: `.pack-index.json.${live}.0a1b2c3d.tmp`,
    };
    for (const n of Object.values(names)) writeFileSync(join(cache, n), 'partial');
    const pilot = new SlurmWrapper({ home });
    const preview = await pilot.gc({ dryRun: true });
    expect(preview.removed.map((e) => [e.kind, e.path]).sort()).toEqual([['leftover', join(cache, names.bundle)], ['leftover', join(cache, names.manifest)]].sort());
    expect(readdirSync(cache).sort()).toEqual(Object.values(names).sort());   // a dry run removes nothing
    await pilot.gc();
    expect(readdirSync(cache)).toEqual([names.live]);
    expect(existsSync(join(cache, names.live))).toBe(true);
    await pilot.close();
  });
});
