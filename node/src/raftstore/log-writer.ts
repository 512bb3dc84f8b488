// Group commit of the Raft logs of every range of a store: the Ready loops of all ranges hand their log
// writes (entries + hard state) here; while one engine write is in flight, the next ones queue, and the
// whole queue then goes to the engine as ONE batch — synced if any part of it must be. With many ranges
// under load this makes one fsync per store round instead of one per range (TiKV's raft-engine / etcd's
// WAL play this part; here it is one LevelDB batch). A write that starts on an idle writer still waits one
// microtask, so the Readies of the same event-loop turn (a frame carrying appends for many ranges) join it.
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
  /** Requests (range Readies) served; requests / writes is the group size. */
  requests: number;
  /** Synced requests; syncedRequests / syncedWrites is how many range fsyncs one fsync replaced. */
  syncedRequests: number;
}

export class LogWriter {
  private queue: Pending[] = [];
  private busy = false;
  readonly stats: LogWriterStats = { writes: 0, syncedWrites: 0, requests: 0, syncedRequests: 0 };

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

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      const sync = group.some((p) => p.sync);
      const ops = group.length === 1 ? group[0]!.ops : group.flatMap((p) => p.ops);
      this.stats.writes++;
      this.stats.requests += group.length;
      if (sync) {
        this.stats.syncedWrites++;
        this.stats.syncedRequests += group.filter((p) => p.sync).length;
      }
      try {
        await this.engine.write(ops, { sync });
        for (const p of group) p.resolve();
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        for (const p of group) p.reject(err);
      }
    }
    this.busy = false;
  }
}
