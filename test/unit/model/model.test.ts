// The pure model: tasks keep their parameters, failure classes keep the signal, old records are upgraded.
import { describe, expect, it } from 'vitest';
import { failureClass } from '../../../src/model/failure.js';
import { tasksOf } from '../../../src/model/job.js';
import { compressRanges, expandRanges, rangesInclude } from '../../../src/model/ranges.js';
import { upgradeRecord } from '../../../src/model/record.js';
import { isSlurmTime, parseTimeLimit } from '../../../src/model/time.js';

describe('model', () => {
  it('keeps each task\'s parameters next to its argv', () => {
    expect(tasksOf({ argv: [['--lr', '0.1'], ['x']], params: [{ lr: 0.1 }, undefined] })).toEqual([
      { index: 1, argv: ['--lr', '0.1'], params: { lr: 0.1 } }, { index: 2, argv: ['x'] }]);
  });

  it('classifies failures, keeping a signal apart from an exit code', () => {
    expect(failureClass({ state: 'FAILED', exitCode: 3 })).toBe('EXIT');
    expect(failureClass({ state: 'FAILED', exitCode: 0, signal: 9 })).toBe('SIGNAL');
    expect(failureClass({ state: 'TIMEOUT', exitCode: 0 })).toBe('TIMEOUT');
    expect(failureClass({ state: 'COMPLETED', exitCode: 0 })).toBeUndefined();
  });

  it('upgrades a version-1 record: submission ids, parameters', () => {
    const v1 = { version: 1, info: { argv: [[]] }, attempts: [{ attempt: 1, indices: '1', arrays: [{ slurmJobId: '7', offset: 0, arraySpec: '1' }] }] };
    const r = upgradeRecord(v1);
    expect(r.version).toBe(2);
    expect(r.attempts[0]!.arrays[0]).toEqual({ jobId: '7', offset: 0, arraySpec: '1' });
    expect(r.info.params).toEqual([]);
  });

  it('has one range parser, with steps, that refuses garbage', () => {
    expect(expandRanges('1-3,7,9-13:2')).toEqual([1, 2, 3, 7, 9, 11, 13]);
    expect(compressRanges([7, 1, 2, 3])).toBe('1-3,7');
    expect(rangesInclude('1-9:4', 5)).toBe(true);
    expect(rangesInclude('1-9:4', 6)).toBe(false);
    expect(() => expandRanges('3-1')).toThrow(/not an index range/);
    expect(() => expandRanges('1-9999999', 1000)).toThrow(/more than 1000/);
  });

  it('has one time parser for validation and enforcement', () => {
    for (const t of ['30', '2:00:00', '1-12', '1-12:00:00', 'infinite']) expect(isSlurmTime(t)).toBe(true);
    for (const t of ['soon', '1h', '', '-5']) expect(isSlurmTime(t)).toBe(false);
    expect(parseTimeLimit('1-12:00')).toBe(129_600_000);
  });
});
