/**
 * The shape check of a job record read from disk, before anything uses it. A record is the one file pilot
 * trusts about a job: a truncated or hand-edited one must fail with a sentence naming the field, never as a
 * `Cannot read properties of undefined` deep inside a command. Light on purpose (no zod): `pilot list` reads
 * every record, and this costs microseconds and no module load.
 */
import { TASK_STATES } from './states.js';
import { packedProblem, type PackedStates } from './record-pack.js';
import { rangeBounds } from './ranges.js';

/**
 * The newest record version this pilot reads; older ones are upgraded on read, newer ones refused. Version 3
 * is a version-2 record whose per-task data is packed as text (record-pack.ts, PACKED_VERSION): written only
 * for such records, so that a pilot from before it refuses them as newer instead of calling them damaged.
 */
export const RECORD_VERSION = 3;

/** A job name: what jobName accepts, and all the store accepts as a folder name (so never `..` or a path). */
export const JOB_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** What is wrong with a record, and whether it is simply newer than this pilot (a different fix). */
export interface RecordProblem {
  problem: string;
  newer?: boolean;
}

/** What is wrong at `path` inside the record (`.attempts[0].indices`, or '' for the whole value). */
interface Issue {
  path: string;
  what: string;
}
type Check = (value: unknown) => Issue | undefined;
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
const is = (ok: boolean, what: string): Issue | undefined => (ok ? undefined : { path: '', what });
const within = (prefix: string, issue: Issue | undefined): Issue | undefined => issue && { path: prefix + issue.path, what: issue.what };

const str: Check = (v) => is(typeof v === 'string', `is ${kind(v)}, not text`);
const absPath: Check = (v) => str(v) ?? is((v as string).startsWith('/'), `is ${JSON.stringify(v)}, not an absolute path`);
const int = (min: number): Check => (v) => is(Number.isSafeInteger(v) && (v as number) >= min, `is ${JSON.stringify(v)}, not a whole number ≥ ${min}`);
const num: Check = (v) => is(typeof v === 'number' && Number.isFinite(v), `is ${JSON.stringify(v)}, not a number`);
const oneOf = (...values: string[]): Check => (v) => is(values.includes(v as string), `is ${JSON.stringify(v)}, not one of ${values.join(', ')}`);
const optional = (check: Check): Check => (v) => (v === undefined ? undefined : check(v));

/** An object with these fields (others are allowed: a newer pilot of the same version may add some). */
function object(fields: Record<string, Check>): Check {
  return (v) => {
    if (!isObj(v)) return is(false, `is ${kind(v)}, not an object`);
    for (const [key, check] of Object.entries(fields)) {
      const issue = check(v[key]);
      if (issue) return { path: `.${key}${issue.path}`, what: v[key] === undefined ? 'is missing' : issue.what };
    }
    return undefined;
  };
}

function list(item: Check): Check {
  return (v) => {
    if (!Array.isArray(v)) return is(false, `is ${kind(v)}, not a list`);
    for (let i = 0; i < v.length; i++) {
      const issue = within(`[${i}]`, item(v[i]));
      if (issue) return issue;
    }
    return undefined;
  };
}

/** `{ "3": … }`: per task number (from 0 for jobs with arrayBase 0). */
function byTask(item: Check): Check {
  return (v) => {
    if (!isObj(v)) return is(false, `is ${kind(v)}, not an object`);
    // for…in, not Object.entries: a 100 000-task record would build 100 000 pairs just to check them
    for (const key in v) {
      const issue = TASK_KEY.test(key) ? within(`["${key}"]`, item(v[key])) : is(false, `has the key ${JSON.stringify(key)}, not a task number`);
      if (issue) return issue;
    }
    return undefined;
  };
}

const TASK_KEY = /^(0|[1-9]\d*)$/;

/** Task numbers as compressed ranges (`1-3,7`): what the store writes for runs of states (packedProblem checks their bounds). */
const rangeList: Check = (v) => str(v) ?? is(isRangeList(v as string), `is ${JSON.stringify(v)}, not a list of task numbers`);

/** Parsed by the one range parser (model/ranges.ts), not expanded. */
function isRangeList(spec: string): boolean {
  try {
    return rangeBounds(spec) !== undefined;
  } catch {
    return false;
  }
}
const isNumber = (v: unknown) => typeof v === 'number';

