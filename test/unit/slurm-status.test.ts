import { scriptOf } from '../support/shell.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PilotError } from '../../src/model/errors.js';
import {
  buildStatusCommand,
  expandArrayTaskSpec,
  mergeObservations,
  normalizeState,
  parseSacct,
  parseSlurmTime,
  parseSacctDetailed,
  parseScontrol,
  parseSqueue,
  parseStatusOutput,
  type ExpectedTask,
} from '../../src/scheduler/slurm/status.js';
import type { ArrayTaskObservation } from '../../src/model/states.js';

// Fixtures were recorded on the real test cluster (see test/fixtures/slurm/README.md): a `#` header block,
// then the command's exact stdout.
const FIXTURES = new URL('../fixtures/slurm/', import.meta.url);

function fixtureFile(name: string): string {
  return readFileSync(new URL(`${name}.txt`, FIXTURES), 'utf8');
}

/** The recorded stdout: everything after the leading `#` header lines. */
function fixture(name: string): string {
  const lines = fixtureFile(name).split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith('#')) i++;
  return lines.slice(i).join('\n');
}

function header(name: string, key: string): string {
  const line = fixtureFile(name).split('\n').find((l) => l.startsWith(`# ${key}: `));
  if (line === undefined) throw new Error(`${name}: no "# ${key}:" header`);
  return line.slice(`# ${key}: `.length);
}

/** Frames separately recorded outputs the way buildStatusCommand's command does (for the lag combinations). */
function framed(sections: { name: string; stdout: string; rc?: number; stderr?: string[] }[]): string {
  return sections
    .map(({ name, stdout, rc = 0, stderr = [] }) =>
      [`@@pilot:begin ${name}`, stdout.replace(/\n$/, ''), ...stderr.map((l) => `@@pilot:stderr ${l}`), `@@pilot:end ${name} rc=${rc}`]
        .filter((l) => l !== '')
        .join('\n'))
    .join('\n') + '\n';
}

const INVALID = 'slurm_load_jobs error: Invalid job id specified';

