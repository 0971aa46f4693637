import { describe, expect, it } from 'vitest';
import { adoptSubmission } from '../../src/model/attempts.js';
import type { JobRecord, TaskStatus } from '../../src/model/record.js';
import { durations, failureRates, histogram, timelineBars } from '../../src/model/report-stats.js';
import { resultsTable } from '../../src/model/results.js';
import { esc, renderReportHtml } from '../../src/engine/report-html.js';
import type { ReportData } from '../../src/engine/report.js';
import type { Transport } from '../../src/transport/types.js';

const HOSTILE = `<script>document.title='PWNED'</script><img src=x onerror="alert(1)">&"'`;

describe('failureRates', () => {
  it('per parameter value: failed / final tasks; unfinished tasks are left out', () => {
    const rates = failureRates([
      { state: 'FAILED', params: { lr: 0.1, opt: 'sgd' } },
      { state: 'TIMEOUT', params: { lr: 0.1, opt: 'adam' } },
      { state: 'COMPLETED', params: { lr: 0.01, opt: 'sgd' } },
      { state: 'RUNNING', params: { lr: 0.01, opt: 'sgd' } },
      { state: 'COMPLETED' },
    ]);
    expect(rates).toEqual([
      { param: 'lr', values: [{ value: '0.1', total: 2, failed: 2, completed: 0, failureRate: 1 }, { value: '0.01', total: 1, failed: 0, completed: 1, failureRate: 0 }] },
      { param: 'opt', values: [{ value: 'sgd', total: 2, failed: 1, completed: 1, failureRate: 0.5 }, { value: 'adam', total: 1, failed: 1, completed: 0, failureRate: 1 }] },
    ]);
  });
});

describe('histogram', () => {
  it('equal-width bins covering every value, the max in the last bin', () => {
    const bins = histogram([0, 1, 2, 3, 10], 5);
    expect(bins.map((b) => b.count)).toEqual([2, 2, 0, 0, 1]);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(5);
    expect(histogram([2, 2, 2])).toEqual([{ from: 2, to: 2, count: 3 }]);
    expect(histogram([])).toEqual([]);
    expect(histogram(Array.from({ length: 10 }, (_, i) => i))).toHaveLength(5);   // Sturges: 1 + log2 10
  });
});

describe('timelineBars', () => {
  it('every attempt that started, earlier attempts from the history; a running one ends now', () => {
    const t = (index: number, attempt: number, state: TaskStatus['state'], start?: string, end?: string): TaskStatus => ({ index, attempt, state, exitCode: null, ...(start ? { start } : {}), ...(end ? { end } : {}) });
    const bars = timelineBars(
      [t(1, 2, 'COMPLETED', '2026-01-01T00:00:10Z', '2026-01-01T00:00:12Z'), t(2, 1, 'RUNNING', '2026-01-01T00:00:01Z'), t(3, 1, 'PENDING')],
      { 1: [t(1, 1, 'FAILED', '2026-01-01T00:00:00Z', '2026-01-01T00:00:02Z')] },
      Date.parse('2026-01-01T00:00:05Z'),
    );
    expect(bars.map((b) => [b.index, b.attempt, b.state, (b.end - b.start) / 1000, !!b.open])).toEqual([
      [1, 1, 'FAILED', 2, false], [2, 1, 'RUNNING', 4, true], [1, 2, 'COMPLETED', 2, false],
    ]);
    expect(durations(bars)).toEqual([2, 2]);
  });

  it('a restart keeps the earlier final state in the history', () => {
    const record = {
      tasks: 2, chunkSize: 1000, attempts: [{ attempt: 1, submittedAt: 'x', indices: '1-2', arrays: [{ jobId: '5', offset: 0, arraySpec: '1-2' }] }],
      finalStates: { 1: { index: 1, state: 'FAILED', exitCode: 1, attempt: 1, start: 'a', end: 'b' }, 2: { index: 2, state: 'COMPLETED', exitCode: 0, attempt: 1 } },
      pending: { attempt: 2, token: 't', startedAt: 'y', indices: '1', planned: [{ offset: 0, spec: '1' }] },
    } as unknown as JobRecord;
    const next = adoptSubmission(record, [{ jobId: '9', offset: 0, arraySpec: '1' }]);
    expect(next.history).toEqual({ 1: [{ index: 1, state: 'FAILED', exitCode: 1, attempt: 1, start: 'a', end: 'b' }] });
    expect(next.finalStates[1]).toBeUndefined();
  });
});