// index 0: the first task of a job launched with arrayBase 0
const taskStatusInDetail = object({ index: int(0), state: oneOf(...TASK_STATES), attempt: int(1) });
const STATES: ReadonlySet<unknown> = new Set(TASK_STATES);
/** The same check, with a fast yes for the usual well-formed entry (one per task); the detail says what is wrong. */
const taskStatus: Check = (v) => (isObj(v) && Number.isSafeInteger(v.index) && (v.index as number) >= 0 && STATES.has(v.state)
  && Number.isSafeInteger(v.attempt) && (v.attempt as number) >= 1 ? undefined : taskStatusInDetail(v));
// version 1 named a submission's id slurmJobId; upgradeRecord renames it
const submission: Check = (v) => object({ offset: int(0), arraySpec: str })(v)
  ?? (typeof ((v as Obj).jobId ?? (v as Obj).slurmJobId) === 'string' ? undefined : { path: '.jobId', what: 'is missing' });

/** The fields a reader of the attempts needs (`pilot logs NAME/I` from the cache: recordHeadProblem). */
const HEAD = {
  name: str,
  tasks: int(1),
  chunkSize: int(1),
  info: object({ arrayBase: optional((v) => is(v === 0 || v === 1, `is ${JSON.stringify(v)}, not 0 or 1`)) }),
  attempts: list(object({ attempt: int(1), indices: str, arrays: list(submission) })),
  pending: optional(object({ attempt: int(1), token: str, startedAt: str, indices: str, planned: list(object({ offset: int(0), spec: str })) })),
};

const RECORD_HEAD = object(HEAD);
// in the order of a record as written: the first field at fault is the one named
const RECORD = object({
  name: HEAD.name,
  cluster: str,
  backend: oneOf('slurm', 'local'),
  createdAt: str,
  tasks: HEAD.tasks,
  chunkSize: HEAD.chunkSize,
  maxConcurrent: optional(int(1)),
  info: HEAD.info,
  bundle: object({ sha256: str, bytes: num, files: num }),
  remote: object({ jobDir: absPath, bundleDir: absPath }),
  attempts: HEAD.attempts,
  pending: HEAD.pending,
  finalStates: byTask(taskStatus),
  lastKnown: optional(byTask(taskStatus)),
  lastKnownRuns: optional(list(object({ state: oneOf(...TASK_STATES), attempt: int(1), tasks: rangeList }))),
  // texts and rows packed (record-pack.ts), or lists as version-2 records hold them (packedProblem checks
  // what they hold)
  finalTable: optional(object({
    columns: list(str),
    texts: (v) => is(typeof v === 'string' || Array.isArray(v), 'is neither packed texts nor a list'),
    rows: (v) => is(typeof v === 'string' || (Array.isArray(v) && v.every(isNumber)), 'is neither packed rows nor a list of numbers'),
  })),
  argvPacked: optional(str),
  paramsPacked: optional(str),
});

/**
 * Checks a parsed `job.json` that lives in the folder `folder` (the job's name). Returns undefined when the
 * record can be used (after upgradeRecord), or what is wrong with it, phrased to follow "the record …".
 */
export function recordProblem(raw: unknown, folder: string): RecordProblem | undefined {
  return problemOf(raw, folder, RECORD, true);
}

/**
 * The same check of the record's head alone (name, tasks, chunk size, arrayBase, attempts, pending): enough
 * for a reader of the attempts, and microseconds where the whole check of a 100 000-task record takes tens
 * of milliseconds. Undefined does NOT mean the rest of the record is sound.
 */
export function recordHeadProblem(raw: unknown, folder: string): RecordProblem | undefined {
  return problemOf(raw, folder, RECORD_HEAD, false);
}

function problemOf(raw: unknown, folder: string, shape: Check, packed: boolean): RecordProblem | undefined {
  if (!isObj(raw)) return { problem: `holds ${kind(raw)}, not a job record` };
  const version = raw.version;
  if (!Number.isSafeInteger(version) || (version as number) < 1) return { problem: `has no valid version (${JSON.stringify(version)})` };
  if ((version as number) > RECORD_VERSION) {
    return { problem: `was written by a newer pilot (record version ${version}; this one reads versions up to ${RECORD_VERSION})`, newer: true };
  }
  const issue = shape(raw);
  if (issue) return { problem: `field ${issue.path.slice(1)} ${issue.what}` };
  const inPacked = packed ? packedProblem(raw as unknown as PackedStates & { tasks: number }, STATES) : undefined;
  if (inPacked) return { problem: inPacked };
  if (raw.name !== folder) return { problem: `names the job ${JSON.stringify(raw.name)} but lives in the folder of '${folder}' (copied or renamed by hand?)` };
  return undefined;
}
