/**
 * How the per-task data of a large record is stored (store.ts writes packStates(record), upgradeRecord reads it
 * back): the same JobRecord in memory, fewer and smaller things on disk. A 100 000-task record was one JSON
 * object per task: 15 MB written at every status call that changed a state and parsed at the next one
 * (bench/replay-scale.ts).
 * - the last known states that only say "waiting" (`{ index, state, exitCode: null, attempt, reason? }`) as runs,
 *   one per (state, attempt, reason): half way through a throttled array 67 000 tasks wait for the same reason;
 * - the final states as one table of numbers (a row of COLUMNS per task; texts such as states and times once);
 * - each task's argv and parameters (info.argv, info.params).
 * The table's rows and texts, argv and params are each stored as one string: the bytes deflated (level 1) and
 * in base64 (packText). A 100 000-task record is then ~0.6 MB, not ~4 MB of numbers and lists, and a reader that
 * needs none of it (`pilot logs NAME/I` from the cache: recordHeadProblem) parses it in about a millisecond,
 * not ~100; a reader that needs it inflates it in ~10 ms, and a write deflates it in ~15 ms.
 * Entries with anything else (a missing file list, a provisional flag) stay objects. Small records (fewer than
 * PACK_FROM such states, or tasks) are written as they are, readable.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
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
  /** every text once (a text column holds its position here): packed JSON, a list in version-2 records */
  texts: string | readonly string[];
  /** packed 32-bit integers (encodeRows), a list of numbers in version-2 records */
  rows: string | readonly number[];
}

export interface PackedStates {
  lastKnownRuns?: StateRun[];
  finalTable?: StateTable;
  /** info.argv (one list of words per task), packed JSON */
  argvPacked?: string;
  /** info.params, packed JSON */
  paramsPacked?: string;
}

/** What a table row holds, in order; the text columns are looked up in `texts`. */
export const COLUMNS = ['index', 'state', 'exitCode', 'attempt', 'signal', 'start', 'end', 'reason', 'lastError'] as const;
type Column = (typeof COLUMNS)[number];
const TEXT_COLUMNS: ReadonlySet<string> = new Set<Column>(['state', 'start', 'end', 'reason', 'lastError']);
const WIDTH = COLUMNS.length;

/** Fewer states of a kind than this are left as objects. */
const PACK_FROM = 1000;

/** The version a record with packed text is written as (RECORD_VERSION says why); read back as version 2. */
export const PACKED_VERSION = 3;

export function packStates(record: JobRecord): JobRecord | (JobRecord & PackedStates) {
  const runs = packRuns(record.lastKnown);
  const table = packTable(record.finalStates);
  const columns = record.tasks >= PACK_FROM && Array.isArray(record.info.argv);
  if (!runs && !table && !columns) return record;
  const { argv, params, ...info } = record.info;
  return {
    ...record,
    ...(columns || table ? { version: PACKED_VERSION as unknown as JobRecord['version'] } : {}),
    ...(columns ? { info: info as JobRecord['info'] } : {}),
    ...(runs ? { lastKnown: runs.rest, lastKnownRuns: runs.runs } : {}),
    ...(table ? { finalStates: table.rest, finalTable: table.table } : {}),
    ...(columns ? { argvPacked: packJson(argv), ...(params === undefined ? {} : { paramsPacked: packJson(params) }) } : {}),
  };
}

/** Bytes as one JSON-safe string: deflated (level 1, the fastest: a 100 000-task table in ~10 ms) and base64. */
function packText(bytes: Uint8Array): string {
  return deflateRawSync(bytes, { level: 1 }).toString('base64');
}

/** packText read back; undefined when the text is not what it wrote (damaged). */
function unpackText(text: string): Buffer | undefined {
  try {
    return inflateRawSync(Buffer.from(text, 'base64'));
  } catch {
    return undefined;
  }
}

const packJson = (value: unknown) => packText(Buffer.from(JSON.stringify(value)));

/** packJson read back; null when it cannot be (what packedProblem then calls damaged). */
function unpackJson(text: string): unknown {
  const bytes = unpackText(text);
  try {
    return bytes ? JSON.parse(bytes.toString('utf8')) as unknown : null;
  } catch {
    return null;
  }
}

/** A table as written: texts as packed JSON, rows as packed 32-bit integers. */
export function encodeTable(t: { columns: readonly string[]; texts: readonly string[]; rows: readonly number[] }): StateTable {
  return { columns: t.columns, texts: packJson(t.texts), rows: encodeRows(t.rows) };
}

