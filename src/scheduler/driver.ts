/**
 * The ONE driver of remote schedulers: runs a Dialect (the command texts and the parsing of their output, all
 * pure) over one Transport (one SSH connection). A launch costs two remote commands whatever N is (one when
 * the cluster's facts are cached and it holds the bundle), plus an
 * SFTP upload when the cluster lacks the bundle; a restart one (two when it ships a new bundle).
 */
import { randomBytes } from 'node:crypto';
import { inlineOrTar } from './inline-files.js';
import type { RemoteClusterConfig } from '../model/cluster.js';
import { atStep, PilotError, type LaunchStep } from '../model/errors.js';
import { currentBundle, latestArrayFor, logPath, remoteRoot } from '../model/attempts.js';
import { interpreterToFind, interpreterVerdict, type Warning } from '../model/checks.js';
import { taskNumbers, taskRange, type NormalizedJobInfo } from '../model/job.js';
import { compressRanges } from '../model/ranges.js';
import type { JobRecord, PendingSubmission } from '../model/record.js';
import type { ChunkSink } from '../transport/chunked-read.js';
import type { Transport } from '../transport/types.js';
import { retryTransient } from '../util/poll.js';
import { quote, shScript } from '../util/quote.js';
import { FactsCache } from './facts-cache.js';
import { chainedArrays, planSubmission } from './groups.js';
import { ARGS_FILE, ARGS_TEXT, attemptArgsFile, newPending, PARAMS_FILE, SCRIPT_NAME, WHOLE_JOB, type Backend, type Bundle, type DownloadOptions, type GcEntry, type GcRequest, type OnSubmitting, type PendingVerdict, type PreparedJob, type Resubmitted, type Submitted } from './backend.js';
import { downloadListCommand } from './workdir.js';
import { gcCommand, keepList, parseGc, removeJobCommand } from './cleanup.js';
import { logTailsRequest, parseLogTails, type LogTail } from './log-tails.js';
import type { Dialect, HealthReport, ObserveState, Precheck } from './dialect.js';
import type { AttemptResources } from '../model/retry.js';

/** The submit command may unpack a large bundle first; a dead controller is caught earlier by the probe. */
const SUBMIT_TIMEOUT_MS = 300_000;

/** The errors that say the controller did not answer: a submission stopped by one is tried again. */
const CONTROLLER_DOWN = new WeakSet<PilotError>();

/**
 * The waits (ms) before trying a submission again while the controller does not answer: 1, 2 and 4 s, or
 * `$PILOT_SUBMIT_RETRY_MS` (comma-separated; `0` or empty: no retry).
 */
function submitRetryWaits(): number[] {
  const given = process.env.PILOT_SUBMIT_RETRY_MS;
  if (given === undefined) return [1000, 2000, 4000];
  return given.split(',').map(Number).filter((n) => Number.isFinite(n) && n > 0);
}

export class RemoteBackend implements Backend {
  constructor(
    private readonly cluster: RemoteClusterConfig,
    private readonly transport: Transport,
    private readonly dialect: Dialect,
    cacheDir: string,
  ) {
    this.facts = new FactsCache(cacheDir, cluster.name);
  }

  /** What earlier calls learned of the cluster (facts-cache.ts): what lets a launch skip the probe. */
  private readonly facts: FactsCache;

  get stats() {
    return this.transport.stats;
  }

  /** How the connection was made, hop by hop (what `pilot test-ssh` shows). */
  get hops() {
    return this.transport.hops;
  }

  get usable(): boolean {
    return this.transport.closed !== true;
  }

  private controllerDown(): PilotError {
    const e = new PilotError('SUBMIT', `the ${this.dialect.title} controller of ${this.cluster.name} is not answering: nothing was submitted`, {
      hint: `it is down or unreachable from the login node; try again later (\`pilot test-ssh ${this.cluster.name}\` shows what works)`,
    });
    CONTROLLER_DOWN.add(e);
    return e;
  }

