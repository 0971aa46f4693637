// Bundle rows, on the test cluster: bytes uploaded by a launch of a 20 MB source (200 files of 100 KB of random
// bytes: incompressible, the worst case), by an unchanged re-launch, and after changing one of its files.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SRC } from './launch.js';
import { dist, row } from './lib.js';

export async function bundleRows(home, cleanup) {
  const { SlurmWrapper } = await dist('index.js');
  const src = mkdtempSync(join(tmpdir(), 'pilot-bench-20mb-'));
  execFileSync('cp', ['-r', `${SRC}/.`, src]);
  for (let i = 0; i < 200; i++) writeFileSync(join(src, `data-${String(i).padStart(3, '0')}.bin`), randomBytes(100 * 1024));
  const pilot = new SlurmWrapper({ home });
  const launch = async (name) => {
    const r = await pilot.scheduleJobs({ jobName: name, cluster: 'lab', srcDir: src, entrypoint: 'echo.sh', args: ['x'], sbatchArgs: ['--hold'] });
    cleanup.push(...r.slurmJobIds);
    return r.bundle;
  };
  const first = await launch('b20-first');
  const unchanged = await launch('b20-again');
  writeFileSync(join(src, 'data-007.bin'), randomBytes(100 * 1024));
  const changed = await launch('b20-changed');
  row({ what: 'bundle bytes up, unchanged re-launch', ref: { label: 'first launch', value: first.uploadedBytes }, ours: { label: 're-launch', value: unchanged.uploadedBytes }, unit: 'B', source: 'real', max: 0 });
  row({ what: 'bundle bytes up, 1 of 200 files changed', ref: { label: 'first launch', value: first.uploadedBytes }, ours: { label: 'whole new bundle', value: changed.uploadedBytes }, unit: 'B', source: 'real' });
  await pilot.close();
}
