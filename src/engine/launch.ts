/**
 * Launching a job: validate, pack once (checking that the program is in the bundle), probe (the interpreter
 * is on the cluster), record BEFORE submitting, submit one array (or a chain of them past
 * MaxArraySize), adopt the reply. A failure names its step; a lost reply is settled by the next command.
 */
import { join } from 'node:path';
import { adoptSubmission } from '../model/attempts.js';
import type { ClusterConfig } from '../model/cluster.js';
import { interpreterToFind, type Warning } from '../model/checks.js';
import { atStep, PilotError } from '../model/errors.js';
import { arrayBaseOf, type JobInfo, type NormalizedJobInfo } from '../model/job.js';
import type { JobRecord } from '../model/record.js';
import { dialectFor } from '../scheduler/index.js';
import { takesAttemptArgs, takesBundleArg } from '../scheduler/render.js';
import { joinCollection } from './collections.js';
import { ownerMark } from '../util/process.js';
import type { Engine } from './engine.js';
import { checkAfterSupported, resolveAfter } from './dependencies.js';
import { bundleCacheDir, prepareJob } from './prepare.js';
import { launchFailed, pendingNote, settle } from './submission.js';
import type { DryRun, ScheduleResult } from './types.js';
import { previewTasks } from '../plan/preview.js';

async function validate(engine: Engine, info: JobInfo, base?: string): Promise<{ normalized: NormalizedJobInfo; cluster: ClusterConfig }> {
  const { normalizeJobInfo } = await import('./job-spec.js');
  const { loadSweepHooks } = await import('./sweep-load.js');
  const normalized = normalizeJobInfo(info, base, 'job', await loadSweepHooks(info, base));
  const cluster = await engine.cluster(normalized.cluster);
  dialectFor(cluster.kind).checkJob(normalized, 'job');
  return { normalized, cluster };
}

function prepare(engine: Engine, name: string, normalized: NormalizedJobInfo, cluster: ClusterConfig) {
  const defaults = cluster.kind === 'local' ? {} : { partition: cluster.partition, account: cluster.account };
  return prepareJob(name, normalized, defaults, bundleCacheDir(engine.home), dialectFor(cluster.kind));
}

/**
 * Starts connecting to the job's cluster while the job is validated (the TCP and SSH handshakes wait on the
 * network, validation on the CPU). Its login prompts wait until the job is valid: bad input never costs a
 * one-time password, and the connection is dropped. Only for ssh2 (an openssh master asks on the terminal
 * itself, and is usually already open); anything unexpected just leaves the usual path to connect.
 */
function connectEarly(engine: Engine, info: JobInfo, valid: Promise<unknown>, refused: () => boolean): void {
  if (typeof info.cluster !== 'string' || info.cluster === 'local') return;
  engine.cluster(info.cluster).then((c) => {
    // a job refused already needs no connection (and one opened now could outlive the caller's close())
    if (c.kind !== 'local' && c.transport === 'ssh2' && !refused()) engine.backend(c, valid).catch(() => undefined);
  }, () => undefined);
}

export async function launch(engine: Engine, info: JobInfo, base?: string): Promise<ScheduleResult> {
  await engine.store.ensureHome();   // before the job is even read: a home that cannot be used is the first thing to say
  let settleValid!: (err?: unknown) => void;
  const valid = new Promise<void>((resolve, reject) => { settleValid = (err) => (err === undefined ? resolve() : reject(err)); });
  valid.catch(() => undefined);   // a rejection is the early connection's to see, not an unhandled one
  let refused = false;
  connectEarly(engine, info, valid, () => refused);
  const { normalized, cluster } = await validate(engine, info, base).catch((err: unknown) => {
    refused = true;
    settleValid(err ?? new Error('invalid job'));
    throw err;
  });
  settleValid();
  if (!normalized.uniqueName) {
    // a launch retried after a lost reply finds the first one instead of submitting the work twice
    const earlier = await earlierLaunch(engine, normalized.jobName);
    if (earlier) return earlier;
  }
  // before the name is reserved: a dependency that cannot be resolved leaves nothing behind
  const dependency = await resolveAfter(engine, normalized, cluster);
  const { store } = engine;
  const name = await store.reserve(normalized.jobName, normalized.uniqueName);
  let recorded: JobRecord | undefined;
  // the TCP and SSH handshakes run while the sources are packed and the script rendered (both local work)
  const connecting = atStep('connect', () => engine.backend(cluster));
  connecting.catch(() => undefined);   // awaited below; a failure while packing must not go unhandled
  try {
    const job = await atStep('pack', () => prepare(engine, name, normalized, cluster));
    engine.warn(name, job.warnings);   // before the upload: a large file is worth knowing before it is sent
    const backend = await connecting;
    // inner steps (upload, unpack, record) tag their own errors first; anything else failed while submitting
    const submitted = await atStep('submit', () => backend.submit(dependency ? { ...job, dependency } : job, ({ remote, chunkSize, pending }) => atStep('record', async () => {
      const record: JobRecord = {
        version: 2,
        name,
        cluster: cluster.name,
        backend: cluster.kind,
        createdAt: new Date().toISOString(),
        tasks: job.tasks,
        maxConcurrent: normalized.maxConcurrent,
        chunkSize,
        info: { ...normalized, jobName: name },
        bundle: { sha256: job.bundle.sha256, bytes: job.bundle.bytes, files: job.bundle.files },
        bundlePerAttempt: takesBundleArg(job.script),
        attemptArgs: takesAttemptArgs(job.script),
        remote,
        attempts: [],
        pending: { ...pending, owner: ownerMark().trim() },
        finalStates: {},
      };
      await store.write(record, { reserved: true });
      recorded = record;
    })));
    // submitted: failing to join the collection is said, never a failed launch. Joined while the record is
    // updated (two locks, two files: neither waits for the other), with the record that update makes
    // (adoptSubmission is a function of the pending record and the arrays); the job is recorded already
    const joined = joinCollection(engine, normalized.collection, adoptSubmission(recorded!, submitted.arrays)).catch((err: unknown) => engine.warn(name, [{
      message: `'${name}' was submitted but did not join collection '${normalized.collection}': ${(err as Error).message}`,
      hint: `add it with \`pilot collection add ${normalized.collection} ${name}\``,
    }]));
    const record = await atStep('record', () => store.update(name, (r) => adoptSubmission(r, submitted.arrays))).finally(() => joined);
    engine.warn(name, submitted.warnings);
    engine.events.emit('submitted', { name, attempt: 1, jobIds: submitted.arrays.map((a) => a.jobId) });
    await joined;
    return { ...scheduleResult(record), bundle: { sha256: job.bundle.sha256, bytes: job.bundle.bytes, files: job.bundle.files, uploadedBytes: submitted.uploadedBytes }, environment: job.environment };
  } catch (err) {
    throw await launchFailed(engine, name, recorded !== undefined, err);
  }
}

