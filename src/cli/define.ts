/**
 * What the command definitions share: option parsers and the examples block. Loaded for every `pilot` run
 * (even `--help`), so it imports nothing but commander and the dependency-free model/states.
 */
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { TASK_STATES, type TaskState } from '../model/states.js';

/** Where an action hands its exit code: commander drops what an action returns. */
export type Finish = (code: number) => void;

/**
 * Parses a whole number ≥ 0 (--timeout, --attempt, --tail). Strict on purpose: `Number()` alone would take
 * '' as 0 and '1e3' as 1000. Commander turns the throw into "option '--tail <lines>' argument 'abc' is
 * invalid. …", which names the option, and main() exits 2 on it.
 */
export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('Expected a whole number (0 or more).');
  return n;
}

/** Parses `--states FAILED,timeout` into known task states, so a typo fails before anything connects. */
export function stateList(value: string): TaskState[] {
  const states = value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const bad = states.filter((s) => !(TASK_STATES as readonly string[]).includes(s));
  if (bad.length) throw new InvalidArgumentError(`Unknown state ${bad.join(', ')}; the states are ${TASK_STATES.join(' ')}.`);
  if (!states.length) throw new InvalidArgumentError(`Expected at least one state, e.g. FAILED,TIMEOUT.`);
  return states as TaskState[];
}

/** The "Examples:" block shown after a command's help: a command line, optionally `  # why`. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
