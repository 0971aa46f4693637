/** Job and task references as users write them (`fine-tune-mlp`, `fine-tune-mlp/3`), checked against a record. */
import { arrayFor } from '../model/attempts.js';
import { PilotError } from '../model/errors.js';
import type { JobRecord } from '../model/record.js';
import { latestAttemptOf } from '../model/tracking.js';

/** `name/3` → { name, index: 3 }; `name` → { name }. */
export function parseRef(ref: string): { name: string; index?: number } {
  const m = /^(.+?)\/(\d+)$/.exec(ref);
  if (m) return { name: m[1]!, index: Number(m[2]) };
  if (ref.includes('/')) throw new PilotError('BAD_INPUT', `'${ref}' is not NAME or NAME/INDEX`, { hint: 'tasks are numbered from 1, e.g. fine-tune-mlp/3' });
  return { name: ref };
}

export function splitTaskRef(ref: string): { name: string; index: number } {
  const { name, index } = parseRef(ref);
  if (index === undefined) throw new PilotError('BAD_INPUT', `'${ref}' names no task`, { hint: `add the task number: ${ref}/1` });
  return { name, index };
}

export function checkIndex(record: JobRecord, index: number): void {
  if (!Number.isInteger(index) || index < 1 || index > record.tasks) {
    throw new PilotError('NOT_FOUND', `job '${record.name}' has no task ${index}`, { hint: `its tasks are ${record.name}/1 … ${record.name}/${record.tasks}` });
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
