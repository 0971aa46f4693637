/**
 * `pilot wait [NAME]`: progress on stderr (progress.ts), then the final status on stdout, text or --json, in
 * every outcome; the exit code says which (exit-codes.ts): 0 all completed, 1 a task failed, 124 timed out.
 */
import { stuckOnDependency } from '../../model/dependencies.js';
import { EXIT_CODES, isPilotError, type PilotError } from '../../model/errors.js';
import type { JobStatus } from '../../model/tracking.js';
import type { SlurmWrapper } from '../../engine/wrapper.js';
import { printJson, withWrapper } from '../common.js';
import { waitExitCode } from '../exit-codes.js';
import { ProgressReporter, useColor } from '../progress.js';
import { failureText, renderStatus } from '../render.js';
import { statusJson } from './status.js';
import { unsatisfiableLines } from '../unsatisfiable.js';

export interface WaitOptions { timeout?: number; json?: boolean; progress?: boolean; cancelUnsatisfiable?: boolean }

export async function waitAndReport(pilot: SlurmWrapper, name: string | undefined, opts: WaitOptions): Promise<number> {
  const reporter = opts.progress === false ? undefined : new ProgressReporter(process.stderr);
  let last: JobStatus | undefined;
  let final: JobStatus;
  let timeout: PilotError | undefined;
  let cancelled: JobStatus | undefined;   // the stuck status, before the engine cancelled its tasks
  try {
    final = await pilot.wait(name, {
      timeoutMs: opts.timeout === undefined ? undefined : opts.timeout * 1000,
      cancelUnsatisfiable: opts.cancelUnsatisfiable,
      onUnsatisfiable: (s) => { cancelled = s; },
      onProgress: (s) => {
        last = s;
        reporter?.update(s);
      },
    });
  } catch (err) {
    // the deadline passed: the last status seen is the answer, marked as such
    if (!isPilotError(err) || err.code !== 'TIMEOUT' || !last) throw err;
    timeout = err;
    final = last;
  } finally {
    reporter?.finish();
  }
  // wait ended before every task did: some wait on a dependency that can never be met
  // (with --cancel-unsatisfiable the engine cancelled them and sent the final status's notifications)
  const stuck = Boolean(cancelled) || (!timeout && stuckOnDependency(final));
  const stuckLines = cancelled ? unsatisfiableLines([cancelled], true) : stuck ? unsatisfiableLines([final]) : [];
  if (opts.json) {
    printJson({ ...statusJson(final), ...(timeout ? { timedOut: true } : {}) });
  } else {
    process.stdout.write(renderStatus(final, { color: useColor(process.stdout), width: process.stdout.isTTY ? process.stdout.columns : undefined }) + '\n');
  }
  if (stuck) {
    process.stderr.write(stuckLines.map((l) => `error: ${l}\n`).join(''));
    return EXIT_CODES.FAILED;
  }
  if (timeout) {
    process.stderr.write(`error: ${timeout.message}\n${timeout.hint ? `hint: ${timeout.hint}\n` : ''}`);
  } else if (!opts.json) {
    const failed = final.tasks.filter((t) => failureText(t));
    if (failed.length) {
      const first = failed[0]!;
      process.stderr.write(`${final.name}: ${failed.length} of ${final.tasks.length} task${final.tasks.length === 1 ? '' : 's'} did not complete; ` +
        `see \`pilot logs ${final.name}/${first.index} --stderr\`, then \`pilot restart-failed ${final.name}\`\n`);
    }
  }
  return waitExitCode(final, Boolean(timeout));
}

export async function run(name: string | undefined, opts: WaitOptions): Promise<number> {
  return withWrapper((pilot) => waitAndReport(pilot, name, opts));
}
