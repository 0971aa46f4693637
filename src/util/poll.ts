/** Polling with backoff, the one home of it: ask, and ask again later and later, up to a ceiling and a deadline. */

export interface PollOptions<T> {
  /** first pause */
  minMs: number;
  /** longest pause */
  maxMs: number;
  /** growth of the pause per round (default 1.5) */
  factor?: number;
  /** give up after this long (default: never) */
  timeoutMs?: number;
  /** the error thrown at the deadline, given the last answer and the time spent */
  onTimeout: (last: T, elapsedMs: number) => Error;
}

/**
 * Calls `ask` until `done(answer)`; returns that answer.
 * @example
 * const s = await pollUntil(() => pilot.status('x'), (s) => s.done, { minMs: 1000, maxMs: 30_000, onTimeout: () => new Error('late') });
 */
export async function pollUntil<T>(ask: () => Promise<T>, done: (answer: T) => boolean, options: PollOptions<T>): Promise<T> {
  const started = Date.now();
  let pause = options.minMs;
  for (;;) {
    const answer = await ask();
    if (done(answer)) return answer;
    const left = options.timeoutMs === undefined ? Infinity : options.timeoutMs - (Date.now() - started);
    if (left <= 0) throw options.onTimeout(answer, Date.now() - started);
    await new Promise((r) => setTimeout(r, Math.min(pause, left)));
    pause = Math.min(options.maxMs, Math.round(pause * (options.factor ?? 1.5)));
  }
}

/**
 * Runs `attempt`; while it throws an error `transient` accepts, waits `waits[i]` ms and runs it again. The last
 * error is thrown with `note(tries, waitedMs)` appended to its message when it was tried more than once.
 */
export async function retryTransient<T>(attempt: () => Promise<T>, transient: (err: unknown) => boolean, waits: readonly number[],
  note: (tries: number, waitedMs: number) => string = () => ''): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!transient(err)) throw err;
      if (i >= waits.length) {
        if (i && err instanceof Error) err.message += note(i + 1, waits.reduce((a, b) => a + b, 0));
        throw err;
      }
      await new Promise((r) => setTimeout(r, waits[i]));
    }
  }
}
