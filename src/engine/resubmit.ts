/**
 * `pilot resubmit --collection C`: the tasks of a collection's jobs that match a filter (and a `--select`
 * function of the user's, given each task's params and state) go again as a new attempt of their job, through
 * the very path restart-failed takes (engine/restart.ts restartTasks: lock, fresh states, same script and args).
 * `--extra-args` words are appended to those tasks' argv for that attempt only; every submission is recorded
 * in the collection under one submission group.
 */
import { resolve } from 'node:path';
import { importFile } from '../util/import-file.js';
import { splitShellWords } from '../model/args.js';
import { defaultGroupName, stateFilter, tasksOfRecord, type CollectionTask } from '../model/collection.js';
import { isFinal } from '../model/states.js';
import { PilotError } from '../model/errors.js';
import { compressRanges } from '../model/ranges.js';
import { collectionStore, membersOf, recordInGroup } from './collections.js';
import type { Engine } from './engine.js';
import { restartTasks, type RestartOptions } from './restart.js';
import type { RestartResult } from './types.js';

/** What a `select` function receives: one task of the collection, with its params, argv and state. */
export type TaskSelector = (task: CollectionTask) => boolean | Promise<boolean>;

export interface ResubmitOptions {
  /**
   * Which finished tasks: `failed` (every failure state: FAILED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED,
   * MISSING_OUTPUT; the default), `all`, `completed`, or one state (`timeout`, `cancelled`, …).
   */
  filter?: string;
  /** Words appended to the resubmitted tasks' argv for this attempt only: a string split as shell words, or a list. */
  extraArgs?: string | string[];
  /** The submission group recorded (default `resubmit_YYYYMMDD_HHMMSS`). */
  submissionGroup?: string;
  /** A function of yours (or `FILE:FUNCTION`, a JS module exporting it) that keeps a task when it returns true. */
  select?: TaskSelector | string;
  /** Only say which tasks would go. */
  dryRun?: boolean;
  /** Ship the sources as they are now, as restart-failed --repack does. */
  repack?: boolean;
  /** Folder `select`'s FILE is relative to (default: the current one). */
  base?: string;
}

export interface ResubmitResult {
  collection: string;
  group: string;
  extraArgs: string[];
  /** one entry per job of the collection that had matching tasks */
  jobs: RestartResult[];
}

/** Loads `FILE:FUNCTION` (a JS module; FUNCTION defaults to the default export). */
export async function loadSelector(spec: string, base = process.cwd()): Promise<TaskSelector> {
  const cut = spec.lastIndexOf(':');
  const [file, name] = cut > 1 ? [spec.slice(0, cut), spec.slice(cut + 1)] : [spec, 'default'];
  let mod: Record<string, unknown>;
  try {
    mod = await importFile(resolve(base, file));
  } catch (err) {
    throw new PilotError('BAD_INPUT', `--select: cannot load ${file}: ${(err as Error).message}`, { hint: 'give FILE:FUNCTION, FILE a JavaScript module (.js/.mjs) exporting FUNCTION(task) → boolean' });
  }
  const fn = mod[name];
  if (typeof fn !== 'function') {
    throw new PilotError('BAD_INPUT', `--select: ${file} exports no function '${name}'`, { hint: `its exports are: ${Object.keys(mod).join(', ') || '(none)'}` });
  }
  return fn as TaskSelector;
}

export async function resubmitCollection(engine: Engine, name: string, options: ResubmitOptions = {}): Promise<ResubmitResult> {
  const keep = stateFilter(options.filter ?? 'failed');
  const extraArgs = typeof options.extraArgs === 'string' ? splitShellWords(options.extraArgs, '--extra-args') : [...(options.extraArgs ?? [])];
  const select = typeof options.select === 'string' ? await loadSelector(options.select, options.base) : options.select;
  const group = options.submissionGroup ?? defaultGroupName(new Date());
  const store = collectionStore(engine);
  const c = await store.read(name);
  if (!options.dryRun && c.groups.some((g) => g.name === group)) {
    throw new PilotError('EXISTS', `collection '${name}' already has a submission group '${group}'`, { hint: 'give another --submission-group, or leave it out for a dated one' });
  }
  const { records } = await membersOf(engine, c);
  const jobs: RestartResult[] = [];
  // one job after the other: each is decided and submitted under its own lock, as restart-failed does
  for (const r of records) {
    const restartOptions: RestartOptions & { extraArgs: string[]; group: string } = { dryRun: options.dryRun, repack: options.repack, extraArgs, group };
    const result = await restartTasks(engine, r.name, async (_status, record) => {
      const chosen: number[] = [];
      // only finished tasks go again: a running one would run twice
      for (const t of tasksOfRecord(record)) if (isFinal(t.state) && keep(t.state) && (!select || await select(t))) chosen.push(t.index);
      return chosen;
    }, restartOptions);
    if (!result.indices.length) continue;
    jobs.push(result);
    if (options.dryRun) continue;
    const sub = { job: r.name, attempt: result.attempt, indices: compressRanges(result.indices), jobIds: result.slurmJobIds, submittedAt: new Date().toISOString() };
    await store.update(name, (cur) => recordInGroup(cur ?? c, group, [sub], extraArgs));
  }
  return { collection: name, group, extraArgs, jobs };
}