function tasks(jobId: string, indices: number[]): ExpectedTask[] {
  return indices.map((arrayIndex) => ({ jobId, arrayIndex }));
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

function byKey(observations: ArrayTaskObservation[]): Map<string, ArrayTaskObservation> {
  return new Map(observations.map((o) => [`${o.jobId}_${o.arrayIndex}`, o]));
}

function states(merged: Map<string, ArrayTaskObservation>): Record<string, string> {
  return Object.fromEntries([...merged].map(([k, o]) => [k, o.state]));
}

describe('normalizeState', () => {
  it.each([
    ['PENDING', 'PENDING'],
    ['RUNNING', 'RUNNING'],
    ['COMPLETED', 'COMPLETED'],
    ['FAILED', 'FAILED'],
    ['CANCELLED by 1001', 'CANCELLED'],
    ['CANCELLED by 0', 'CANCELLED'],
    ['CANCELLED+', 'CANCELLED'],
    ['COMPLETING', 'RUNNING'],
    ['CONFIGURING', 'RUNNING'],
    ['SUSPENDED', 'RUNNING'],
    ['STOPPED', 'RUNNING'],
    ['STAGE_OUT', 'RUNNING'],
    ['REQUEUED', 'PENDING'],
    ['REQUEUE_HOLD', 'PENDING'],
    ['REQUEUE_FED', 'PENDING'],
    ['RESV_DEL_HOLD', 'PENDING'],
    ['SPECIAL_EXIT', 'PENDING'],
    ['TIMEOUT', 'TIMEOUT'],
    ['DEADLINE', 'TIMEOUT'],
    ['OUT_OF_MEMORY', 'OUT_OF_MEMORY'],
    ['NODE_FAIL', 'NODE_FAIL'],
    ['BOOT_FAIL', 'NODE_FAIL'],
    ['PREEMPTED', 'PREEMPTED'],
    ['REVOKED', 'CANCELLED'],
    ['  running ', 'RUNNING'],
    ['PD', 'UNKNOWN'],
    ['R', 'UNKNOWN'],
    ['', 'UNKNOWN'],
    ['constructor', 'UNKNOWN'],
    ['WEIRD_NEW_STATE', 'UNKNOWN'],
  ])('%j → %s', (raw, expected) => {
    expect(normalizeState(raw)).toBe(expected);
  });
});

describe('expandArrayTaskSpec', () => {
  it('expands throttled ranges, lists, steps and mixes', () => {
    expect(expandArrayTaskSpec('4-20%3')).toEqual(range(4, 20));
    expect(expandArrayTaskSpec('3,7,9')).toEqual([3, 7, 9]);
    expect(expandArrayTaskSpec('1-9:4')).toEqual([1, 5, 9]);
    expect(expandArrayTaskSpec('1,3,5-7%2')).toEqual([1, 3, 5, 6, 7]);
    expect(expandArrayTaskSpec('[7,9%1]')).toEqual([7, 9]);
    expect(expandArrayTaskSpec('0')).toEqual([0]);
    expect(expandArrayTaskSpec('0-100000')).toHaveLength(100001);
  });

  it.each(['', '[]', '5-3', '1-9:0', 'a', '1-', '%3', '1;2', '0-99999999'])('rejects %j with a PilotError', (spec) => {
    expect(() => expandArrayTaskSpec(spec)).toThrow(PilotError);
  });
});

describe('parseSacct (recorded)', () => {
  it('completed / failed / signal-killed mix', () => {
    expect(parseSacct(fixture('sacct-mix-done'))).toEqual([
      { jobId: '14', arrayIndex: 1, state: 'COMPLETED', exitCode: 0 },
      { jobId: '14', arrayIndex: 2, state: 'COMPLETED', exitCode: 0 },
      { jobId: '14', arrayIndex: 3, state: 'FAILED', exitCode: 3 },
      { jobId: '14', arrayIndex: 4, state: 'COMPLETED', exitCode: 0 },
      { jobId: '14', arrayIndex: 5, state: 'FAILED', exitCode: 0, signal: 9 },
      { jobId: '14', arrayIndex: 6, state: 'COMPLETED', exitCode: 0 },
    ]);
  });

  it('reads Start and End (asked in UTC) as ISO times; Unknown is no time', () => {
    const obs = parseSacct(fixture('sacct-times'));
    expect(obs[0]).toEqual({ jobId: '8325', arrayIndex: 1, state: 'COMPLETED', exitCode: 0, start: '2026-11-24T00:03:06.000Z', end: '2026-11-24T00:03:07.000Z' });
    expect(obs[4]).toMatchObject({ arrayIndex: 5, state: 'FAILED', signal: 9, start: '2026-11-24T00:03:09.000Z', end: '2026-11-24T00:03:09.000Z' });
    const running = parseSacct(fixture('sacct-times-running'));
    // sacct's 0:0 of a task that has not ended is no exit code (status --json showed `exitCode: 0` on PENDING)
    expect(running[1]).toEqual({ jobId: '8330', arrayIndex: 2, state: 'RUNNING', reason: 'JobArrayTaskLimit', start: '2026-11-24T00:03:19.000Z' });
    expect(running[2]).toEqual({ jobId: '8330', arrayIndex: 3, state: 'PENDING', reason: 'JobArrayTaskLimit' });
    expect(parseSlurmTime('Unknown')).toBeUndefined();
    expect(parseSlurmTime('None')).toBeUndefined();
    expect(parseSlurmTime('2026-13-45T99:00:00')).toBeUndefined();
  });

  it('expands the pending throttled range J_[4-20%3] (no exit code: those tasks never ran)', () => {
    const obs = parseSacct(fixture('sacct-throttled'));
    expect(obs).toHaveLength(20);
    expect(obs.slice(0, 3).map((o) => o.state)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    const pending = obs.slice(3);
    expect(pending.map((o) => o.arrayIndex)).toEqual(range(4, 20));
    for (const o of pending) expect(o).toEqual({ jobId: '20', arrayIndex: o.arrayIndex, state: 'PENDING' });
  });

  it('expands list ranges J_[3,7,9] and J_[7,9%1]', () => {
    expect(parseSacct(fixture('sacct-list-held'))).toEqual([3, 7, 9].map((arrayIndex) => (
      { jobId: '30', arrayIndex, state: 'PENDING', reason: 'JobHeldUser' })));
    expect(parseSacct(fixture('sacct-list-throttled'))).toEqual([
      { jobId: '37', arrayIndex: 3, state: 'RUNNING' },
      { jobId: '37', arrayIndex: 7, state: 'PENDING' },
      { jobId: '37', arrayIndex: 9, state: 'PENDING' },
    ]);
  });

  it('cancelled never-started rest J_[10-20%3]|CANCELLED by 1001 is CANCELLED per index, stale reason dropped', () => {
    const obs = byKey(parseSacct(fixture('sacct-cancelled-late')));
    expect(obs.size).toBe(20);
    expect(obs.get('20_4')).toEqual({ jobId: '20', arrayIndex: 4, state: 'COMPLETED', exitCode: 0 });
    expect(obs.get('20_8')).toEqual({ jobId: '20', arrayIndex: 8, state: 'CANCELLED', exitCode: 0 });
    expect(obs.get('20_15')).toEqual({ jobId: '20', arrayIndex: 15, state: 'CANCELLED' });
    const lagging = byKey(parseSacct(fixture('sacct-cancelled')));
    expect([...lagging.values()].filter((o) => o.state === 'CANCELLED').map((o) => o.arrayIndex)).toEqual(range(7, 20));
  });

  it('never-split arrays cancelled: both list and range rows', () => {
    const obs = parseSacct(fixture('sacct-cancelled-unsplit'));
    expect(obs.map((o) => `${o.jobId}_${o.arrayIndex}:${o.state}`)).toEqual([
      '30_3:CANCELLED', '30_7:CANCELLED', '30_9:CANCELLED', '33_1:CANCELLED', '33_2:CANCELLED', '33_3:CANCELLED',
    ]);
  });

  it('TIMEOUT keeps its state although ExitCode is 0:0', () => {
    expect(parseSacct(fixture('sacct-timeout'))).toEqual([
      { jobId: '11', arrayIndex: 1, state: 'TIMEOUT', exitCode: 0 },
      { jobId: '11', arrayIndex: 2, state: 'TIMEOUT', exitCode: 0 },
    ]);
  });

  it('keeps the reason of pending rows (DependencyNeverSatisfied)', () => {
    const obs = byKey(parseSacct(fixture('sacct-dependency')));
    expect(obs.get('32_2')).toEqual({ jobId: '32', arrayIndex: 2, state: 'FAILED', exitCode: 1 });
    expect(obs.get('33_2')).toEqual({ jobId: '33', arrayIndex: 2, state: 'PENDING', reason: 'DependencyNeverSatisfied' });
  });

  it('plain rows (no index) are returned apart, never as tasks', () => {
    expect(parseSacctDetailed(fixture('sacct-plain-pending'))).toEqual({
      tasks: [], plain: [{ jobId: '219', state: 'PENDING', rawState: 'PENDING' }],
    });
    // the array's own record (its LAST task) before sacct knows the index: must not fail the whole array
    expect(parseSacctDetailed(fixture('sacct-plain-row-lag'))).toEqual({
      tasks: [], plain: [{ jobId: '32', state: 'FAILED', rawState: 'FAILED' }],
    });
  });

  it('ignores .batch step rows', () => {
    expect(parseSacct(fixture('sacct-steps'))).toEqual(parseSacct(fixture('sacct-mix-done')).map((o) => ({ ...o, jobId: '142' })));
  });

  it('empty answers (just submitted, unknown id, accounting disabled) give no observations', () => {
    expect(parseSacct(fixture('sacct-just-submitted'))).toEqual([]);
    expect(parseSacct(fixture('sacct-unknown-id'))).toEqual([]);
    expect(parseSacct(fixture('sacct-accounting-disabled'))).toEqual([]);
    expect(parseSacct('sacct: error: Problem talking to the database\n')).toEqual([]);
  });
});

describe('parseSacctDetailed with the tasks asked about', () => {
  it('leaves out the own rows of other tasks, never a range or a plain row', () => {
    const text = `${fixture('sacct-throttled')}\n${fixture('sacct-plain-pending')}`;
    const all = parseSacctDetailed(text);
    const some = parseSacctDetailed(text, { wanted: new Set(['20_2', '20_5']) });
    expect(some.tasks.map((t) => `${t.jobId}_${t.arrayIndex}`)).toEqual(['20_2', ...Array.from({ length: 17 }, (_, i) => `20_${i + 4}`)]);
    expect(some.tasks.find((t) => t.arrayIndex === 2)).toEqual(all.tasks.find((t) => t.arrayIndex === 2));
    expect(some.plain).toEqual(all.plain);
    expect(some.plain).toHaveLength(1);
  });

  it('reads a row asked for (its own fast path) exactly as any other row, in every recorded sacct answer', () => {
    const files = readdirSync(join(import.meta.dirname, '../fixtures/slurm')).filter((f) => f.startsWith('sacct-')).map((f) => f.replace(/\.txt$/, ''));
    expect(files.length).toBeGreaterThan(10);
    for (const name of files) {
      const all = parseSacctDetailed(fixture(name));
      const keys = new Set(all.tasks.map((t) => `${t.jobId}_${t.arrayIndex}`));
      expect(parseSacctDetailed(fixture(name), { wanted: keys }), name).toEqual(all);
    }
    // and with the fields an asked row can have: a signal, times, a reason on a task still waiting
    const rows = ['9_1|10|CANCELLED by 0|0:15|None|2026-11-23T23:45:39|2026-11-23T23:45:40', '9_2|11|PENDING|0:0|Dependency|Unknown|Unknown', '9_3|12|TIMEOUT|0:0|None|2026-11-23T23:45:39|Unknown', '9_4|13|FAILED|2:0'];
    expect(parseSacctDetailed(rows, { wanted: new Set(['9_1', '9_2', '9_3', '9_4']) })).toEqual(parseSacctDetailed(rows));
  });
});

describe('parseSqueue (recorded)', () => {
  it('finished tasks with reasons, no exit code', () => {
    expect(parseSqueue(fixture('squeue-mix-done'))).toEqual([
      { jobId: '14', arrayIndex: 6, state: 'COMPLETED' },
      { jobId: '14', arrayIndex: 4, state: 'COMPLETED' },
      { jobId: '14', arrayIndex: 2, state: 'COMPLETED' },
      { jobId: '14', arrayIndex: 1, state: 'COMPLETED' },
      { jobId: '14', arrayIndex: 5, state: 'FAILED', reason: 'JobLaunchFailure' },
      { jobId: '14', arrayIndex: 3, state: 'FAILED', reason: 'NonZeroExitCode' },
    ]);
  });

  it('-r lines and defensively collapsed J_[4-20%3] lines give the same tasks', () => {
    const perTask = parseSqueue(fixture('squeue-throttled'));
    expect(perTask).toHaveLength(20);
    expect(byKey(perTask).get('20_9')).toEqual({ jobId: '20', arrayIndex: 9, state: 'PENDING', reason: 'JobArrayTaskLimit' });
    expect(byKey(parseSqueue(fixture('squeue-throttled-collapsed')))).toEqual(byKey(perTask));
    // the tasks' own rows first, then the tasks only a range row names (callers index them by task)
    expect(parseSqueue(fixture('squeue-list-throttled-collapsed')).map((o) => o.arrayIndex)).toEqual([3, 7, 9]);
  });

  it('DependencyNeverSatisfied is visible as the reason', () => {
    expect(parseSqueue(fixture('squeue-dependency'))).toEqual([1, 2, 3].map((arrayIndex) => (
      { jobId: '33', arrayIndex, state: 'PENDING', reason: 'DependencyNeverSatisfied' })));
  });

  it('COMPLETING counts as RUNNING; TIMEOUT carries TimeLimit', () => {
    const cancelled = byKey(parseSqueue(fixture('squeue-cancelled-now')));
    expect(cancelled.get('20_8')?.state).toBe('RUNNING');
    expect(cancelled.get('20_12')).toEqual({ jobId: '20', arrayIndex: 12, state: 'CANCELLED', reason: 'JobArrayTaskLimit' });
    expect(parseSqueue(fixture('squeue-timeout'))).toEqual([{ jobId: '13', arrayIndex: 1, state: 'TIMEOUT', reason: 'TimeLimit' }]);
  });

  it('purged ids give nothing, whether squeue failed (one id) or printed nothing (several ids)', () => {
    expect(parseSqueue(fixture('squeue-invalid-id'))).toEqual([]);
    expect(parseSqueue(fixture('squeue-several-ids-purged'))).toEqual([]);
    expect(parseSqueue(`${INVALID}\n`)).toEqual([]);
  });
});

describe('parseScontrol (recorded)', () => {
  it('one record per task with ExitCode, including the signal', () => {
    expect(byKey(parseScontrol(fixture('scontrol-mix-done')))).toEqual(byKey([
      { jobId: '14', arrayIndex: 6, state: 'COMPLETED', exitCode: 0 },
      { jobId: '14', arrayIndex: 5, state: 'FAILED', exitCode: 0, signal: 9, reason: 'JobLaunchFailure' },
      { jobId: '14', arrayIndex: 4, state: 'COMPLETED', exitCode: 0 },
      { jobId: '14', arrayIndex: 3, state: 'FAILED', exitCode: 3, reason: 'NonZeroExitCode' },
      { jobId: '14', arrayIndex: 2, state: 'COMPLETED', exitCode: 0 },
      { jobId: '14', arrayIndex: 1, state: 'COMPLETED', exitCode: 0 },
    ]));
  });

  it('pending rest ArrayTaskId=4-20%3 and lists ArrayTaskId=3,7,9 expand', () => {
    const throttled = byKey(parseScontrol(fixture('scontrol-throttled')));
    expect(throttled.size).toBe(20);
    expect(throttled.get('20_17')).toEqual({ jobId: '20', arrayIndex: 17, state: 'PENDING', reason: 'JobArrayTaskLimit' });
    expect(throttled.get('20_2')).toEqual({ jobId: '20', arrayIndex: 2, state: 'RUNNING' });
    expect(parseScontrol(fixture('scontrol-list-held')).map((o) => o.arrayIndex)).toEqual([3, 7, 9]);
    expect(parseScontrol(fixture('scontrol-dependency'))[0]?.reason).toBe('DependencyNeverSatisfied');
  });

  it('cancelled: killed tasks have 0:15, the never-started rest no exit code', () => {
    const obs = byKey(parseScontrol(fixture('scontrol-cancelled')));
    expect(obs.size).toBe(20);
    expect(obs.get('20_8')).toEqual({ jobId: '20', arrayIndex: 8, state: 'CANCELLED', exitCode: 0, signal: 15 });
    expect(obs.get('20_10')).toEqual({ jobId: '20', arrayIndex: 10, state: 'CANCELLED', reason: 'JobArrayTaskLimit' });
  });

  it('TIMEOUT (scontrol says 0:15), purged ids, and DerivedExitCode is not ExitCode', () => {
    expect(parseScontrol(fixture('scontrol-timeout'))).toEqual([
      { jobId: '13', arrayIndex: 1, state: 'TIMEOUT', exitCode: 0, signal: 15, reason: 'TimeLimit' },
    ]);
    expect(parseScontrol(fixture('scontrol-invalid-id'))).toEqual([]);
    const line = fixture('scontrol-mix-done').split('\n').find((l) => l.includes('ArrayTaskId=3 '))!;
    const withDerived = line.replace('ExitCode=3:0', 'DerivedExitCode=7:0 ExitCode=3:0');
    expect(parseScontrol(withDerived)[0]?.exitCode).toBe(3);
  });
});

describe('buildStatusCommand', () => {
  // the fixtures were recorded with these queries; the command now also bounds each one (`$T` = timeout 20)
  // and skips the controller's when `scontrol ping` says it is down
  // (most fixtures were recorded before sacct was asked for Start,End too: sacct-times.txt has those columns)
  // (and with `squeue -r`, one line per pending task; the command now asks without it, for one collapsed line
  // per pending rest: squeue-*-collapsed.txt are those recordings, and parseSqueue reads both forms)
  const queries = (cmd: string) => [...scriptOf(cmd).matchAll(/\bs (\S+) (?:\$T )?([^;']+)/g)].map((m) => `${m[1]} ${m[2]!.trim().replace('Reason,Start,End', 'Reason').replace(' -t all -r ', ' -t all ')}`);
  it('asks exactly the queries the fixtures were recorded with', () => {
    expect(queries(buildStatusCommand(['142', '143', '14'], { accounting: 'unknown' }))).toEqual(queries(header('status-unknown-3ids', 'command')));
    expect(queries(buildStatusCommand(['142', '143', '14'], { accounting: true }))).toEqual(queries(header('status-accounting-3ids', 'command')));
    expect(queries(buildStatusCommand(['14'], { accounting: false }))).toEqual(queries(header('status-noaccounting-purged', 'command')));
    expect(queries(buildStatusCommand(['143', '14'], { accounting: 'unknown' }))).toEqual(queries(header('status-noaccounting-unknown', 'command')));
    expect(queries(buildStatusCommand(['5'], { accounting: true })).length).toBe(2);
  });

  it('bounds every query and skips the controller when it is down', () => {
    const cmd = buildStatusCommand(['5', '6'], { accounting: 'unknown' });
    expect(cmd).toContain('s sacct $T sacct');
    expect(cmd).toContain('[ $up = 1 ] && s squeue $T squeue');
    expect(cmd).toContain('[ $up = 1 ] && s scontrol:5 $T scontrol');
    const down = parseStatusOutput(`@@pilot:controller-down\n${framed([{ name: 'sacct', stdout: fixture('sacct-plain-pending') }])}`);
    expect(down.controllerDown).toBe(true);
    expect(down.errors.join()).toMatch(/slurmctld is not responding/);
    expect(down.sacct?.list()).toEqual([]);
  });

  it('runs sacct only unless accounting is off, scontrol per id only unless it is on', () => {
    const on = buildStatusCommand(['5', '6'], { accounting: true });
    const off = buildStatusCommand(['5', '6'], { accounting: false });
    expect(on).toContain('s sacct $T sacct -X -P -n --format=JobID,JobIDRaw,State,ExitCode,Reason,Start,End -j 5,6');
    expect(on).toContain('TZ=UTC; SLURM_TIME_FORMAT=standard; export TZ SLURM_TIME_FORMAT; s sacct');
    expect(on).not.toContain('scontrol -o');
    expect(off).not.toContain('sacct');
    expect(off).toContain('s scontrol:5 $T scontrol -o show job 5; [ $up = 1 ] && s scontrol:6 $T scontrol -o show job 6');
    expect(off.startsWith("sh -c '")).toBe(true);
  });

  it('deduplicates ids and refuses anything but numeric ids', () => {
    expect(buildStatusCommand(['7', '7'], { accounting: true })).toContain('-j 7;');
    for (const bad of [[], [''], ['12; rm -rf ~'], ['12_3'], ['1,2']]) {
      expect(() => buildStatusCommand(bad, { accounting: true })).toThrow(PilotError);
    }
  });
});

describe('parseStatusOutput (recorded round trips)', () => {
  it('accounting unknown, 3 ids, one purged: all three sections, "Invalid job id" is not an error', () => {
    const out = parseStatusOutput(fixture('status-unknown-3ids'));
    expect(out.accountingDisabled).toBe(false);
    expect(out.errors).toEqual([]);
    expect(out.sacct?.list()).toHaveLength(6 + 6 + 10);
    expect(out.squeue?.list()).toHaveLength(16);
    expect(out.scontrol?.list()).toHaveLength(6 + 10);
  });

  it('accounting on: no scontrol section', () => {
    const out = parseStatusOutput(fixture('status-accounting-3ids'));
    expect(out.scontrol).toBeUndefined();
    expect(out.sacct?.list()).toHaveLength(22);
    expect(out.errors).toEqual([]);
  });

  it('accounting disabled: flagged, no sacct, squeue + scontrol still parsed', () => {
    const out = parseStatusOutput(fixture('status-noaccounting-unknown'));
    expect(out.accountingDisabled).toBe(true);
    expect(out.sacct).toBeUndefined();
    expect(out.squeue?.list()).toHaveLength(10);
    expect(out.scontrol?.list()).toHaveLength(10);
    expect(out.errors).toEqual([]);
  });

  it('a purged single id: squeue and scontrol rc=1 "Invalid job id" are valid empty answers', () => {
    const out = parseStatusOutput(fixture('status-noaccounting-purged'));
    expect({ ...out, squeue: out.squeue.list(), scontrol: out.scontrol?.list() }).toEqual({
      accountingDisabled: false, squeue: [], scontrol: [], errors: [],
    });
  });

  it('maps no task from a plain pending sacct row (the array is not split yet)', () => {
    const out = parseStatusOutput(framed([
      { name: 'sacct', stdout: fixture('sacct-plain-pending') },
      { name: 'squeue', stdout: fixture('squeue-plain-pending') },
    ]));
    expect(out.sacct?.list()).toEqual([]);
    expect(out.errors).toEqual([]);
  });

  it('ignores login banners, distrusts cut-off sections and reports unexpected failures', () => {
    const full = fixture('status-accounting-3ids');
    const banner = parseStatusOutput(`Welcome to the cluster!\n${full}`);
    expect(banner.sacct?.list()).toHaveLength(22);
    expect(banner.errors).toEqual([]);

    const cut = parseStatusOutput(full.slice(0, full.indexOf('142_3|')));
    expect(cut.sacct).toBeUndefined();
    expect(cut.errors).toEqual(['sacct: output cut off', 'squeue: no output section (the status command did not run?)']);

    const down = parseStatusOutput(framed([
      { name: 'squeue', stdout: '', rc: 1, stderr: ['slurm_load_jobs error: Unable to contact slurm controller (connect failure)'] },
    ]));
    expect(down.squeue?.list()).toEqual([]);
    expect(down.errors).toEqual(['squeue: rc=1: slurm_load_jobs error: Unable to contact slurm controller (connect failure)']);
  });
});

describe('mergeObservations', () => {
  it('round trip with everything: finals from sacct, live states from the controller', () => {
    const merged = mergeObservations(parseStatusOutput(fixture('status-unknown-3ids')), [
      ...tasks('142', range(1, 6)), ...tasks('143', range(1, 10)), ...tasks('14', range(1, 6)),
    ]);
    expect(merged.get('142_3')).toEqual({ jobId: '142', arrayIndex: 3, state: 'FAILED', exitCode: 3 });
    expect(merged.get('142_5')).toEqual({ jobId: '142', arrayIndex: 5, state: 'FAILED', exitCode: 0, signal: 9 });
    // sacct still had 143_2 in the pending range row; the controller already ran it
    expect(merged.get('143_2')?.state).toBe('RUNNING');
    expect(merged.get('143_7')).toEqual({ jobId: '143', arrayIndex: 7, state: 'PENDING', reason: 'JobArrayTaskLimit' });
    // 14 was purged from the controller long ago: accounting still knows
    expect(merged.get('14_6')).toEqual({ jobId: '14', arrayIndex: 6, state: 'COMPLETED', exitCode: 0 });
    expect(merged.size).toBe(22);
  });

  it('without accounting: exit codes from scontrol, purged tasks UNKNOWN (never COMPLETED)', () => {
    const merged = mergeObservations(parseStatusOutput(fixture('status-noaccounting-unknown')), [
      ...tasks('143', range(1, 10)), ...tasks('14', [1, 2]),
    ]);
    expect(merged.get('143_1')).toEqual({ jobId: '143', arrayIndex: 1, state: 'COMPLETED', exitCode: 0 });
    expect(merged.get('143_3')?.state).toBe('RUNNING');
    expect(merged.get('143_10')?.state).toBe('PENDING');
    expect(merged.get('14_1')).toEqual({ jobId: '14', arrayIndex: 1, state: 'UNKNOWN' });
    expect(merged.get('14_2')).toEqual({ jobId: '14', arrayIndex: 2, state: 'UNKNOWN' });
  });

  it('lag: sacct RUNNING + gone from squeue → UNKNOWN; sacct RUNNING + squeue COMPLETED → COMPLETED (exit 0 implied)', () => {
    const expected = tasks('43', range(1, 4));
    const gone = mergeObservations(parseStatusOutput(framed([
      { name: 'sacct', stdout: fixture('sacct-lag-running') },
      { name: 'squeue', stdout: fixture('squeue-invalid-id'), rc: 1, stderr: [INVALID] },
    ])), expected);
    expect(states(gone)).toEqual({ '43_1': 'UNKNOWN', '43_2': 'UNKNOWN', '43_3': 'UNKNOWN', '43_4': 'UNKNOWN' });

    const fresher = mergeObservations(parseStatusOutput(framed([
      { name: 'sacct', stdout: fixture('sacct-lag-running') },
      { name: 'squeue', stdout: fixture('squeue-lag-completed') },
    ])), expected);
    expect(fresher.get('43_2')).toEqual({ jobId: '43', arrayIndex: 2, state: 'COMPLETED', exitCode: 0 });
  });

  it('lag right after submit: no or partial sacct rows, the controller decides', () => {
    const empty = mergeObservations(parseStatusOutput(framed([
      { name: 'sacct', stdout: fixture('sacct-just-submitted') },
      { name: 'squeue', stdout: fixture('squeue-just-submitted') },
    ])), tasks('20', range(1, 20)));
    expect(Object.values(states(empty)).filter((s) => s === 'PENDING')).toHaveLength(17);

    const partial = mergeObservations(parseStatusOutput(framed([
      { name: 'sacct', stdout: fixture('sacct-mix-running') },
      { name: 'squeue', stdout: fixture('squeue-mix-running') },
    ])), tasks('14', range(1, 6)));
    expect(new Set(Object.values(states(partial)))).toEqual(new Set(['RUNNING']));
  });

  it('a plain sacct row never decides tasks: PENDING row + RUNNING tasks, FAILED row + purged', () => {
    const pending = mergeObservations(parseStatusOutput(framed([
      { name: 'sacct', stdout: fixture('sacct-plain-pending') },
      { name: 'squeue', stdout: fixture('squeue-plain-pending') },
    ])), tasks('219', range(1, 4)));
    expect(new Set(Object.values(states(pending)))).toEqual(new Set(['RUNNING']));

    const failedRow = mergeObservations(parseStatusOutput(framed([
      { name: 'sacct', stdout: fixture('sacct-plain-row-lag') },
      { name: 'squeue', stdout: '', rc: 1, stderr: [INVALID] },
    ])), tasks('32', [1, 2]));
    expect(states(failedRow)).toEqual({ '32_1': 'UNKNOWN', '32_2': 'UNKNOWN' });
  });

  it('cancelled array: sacct range row covers its indices, squeue fills in the tasks sacct lags on', () => {
    const merged = mergeObservations(parseStatusOutput(framed([
      { name: 'sacct', stdout: fixture('sacct-cancelled') },
      { name: 'squeue', stdout: fixture('squeue-cancelled') },
    ])), tasks('20', range(1, 20)));
    expect(Object.values(states(merged))).toEqual([...Array(6).fill('COMPLETED'), ...Array(14).fill('CANCELLED')]);
    // sacct-only (records purged): the range row alone still makes them final
    const sacctOnly = mergeObservations({ sacct: parseSacct(fixture('sacct-cancelled-late')), squeue: [] }, tasks('20', range(1, 20)));
    expect(merged.get('20_15')).toEqual(sacctOnly.get('20_15'));
    expect(sacctOnly.get('20_15')).toEqual({ jobId: '20', arrayIndex: 15, state: 'CANCELLED' });
  });

  it('TIMEOUT stays TIMEOUT with ExitCode 0:0 (sacct) or 0:15 (scontrol)', () => {
    const fromSacct = mergeObservations({ sacct: parseSacct(fixture('sacct-timeout')), squeue: [] }, tasks('11', [1, 2]));
    expect(fromSacct.get('11_1')).toEqual({ jobId: '11', arrayIndex: 1, state: 'TIMEOUT', exitCode: 0 });
    const live = mergeObservations({
      squeue: parseSqueue(fixture('squeue-timeout')), scontrol: parseScontrol(fixture('scontrol-timeout')),
    }, tasks('13', [1]));
    expect(live.get('13_1')).toEqual({ jobId: '13', arrayIndex: 1, state: 'TIMEOUT', exitCode: 0, signal: 15, reason: 'TimeLimit' });
  });

  it('squeue alone: COMPLETED implies exit 0, FAILED has no exit code yet', () => {
    const merged = mergeObservations({ squeue: parseSqueue(fixture('squeue-mix-done')) }, tasks('14', range(1, 6)));
    expect(merged.get('14_1')).toEqual({ jobId: '14', arrayIndex: 1, state: 'COMPLETED', exitCode: 0 });
    expect(merged.get('14_3')).toEqual({ jobId: '14', arrayIndex: 3, state: 'FAILED', reason: 'NonZeroExitCode' });
    const withScontrol = mergeObservations({
      squeue: parseSqueue(fixture('squeue-mix-done')), scontrol: parseScontrol(fixture('scontrol-mix-done')),
    }, tasks('14', range(1, 6)));
    expect(withScontrol.get('14_3')?.exitCode).toBe(3);
    expect(withScontrol.get('14_5')).toMatchObject({ state: 'FAILED', exitCode: 0, signal: 9 });
  });

  it('DependencyNeverSatisfied stays PENDING with its reason, so callers can report it', () => {
    const merged = mergeObservations(parseStatusOutput(framed([
      { name: 'sacct', stdout: fixture('sacct-dependency') },
      { name: 'squeue', stdout: fixture('squeue-dependency') },
    ])), [...tasks('32', [1, 2]), ...tasks('33', [1, 2, 3])]);
    expect(merged.get('32_2')).toEqual({ jobId: '32', arrayIndex: 2, state: 'FAILED', exitCode: 1 });
    expect(merged.get('33_1')).toEqual({ jobId: '33', arrayIndex: 1, state: 'PENDING', reason: 'DependencyNeverSatisfied' });
  });

  it('the controller beats a final sacct row (requeue), and only expected tasks are reported', () => {
    const merged = mergeObservations({
      sacct: [{ jobId: '9', arrayIndex: 1, state: 'NODE_FAIL', exitCode: 0 }],
      squeue: [{ jobId: '9', arrayIndex: 1, state: 'PENDING', reason: 'BeginTime' }, { jobId: '9', arrayIndex: 2, state: 'RUNNING' }],
    }, tasks('9', [1]));
    expect([...merged.entries()]).toEqual([['9_1', { jobId: '9', arrayIndex: 1, state: 'PENDING', reason: 'BeginTime' }]]);
  });
});

describe('the observations of one query (looked up, range rows kept as rows)', () => {
  it('finds a task in its own row first, else in the LAST range row listing it, without expanding the ranges', async () => {
    const { sacctObservations, squeueObservations } = await import('../../src/scheduler/slurm/parse.js');
    const { tasks } = sacctObservations([
      '7_[3-100000%10]|7|PENDING|0:0|JobArrayTaskLimit|Unknown|Unknown',
      '7_[5-9]|7|PENDING|0:0|Dependency|Unknown|Unknown',   // a later range row of the same tasks wins
      '7_4|12|RUNNING|0:0|None|2026-11-24T00:00:00|Unknown',
      '7_[x-9]|7|PENDING|0:0|None|Unknown|Unknown',          // unreadable: ignored, hides nothing
      '8_[1-2]|8|PENDING|0:0|Priority|Unknown|Unknown',
    ]);
    expect(tasks.find('7', 4)).toMatchObject({ state: 'RUNNING', start: '2026-11-24T00:00:00.000Z' });
    expect(tasks.find('7', 6)).toEqual({ jobId: '7', arrayIndex: 6, state: 'PENDING', reason: 'Dependency' });
    expect(tasks.find('7', 99_999)).toEqual({ jobId: '7', arrayIndex: 99_999, state: 'PENDING', reason: 'JobArrayTaskLimit' });
    expect(tasks.find('7', 100_001)).toBeUndefined();
    expect(tasks.find('7', 2)).toBeUndefined();
    expect(tasks.find('8', 2)?.reason).toBe('Priority');
    expect(tasks.find('9', 1)).toBeUndefined();
    // the list (what parseSacct returns) expands them, with the same answers
    const list = tasks.list();
    expect(list).toHaveLength(1 + (100_000 - 3) + 2);
    for (const o of [list.find((x) => x.jobId === '7' && x.arrayIndex === 6), list.find((x) => x.arrayIndex === 4)]) expect(tasks.find(o!.jobId, o!.arrayIndex)).toEqual(o);
    expect(squeueObservations(['7_[3-5%2]|PENDING|JobArrayTaskLimit']).find('7', 5)?.state).toBe('PENDING');
    expect(squeueObservations([]).empty).toBe(true);
  });
});
