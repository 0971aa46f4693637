/// <reference types="node" preserve="true" />
/**
 * hpc-pilot: launch job arrays on Slurm clusters from your laptop over SSH. `SlurmWrapper` is the entry point;
 * everything it takes and returns is exported here as a type.
 */
export { SlurmWrapper } from './engine/wrapper.js';
export type { DamagedRecord, GcItem, GcOptions, GcResult, HopInfo, HostKeyQuestion, ListOptions, PromptRequest, Prompter, RemoveOptions, RemoveResult, TrustResult } from './engine/wrapper.js';
export type {
  ConnectionCheck, DownloadRequest, DownloadResult, DryRun, EngineEvents, JobStatus, RestartOptions, RestartResult, ScheduleResult,
  StreamLogOptions, StreamLogResult, TaskLogs, WaitOptions, Warning, WrapperOptions,
} from './engine/wrapper.js';
export type { ExportDocument, ExportedJob, ExportOptions, WhyReport, WhyTask } from './engine/wrapper-diagnosis.js';
export type { Analysis, AnalyzeOptions, ValueStats, AttemptMode, CollectionRecord, CollectionTask, GroupSummary, Summary, CollectionSummary, CollectionView, ShowOptions, ResubmitOptions, ResubmitResult, TaskSelector } from './engine/wrapper-collections.js';
export type { JobResults, ReportData, ReportFailedTask, ResultRow, ResultsOptions } from './engine/wrapper-results.js';
export { renderReportHtml } from './engine/report-html.js';
export { failureRates, histogram, timelineBars } from './model/report-stats.js';
export type { Bin, ParamRates, TimelineBar, ValueRate } from './model/report-stats.js';
export { toCsv } from './model/results.js';
export type { ErrorLine } from './model/error-lines.js';
export type { JobInfo, ModuleFunction, SweepParameters, SweepResources, Task, TaskParams } from './model/job.js';
export type { ResourceGroup, TaskResources } from './model/resources.js';
export type { TaskPreview } from './engine/types.js';
export { scheduleGraph } from './engine/graph.js';
export type { GraphOptions } from './engine/graph.js';
export { NEVER_SATISFIED, neverSatisfiable, stuckOnDependency } from './model/dependencies.js';
export type { AfterSpec, AfterWhen } from './model/dependencies.js';
export type { TaskArgs } from './model/args.js';
export { PilotError, isPilotError } from './model/errors.js';
export type { LaunchStep, PilotErrorCode } from './model/errors.js';
export { failureClass, whyClass } from './model/failure.js';
export type { FailureClass } from './model/failure.js';
export { quote, quoteArgv } from './util/quote.js';
export { TASK_STATES, FINAL_STATES, isFinal } from './model/states.js';
export type { TaskState } from './model/states.js';
export type { ArraySubmission, Attempt, JobRecord, PendingSubmission, TaskStatus } from './model/record.js';
export type { ClusterConfig, LocalClusterConfig, RemoteClusterConfig, SshHop, SshRoute, TransportKind } from './model/cluster.js';
export type { ConnectContext, ExecOptions, ExecResult, ReadStreamOptions, Transport, TransportStats } from './transport/types.js';
export type { WatchOptions } from './engine/retry.js';
