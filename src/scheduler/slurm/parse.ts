/**
 * Pure parsers of what sacct, squeue and scontrol print, into per-task observations. Checked against real
 * Slurm 22.05 output (golden files in test/fixtures/slurm/; see their README for the shapes that matter):
 * range rows `J_[4-20%3]` and `J_[3,7,9]` are expanded, steps and het jobs ignored, a lagging range row never
 * overrides a task's own row, and one unreadable row never hides the others.
 */
import { PilotError } from '../../model/errors.js';
import { expandRanges, rangesInclude } from '../../model/ranges.js';
import { isFinal, type ArrayTaskObservation, type TaskState } from '../../model/states.js';
import { normalizeState } from './states.js';
import { taskKey, TaskObservations, type ExitFields } from './observations.js';
export { taskKey, TaskObservations };
export { normalizeState };

// ───────────────────────────────────────────────────────────────────────────── ids and ranges

/**
 * Expands a Slurm array index list into indices: `4-20%3` → 4..20, `3,7,9`, `1-9:4` → 1,5,9,
 * `1,3,5-7%2` → 1,3,5,6,7. Surrounding brackets (`[4-20%3]`) are accepted. The `%K` throttle only says how
 * many run at once, so it is dropped. Throws a PilotError('REMOTE') on anything else.
 */
export function expandArrayTaskSpec(spec: string): number[] {
  try {
    // (expandRanges refuses more than Slurm's largest MaxArraySize, 4000001: garbage, not an array)
    const indices = expandRanges(indexList(spec));
    if (indices.length) return indices;
  } catch {
    // not a range list at all: reported below like an empty one
  }
  throw new PilotError('REMOTE', `Unrecognised Slurm array task list "${spec}"`, {
    hint: 'Slurm printed an array index list pilot cannot read; please report it with `pilot status --verbose`.',
  });
}

/** The index list of `[4-20%3]` or `4-20%3`: `4-20`, without brackets and the `%K` throttle. */
function indexList(spec: string): string {
  let body = spec.trim();
  if (body.startsWith('[') && body.endsWith(']')) body = body.slice(1, -1);
  return body.replace(/%\d+$/, '');
}

/** What a job id column (sacct JobID, squeue %i) denotes. Steps (`J_7.batch`) and het jobs (`J+0`) → undefined. */
export type JobIdToken =
  | { kind: 'task'; jobId: string; index: number }
  /** `spec`: the index list without brackets and throttle (`4-20`), checked, not expanded */
  | { kind: 'range'; jobId: string; spec: string }
  | { kind: 'plain'; jobId: string };

function parseJobIdToken(token: string): JobIdToken | undefined {
  // fast path for the one row per task of a finished array, `J_I` (most of a large answer): no regex
  const cut = token.indexOf('_');
  if (cut > 0) {
    const [jobId, index] = [token.slice(0, cut), token.slice(cut + 1)];
    if (DIGITS.test(jobId) && DIGITS.test(index)) return { kind: 'task', jobId, index: Number(index) };
  }
  const m = /^(\d+)(?:_(\d+|\[[^\]]+\]))?$/.exec(token.trim());
  if (!m) return undefined;
  const jobId = m[1]!;
  const suffix = m[2];
  if (suffix === undefined) return { kind: 'plain', jobId };
  if (!suffix.startsWith('[')) return { kind: 'task', jobId, index: Number(suffix) };
  // not expanded: the pending rest of a 100 000-task array is one row, and its tasks are looked up in it
  const spec = indexList(suffix);
  try {
    rangesInclude(spec, 0);   // parses the list (kept for the lookups): throws on anything else
  } catch {
    return undefined;   // one unreadable row must not hide the others; its tasks just stay UNKNOWN
  }
  return spec ? { kind: 'range', jobId, spec } : undefined;
}

const DIGITS = /^\d{1,15}$/;

/** `3:0` → exit 3; `0:9` → exit 0, signal 9. */
function parseExitCode(text: string | undefined): ExitFields {
  // a large answer holds a handful of distinct codes (`0:0` mostly): each is read once
  const known = text === undefined ? undefined : exitCodes.get(text);
  if (known) return known;
  const m = /^(\d+):(\d+)$/.exec(text?.trim() ?? '');
  const signal = m ? Number(m[2]) : 0;
  const parsed = !m ? {} : signal === 0 ? { exitCode: Number(m[1]) } : { exitCode: Number(m[1]), signal };
  if (text !== undefined && exitCodes.size < EXIT_CODES_KEPT) exitCodes.set(text, Object.freeze(parsed));
  return parsed;
}
const exitCodes = new Map<string, Readonly<ExitFields>>();
const EXIT_CODES_KEPT = 1000;

function cleanReason(text: string | undefined): string | undefined {
  const reason = text?.trim();
  return !reason || reason === 'None' || reason === '(null)' ? undefined : reason;
}

