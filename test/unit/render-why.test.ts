// `pilot why` as text: groups first, then each task with its error lines and last stderr lines.
import { describe, expect, it } from 'vitest';
import { renderWhy } from '../../src/cli/render-why.js';
import type { WhyReport } from '../../src/engine/why.js';

describe('renderWhy', () => {
  it('shows the groups, then each task: class, missing files, error lines, last stderr lines', () => {
    const report: WhyReport = {
      name: 'sweep', cluster: 'lab',
      groups: [{ failure: 'NONZERO_EXIT', tasks: [2] }, { failure: 'MISSING_OUTPUT', tasks: [3] }],
      tasks: [
        { index: 2, attempt: 1, state: 'FAILED', exitCode: 1, failure: 'NONZERO_EXIT', stderrTail: ['Traceback (most recent call last):', 'ValueError: x'],
          errorLines: [{ stream: 'stderr', line: 4, text: 'Traceback (most recent call last):' }, { stream: 'stderr', line: 6, text: 'ValueError: x' }] },
        { index: 3, attempt: 1, state: 'MISSING_OUTPUT', exitCode: 0, failure: 'MISSING_OUTPUT', missingFiles: ['outputs/r-3.txt'], stderrTail: [], errorLines: [], logsMissing: true },
      ],
      truncated: 4,
    };
    expect(renderWhy(report)).toBe([
      'sweep  on lab',
      '  NONZERO_EXIT (1): 2',
      '  MISSING_OUTPUT (1): 3',
      '  (4 more not shown in detail)',
      '',
      'task 2  FAILED  exit 1  attempt 1  NONZERO_EXIT',
      '  error lines:',
      '    stderr:4  Traceback (most recent call last):',
      '    stderr:6  ValueError: x',
      '  last stderr lines:',
      '    Traceback (most recent call last):',
      '    ValueError: x',
      '',
      'task 3  MISSING_OUTPUT  exit 0  attempt 1  MISSING_OUTPUT',
      '  missing files: outputs/r-3.txt',
      '  no logs (the task never ran, or they were deleted)',
    ].join('\n'));
  });

  it('shows the signal that killed a task', () => {
    const killed = { index: 5, attempt: 2, state: 'FAILED' as const, exitCode: 0, signal: 9, failure: 'NONZERO_EXIT' as const, stderrTail: [], errorLines: [] };
    expect(renderWhy({ name: 'k', cluster: 'lab', groups: [{ failure: 'NONZERO_EXIT', tasks: [5] }], tasks: [killed] }))
      .toContain('task 5  FAILED  exit 0  signal 9  attempt 2  NONZERO_EXIT');
  });

  it('says when nothing is wrong', () => {
    expect(renderWhy({ name: 'ok', cluster: 'local', groups: [], tasks: [] })).toBe('ok  on local\n  no failed task');
    const done = { index: 1, attempt: 1, state: 'COMPLETED' as const, exitCode: 0, stderrTail: [], errorLines: [] };
    expect(renderWhy({ name: 'ok', cluster: 'local', groups: [], tasks: [done] })).toContain('nothing wrong found\n\ntask 1  COMPLETED  exit 0  attempt 1  no failure found');
  });
});
