/**
 * Notifications (`notify:` in a job): sent from this machine by `wait`/`watch` once a job is final and no
 * retry is due. Delivery is AT LEAST ONCE: each event is sent while holding the job's lock and recorded in the
 * record's `notified` only after it was delivered, so two watchers never both send it, a failed delivery is
 * tried again by the next wait/watch, and only a crash between delivery and the record write sends it twice.
 * (Recording first would be at most once: a crash or a refused webhook would lose the message for good.)
 */
import { spawn } from 'node:child_process';
import { failureClass, whyClass } from '../model/failure.js';
import type { JobRecord, TaskStatus } from '../model/record.js';
import { dueRetries, type NotifyConfig, type NotifyEvent } from '../model/retry.js';
import { jobStatus, taskCount, type JobStatus } from '../model/tracking.js';
import type { Engine } from './engine.js';

const TIMEOUT_MS = 15_000;

/**
 * A failed task in a payload: its class as status says it (`failureClass`: EXIT, SIGNAL, TIMEOUT, …) and as
 * `why` says it (`whyClass`: NONZERO_EXIT for EXIT and SIGNAL), its exit code or signal, its last stderr line.
 */
export function failedTask(t: TaskStatus) {
  return {
    index: t.index, state: t.state, failureClass: failureClass(t)!, whyClass: whyClass(t)!, exitCode: t.exitCode, attempt: t.attempt,
    ...(t.signal ? { signal: t.signal } : {}), lastError: t.lastError ?? null,
  };
}

/** What a notification says: the job, counts per state, each failed task with its class and last stderr line. */
export function notifyPayload(event: NotifyEvent, status: JobStatus) {
  const failed = status.tasks.filter((t) => failureClass(t)).map(failedTask);
  return { event, job: status.name, cluster: status.cluster, tasks: taskCount(status), counts: status.counts, attempts: status.attempts, failed, sentAt: new Date().toISOString() };
}

/** The events a final job owes: job_end always, job_failed when a task failed (collection_final: notify-collection.ts). */
export function dueEvents(record: JobRecord): NotifyEvent[] {
  const cfg = record.info.notify;
  const status = jobStatus(record);
  if (!cfg || !status.done || dueRetries(record).length) return [];
  const happened: NotifyEvent[] = ['job_end', ...(status.tasks.some((t) => failureClass(t)) ? ['job_failed' as const] : [])];
  return happened.filter((e) => cfg.on.includes(e) && !record.notified?.[e]);
}

/** Sends what `name` owes, under its lock; a failed delivery is a warning (never fails the wait). */
export async function sendDue(engine: Engine, name: string): Promise<NotifyEvent[]> {
  if (!dueEvents(await engine.store.read(name)).length) return [];
  return engine.store.withLock(name, async () => {
    const record = await engine.store.read(name);
    const sent: NotifyEvent[] = [];
    for (const event of dueEvents(record)) {
      try {
        await deliver(record.info.notify!, JSON.stringify(notifyPayload(event, jobStatus(record))), event, name);
        sent.push(event);
      } catch (err) {
        engine.warn(name, [{ message: `the ${event} notification of '${name}' was not delivered: ${(err as Error).message}`, hint: 'the next `pilot wait`/`pilot watch` of this job tries again' }]);
      }
    }
    if (sent.length) {
      const cur = await engine.store.read(name);
      const at = new Date().toISOString();
      await engine.store.write({ ...cur, notified: { ...cur.notified, ...Object.fromEntries(sent.map((e) => [e, at])) } });
    }
    return sent;
  });
}

export async function deliver(cfg: NotifyConfig, body: string, event: NotifyEvent, job: string, extraEnv: Record<string, string> = {}): Promise<void> {
  if (cfg.webhook) {
    const res = await fetch(cfg.webhook, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) throw new Error(`${cfg.webhook} answered ${res.status} ${res.statusText}`);
    return;
  }
  // the user's own command line, as written in their job file; the payload travels on stdin only
  await new Promise<void>((resolve, reject) => {
    const child = spawn('sh', ['-c', cfg.command!], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, PILOT_EVENT: event, PILOT_JOB: job, ...extraEnv }, timeout: TIMEOUT_MS });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-500); });
    child.stdin.on('error', () => {});   // a command that does not read its stdin is fine
    child.stdin.end(body);
    child.on('error', reject);
    child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`\`${cfg.command}\` ${signal ? `was killed (${signal})` : `exited ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`))));
  });
}
