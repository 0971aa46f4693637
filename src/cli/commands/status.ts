/** `pilot status [NAME…]`: per-task states, one remote command per cluster. */
import { printJson, printProblem, withWrapper } from '../common.js';
import { renderStatus } from '../render.js';
import type { JobStatus } from '../../model/tracking.js';

/** The fixed JSON shape of DESIGN.md, plus a few extra fields. */
export function statusJson(s: JobStatus) {
  return {
    name: s.name,
    cluster: s.cluster,
    done: s.done,
    attempts: s.attempts,
    slurmJobIds: s.slurmJobIds,
    ...(s.stale ? { stale: s.stale } : {}),
    counts: s.counts,
    tasks: s.tasks.map((t) => ({ index: t.index, state: t.state, exitCode: t.exitCode, attempt: t.attempt, ...(t.reason ? { reason: t.reason } : {}) })),
  };
}

export async function run(wanted: string[], opts: { json?: boolean; tasks?: boolean }): Promise<number> {
  return withWrapper(async (pilot) => {
    // named jobs must all be readable; without names a damaged record is a warning and the others are shown
    const statuses = wanted.length ? await pilot.status(wanted) : await pilot.list({ onDamaged: (d) => printProblem('warning', d.error) });
    if (opts.json) {
      printJson(wanted.length === 1 ? statusJson(statuses[0]!) : statuses.map(statusJson));
    } else if (!statuses.length) {
      process.stdout.write('no jobs yet: start one with `pilot launch job.yaml`\n');
    } else {
      process.stdout.write(statuses.map((s) => renderStatus(s, { all: Boolean(opts.tasks) })).join('\n\n') + '\n');
    }
    return 0;
  });
}
