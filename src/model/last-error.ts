/**
 * The last line of a failed task's stderr, shown by `status` next to the failure class. It is text a task
 * wrote on the cluster: it is cleaned of every control character (an escape sequence could move the cursor,
 * recolour or rewrite the terminal) and capped, and nothing ever interprets it.
 *
 * The status command runs before anyone knows which tasks failed, so which stderr files it reads is decided
 * from the record: open tasks (some of them will turn out to have failed by the time the command runs), and
 * failures whose line was not read yet (more open tasks than the budget, or records older than this field).
 * A line read for a task that turns out not to have failed is dropped; a failure read for nothing is read
 * again at the next call, so every failure gets its line within a few calls whatever the budget.
 */
import { arrayFor, latestArrayFor, taskNumbersOf } from './attempts.js';
import { failureClass } from './failure.js';
import type { JobRecord } from './record.js';

/** Bytes read from the end of a stderr file: one long line, and 50 of them still make a small reply. */
export const TAIL_WINDOW_BYTES = 512;
/** Characters kept of the last line. */
export const LAST_ERROR_MAX_CHARS = 300;
/** stderr files read per status call, across all jobs of a cluster: bounds the command's time and output. */
export const TAILS_PER_CALL = 50;

/**
 * C0 and C1 controls and DEL (escape sequences, backspace, bell), and the Unicode format characters that
 * reorder or hide text (bidi overrides and isolates, zero-width characters, line and paragraph separators).
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/** Removes what could act on a terminal; tabs become spaces. */
export function cleanRemoteText(text: string): string {
  return text.replace(/\t/g, ' ').replace(UNSAFE, '');
}

/**
 * The last non-blank line of the end of a stderr file (`\r` ends a line too: a progress bar's last state is
 * what a terminal shows), cleaned and capped at `maxChars`. `cut` says the bytes are only the end of a longer
 * file, so a line that starts with them started earlier: it is marked with a leading `…`.
 */
export function lastErrorLine(tail: Buffer | string, options: { cut?: boolean; maxChars?: number } = {}): string {
  const text = typeof tail === 'string' ? tail : tail.toString('utf8');
  const lines = text.split(/\r\n|\n|\r/);
  let i = lines.length - 1;
  while (i >= 0 && !cleanRemoteText(lines[i]!).trim()) i--;
  if (i < 0) return '';
  // a window cut inside a multi-byte character decodes to U+FFFD at its start
  let line = cleanRemoteText(i === 0 && options.cut ? lines[0]!.replace(/^\ufffd+/, '') : lines[i]!).trim();
  if (i === 0 && options.cut) line = `…${line}`;
  const chars = Array.from(line);   // by code point: a cap must not split a surrogate pair
  const max = options.maxChars ?? LAST_ERROR_MAX_CHARS;
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : line;
}

/** One stderr file to read: task `task` as it ran in `attempt`. */
export interface TailRequest {
  task: number;
  attempt: number;
}

/** Failures of `record` whose stderr line was never read (a status call is owed for them even once no task is open). */
export function unreadFailures(record: JobRecord): TailRequest[] {
  const unread: TailRequest[] = [];
  for (const t of taskNumbersOf(record)) {
    const final = record.finalStates[t];
    // a task that never ran in a recorded submission has no file: never asked for
    if (final?.lastError === undefined && final && failureClass(final) && arrayFor(record, t, final.attempt)) unread.push({ task: t, attempt: final.attempt });
  }
  return unread;
}

/**
 * The tasks of `record` whose stderr a status call reads, at most `limit`: failures not read yet first, then
 * open tasks last seen running, then the other open tasks by index (arrays start tasks in index order, so
 * those end next).
 */
export function tailCandidates(record: JobRecord, limit: number): TailRequest[] {
  if (limit <= 0) return [];
  const running: TailRequest[] = [];
  const others: TailRequest[] = [];
  for (const t of taskNumbersOf(record)) {
    if (record.finalStates[t]) continue;
    const isRunning = record.lastKnown?.[t]?.state === 'RUNNING';
    // no more than `limit` of each kind are ever used: a 100 000-task job must not list them all
    if ((isRunning ? running : others).length >= limit) continue;
    const latest = latestArrayFor(record, t);
    if (latest) (isRunning ? running : others).push({ task: t, attempt: latest.attempt });
  }
  return [...unreadFailures(record), ...running, ...others].slice(0, limit);
}
