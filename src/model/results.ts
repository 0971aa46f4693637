/**
 * `pilot results`: one row per task, joining its state and parameters with the JSON file it wrote in its
 * output folder. Pure: which file each task's result is, how a file's bytes become columns, and CSV. The
 * reading (ONE remote command for every file) is the engine's.
 *
 * What a task wrote is not trusted: a file that is missing, too large or not JSON gives that row a `note`
 * instead of columns, never an exception; keys are data (a `__proto__` key is a column like any other).
 */
import { PilotError } from './errors.js';
import type { TaskParams } from './job.js';
import { taskOutputDir } from './task-env.js';
import type { TaskStatus } from './record.js';
import type { TaskState } from './states.js';

/** A task's default result file, in its own output folder. */
export const DEFAULT_RESULT_FILE = 'results.json';
/** Larger files are not read whole: their row says so (a result is a summary, not a data set). */
export const RESULT_MAX_BYTES = 1024 * 1024;

/** A relative path of plain name parts (letters, digits, `._+-`), no `..`: it names a file, never a command. */
const PART_RE = /^[A-Za-z0-9._+-]+$/;

/**
 * Checks `--file` (BAD_INPUT when it could lead outside the task's folder or is not a plain path).
 * @example
 * checkResultFile('metrics/final.json');   // ok
 */
export function checkResultFile(file: string, where = '--file'): string {
  const parts = file.split('/');
  if (!file || parts.some((p) => !PART_RE.test(p) || p === '.' || p === '..')) {
    throw new PilotError('BAD_INPUT', `${where} "${file}" is not a plain relative path`, {
      hint: 'give a file inside the task\'s output folder, e.g. results.json or metrics/final.json (letters, digits, . _ + - and /; no ..)',
    });
  }
  return file;
}

/**
 * The result file of a task's attempt, relative to the job folder: `outputs/<index>/<attempt>/<file>`.
 * The one place that writes this path for results and reports.
 */
export function resultPath(index: number, attempt: number, file: string): string {
  return `${taskOutputDir(index, attempt)}/${file}`;
}

