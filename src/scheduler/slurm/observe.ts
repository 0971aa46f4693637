/**
 * Observing Slurm: ONE remote command per cluster for every open task of every job asked about, then the
 * lag-safe merge of sacct, squeue and scontrol (see status.ts). Tasks are mapped back from
 * (array job id, array index) to (job name, task number) through each task's latest attempt.
 */
import { PilotError } from '../../model/errors.js';
import { arrayFor, latestArrayFor, openTasks } from '../../model/attempts.js';
import { tailCandidates, TAILS_PER_CALL } from '../../model/last-error.js';
import type { JobRecord, TaskStatus } from '../../model/record.js';
import { isFinal } from '../../model/states.js';
import type { ReadTails } from '../../model/tracking.js';
import type { Transport } from '../../transport/types.js';
import type { Observation } from '../backend.js';
import type { ObserveState } from '../dialect.js';
import { buildStatusCommand, merger, parseStatusOutput, taskKey, type ExpectedTask } from './status.js';
import type { TailDir } from './tails.js';
import type { ExpectTask } from './expect.js';
import { applyExpected, expectCandidates, EXPECT_PER_CALL, type ExpectRequest } from '../../model/expected.js';

/** Each Slurm query is bounded remotely at 20 s; this is the backstop for a connection that stalls. */
const STATUS_TIMEOUT_MS = 60_000;

interface Wanted extends ExpectedTask {
  key: string;
  name: string;
  task: number;
  attempt: number;
}

export async function observeSlurm(transport: Transport, records: JobRecord[], state: ObserveState): Promise<Observation> {
  const wanted: Wanted[] = [];
  for (const record of records) {
    for (const task of openTasks(record)) {
      const latest = latestArrayFor(record, task);   // from the record's one table (model/attempts.ts)
      if (!latest) continue;
      const arrayIndex = task - latest.array.offset;
      wanted.push({ jobId: latest.array.jobId, arrayIndex, key: taskKey(latest.array.jobId, arrayIndex), name: record.name, task, attempt: latest.attempt });
    }
  }
  const result = new Map<string, Map<number, TaskStatus>>(records.map((r) => [r.name, new Map()]));
  const tails = tailTargets(records);
  const expects = expectTargets(records);
  if (!wanted.length && !tails.dirs.length) return { states: result };

  const ids = [...new Set(wanted.map((w) => w.jobId))];
  const keys = new Set(wanted.map((w) => w.key));
  const ask = async (accounting: ObserveState['accounting']) =>
    parseStatusOutput((await transport.exec(buildStatusCommand(ids, { accounting, tails: tails.dirs, ...(wanted.length ? { expects: expects.tasks } : {}) }), { what: 'the status query', timeoutMs: STATUS_TIMEOUT_MS })).stdout, { wanted: keys });
  let parsed = await ask(state.accounting);
  // only stderr files were owed (every task is final): no state was asked, so none can be stale
  if (!wanted.length) return { states: result, tails: tails.read(parsed.tails ?? new Map()) };
  if (parsed.accountingDisabled) {
    const hadScontrol = state.accounting !== true;
    state.accounting = false;
    // accounting was believed on, so scontrol did not run: ask again without sacct (happens once per connection)
    if (!hadScontrol) parsed = await ask(false);
  } else if (parsed.sacct) {
    state.accounting = true;
  }
  if (parsed.errors.length && !parsed.sacct && parsed.squeue.empty && (parsed.scontrol?.empty ?? true)) {
    throw new PilotError('REMOTE', `Slurm did not answer the status query: ${parsed.errors.join('; ')}`, { hint: 'is slurmctld reachable from the login node? try `pilot test-ssh CLUSTER`' });
  }
  const merge = merger(parsed);
  for (const w of wanted) {
    const key = w.key;
    const obs = merge(w.jobId, w.arrayIndex, key);
    const taskState = obs?.state ?? 'UNKNOWN';
    const exitCode = obs?.exitCode ?? null;
    // with accounting, sacct brings the exit code within seconds; cancelled tasks that never ran have none.
    // Likewise its start and end (the report's timeline): a task the controller saw end while sacct has no
    // final row of it yet (none at all, a plain or range row, or one that still runs) is asked for again rather
    // than stored for good without its times; gone from the controller too, it is UNKNOWN until sacct has it
    // (sacct is looked up again only for a task that ended without times, never for the pending ones)
    const provisional = state.accounting === true && isFinal(taskState) && taskState !== 'CANCELLED' &&
      (exitCode === null || (!obs?.end && !isFinal(parsed.sacct?.find(w.jobId, w.arrayIndex, key)?.state ?? 'UNKNOWN')));
    const checked = expects.jobs.has(w.name) ? expects.byTask.get(`${w.name}/${w.task}`) : undefined;
    // field by field, without a spread per optional field: this runs for every open task (100 000 in one call)
    const status: TaskStatus = { index: w.task, state: taskState, exitCode, attempt: w.attempt };
    if (obs?.signal) status.signal = obs.signal;
    // squeue's reason explains a wait (Priority, DependencyNeverSatisfied); on a final task (NonZeroExitCode)
    // it only repeats the state, and whether squeue still lists the task is a matter of timing
    if (obs?.reason && obs.reason !== 'None' && !isFinal(taskState)) status.reason = obs.reason;
    if (provisional) status.provisional = provisional;
    if (obs?.start) status.start = obs.start;
    if (obs?.end && isFinal(taskState)) status.end = obs.end;
    result.get(w.name)!.set(w.task, applyExpected(status, checked?.request, checked && parsed.expects?.get(checked.key), expects.jobs.has(w.name)));
  }
  return { states: result, tails: tails.read(parsed.tails ?? new Map()), ...(parsed.errors.length ? { warning: parsed.errors.join('; ') } : {}) };
}

