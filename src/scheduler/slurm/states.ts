/** Slurm's job state names, and what each means for pilot (one table, read by every parser of Slurm output). */
import type { TaskState } from '../../model/states.js';

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
  // the common case first (a bare state name): a 100 000-row sacct answer is mostly `COMPLETED`
  const exact = SLURM_STATES.get(raw);
  if (exact) return exact;
  const word = (raw.trim().split(/\s+/)[0] ?? '').replace(/\+$/, '').toUpperCase();
  return SLURM_STATES.get(word) ?? 'UNKNOWN';
}

