/**
 * How a job's outcome becomes the CLI's exit code (README "Exit codes"), so that `pilot launch x.yaml --wait
 * && next` runs `next` only after a clean sweep. Pure: the commands pass what they observed.
 */
import { EXIT_CODES, type ExitCode } from '../model/errors.js';
import { jobOutcome, type JobOutcome } from '../model/failure.js';
import type { JobStatus } from '../model/tracking.js';

const CODE: Record<JobOutcome, ExitCode> = { completed: EXIT_CODES.OK, failed: EXIT_CODES.FAILED, unfinished: EXIT_CODES.TIMED_OUT };
/** A failure decides the outcome of several jobs; then a job still running; only all completed make 0. */
const RANK: Record<JobOutcome, number> = { completed: 0, unfinished: 1, failed: 2 };

/**
 * `wait` and `launch --wait`: 0 when every task completed, 1 when one ended in a failure state (FAILED,
 * TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, CANCELLED), 124 when `timedOut` (whatever the tasks did so
 * far: the outcome is not known yet).
 */
export function waitExitCode(status: Pick<JobStatus, 'tasks'>, timedOut = false): ExitCode {
  return timedOut ? EXIT_CODES.TIMED_OUT : CODE[jobOutcome(status.tasks)];
}

/**
 * `status --check`: 0 when every task of every job named completed, 1 as soon as one task ended in a failure
 * state (even while others run: the job can no longer come out clean), 124 when tasks still wait or run.
 */
export function checkExitCode(statuses: readonly Pick<JobStatus, 'tasks'>[]): ExitCode {
  const worst = statuses.map((s) => jobOutcome(s.tasks)).reduce<JobOutcome>((a, b) => (RANK[b] > RANK[a] ? b : a), 'completed');
  return CODE[worst];
}
