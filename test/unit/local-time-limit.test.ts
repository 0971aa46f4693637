import { describe, expect, it } from 'vitest';
import { parseTimeLimit } from '../../src/model/time.js';
import { PilotError } from '../../src/model/errors.js';

describe('parseTimeLimit (Slurm --time syntax)', () => {
  it.each([
    ['5', 5 * 60_000],                                   // M
    ['0:02', 2_000],                                     // M:S
    ['90:30', (90 * 60 + 30) * 1000],                    // minutes may exceed 59
    ['1:02:03', (3600 + 120 + 3) * 1000],                // H:M:S
    ['2-3', (2 * 24 + 3) * 3_600_000],                   // D-H
    ['1-00:30', (24 * 60 + 30) * 60_000],                // D-H:M
    ['1-02:03:04', ((24 + 2) * 3600 + 3 * 60 + 4) * 1000], // D-H:M:S
  ])('%s → %d ms', (text, ms) => {
    expect(parseTimeLimit(text)).toBe(ms);
  });

  it('means no limit for absent, infinite, UNLIMITED and 0', () => {
    for (const t of [undefined, 'infinite', 'UNLIMITED', '0', '0:00']) expect(parseTimeLimit(t)).toBeUndefined();
  });

  it('rejects anything else with a BAD_INPUT error', () => {
    for (const t of ['', '1h', '1:2:3:4', '-5', '1-', '1.5', '2-1:2:3:4']) {
      expect(() => parseTimeLimit(t), t).toThrow(PilotError);
    }
    try {
      parseTimeLimit('10m');
    } catch (err) {
      expect((err as PilotError).code).toBe('BAD_INPUT');
    }
  });
});
