/**
 * The SDK doors of diagnosis and export (`why`, `export`), kept out of wrapper.ts (which holds the rest of the
 * SDK's face) as the base class SlurmWrapper extends: the same methods on the same object, one module each.
 */
import type { Engine } from './engine.js';
import { ClusterDoors } from './wrapper-clusters.js';
import { exportJobs, type ExportDocument, type ExportOptions } from './export.js';
import { why, type WhyReport } from './why.js';

export type { ExportDocument, ExportedJob, ExportOptions } from './export.js';
export type { WhyReport, WhyTask } from './why.js';

export abstract class DiagnosisDoors extends ClusterDoors {
  protected abstract override readonly engine: Engine;

  /**
   * Why a task failed (`'name/3'`), or every failed task of a job (`'name'`), grouped by failure class: state,
   * exit code, signal, class (TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, CANCELLED, NONZERO_EXIT,
   * MISSING_OUTPUT, LOG_ERROR, DEPENDENCY_NEVER_SATISFIED), the last stderr lines and the error lines of its
   * logs (built-in patterns and the job's `errorPatterns`, minus its `errorWhitelist`). One status call and
   * ONE command reading the ends of the logs.
   * @example
   * const r = await pilot.why('fine-tune-mlp');
   * for (const g of r.groups) console.log(g.failure, g.tasks);
   * console.log(r.tasks[0]?.errorLines.map((l) => l.text));
   */
  why(ref: string): Promise<WhyReport> {
    return why(this.engine, ref);
  }

  /**
   * The records of the named jobs (names or unique prefixes; none: every job) as one JSON-ready document: jobs,
   * attempts, and per task its argv, parameters and state as last seen. Connects to nothing.
   * @example
   * const doc = await pilot.export(['sweep']);
   * const failed = doc.jobs[0]!.tasks.filter((t) => t.failure).map((t) => t.params);
   */
  export(names: string[] = [], options: ExportOptions = {}): Promise<ExportDocument> {
    return exportJobs(this.engine, names, options);
  }
}
