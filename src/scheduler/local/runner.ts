/**
 * The body of a local supervisor: runs the tasks of one submission (ArrayFile) with at most K at a time,
 * each as `bash job.sh <offset> <attempt> <bundle sha>` in the job folder with the variables a Slurm array task would see, in a
 * process group of its own so that a time limit or a cancel can end everything the task started. Every
 * transition is written to the task's state file before the next event is handled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { expandRanges } from '../../model/ranges.js';
import { SCRIPT_NAME } from '../backend.js';
import type { TaskState } from '../../model/states.js';
import { cancelMarkers, isCancelled, signalGroup, taskFile, writeJsonAtomic, type ArrayFile, type TaskFile } from './files.js';

/** How often cancel markers are looked for while tasks run. */
const CANCEL_POLL_MS = 250;

type EndReason = 'cancel' | 'timeout' | 'stop';

interface Running {
  index: number;
  child: ChildProcess;
  pid: number | null;
  start: string;
  reason?: EndReason;
  limitTimer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
}

const REASON_STATE: Record<EndReason, TaskState> = { cancel: 'CANCELLED', timeout: 'TIMEOUT', stop: 'NODE_FAIL' };

export class ArrayRunner {
  private readonly indices: number[];
  private readonly queue: number[];
  private readonly running = new Map<number, Running>();
  private poll?: NodeJS.Timeout;
  private stopping = false;
  private finished!: () => void;
  readonly done = new Promise<void>((resolve) => { this.finished = resolve; });

  constructor(private readonly jobDir: string, private readonly spec: ArrayFile) {
    this.indices = expandRanges(spec.indices);
    this.queue = [...this.indices];
  }

  start(): Promise<void> {
    this.poll = setInterval(() => this.checkCancels(), CANCEL_POLL_MS);
    this.fill();
    return this.done;
  }

  /** The supervisor itself is being stopped (SIGTERM, e.g. shutdown): end everything, restartable. */
  stop(): void {
    this.stopping = true;
    for (const index of this.queue.splice(0)) this.record(index, { state: 'NODE_FAIL', reason: 'the local supervisor was stopped before the task started' });
    for (const r of this.running.values()) this.terminate(r, 'stop');
    this.settle();
  }

  /** Kills every running group at once (the supervisor is about to die of an internal error). */
  killAll(): void {
    for (const r of this.running.values()) if (r.pid) signalGroup(r.pid, 'SIGKILL');
  }

  private fill(): void {
    const markers = this.stopping ? new Set<string>() : cancelMarkers(this.jobDir);
    while (!this.stopping && this.running.size < this.spec.maxConcurrent && this.queue.length) {
      const index = this.queue.shift()!;
      // checked right before starting: a task cancelled while pending never runs
      if (isCancelled(markers, this.spec.arrayId, index)) this.record(index, { state: 'CANCELLED', reason: 'cancelled before it started' });
      else this.launch(index);
    }
    this.settle();
  }

  private settle(): void {
    if (this.queue.length || this.running.size) return;
    clearInterval(this.poll);
    this.finished();
  }

  private checkCancels(): void {
    const markers = cancelMarkers(this.jobDir);
    if (!markers.size) return;
    const id = this.spec.arrayId;
    for (const index of this.queue.filter((i) => isCancelled(markers, id, i))) {
      this.queue.splice(this.queue.indexOf(index), 1);
      this.record(index, { state: 'CANCELLED', reason: 'cancelled before it started' });
    }
    for (const r of this.running.values()) if (isCancelled(markers, id, r.index)) this.terminate(r, 'cancel');
    this.settle();
  }

