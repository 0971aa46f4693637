/**
 * `pilot rm --remote` and `pilot gc` for the built-in `local` cluster, whose root ($PILOT_HOME/local) belongs
 * to one home: a job folder goes when no record refers to it and no supervisor of it is alive; an unpacked
 * bundle goes when no record and no remaining job folder refers to it. Age does not matter here (no other
 * machine launches from this folder). The same rules as the remote command (../cleanup.ts), on local files.
 */
import { writableDirs } from './workdir.js';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PilotError } from '../../model/errors.js';
import { diskUsage } from '../../util/files.js';
import { pollUntil } from '../../util/poll.js';
import type { GcEntry, GcRequest } from '../backend.js';
import { BUNDLE_RE, BUNDLE_REF_RE, checkJobDir, JOB_FOLDER_RE } from '../cleanup.js';
import { supervisorAlive } from './observe.js';

const SUPERVISOR_EXIT_MS = 15_000;

/** A job folder of this root with a supervisor still running: its tasks are not over. */
async function running(jobDir: string): Promise<boolean> {
  const names = await readdir(join(jobDir, 'state')).catch(() => [] as string[]);
  return names.some((n) => {
    const id = /^array-(\d+)\.json$/.exec(n)?.[1];
    return id !== undefined && supervisorAlive(jobDir, id);
  });
}

/** Deletes a local job folder (exactly `<root>/jobs/<name>-<8 hex>`); false when it was gone already. */
export async function removeLocalJob(root: string, jobDir: string): Promise<boolean> {
  checkJobDir(jobDir, 'local');
  if (!jobDir.startsWith(`${join(root, 'jobs')}/`)) {
    throw new PilotError('DAMAGED', `the job folder ${jobDir} is not under this home's local cluster (${root})`, {
      hint: 'the home was moved or the record edited; remove the folder by hand, then `pilot rm NAME` without --remote',
    });
  }
  // a supervisor writes its tasks' final states, then exits: after a cancel it may need a moment
  await pollUntil(() => running(jobDir), (busy) => !busy, {
    minMs: 50, maxMs: 500, timeoutMs: SUPERVISOR_EXIT_MS,
    onTimeout: () => new PilotError('REMOTE', `the tasks of ${jobDir} are still being run by their supervisor`, { hint: 'wait for them to end (`pilot wait NAME`) and try again' }),
  });
  const existed = (await readdir(jobDir).catch(() => null)) !== null;
  await rm(jobDir, { recursive: true, force: true });
  return existed;
}

export async function collectLocal(root: string, request: GcRequest): Promise<GcEntry[]> {
  const found: GcEntry[] = [];
  const keepJobs = new Set(request.keepJobs);
  const keepBundles = new Set(request.keepBundles);
  const drop = async (kind: GcEntry['kind'], path: string) => {
    found.push({ kind, path, bytes: await diskUsage(path) });
    if (!request.dryRun) {
      await writableDirs(path);   // bundles are read-only
      await rm(path, { recursive: true, force: true });
    }
  };
  const jobs = join(root, 'jobs');
  for (const entry of await readdir(jobs, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || !JOB_FOLDER_RE.test(entry.name)) continue;
    const dir = join(jobs, entry.name);
    if (keepJobs.has(entry.name) || await running(dir)) {
      // job.sh names the launch's bundle; .pilot-bundles every bundle an attempt ran (--repack included)
      const named = await Promise.all(['job.sh', '.pilot-bundles'].map((f) => readFile(join(dir, f), 'utf8').catch(() => '')));
      for (const m of named.join('\n').matchAll(BUNDLE_REF_RE)) keepBundles.add(m[1]!);
    } else {
      await drop('job', dir);
    }
  }
  const bundles = join(root, 'bundles');
  for (const entry of await readdir(bundles, { withFileTypes: true }).catch(() => [])) {
    // unpack leftovers (<sha>.tmp.<pid>.<hex>) are swept by the next launch once their writer is gone
    if (entry.isDirectory() && BUNDLE_RE.test(entry.name) && !keepBundles.has(entry.name)) await drop('bundle', join(bundles, entry.name));
  }
  return found;
}
