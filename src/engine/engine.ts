/**
 * The engine's shared state, one per SlurmWrapper: the home (config, records), one backend (one connection)
 * per cluster opened on first use and kept until close(), and the event emitter. The orchestration modules
 * (launch, track, restart, control, task-logs) are functions over it.
 */
import type { Warning } from '../model/checks.js';
import type { ClusterConfig, RemoteClusterConfig } from '../model/cluster.js';
import { PilotError } from '../model/errors.js';
import type { JobRecord } from '../model/record.js';
import type { Backend } from '../scheduler/backend.js';
import { connectTransport, openBackend, type Connect } from '../scheduler/index.js';
import { JobStore } from '../store/store.js';
import type { ConnectContext, Prompter, Transport } from '../transport/types.js';
import { resolveCluster } from './config.js';
import { EngineEmitter } from './events.js';
import { settle, type EngineContext } from './submission.js';

export interface EngineOptions {
  home: string;
  /** Makes the transport of a remote cluster instead of SSH (tests replay recorded outputs with it). */
  connect?: Connect;
  /** Wraps every connection opened (fault injection, recording). */
  wrapTransport?: (transport: Transport) => Transport;
  /** Answers login prompts (passphrase, one-time password); see ConnectContext. */
  prompt?: Prompter;
}

export class Engine implements EngineContext {
  readonly home: string;
  readonly store: JobStore;
  readonly events = new EngineEmitter();
  private readonly backends = new Map<string, Promise<Backend>>();
  /** The prompt gates of connections still being made, by cluster. */
  private readonly gates = new Map<string, PromptGate>();
  /** Connections opened per cluster (`--verbose` shows them: a 2FA user logs in once per command). */
  readonly connectionsOpened = new Map<string, number>();

  constructor(private readonly options: EngineOptions) {
    this.home = options.home;
    this.store = new JobStore(this.home);
  }

  async cluster(name: string | undefined): Promise<ClusterConfig> {
    if (!name) {
      throw new PilotError('BAD_INPUT', 'no cluster given', { hint: 'set `cluster:` in the job (or pass --cluster NAME); `local` runs on this machine' });
    }
    return resolveCluster(this.home, name);
  }

  /**
   * The backend of a cluster, connecting on first use; a failed or dropped connection is not kept.
   * `promptsAfter`: the connection's login prompts wait until it resolves (see ConnectContext and PromptGate).
   * `inspect`: a new connection records what each hop did (test-ssh).
   */
  async backend(cluster: ClusterConfig, promptsAfter?: Promise<unknown>, inspect = false): Promise<Backend> {
    let b = this.backends.get(cluster.name);
    const gate = this.gates.get(cluster.name);
    if (b && gate) gate.join(promptsAfter);   // still connecting: this caller's say counts too
    // a connection that dropped (VPN, sshd restart) is replaced: a long `wait` recovers when the network does
    if (b && (await b.catch(() => undefined))?.usable === false) {
      this.backends.delete(cluster.name);
      b = undefined;
    }
    if (!b) {
      const gate = new PromptGate();
      gate.join(promptsAfter);
      this.gates.set(cluster.name, gate);
      const wrap = this.options.wrapTransport;
      const connect: Connect | undefined = this.options.connect ?? (wrap ? async (c, ctx) => wrap(await connectTransport(c, ctx)) : undefined);
      this.connectionsOpened.set(cluster.name, (this.connectionsOpened.get(cluster.name) ?? 0) + 1);
      b = openBackend(cluster, this.home, connect, {
        prompt: this.options.prompt, clusterName: cluster.name, notice: (message) => this.events.emit('warning', { name: cluster.name, message }), promptsAfter: gate.promise, inspect,
      });
      this.backends.set(cluster.name, b);
      const settled = b;
      b.then(() => this.gates.delete(cluster.name), () => {
        this.gates.delete(cluster.name);
        if (this.backends.get(cluster.name) === settled) this.backends.delete(cluster.name);
      });
    }
    return b;
  }

  /** A connection of its own, outside the cache, with more of the context (`pilot trust`). */
  async connectOnce(cluster: RemoteClusterConfig, context: ConnectContext): Promise<Transport> {
    const connect = this.options.connect ?? connectTransport;
    return connect(cluster, { prompt: this.options.prompt, clusterName: cluster.name, ...context });
  }

  async backendFor(clusterName: string): Promise<Backend> {
    return this.backend(await resolveCluster(this.home, clusterName));
  }

  /** Hands warnings to the `warning` listeners (the CLI prints them; nothing below it does). */
  warn(name: string, warnings: readonly Warning[]): void {
    for (const w of warnings) this.events.emit('warning', { name, ...w });
  }

  /** The record of a job, its pending submission settled first (a lost reply is adopted or dropped). */
  async load(name: string): Promise<JobRecord> {
    return settle(this, await this.store.read(name));
  }

  /** An open connection's backend, if any (counters for tests and benchmarks). */
  opened(clusterName: string): Promise<Backend> | undefined {
    return this.backends.get(clusterName);
  }

  async close(): Promise<void> {
    const all = [...this.backends.values()];
    this.backends.clear();
    await Promise.all(all.map(async (b) => (await b.catch(() => null))?.close()));
  }
}

/**
 * When a connection may ask its login questions: as soon as one of the callers waiting for it may (a caller
 * without a condition, or whose condition resolved); never when every caller's condition failed (each launch
 * that connected early found its job invalid): then the login is abandoned with the last failure.
 */
class PromptGate {
  private waiting = 0;
  private open!: () => void;
  private refuse!: (err: unknown) => void;
  readonly promise = new Promise<void>((resolve, reject) => { this.open = resolve; this.refuse = reject; });

  constructor() {
    this.promise.catch(() => undefined);   // the connection sees the refusal; nobody else has to
  }

  join(condition: Promise<unknown> | undefined): void {
    if (!condition) return this.open();
    this.waiting++;
    condition.then(() => this.open(), (err: unknown) => {
      if (--this.waiting === 0) this.refuse(err);
    });
  }
}
