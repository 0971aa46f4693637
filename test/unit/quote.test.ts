import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quote, quoteArgv } from '../../src/util/quote.js';
import { HOSTILE_ARGS } from '../support/hostile.js';

describe('quote', () => {
  it('leaves safe words bare and quotes everything else', () => {
    expect(quote('abc-1.2/x_y')).toBe('abc-1.2/x_y');
    expect(quote('')).toBe("''");
    expect(quote('a b')).toBe("'a b'");
    expect(quote("it's")).toBe("'it'\\''s'");
    expect(quote('~/x')).toBe("'~/x'");
  });

  it('round-trips every hostile argument through a real bash', () => {
    const script = `printf '%s\\0' ${quoteArgv(HOSTILE_ARGS)}`;
    const out = execFileSync('bash', ['-c', script]).toString('utf8');
    expect(out.split('\0').slice(0, -1)).toEqual(HOSTILE_ARGS);
  });
});