/** A recorded job of this name whose submission was pending: settled now, and returned if it was submitted. */
async function earlierLaunch(engine: Engine, name: string): Promise<ScheduleResult | undefined> {
  const record = await engine.store.find(name).catch(() => undefined);
  if (!record?.pending) return undefined;
  let settled: JobRecord;
  try {
    settled = await settle(engine, record);
  } catch (err) {
    if (err instanceof PilotError && err.code === 'NOT_FOUND') return undefined; // never submitted: launch anew
    throw err;
  }
  if (settled.pending) {
    throw new PilotError('EXISTS', `an earlier launch of '${name}' may have reached the cluster and cannot be checked yet: ${pendingNote(settled)}`, {
      hint: `run \`pilot status ${name}\` in a moment; pilot never submits the same job twice`,
    });
  }
  await joinCollection(engine, settled.info.collection, settled).catch(() => undefined);   // as the first launch meant to
  return { ...scheduleResult(settled), adopted: true, bundle: { ...settled.bundle, uploadedBytes: 0 } };
}

/**
 * The interpreter check as far as it goes without connecting: on this machine for `local` (a missing one
 * refuses the dry run as it would the launch), named as pending for a remote cluster.
 */
async function interpreterCheck(info: NormalizedJobInfo, cluster: ClusterConfig): Promise<{ checked: string[]; warnings: Warning[] }> {
  const word = interpreterToFind(info);
  if (word === undefined) return { checked: [], warnings: [] };
  if (cluster.kind !== 'local') {
    return { checked: [`interpreter ${word}: not checked, it needs the cluster (the launch looks it up on ${cluster.name} before submitting)`], warnings: [] };
  }
  const { checkInterpreterHere } = await import('../scheduler/local/which.js');
  const { path, warnings } = checkInterpreterHere(info);
  return { checked: path ? [`interpreter ${word}: ${path} on this machine`] : [], warnings };
}

export async function dryRun(engine: Engine, info: JobInfo, base?: string): Promise<DryRun> {
  await engine.store.ensureHome();   // the bundle is packed into $PILOT_HOME/cache
  const { normalized, cluster } = await validate(engine, info, base);
  const job = await prepare(engine, normalized.jobName, normalized, cluster);
  const interpreter = await interpreterCheck(normalized, cluster);
  checkAfterSupported(normalized, cluster);
  const after = normalized.after?.length ? [`after: ${normalized.after.map((a) => `${a.job}:${a.when}`).join(', ')} (the job ids are looked up at launch)`] : [];
  const warnings = [...job.warnings, ...interpreter.warnings];
  engine.warn(job.name, warnings);
  const remoteDir = cluster.kind === 'local' ? join(engine.home, 'local') : cluster.remoteDir;
  return {
    name: normalized.jobName,
    cluster: cluster.name,
    tasks: job.tasks,
    script: job.script,
    argsFile: job.argsFile,
    argsText: job.argsText,
    sbatchCommand: dialectFor(cluster.kind).describeSubmit(`${remoteDir}/jobs/${normalized.jobName}-XXXXXXXX`, job.tasks, job.bundle.sha256, normalized.maxConcurrent, normalized.arrayBase),
    taskTable: previewTasks(normalized, 10),
    ...(normalized.resourceGroups ? { resourceGroups: normalized.resourceGroups } : {}),
    bundle: { sha256: job.bundle.sha256, bytes: job.bundle.bytes, files: job.bundle.files },
    checks: [...job.checked, ...interpreter.checked, ...after],
    warnings,
    environment: job.environment,
    ...(normalized.fromScript ? { directives: directivesReport(normalized.fromScript) } : {}),
  };
}

/** What `--dry-run` says about a `script:` job's #SBATCH lines: what was taken, what was ignored and why. */
function directivesReport(s: NonNullable<NormalizedJobInfo['fromScript']>): string[] {
  return [
    `script ${s.path}, run unchanged with bash as each task`,
    ...(s.taken.length ? s.taken : ['no #SBATCH option taken']),
    ...s.ignored,
  ];
}

function scheduleResult(record: JobRecord): Omit<ScheduleResult, 'bundle'> {
  return {
    name: record.name,
    tasks: record.tasks,
    slurmJobIds: record.attempts[0]?.arrays.map((a) => a.jobId) ?? [],
    cluster: record.cluster,
    remoteDir: record.remote.jobDir,
    ...(arrayBaseOf(record.info) === 0 ? { arrayBase: 0 as const } : {}),
  };
}
