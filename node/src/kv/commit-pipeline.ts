// Group commit for the single-node store. Concurrent mutating requests queue up; one loop takes every
// pending command, applies them as one group through the state machine, writes ONE synced engine batch,
// then publishes the new applied ts and resolves every caller. A result handed to a caller is therefore
// durable (survives kill -9), and readers (which read at the published applied ts) never see a write
// before it is durable.
//
// Under Raft this pipeline is replaced: the Raft log provides durability, and committed entries are
// applied through the same StateMachine without sync.
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../common/logger.js';
import type { StoreObserver } from './api.js';
import type { Command, CommandResult } from './commands.js';
import { StorageError, StoreClosedError } from './errors.js';
import type { StateMachine } from './state-machine.js';

/**
 * Where the store sends its commands: the group-commit pipeline here, a Raft proposer later. Results
 * resolve once the command is applied and durable; `runExclusive` runs work between two applies.
 */
export interface CommandSink {
  submit(cmd: Command): Promise<CommandResult>;
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Stops accepting commands and waits for the queued ones. */
  close(): Promise<void>;
}

export interface CommitPipelineOptions {
  /** fsync each group (default true). */
  sync?: boolean;
  /** Maximum commands per group (default 4096). */
  maxGroupCommands?: number;
  observer?: StoreObserver;
  logger?: Logger;
  /** Called after a group's write completed, before callers are resolved. */
  onApplied?: (lastTs: number) => void;
}

interface Pending {
  cmd: Command;
  resolve: (r: CommandResult) => void;
  reject: (e: Error) => void;
}

/** Work that must not overlap an apply (e.g. GC removing latest records); runs between groups. */
interface Exclusive {
  cmd: undefined;
  fn: () => Promise<unknown>;
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
}

type Item = Pending | Exclusive;

export class CommitPipeline implements CommandSink {
  private queue: Item[] = [];
  private running = false;
  private scheduled = false;
  private closed = false;
  private failure: Error | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly sync: boolean;
  private readonly maxGroup: number;
  /** Number of engine writes done (tests, metrics). */
  groups = 0;
  commands = 0;

  constructor(private readonly sm: StateMachine, private readonly engine: Engine, private readonly opts: CommitPipelineOptions = {}) {
    this.sync = opts.sync ?? true;
    this.maxGroup = opts.maxGroupCommands ?? 4096;
  }

  /** The error that stopped the pipeline (a failed engine write), if any. */
  get failed(): Error | undefined {
    return this.failure;
  }

  get pending(): number {
    return this.queue.length;
  }

  submit(cmd: Command): Promise<CommandResult> {
    if (this.failure !== undefined) return Promise.reject(new StorageError(`store failed: ${this.failure.message}`));
    if (this.closed) return Promise.reject(new StoreClosedError());
    return new Promise<CommandResult>((resolve, reject) => {
      this.queue.push({ cmd, resolve, reject });
      this.kick();
    });
  }

  /** Runs `fn` between two groups: no apply or group write is in flight while it runs. */
  runExclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(new StorageError(`store failed: ${this.failure.message}`));
    if (this.closed) return Promise.reject(new StoreClosedError());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ cmd: undefined, fn, resolve: resolve as (r: unknown) => void, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (!this.running && !this.scheduled) {
      // Start on a microtask so commands submitted in the same tick share the first group.
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        if (!this.running) void this.loop();
      });
    }
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && this.failure === undefined) {
        const head = this.queue[0]!;
        if (head.cmd === undefined) {
          this.queue.shift();
          try {
            head.resolve(await head.fn());
          } catch (e) {
            head.reject(e instanceof Error ? e : new Error(String(e)));
          }
          continue;
        }
        let n = 0;
        while (n < this.queue.length && n < this.maxGroup && this.queue[n]!.cmd !== undefined) n++;
        let group: Pending[];
        if (n === this.queue.length) {
          group = this.queue as Pending[];
          this.queue = [];
        } else group = this.queue.splice(0, n) as Pending[];
        const cmds = group.map((p) => p.cmd);
        let results: CommandResult[];
        try {
          const applied = await this.sm.apply(cmds);
          const t0 = process.hrtime.bigint();
          await this.engine.write(applied.ops, { sync: this.sync });
          const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
          this.groups++;
          this.commands += cmds.length;
          this.opts.observer?.onBatchWritten?.(cmds.length, applied.bytes, seconds);
          this.opts.onApplied?.(applied.lastTs);
          results = applied.results;
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          this.failure = err;
          this.opts.logger?.error('commit pipeline failed; store needs a restart', { err: err.message });
          const se = new StorageError(`write failed: ${err.message}`);
          for (const p of group) p.reject(se);
          for (const p of this.queue) p.reject(se);
          this.queue = [];
          break;
        }
        for (let i = 0; i < group.length; i++) group[i]!.resolve(results[i]!);
      }
    } finally {
      this.running = false;
      if (this.queue.length === 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      } else if (this.failure === undefined) void this.loop();
    }
  }

  /** Stops accepting commands and waits until every queued command has been written. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.running && !this.scheduled && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
