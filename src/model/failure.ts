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
  | 'CANCELLED';

/** The failure class of a final task, or undefined when it completed (or is not final). */
export function failureClass(task: Pick<TaskStatus, 'state' | 'exitCode' | 'signal'>): FailureClass | undefined {
  switch (task.state) {
    case 'FAILED': return task.signal ? 'SIGNAL' : 'EXIT';
    case 'TIMEOUT': case 'OUT_OF_MEMORY': case 'NODE_FAIL': case 'PREEMPTED': case 'CANCELLED': return task.state;
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
