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

/**
 * Cancels the never-satisfiable tasks of each job (the whole job when no other task is unfinished: one scancel),
 * then returns the statuses asked again, so what is printed shows them CANCELLED.
 */
export async function cancelUnsatisfiable(pilot: SlurmWrapper, statuses: JobStatus[]): Promise<{ statuses: JobStatus[]; lines: string[] }> {
  const affected = statuses.filter((s) => neverSatisfiable(s).length);
  if (!affected.length) return { statuses, lines: [] };
  const lines = unsatisfiableLines(affected, true);
  for (const s of affected) {
    const stuck = neverSatisfiable(s);
    const open = s.tasks.filter((t) => t.state === 'PENDING' || t.state === 'RUNNING' || t.state === 'UNKNOWN');
    if (open.length === stuck.length) await pilot.cancel(s.name);
    else for (const i of stuck) await pilot.cancel(`${s.name}/${i}`);
  }
  const again = new Map((await pilot.status(affected.map((s) => s.name))).map((s) => [s.name, s]));
  return { statuses: statuses.map((s) => again.get(s.name) ?? s), lines };
}
