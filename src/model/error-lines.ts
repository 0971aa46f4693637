/**
 * Finding the error lines in a task's logs, for `pilot why`: built-in patterns for what programs, runtimes and
 * Slurm print when things go wrong, the job's own `errorPatterns`, minus its `errorWhitelist`.
 *
 * Many programs print warnings that look like errors, and the same harmless warning differs from run to run
 * by a number, a path, a date. So a whitelist entry is matched by shared words, not by equality: a line is
 * harmless when it shares at least `threshold` words with an entry (default 3; an entry of fewer words must
 * share all of them). Words are runs of letters (3 or more, lower-cased), so numbers, paths' separators and
 * punctuation never count.
 *
 * The text comes from the cluster: it is only ever matched and shown (cleaned of control characters), never
 * run or interpreted.
 */
import { cleanRemoteText } from './last-error.js';

/** What a program, a runtime or Slurm prints when a task goes wrong. */
export const BUILTIN_ERROR_PATTERNS: readonly RegExp[] = [
  /Traceback \(most recent call last\)/,
  /\b[A-Za-z_.]*(Error|Exception)\b:/,     // `Error: …`, Python's `ValueError: …`, Java's `…Exception: …`
  /^\s*(Error|ERROR|FATAL|Fatal error)\b/,
  /\bKilled\b/,
  /CUDA out of memory|CUDA error|out of memory|oom[-_]kill|MemoryError/i,
  /slurmstepd: error/,
  /Segmentation fault|core dumped|Bus error|\bAborted\b/,
  /DUE TO TIME LIMIT|CANCELLED AT|DUE TO PREEMPTION|DUE TO NODE FAILURE/,
  /command not found|No such file or directory|Permission denied/,
  /^panic:|^thread '.*' panicked/,
];

/** Words of a line, as the whitelist compares them. */
export function words(line: string): Set<string> {
  return new Set((line.toLowerCase().match(/\p{L}{3,}/gu) ?? []));
}

/** How many words `line` shares with `entry`. */
export function sharedWords(line: string, entry: string): number {
  const mine = words(line);
  let n = 0;
  for (const w of words(entry)) if (mine.has(w)) n++;
  return n;
}

/** The whitelist entry `line` matches, if any. */
export function whitelisted(line: string, whitelist: readonly string[], threshold = 3): string | undefined {
  return whitelist.find((entry) => {
    const need = Math.min(threshold, words(entry).size);
    return need > 0 && sharedWords(line, entry) >= need;
  });
}

export interface ErrorLineOptions {
  /** the job's `errorPatterns` (regular expressions' sources) */
  patterns?: readonly string[];
  whitelist?: readonly string[];
  threshold?: number;
  /** at most this many lines (default 20): the first one and the last ones say the most */
  max?: number;
}

export interface ErrorLine {
  stream: 'stdout' | 'stderr';
  /** 1-based line number within the text read (the end of the log, not the whole file) */
  line: number;
  text: string;
}

/** Characters kept of each line shown. */
const MAX_LINE = 300;

function cap(line: string): string {
  const chars = Array.from(line);
  return chars.length > MAX_LINE ? `${chars.slice(0, MAX_LINE - 1).join('')}…` : line;
}

/** Splits log text into cleaned lines (`\r` ends a line too: a progress bar's states are lines of their own). */
export function logLines(text: string): string[] {
  return text.split(/\r\n|\n|\r/).map((l) => cleanRemoteText(l).trimEnd());
}

/** The last `n` non-blank lines of a log's end, cleaned and capped. */
export function lastLines(text: string, n: number): string[] {
  return logLines(text).filter((l) => l.trim()).slice(-n).map(cap);
}

/** The error lines of one log's text: matched by a built-in or user pattern, and not whitelisted. */
export function findErrorLines(text: string, stream: ErrorLine['stream'], options: ErrorLineOptions = {}): ErrorLine[] {
  const user = (options.patterns ?? []).map((p) => new RegExp(p));
  const patterns = [...BUILTIN_ERROR_PATTERNS, ...user];
  const found: ErrorLine[] = [];
  logLines(text).forEach((l, i) => {
    if (!l.trim() || !patterns.some((re) => re.test(l))) return;
    if (options.whitelist?.length && whitelisted(l, options.whitelist, options.threshold)) return;
    found.push({ stream, line: i + 1, text: cap(l.trim()) });
  });
  const max = options.max ?? 20;
  // the first error (often the cause) and the last ones (where it ended)
  return found.length > max ? [found[0]!, ...found.slice(-(max - 1))] : found;
}
