/**
 * The one error family of hpc-pilot. Every failure a user can act on is a PilotError with a stable `code`,
 * a message saying what went wrong and where, and a `hint` saying how to fix it. The CLI prints message + hint
 * (the stack only with --verbose) and exits with `exitCode`: 2 for bad input, 124 for an expired wait, 1 for
 * everything else.
 */
export type PilotErrorCode =
  | 'BAD_INPUT'        // invalid job info, YAML, config, CLI arguments: nothing was submitted
  | 'CONFIG'           // config.yaml missing/invalid, unknown cluster
  | 'NOT_FOUND'        // unknown job name, task index, attempt
  | 'EXISTS'           // a job with this name is already recorded
  | 'SSH'              // connection, authentication, host key
  | 'HOST_KEY'         // host key mismatch or unknown host (strict checking)
  | 'REMOTE'           // a remote command failed
  | 'SUBMIT'           // sbatch refused the job
  | 'TIMEOUT'          // wait() ran out of time
  | 'BUNDLE'           // packing the sources failed
  | 'STORE'            // local job records: a lock held too long, a launch in progress
  | 'DAMAGED'          // a job record that cannot be read (truncated, edited by hand, from a newer pilot)
  | 'HOME'             // $PILOT_HOME cannot be used: not a folder, not writable, cannot be created
  | 'NOT_A_FILE'       // a log to read is a FIFO, device, socket or link: refused before reading
  | 'TOO_LARGE'        // a log too large to return as a string (stream it instead)
  | 'INTERNAL';

/**
 * The CLI's exit codes (README "Exit codes"). 124 for an expired `--timeout` is GNU timeout(1)'s code, which
 * scripts already test for; it stays apart from 1 because "not finished yet" calls for waiting again, while
 * 1 (a task failed) calls for a fix or a restart.
 */
export const EXIT_CODES = {
  /** every task completed (or the command did what it was asked) */
  OK: 0,
  /** some task ended in a failure state, or the command failed */
  FAILED: 1,
  /** bad input: nothing was done */
  BAD_INPUT: 2,
  /** `--timeout` expired before every task finished (`status --check`: tasks still pending or running) */
  TIMED_OUT: 124,
} as const;
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

// HOME is input: the user chose the folder (PILOT_HOME, --home) and nothing was done. DAMAGED is not: the
// command was right, the state it met needs repair, so it shares STORE's exit 1. NOT_A_FILE (a log swapped for
// a link to /etc/passwd, a FIFO) is a bad file refused before reading, nothing done: exit 2 (issue 14).
const INPUT_CODES = new Set<PilotErrorCode>(['BAD_INPUT', 'CONFIG', 'NOT_FOUND', 'EXISTS', 'HOME', 'NOT_A_FILE']);

/** The steps of a launch, named in its errors so the user knows what happened and what is safe to do next. */
export type LaunchStep = 'pack' | 'connect' | 'upload' | 'unpack' | 'submit' | 'record';

export class PilotError extends Error {
  override readonly name = 'PilotError';
  readonly code: PilotErrorCode;
  hint?: string;
  /** The launch step that failed, when the error comes from a launch. */
  step?: LaunchStep;
  /**
   * Set on a failure after the submission was recorded that provably submitted nothing (its command stopped
   * at a check before writing anything): the record goes and the name is free, as for a refused sbatch.
   */
  nothingSubmitted?: boolean;

  constructor(code: PilotErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }

  /** Exit code for the CLI: 2 when the user's input is at fault (nothing was done), 124 for an expired wait, 1 otherwise. */
  get exitCode(): ExitCode {
    if (this.code === 'TIMEOUT') return EXIT_CODES.TIMED_OUT;
    return INPUT_CODES.has(this.code) ? EXIT_CODES.BAD_INPUT : EXIT_CODES.FAILED;
  }
}

export function isPilotError(err: unknown): err is PilotError {
  return err instanceof PilotError;
}

/**
 * Runs one step of a launch; an error escaping it is tagged with the step (the first tag wins: the innermost
 * step knows best). Errors that are not PilotErrors (a bug, an fs error) become INTERNAL ones carrying them.
 */
export async function atStep<T>(step: LaunchStep, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err instanceof PilotError ? err
      : new PilotError('INTERNAL', (err as Error)?.message ?? String(err), { cause: err, hint: 'run with --verbose and report it' });
    e.step ??= step;
    throw e;
  }
}
