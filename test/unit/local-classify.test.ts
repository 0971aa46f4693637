import { describe, expect, it } from 'vitest';
import { classifyTask, type TaskFacts } from '../../src/scheduler/local/observe.js';
import type { TaskFile } from '../../src/scheduler/local/files.js';

const file = (t: Partial<TaskFile>): TaskFile => ({ state: 'RUNNING', exitCode: null, signal: null, pid: 123, start: 'x', end: null, ...t });
const facts = (f: Partial<TaskFacts>): TaskFacts => ({ file: undefined, supervisorAlive: true, taskAlive: false, cancelRequested: false, ...f });

describe('classifyTask', () => {
  it('reports what a final state file says, whoever is alive', () => {
    for (const supervisorAlive of [true, false]) {
      expect(classifyTask(facts({ supervisorAlive, file: file({ state: 'FAILED', exitCode: 3 }) }))).toEqual({ state: 'FAILED', exitCode: 3, start: 'x' });
      expect(classifyTask(facts({ supervisorAlive, file: file({ state: 'TIMEOUT', reason: 'r' }) }))).toMatchObject({ state: 'TIMEOUT', reason: 'r' });
    }
  });

  it('keeps the times the supervisor wrote (the report\'s timeline); a task that never started has no start', () => {
    expect(classifyTask(facts({ file: file({ state: 'COMPLETED', exitCode: 0, start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T00:00:01.000Z' }) })))
      .toEqual({ state: 'COMPLETED', exitCode: 0, start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T00:00:01.000Z' });
    expect(classifyTask(facts({ file: file({ state: 'CANCELLED', start: null, end: '2026-01-01T00:00:01.000Z' }) }))).toEqual({ state: 'CANCELLED', exitCode: null });
    expect(classifyTask(facts({ file: file({ start: '2026-01-01T00:00:00.000Z' }) }))).toEqual({ state: 'RUNNING', exitCode: null, start: '2026-01-01T00:00:00.000Z' });
  });

  it('RUNNING with a live supervisor is RUNNING; with none it is NODE_FAIL unless the task itself still runs', () => {
    expect(classifyTask(facts({ file: file({}) })).state).toBe('RUNNING');
    expect(classifyTask(facts({ file: file({}), supervisorAlive: false })).state).toBe('NODE_FAIL');
    expect(classifyTask(facts({ file: file({}), supervisorAlive: false, taskAlive: true })).state).toBe('RUNNING');
  });

  it('no state file: PENDING while the supervisor lives, never lost once it is gone', () => {
    expect(classifyTask(facts({})).state).toBe('PENDING');
    expect(classifyTask(facts({ cancelRequested: true })).state).toBe('PENDING'); // the supervisor will record it
    expect(classifyTask(facts({ supervisorAlive: false })).state).toBe('NODE_FAIL');
    expect(classifyTask(facts({ supervisorAlive: false, cancelRequested: true })).state).toBe('CANCELLED');
  });
});
