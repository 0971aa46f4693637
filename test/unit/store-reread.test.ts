// JobStore.reread: a status call re-reads the record under the job's lock; when the file was not replaced since
// it was read, the record already in hand is the answer (a 100 000-task record is megabytes to parse and check).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobStore } from '../../src/store/store.js';
import type { JobRecord } from '../../src/model/record.js';

const record = (name: string, finalStates: JobRecord['finalStates'] = {}): JobRecord => ({
  version: 2, name, cluster: 'lab', backend: 'slurm', createdAt: '2026-11-24T00:00:00Z', tasks: 3, chunkSize: 100,
  info: {} as JobRecord['info'], bundle: { sha256: 'x', bytes: 1, files: 1 }, remote: { jobDir: '/r/jobs/j', bundleDir: '/r/bundles/x' },
  attempts: [{ attempt: 1, submittedAt: '', indices: '1-3', arrays: [{ jobId: '10', offset: 0, arraySpec: '1-3' }] }],
  finalStates,
});

describe('JobStore.reread', () => {
  it('gives back the record in hand while its file is unchanged, and the new one once anybody wrote it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pilot-reread-'));
    const mine = new JobStore(home);
    const other = new JobStore(home);   // another pilot process on the same home
    await mine.write(record('j'));
    const first = await mine.read('j');
    expect(await mine.reread(first)).toBe(first);
    await other.write(record('j', { 2: { index: 2, state: 'COMPLETED', exitCode: 0, attempt: 1 } }));
    const again = await mine.reread(first);
    expect(again).not.toBe(first);
    expect(again.finalStates[2]?.state).toBe('COMPLETED');
    expect(await mine.reread(again)).toBe(again);
  });

  it('reads anew a record it did not read itself, and one whose file was edited in place', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pilot-reread-'));
    const store = new JobStore(home);
    const made = record('k');
    await store.write(made);
    const read = await store.reread(made);
    expect(read).not.toBe(made);
    expect(read.name).toBe('k');
    // an edit by hand keeps the inode (no rename) but not the size or the times
    writeFileSync(join(home, 'jobs', 'k', 'job.json'), JSON.stringify({ ...read, tasks: 4 }, null, 2));
    expect((await store.reread(read)).tasks).toBe(4);
  });
});
