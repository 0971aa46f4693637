import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobStore } from '../../../src/store/store.js';
import { upgradeRecord, type JobRecord, type TaskStatus } from '../../../src/model/record.js';
import { decodeTable, encodeTable, packStates, type StateTable } from '../../../src/model/record-pack.js';
import { recordProblem } from '../../../src/model/record-check.js';

function bigRecord(tasks: number, lastKnown: Record<string, TaskStatus>): JobRecord {
  return {
    version: 2, name: 'big', cluster: 'lab', backend: 'slurm', createdAt: '2026-11-24T00:00:00.000Z', tasks, chunkSize: 1000,
    info: {} as JobRecord['info'], bundle: { sha256: 'x', bytes: 1, files: 1 }, remote: { jobDir: '/r/jobs/big', bundleDir: '/r/bundles/x' },
    attempts: [{ attempt: 1, submittedAt: '', indices: `1-${tasks}`, arrays: [{ jobId: '5', offset: 0, arraySpec: `1-${tasks}%10` }] }],
    finalStates: {}, lastKnown,
  };
}

/** 3 000 tasks: 1-10 running, 11-1500 waiting on the throttle, 1501-2999 on a dependency, 3000 waiting with a start time. */
function halfWay(): Record<string, TaskStatus> {
  const known: Record<string, TaskStatus> = {};
  for (let t = 1; t <= 3000; t++) {
    known[t] = t <= 10 ? { index: t, state: 'RUNNING', exitCode: null, attempt: 1, start: '2026-11-24T00:00:01.000Z' }
      : t === 3000 ? { index: t, state: 'PENDING', exitCode: null, attempt: 2, reason: 'Priority', provisional: true }
        : { index: t, state: 'PENDING', exitCode: null, attempt: 1, reason: t <= 1500 ? 'JobArrayTaskLimit' : 'Dependency' };
  }
  return known;
}

describe('waiting states stored as runs', () => {
  it('writes the plain waiting states of a large record as runs and reads back the same record', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-runs-')));
    const record = bigRecord(3000, halfWay());
    await store.write(record);
    const raw = JSON.parse(readFileSync(join(store.jobDir('big'), 'job.json'), 'utf8')) as Record<string, unknown>;
    expect(raw.lastKnownRuns).toEqual([
      { state: 'PENDING', attempt: 1, reason: 'JobArrayTaskLimit', tasks: '11-1500' },
      { state: 'PENDING', attempt: 1, reason: 'Dependency', tasks: '1501-2999' },
    ]);
    // what a run cannot say stays an entry of its own: a start time, another field
    expect(Object.keys(raw.lastKnown as object)).toEqual([...Array.from({ length: 10 }, (_, i) => String(i + 1)), '3000']);
    const back = await new JobStore(store.home).read('big');
    const { updatedAt, ...readBack } = back;
    expect(updatedAt).toBeDefined();
    expect(readBack).toEqual(record);
    expect(back.lastKnown?.[1500]).toEqual({ index: 1500, state: 'PENDING', exitCode: null, attempt: 1, reason: 'JobArrayTaskLimit' });
  });

  it('leaves a record with few waiting states as it is (readable), and one without reason in runs too', () => {
    const small: Record<string, TaskStatus> = {};
    for (let t = 1; t <= 999; t++) small[t] = { index: t, state: 'PENDING', exitCode: null, attempt: 1 };
    expect(packStates(bigRecord(999, small))).toEqual(bigRecord(999, small));
    small[1000] = { index: 1000, state: 'PENDING', exitCode: null, attempt: 1 };
    const packed = packStates(bigRecord(1000, small)) as unknown as { lastKnownRuns: unknown; lastKnown: object };
    expect(packed.lastKnownRuns).toEqual([{ state: 'PENDING', attempt: 1, tasks: '1-1000' }]);
    expect(packed.lastKnown).toEqual({});
    expect(upgradeRecord(JSON.parse(JSON.stringify(packed)))).toEqual(bigRecord(1000, small));
  });

  it('calls a record damaged whose runs are not task lists of the job, instead of expanding them', () => {
    const raw = (runs: unknown) => ({ ...bigRecord(3000, {}), lastKnownRuns: runs });
    expect(recordProblem(raw([{ state: 'PENDING', attempt: 1, tasks: '1-3000' }]), 'big')).toBeUndefined();
    expect(recordProblem(raw([{ state: 'PENDING', attempt: 1, tasks: '1-99999999999' }]), 'big')?.problem).toMatch(/lastKnownRuns names tasks the job does not have/);
    expect(recordProblem(raw([{ state: 'PENDING', attempt: 1, tasks: '9-3' }]), 'big')?.problem).toMatch(/lastKnownRuns/);
    expect(recordProblem(raw([{ state: 'PENDING', attempt: 1, tasks: 'all' }]), 'big')?.problem).toMatch(/lastKnownRuns\[0\]\.tasks is "all", not a list of task numbers/);
    expect(recordProblem(raw([{ state: 'WAITING', attempt: 1, tasks: '1' }]), 'big')?.problem).toMatch(/lastKnownRuns\[0\]\.state/);
  });
});

