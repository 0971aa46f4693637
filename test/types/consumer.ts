// Compiled by test/unit/package.test.ts as a consumer would (strict, module nodenext, no @types/node of its own)
// against the packed tarball: every public type must be reachable and usable from the package entry.
import { SlurmWrapper, PilotError, failureClass, isFinal, quote, TASK_STATES } from 'hpc-pilot';
import type { JobInfo, JobStatus, ScheduleResult, TaskLogs, RestartResult, DownloadResult, DryRun, StreamLogOptions, TaskState, FailureClass, EngineEvents } from 'hpc-pilot';

const info: JobInfo = { jobName: 'x', cluster: 'local', entrypoint: 'train.py', args: [{ lr: 0.1 }], maxConcurrent: 2 };

export async function use(): Promise<void> {
  const pilot = new SlurmWrapper({ home: '/tmp/pilot-consumer' });
  const job: ScheduleResult = await pilot.scheduleJobs(info);
  const dry: DryRun = await pilot.dryRun(info);
  const status: JobStatus = await pilot.wait(job.name, { timeoutMs: 1000, onProgress: (s: JobStatus) => void s.counts });
  const states: TaskState[] = status.tasks.map((t) => t.state).filter(isFinal);
  const classes: (FailureClass | undefined)[] = status.tasks.map(failureClass);
  const logs: TaskLogs = await pilot.logs(`${job.name}/1`);
  const options: StreamLogOptions = { to: process.stdout, follow: true };
  await pilot.streamLog(`${job.name}/1`, options);
  const restart: RestartResult = await pilot.restartFailed(job.name, { states: ['FAILED'] });
  const dl: DownloadResult = await pilot.download(job.name, { to: './out' });
  const off = pilot.on('taskChanged', (e: EngineEvents['taskChanged']) => void e.to);
  off();
  void [dry.script, states, classes, logs.stdout, restart.indices, dl.skipped, quote('a b'), TASK_STATES.length];
  try {
    await pilot.cancel(job.name);
  } catch (err) {
    if (err instanceof PilotError) console.log(err.code, err.hint);
  } finally {
    await pilot.close();
  }
}
