/**
 * The Slurm backend: a thin driver over one transport (one SSH connection). The command texts and the
 * parsing of their output are pure functions in slurm-submit.ts and slurm-status.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryTar } from '../bundle/mem-tar.js';
import type { SlurmClusterConfig } from '../core/config.js';
import { PilotError } from '../errors.js';
import { latestArrayFor, logPath } from '../store/attempts.js';
import type { ArraySubmission, JobRecord } from '../store/record.js';
import type { ChunkSink } from '../transport/chunked-read.js';
import type { Transport } from '../transport/types.js';
import { ARGS_FILE, ARGS_TEXT, SCRIPT_NAME, type Backend, type PreparedJob, type Submitted } from './backend.js';
import { quote, shScript } from './quote.js';
import { parseProbe, parseSubmitOutput, planArrays, probeCommand, submitCommand } from './slurm-submit.js';
import { observeSlurm, type ObserveState } from './slurm-observe.js';

/** Facts about a cluster worth remembering between calls (asking costs a round trip). */
interface ClusterCache {
  maxArraySize?: number;
}

export class SlurmBackend implements Backend {
  constructor(
    private readonly cluster: SlurmClusterConfig,
    private readonly transport: Transport,
    private readonly cacheDir: string,
  ) {}

  get stats() {
    return this.transport.stats;
  }

  private cacheFile(): string {
    return join(this.cacheDir, `${this.cluster.name}.json`);
  }

  private async readCache(): Promise<ClusterCache> {
    try {
      return JSON.parse(await readFile(this.cacheFile(), 'utf8')) as ClusterCache;
    } catch {
      return {};
    }
  }

  async submit(job: PreparedJob): Promise<Submitted> {
    const cache = await this.readCache();
    const knownMax = this.cluster.maxArraySize ?? cache.maxArraySize;
    const probe = await this.run(probeCommand(this.cluster.remoteDir, job.bundle.sha256, knownMax === undefined), 'probe');
    const facts = parseProbe(probe.stdout);
    const maxArraySize = knownMax ?? facts.maxArraySize ?? 1001;   // Slurm's default when the config is hidden
    if (knownMax === undefined && facts.maxArraySize) {
      await mkdir(this.cacheDir, { recursive: true });
      await writeFile(this.cacheFile(), JSON.stringify({ ...cache, maxArraySize: facts.maxArraySize }, null, 2));
    }
    const bundleDir = `${facts.root}/bundles/${job.bundle.sha256}`;
    const jobDir = `${facts.root}/jobs/${job.name}-${randomBytes(4).toString('hex')}`;

    let uploadedTarball: string | undefined;
    let uploadedBytes = 0;
    if (!facts.bundlePresent) {
      uploadedTarball = `${bundleDir}.${randomBytes(4).toString('hex')}.tar.gz`;
      await this.transport.put(job.bundle.file, uploadedTarball);
      uploadedBytes = job.bundle.bytes;
    }
    // indices must stay below MaxArraySize: arrays hold at most MaxArraySize-1 tasks (1..MaxArraySize-1)
    const chunkSize = Math.max(1, maxArraySize - 1);
    const arrays = planArrays(Array.from({ length: job.tasks }, (_, i) => i + 1), chunkSize, job.info.maxConcurrent);
    const stdin = memoryTar([
      { name: SCRIPT_NAME, data: job.script, mode: 0o755 },
      { name: ARGS_FILE, data: job.argsFile },
      { name: ARGS_TEXT, data: job.argsText },
    ]);
    const cmd = submitCommand({ root: facts.root, jobDir, bundleSha: job.bundle.sha256, uploadedTarball, withJobFiles: true, arrays, script: SCRIPT_NAME, attempt: 1 });
    const r = await this.transport.exec(cmd, { stdin });
    const submitted = parseSubmitOutput(r.code, r.stdout, r.stderr);
    return { remote: { jobDir, bundleDir }, chunkSize, arrays: submitted.arrays, uploadedBytes };
  }

  async resubmit(record: JobRecord, taskNumbers: number[]): Promise<ArraySubmission[]> {
    const root = record.remote.bundleDir.replace(/\/bundles\/[^/]+$/, '');
    const arrays = planArrays(taskNumbers, record.chunkSize, record.maxConcurrent);
    const cmd = submitCommand({ root, jobDir: record.remote.jobDir, bundleSha: record.bundle.sha256, withJobFiles: false, arrays, script: SCRIPT_NAME, attempt: record.attempts.length + 1 });
    const r = await this.transport.exec(cmd);
    return parseSubmitOutput(r.code, r.stdout, r.stderr).arrays;
  }

  private readonly observeState: ObserveState = { accounting: 'unknown' };

  observe(records: JobRecord[]) {
    return observeSlurm(this.transport, records, this.observeState);
  }

  async readLog(record: JobRecord, task: number, attempt: number, stream: 'out' | 'err', offset: number, onChunk: ChunkSink): Promise<number | null> {
    const path = logPath(record, task, attempt, stream);
    return path ? this.transport.readStream(`${record.remote.jobDir}/${path}`, { start: offset, onChunk }) : null;
  }

  async cancel(record: JobRecord, taskNumbers?: number[]): Promise<void> {
    const targets = taskNumbers
      ? taskNumbers.flatMap((t) => {
        const a = latestArrayFor(record, t);
        return a ? [`${a.array.slurmJobId}_${t - a.array.offset}`] : [];
      })
      : record.attempts.flatMap((a) => a.arrays.map((x) => x.slurmJobId));
    if (!targets.length) return;
    await this.run(`scancel ${targets.map(quote).join(' ')}`, 'scancel');   // plain words: any login shell
  }

  async download(record: JobRecord, dest: string): Promise<number> {
    const { PassThrough } = await import('node:stream');
    const { safeExtractStream } = await import('../bundle/extract.js');
    const pipe = new PassThrough();
    const extracting = safeExtractStream(pipe, dest);
    let bytes = 0;
    // one tar stream over one channel instead of one SFTP request per file
    const r = await this.transport.exec(shScript(`cd ${quote(record.remote.jobDir)} && tar -czf - --ignore-failed-read logs outputs 2>/dev/null`), {
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

  private async run(cmd: string, what: string) {
    const r = await this.transport.exec(cmd);
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

