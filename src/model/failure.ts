/**
 * Failure classes: why a task did not complete, keeping what the scheduler reported (an exit code, or the
 * signal that killed it). Retries and diagnosis decide by class: a time limit or a lost node deserves another
 * try, a program's own error usually does not.
 */
import type { TaskStatus } from './record.js';

export type FailureClass =
  | 'EXIT'           // the program exited with a non-zero code
  | 'SIGNAL'         // the program was killed by a signal (Slurm `0:9`)
  | 'TIMEOUT'        // the time limit was reached (Slurm reports exit 0:0: the state says it)
  | 'OUT_OF_MEMORY'
  | 'NODE_FAIL'      // the node (or the local supervisor) was lost
  | 'PREEMPTED'
  | 'CANCELLED'
  | 'MISSING_OUTPUT' // the scheduler said COMPLETED, but a file of `expectedFiles` is missing (a task state of its own)
  // the names `why` reports (see whyClass), never returned by failureClass:
  | 'NONZERO_EXIT'   // EXIT and SIGNAL: the program itself ended badly (its exit code or signal says how)
  | 'LOG_ERROR'      // COMPLETED, but its logs hold error lines: only `why` says so, the state stays COMPLETED
  | 'DEPENDENCY_NEVER_SATISFIED'; // pending for ever: Slurm's reason DependencyNeverSatisfied

/** The failure class of a final task, or undefined when it completed (or is not final). */
export function failureClass(task: Pick<TaskStatus, 'state' | 'exitCode' | 'signal'>): FailureClass | undefined {
  switch (task.state) {
    case 'FAILED': return task.signal ? 'SIGNAL' : 'EXIT';
    case 'TIMEOUT': case 'OUT_OF_MEMORY': case 'NODE_FAIL': case 'PREEMPTED': case 'CANCELLED': case 'MISSING_OUTPUT': return task.state;
    default: return undefined;
  }
}

/**
 * What a job came to: `completed` when every task completed, `failed` as soon as one task ended in a failure
 * state (whatever the others still do, the job can no longer come out clean), `unfinished` otherwise.
 */
export type JobOutcome = 'completed' | 'failed' | 'unfinished';

export function jobOutcome(tasks: readonly Pick<TaskStatus, 'state' | 'exitCode' | 'signal'>[]): JobOutcome {
  if (tasks.some((t) => failureClass(t) !== undefined)) return 'failed';
  return tasks.every((t) => t.state === 'COMPLETED') ? 'completed' : 'unfinished';
}

/**
 * The class `pilot why` reports, in the vocabulary: status's EXIT and SIGNAL are both NONZERO_EXIT
 * (the exit code and the signal are reported next to it, so nothing is lost), a task pending on a dependency
 * that can never be satisfied is DEPENDENCY_NEVER_SATISFIED, and a COMPLETED task whose logs hold error lines
 * is LOG_ERROR (`errorLines`: how many `why` found). Undefined: nothing wrong (yet).
 */
export function whyClass(task: Pick<TaskStatus, 'state' | 'exitCode' | 'signal' | 'reason'>, errorLines = 0): FailureClass | undefined {
  const cls = failureClass(task);
  if (cls === 'EXIT' || cls === 'SIGNAL') return 'NONZERO_EXIT';
  if (cls) return cls;
  if (task.state === 'PENDING' && task.reason === 'DependencyNeverSatisfied') return 'DEPENDENCY_NEVER_SATISFIED';
  return task.state === 'COMPLETED' && errorLines > 0 ? 'LOG_ERROR' : undefined;
}