  /**
   * The first of a submission's two commands, and what it decides: the probe (controller up, interpreter
   * found: refused here, before a byte is uploaded or anything recorded), then the upload of a bundle the
   * cluster lacks. `info` is given for a launch (a restart's interpreter was checked when it launched).
   */
  private async ship(bundle: Bundle, remoteDir: string, info?: NormalizedJobInfo) {
    const cache = await this.facts.read();
    const knownMax = this.cluster.maxArraySize ?? cache.maxArraySize;
    const probe = await this.run(this.dialect.probeCommand(remoteDir, bundle.sha256, knownMax === undefined, info && interpreterToFind(info)), 'probe', 'connect');
    const facts = this.dialect.parseProbe(probe.stdout);
    if (!facts.controllerUp) throw this.controllerDown();
    const warning = info && interpreterVerdict(info, this.cluster.name, facts.interpreter);
    await this.facts.remember({ maxArraySize: knownMax === undefined ? facts.maxArraySize : undefined, root: [remoteDir, facts.root] });
    let uploadedTarball: string | undefined;
    if (!facts.bundlePresent) {
      uploadedTarball = `${facts.root}/bundles/${bundle.sha256}.${randomBytes(4).toString('hex')}.tar.gz`;
      await atStep('upload', () => this.transport.put(bundle.file, uploadedTarball!));
    }
    return {
      root: facts.root,
      maxArraySize: knownMax ?? facts.maxArraySize ?? 1001,   // Slurm's default when the config is hidden
      uploadedTarball,
      uploadedBytes: uploadedTarball ? bundle.bytes : 0,
      warnings: warning ? [warning] : [],
    };
  }

  /**
   * A launch, tried again with backoff while the controller does not answer (a slurmctld restart or failover
   * takes seconds): every such try provably submitted nothing (the probe stopped it, or the submit command
   * undid what it had written before sbatch), so trying again can never submit twice.
   */
  async submit(job: PreparedJob, onSubmitting: OnSubmitting): Promise<Submitted> {
    return retryTransient(() => this.submitOnce(job, onSubmitting), (err) => err instanceof PilotError && CONTROLLER_DOWN.has(err),
      submitRetryWaits(), (tries, ms) => ` (asked ${tries} times over ${Math.round(ms / 1000)} s)`);
  }

  /**
   * One try: ONE remote command when the cluster's facts are cached and the bundle was seen there (the
   * command checks them itself: precheck), else the probe, an upload if needed, and the submit command.
   */
  private async submitOnce(job: PreparedJob, onSubmitting: OnSubmitting): Promise<Submitted> {
    const cache = await this.facts.read();
    const remoteDir = this.cluster.remoteDir;
    const root = cache.roots?.[remoteDir];
    const maxArraySize = this.cluster.maxArraySize ?? cache.maxArraySize;
    if (root && maxArraySize && cache.bundles?.includes(job.bundle.sha256)) {
      const word = interpreterToFind(job.info);
      // whether a missing interpreter refuses the launch (interpreterVerdict throws) or only warns
      const required = word !== undefined && !job.info.setup.length && job.info.env.PATH === undefined;
      const precheck = { remoteDir, interpreter: word, interpreterRequired: required };
      const sent = await this.send(job, onSubmitting, { root, maxArraySize, uploadedBytes: 0, warnings: [] }, precheck);
      if (sent.kind === 'submitted') return sent.submitted;
      // the cluster is not as cached (bundle gone, root moved, interpreter missing): nothing was written there.
      // The record made for this try goes with the error if the probe refuses: its command provably did nothing.
      await this.facts.remember({ forgetBundle: job.bundle.sha256 });
    }
    const shipped = await this.ship(job.bundle, remoteDir, job.info).catch((err: unknown) => {
      if (err instanceof PilotError) err.nothingSubmitted = true;
      throw err;
    });
    const sent = await this.send(job, onSubmitting, shipped);
    if (sent.kind !== 'submitted') throw new PilotError('INTERNAL', 'the submit command stopped at a check it was not asked to make');
    return sent.submitted;
  }

  /** Records the submission as pending, then sends the submit command (with the job's files on stdin). */
  private async send(job: PreparedJob, onSubmitting: OnSubmitting, shipped: { root: string; maxArraySize: number; uploadedTarball?: string; uploadedBytes: number; warnings: Warning[] }, precheck?: Precheck) {
    const remote = { bundleDir: `${shipped.root}/bundles/${job.bundle.sha256}`, jobDir: `${shipped.root}/jobs/${job.name}-${randomBytes(4).toString('hex')}` };
    // indices must stay below MaxArraySize: arrays hold at most MaxArraySize-1 tasks (1..MaxArraySize-1)
    const chunkSize = Math.max(1, shipped.maxArraySize - 1);
    const arrays = planSubmission(this.dialect, job.info, taskNumbers(job.tasks, job.info), chunkSize, job.info.maxConcurrent);
    const pending = newPending(1, taskRange(job.tasks, job.info), arrays, job.bundle.sha256);
    await onSubmitting({ remote, chunkSize, pending });
    const { cmd, stdin } = await inlineOrTar([
      { name: SCRIPT_NAME, data: job.script, mode: 0o755 },
      { name: ARGS_FILE, data: job.argsFile },
      { name: ARGS_TEXT, data: job.argsText },
      { name: PARAMS_FILE, data: job.paramsFile },   // PILOT_PARAMS_JSON per task (sweep)
    ], (inlineFiles) => this.dialect.submitCommand({ root: shipped.root, jobDir: remote.jobDir, bundleSha: job.bundle.sha256, uploadedTarball: shipped.uploadedTarball, withJobFiles: true, arrays, script: SCRIPT_NAME, attempt: 1, token: pending.token, userDependency: this.dialect.userDependency(job.info, chainedArrays(arrays)), jobDependency: job.dependency, precheck, inlineFiles }));
    const r = await atStep('submit', () => this.transport.exec(cmd, { ...(stdin ? { stdin } : {}), what: 'the submit command', timeoutMs: SUBMIT_TIMEOUT_MS }));
    const checked = precheck ? this.dialect.parsePrecheck(r.stdout) : undefined;
    if (checked?.unready) return { kind: 'unready' as const, why: checked.unready };
    if (checked?.controllerDown) throw this.controllerDown();
    const warning = checked && checked.interpreter !== undefined ? interpreterVerdict(job.info, this.cluster.name, checked.interpreter) : undefined;
    const submitted: Submitted = { remote, chunkSize, arrays: this.dialect.parseSubmit(r.code, r.stdout, r.stderr), uploadedBytes: shipped.uploadedBytes, warnings: [...shipped.warnings, ...(warning ? [warning] : [])] };
    await this.facts.remember({ bundle: job.bundle.sha256 });
    return { kind: 'submitted' as const, submitted };
  }