function data(): ReportData {
  const tasks: TaskStatus[] = [
    { index: 1, state: 'COMPLETED', exitCode: 0, attempt: 1, start: '2026-01-01T00:00:00Z', end: '2026-01-01T00:00:02Z' },
    { index: 2, state: 'FAILED', exitCode: 3, attempt: 1, start: '2026-01-01T00:00:01Z', end: '2026-01-01T00:00:03Z' },
  ];
  const params = [{ arg: HOSTILE }, { arg: 'plain' }];
  const timeline = timelineBars(tasks, undefined, Date.now());
  return {
    name: 'job-x', cluster: 'local', generatedAt: '2026-01-01T00:00:05Z',
    status: { name: 'job-x', cluster: 'local', tasks, counts: { COMPLETED: 1, FAILED: 1 }, done: true, slurmJobIds: ['1'], attempts: 1 },
    timeline,
    failureRates: failureRates(tasks.map((t, i) => ({ state: t.state, params: params[i] }))),
    runTimes: histogram(durations(timeline)),
    failed: [{ index: 2, attempt: 1, state: 'FAILED', exitCode: 3, failure: 'EXIT', stderrTail: ['Traceback', HOSTILE] }],
    results: { name: 'job-x', cluster: 'local', file: 'results.json', ...resultsTable([{ status: tasks[0]!, params: params[0], file: { size: 20, bytes: Buffer.from(JSON.stringify({ [HOSTILE]: HOSTILE })) } }], 'results.json') },
    problems: [HOSTILE],
  };
}

describe('renderReportHtml', () => {
  const html = renderReportHtml(data());

  it('escapes every text a task or a user wrote: no tag, attribute or entity of theirs survives', () => {
    expect(esc(HOSTILE)).not.toMatch(/[<>"']/);
    expect(html).not.toContain('<script>document');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('onerror="');
    expect(html).toContain(esc(HOSTILE));
    // exactly one script element: the page's own
    expect(html.match(/<script/g)).toHaveLength(1);
  });

  it('is self-contained: nothing is fetched', () => {
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html).toContain("default-src 'none'");
  });

  it('has the timeline bars, the rate chart, the histogram, the failures and the results rows', () => {
    expect(html.match(/<rect class="bar /g)).toHaveLength(2);
    expect(html).toContain('class="rate-chart"');
    expect(html).toContain('id="runtimes"');
    expect(html).toContain('<div class="failed-task" data-task="2">');
    expect(html).toContain('<tr data-task="1">');
  });

  it('a collection\'s page names each task with its job: the same index in two jobs is two rows', () => {
    const one = data();
    const tag = <T extends object>(job: string, xs: T[]) => xs.map((x) => ({ ...x, job }));
    const page = renderReportHtml({
      ...one, name: 'study', jobs: ['job-a', 'job-b'],
      timeline: [...tag('job-a', one.timeline), ...tag('job-b', one.timeline)],
      failed: tag('job-b', one.failed),
      results: { ...one.results, columns: ['job', ...one.results.columns], rows: tag('job-a', one.results.rows) },
    });
    expect(page).toContain('collection of 2 job(s): job-a, job-b');
    expect(page.match(/<text class="label" [^>]*>job-[ab]\/\d<\/text>/g)).toEqual([
      expect.stringContaining('>job-a/1<'), expect.stringContaining('>job-a/2<'), expect.stringContaining('>job-b/1<'), expect.stringContaining('>job-b/2<'),
    ]);
    expect(page.match(/<rect class="bar /g)).toHaveLength(4);
    expect(page).toContain('<h3>job-b/2 <span');
    expect(page).toMatch(/<tr data-task="1"><td>job-a<\/td>/);
  });
});

describe('Slurm status keeps task times', () => {
  const rec = (): JobRecord => ({
    version: 2, name: 'j', cluster: 'lab', backend: 'slurm', createdAt: '2026-01-01T00:00:00Z', tasks: 2, chunkSize: 1000,
    info: {} as JobRecord['info'], bundle: { sha256: 'x', bytes: 0, files: 0 }, remote: { jobDir: '/r/jobs/j', bundleDir: '/r/bundles/x' },
    attempts: [{ attempt: 1, submittedAt: '', indices: '1-2', arrays: [{ jobId: '42', offset: 0, arraySpec: '1-2' }] }],
    finalStates: {},
  });
  const M = '@@pilot:';
  const reply = (sacct: string[], squeue: string[]) => [`${M}begin sacct`, ...sacct, `${M}end sacct rc=0`, `${M}begin squeue`, ...squeue, `${M}end squeue rc=0`].join('\n');
  const transport = (stdout: string) => ({ exec: async () => ({ code: 0, stdout, stderr: '' }) }) as unknown as Transport;

  it('a task squeue shows finished while sacct lags stays provisional until sacct has its end', async () => {
    const { observeSlurm } = await import('../../src/scheduler/slurm/observe.js');
    const lagging = await observeSlurm(transport(reply(
      ['42_1|43|RUNNING|0:0|None|2026-01-01T00:00:01|Unknown', '42_2|42|COMPLETED|0:0|None|2026-01-01T00:00:01|2026-01-01T00:00:02'],
      ['42_1|COMPLETED|None', '42_2|COMPLETED|None'],
    )), [rec()], { accounting: true });
    expect(lagging.states.get('j')!.get(1)).toMatchObject({ state: 'COMPLETED', provisional: true });
    expect(lagging.states.get('j')!.get(2)).toEqual({ index: 2, state: 'COMPLETED', exitCode: 0, attempt: 1, start: '2026-01-01T00:00:01.000Z', end: '2026-01-01T00:00:02.000Z' });
    // no row in sacct yet at all: asked again too
    const none = await observeSlurm(transport(reply([], ['42_1|COMPLETED|None', '42_2|FAILED|NonZeroExitCode'])), [rec()], { accounting: true });
    expect([...none.states.get('j')!.values()].every((s) => s.provisional)).toBe(true);
  });
});