/** The lines of an output, or the lines already split (the status command's sections: not joined to be split again). */
const linesOf = (text: string | readonly string[]): readonly string[] => (typeof text === 'string' ? text.split('\n') : text);

// ───────────────────────────────────────────────────────────────────────────── sacct

/** The sacct columns pilot asks for (`Reason` verified as a valid sacct field on 22.05). */
export const SACCT_FORMAT = 'JobID,JobIDRaw,State,ExitCode,Reason,Start,End';

/**
 * sacct's `Start`/`End` (`2026-11-23T23:45:39`, no zone: the status command runs sacct with TZ=UTC and
 * SLURM_TIME_FORMAT=standard, so this is UTC) → ISO 8601; `Unknown`, `None` and anything else → undefined.
 */
export function parseSlurmTime(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  // the tasks of an array start and end in the same few seconds: 100 000 rows hold a few hundred distinct
  // times, and converting each once saves a regex, a Date.parse and a Date per row
  const known = slurmTimes.get(text);
  if (known !== undefined || slurmTimes.has(text)) return known;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})$/.exec(text.trim());
  const t = m ? Date.parse(`${m[1]}Z`) : NaN;
  const iso = Number.isNaN(t) ? undefined : new Date(t).toISOString();
  if (slurmTimes.size >= SLURM_TIMES_KEPT) slurmTimes.clear();
  slurmTimes.set(text, iso);
  return iso;
}
const slurmTimes = new Map<string, string | undefined>();
const SLURM_TIMES_KEPT = 10_000;

/** A sacct row without an array index: a not-yet-split array (or the array's own record before sacct knows its index). */
export interface SacctPlainRow {
  jobId: string;
  state: TaskState;
  /** sacct's State as printed, e.g. `PENDING`, `CANCELLED by 1001`. */
  rawState: string;
}

export interface SacctOptions {
  /** The task keys (`J_I`) asked about: the own rows of other tasks are left out (range and plain rows never are). */
  wanted?: ReadonlySet<string>;
}

/** A task's own row, `J_I|…`, written as taskKey writes it (an index with a leading zero is parsed, never skipped). */
const TASK_ROW = /^\d+_(?:0|[1-9]\d*)\|/;

export interface SacctParse {
  /** One observation per array element, range rows expanded. */
  tasks: ArrayTaskObservation[];
  /** Rows `J|…` with no `_index`; never mapped to tasks (see module comment: `J|J|FAILED` is ONE task). */
  plain: SacctPlainRow[];
}

/**
 * Parses `sacct -X -P -n --format=JobID,JobIDRaw,State,ExitCode,Reason,Start,End` into task observations and plain
 * rows. Lines that are not rows (stderr, blanks, banners) and step/het rows are ignored. The reason of a
 * final row is dropped: sacct keeps the reason the task once WAITED for (a COMPLETED task still says
 * `JobArrayTaskLimit`), which would only mislead.
 */
export function parseSacctDetailed(text: string | readonly string[], options: SacctOptions = {}): SacctParse {
  const { tasks, plain } = sacctObservations(text, options);
  return { tasks: tasks.list(), plain };
}

/** parseSacctDetailed's rows as looked up (range rows not expanded): what the status command's parser keeps. */
export function sacctObservations(text: string | readonly string[], options: SacctOptions = {}): { tasks: TaskObservations; plain: SacctPlainRow[] } {
  const tasks = new TaskObservations();
  const plain: SacctPlainRow[] = [];
  const { wanted } = options;
  for (const line of linesOf(text)) {
    // a task's own row of a task nobody asked about (final already): passed over before any parsing. sacct
    // prints every row of an array; at 100 000 tasks most are long final when a status call asks for the rest
    const first = line.slice(0, line.indexOf('|'));
    const asked = wanted?.has(first);
    if (wanted && !asked && TASK_ROW.test(line)) continue;
    if (asked && addAskedRow(tasks, line, first)) continue;
    const fields = line.split('|');
    if (fields.length < 4) continue;
    const token = parseJobIdToken(fields[0]!);
    if (!token) continue;
    const rawState = fields[2]!.trim();
    const state = normalizeState(rawState);
    if (token.kind === 'plain') {
      plain.push({ jobId: token.jobId, state, rawState });
      continue;
    }
    const reason = isFinal(state) ? undefined : cleanReason(fields[4]);
    // the 0:0 of a task that has not ended (PENDING, RUNNING) is no exit code: addRow keeps it for ended ones
    // (a row asked for by its key starts with that key: it need not be made again)
    const own = tasks.addRow(token, state, parseExitCode(fields[3]), reason, asked ? first : undefined);
    // a task's own row carries its times (a range row's tasks never started)
    if (own) addTimes(own, fields[5], fields[6]);
  }
  return { tasks, plain };
}

