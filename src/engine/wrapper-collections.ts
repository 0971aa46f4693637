/**
 * The SDK doors of collections (`pilot collection …`, `pilot resubmit`), kept out of wrapper.ts as a base class
 * SlurmWrapper extends, like wrapper-clusters.ts and wrapper-diagnosis.ts: the same methods on the same object.
 */
import { analyze, type AnalyzeOptions, type Analysis } from '../model/analyze.js';
import type { AttemptMode, CollectionRecord, GroupSummary } from '../model/collection.js';
import {
  addToCollection, collectionGroups, createCollection, deleteCollection, listCollections, removeFromCollection, showCollection, updateCollection,
  type CollectionSummary, type CollectionView, type ShowOptions,
} from './collections.js';
import type { Engine } from './engine.js';
import { resubmitCollection, type ResubmitOptions, type ResubmitResult } from './resubmit.js';
import { DiagnosisDoors } from './wrapper-diagnosis.js';

export type { Analysis, AnalyzeOptions, ValueStats } from '../model/analyze.js';
export type { AttemptMode, CollectionRecord, CollectionTask, GroupSummary, Summary } from '../model/collection.js';
export type { CollectionSummary, CollectionView, ShowOptions } from './collections.js';
export type { ResubmitOptions, ResubmitResult, TaskSelector } from './resubmit.js';

export abstract class CollectionDoors extends DiagnosisDoors {
  protected abstract override readonly engine: Engine;

  /**
   * Creates an empty collection (EXISTS when the name is taken). Launches join one with `collection:` (default
   * `default`), which is made when missing, so creating one first is optional.
   * @example
   * await pilot.createCollection('lr-sweep', { description: 'learning rates, Nov 2026' });
   */
  createCollection(name: string, options: { description?: string } = {}): Promise<CollectionRecord> {
    return createCollection(this.engine, name, options);
  }

  /**
   * Every collection with Total / Completed / Failed / Pending / Running counts over each task's latest attempt
   * (`attemptMode: 'primary'`: its first), from the stored states (connects to nothing; `updateCollection` refreshes).
   * @example
   * for (const c of await pilot.collections()) console.log(c.name, c.summary.failed);
   */
  collections(options: { attemptMode?: AttemptMode } = {}): Promise<CollectionSummary[]> {
    return listCollections(this.engine, options);
  }

  /**
   * One collection and its tasks (job, index, params, argv, state, attempt, every attempt's status in `history`),
   * optionally only those in a state (`'failed'`, `'timeout'`, …) or sent by one submission group.
   * @example
   * const v = await pilot.collection('lr-sweep', { state: 'failed' });
   * v.tasks.map((t) => t.params);   // [{ lr: 0.1 }, …]
   */
  collection(name: string, options: ShowOptions = {}): Promise<CollectionView> {
    return showCollection(this.engine, name, options);
  }

  /**
   * Fresh states for every job of a collection: ONE status call per cluster for all of them, whatever their number.
   * @example
   * const v = await pilot.updateCollection('lr-sweep');   // v.summary: { total: 6, completed: 4, failed: 2, … }
   */
  updateCollection(name: string, options: ShowOptions = {}): Promise<CollectionView> {
    return updateCollection(this.engine, name, options);
  }

  /**
   * Forgets a collection (its jobs and their records stay).
   * @example
   * await pilot.deleteCollection('scratch');
   */
  deleteCollection(name: string): Promise<{ name: string; jobs: string[] }> {
    return deleteCollection(this.engine, name);
  }

  /**
   * Adds recorded jobs to a collection (made when missing); their first attempt goes to the `initial` group.
   * @example
   * await pilot.addToCollection('lr-sweep', ['lr-sweep-2']);
   */
  addToCollection(name: string, jobs: string[]): Promise<CollectionRecord> {
    return addToCollection(this.engine, name, jobs);
  }

  /**
   * Takes jobs out of a collection (the jobs stay).
   * @example
   * await pilot.removeFromCollection('lr-sweep', ['lr-sweep-2']);
   */
  removeFromCollection(name: string, jobs: string[]): Promise<CollectionRecord> {
    return removeFromCollection(this.engine, name, jobs);
  }

  /**
   * The submission groups of a collection (`initial`, one per resubmission): scheduler jobs, tasks, first and
   * last submission times.
   * @example
   * await pilot.submissionGroups('lr-sweep');   // [{ name: 'initial', slurmJobs: 1, tasks: 6, … }, { name: 'resume', … }]
   */
  submissionGroups(name: string): Promise<GroupSummary[]> {
    return collectionGroups(this.engine, name);
  }

  /**
   * Resubmits the finished tasks of a collection that match `filter` (default `'failed'`) and `select`, each as a
   * new attempt of its job on the same script and args (the path restart-failed takes), with `extraArgs`
   * appended to their argv for that attempt only; records them as one submission group.
   * @example
   * await pilot.resubmit('lr-sweep', { filter: 'failed', extraArgs: '--resume last.ckpt', submissionGroup: 'resume' });
   * await pilot.resubmit('lr-sweep', { select: (t) => t.params?.lr === 0.1 });
   */
  resubmit(collection: string, options: ResubmitOptions = {}): Promise<ResubmitResult> {
    return resubmitCollection(this.engine, collection, options);
  }

  /**
   * Failure analysis by parameter over a collection's stored states: overall counts, per value of each
   * parameter the counts and failure / completion rates, the riskiest and most stable values (values seen on
   * fewer than `minSupport` tasks are marked low-N and ranked last).
   * @example
   * const a = await pilot.analyzeCollection('lr-sweep', { params: ['lr'] });
   * a.topRisky[0];   // { param: 'lr', value: '0.1', n: 2, failed: 2, failureRate: 1, … }
   */
  async analyzeCollection(name: string, options: AnalyzeOptions & { attemptMode?: AttemptMode } = {}): Promise<Analysis> {
    const v = await showCollection(this.engine, name, { attemptMode: options.attemptMode });
    return analyze(v.tasks, options);
  }
}
