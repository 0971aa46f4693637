// The CLI's pure renderers and exit-code mapping: progress lines at 40, 80 and 200 columns (long names too),
// the ETA, colour only when asked, failures with their class and last stderr line, the job list.
import { describe, expect, it } from 'vitest';
import { checkExitCode, waitExitCode } from '../../src/cli/exit-codes.js';
import { estimateEtaMs, failureText, formatDuration, renderList, renderProgress, renderStatus } from '../../src/cli/render.js';
import { EXIT_CODES, PilotError } from '../../src/model/errors.js';
import type { TaskStatus } from '../../src/model/record.js';
import type { TaskState } from '../../src/model/states.js';
import { countStates, type JobStatus } from '../../src/model/tracking.js';

const ANSI = /\x1b\[[0-9;]*m/g;
const visible = (s: string) => s.replace(ANSI, '');

function job(name: string, states: TaskState[], extra: Partial<JobStatus> = {}, task: (t: TaskStatus) => TaskStatus = (t) => t): JobStatus {
  const tasks = states.map((state, i) => task({ index: i + 1, state, exitCode: state === 'COMPLETED' ? 0 : state === 'FAILED' ? 3 : null, attempt: 1 }));
  return { name, cluster: 'lab', tasks, counts: countStates(tasks), done: states.every((s) => !['PENDING', 'RUNNING', 'UNKNOWN'].includes(s)), slurmJobIds: ['42'], attempts: 1, ...extra };
}

const mixed = job('fine-tune-mlp', ['COMPLETED', 'COMPLETED', 'RUNNING', 'RUNNING', 'PENDING', 'FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'PENDING', 'PENDING']);
const LONG = `sweep-${'x'.repeat(150)}-lr0.001`;

describe('progress line', () => {
  it('never exceeds the width: 40, 80 and 200 columns, short and very long names', () => {
    for (const name of ['fine-tune-mlp', LONG]) {
      for (const width of [40, 80, 200]) {
        const line = renderProgress({ ...mixed, name }, { width, elapsedMs: 65_000, etaMs: 130_000 });
        expect(line.length, `${name.length} chars at ${width}`).toBeLessThanOrEqual(width);
        expect(line, `${width}`).toContain('5/10');
        expect(line).not.toContain('\n');
      }
    }
    // wide: everything, with the long state names and a full bar
    expect(renderProgress(mixed, { width: 200, elapsedMs: 65_000, etaMs: 130_000 }))
      .toBe('fine-tune-mlp [###############...............] 5/10  1m05s  ETA 2m10s  RUNNING 2  PENDING 3  COMPLETED 2  FAILED 1  TIMEOUT 1  OUT_OF_MEMORY 1');
    // 80: squeue's short codes make room for the bar
    const at80 = renderProgress(mixed, { width: 80, elapsedMs: 65_000, etaMs: 130_000 });
    expect(at80).toMatch(/^fine-tune-mlp \[#+\.+\] 5\/10  1m05s  ETA 2m10s  R 2 PD 3 CD 2 F 1 TO 1 OOM 1$/);
    // 40, with six states at once: no bar, the name cut, then the times dropped, and only then the line is cut
    expect(renderProgress(mixed, { width: 40, elapsedMs: 65_000 })).toBe('fine-tu…  5/10  R 2 PD 3 CD 2 F 1 TO 1 …');
    expect(renderProgress(job('fine-tune-mlp', ['RUNNING', 'PENDING']), { width: 40, elapsedMs: 65_000, etaMs: 1000 })).toBe('fine-tune…  0/2  1m05s  ETA 1s  R 1 PD 1');
    // a very long name is cut with …: the numbers stay, and the bar too when there is room for it
    expect(renderProgress({ ...mixed, name: LONG }, { width: 80, elapsedMs: 5000 })).toMatch(/^sweep-x{20,}…  5\/10  5s  R 2 PD 3 CD 2 F 1 TO 1 OOM 1$/);
    expect(renderProgress({ ...mixed, name: LONG }, { width: 200, elapsedMs: 5000 })).toMatch(/^sweep-x{70,}… \[#{15}\.{15}\] 5\/10  5s  R 2/);
    const long40 = renderProgress({ ...mixed, name: LONG }, { width: 40 });
    expect(long40.startsWith('sweep-x')).toBe(true);
    expect(long40).toContain('…');
  });

  it('colours states only when asked, without changing the visible width', () => {
    const plain = renderProgress(mixed, { width: 80, elapsedMs: 1000 });
    const coloured = renderProgress(mixed, { width: 80, elapsedMs: 1000, color: true });
    expect(plain).not.toMatch(ANSI);
    expect(coloured).toMatch(/\x1b\[31mF 1\x1b\[0m/);
    expect(visible(coloured)).toBe(plain);
  });

  it('shows no ETA once done, and formats durations in two units at most', () => {
    expect(renderProgress(job('x', ['COMPLETED']), { etaMs: 5000, elapsedMs: 3000 })).toBe('x [##############################] 1/1  3s  COMPLETED 1');
    expect([0, 45_000, 185_000, 7_620_000, 273_600_000].map(formatDuration)).toEqual(['0s', '45s', '3m05s', '2h07m', '3d04h']);
  });

  it('estimates the time left from tasks finished per second', () => {
    // 10 tasks finished in the 20 s since the wait began: 0.5 per second, 30 left → 60 s
    expect(estimateEtaMs({ at: 0, finished: 10 }, { at: 20_000, finished: 20 }, 50)).toBe(60_000);
    // nothing finished yet during the wait: from the submission when some had (20 in 100 s), else unknown
    expect(estimateEtaMs({ at: 100_000, finished: 20 }, { at: 100_000, finished: 20 }, 40, 0)).toBe(100_000);
    expect(estimateEtaMs({ at: 0, finished: 0 }, { at: 5000, finished: 0 }, 40, 0)).toBeUndefined();
    expect(estimateEtaMs({ at: 0, finished: 0 }, { at: 5000, finished: 40 }, 40)).toBe(0);
  });
});

describe('status with failures', () => {
  const failed = job('boom', ['COMPLETED', 'FAILED', 'FAILED', 'TIMEOUT'], {}, (t) => (
    t.index === 2 ? { ...t, lastError: 'boom: something broke' } : t.index === 3 ? { ...t, exitCode: 0, signal: 9, lastError: '' } : t));

  it('shows each failure with its class and the last line of its stderr', () => {
    const text = renderStatus(failed);
    expect(text).toMatch(/^\s+2\s+FAILED\s+3\s+1\s+EXIT 3\s+boom: something broke$/m);
    expect(text).toMatch(/^\s+3\s+FAILED\s+0\s+1\s+SIGNAL 9$/m);
    expect(text).toMatch(/^\s+4\s+TIMEOUT\s+-\s+1\s+TIMEOUT$/m);
    expect(text).toMatch(/last stderr line/);
    expect(failureText({ state: 'COMPLETED', exitCode: 0 })).toBe('');
    expect(failureText({ state: 'MISSING_OUTPUT', exitCode: 0, missingFiles: ['outputs/r-3.txt', 'outputs/m-3/*'] })).toBe('MISSING_OUTPUT outputs/r-3.txt outputs/m-3/*');
    expect(failureText({ state: 'MISSING_OUTPUT', exitCode: 0 })).toBe('MISSING_OUTPUT');
  });

  it('keeps the line within a terminal width, and whole elsewhere', () => {
    const long = { ...failed, tasks: failed.tasks.map((t) => (t.index === 2 ? { ...t, lastError: 'E'.repeat(300) } : t)) };
    expect(renderStatus(long)).toContain('E'.repeat(300));
    for (const line of renderStatus(long, { width: 80 }).split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(visible(renderStatus(failed, { color: true }))).toBe(renderStatus(failed));
  });
});

describe('job list', () => {
  it('shows when each job was submitted and its age, newest first as given', () => {
    const now = Date.parse('2025-01-02T12:00:00Z');
    const text = renderList([
      job('newer', ['RUNNING', 'PENDING'], { submittedAt: '2025-01-02T11:58:55Z' }),
      job('older', ['COMPLETED'], { submittedAt: '2025-01-01T09:00:00Z' }),
    ], { now });
    const [head, newer, older] = text.split('\n');
    expect(head).toMatch(/^name\s+cluster\s+submitted\s+age\s+tasks\s+attempts\s+states$/);
    expect(newer).toMatch(/^newer\s+lab\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+1m05s\s+2\s+1\s+RUNNING 1  PENDING 1$/);
    expect(older).toMatch(/^older\s+lab\s+\S+ \S+\s+1d03h\s+1\s+1\s+COMPLETED 1  \(done\)$/);
  });
});

describe('exit codes', () => {
  it('wait: 0 only when every task completed, 1 when one failed, 124 when the timeout expired', () => {
    expect(waitExitCode(job('a', ['COMPLETED', 'COMPLETED']))).toBe(0);
    for (const s of ['FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'CANCELLED'] as const) {
      expect(waitExitCode(job('a', ['COMPLETED', s])), s).toBe(1);
    }
    expect(waitExitCode(job('a', ['COMPLETED', 'RUNNING']), true)).toBe(124);
    expect(waitExitCode(job('a', ['FAILED', 'RUNNING']), true)).toBe(124);   // the outcome is not known yet
  });

  it('status --check: the worst of the jobs; a failure decides even while others run', () => {
    expect(checkExitCode([job('a', ['COMPLETED']), job('b', ['COMPLETED'])])).toBe(0);
    expect(checkExitCode([job('a', ['COMPLETED']), job('b', ['RUNNING', 'PENDING'])])).toBe(124);
    expect(checkExitCode([job('a', ['FAILED', 'RUNNING']), job('b', ['PENDING'])])).toBe(1);
    expect(checkExitCode([])).toBe(0);
  });

  it('errors: 2 for bad input, 124 for an expired wait, 1 for the rest', () => {
    expect(new PilotError('BAD_INPUT', 'x').exitCode).toBe(EXIT_CODES.BAD_INPUT);
    expect(new PilotError('NOT_FOUND', 'x').exitCode).toBe(2);
    expect(new PilotError('TIMEOUT', 'x').exitCode).toBe(124);
    expect(new PilotError('SSH', 'x').exitCode).toBe(1);
  });
});
