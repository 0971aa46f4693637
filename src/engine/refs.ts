/**
 * Job and task references as users write them, resolved to a recorded job and checked against its record:
 * `fine-tune-mlp`, `fine-tune-mlp/3`, a unique prefix (`fine/3`), or nothing at all (`/3`, an omitted
 * argument): the latest job launched. An exact name always wins over a prefix, so a name is never shadowed.
 */
import { arrayFor } from '../model/attempts.js';
import { PilotError } from '../model/errors.js';
import { arrayBaseOf } from '../model/job.js';
import type { JobRecord } from '../model/record.js';
import { latestAttemptOf } from '../model/tracking.js';
import type { DamagedRecord, JobStore } from '../store/store.js';

const emptyName = () => new PilotError('BAD_INPUT', 'the job name is empty', { hint: 'give a job name (or a unique prefix of one), or leave the argument out for the latest job' });

/** `name/3` → { name, index: 3 }; `name` → { name }; `/3` → { index: 3 } (the latest job). */
export function parseRef(ref: string): { name?: string; index?: number } {
  if (ref === '') throw emptyName();
  const m = /^(.*?)\/(\d+)$/.exec(ref);
  if (m) return { ...(m[1] ? { name: m[1] } : {}), index: Number(m[2]) };
  if (ref.includes('/')) throw new PilotError('BAD_INPUT', `'${ref}' is not NAME or NAME/INDEX`, { hint: 'tasks are numbered from 1 (from 0 with arrayBase: 0), e.g. fine-tune-mlp/3' });
  return { name: ref };
}

/** Every readable record, newest launch first (a record deleted meanwhile is left out). */
export async function recordsNewestFirst(store: JobStore, onDamaged?: (d: DamagedRecord) => void): Promise<JobRecord[]> {
  const { records, damaged } = await store.readAll();
  for (const d of damaged) onDamaged?.(d);
  return records.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.name.localeCompare(b.name));
}

/**
 * The recorded job a user means: `given` itself when recorded, else the one job whose name starts with it (two
 * or more: BAD_INPUT listing them); omitted: the latest job launched. A name matching nothing is returned as
 * is, so reading it fails with the store's NOT_FOUND, which lists the recorded jobs.
 */
export async function resolveName(store: JobStore, given?: string): Promise<string> {
  if (given === undefined) {
    const [latest] = await recordsNewestFirst(store);
    if (!latest) throw new PilotError('NOT_FOUND', `no jobs recorded in ${store.home} yet`, { hint: 'start one with `pilot launch job.yaml`' });
    return latest.name;
  }
  if (given === '') throw emptyName();
  const names = await store.names();
  if (names.includes(given)) return given;
  const matches = names.filter((n) => n.startsWith(given));
  if (matches.length > 1) {
    throw new PilotError('BAD_INPUT', `'${given}' is the start of ${matches.length} job names: ${matches.slice(0, 10).join(', ')}${matches.length > 10 ? ', …' : ''}`, {
      hint: 'give more of the name',
    });
  }
  return matches[0] ?? given;
}

/**
 * A job or task reference, its job name resolved (see resolveName): `name`, `name/3`, `/3`, or a sweep task's
 * name, `name/mlp_lr0.1` (its taskNamePattern name; a name two tasks share is refused, listing them).
 */
export async function resolveRef(store: JobStore, ref?: string): Promise<{ name: string; index?: number }> {
  // a job name holds no '/': what follows the first one is the task, by number or by its name
  const byName = ref === undefined ? null : /^([^/]*)\/(.*\D.*)$/.exec(ref);
  if (byName) {
    const name = await resolveName(store, byName[1] || undefined);
    const { info } = await store.read(name);
    const names = info.taskNames ?? [];
    const hits = names.flatMap((n, i) => (n === byName[2] ? [i + arrayBaseOf(info)] : []));
    if (hits.length === 1) return { name, index: hits[0]! };
    throw new PilotError(hits.length ? 'BAD_INPUT' : 'NOT_FOUND', hits.length
      ? `tasks ${hits.join(', ')} of '${name}' are all named '${byName[2]}'`
      : `job '${name}' has no task named '${byName[2]}'`, { hint: `address the task by its number, e.g. ${name}/${hits[0] ?? arrayBaseOf(info)}${names.length ? '; `pilot status NAME --tasks` shows the names' : ''}` });
  }
  const { name, index } = ref === undefined ? {} : parseRef(ref);
  return { name: await resolveName(store, name), ...(index === undefined ? {} : { index }) };
}

/** A task reference (see resolveRef); a reference naming no task is refused. */
export async function resolveTaskRef(store: JobStore, ref: string): Promise<{ name: string; index: number }> {
  const { name, index } = await resolveRef(store, ref);
  if (index === undefined) throw new PilotError('BAD_INPUT', `'${ref}' names no task`, { hint: `add the task number: ${ref}/1` });
  return { name, index };
}

export function checkIndex(record: JobRecord, index: number): void {
  const first = arrayBaseOf(record.info);   // 0 for jobs launched with arrayBase: 0
  const last = first + record.tasks - 1;
  if (!Number.isInteger(index) || index < first || index > last) {
    throw new PilotError('NOT_FOUND', `job '${record.name}' has no task ${index}`, { hint: `its tasks are ${record.name}/${first} … ${record.name}/${last}` });
  }
}

/** The attempt to read a task's logs from: `wanted`, checked, or the latest that ran it. */
export function attemptOf(record: JobRecord, index: number, wanted?: number): number {
  checkIndex(record, index);
  if (wanted === undefined) return latestAttemptOf(record, index);
  if (!arrayFor(record, index, wanted)) {
    const ran = record.attempts.filter((a) => arrayFor(record, index, a.attempt)).map((a) => a.attempt);
    throw new PilotError('NOT_FOUND', `task ${record.name}/${index} did not run in attempt ${wanted}`, { hint: `it ran in attempt${ran.length > 1 ? 's' : ''} ${ran.join(', ')}` });
  }
  return wanted;
}
