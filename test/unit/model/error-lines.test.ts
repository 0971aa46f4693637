// Error lines for `pilot why`: built-in and user patterns, the whitelist scored by shared words, cleaning.
import { describe, expect, it } from 'vitest';
import { findErrorLines, lastLines, sharedWords, whitelisted, words } from '../../../src/model/error-lines.js';
import { whyClass } from '../../../src/model/failure.js';

const LOG = [
  'epoch 1 loss 0.3',
  'UserWarning: TypedStorage is deprecated (torch 2.1.0) at /opt/venv/lib/x.py:12',
  'Error: could not load optional plugin libfoo.so (version 1.7), continuing',
  'Traceback (most recent call last):',
  '  File "train.py", line 3, in <module>',
  'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB',
  'slurmstepd: error: *** JOB 42 ON n1 CANCELLED AT 2025-01-01T00:00:00 DUE TO TIME LIMIT ***',
  '/var/spool/slurmd/job42/slurm_script: line 9: 123 Killed  python3 train.py',
  'Segmentation fault (core dumped)',
  'loss is nan at step 7',
].join('\n');

describe('error lines', () => {
  it('finds what the built-in patterns know, in order, with line numbers', () => {
    const found = findErrorLines(LOG, 'stderr');
    expect(found.map((l) => l.line)).toEqual([3, 4, 6, 7, 8, 9]);
    expect(found[1]).toEqual({ stream: 'stderr', line: 4, text: 'Traceback (most recent call last):' });
  });

  it("adds the job's errorPatterns and refuses nothing else", () => {
    expect(findErrorLines(LOG, 'stdout', { patterns: ['loss is nan'] }).map((l) => l.line)).toContain(10);
    expect(findErrorLines('all good\nfine', 'stdout', { patterns: ['^FATAL'] })).toEqual([]);
  });

  it('leaves out whitelisted lines: shared words (3 by default), numbers and paths do not count', () => {
    const whitelist = ['Error: could not load optional plugin libbar.so (version 9.9), continuing'];
    expect(findErrorLines(LOG, 'stderr', { whitelist }).map((l) => l.line)).toEqual([4, 6, 7, 8, 9]);
    expect(words('Error 2: see /tmp/x1.log')).toEqual(new Set(['error', 'see', 'tmp', 'log']));
    expect(sharedWords('CUDA out of memory on device 3', 'cuda memory error')).toBe(2);
    // 2 shared words: not enough at the default threshold, enough at 2
    expect(whitelisted('CUDA out of memory on device 3', ['cuda memory warning'])).toBeUndefined();
    expect(whitelisted('CUDA out of memory on device 3', ['cuda memory warning'], 2)).toBe('cuda memory warning');
    // an entry shorter than the threshold must share all its words
    expect(whitelisted('Killed by the OOM killer', ['Killed'])).toBe('Killed');
    expect(whitelisted('Segmentation fault', ['Killed'])).toBeUndefined();
  });

  it('cleans control characters, caps long lines, keeps the first and the last when there are many', () => {
    const found = findErrorLines(`Error: \x1b[31mred\x1b[0m\u202e\n${'Error: x'.repeat(100)}`, 'stderr');
    expect(found[0]!.text).toBe('Error: [31mred[0m');
    expect(Array.from(found[1]!.text).length).toBe(300);
    const many = findErrorLines(Array.from({ length: 50 }, (_, i) => `Error: ${i}`).join('\n'), 'stderr', { max: 5 });
    expect(many.map((l) => l.text)).toEqual(['Error: 0', 'Error: 46', 'Error: 47', 'Error: 48', 'Error: 49']);
    expect(lastLines('a\n\nb\r\nc\rd\n\n', 2)).toEqual(['c', 'd']);
  });

  it("names the class why reports: EXIT and SIGNAL are NONZERO_EXIT, a completed task with error lines LOG_ERROR", () => {
    expect(whyClass({ state: 'FAILED', exitCode: 1 })).toBe('NONZERO_EXIT');
    expect(whyClass({ state: 'FAILED', exitCode: 0, signal: 9 })).toBe('NONZERO_EXIT');
    expect(whyClass({ state: 'TIMEOUT', exitCode: 0 })).toBe('TIMEOUT');
    expect(whyClass({ state: 'MISSING_OUTPUT', exitCode: 0 })).toBe('MISSING_OUTPUT');
    expect(whyClass({ state: 'COMPLETED', exitCode: 0 })).toBeUndefined();
    expect(whyClass({ state: 'COMPLETED', exitCode: 0 }, 2)).toBe('LOG_ERROR');
    expect(whyClass({ state: 'PENDING', exitCode: null, reason: 'DependencyNeverSatisfied' })).toBe('DEPENDENCY_NEVER_SATISFIED');
  });
});