/** Bytes of patterns one status command carries at most (quoting can double them: counted twice). */
const EXPECT_MAX_BYTES = 64 * 1024;

/** The tasks whose expected files this call checks (at most EXPECT_PER_CALL, across records). */
function expectTargets(records: readonly JobRecord[]) {
  const tasks: ExpectTask[] = [];
  const byTask = new Map<string, { key: string; request: ExpectRequest }>();
  const jobs = new Set(records.filter((r) => r.info.expectedFiles?.length).map((r) => r.name));
  let bytes = 0;
  for (const record of records) {
    for (const request of expectCandidates(record, EXPECT_PER_CALL - tasks.length)) {
      // the whole script is ONE argument of `sh -c` (Linux caps one at 128 KiB): the rest waits for the next call
      bytes += request.paths.reduce((n, p) => n + p.length * 2 + 4, record.remote.jobDir.length + 24);
      if (bytes > EXPECT_MAX_BYTES && tasks.length) return { tasks, byTask, jobs };
      const array = arrayFor(record, request.task, request.attempt)!;
      const key = taskKey(array.jobId, request.task - array.offset);
      tasks.push({ jobDir: record.remote.jobDir, key, paths: request.paths });
      byTask.set(`${record.name}/${request.task}`, { key, request });
    }
  }
  return { tasks, byTask, jobs };
}

/** The stderr files this call reads (at most TAILS_PER_CALL, across records), and how to map what comes back. */
function tailTargets(records: readonly JobRecord[]): { dirs: TailDir[]; read: (lines: Map<string, string>) => ReadTails } {
  const dirs: TailDir[] = [];
  const owners = new Map<string, { name: string; task: number; attempt: number }>();
  let budget = TAILS_PER_CALL;
  for (const record of records) {
    const keys: string[] = [];
    for (const { task, attempt } of tailCandidates(record, budget)) {
      const array = arrayFor(record, task, attempt)!;
      const key = taskKey(array.jobId, task - array.offset);
      keys.push(key);
      owners.set(key, { name: record.name, task, attempt });
    }
    budget -= keys.length;
    if (keys.length) dirs.push({ jobDir: record.remote.jobDir, keys });
  }
  return {
    dirs,
    read: (lines) => {
      const out: ReadTails = new Map();
      for (const [key, text] of lines) {
        const o = owners.get(key);
        if (o) (out.get(o.name) ?? out.set(o.name, new Map()).get(o.name)!).set(o.task, { attempt: o.attempt, text });
      }
      return out;
    },
  };
}
