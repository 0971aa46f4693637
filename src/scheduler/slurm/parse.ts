/**
 * Pure parsers of what sacct, squeue and scontrol print, into per-task observations. Checked against real
 * Slurm 22.05 output (golden files in test/fixtures/slurm/; see their README for the shapes that matter):
 * range rows `J_[4-20%3]` and `J_[3,7,9]` are expanded, steps and het jobs ignored, a lagging range row never
 * overrides a task's own row, and one unreadable row never hides the others.
 */
import { PilotError } from '../../model/errors.js';
import { expandRanges } from '../../model/ranges.js';
import { isFinal, type ArrayTaskObservation, type TaskState } from '../../model/states.js';

// ───────────────────────────────────────────────────────────────────────────── states

/*
 * Slurm job states (long names, as sacct State, squeue %T and scontrol JobState print them) → ours.
 * A Map, not an object literal, so that inputs like "constructor" cannot hit prototype keys.
 */
const SLURM_STATES = new Map<string, TaskState>([
  ['PENDING', 'PENDING'],
  // requeued/held jobs will run again (or wait for a human): not final, so never "done"
  ['REQUEUED', 'PENDING'],
  ['REQUEUE_HOLD', 'PENDING'],
  ['REQUEUE_FED', 'PENDING'],
  ['RESV_DEL_HOLD', 'PENDING'],
  // SPECIAL_EXIT = requeued in a held state by an epilog: it can still run again, so it is not final
  ['SPECIAL_EXIT', 'PENDING'],
  ['RUNNING', 'RUNNING'],
  // these hold an allocation and the program has started (or is about to): logs may exist, not final yet
  ['CONFIGURING', 'RUNNING'],
  ['COMPLETING', 'RUNNING'],
  ['SUSPENDED', 'RUNNING'],
  ['STOPPED', 'RUNNING'],
  ['RESIZING', 'RUNNING'],
  ['SIGNALING', 'RUNNING'],
  ['STAGE_OUT', 'RUNNING'],
  ['COMPLETED', 'COMPLETED'],
  ['FAILED', 'FAILED'],
  ['CANCELLED', 'CANCELLED'],
  // a federation sibling that was revoked because another cluster ran the job: this copy will never run
  ['REVOKED', 'CANCELLED'],
  ['TIMEOUT', 'TIMEOUT'],
  // DEADLINE = killed because --deadline passed: a time limit, restartable like TIMEOUT
  ['DEADLINE', 'TIMEOUT'],
  ['OUT_OF_MEMORY', 'OUT_OF_MEMORY'],
  ['NODE_FAIL', 'NODE_FAIL'],
  ['BOOT_FAIL', 'NODE_FAIL'],
  ['PREEMPTED', 'PREEMPTED'],
]);

/**
 * Maps a Slurm state string to a TaskState. Accepts sacct's `CANCELLED by 1001` and the `+` that sacct
 * appends when it truncates a column; anything unrecognised (including squeue's short codes `PD`, `R`,
 * which pilot never requests) is UNKNOWN, which callers treat as "poll again".
 */
export function normalizeState(raw: string): TaskState {
  const word = (raw.trim().split(/\s+/)[0] ?? '').replace(/\+$/, '').toUpperCase();
  return SLURM_STATES.get(word) ?? 'UNKNOWN';
}

// ───────────────────────────────────────────────────────────────────────────── ids and ranges

/* Slurm's MaxArraySize cannot exceed 4000001; a spec expanding beyond that is garbage, not an array. */
const MAX_EXPANDED = 4_000_001;

/**
 * Expands a Slurm array index list into indices: `4-20%3` → 4..20, `3,7,9`, `1-9:4` → 1,5,9,
 * `1,3,5-7%2` → 1,3,5,6,7. Surrounding brackets (`[4-20%3]`) are accepted. The `%K` throttle only says how
 * many run at once, so it is dropped. Throws a PilotError('REMOTE') on anything else.
 */
export function expandArrayTaskSpec(spec: string): number[] {
  let body = spec.trim();
  if (body.startsWith('[') && body.endsWith(']')) body = body.slice(1, -1);
  try {
    const indices = expandRanges(body.replace(/%\d+$/, ''), MAX_EXPANDED);
    if (indices.length) return indices;
  } catch {
    // not a range list at all: reported below like an empty one
  }
  throw new PilotError('REMOTE', `Unrecognised Slurm array task list "${spec}"`, {
    hint: 'Slurm printed an array index list pilot cannot read; please report it with `pilot status --verbose`.',
  });
}

/** What a job id column (sacct JobID, squeue %i) denotes. Steps (`J_7.batch`) and het jobs (`J+0`) → undefined. */
type JobIdToken =
  | { kind: 'task'; jobId: string; index: number }
  | { kind: 'range'; jobId: string; indices: number[] }
  | { kind: 'plain'; jobId: string };

function parseJobIdToken(token: string): JobIdToken | undefined {
  const m = /^(\d+)(?:_(\d+|\[[^\]]+\]))?$/.exec(token.trim());
  if (!m) return undefined;
  const jobId = m[1]!;
  const suffix = m[2];
  if (suffix === undefined) return { kind: 'plain', jobId };
  if (!suffix.startsWith('[')) return { kind: 'task', jobId, index: Number(suffix) };
  try {
    return { kind: 'range', jobId, indices: expandArrayTaskSpec(suffix) };
  } catch {
    return undefined; // one unreadable row must not hide the others; its tasks just stay UNKNOWN
  }
}

