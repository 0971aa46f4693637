// The CLI's gc pacer (src/cli/gc-pacer.ts): collects while a big log streams, and leaves V8's flags as it found
// them (the CLI's code cache is refused by V8 when the flags changed since it was read).
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { gcPacer } from '../../src/cli/gc-pacer.js';

describe('gcPacer', () => {
  it('collects every few MB moved, with --expose-gc turned off again', () => {
    const pace = gcPacer(1024);
    expect(runInNewContext('typeof gc')).toBe('undefined');   // a context made now has no gc: the flag is off
    const garbage = () => { let a: object[] | null = []; for (let i = 0; i < 20_000; i++) a.push({ i }); a = null; };
    garbage();
    const before = process.memoryUsage().heapUsed;
    pace(500);   // under the step: nothing
    pace(4096);  // past it: a young-generation collection
    expect(process.memoryUsage().heapUsed).toBeLessThan(before);
  });
});