/**
 * The usual row of a large answer, a task's own row asked for by its key (`first`, so `J_I` as taskKey writes
 * it), read field by field without splitting the line: 100 000 such rows made 100 000 arrays of 7 strings.
 * False for anything unusual (another number of fields), which the general path then reads.
 */
function addAskedRow(tasks: TaskObservations, line: string, first: string): boolean {
  const c2 = line.indexOf('|', first.length + 1), c3 = line.indexOf('|', c2 + 1), c4 = line.indexOf('|', c3 + 1);
  const c5 = line.indexOf('|', c4 + 1), c6 = line.indexOf('|', c5 + 1);
  if (c2 < 0 || c3 < 0 || c4 < 0 || c5 < 0 || c6 < 0 || line.indexOf('|', c6 + 1) >= 0) return false;
  const cut = first.indexOf('_');
  const state = normalizeState(line.slice(c2 + 1, c3).trim());
  const reason = isFinal(state) ? undefined : cleanReason(line.slice(c4 + 1, c5));
  const own = tasks.addRow({ kind: 'task', jobId: first.slice(0, cut), index: Number(first.slice(cut + 1)) }, state, parseExitCode(line.slice(c3 + 1, c4)), reason, first)!;
  addTimes(own, line.slice(c5 + 1, c6), line.slice(c6 + 1));
  return true;
}

/** A task row's Start and End columns, when it has started (an end without a start is not kept). */
function addTimes(own: ArrayTaskObservation, start: string | undefined, end: string | undefined): void {
  const started = parseSlurmTime(start);
  if (!started) return;
  own.start = started;
  const ended = parseSlurmTime(end);
  if (ended) own.end = ended;
}

/** Task observations from sacct output (plain `J|…` rows left out; use parseSacctDetailed for those). */
export function parseSacct(text: string): ArrayTaskObservation[] {
  return parseSacctDetailed(text).tasks;
}

// ───────────────────────────────────────────────────────────────────────────── squeue

/** The squeue format pilot asks for: job id, long state name, reason. */
export const SQUEUE_FORMAT = '%i|%T|%r';

/**
 * Parses `squeue -h -t all -o '%i|%T|%r'`: one line per task that started, and the pending rest of an array
 * as one collapsed line `J_[4-20%3]|PENDING|…`, expanded here (with `-r` squeue would print one line per
 * pending task: 100 000 lines for a large array, which only repeat that one). Plain job lines (non-array jobs,
 * which pilot never submits) are ignored. squeue has no exit code.
 */
export function parseSqueue(text: string | readonly string[]): ArrayTaskObservation[] {
  return squeueObservations(text).list();
}

/** parseSqueue's rows as looked up (range rows not expanded). */
export function squeueObservations(text: string | readonly string[]): TaskObservations {
  const tasks = new TaskObservations();
  for (const line of linesOf(text)) {
    const fields = line.split('|');
    if (fields.length < 2) continue;
    const token = parseJobIdToken(fields[0]!);
    if (!token || token.kind === 'plain') continue;
    tasks.addRow(token, normalizeState(fields[1]!), {}, cleanReason(fields[2]));
  }
  return tasks;
}

// ───────────────────────────────────────────────────────────────────────────── scontrol

/*
 * One `Key=value` field of a `scontrol -o show job` line. Values of these keys never contain spaces
 * (Reason uses underscores). Preceded by start or blank so `ExitCode` does not match `DerivedExitCode`.
 * Only JobName (user-chosen, before JobState) and Command/WorkDir/StdOut (after) are free text; pilot's
 * job names contain no ` Key=`.
 */
function scontrolField(line: string, key: string): string | undefined {
  return new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)?.[1];
}

/**
 * Parses `scontrol -o show job J` (one line per record): tasks have `ArrayTaskId=7`, the pending rest of an
 * array is one record `ArrayTaskId=4-20%3`. Records without ArrayJobId (non-array jobs) are ignored.
 */
export function parseScontrol(text: string): ArrayTaskObservation[] {
  return scontrolObservations(text).list();
}

/** parseScontrol's records as looked up, added to `tasks` (one set for the records of every id asked about). */
export function scontrolObservations(text: string, tasks = new TaskObservations()): TaskObservations {
  for (const line of text.split('\n')) {
    const arrayJobId = scontrolField(line, 'ArrayJobId');
    const taskSpec = scontrolField(line, 'ArrayTaskId');
    const jobState = scontrolField(line, 'JobState');
    if (!arrayJobId || !taskSpec || !jobState) continue;
    const token = parseJobIdToken(`${arrayJobId}_${/^\d+$/.test(taskSpec) ? taskSpec : `[${taskSpec}]`}`);
    if (!token || token.kind === 'plain') continue;
    const state = normalizeState(jobState);
    tasks.addRow(token, state, parseExitCode(scontrolField(line, 'ExitCode')), cleanReason(scontrolField(line, 'Reason')));
  }
  return tasks;
}

