/**
 * Lifecycle events of the engine. The CLI renders them; automatic retries and notifications will subscribe
 * to them. Listeners run synchronously and must not throw (an error in one is reported, not propagated).
 */
import type { AttemptResources } from '../model/retry.js';
import type { TaskState } from '../model/states.js';
import type { JobStatus } from '../model/tracking.js';

export interface EngineEvents {
  /** An attempt was submitted (and recorded): its scheduler job ids. */
  submitted: { name: string; attempt: number; jobIds: string[] };
  /** An automatic retry was submitted (engine/retry.ts): its tasks and escalated resources. */
  retried: { name: string; attempt: number; indices: number[]; resources: AttemptResources };
  /** A task's state changed since it was last seen (also on the first look). */
  taskChanged: { name: string; index: number; attempt: number; from: TaskState | undefined; to: TaskState };
  /** Every task of the job is final (emitted once per status call that sees it so). */
  jobFinished: { status: JobStatus };
  /**
   * Something the user should know that does not stop the work: files over largeFileMB in the bundle, an
   * interpreter only setup lines may provide, sources changed since the bundle a restart runs.
   */
  warning: { name: string; message: string; hint?: string };
}

type Listener<K extends keyof EngineEvents> = (event: EngineEvents[K]) => void;

export class EngineEmitter {
  private readonly listeners = new Map<keyof EngineEvents, Set<Listener<never>>>();

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof EngineEvents>(type: K, listener: Listener<K>): () => void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener as Listener<never>);
    this.listeners.set(type, set);
    return () => set.delete(listener as Listener<never>);
  }

  /** Whether anyone listens to `type`: events that cost a pass over every task are only prepared for a listener. */
  has(type: keyof EngineEvents): boolean {
    return (this.listeners.get(type)?.size ?? 0) > 0;
  }

  emit<K extends keyof EngineEvents>(type: K, event: EngineEvents[K]): void {
    for (const listener of this.listeners.get(type) ?? []) {
      try {
        (listener as Listener<K>)(event);
      } catch (err) {
        process.emitWarning(`a '${type}' listener threw: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  }
}
