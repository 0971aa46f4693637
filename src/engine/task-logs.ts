/** The SDK's two ways to read a task's logs: whole strings (bounded), or a stream of any size. */
import { join } from 'node:path';
import { isFinal } from '../model/states.js';
import type { JobRecord } from '../model/record.js';
import type { Backend } from '../scheduler/backend.js';
import type { Engine } from './engine.js';
import { attemptOver, logText, streamTaskLog, type LogTarget, type StreamLogOptions, type StreamLogResult } from './logs.js';
import { attemptOf, resolveTaskRef } from './refs.js';
import { statusOf } from './track.js';
import type { TaskLogs } from './types.js';

function target(engine: Engine, backend: () => Promise<Backend>, record: JobRecord, index: number, attempt: number, stream: 'out' | 'err'): LogTarget {
  return { backend, record, index, attempt, stream, file: join(engine.store.jobDir(record.name), 'logs', `${index}.attempt${attempt}.${stream}`) };
}

export async function logsOf(engine: Engine, ref: string, options: { attempt?: number; maxBytes?: number } = {}): Promise<TaskLogs> {
  const { name, index } = await resolveTaskRef(engine.store, ref);
  const record = await engine.load(name);
  const attempt = attemptOf(record, index, options.attempt);
  const backend = () => engine.backendFor(record.cluster);
  const [stdout, stderr] = await Promise.all((['out', 'err'] as const).map((stream) =>
    logText(target(engine, backend, record, index, attempt, stream), options.maxBytes)));
  return { name, index, attempt, stdout: stdout!, stderr: stderr! };
}

export async function streamLogOf(engine: Engine, ref: string, options: StreamLogOptions): Promise<StreamLogResult> {
  const { name, index } = await resolveTaskRef(engine.store, ref);
  const record = await engine.load(name);
  const attempt = attemptOf(record, index, options.attempt);
  const backend = () => engine.backendFor(record.cluster);
  const t = target(engine, backend, record, index, attempt, options.stream === 'stderr' ? 'err' : 'out');
  const taskNow = async () => (await statusOf(engine, [name]))[0]!.tasks.find((t) => t.index === index)!;
  const bytes = await streamTaskLog(t, options, record.backend === 'local', async () => {
    const task = await taskNow();
    return task.attempt > attempt || (task.attempt === attempt && isFinal(task.state) && !task.provisional);
  });
  // nothing printed: say why when the task has not finished (not started yet, or silent so far)
  if (bytes === 0 && !options.follow && !attemptOver(record, index, attempt)) {
    const task = await taskNow();
    if (task.attempt === attempt && !isFinal(task.state)) return { name, index, attempt, bytes, state: task.state };
  }
  return { name, index, attempt, bytes };
}
