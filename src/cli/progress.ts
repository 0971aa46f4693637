/**
 * The progress of `wait` and `launch --wait` on stderr. On a terminal: ONE line, redrawn in place every second
 * (the elapsed time moves even when polls back off to 30 s), never wider than the terminal, coloured unless
 * NO_COLOR is set. Elsewhere (a pipe, a CI log): a plain line each time the counts change, never a redraw.
 */
import { taskCount, type JobStatus } from '../model/tracking.js';
import { estimateEtaMs, finishedCount, renderProgress } from './render.js';

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org) or TERM is dumb. */
export function useColor(stream: { isTTY?: boolean }): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

export class ProgressReporter {
  private readonly tty: boolean;
  private readonly color: boolean;
  private first?: { at: number; finished: number };
  private last?: JobStatus;
  private lastKey = '';
  /** Elapsed time shown once the job is done (frozen), or undefined when it was done before we looked. */
  private doneElapsed?: number;
  private timer?: NodeJS.Timeout;

  constructor(private readonly out: NodeJS.WriteStream, private readonly now: () => number = Date.now) {
    this.tty = Boolean(out.isTTY);
    this.color = useColor(out);
  }

  /** Called with every status the wait sees. */
  update(status: JobStatus): void {
    const at = this.now();
    const finished = finishedCount(status);
    if (!this.first) {
      this.first = { at, finished };
      // a job already over when we look shows no time (its age is not how long it ran): doneElapsed stays unset
      if (!status.done && this.tty) this.timer = setInterval(() => this.draw(), 1000).unref();
    } else if (status.done && !this.last?.done) {
      this.doneElapsed = at - this.startedAt(status);
    }
    this.last = status;
    const key = `${finished} ${JSON.stringify(status.counts)}`;
    if (this.tty || key !== this.lastKey) this.draw();
    this.lastKey = key;
  }

  /** Ends the line on a terminal; stops the redraws. */
  finish(): void {
    clearInterval(this.timer);
    if (this.tty && this.last) this.out.write('\n');
  }

  /** When the attempt being waited for was submitted (after restart-failed: the restart, not the launch). */
  private startedAt(status: JobStatus): number {
    const submitted = Date.parse(status.attemptSubmittedAt ?? status.submittedAt ?? '');
    return Number.isNaN(submitted) ? this.first!.at : submitted;
  }

  private draw(): void {
    const status = this.last;
    if (!status || !this.first) return;
    const at = this.now();
    const started = this.startedAt(status);
    const elapsedMs = status.done ? this.doneElapsed : at - started;
    // before a task finishes during the wait, the rate since submission stands in; not after a restart, whose
    // tasks finished before it was submitted
    const etaMs = estimateEtaMs(this.first, { at, finished: finishedCount(status) }, taskCount(status), status.attempts > 1 ? undefined : started);
    // one column less than the terminal: writing the last column leaves some terminals about to wrap
    const width = this.tty ? Math.max(20, (this.out.columns || 80) - 1) : undefined;
    const line = renderProgress(status, { width, elapsedMs, etaMs, color: this.color });
    this.out.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }
}
