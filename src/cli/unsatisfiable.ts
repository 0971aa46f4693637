/**
 * Tasks that wait on a dependency that can never be satisfied (Slurm keeps them PENDING for ever): the summary
 * line status and wait print about them, and `--cancel-unsatisfiable`, which cancels them.
 */
import { compressRanges } from '../model/ranges.js';
import { neverSatisfiable } from '../model/dependencies.js';
import type { JobStatus } from '../model/tracking.js';
import type { SlurmWrapper } from '../engine/wrapper.js';

/** One line per job with such tasks (empty when none): what happened and what to do. */
export function unsatisfiableLines(statuses: readonly JobStatus[], cancelled = false): string[] {
  return statuses.flatMap((s) => {
    const stuck = neverSatisfiable(s);
    if (!stuck.length) return [];
    const what = `${s.name}: ${stuck.length} task${stuck.length === 1 ? '' : 's'} (${compressRanges(stuck)}) can never start: a job it runs after ended in a way its dependency excludes (DependencyNeverSatisfied)`;
    return [cancelled ? `${what}; cancelled` : `${what}; cancel with \`pilot status ${s.name} --cancel-unsatisfiable\``];
  });
}

/** `--cancel-unsatisfiable` of status: cancels (the engine's cancelNeverSatisfiable) and says what it cancelled. */
export async function cancelUnsatisfiable(pilot: SlurmWrapper, statuses: JobStatus[]): Promise<{ statuses: JobStatus[]; lines: string[] }> {
  const lines = unsatisfiableLines(statuses, true);
  return { statuses: lines.length ? await pilot.cancelUnsatisfiable(statuses) : statuses, lines };
}
