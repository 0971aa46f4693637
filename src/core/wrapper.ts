/**
 * SlurmWrapper: the SDK's entry point. It validates, packs, renders and records; the backends (Slurm over
 * SSH, or the local supervisor) move files and submit. One backend (one SSH connection) per cluster is
 * opened on first use and kept until `close()`.
 */
import { join } from 'node:path';
import { PilotError } from '../errors.js';
import type { Backend } from '../scheduler/backend.js';
import type { JobRecord } from '../store/record.js';
import { JobStore } from '../store/store.js';
import type { TransportStats } from '../transport/types.js';
import { resolveCluster, type ClusterConfig } from './config.js';
import type { JobInfo } from './job-info.js';
import { defaultHome } from './paths.js';
import { bundleCacheDir, prepareJob } from './prepare.js';

export interface WrapperOptions {
  /** Pilot home (config.yaml, job records). Default: $PILOT_HOME or ~/.pilot. */
  home?: string;
}

export interface ScheduleResult {
  name: string;
  tasks: number;
  slurmJobIds: string[];
  cluster: string;
  remoteDir: string;
  bundle: { sha256: string; bytes: number; uploadedBytes: number };
}

export interface DryRun {
  name: string;
  cluster: string;
  tasks: number;
  script: string;
  argsFile: string;
  argsText: string;
  sbatchCommand: string;
  bundle: { sha256: string; bytes: number; files: number };
}

export class SlurmWrapper {
  readonly home: string;
  readonly store: JobStore;
  private readonly backends = new Map<string, Promise<Backend>>();

  constructor(options: WrapperOptions = {}) {
    this.home = options.home ?? defaultHome();
    this.store = new JobStore(this.home);
  }

  /**
   * Packs the sources once, uploads them unless the cluster has that content hash, and submits ONE job array
   * whose task i receives argument line i.
   *
   * @example
   * const pilot = new SlurmWrapper();
   * const job = await pilot.scheduleJobs({
   *   jobName: 'fine-tune-mlp', cluster: 'lab', srcDir: './', entrypoint: 'train.py',
   *   args: ['--lr 0.001', '--lr 0.01'], maxConcurrent: 2, time: '0:10:00',
   * });
   * console.log(job.slurmJobIds);
   * await pilot.close();
   */
  async scheduleJobs(info: JobInfo, options: { base?: string } = {}): Promise<ScheduleResult> {
    const { normalizeJobInfo } = await import('./job-info.js');
    const normalized = normalizeJobInfo(info, options.base);
    const cluster = await this.clusterFor(normalized.cluster);
    const name = await this.store.reserve(normalized.jobName, normalized.uniqueName);
    try {
      const job = await prepareJob(name, normalized, clusterDefaults(cluster), bundleCacheDir(this.home));
      const backend = await this.backend(cluster);
      const submitted = await backend.submit(job);
      const record: JobRecord = {
        version: 1,
        name,
        cluster: cluster.name,
        backend: cluster.kind,
        createdAt: new Date().toISOString(),
        tasks: job.tasks,
        maxConcurrent: normalized.maxConcurrent,
        chunkSize: submitted.chunkSize,
        info: { ...normalized, jobName: name },
        bundle: { sha256: job.bundle.sha256, bytes: job.bundle.bytes, files: job.bundle.files },
        remote: submitted.remote,
        attempts: [{ attempt: 1, submittedAt: new Date().toISOString(), indices: `1-${job.tasks}`, arrays: submitted.arrays }],
        finalStates: {},
      };
      await this.store.write(record);
      return {
        name,
        tasks: job.tasks,
        slurmJobIds: submitted.arrays.map((a) => a.slurmJobId),
        cluster: cluster.name,
        remoteDir: submitted.remote.jobDir,
        bundle: { sha256: job.bundle.sha256, bytes: job.bundle.bytes, uploadedBytes: submitted.uploadedBytes },
      };
    } catch (err) {
      await this.store.release(name);
      throw err;
    }
  }

