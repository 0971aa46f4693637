/**
 * Pure Slurm status parsing: sacct / squeue / scontrol text → per-task observations, plus the ONE remote
 * command that collects all three for many array jobs in a single round trip, and the lag-safe merge.
 *
 * Everything here was checked against real Slurm 22.05 output (golden files in test/fixtures/slurm/).
 * The facts that shape the code (see that folder's README for the recordings):
 * - sacct trails slurmctld by 0.5–5 s. Right after sbatch it has NO row at all; then possibly one plain row
 *   `J|J|PENDING` (or even `J|J|FAILED`: the array's own record, which is the LAST task, before sacct knows
 *   its index); never-started tasks stay one range row `J_[4-20%3]` / `J_[3,7,9]`, also after `scancel`.
 * - squeue (`-t all -r`) and scontrol are the controller's live view, but only until the record is purged
 *   (MinJobAge); squeue has no exit code.
 * - `squeue -j ONE_ID` of a purged job exits 1 ("Invalid job id specified"); `squeue -j ID1,ID2` of purged
 *   jobs exits 0 with no output. Both mean "the controller no longer knows these".
 */
import { PilotError } from '../../model/errors.js';
import { expandRanges } from '../../model/ranges.js';
import { quote, shScript } from '../../util/quote.js';
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

/** Drops undefined optional fields so observations compare and serialise cleanly. */
function observationFields(state: TaskState, exit: Pick<ArrayTaskObservation, 'exitCode' | 'signal'>, reason: string | undefined) {
  return { state, ...exit, ...(reason === undefined ? {} : { reason }) };
}

// ───────────────────────────────────────────────────────────────────────────── sacct

/** The sacct columns pilot asks for (`Reason` verified as a valid sacct field on 22.05). */
export const SACCT_FORMAT = 'JobID,JobIDRaw,State,ExitCode,Reason';

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
 * Parses `sacct -X -P -n --format=JobID,JobIDRaw,State,ExitCode,Reason` into task observations and plain
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

// ───────────────────────────────────────────────────────────────────────────── the one status command

/** Prefix of the section marker lines the status command prints; no Slurm output line starts with it. */
export const STATUS_MARK = '@@pilot:';

export interface StatusCommandOptions {
  /** true: sacct + squeue. false: squeue + scontrol per id. 'unknown': all three (first poll of a cluster). */
  accounting: boolean | 'unknown';
}

/*
 * `s NAME CMD…` runs CMD with its stdout passed straight through (fd 3 = the real stdout) and its stderr
 * captured, then prints the stderr lines prefixed and the exit status. Capturing stderr apart means an
 * error message can never land in the middle of a data line (sacct's stdout is block-buffered and may be
 * flushed mid-line), yet the parser still sees "accounting storage is disabled" / "Invalid job id".
 * `begin`/`end` lines frame each section: a section without `end` was cut off and is not trusted.
 */
const SECTION_FN =
  `s() { n=$1; shift; echo "${STATUS_MARK}begin $n"; e=$("$@" 2>&1 >&3); r=$?; ` +
  `[ -z "$e" ] || printf '%s\\n' "$e" | sed 's/^/${STATUS_MARK}stderr /'; echo "${STATUS_MARK}end $n rc=$r"; }`;

/**
 * Builds ONE shell command line that reports every listed array job: `sacct` (unless accounting is known
 * to be off), `squeue -t all -r` for all ids at once, and `scontrol -o show job` per id (unless accounting
 * is known to be on, because without sacct only scontrol has exit codes, and only while the record lives).
 * The script runs under `sh -c` so the remote login shell (bash, zsh, tcsh…) only has to parse one quoted
 * word. Job ids must be plain numbers (array job ids).
 */