  async resubmit(record: JobRecord, taskNumbers: number[], onSubmitting: OnSubmitting, bundle?: Bundle, resources?: AttemptResources, attemptArgs?: string): Promise<Resubmitted> {
    // the job's own root, even if config.yaml's remoteDir changed since: job.sh finds bundles next to its folder
    const jobRoot = remoteRoot(record);
    const shipped = bundle && await this.ship(bundle, jobRoot);
    const bundleSha = bundle?.sha256 ?? currentBundle(record);
    // each task again with its own resource set (a sweep's resources.logic)
    const arrays = planSubmission(this.dialect, record.info, taskNumbers, record.chunkSize, record.maxConcurrent);
    const attempt = record.attempts.length + 1;
    const pending = newPending(attempt, compressRanges(taskNumbers), arrays, bundleSha);
    await onSubmitting({ remote: record.remote, chunkSize: record.chunkSize, pending });
    const { cmd, stdin } = await inlineOrTar(attemptArgs === undefined ? [] : [{ name: attemptArgsFile(attempt), data: attemptArgs }], (inlineFiles) => this.dialect.submitCommand({ root: shipped?.root ?? jobRoot, jobDir: record.remote.jobDir, bundleSha, uploadedTarball: shipped?.uploadedTarball, withJobFiles: false, newBundle: bundle !== undefined, arrays, script: SCRIPT_NAME, attempt, token: pending.token, userDependency: this.dialect.userDependency(record.info, chainedArrays(arrays)), resources, attemptFiles: attemptArgs !== undefined, inlineFiles }));
    const r = await atStep('submit', () => this.transport.exec(cmd, { ...(stdin ? { stdin } : {}), what: 'the submit command', timeoutMs: SUBMIT_TIMEOUT_MS }));
    return { arrays: this.dialect.parseSubmit(r.code, r.stdout, r.stderr), uploadedBytes: shipped?.uploadedBytes ?? 0 };
  }

  async settle(record: JobRecord & { pending: PendingSubmission }): Promise<PendingVerdict> {
    const { pending } = record;
    const since = (Date.now() - Date.parse(pending.startedAt)) / 1000 + 3600;   // an hour of slack for clock skew
    const cmd = this.dialect.pendingQuery({ jobDir: record.remote.jobDir, token: pending.token, jobName: record.name, sinceSeconds: since });
    const r = await this.transport.exec(cmd, { what: 'the search for a lost submission', timeoutMs: 60_000 });
    const known = new Set(record.attempts.flatMap((a) => a.arrays.map((x) => x.jobId)));
    return this.dialect.judgePending(r.stdout, record.remote.jobDir, known, pending.planned);
  }

  private readonly observeState: ObserveState = { accounting: 'unknown' };

  observe(records: JobRecord[]) {
    return this.dialect.observe(this.transport, records, this.observeState);
  }

  async readLog(record: JobRecord, task: number, attempt: number, stream: 'out' | 'err', offset: number, onChunk: ChunkSink): Promise<number | null> {
    const path = logPath(record, task, attempt, stream);
    return path ? this.transport.readStream(`${record.remote.jobDir}/${path}`, { start: offset, onChunk }) : null;
  }