/** A table as read (packed, or lists in older records); texts or rows undefined where they cannot be read. */
export function decodeTable(t: StateTable): { texts: unknown; rows: Int32Array | readonly number[] | undefined } {
  return { texts: typeof t.texts === 'string' ? unpackJson(t.texts) : t.texts, rows: typeof t.rows === 'string' ? decodeRows(t.rows) : t.rows };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The rows as text: their 32-bit little-endian integers, packed (packTable keeps only numbers that fit). */
function encodeRows(rows: readonly number[]): string {
  const ints = Int32Array.from(rows);
  if (LITTLE_ENDIAN) return packText(new Uint8Array(ints.buffer));
  const bytes = Buffer.alloc(ints.length * 4);
  ints.forEach((v, i) => bytes.writeInt32LE(v, i * 4));
  return packText(bytes);
}

/** encodeRows read back; undefined when the text is not whole integers. */
function decodeRows(text: string): Int32Array | undefined {
  const bytes = unpackText(text);
  if (!bytes || bytes.length % 4 !== 0) return undefined;
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const ints = new Int32Array(bytes.length / 4);
  for (let i = 0; i < ints.length; i++) ints[i] = bytes.readInt32LE(i * 4);
  return ints;
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
  return rows.length / WIDTH < PACK_FROM ? undefined : { rest, table: encodeTable({ columns: COLUMNS, texts, rows }) };
}

/** Whether every field of `s` is one of `keys`, each text a string and each number a whole number of 32 bits (what packing keeps). */
function fits(s: TaskStatus, keys: ReadonlySet<string>): boolean {
  for (const key in s) {
    const v = (s as unknown as Record<string, unknown>)[key];
    if (!keys.has(key) || (TEXT_COLUMNS.has(key) ? typeof v !== 'string' : v !== null && !(Number.isSafeInteger(v) && Math.abs(v as number) <= 0x7fffffff))) return false;
  }
  return true;
}

/**
 * The text columns decoded, once per record read: packedProblem checks them, unpackStates uses the same values
 * (a 100 000-task record's argv takes ~25 ms to parse). Keyed by the raw record object.
 */
const decoded = new WeakMap<object, Decoded>();
interface Decoded { rows?: Int32Array | readonly number[]; texts?: unknown; argv?: unknown; params?: unknown }

function decodedOf(raw: PackedStates): Decoded {
  let d = decoded.get(raw);
  if (!d) {
    d = {
      ...(raw.finalTable ? decodeTable(raw.finalTable) : {}),
      argv: raw.argvPacked === undefined ? undefined : unpackJson(raw.argvPacked),
      params: raw.paramsPacked === undefined ? undefined : unpackJson(raw.paramsPacked),
    };
    decoded.set(raw, d);
  }
  return d;
}

/** The record as in memory: runs and table back to one state object per task, argv and params back in info (recordProblem checked them). */
export function unpackStates<R extends { lastKnown?: Record<string, TaskStatus>; finalStates: Record<string, TaskStatus>; info: object } & PackedStates>(r: R): R {
  if (!r.lastKnownRuns && !r.finalTable && r.argvPacked === undefined) return r;
  const { lastKnownRuns, finalTable, argvPacked, paramsPacked, ...rest } = r;
  const out = rest as unknown as R;
  const columns = decodedOf(r);
  if (argvPacked !== undefined) out.info = { ...r.info, argv: columns.argv, ...(paramsPacked === undefined ? {} : { params: columns.params }) };
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
    const texts = columns.texts as readonly string[];
    const rows = columns.rows!;
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
  const columns = decodedOf(raw);
  if (raw.argvPacked !== undefined && !(Array.isArray(columns.argv) && columns.argv.every((a) => Array.isArray(a) && a.every((w) => typeof w === 'string')))) {
    return 'field argvPacked is not one list of words per task';
  }
  if (raw.paramsPacked !== undefined && !Array.isArray(columns.params)) return 'field paramsPacked is not a list of parameters';
  const t = raw.finalTable;
  if (!t) return undefined;
  if (t.columns.length !== WIDTH || t.columns.some((c, i) => c !== COLUMNS[i])) return `field finalTable.columns is not ${COLUMNS.join(',')}`;
  const rows = columns.rows;
  if (!rows || rows.length % WIDTH !== 0) return 'field finalTable.rows does not hold whole rows';
  const texts = columns.texts;
  if (!Array.isArray(texts) || !texts.every((x) => typeof x === 'string')) return 'field finalTable.texts is not a list of texts';
  const text = (v: number) => v === -1 || (Number.isSafeInteger(v) && v >= 0 && v < texts.length);
  for (let i = 0; i < rows.length; i += WIDTH) {
    const number = (k: number, min: number) => Number.isSafeInteger(rows[i + k]) && rows[i + k]! >= min;
    const ok = within(rows[i]!) && text(rows[i + 1]!) && states.has(texts[rows[i + 1]!]) && number(2, -1) && number(3, 1) && number(4, -1)
      && text(rows[i + 5]!) && text(rows[i + 6]!) && text(rows[i + 7]!) && text(rows[i + 8]!);
    if (!ok) return `field finalTable.rows has a bad row ${i / WIDTH + 1}`;
  }
  return undefined;
}
