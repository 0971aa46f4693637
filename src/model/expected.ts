/**
 * Expected outputs: a job's `expectedFiles` are glob patterns every task must leave behind. A task the scheduler
 * calls COMPLETED while one of them matches nothing has not done its work: it becomes MISSING_OUTPUT, a final
 * failure state that `restart-failed` restarts by default.
 *
 * The check runs in the status round trip, after the state queries (so a task seen final has written all it
 * will write). Like stderr tails, which tasks to check is decided before anyone knows which ones completed: the
 * open tasks of the jobs that expect files, within a budget. A task seen COMPLETED without a check (over the
 * budget, or a cut-off answer) is kept provisional, so the next call asks again and checks it: a COMPLETED state
 * is never stored unchecked.
 *
 * Patterns are data, never shell text: the Slurm side passes each one as one quoted word to a fixed function that
 * only lets the shell match it against file names (scheduler/slurm/expect.ts); the local side matches them here.
 */
import { latestArrayFor, taskNumbersOf } from './attempts.js';
import type { JobRecord, TaskStatus } from './record.js';
import { taskOutputDir } from './task-env.js';

/** Task files checked per status call, across all jobs of a cluster: bounds the command's length and time. */
export const EXPECT_PER_CALL = 100;
/** A pattern starting with this is relative to the job folder instead of the output folder. */
export const JOB_DIR_PREFIX = '$PILOT_JOB_DIR/';

/** Why `pattern` cannot be an expected file (undefined: it can). */
export function expectedPatternProblem(pattern: string): string | undefined {
  if (!pattern.trim()) return 'is empty';
  if (pattern.length > 300) return 'is longer than 300 characters';
  if (/[\u0000-\u001f\u007f]/.test(pattern)) return 'contains a control character';
  const rel = pattern.startsWith(JOB_DIR_PREFIX) ? pattern.slice(JOB_DIR_PREFIX.length) : pattern;
  if (rel.startsWith('/') || rel.startsWith('~')) return 'must be relative (to the output folder, or to the job folder with $PILOT_JOB_DIR/)';
  if (rel.split('/').includes('..')) return 'must stay inside the job folder (no .. segment)';
  return undefined;
}

/**
 * Pattern → path relative to the job folder, with `{index}` replaced by the task number: `result-{index}.json`
 * → `outputs/3/1/result-3.json` (the output folder of task 3's attempt 1), `$PILOT_JOB_DIR/logs/*` → `logs/*`.
 */
export function expandPattern(pattern: string, index: number, attempt = 1): string {
  const withIndex = pattern.replaceAll('{index}', String(index));
  return withIndex.startsWith(JOB_DIR_PREFIX) ? withIndex.slice(JOB_DIR_PREFIX.length) : `${taskOutputDir(index, attempt)}/${withIndex.replace(/^\.\//, '')}`;
}

/**
 * One path segment of a glob as sh matches it: `*`, `?`, `[…]` (`[!…]` negated), everything else literal; a
 * leading `.` must be matched explicitly (a `*` does not match hidden files).
 */
export function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[' && segment.indexOf(']', i + 2) > i) {
      const end = segment.indexOf(']', i + 2);
      let body = segment.slice(i + 1, end);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${segment.startsWith('.') ? '' : '(?!\\.)'}${re}$`, 's');
}

/**
 * A `--glob` for downloads: without `/` it matches a file's base name anywhere (`*.json`); with one, the whole
 * path segment by segment (`outputs/3/1/*.json`), `**` standing for any number of folders.
 * @example pathGlob('*.json')('outputs/3/1/r.json') // true
 */
export function pathGlob(pattern: string): (path: string) => boolean {
  const clean = pattern.replace(/^\.\//, '');
  if (!clean.includes('/')) {
    const re = segmentRegExp(clean);
    return (path) => re.test(path.split('/').pop() ?? '');
  }
  const parts = clean.split('/').filter(Boolean).map((s) => (s === '**' ? s : segmentRegExp(s)));
  const match = (p: (RegExp | '**')[], segs: string[]): boolean => {
    if (!p.length) return !segs.length;
    const [head, ...rest] = p;
    if (head === '**') return segs.some((_, i) => match(rest, segs.slice(i))) || match(rest, []);
    return segs.length > 0 && head!.test(segs[0]!) && match(rest, segs.slice(1));
  };
  return (path) => match(parts, path.split('/').filter(Boolean));
}

/** One task whose expected files a status call checks. */
export interface ExpectRequest {
  task: number;
  attempt: number;
  /** job-folder-relative patterns, `{index}` replaced, in `expectedFiles` order */
  paths: string[];
}

/**
 * The open tasks of `record` to check, at most `limit` (none when the job expects no file): first those seen
 * COMPLETED but not checked yet (owed a check), then those last seen running (they end next), then the rest by index.
 */
export function expectCandidates(record: JobRecord, limit: number): ExpectRequest[] {
  const patterns = record.info.expectedFiles ?? [];
  if (!patterns.length || limit <= 0) return [];
  const tiers: ExpectRequest[][] = [[], [], []];
  for (const t of taskNumbersOf(record)) {
    const latest = record.finalStates[t] ? undefined : latestArrayFor(record, t);
    if (!latest) continue;
    const seen = record.lastKnown?.[t]?.state;
    tiers[seen === 'COMPLETED' ? 0 : seen === 'RUNNING' ? 1 : 2]!.push({ task: t, attempt: latest.attempt, paths: patterns.map((p) => expandPattern(p, t, latest.attempt)) });
  }
  return tiers.flat().slice(0, limit);
}

/**
 * Folds a check into an observed state: COMPLETED with missing files → MISSING_OUTPUT naming them; COMPLETED
 * while the job expects files but this task was not checked → provisional (asked and checked again).
 * `missing`: indices into `request.paths`; undefined when not checked.
 */
export function applyExpected(status: TaskStatus, request: ExpectRequest | undefined, missing: number[] | undefined, expects: boolean): TaskStatus {
  if (status.state !== 'COMPLETED' || !expects) return status;
  if (!request || !missing) return { ...status, provisional: true };
  if (!missing.length) return status;
  return { ...status, state: 'MISSING_OUTPUT', missingFiles: missing.map((i) => request.paths[i]!).filter(Boolean) };
}
