/**
 * How the states of a large record are stored (store.ts writes packStates(record), upgradeRecord reads it back):
 * the same JobRecord in memory, fewer and smaller things on disk. A 100 000-task record was one JSON object per
 * task: 15 MB written at every status call that changed a state and parsed at the next one (bench/replay-scale.ts).
 * - the last known states that only say "waiting" (`{ index, state, exitCode: null, attempt, reason? }`) as runs,
 *   one per (state, attempt, reason): half way through a throttled array 67 000 tasks wait for the same reason;
 * - the final states as one table of numbers (a row of COLUMNS per task; texts such as states and times once).
 * Entries with anything else (a missing file list, a provisional flag) stay objects. Small records (fewer than
 * PACK_FROM such states) are written as they are, readable.
 */
import { compressRanges, expandRanges, rangeBounds } from './ranges.js';
import type { JobRecord, TaskStatus } from './record.js';
import type { TaskState } from './states.js';

/** One run of waiting states. */
export interface StateRun {
  state: TaskState;
  attempt: number;
  reason?: string;
  /** task numbers, compressed (`34-100000`) */
  tasks: string;
}

/** Final states as a table: `rows` holds COLUMNS.length numbers per state, -1 for an absent field (or exitCode null). */
export interface StateTable {
  columns: readonly string[];
  /** every text once: a text column holds its position here */
  texts: string[];
  rows: number[];
}

export interface PackedStates {
  lastKnownRuns?: StateRun[];
  finalTable?: StateTable;
}

/** What a table row holds, in order; the text columns are looked up in `texts`. */
export const COLUMNS = ['index', 'state', 'exitCode', 'attempt', 'signal', 'start', 'end', 'reason', 'lastError'] as const;
type Column = (typeof COLUMNS)[number];
const TEXT_COLUMNS: ReadonlySet<string> = new Set<Column>(['state', 'start', 'end', 'reason', 'lastError']);
const WIDTH = COLUMNS.length;

/** Fewer states of a kind than this are left as objects. */
const PACK_FROM = 1000;

export function packStates(record: JobRecord): JobRecord | (JobRecord & PackedStates) {
  const runs = packRuns(record.lastKnown);
  const table = packTable(record.finalStates);
  if (!runs && !table) return record;
  return { ...record, ...(runs ? { lastKnown: runs.rest, lastKnownRuns: runs.runs } : {}), ...(table ? { finalStates: table.rest, finalTable: table.table } : {}) };
}

const RUN_KEYS: ReadonlySet<string> = new Set(['index', 'state', 'exitCode', 'attempt', 'reason']);

function packRuns(known: Record<string, TaskStatus> | undefined): { rest: Record<string, TaskStatus>; runs: StateRun[] } | undefined {
  if (!known) return undefined;
  const runs: { run: Omit<StateRun, 'tasks'>; tasks: number[] }[] = [];
  const rest: Record<string, TaskStatus> = {};
  let packed = 0;
  let last: (typeof runs)[number] | undefined;
  for (const key in known) {
    const s = known[key]!;
    if (s.exitCode !== null || !fits(s, RUN_KEYS)) {
      rest[key] = s;
      continue;
    }
    packed++;
    // states come in task order, mostly in long stretches of the same run: the last run is tried first
    const same = (r: (typeof runs)[number]) => r.run.state === s.state && r.run.attempt === s.attempt && r.run.reason === s.reason;
    if (!last || !same(last)) last = runs.find(same) ?? runs[runs.push({ run: { state: s.state, attempt: s.attempt, ...(s.reason === undefined ? {} : { reason: s.reason }) }, tasks: [] }) - 1]!;
    last.tasks.push(s.index);
  }
  return packed < PACK_FROM ? undefined : { rest, runs: runs.map(({ run, tasks }) => ({ ...run, tasks: compressRanges(tasks) })) };
}

const TABLE_KEYS: ReadonlySet<string> = new Set(COLUMNS);

function packTable(finals: Record<string, TaskStatus>): { rest: Record<string, TaskStatus>; table: StateTable } | undefined {
  const texts: string[] = [];
  const textAt = new Map<string, number>();
  const text = (v: string | undefined) => (v === undefined ? -1 : textAt.get(v) ?? (textAt.set(v, texts.length), texts.push(v) - 1));
  const rows: number[] = [];
  const rest: Record<string, TaskStatus> = {};
  for (const key in finals) {
    const s = finals[key]!;
    if (!fits(s, TABLE_KEYS) || (s.exitCode !== null && !(s.exitCode >= 0)) || (s.signal !== undefined && !(s.signal >= 0))) {
      rest[key] = s;
      continue;
    }
    rows.push(s.index, text(s.state), s.exitCode ?? -1, s.attempt, s.signal ?? -1, text(s.start), text(s.end), text(s.reason), text(s.lastError));
  }
  return rows.length / WIDTH < PACK_FROM ? undefined : { rest, table: { columns: COLUMNS, texts, rows } };
}

