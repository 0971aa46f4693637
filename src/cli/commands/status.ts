/** `pilot status [NAME…]`: per-task states, one remote command per cluster; no name: the latest job. */
import { neverSatisfiable } from '../../model/dependencies.js';
import { EXIT_CODES } from '../../model/errors.js';
import { failureClass } from '../../model/failure.js';
import type { JobStatus } from '../../model/tracking.js';
import { printJson, printProblem, withWrapper } from '../common.js';
import { checkExitCode } from '../exit-codes.js';
import { useColor } from '../progress.js';
import { renderStatus } from '../render.js';
import { cancelUnsatisfiable, unsatisfiableLines } from '../unsatisfiable.js';

/**
 * The fixed JSON shape users rely on, plus a few extra fields (a failed task's class and last stderr line).
 * `withTasks: false`: without the task list (`list --json`; its views are built only when read).
 */
export function statusJson(s: JobStatus, options: { withTasks?: boolean } = {}) {
  const stuck = s.counts.PENDING ? neverSatisfiable(s) : [];
  return {
    name: s.name,
    cluster: s.cluster,
    done: s.done,
    attempts: s.attempts,
    slurmJobIds: s.slurmJobIds,
    ...(s.remoteDir ? { remoteDir: s.remoteDir } : {}),
    ...(s.stale ? { stale: s.stale } : {}),
    counts: s.counts,
    tasks: options.withTasks === false ? undefined : s.tasks.map((t) => {
      const failure = failureClass(t);
      return {
        index: t.index, state: t.state, exitCode: t.exitCode, attempt: t.attempt,
        ...(t.signal ? { signal: t.signal } : {}),
        ...(t.reason ? { reason: t.reason } : {}),
        ...(failure ? { failure } : {}),
        ...(t.missingFiles ? { missingFiles: t.missingFiles } : {}),
        ...(failure && t.lastError ? { lastError: t.lastError } : {}),
        ...(t.start ? { start: t.start } : {}),
        ...(t.end ? { end: t.end } : {}),
        // what a combine step needs: what the task ran with, and where it wrote
        ...(t.params ? { params: t.params } : {}),
        ...(t.argv ? { argv: t.argv } : {}),
        ...(t.outputDir ? { outputDir: t.outputDir } : {}),
      };
    }),
    ...(stuck.length ? { neverSatisfiable: stuck } : {}),
  };
}

export interface StatusOptions { json?: boolean; tasks?: boolean; all?: boolean; check?: boolean; cancelUnsatisfiable?: boolean }

export async function run(wanted: string[], opts: StatusOptions): Promise<number> {
  return withWrapper(async (pilot) => {
    // `status --json` without a name printed every job before names could be left out: it still does
    const every = Boolean(opts.all) || (Boolean(opts.json) && !wanted.length);
    let statuses: JobStatus[];
    let others = 0;
    if (every) {
      statuses = await pilot.list({ onDamaged: (d) => printProblem('warning', d.error) });
    } else if (wanted.length) {
      statuses = await pilot.status(wanted);
    } else {
      // the latest readable job; a damaged record is said once, as with --all
      statuses = await pilot.list({ last: 1, onDamaged: (d) => printProblem('warning', d.error) });
      others = Math.max(0, (await pilot.store.names()).length - 1);
    }
    let stuck = unsatisfiableLines(statuses);
    if (opts.cancelUnsatisfiable) ({ statuses, lines: stuck } = await cancelUnsatisfiable(pilot, statuses));
    if (opts.json) {
      printJson(every || wanted.length > 1 ? statuses.map((s) => statusJson(s)) : statusJson(statuses[0]!));
    } else if (!statuses.length) {
      process.stdout.write('no jobs yet: start one with `pilot launch job.yaml`\n');
    } else {
      const style = { all: Boolean(opts.tasks), color: useColor(process.stdout), width: process.stdout.isTTY ? process.stdout.columns : undefined };
      process.stdout.write(statuses.map((s) => renderStatus(s, style)).join('\n\n') + '\n');
      if (stuck.length) process.stdout.write(stuck.join('\n') + '\n');
      if (others) process.stderr.write(`(the latest job; ${others} other${others === 1 ? '' : 's'}: \`pilot status --all\` shows every job, \`pilot list\` one line each)\n`);
    }
    // a task that can never start means the job can never come out clean, as a failed one does
    if (opts.check && statuses.some((s) => neverSatisfiable(s).length)) return EXIT_CODES.FAILED;
    return opts.check ? checkExitCode(statuses) : 0;
  });
}
