/**
 * The ONE remote command that reports many Slurm array jobs in a single round trip (sacct, squeue, scontrol),
 * the splitting of its output into trusted sections, and the lag-safe merge. The row parsers are in parse.ts.
 *
 * Everything here was checked against real Slurm 22.05 output (golden files in test/fixtures/slurm/).
 * The facts that shape the code (see that folder's README for the recordings):
 * - sacct trails slurmctld by 0.5–5 s. Right after sbatch it has NO row at all; then possibly one plain row
 *   `J|J|PENDING` (or even `J|J|FAILED`: the array's own record, which is the LAST task, before sacct knows
 *   its index); never-started tasks stay one range row `J_[4-20%3]` / `J_[3,7,9]`, also after `scancel`.
 * - squeue (`-t all`) and scontrol are the controller's live view, but only until the record is purged
 *   (MinJobAge); squeue has no exit code.
 * - `squeue -j ONE_ID` of a purged job exits 1 ("Invalid job id specified"); `squeue -j ID1,ID2` of purged
 *   jobs exits 0 with no output. Both mean "the controller no longer knows these".
 */
import { PilotError } from '../../model/errors.js';
import { isFinal, type ArrayTaskObservation } from '../../model/states.js';
import { quote, shScript } from '../../util/quote.js';
import { sacctObservations, scontrolObservations, squeueObservations, SACCT_FORMAT, SQUEUE_FORMAT, taskKey, TaskObservations, type SacctOptions } from './parse.js';
import { parseTails, tailSteps, type TailDir } from './tails.js';
import { expectSteps, parseExpect, type ExpectTask } from './expect.js';

export { expandArrayTaskSpec, normalizeState, parseSacct, parseSacctDetailed, parseScontrol, parseSlurmTime, parseSqueue, taskKey } from './parse.js';

// ───────────────────────────────────────────────────────────────────────────── the one status command

/** Prefix of the section marker lines the status command prints; no Slurm output line starts with it. */
export const STATUS_MARK = '@@pilot:';

export interface StatusCommandOptions {
  /** true: sacct + squeue. false: squeue + scontrol per id. 'unknown': all three (first poll of a cluster). */
  accounting: boolean | 'unknown';
  /** stderr files whose end to read after the queries (tails.ts); with no job ids, only these are read. */
  tails?: readonly TailDir[];
  /** tasks whose expected files to check after the queries (expect.ts) */
  expects?: readonly ExpectTask[];
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
 * to be off), `squeue -t all` for all ids at once, and `scontrol -o show job` per id (unless accounting
 * is known to be on, because without sacct only scontrol has exit codes, and only while the record lives).
 * The script runs under `sh -c` so the remote login shell (bash, zsh, tcsh…) only has to parse one quoted
 * word. Job ids must be plain numbers (array job ids).
 */
export function buildStatusCommand(jobIds: readonly string[], opts: StatusCommandOptions): string {
  const ids = [...new Set(jobIds)];
  const tails = [...tailSteps(opts.tails ?? []), ...expectSteps(opts.expects ?? [])];
  if ((ids.length === 0 && !tails.length) || ids.some((id) => !/^\d+$/.test(id))) {
    throw new PilotError('INTERNAL', `buildStatusCommand needs numeric Slurm job ids, got [${jobIds.join(', ')}]`);
  }
  if (!ids.length) return shScript(['exec 3>&1', SECTION_FN, ...tails, 'true'].join('; '));
  const list = quote(ids.join(','));
  const steps = [
    'exec 3>&1', SECTION_FN,
    // every query is bounded; with the controller down squeue and scontrol would each hang ~10 s, so they are
    // skipped (one `scontrol ping` answers in milliseconds either way) while sacct (slurmdbd) still answers
    'T=; command -v timeout >/dev/null 2>&1 && T="timeout 20"',
    `up=1; scontrol ping 2>/dev/null | grep -q ' is UP' || { up=0; echo "${STATUS_MARK}controller-down"; }`,
  ];
  if (opts.accounting !== false) {
    // Start/End in UTC and in the one format parseSlurmTime reads, whatever the cluster's zone or the user's
    // profile (only sacct's times are read; squeue and scontrol print none pilot uses)
    steps.push('TZ=UTC; SLURM_TIME_FORMAT=standard; export TZ SLURM_TIME_FORMAT');
    steps.push(`s sacct $T sacct -X -P -n ${quote(`--format=${SACCT_FORMAT}`)} -j ${list}`);
  }
  // without -r: the pending rest of an array is ONE line (`J_[34-100000%10]`), not one per task
  steps.push(`[ $up = 1 ] && s squeue $T squeue -h -t all -o ${quote(SQUEUE_FORMAT)} -j ${list}`);
  if (opts.accounting !== true) {
    for (const id of ids) steps.push(`[ $up = 1 ] && s ${quote(`scontrol:${id}`)} $T scontrol -o show job ${quote(id)}`);
  }
  steps.push(...tails, 'true');
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
/** The sections, and whether the command said the controller is down (the stdout is split once: it can be megabytes). */
function splitSections(stdout: string): { sections: Section[]; controllerDown: boolean } {
  const sections: Section[] = [];
  let controllerDown = false;
  let open: Section | undefined;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(STATUS_MARK)) {
      if (open && line !== '') open.lines.push(line);
      continue;
    }
    const marker = line.slice(STATUS_MARK.length);
    if (marker === 'controller-down') controllerDown = true;
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
  return { sections, controllerDown };
}