export function buildStatusCommand(jobIds: readonly string[], opts: StatusCommandOptions): string {
  const ids = [...new Set(jobIds)];
  if (ids.length === 0 || ids.some((id) => !/^\d+$/.test(id))) {
    throw new PilotError('INTERNAL', `buildStatusCommand needs numeric Slurm job ids, got [${jobIds.join(', ')}]`);
  }
  const list = quote(ids.join(','));
  const steps = [
    'exec 3>&1', SECTION_FN,
    // every query is bounded; with the controller down squeue and scontrol would each hang ~10 s, so they are
    // skipped (one `scontrol ping` answers in milliseconds either way) while sacct (slurmdbd) still answers
    'T=; command -v timeout >/dev/null 2>&1 && T="timeout 20"',
    `up=1; scontrol ping 2>/dev/null | grep -q ' is UP' || { up=0; echo "${STATUS_MARK}controller-down"; }`,
  ];
  if (opts.accounting !== false) {
    steps.push(`s sacct $T sacct -X -P -n ${quote(`--format=${SACCT_FORMAT}`)} -j ${list}`);
  }
  steps.push(`[ $up = 1 ] && s squeue $T squeue -h -t all -r -o ${quote(SQUEUE_FORMAT)} -j ${list}`);
  if (opts.accounting !== true) {
    for (const id of ids) steps.push(`[ $up = 1 ] && s ${quote(`scontrol:${id}`)} $T scontrol -o show job ${quote(id)}`);
  }
  steps.push('true');
  return shScript(steps.join('; '));
}

interface Section {
  name: string;
  lines: string[];
  stderr: string[];
  /** undefined: the `end` marker never came (output cut off). */
  rc?: number;
}

/** Splits the status command's stdout into its sections; lines outside sections (login banners) are dropped. */
function splitSections(stdout: string): Section[] {
  const sections: Section[] = [];
  let open: Section | undefined;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(STATUS_MARK)) {
      if (open && line !== '') open.lines.push(line);
      continue;
    }
    const marker = line.slice(STATUS_MARK.length);
    const begin = /^begin (\S+)$/.exec(marker);
    const end = /^end (\S+) rc=(\d+)$/.exec(marker);
    if (begin) {
      open = { name: begin[1]!, lines: [], stderr: [] };
      sections.push(open);
    } else if (marker.startsWith('stderr ') && open) {
      open.stderr.push(marker.slice('stderr '.length));
    } else if (end && open && end[1] === open.name) {
      open.rc = Number(end[2]);
      open = undefined;
    }
  }
  return sections;
}

const ACCOUNTING_DISABLED = /accounting storage is disabled/i;
/* slurmctld no longer knows the id(s): a valid, empty answer, not a failure */
const INVALID_JOB_ID = /Invalid job id specified/i;

export interface StatusOutput {
  /** sacct said "Slurm accounting storage is disabled": poll with `accounting: false` from now on. */
  accountingDisabled: boolean;
  /** Present only when sacct ran and succeeded (rc 0, section complete). */
  sacct?: ArrayTaskObservation[];
  /** The controller's view; empty when squeue failed or no longer knows the ids. */
  squeue: ArrayTaskObservation[];
  /** Present when scontrol ran for at least one id. */
  scontrol?: ArrayTaskObservation[];
  /** Unexpected failures (rc, stderr) and cut-off sections; absences are not evidence while this is non-empty. */
  errors: string[];
  /** `scontrol ping` said the controller is down (squeue and scontrol were not asked). */
  controllerDown?: boolean;
}

function sectionError(section: Section): string {
  const why = section.rc === undefined ? 'output cut off' : `rc=${section.rc}`;
  return `${section.name}: ${why}${section.stderr.length ? `: ${section.stderr.join(' / ')}` : ''}`;
}

/** True when a section's output can be trusted; "Invalid job id" failures count as a trusted empty answer. */
function sectionUsable(section: Section, errors: string[]): boolean {
  if (section.rc === 0) return true;
  if (section.rc !== undefined && section.stderr.some((line) => INVALID_JOB_ID.test(line))) return true;
  errors.push(sectionError(section));
  return false;
}