  async readLogTails(record: JobRecord, files: readonly string[], maxBytes: number): Promise<Map<string, LogTail | undefined>> {
    if (!files.length) return new Map();
    const { command, stdin } = logTailsRequest(record.remote.jobDir, files, maxBytes);
    const r = await this.transport.exec(command, { ...(stdin ? { stdin } : {}), what: 'reading the logs', timeoutMs: 300_000 });
    if (r.code === 3) throw new PilotError('REMOTE', `the folder of '${record.name}' is gone on ${this.cluster.name}: ${record.remote.jobDir}`, { hint: 'it was deleted on the cluster (pilot rm --remote, or by hand): its logs are lost' });
    return parseLogTails(r.stdout);
  }

  async cancel(record: JobRecord, taskNumbers?: number[]): Promise<void> {
    const targets = taskNumbers
      ? taskNumbers.flatMap((t) => {
        const a = latestArrayFor(record, t);
        return a ? [{ jobId: a.array.jobId, index: t - a.array.offset }] : [];
      })
      : record.attempts.flatMap((a) => a.arrays.map((x) => ({ jobId: x.jobId })));
    if (!targets.length) return;
    await this.run(this.dialect.cancelCommand(targets), 'cancel');
  }

  async updateDependencies(targets: { jobId: string; dependency: string }[]): Promise<string[]> {
    if (!targets.length || !this.dialect.updateDependencyCommand) return targets.map((t) => t.jobId);
    const r = await this.run(this.dialect.updateDependencyCommand(targets), 'updating dependencies');
    return [...r.stdout.matchAll(/^@@dependency-failed (\S+)$/gm)].map((m) => m[1]!);
  }

  async removeJob(record: JobRecord): Promise<boolean> {
    const r = await this.run(removeJobCommand(record.remote.jobDir, this.cluster.name), `removing ${record.remote.jobDir}`);
    return r.stdout.includes('removed');
  }

  async collectGarbage(request: GcRequest): Promise<GcEntry[]> {
    const cmd = gcCommand({
      remoteDir: this.cluster.remoteDir, olderThanMinutes: request.olderThanMs / 60_000, dryRun: request.dryRun,
      activeWorkDirs: this.dialect.activeWorkDirsCommand(),
    });
    // du and rm over many folders take a while; the keep list travels on stdin (no command line limit)
    const r = await this.transport.exec(cmd, { stdin: keepList(request.keepJobs, request.keepBundles), what: 'gc', timeoutMs: 600_000 });
    return parseGc(r.code, r.stdout, r.stderr, this.cluster.name);
  }

  /** Runs the dialect's health command and times one empty round trip: what `pilot test-ssh` shows. */
  async health(): Promise<HealthReport & { roundTripMs: number }> {
    const started = performance.now();
    await this.transport.exec('true', { what: 'a round trip', timeoutMs: 30_000 });
    const roundTripMs = Math.round(performance.now() - started);
    const r = await this.transport.exec(this.dialect.healthCommand(this.cluster.remoteDir), { what: 'the health check', timeoutMs: 30_000 });
    return { ...this.dialect.parseHealth(r.stdout), roundTripMs };
  }

  async download(record: JobRecord, dest: string, options: DownloadOptions = {}): Promise<number> {
    const { PassThrough } = await import('node:stream');
    const { safeExtractStream } = await import('../bundle/extract.js');
    const pipe = new PassThrough();
    // the job wrote outputs/: whatever links it left there are checked before they are made here
    const extracting = safeExtractStream(pipe, dest, { onSkip: options.onSkip, accept: options.accept });
    extracting.catch(() => undefined);   // awaited below; failing while tar still streams must not go unhandled
    let bytes = 0;
    // one tar stream over one channel instead of one SFTP request per file
    const list = downloadListCommand(options.selection ?? WHOLE_JOB);
    const r = await this.transport.exec(shScript(`cd ${quote(record.remote.jobDir)} && ${list} | tar -czf - --ignore-failed-read --null --no-recursion -T - 2>/dev/null`), {
      keepStdout: false,
      onStdout: (chunk) => { bytes += chunk.length; pipe.write(chunk); },
    });
    pipe.end();
    await extracting;
    if (r.code !== 0 && bytes === 0) {
      throw new PilotError('REMOTE', `cannot read ${record.remote.jobDir} on ${this.cluster.name}: ${r.stderr.trim() || `exit ${r.code}`}`, { hint: 'the job folder may have been deleted on the cluster' });
    }
    return bytes;
  }

  private async run(cmd: string, what: string, step?: LaunchStep) {
    const r = await (step ? atStep(step, () => this.transport.exec(cmd, { what })) : this.transport.exec(cmd, { what }));
    if (r.code !== 0) {
      throw new PilotError('REMOTE', `${what} on ${this.cluster.name} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 2000)}`, {
        hint: `try \`pilot test-ssh ${this.cluster.name}\``,
      });
    }
    return r;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

