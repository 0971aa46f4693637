/**
 * The fast path of `pilot logs NAME/I [--stderr]`: when that task's log is cached and complete (the attempt
 * was over when it was fetched, so `.complete` sits next to it), print it without loading commander or the
 * engine, and without connecting. bin/pilot.js tries it first; `false` means "not that simple": the full
 * command runs and decides everything as before (a prefix or `/I` of the latest job, a pending submission,
 * a log not complete yet, any option, an odd record). Nothing here writes, so falling back is always safe.
 */
import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newestArrayFor } from '../model/attempts.js';
import { arrayBaseOf } from '../model/job.js';
import { JOB_NAME_RE, recordHeadProblem } from '../model/record-check.js';
import type { JobRecord } from '../model/record.js';
import { defaultHome } from '../util/paths.js';

/** `[ref, stream]` when argv is exactly `logs REF` or `logs REF --stderr` (either order). */
function simpleLogsCommand(argv: string[]): { name: string; index: number; stream: 'out' | 'err' } | undefined {
  if (argv[0] !== 'logs' || argv.length < 2 || argv.length > 3) return undefined;
  const rest = argv.slice(1);
  const stderr = rest.includes('--stderr');
  const refs = rest.filter((a) => a !== '--stderr');
  if (refs.length !== 1 || rest.length !== (stderr ? 2 : 1)) return undefined;
  const m = /^(.+)\/(0|[1-9]\d{0,8})$/.exec(refs[0]!);   // 0: jobs with arrayBase 0
  if (!m || !JOB_NAME_RE.test(m[1]!)) return undefined;
  return { name: m[1]!, index: Number(m[2]), stream: stderr ? 'err' : 'out' };
}

export async function printCachedLog(argv: string[]): Promise<boolean> {
  const cmd = simpleLogsCommand(argv);
  if (!cmd) return false;
  const dir = join(defaultHome(), 'jobs', cmd.name);
  // only the record's head is checked and used (name, tasks, arrayBase, attempts, pending): the per-task data of a
  // large record is text (model/record-pack.ts) that is read past, not parsed. Anything odd, a version-1 record
  // to upgrade included, is the full command's to say
  let record: Pick<JobRecord, 'tasks' | 'chunkSize' | 'info' | 'attempts' | 'pending'>;
  try {
    const raw = JSON.parse(await readFile(join(dir, 'job.json'), 'utf8')) as { version?: unknown };
    if (recordHeadProblem(raw, cmd.name) || raw.version === 1) return false;
    record = raw as unknown as typeof record;
  } catch {
    return false;
  }
  // a submission still pending is settled by the full command (one query), which may change the attempts
  const first = arrayBaseOf(record.info);   // tasks 1..N, or 0..N-1 with arrayBase 0
  if (record.pending || cmd.index < first || cmd.index > record.tasks - 1 + first) return false;
  const attempt = newestArrayFor(record, cmd.index)?.attempt ?? 1;
  const file = join(dir, 'logs', `${cmd.index}.attempt${attempt}.${cmd.stream}`);
  try {
    await access(`${file}.complete`);
  } catch {
    return false;
  }
  await new Promise<void>((resolve, reject) => {
    const input = createReadStream(file);
    // the reader went away (`pilot logs x | head`): not an error
    process.stdout.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' ? (input.destroy(), resolve()) : reject(err)));
    input.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? resolve() : reject(err)));
    input.on('end', resolve);
    input.pipe(process.stdout, { end: false });
  });
  return true;
}
