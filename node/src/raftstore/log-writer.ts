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
//
// With the store's Raft log WAL (log-wal.ts), a Raft log write that must be durable does not sync
// LevelDB: the group goes to LevelDB unsynced and the log requests' ops to the WAL (one record, one
// fdatasync), at the same time. A request that needs LevelDB itself synced (a split's apply batch: the
// new range's Raft state must be durable before its own log records are; a checkpoint) still syncs it.
import type { Engine, EngineOp } from '../engine/engine.js';
import { WalError } from '../raftlog/wal.js';
import { lsnOp, type LogWal } from './log-wal.js';

/** none: unsynced; log: a Raft log write, durable (WAL or LevelDB sync); engine: LevelDB synced. */
type Durability = 'none' | 'log' | 'engine';

interface Pending {
  ops: readonly EngineOp[];
  sync: Durability;
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
  /** Group writes made durable by a WAL record instead of a LevelDB sync. */
  walWrites: number;
  /** Checkpoints (synced LevelDB writes that let WAL segments go). */
  checkpoints: number;
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

export class LogWriter {
  private queue: Pending[] = [];
  private busy = false;
  private checkpointTimer: NodeJS.Timeout | undefined;
  /** LSN covered by the last checkpoint. */
  private checkpointedLsn = 0;
  private checkpointRun: Promise<void> | undefined;
  readonly stats: LogWriterStats = { writes: 0, syncedWrites: 0, requests: 0, applyRequests: 0, syncedRequests: 0, splitRetries: 0, walWrites: 0, checkpoints: 0 };

  constructor(
    private readonly engine: Engine,
    private readonly wal?: LogWal,
  ) {
    if (wal !== undefined) this.checkpointedLsn = wal.lastLsn;
  }

  /** The store's Raft log WAL, if it has one (metrics). */
  get logWal(): LogWal | undefined {
    return this.wal;
  }

  /** Resolves when `ops` are in the engine (and durable when `sync`), in the order writes were asked for. */
  write(ops: readonly EngineOp[], sync: boolean): Promise<void> {
    return this.enqueue(ops, sync ? 'log' : 'none');
  }

  /** A range's apply batch: the same group commit, counted apart. `sync`: LevelDB synced (a split's). */
  writeApply(ops: readonly EngineOp[], sync = false): Promise<void> {
    this.stats.applyRequests++;
    return this.enqueue(ops, sync ? 'engine' : 'none');
  }

  /**
   * Syncs LevelDB behind every write asked for so far, then deletes the WAL segments it covers. Runs by
   * itself every `intervalMs` while records are written (startCheckpoints).
   */
  checkpoint(): Promise<void> {
    const wal = this.wal;
    if (wal === undefined || wal.isClosed) return Promise.resolve();
    this.checkpointRun ??= (async () => {
      try {
        // Group writes are serial: once this one is in, every record up to the LSN seen now is in LevelDB.
        const lsn = wal.lastLsn;
        const segment = wal.currentSegment;
        // (An empty batch would write nothing: LevelDB syncs only with a record to write.)
        await this.enqueue([lsnOp(lsn)], 'engine');
        this.stats.checkpoints++;
        this.checkpointedLsn = lsn;
        await wal.purgeCovered(lsn, segment);
      } finally {
        this.checkpointRun = undefined;
      }
    })();
    return this.checkpointRun;
  }

  startCheckpoints(intervalMs: number, onError: (e: Error) => void): void {
    if (this.wal === undefined || this.checkpointTimer !== undefined) return;
    this.checkpointTimer = setInterval(() => {
      if (this.wal!.lastLsn === this.checkpointedLsn) return;
      this.checkpoint().catch((e: unknown) => onError(asError(e)));
    }, intervalMs);
    this.checkpointTimer.unref();
  }

  /** Stops checkpoints and closes the WAL after a last one; later log writes sync LevelDB instead. */
  async close(): Promise<void> {
    if (this.checkpointTimer !== undefined) clearInterval(this.checkpointTimer);
    this.checkpointTimer = undefined;
    if (this.wal === undefined || this.wal.isClosed) return;
    await this.checkpoint().catch(() => undefined);
    await this.wal.close();
  }

  private enqueue(ops: readonly EngineOp[], sync: Durability): Promise<void> {
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
      let level: Durability = 'none';
      for (const p of group) if (p.sync === 'engine' || (p.sync === 'log' && level === 'none')) level = p.sync;
      const wal = this.wal !== undefined && !this.wal.isClosed && level === 'log' ? this.wal : undefined;
      const ops = group.length === 1 ? group[0]!.ops : group.flatMap((p) => p.ops);
      this.count(group.length, group.filter((p) => p.sync !== 'none').length, level !== 'none');
      try {
        if (wal !== undefined) {
          // LevelDB unsynced (with the LSN, so a restart knows which records it holds) and the WAL record in parallel.
          const lsn = wal.nextLsn();
          const logOps = group.length === 1 ? ops : group.filter((p) => p.sync === 'log').flatMap((p) => p.ops);
          this.stats.walWrites++;
          await Promise.all([this.engine.write([...ops, lsnOp(lsn)], { sync: false }), wal.append(lsn, logOps)]);
        } else await this.engine.write(ops, { sync: level !== 'none' });
        for (const p of group) p.resolve();
      } catch (e) {
        // A failed WAL fails every later log write too (wal.ts): no point in retrying one by one.
        if (group.length === 1 || e instanceof WalError) for (const p of group) p.reject(asError(e));
        else await this.oneByOne(group);
      }
    }
    this.busy = false;
  }

  /** After a merged batch failed: each request alone, in order (LevelDB synced when it must be durable); only the failing ones are rejected. */
  private async oneByOne(group: Pending[]): Promise<void> {
    this.stats.splitRetries++;
    for (const p of group) {
      this.count(0, 0, p.sync !== 'none'); // an engine write more; the requests were counted with the batch
      try {
        await this.engine.write(p.ops, { sync: p.sync !== 'none' });
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