  /**
   * A single command: an array of one task.
   * @example
   * await pilot.scheduleJob({ jobName: 'once', cluster: 'lab', entrypoint: 'prep.sh', args: ['--all'] });
   */
  scheduleJob(info: JobInfo, options: { base?: string } = {}): Promise<ScheduleResult> {
    return this.scheduleJobs({ ...info, args: info.args?.length ? [info.args[0]!] : undefined }, options);
  }

  /**
   * Everything `scheduleJobs` would send, without connecting: the script, the args files and the sbatch command.
   * @example
   * const d = await pilot.dryRun({ jobName: 'x', cluster: 'lab', entrypoint: 'train.py', args: ['--lr 1'] });
   * console.log(d.script);
   */
  async dryRun(info: JobInfo, options: { base?: string } = {}): Promise<DryRun> {
    const { normalizeJobInfo } = await import('./job-info.js');
    const normalized = normalizeJobInfo(info, options.base);
    const cluster = await this.clusterFor(normalized.cluster);
    const job = await prepareJob(normalized.jobName, normalized, clusterDefaults(cluster), bundleCacheDir(this.home));
    const remoteDir = cluster.kind === 'slurm' ? cluster.remoteDir : join(this.home, 'local');
    return {
      name: normalized.jobName,
      cluster: cluster.name,
      tasks: job.tasks,
      script: job.script,
      argsFile: job.argsFile,
      argsText: job.argsText,
      sbatchCommand: `cd ${remoteDir}/jobs/${normalized.jobName}-XXXXXXXX && sbatch --parsable --array=1-${job.tasks}${normalized.maxConcurrent ? `%${normalized.maxConcurrent}` : ''} job.sh 0`,
      bundle: { sha256: job.bundle.sha256, bytes: job.bundle.bytes, files: job.bundle.files },
    };
  }

  /** Transport counters of a cluster's open connection (commands run, bytes moved), for tests and benchmarks. */
  async transportStats(cluster: string): Promise<TransportStats | undefined> {
    const b = this.backends.get(cluster);
    return b ? (await b).stats : undefined;
  }

  /** Closes every connection this wrapper opened. */
  async close(): Promise<void> {
    const all = [...this.backends.values()];
    this.backends.clear();
    await Promise.all(all.map(async (b) => (await b.catch(() => null))?.close()));
  }

  // ---------------------------------------------------------------- internals

  private async clusterFor(name: string | undefined): Promise<ClusterConfig> {
    if (!name) {
      throw new PilotError('BAD_INPUT', 'no cluster given', { hint: 'set `cluster:` in the job (or pass --cluster NAME); `local` runs on this machine' });
    }
    return resolveCluster(this.home, name);
  }

  /** @internal */
  async backend(cluster: ClusterConfig): Promise<Backend> {
    let b = this.backends.get(cluster.name);
    if (!b) {
      b = openBackend(cluster, this.home);
      this.backends.set(cluster.name, b);
      b.catch(() => this.backends.delete(cluster.name));
    }
    return b;
  }
}

function clusterDefaults(cluster: ClusterConfig): { partition?: string; account?: string } {
  return cluster.kind === 'slurm' ? { partition: cluster.partition, account: cluster.account } : {};
}

async function openBackend(cluster: ClusterConfig, home: string): Promise<Backend> {
  if (cluster.kind === 'local') {
    const { LocalBackend } = await import('../scheduler/local/backend.js');
    return new LocalBackend(join(home, "local")) as unknown as Backend;
  }
  const [{ connectSsh }, { SlurmBackend }] = await Promise.all([import('../transport/ssh.js'), import('../scheduler/slurm.js')]);
  const transport = await connectSsh({ host: cluster.host, port: cluster.port, user: cluster.user, identityFile: cluster.identityFile, knownHosts: cluster.knownHosts });
  return new SlurmBackend(cluster, transport, join(home, 'cache', 'clusters'));
}