/** Parses the stdout of buildStatusCommand's command line. Never throws: problems go to `errors`. */
export function parseStatusOutput(stdout: string): StatusOutput {
  const out: StatusOutput = { accountingDisabled: false, squeue: [], errors: [] };
  let sawSqueue = false;
  for (const section of splitSections(stdout)) {
    if (section.name === 'sacct') {
      if ([...section.stderr, ...section.lines].some((line) => ACCOUNTING_DISABLED.test(line))) {
        out.accountingDisabled = true;
      } else if (sectionUsable(section, out.errors)) {
        const parsed = parseSacctDetailed(section.lines.join('\n'));
        out.sacct = parsed.tasks;
      }
    } else if (section.name === 'squeue') {
      sawSqueue = true;
      if (sectionUsable(section, out.errors)) out.squeue = parseSqueue(section.lines.join('\n'));
    } else if (section.name.startsWith('scontrol:')) {
      out.scontrol ??= [];
      if (sectionUsable(section, out.errors)) out.scontrol.push(...parseScontrol(section.lines.join('\n')));
    }
  }
  if (stdout.split('\n').includes(`${STATUS_MARK}controller-down`)) {
    out.controllerDown = true;
    out.errors.push('slurmctld is not responding (scontrol ping: DOWN): finished tasks come from sacct, the others keep their last known state');
  } else if (!sawSqueue) {
    out.errors.push('squeue: no output section (the status command did not run?)');
  }
  return out;
}

// ───────────────────────────────────────────────────────────────────────────── merge

export interface ExpectedTask {
  jobId: string;
  arrayIndex: number;
}

function indexByTask(observations: readonly ArrayTaskObservation[] | undefined): Map<string, ArrayTaskObservation> {
  return new Map((observations ?? []).map((obs) => [taskKey(obs.jobId, obs.arrayIndex), obs]));
}

/**
 * The lag-safe merge, one observation per expected task (key `${jobId}_${arrayIndex}`):
 * 1. the controller's view (scontrol, which runs last, else squeue) says PENDING/RUNNING → that; it is fresher
 *    than sacct, which trails by seconds;
 * 2. sacct says final → sacct's row (its exit code is the one later polls will keep seeing);
 * 3. the controller says final → that, exit code from scontrol when it has one; squeue's COMPLETED implies 0;
 * 4. anything else — sacct not final and gone from the controller, or absent everywhere (purged without
 *    accounting) → UNKNOWN: poll again, never done, never COMPLETED.
 */
export function mergeObservations(
  parsed: Pick<StatusOutput, 'sacct' | 'squeue' | 'scontrol'>,
  expected: readonly ExpectedTask[],
): Map<string, ArrayTaskObservation> {
  const sacct = indexByTask(parsed.sacct);
  const squeue = indexByTask(parsed.squeue);
  const scontrol = indexByTask(parsed.scontrol);
  const merged = new Map<string, ArrayTaskObservation>();
  for (const { jobId, arrayIndex } of expected) {
    const key = taskKey(jobId, arrayIndex);
    merged.set(key, mergeOne(jobId, arrayIndex, sacct.get(key), squeue.get(key), scontrol.get(key)));
  }
  return merged;
}

function mergeOne(
  jobId: string,
  arrayIndex: number,
  fromSacct: ArrayTaskObservation | undefined,
  fromSqueue: ArrayTaskObservation | undefined,
  fromScontrol: ArrayTaskObservation | undefined,
): ArrayTaskObservation {
  const live = fromScontrol ?? fromSqueue;
  if (live && (live.state === 'PENDING' || live.state === 'RUNNING')) return live;
  if (fromSacct && isFinal(fromSacct.state)) return fromSacct;
  if (live && isFinal(live.state)) {
    if (live === fromScontrol || live.state !== 'COMPLETED' || live.exitCode !== undefined) return live;
    return { ...live, exitCode: 0 };
  }
  return { jobId, arrayIndex, state: 'UNKNOWN' };
}
