// The pure side of collections: state buckets and filters, group names and summaries, and the analysis by
// parameter (rates, Low-N, ranking, bars).
import { describe, expect, it } from 'vitest';
import { analyze, bar } from '../../../src/model/analyze.js';
import { bucketOf, defaultGroupName, stateFilter, summarize, summarizeGroups, type CollectionTask } from '../../../src/model/collection.js';
import { renderAnalysis, renderTasks } from '../../../src/cli/render-collection.js';
import type { TaskState } from '../../../src/model/states.js';

const task = (index: number, state: TaskState, params?: Record<string, unknown>): CollectionTask => ({
  job: 'j', index, argv: [], state, exitCode: state === 'FAILED' ? 1 : 0, attempt: 1, history: [{ index, state, exitCode: null, attempt: 1 }], ...(params ? { params } : {}),
});

describe('states and filters', () => {
  it('puts every state in one bucket and filters by bucket, state or all', () => {
    expect(['COMPLETED', 'TIMEOUT', 'MISSING_OUTPUT', 'UNKNOWN', 'RUNNING', 'CANCELLED'].map((s) => bucketOf(s as TaskState)))
      .toEqual(['completed', 'failed', 'failed', 'pending', 'running', 'other']);
    expect(stateFilter('failed')('OUT_OF_MEMORY')).toBe(true);
    expect(stateFilter('failed')('CANCELLED')).toBe(false);
    expect(stateFilter('timeout')('TIMEOUT')).toBe(true);
    expect(stateFilter('Timeout')('FAILED')).toBe(false);
    expect(stateFilter('all')('CANCELLED')).toBe(true);
    expect(() => stateFilter('broken')).toThrow(/'broken' is not a state/);
    expect(summarize([task(1, 'COMPLETED'), task(2, 'FAILED'), task(3, 'PENDING')])).toEqual({ total: 3, completed: 1, failed: 1, pending: 1, running: 0, other: 0 });
  });

  it('names a resubmission by its local time and sums groups', () => {
    expect(defaultGroupName(new Date(2026, 10, 3, 4, 5, 6))).toBe('resubmit_20261103_040506');
    const g = summarizeGroups([{ name: 'g', createdAt: 'x', submissions: [
      { job: 'a', attempt: 2, indices: '3,5', jobIds: ['9'], submittedAt: '2026-01-02T00:00:00Z' },
      { job: 'b', attempt: 2, indices: '1-4', jobIds: ['10', '11'], submittedAt: '2026-01-01T00:00:00Z' },
    ] }], (s) => (s === '3,5' ? 2 : 4));
    expect(g).toEqual([{ name: 'g', slurmJobs: 3, tasks: 6, firstSubmit: '2026-01-01T00:00:00Z', lastSubmit: '2026-01-02T00:00:00Z' }]);
  });
});

describe('analyze', () => {
  const tasks = [
    task(1, 'FAILED', { lr: 0.1, bs: 32 }), task(2, 'FAILED', { lr: 0.1, bs: 64 }), task(3, 'FAILED', { lr: 0.1, bs: 32 }),
    task(4, 'COMPLETED', { lr: 0.01, bs: 64 }), task(5, 'COMPLETED', { lr: 0.01, bs: 32 }), task(6, 'FAILED', { lr: 0.01, bs: 64 }),
    task(7, 'COMPLETED', { lr: 0.001, bs: 32 }), task(8, 'RUNNING', { lr: 0.001, bs: 64 }), task(9, 'FAILED', { lr: 1, bs: 32 }),
    task(10, 'COMPLETED'),
  ];

  it('counts per value, ranks risky and stable values, marks Low-N and ranks them last', () => {
    const a = analyze(tasks, { minSupport: 2, topK: 3 });
    expect(a.overall).toMatchObject({ total: 10, failed: 5, completed: 4, running: 1 });
    expect(a.withoutParams).toBe(1);
    expect(a.params.map((p) => p.param)).toEqual(['bs', 'lr']);
    const lr = a.params[1]!.values;
    expect(lr.map((v) => v.value)).toEqual(['0.001', '0.01', '0.1', '1']);
    expect(lr[2]).toMatchObject({ n: 3, failed: 3, failureRate: 1, completionRate: 0, lowN: false });
    expect(lr[0]).toMatchObject({ n: 2, completed: 1, running: 1, failureRate: 0, completionRate: 0.5 });
    expect(lr[3]).toMatchObject({ n: 1, lowN: true, failureRate: 1 });
    // lr=1 fails always too, but once: it comes after the supported values
    expect(a.topRisky.map((v) => `${v.param}=${v.value}`)).toEqual(['lr=0.1', 'bs=32', 'bs=64']);
    expect(a.topStable[0]).toMatchObject({ param: 'lr', value: '0.01' });
    expect(analyze(tasks, { params: ['lr'], minSupport: 1, topK: 1 }).topRisky.map((v) => v.value)).toEqual(['0.1']);
  });

  it('renders a table per parameter, the rankings with Low-N, and a bar chart', () => {
    const text = renderAnalysis('sweep', analyze(tasks, { minSupport: 2 }));
    expect(text).toContain('Top risky (failure rate)\n  1. lr=0.1  100% of 3\n');
    expect(text).toMatch(/lr=1 +\S+ +1\.00 +n=1 Low-N/);
    expect(text).toMatch(new RegExp(`lr=0\\.1 +${'█'.repeat(20)}  1\\.00  n=3\n`));
    expect(bar(0.5, 4)).toBe('██··');
    expect(bar(0.5, 1)).toBe('▌');
    expect(bar(1 / 16, 1)).toBe('▏');
  });

  it('shows each attempt of a task with --show-history', () => {
    const t = { ...task(3, 'PENDING', { lr: 0.1 }), attempt: 2, history: [{ index: 3, state: 'FAILED' as const, exitCode: 1, attempt: 1 }, { index: 3, state: 'PENDING' as const, exitCode: null, attempt: 2 }] };
    expect(renderTasks([t], { history: true })).toContain('1:FAILED(1) → 2:PENDING  lr=0.1');
  });
});
