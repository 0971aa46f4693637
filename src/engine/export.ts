/**
 * `export`: the records of some (or all) jobs as one JSON document for other tools (notebooks, dashboards,
 * spreadsheets): each job, its attempts, and per task its argv, named parameters and state. It reads only the
 * local records and connects to nothing (states are as the last status call left them: run `pilot status`
 * first for fresh ones), so it is cheap, works offline and never changes a record.
 */
import { failureClass, whyClass } from '../model/failure.js';
import { arrayBaseOf } from '../model/job.js';
import type { JobRecord } from '../model/record.js';
import { jobStatus } from '../model/tracking.js';
import type { DamagedRecord } from '../store/store.js';
import type { Engine } from './engine.js';
import { recordsNewestFirst, resolveName } from './refs.js';

/** Bumped when a field changes meaning or goes away (new fields may appear at any time). */
export const EXPORT_FORMAT_VERSION = 1;

export interface ExportOptions {
  /** Called for each record that cannot be read (left out). */
  onDamaged?: (damaged: DamagedRecord) => void;
}

export function exportRecord(record: JobRecord) {
  const status = jobStatus(record);
  const { info } = record;
  return {
    name: record.name,
    cluster: record.cluster,
    backend: record.backend,
    createdAt: record.createdAt,
    done: status.done,
    counts: status.counts,
    remoteDir: record.remote.jobDir,
    job: {
      entrypoint: info.entrypoint, interpreter: info.interpreter, srcDir: info.srcDir,
      ...(info.partition ? { partition: info.partition } : {}), ...(info.time ? { time: info.time } : {}),
      ...(info.mem ? { mem: info.mem } : {}), ...(info.cpus ? { cpus: info.cpus } : {}), ...(info.gpus ? { gpus: info.gpus } : {}),
      ...(info.expectedFiles ? { expectedFiles: info.expectedFiles } : {}),
    },
    bundle: record.bundle,
    // an escalated retry's own time/mem (onTimeout, onOutOfMemory) next to the attempt that ran with them
    attempts: record.attempts.map((a) => ({
      attempt: a.attempt, submittedAt: a.submittedAt, indices: a.indices, jobIds: a.arrays.map((x) => x.jobId),
      ...(a.resources ? { resources: a.resources } : {}), ...(a.bundle ? { bundle: a.bundle } : {}),
    })),
    tasks: status.tasks.map((t) => {
      const failure = failureClass(t);
      const why = whyClass(t);
      const i = t.index - arrayBaseOf(info);   // argv[0] is the first task, numbered 0 or 1
      return {
        index: t.index, state: t.state, exitCode: t.exitCode, attempt: t.attempt,
        ...(t.signal ? { signal: t.signal } : {}),
        ...(failure ? { failure } : {}),
        ...(why ? { whyClass: why } : {}),   // the name `pilot why` gives (NONZERO_EXIT for EXIT and SIGNAL)
        ...(t.reason ? { reason: t.reason } : {}),
        ...(t.lastError ? { lastError: t.lastError } : {}),
        ...(t.missingFiles ? { missingFiles: t.missingFiles } : {}),
        ...(t.start ? { start: t.start } : {}),
        ...(t.end ? { end: t.end } : {}),
        argv: info.argv[i] ?? [],
        ...(info.params?.[i] ? { params: info.params[i] } : {}),
      };
    }),
  };
}

export type ExportedJob = ReturnType<typeof exportRecord>;

export interface ExportDocument {
  format: 'pilot-export';
  version: number;
  exportedAt: string;
  jobs: ExportedJob[];
}

/** The named jobs (names or unique prefixes), or every readable one (newest first) when none is named. */
export async function exportJobs(engine: Engine, names: readonly string[] = [], options: ExportOptions = {}): Promise<ExportDocument> {
  const records = names.length
    ? await Promise.all(names.map(async (n) => engine.load(await resolveName(engine.store, n))))
    : await recordsNewestFirst(engine.store, options.onDamaged);
  return { format: 'pilot-export', version: EXPORT_FORMAT_VERSION, exportedAt: new Date().toISOString(), jobs: records.map(exportRecord) };
}