/** `3:0` → exit 3; `0:9` → exit 0, signal 9. */
function parseExitCode(text: string | undefined): Pick<ArrayTaskObservation, 'exitCode' | 'signal'> {
  const m = /^(\d+):(\d+)$/.exec(text?.trim() ?? '');
  if (!m) return {};
  const signal = Number(m[2]);
  return signal === 0 ? { exitCode: Number(m[1]) } : { exitCode: Number(m[1]), signal };
}

function cleanReason(text: string | undefined): string | undefined {
  const reason = text?.trim();
  return !reason || reason === 'None' || reason === '(null)' ? undefined : reason;
}

/** Map key of one array element: `${jobId}_${arrayIndex}`, as Slurm itself writes it. */
export function taskKey(jobId: string, arrayIndex: number): string {
  return `${jobId}_${arrayIndex}`;
}

/**
 * Collects observations keyed by task; a task's own row beats a range row that also lists it (a lagging
 * sacct can still show `J_[7-20%3]` after tasks 7-9 got their own records).
 */
class ObservationSet {
  private readonly byKey = new Map<string, { obs: ArrayTaskObservation; fromRange: boolean }>();

  add(obs: ArrayTaskObservation, fromRange: boolean): void {
    const key = taskKey(obs.jobId, obs.arrayIndex);
    const had = this.byKey.get(key);
    if (had && !had.fromRange && fromRange) return;
    this.byKey.set(key, { obs, fromRange });
  }

  /** Adds one row: a task row keeps its exit code; a range row's tasks never ran, so its `0:0` is no exit code. */
  addToken(token: Extract<JobIdToken, { kind: 'task' | 'range' }>, fields: Omit<ArrayTaskObservation, 'jobId' | 'arrayIndex'>): void {
    if (token.kind === 'task') {
      this.add({ jobId: token.jobId, arrayIndex: token.index, ...fields }, false);
      return;
    }
    const { exitCode: _exit, signal: _signal, ...rest } = fields;
    for (const index of token.indices) this.add({ jobId: token.jobId, arrayIndex: index, ...rest }, true);
  }

  list(): ArrayTaskObservation[] {
    return [...this.byKey.values()].map((entry) => entry.obs);
  }
}

/** Drops undefined optional fields so observations compare and serialise cleanly; a task not ended has no exit code. */
function observationFields(state: TaskState, exit: Pick<ArrayTaskObservation, 'exitCode' | 'signal'>, reason: string | undefined) {
  return { state, ...(isFinal(state) ? exit : {}), ...(reason === undefined ? {} : { reason }) };
}

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
export function parseSacctDetailed(text: string): SacctParse {
  const tasks = new ObservationSet();
  const plain: SacctPlainRow[] = [];
  for (const line of text.split('\n')) {
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
    if (token.kind === 'task') {
      // the one row per task of a finished array: built in place (a 100 000-task array is 100 000 of these,
      // and the spreads of the general path doubled the parse time; bench/replay-scale.ts)
      const obs: ArrayTaskObservation = { jobId: token.jobId, arrayIndex: token.index, state };
      if (isFinal(state)) {   // the 0:0 of a task that has not ended (PENDING, RUNNING) is no exit code
        const exit = parseExitCode(fields[3]);
        if (exit.exitCode !== undefined) obs.exitCode = exit.exitCode;
        if (exit.signal !== undefined) obs.signal = exit.signal;
      }
      if (reason !== undefined) obs.reason = reason;
      const start = parseSlurmTime(fields[5]);
      if (start) {
        obs.start = start;
        const end = parseSlurmTime(fields[6]);
        if (end) obs.end = end;
      }
      tasks.add(obs, false);
      continue;
    }
    // a range row's tasks never started: it has no times of theirs
    tasks.addToken(token, observationFields(state, parseExitCode(fields[3]), reason));
  }
  return { tasks: tasks.list(), plain };
}

/** Task observations from sacct output (plain `J|…` rows left out; use parseSacctDetailed for those). */
export function parseSacct(text: string): ArrayTaskObservation[] {
  return parseSacctDetailed(text).tasks;
}

// ───────────────────────────────────────────────────────────────────────────── squeue

/** The squeue format pilot asks for: job id, long state name, reason. */
export const SQUEUE_FORMAT = '%i|%T|%r';

/**
 * Parses `squeue -h -t all -r -o '%i|%T|%r'`: one line per task thanks to `-r`, but collapsed lines like
 * `J_[4-20%3]|PENDING|…` (squeue without -r) are expanded too. Plain job lines (non-array jobs, which pilot
 * never submits) are ignored. squeue has no exit code.
 */
export function parseSqueue(text: string): ArrayTaskObservation[] {
  const tasks = new ObservationSet();
  for (const line of text.split('\n')) {
    const fields = line.split('|');
    if (fields.length < 2) continue;
    const token = parseJobIdToken(fields[0]!);
    if (!token || token.kind === 'plain') continue;
    tasks.addToken(token, observationFields(normalizeState(fields[1]!), {}, cleanReason(fields[2])));
  }
  return tasks.list();
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
  const tasks = new ObservationSet();
  for (const line of text.split('\n')) {
    const arrayJobId = scontrolField(line, 'ArrayJobId');
    const taskSpec = scontrolField(line, 'ArrayTaskId');
    const jobState = scontrolField(line, 'JobState');
    if (!arrayJobId || !taskSpec || !jobState) continue;
    const token = parseJobIdToken(`${arrayJobId}_${/^\d+$/.test(taskSpec) ? taskSpec : `[${taskSpec}]`}`);
    if (!token || token.kind === 'plain') continue;
    const state = normalizeState(jobState);
    tasks.addToken(token, observationFields(state, parseExitCode(scontrolField(line, 'ExitCode')), cleanReason(scontrolField(line, 'Reason'))));
  }
  return tasks.list();
}