  private launch(index: number): void {
    const logs = join(this.jobDir, 'logs');
    mkdirSync(logs, { recursive: true });
    const base = join(logs, `${this.spec.arrayId}_${index}`);
    const out = openSync(`${base}.out`, 'w');
    const err = openSync(`${base}.err`, 'w');
    const start = new Date().toISOString();
    let child: ChildProcess;
    try {
      const args = [SCRIPT_NAME, String(this.spec.offset), String(this.spec.attempt ?? 1), ...(this.spec.bundleSha ? [this.spec.bundleSha] : [])];
      child = spawn('bash', args, {
        cwd: this.jobDir, detached: true, stdio: ['ignore', out, err], env: this.taskEnv(index),
      });
    } finally {
      // the child has its own copies of the descriptors once spawn returns
      closeSync(out);
      closeSync(err);
    }
    const r: Running = { index, child, pid: child.pid ?? null, start };
    this.running.set(index, r);
    child.once('error', (e) => this.end(r, null, null, `could not start bash: ${e.message}`));
    child.once('exit', (code, signal) => this.end(r, code, signal));
    if (r.pid === null) return; // 'error' follows
    this.record(index, { state: 'RUNNING', pid: r.pid, start });
    if (this.spec.timeLimitMs !== null) r.limitTimer = setTimeout(() => this.terminate(r, 'timeout'), this.spec.timeLimitMs);
  }

  /** SIGTERM to the task's group, SIGKILL after the grace period (Slurm's KillWait). The first reason wins. */
  private terminate(r: Running, reason: EndReason): void {
    if (r.reason) return;
    r.reason = reason;
    if (r.pid === null) return;
    signalGroup(r.pid, 'SIGTERM');
    const pid = r.pid;
    r.killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), this.spec.graceMs);
  }

  private end(r: Running, code: number | null, signal: NodeJS.Signals | null, failure?: string): void {
    if (!this.running.has(r.index)) return; // 'error' and 'exit' can both fire
    this.running.delete(r.index);
    clearTimeout(r.limitTimer);
    // like Slurm, the task ends with its script: processes it left behind get SIGTERM, then SIGKILL
    if (r.pid !== null && !r.killTimer && signalGroup(r.pid, 'SIGTERM')) {
      const pid = r.pid;
      r.killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), this.spec.graceMs);
    }
    const state: TaskState = r.reason ? REASON_STATE[r.reason] : code === 0 ? 'COMPLETED' : 'FAILED';
    const reason = failure ?? (r.reason === 'stop' ? 'the local supervisor was stopped while the task ran'
      : signal && !r.reason ? `killed by ${signal}` : undefined);
    this.record(r.index, { state, exitCode: code, signal, pid: r.pid, start: r.start, end: new Date().toISOString(), reason });
    this.fill();
  }

  private record(index: number, t: Partial<TaskFile> & { state: TaskState }): void {
    const { state, ...rest } = t; // state first: the files are read by people too
    const file: TaskFile = { state, exitCode: null, signal: null, pid: null, start: null, end: null, ...rest };
    if (file.reason === undefined) delete file.reason;
    if (['CANCELLED', 'NODE_FAIL'].includes(t.state) && !file.end) file.end = new Date().toISOString();
    writeJsonAtomic(taskFile(this.jobDir, this.spec.arrayId, index), file);
  }

  /**
   * The environment sbatch would give array index `index` (the inherited one minus stale SLURM_*), but no
   * SLURM_JOB_ID/SLURM_JOBID: no Slurm allocation exists, and `srun` in a script would try to join it (issue 13).
   */
  private taskEnv(index: number): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLURM_')));
    const indices = this.indices;
    Object.assign(env, {
      SLURM_ARRAY_TASK_ID: String(index),
      SLURM_ARRAY_JOB_ID: this.spec.arrayId,
      SLURM_ARRAY_TASK_COUNT: String(indices.length),
      SLURM_ARRAY_TASK_MIN: String(indices[0]),
      SLURM_ARRAY_TASK_MAX: String(indices[indices.length - 1]),
      SLURM_SUBMIT_DIR: this.jobDir,
      SLURM_JOB_NAME: this.spec.jobName,
      PILOT_JOB_DIR: this.jobDir,
    });
    if (this.spec.cpus) env.SLURM_CPUS_PER_TASK = String(this.spec.cpus);
    return env;
  }
}