describe('final states stored as a table', () => {
  function finals(): Record<string, TaskStatus> {
    const f: Record<string, TaskStatus> = {};
    for (let t = 1; t <= 2000; t++) {
      const base = { index: t, attempt: 1, start: `2026-11-24T00:00:0${t % 10}.000Z`, end: '2026-11-24T00:01:00.000Z' };
      f[t] = t % 100 === 0 ? { ...base, state: 'FAILED', exitCode: 3, lastError: t % 200 === 0 ? '' : 'Traceback: boom' }
        : t === 7 ? { index: 7, state: 'CANCELLED', exitCode: null, attempt: 2, reason: 'Dependency' }
          : t === 8 ? { ...base, state: 'TIMEOUT', exitCode: 0, signal: 15 }
            : t === 9 ? { ...base, state: 'MISSING_OUTPUT', exitCode: 0, missingFiles: ['out/9.csv'] }
              : { ...base, state: 'COMPLETED', exitCode: 0 };
    }
    return f;
  }

  it('writes them as rows of numbers with each text once, and reads back the same states', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-table-')));
    const record = { ...bigRecord(2000, {}), finalStates: finals() };
    await store.write(record);
    const text = readFileSync(join(store.jobDir('big'), 'job.json'), 'utf8');
    const raw = JSON.parse(text) as { finalStates: object; finalTable: StateTable };
    expect(Object.keys(raw.finalStates)).toEqual(['9']);   // a missing file list is no column: kept as it is
    // rows and texts are packed text (deflated, base64): what they hold is the table
    expect(typeof raw.finalTable.rows).toBe('string');
    expect(typeof raw.finalTable.texts).toBe('string');
    const table = decodeTable(raw.finalTable) as { texts: string[]; rows: Int32Array };
    expect(table.rows).toHaveLength(1999 * raw.finalTable.columns.length);
    expect([...table.rows.slice(0, 9)]).toEqual([1, table.texts.indexOf('COMPLETED'), 0, 1, -1, table.texts.indexOf('2026-11-24T00:00:01.000Z'), table.texts.indexOf('2026-11-24T00:01:00.000Z'), -1, -1]);
    expect(table.texts.filter((t) => t === 'COMPLETED')).toHaveLength(1);
    expect(text.length).toBeLessThan(JSON.stringify(record).length / 20);
    const back = await new JobStore(store.home).read('big');
    expect(back.finalStates).toEqual(record.finalStates);
    expect(back.finalStates[200]).toEqual({ index: 200, state: 'FAILED', exitCode: 3, attempt: 1, start: '2026-11-24T00:00:00.000Z', end: '2026-11-24T00:01:00.000Z', lastError: '' });
  });

  it('calls a record damaged whose table does not hold states of the job', () => {
    const packed = packStates({ ...bigRecord(2000, {}), finalStates: finals() }) as unknown as { finalTable: StateTable };
    // the table changed as lists, written back packed
    const raw = (change: (t: { texts: string[]; rows: number[]; columns: string[] }) => void) => {
      const copy = JSON.parse(JSON.stringify(packed)) as typeof packed;
      const t = { ...decodeTable(copy.finalTable), columns: [...copy.finalTable.columns] } as { texts: string[]; rows: number[]; columns: string[] };
      t.rows = [...t.rows];
      change(t);
      copy.finalTable = encodeTable(t);
      return recordProblem(copy, 'big')?.problem;
    };
    expect(raw(() => undefined)).toBeUndefined();
    expect(raw((t) => { t.rows[0] = 5000; })).toMatch(/finalTable.rows has a bad row 1/);
    expect(raw((t) => { t.rows[9 + 1] = 999; })).toMatch(/bad row 2/);
    expect(raw((t) => { t.texts[t.rows[1]!] = 'SLEEPING'; })).toMatch(/bad row 1/);
    expect(raw((t) => { t.rows.pop(); })).toMatch(/does not hold whole rows/);
    expect(raw((t) => { t.columns = ['index']; })).toMatch(/finalTable.columns/);
    // packed text that is not what pilot wrote
    const damaged = (change: (t: StateTable) => void) => {
      const copy = JSON.parse(JSON.stringify(packed)) as typeof packed;
      change(copy.finalTable);
      return recordProblem(copy, 'big')?.problem;
    };
    expect(damaged((t) => { t.rows = (t.rows as string).slice(0, 40); })).toMatch(/finalTable.rows does not hold whole rows/);
    expect(damaged((t) => { t.texts = 'bm90IGRlZmxhdGVk'; })).toMatch(/finalTable.texts is not a list of texts/);
    expect(damaged((t) => { (t as { rows: unknown }).rows = [1, '1']; })).toMatch(/finalTable.rows is neither packed rows nor a list of numbers/);
  });

  it('still reads a table of lists, as records written before the packing hold it', () => {
    const record = { ...bigRecord(2000, {}), finalStates: finals() };
    const packed = packStates(record) as unknown as { finalTable: StateTable };
    const old = { ...packed, finalTable: { ...packed.finalTable, ...decodeTable(packed.finalTable) } };
    old.finalTable.rows = [...(old.finalTable.rows as Int32Array)];
    const copy = JSON.parse(JSON.stringify(old)) as unknown;
    expect(Array.isArray((copy as typeof old).finalTable.rows)).toBe(true);
    expect(recordProblem(copy, 'big')).toBeUndefined();
    expect(upgradeRecord(copy).finalStates).toEqual(record.finalStates);
  });
});

