/**
 * After pilot retried tasks of a job, the jobs that wait for it (`after:`) and have not started are pointed at
 * the new arrays: Slurm tied them to the arrays of the first submission, whose retried tasks failed, so an
 * `afterok` there would never be satisfied (DependencyNeverSatisfied) although the job recovered. Their whole
 * dependency is recomputed from the records (model/dependencies.ts afterIdsNow) with the user's own, and set on
 * each pending array (chained arrays keep waiting for the previous one). Best effort: what cannot be done is a
 * warning, never a failed retry.
 */
import { afterIdsNow, combineDependencies, dependencyString } from '../model/dependencies.js';
import type { JobRecord } from '../model/record.js';
import { resourceKey } from '../model/resources.js';
import { openTasks } from '../model/tracking.js';
import { dialectFor } from '../scheduler/index.js';
import type { Engine } from './engine.js';

/** The dependency each pending array of `dependent` should have now, or undefined when it cannot be said. */
function newDependencies(dependent: JobRecord, targets: Map<string, JobRecord>): { jobId: string; dependency: string }[] | undefined {
  const resolved: { when: 'ok' | 'any'; jobIds: string[] }[] = [];
  for (const a of dependent.info.after ?? []) {
    const target = targets.get(a.job);
    const when = a.when ?? 'ok';
    const ids = target && when !== 'notok' ? afterIdsNow(target, when) : undefined;
    if (ids === undefined || ids === 'never') return undefined;   // left as it is: Slurm already decides right
    resolved.push({ when: when as 'ok' | 'any', jobIds: ids });
  }
  const own = combineDependencies(dialectFor(dependent.backend).userDependency(dependent.info, 1), dependencyString(resolved), dependent.name);
  const arrays = dependent.attempts[0]!.arrays;
  return arrays.map((x, i) => {
    // a chunk of a split array also waits for the previous chunk of its resource set (submit's chaining)
    const prev = arrays[i - 1];
    const chained = prev && resourceKey(prev.resources ?? {}) === resourceKey(x.resources ?? {});
    return { jobId: x.jobId, dependency: [own, chained ? `afterany:${prev.jobId}` : undefined].filter(Boolean).join(',') };
  }).filter((t) => t.dependency);
}

/** Points the not-yet-started dependents of `retried` at its retry arrays; returns the names updated. */
export async function updateDependents(engine: Engine, retried: JobRecord): Promise<string[]> {
  const names = (await engine.store.names()).filter((n) => n !== retried.name);
  const dependents = (await Promise.all(names.map((n) => engine.store.read(n).catch(() => undefined))))
    .filter((r): r is JobRecord => Boolean(r && r.cluster === retried.cluster && r.info.after?.some((a) => a.job === retried.name)))
    // only a first submission carries the dependency, and only one not yet started can still wait
    .filter((r) => r.attempts.length === 1 && !r.pending && openTasks(r).length && !Object.keys(r.finalStates).length);
  const updated: string[] = [];
  for (const dependent of dependents) {
    const targets = new Map(await Promise.all((dependent.info.after ?? []).map(async (a) => [a.job, a.job === retried.name ? retried : await engine.store.read(a.job).catch(() => undefined)] as const)));
    if ([...targets.values()].some((t) => !t)) continue;
    const wanted = newDependencies(dependent, targets as Map<string, JobRecord>);
    if (!wanted?.length) continue;
    try {
      const backend = await engine.backendFor(dependent.cluster);
      const failed = await backend.updateDependencies?.(wanted) ?? wanted.map((t) => t.jobId);
      if (failed.length) throw new Error(`the scheduler did not change ${failed.join(', ')} (started already?)`);
      updated.push(dependent.name);
    } catch (err) {
      engine.warn(dependent.name, [{ message: `'${dependent.name}' still waits for the first submission of '${retried.name}', whose tasks pilot retried: ${(err as Error).message}`, hint: `if it shows DependencyNeverSatisfied once '${retried.name}' completed, cancel it and launch it again` }]);
    }
  }
  return updated;
}