/** Whether every field of `s` is one of `keys`, each text a string and each number a whole number (what packing keeps). */
function fits(s: TaskStatus, keys: ReadonlySet<string>): boolean {
  for (const key in s) {
    const v = (s as unknown as Record<string, unknown>)[key];
    if (!keys.has(key) || (TEXT_COLUMNS.has(key) ? typeof v !== 'string' : v !== null && !Number.isSafeInteger(v))) return false;
  }
  return true;
}

/** The record as in memory: runs and table back to one state object per task (recordProblem checked them). */
export function unpackStates<R extends { lastKnown?: Record<string, TaskStatus>; finalStates: Record<string, TaskStatus> } & PackedStates>(r: R): R {
  if (!r.lastKnownRuns && !r.finalTable) return r;
  const { lastKnownRuns, finalTable, ...rest } = r;
  const out = rest as unknown as R;
  if (lastKnownRuns) {
    const lastKnown: Record<string, TaskStatus> = { ...(r.lastKnown ?? {}) };
    for (const run of lastKnownRuns) {
      for (const index of expandRanges(run.tasks)) {
        // the fields in the order a status call makes them
        const s: TaskStatus = { index, state: run.state, exitCode: null, attempt: run.attempt };
        if (run.reason !== undefined) s.reason = run.reason;
        lastKnown[index] = s;
      }
    }
    out.lastKnown = lastKnown;
  }
  if (finalTable) {
    const finalStates: Record<string, TaskStatus> = { ...r.finalStates };
    const { texts, rows } = finalTable;
    for (let i = 0; i < rows.length; i += WIDTH) {
      const s: TaskStatus = { index: rows[i]!, state: texts[rows[i + 1]!] as TaskState, exitCode: rows[i + 2]! < 0 ? null : rows[i + 2]!, attempt: rows[i + 3]! };
      if (rows[i + 4]! >= 0) s.signal = rows[i + 4]!;
      if (rows[i + 7]! >= 0) s.reason = texts[rows[i + 7]!];
      if (rows[i + 5]! >= 0) s.start = texts[rows[i + 5]!];
      if (rows[i + 6]! >= 0) s.end = texts[rows[i + 6]!];
      if (rows[i + 8]! >= 0) s.lastError = texts[rows[i + 8]!];
      finalStates[s.index] = s;
    }
    out.finalStates = finalStates;
  }
  return out;
}

/**
 * What is wrong with a record's packed states, if anything (phrased to follow "the record …"): runs and rows
 * must name tasks of the job, texts must exist, states must be states. Checked before anything is expanded.
 */
export function packedProblem(raw: PackedStates & { tasks: number }, states: ReadonlySet<unknown>): string | undefined {
  const within = (n: number) => Number.isSafeInteger(n) && n >= 0 && n <= raw.tasks;
  for (const run of raw.lastKnownRuns ?? []) {
    // (the list's syntax is recordProblem's check: rangeList)
    const bounds = rangeBounds(run.tasks);
    if (bounds && !(within(bounds.first) && within(bounds.last))) return 'field lastKnownRuns names tasks the job does not have';
  }
  const t = raw.finalTable;
  if (!t) return undefined;
  if (t.columns.length !== WIDTH || t.columns.some((c, i) => c !== COLUMNS[i])) return `field finalTable.columns is not ${COLUMNS.join(',')}`;
  if (t.rows.length % WIDTH !== 0) return 'field finalTable.rows does not hold whole rows';
  const text = (v: number) => v === -1 || (Number.isSafeInteger(v) && v >= 0 && v < t.texts.length);
  const { rows } = t;
  for (let i = 0; i < rows.length; i += WIDTH) {
    const number = (k: number, min: number) => Number.isSafeInteger(rows[i + k]) && rows[i + k]! >= min;
    const ok = within(rows[i]!) && text(rows[i + 1]!) && states.has(t.texts[rows[i + 1]!]) && number(2, -1) && number(3, 1) && number(4, -1)
      && text(rows[i + 5]!) && text(rows[i + 6]!) && text(rows[i + 7]!) && text(rows[i + 8]!);
    if (!ok) return `field finalTable.rows has a bad row ${i / WIDTH + 1}`;
  }
  return undefined;
}
