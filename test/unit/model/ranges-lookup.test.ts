// rangesInclude keeps each spec parsed and looks a number up by bisection (a status call asks it once per task;
// bench/replay-scale.ts measures why). These tests pin that the lookup answers exactly as the spec's expansion.
import { describe, expect, it } from 'vitest';
import { compressRanges, expandRanges, rangesInclude } from '../../../src/model/ranges.js';
import { parseSlurmTime } from '../../../src/scheduler/slurm/parse.js';

describe('rangesInclude', () => {
  it('answers as the expansion does, for parts out of order, overlapping, with steps, and many specs in turn', () => {
    const specs = ['1-9:4', '9,3,7', '20-30,1-5', '1-9:2,2-8:2', '1-100:10,5-6,50', '7', '0-3,100-200:50', '', '4-4,2-2'];
    // more distinct specs than are kept parsed: answers stay right when older ones are parsed again
    for (let k = 1; k <= 80; k++) specs.push(compressRanges(Array.from({ length: k }, (_, i) => i * 3 + k)));
    for (const round of [1, 2]) {
      for (const spec of specs) {
        const members = new Set(expandRanges(spec));
        for (let n = 0; n <= 260; n++) expect(rangesInclude(spec, n), `round ${round}: ${n} in '${spec}'`).toBe(members.has(n));
      }
    }
  });

  it('finds every task of a restart of 1 000 scattered tasks, and no other', () => {
    const failed = Array.from({ length: 1000 }, (_, i) => (i + 1) * 97);
    const spec = compressRanges(failed);
    const set = new Set(failed);
    for (let n = 1; n <= 100_000; n += 7) expect(rangesInclude(spec, n)).toBe(set.has(n));
    for (const n of failed) expect(rangesInclude(spec, n)).toBe(true);
  });

  it('still refuses a spec that is not one, each time it is asked', () => {
    expect(() => rangesInclude('3-1', 2)).toThrow(/not an index range/);
    expect(() => rangesInclude('3-1', 2)).toThrow(/not an index range/);
  });
});

describe('parseSlurmTime (times seen before are not converted again)', () => {
  it('gives the same answer the second time, valid or not', () => {
    for (const round of [1, 2]) {
      expect(parseSlurmTime('2026-11-23T23:45:39'), `round ${round}`).toBe('2026-11-23T23:45:39.000Z');
      expect(parseSlurmTime(' 2026-11-23T23:45:40 ')).toBe('2026-11-23T23:45:40.000Z');
      expect(parseSlurmTime('Unknown')).toBeUndefined();
      expect(parseSlurmTime('2026-13-45T00:00:00')).toBeUndefined();
      expect(parseSlurmTime(undefined)).toBeUndefined();
    }
  });
});