const ACCOUNTING_DISABLED = /accounting storage is disabled/i;
/* slurmctld no longer knows the id(s): a valid, empty answer, not a failure */
const INVALID_JOB_ID = /Invalid job id specified/i;

export interface StatusOutput {
  /** sacct said "Slurm accounting storage is disabled": poll with `accounting: false` from now on. */
  accountingDisabled: boolean;
  /** Present only when sacct ran and succeeded (rc 0, section complete). */
  sacct?: TaskObservations;
  /** The controller's view; empty when squeue failed or no longer knows the ids. */
  squeue: TaskObservations;
  /** Present when scontrol ran for at least one id. */
  scontrol?: TaskObservations;
  /** Unexpected failures (rc, stderr) and cut-off sections; absences are not evidence while this is non-empty. */
  errors: string[];
  /** `scontrol ping` said the controller is down (squeue and scontrol were not asked). */
  controllerDown?: boolean;
  /** The last stderr line of each file read (key `<job id>_<index>`), from complete `tails` sections only. */
  tails?: Map<string, string>;
  /** Missing expected files per checked task (key `<job id>_<index>`), from complete `expect` sections only. */
  expects?: Map<string, number[]>;
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
export function parseStatusOutput(stdout: string, options: SacctOptions = {}): StatusOutput {
  const { sections, controllerDown } = splitSections(stdout);
  // a cut-off section is not trusted: its files are read again at the next call
  const tails = sections.filter((s) => s.name === 'tails' && s.rc !== undefined);
  const expects = sections.filter((s) => s.name === 'expect' && s.rc === 0);
  const out: StatusOutput = {
    accountingDisabled: false, squeue: new TaskObservations(), errors: [], ...(tails.length ? { tails: parseTails(tails) } : {}), ...(expects.length ? { expects: parseExpect(expects) } : {}),
  };
  let sawSqueue = false;
  for (const section of sections) {
    if (section.name === 'sacct') {
      // (rows start with a job id: only the other lines can say it, and a 100 000-row answer is not searched)
      if (section.stderr.some((line) => ACCOUNTING_DISABLED.test(line)) || section.lines.some((line) => !/^\d/.test(line) && ACCOUNTING_DISABLED.test(line))) {
        out.accountingDisabled = true;
      } else if (sectionUsable(section, out.errors)) {
        out.sacct = sacctObservations(section.lines, options).tasks;
      }
    } else if (section.name === 'squeue') {
      sawSqueue = true;
      if (sectionUsable(section, out.errors)) out.squeue = squeueObservations(section.lines);
    } else if (section.name.startsWith('scontrol:')) {
      out.scontrol ??= new TaskObservations();
      if (sectionUsable(section, out.errors)) scontrolObservations(section.lines.join('\n'), out.scontrol);
    }
  }
  if (controllerDown) {
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
  /** taskKey(jobId, arrayIndex), when the caller already made it */
  key?: string;
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
type Observed = TaskObservations | readonly ArrayTaskObservation[];

export function mergeObservations(
  parsed: { sacct?: Observed; squeue?: Observed; scontrol?: Observed },
  expected: readonly ExpectedTask[],
): Map<string, ArrayTaskObservation> {
  const merge = merger(parsed);
  const merged = new Map<string, ArrayTaskObservation>();
  for (const { jobId, arrayIndex, key = taskKey(jobId, arrayIndex) } of expected) merged.set(key, merge(jobId, arrayIndex, key));
  return merged;
}

/** The merge of one task at a time (what observe.ts asks for each open task, without a map of 100 000 of them). */
export function merger(parsed: { sacct?: Observed; squeue?: Observed; scontrol?: Observed }): (jobId: string, arrayIndex: number, key: string) => ArrayTaskObservation {
  const sacct = parsed.sacct && TaskObservations.of(parsed.sacct);
  const squeue = TaskObservations.of(parsed.squeue);
  const scontrol = parsed.scontrol && TaskObservations.of(parsed.scontrol);
  return (jobId, arrayIndex, key) => mergeOne(jobId, arrayIndex, sacct?.find(jobId, arrayIndex, key), squeue.find(jobId, arrayIndex, key), scontrol?.find(jobId, arrayIndex, key));
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
