/**
 * `pilot results`: every completed task's result file (default `results.json` in its output folder, latest
 * attempt), fetched with ONE remote command per job (the log-tails reader: base64 sections, regular files only,
 * bounded bytes each), joined with the task's parameters and state into one row per task (model/results.ts).
 */
import { PilotError } from '../model/errors.js';
import { checkResultFile, DEFAULT_RESULT_FILE, RESULT_MAX_BYTES, resultPath, resultsTable, type ResultFile, type ResultInput, type ResultsTable } from '../model/results.js';
import { arrayBaseOf } from '../model/job.js';
import type { JobRecord } from '../model/record.js';
import type { JobStatus } from '../model/tracking.js';
import type { Engine } from './engine.js';
import { resolveName } from './refs.js';
import { statusOf } from './track.js';

/** The recorded jobs of a collection (those removed since are left out: `collection show` names them). */
async function collectionJobs(engine: Engine, name: string): Promise<string[]> {
  const { collectionStore, membersOf } = await import('./collections.js');
  const { records } = await membersOf(engine, await collectionStore(engine).read(name));
  if (!records.length) throw new PilotError('NOT_FOUND', `collection '${name}' has no recorded job`, { hint: '`pilot collection show NAME` lists its jobs' });
  return records.map((r) => r.name);
}

export interface ResultsOptions {
  /** Every job of this collection (`pilot collection`), after the names given. */
  collection?: string;
  /** The file each task wrote in its output folder (default `results.json`); a plain relative path. */
  file?: string;
  /** Also a row for each task that did not complete (with its state and a note); default: completed only. */
  all?: boolean;
}

export interface JobResults extends ResultsTable {
  name: string;
  cluster: string;
  /** the file read in each task's folder */
  file: string;
  /** states may be out of date (the cluster did not answer the status call) */
  stale?: string;
}

/** The result rows of one job whose status is known (the report reuses it with its own status). */
export async function resultsFor(engine: Engine, record: JobRecord, status: JobStatus, options: ResultsOptions = {}): Promise<JobResults> {
  const file = checkResultFile(options.file ?? DEFAULT_RESULT_FILE);
  const wanted = status.tasks.filter((t) => options.all || t.state === 'COMPLETED');
  const paths = new Map(wanted.filter((t) => t.state === 'COMPLETED').map((t) => [t.index, resultPath(t.index, t.attempt, file)]));
  let read = new Map<string, ResultFile | undefined>();
  if (paths.size) {
    try {
      read = await (await engine.backendFor(record.cluster)).readLogTails(record, [...paths.values()], RESULT_MAX_BYTES);
    } catch (err) {
      if (!(err instanceof PilotError) || err.code === 'INTERNAL') throw err;
      throw new PilotError(err.code, `cannot read the result files of '${record.name}': ${err.message}`, { hint: err.hint, cause: err });
    }
  }
  const info = record.info;
  const inputs: ResultInput[] = wanted.map((t) => {
    const path = paths.get(t.index);
    const pos = t.index - arrayBaseOf(info);   // argv, params and names are kept by position
    const name = info.taskNames?.[pos];
    return {
      status: t,
      ...(info.params?.[pos] ? { params: info.params[pos] } : {}),
      ...(name !== undefined ? { name } : {}),
      file: path === undefined ? null : read.get(path),
    };
  });
  return { name: record.name, cluster: record.cluster, file, ...resultsTable(inputs, file), ...(status.stale ? { stale: status.stale } : {}) };
}

/** Results of the named jobs (names or unique prefixes; none: the latest job): one status call, one read per job. */
export async function results(engine: Engine, names: readonly (string | undefined)[], options: ResultsOptions = {}): Promise<JobResults[]> {
  checkResultFile(options.file ?? DEFAULT_RESULT_FILE);
  const members = options.collection === undefined ? [] : await collectionJobs(engine, options.collection);
  const named = names.length || !options.collection ? await Promise.all((names.length ? names : [undefined]).map((n) => resolveName(engine.store, n))) : [];
  const resolved = [...new Set([...named, ...members])];
  const statuses = await statusOf(engine, resolved);
  const out: JobResults[] = [];
  for (const [i, name] of resolved.entries()) out.push(await resultsFor(engine, await engine.load(name), statuses[i]!, options));
  return out;
}
