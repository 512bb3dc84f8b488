// Group commit of the engine writes of every range of a store: the Raft log writes (entries + hard
// state) and the apply writes (each range's state-machine batch, unsynced) alike. While one engine write
// is in flight, the next ones queue, and the whole queue then goes to the engine as ONE batch — synced
// if any part of it must be. With many ranges under load this makes one engine write (one fsync) per
// store round instead of one or two per range (TiKV's raft-engine and apply batch system play this part;
// here it is one LevelDB batch: every write call costs the event loop ~20 µs plus its ops, far more on a
// loaded box, and LevelDB queues an unsynced write behind an in-flight synced one anyway). Requests'
// keys never overlap across ranges, and the batch keeps request order, so merging changes nothing a
// sequence of writes would not have done.
// A write that starts on an idle writer still waits one microtask, so the Readies of the same event-loop
// turn (a frame carrying appends for many ranges) join it.
//
// Every request resolves only once its own ops are in the engine (on disk when it asked for sync), so a
// caller that sends a message after `await write()` still promises only what is durable. Ranges share a
// batch, not a fate: when a merged batch fails, its requests are written again one by one (the batch is
// atomic, so nothing of it landed) and only those that fail on their own are rejected.
import type { Engine, EngineOp } from '../engine/engine.js';

interface Pending {
  ops: readonly EngineOp[];
  sync: boolean;
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface LogWriterStats {
  /** Engine writes made. */
  writes: number;
  /** Of which synced. */
  syncedWrites: number;
  /** Requests (range Readies' log writes and apply batches) served; requests / writes is the group size. */
  requests: number;
  /** Of which apply batches. */
  applyRequests: number;
  /** Synced requests; syncedRequests / syncedWrites is how many range fsyncs one fsync replaced. */
  syncedRequests: number;
  /** Merged batches that failed and were retried request by request. */
  splitRetries: number;
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

export class LogWriter {
  private queue: Pending[] = [];
  private busy = false;
  readonly stats: LogWriterStats = { writes: 0, syncedWrites: 0, requests: 0, applyRequests: 0, syncedRequests: 0, splitRetries: 0 };

  constructor(private readonly engine: Engine) {}

  /** Resolves when `ops` are in the engine (and on disk when `sync`), in the order writes were asked for. */
  write(ops: readonly EngineOp[], sync: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, sync, resolve, reject });
      if (!this.busy) {
        this.busy = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  /** A range's apply batch (unsynced): the same group commit, counted apart. */
  writeApply(ops: readonly EngineOp[]): Promise<void> {
    this.stats.applyRequests++;
    return this.write(ops, false);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      const sync = group.some((p) => p.sync);
      const ops = group.length === 1 ? group[0]!.ops : group.flatMap((p) => p.ops);
      this.count(group.length, group.filter((p) => p.sync).length, sync);
      try {
        await this.engine.write(ops, { sync });
        for (const p of group) p.resolve();
      } catch (e) {
        if (group.length === 1) group[0]!.reject(asError(e));
        else await this.oneByOne(group);
      }
    }
    this.busy = false;
  }

  /** After a merged batch failed: each request alone, in order; only the failing ones are rejected. */
  private async oneByOne(group: Pending[]): Promise<void> {
    this.stats.splitRetries++;
    for (const p of group) {
      this.count(0, 0, p.sync); // an engine write more; the requests were counted with the batch
      try {
        await this.engine.write(p.ops, { sync: p.sync });
        p.resolve();
      } catch (e) {
        p.reject(asError(e));
      }
    }
  }

  private count(requests: number, syncedRequests: number, sync: boolean): void {
    this.stats.writes++;
    this.stats.requests += requests;
    if (sync) {
      this.stats.syncedWrites++;
      this.stats.syncedRequests += syncedRequests;
    }
  }
}