/** Flattens a JSON value into columns: nested objects as `a.b`, lists and scalars as they are. */
export function flattenJson(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length && prefix) Object.defineProperty(out, prefix, { value: {}, enumerable: true, writable: true, configurable: true });
    for (const [k, v] of entries) flattenJson(v, prefix ? `${prefix}.${k}` : k, out);
    return out;
  }
  // defineProperty: a key named __proto__ is a column, not the object's prototype
  Object.defineProperty(out, prefix || 'result', { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** What came back for one file: absent (undefined), or its size and the bytes read. */
export interface ResultFile {
  size: number;
  bytes: Buffer;
}

export interface ResultRow {
  index: number;
  /** the task's job, in a collection's report (one table over several jobs) */
  job?: string;
  /** the task's name, when the job names its tasks */
  name?: string;
  state: TaskState;
  attempt: number;
  exitCode: number | null;
  params: Record<string, unknown>;
  /** the flattened JSON of the result file */
  result: Record<string, unknown>;
  /** why there is no result (missing, not JSON, too large, not completed) */
  note?: string;
}

export interface ResultsTable {
  /** every column in order: index, name (if any), state, attempt, the parameters, the results, note */
  columns: string[];
  rows: ResultRow[];
}

/** One task: its status, params and (when read) its file. */
export interface ResultInput {
  status: TaskStatus;
  params?: TaskParams;
  name?: string;
  /** undefined: absent or unreadable; null: not read (the task did not complete) */
  file: ResultFile | undefined | null;
}

/** The file's bytes → its columns, or why not. */
export function parseResultFile(file: ResultFile | undefined, path: string): { result: Record<string, unknown>; note?: string } {
  if (!file) return { result: {}, note: `no ${path}` };
  if (file.size > file.bytes.length) return { result: {}, note: `${path} is ${file.size} bytes: larger than ${RESULT_MAX_BYTES}, not read` };
  try {
    return { result: flattenJson(JSON.parse(file.bytes.toString('utf8'))) };
  } catch (err) {
    return { result: {}, note: `${path} is not JSON (${(err as Error).message.split('\n')[0]!.slice(0, 120)})` };
  }
}

/** Joins states, params and files into rows and the union of their columns (first seen first). */
export function resultsTable(inputs: readonly ResultInput[], file: string): ResultsTable {
  const rows: ResultRow[] = inputs.map(({ status, params, name, file: read }) => {
    const parsed = read === null
      ? { result: {}, note: `not completed (${status.state})` }
      : parseResultFile(read, file);
    return {
      index: status.index, ...(name !== undefined ? { name } : {}), state: status.state, attempt: status.attempt,
      exitCode: status.exitCode, params: { ...(params ?? {}) }, result: parsed.result, ...(parsed.note ? { note: parsed.note } : {}),
    };
  });
  const base = ['index', ...(rows.some((r) => r.name !== undefined) ? ['name'] : []), 'state', 'attempt'];
  // a parameter named like one of pilot's columns is shown as `param.<key>`, a result key like either as `result.<key>`
  const paramCols = unionKeys(rows.map((r) => r.params)).map((k) => (RESERVED.has(k) || k.startsWith('param.') || k.startsWith('result.') ? `param.${k}` : k));
  const taken = new Set([...RESERVED, ...paramCols]);
  const resultCols = unionKeys(rows.map((r) => r.result)).map((k) => (taken.has(k) ? `result.${k}` : k));
  return { columns: [...base, ...paramCols, ...resultCols, ...(rows.some((r) => r.note) ? ['note'] : [])], rows };
}

/** pilot's own columns (whether shown or not) */
const RESERVED = new Set(['index', 'name', 'state', 'attempt', 'note']);

function unionKeys(objects: readonly Record<string, unknown>[]): string[] {
  const seen = new Set<string>();
  for (const o of objects) for (const k of Object.keys(o)) seen.add(k);
  return [...seen];
}

/** The value of a column in a row (params before results; a renamed result column by its `result.` name). */
export function cell(table: ResultsTable, row: ResultRow, column: string): unknown {
  switch (column) {
    case 'job': if (row.job !== undefined) return row.job; break;
    case 'index': return row.index;
    case 'name': return row.name;
    case 'state': return row.state;
    case 'attempt': return row.attempt;
    case 'note': return row.note;
  }
  if (column.startsWith('param.') && table.columns.includes(column)) return own(row.params, column.slice(6));
  if (Object.hasOwn(row.params, column) && !RESERVED.has(column)) return row.params[column];
  if (column.startsWith('result.') && !Object.hasOwn(row.result, column)) return own(row.result, column.slice(7));
  return own(row.result, column);
}

function own(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** A cell as text: strings as they are, other values as JSON, nothing as ''. */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * RFC 4180 CSV: a field is quoted when it holds a comma, quote, CR or LF; lines end in CRLF. Several jobs make
 * one file: each table with the same `columns` (their union) and a first `job` column, the header once.
 */
export function toCsv(tables: ResultsTable | readonly (ResultsTable & { name: string })[]): string {
  const field = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const list = Array.isArray(tables) ? tables : [tables as ResultsTable];
  const many = Array.isArray(tables);
  const columns = [...new Set(list.flatMap((t) => t.columns))];
  const lines = [[...(many ? ['job'] : []), ...columns].map(field).join(',')];
  for (const t of list) {
    const job = many ? [field((t as { name: string }).name)] : [];
    for (const row of t.rows) lines.push([...job, ...columns.map((c) => field(cellText(cell(t, row, c))))].join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** Rows as plain objects, column → value (for `--format json`). */
export function tableObjects(table: ResultsTable): Record<string, unknown>[] {
  return table.rows.map((row) => {
    const o: Record<string, unknown> = {};
    for (const c of table.columns) {
      const v = cell(table, row, c);
      if (v !== undefined) Object.defineProperty(o, c, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return o;
  });
}