describe("each task's argv and parameters of a large record", () => {
  const withArgs = (tasks: number) => {
    const r = bigRecord(tasks, {});
    r.info = { argv: Array.from({ length: tasks }, (_, i) => ['--lr', String(i / 1000), "it's \\ \"quoted\"\n"]), params: Array.from({ length: tasks }, (_, i) => ({ lr: i / 1000 })) } as unknown as JobRecord['info'];
    return r;
  };

  it('are stored packed from 1 000 tasks, read back the same, and checked', async () => {
    const store = new JobStore(mkdtempSync(join(tmpdir(), 'pilot-argv-')));
    const record = withArgs(1000);
    await store.write(record);
    const text = readFileSync(join(store.jobDir('big'), 'job.json'), 'utf8');
    const raw = JSON.parse(text) as { version: number; info: object; argvPacked: unknown; paramsPacked: unknown };
    expect(raw.info).toEqual({});
    // version 3: a pilot from before the packing refuses it as newer (instead of calling it damaged)
    expect(raw.version).toBe(3);
    expect(typeof raw.argvPacked).toBe('string');
    expect(typeof raw.paramsPacked).toBe('string');
    expect(text.length).toBeLessThan(JSON.stringify(record).length / 5);
    const { updatedAt: _u, ...back } = await new JobStore(store.home).read('big');
    expect(back).toEqual(record);
    // fewer tasks: as they are, version 2
    expect(packStates(withArgs(999))).toEqual(withArgs(999));
    expect(packStates(withArgs(999)).version).toBe(2);
    // damaged
    expect(recordProblem({ ...raw, argvPacked: 'eA==' }, 'big')?.problem).toMatch(/argvPacked is not one list of words per task/);
    expect(recordProblem({ ...raw, argvPacked: 7 }, 'big')?.problem).toMatch(/argvPacked is a number, not text/);
    const notWords = packStates({ ...withArgs(1000), info: { argv: Array.from({ length: 1000 }, () => [1]) } as unknown as JobRecord['info'] });
    expect(recordProblem(JSON.parse(JSON.stringify(notWords)), 'big')?.problem).toMatch(/argvPacked is not one list of words per task/);
  });
});
