// classic-level (LevelDB) implementation of the engine interface, with buffer keys and values.
import { ClassicLevel } from 'classic-level';
import { entryBytes, type Engine, type EngineEntry, type EngineIterator, type EngineOp, type EngineSnapshot, type IteratorOptions, type ReadOptions, type WriteOptions } from './engine.js';
import { SyncReadGate, type SyncReadGateOptions } from './sync-read-gate.js';

type Db = ClassicLevel<Buffer, Buffer>;
// The snapshot type of classic-level is not exported under a stable name; keep it opaque.
type NativeSnapshot = ReturnType<Db['snapshot']>;
type NativeIterator = ReturnType<Db['iterator']>;

/** Up to this many keys, getMany reads synchronously (see getMany). */
const SYNC_GET_MAX_KEYS = 64;

export interface LevelEngineOptions {
  /** LevelDB block cache in bytes (default 8 MiB). */
  cacheSize?: number;
  /** Memtable size in bytes (default 16 MiB: fewer, larger flushes under write load). */
  writeBufferSize?: number;
  compression?: boolean;
  createIfMissing?: boolean;
  /** When point reads run synchronously on the calling thread (sync-read-gate.ts). */
  syncReads?: SyncReadGateOptions;
}

class LevelSnapshot implements EngineSnapshot {
  private released = false;
  constructor(readonly owner: LevelEngine, readonly native: NativeSnapshot) {}
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.native.close();
  }
}

class LevelIterator implements EngineIterator {
  constructor(private readonly it: NativeIterator) {}

  async next(): Promise<EngineEntry | undefined> {
    const e = await this.it.next();
    return e === undefined ? undefined : (e as EngineEntry);
  }

  async nextBatch(max: number): Promise<EngineEntry[]> {
    return (await this.it.nextv(max)) as EngineEntry[];
  }

  seek(target: Buffer): void {
    this.it.seek(target);
  }

  async close(): Promise<void> {
    await this.it.close();
  }
}

/** Below this table estimate, approximateSize walks the range to count what is still in the memtable. */
const SIZE_WALK_BELOW = 64 * 1024;
/** Entries approximateSize walks at most. */
const SIZE_WALK_KEYS = 4096;

/** The record of a synced empty write (`write([], { sync: true })`): a key outside every keyspace prefix. */
const SYNC_RECORD_OP: EngineOp = { type: 'del', key: Buffer.from('\x00kvs-sync-record', 'latin1') };

export class LevelEngine implements Engine {
  /** Point reads go synchronously while they are served from a cache (sync-read-gate.ts). */
  readonly syncReads: SyncReadGate;

  private constructor(
    private readonly db: Db,
    readonly location: string,
    gate: SyncReadGateOptions = {},
  ) {
    this.syncReads = new SyncReadGate(gate);
  }

  static async open(location: string, opts: LevelEngineOptions = {}): Promise<LevelEngine> {
    const db = new ClassicLevel<Buffer, Buffer>(location, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      createIfMissing: opts.createIfMissing ?? true,
      cacheSize: opts.cacheSize ?? 8 * 1024 * 1024,
      writeBufferSize: opts.writeBufferSize ?? 16 * 1024 * 1024,
      compression: opts.compression ?? true,
    });
    await db.open();
    return new LevelEngine(db, location, opts.syncReads);
  }

  private native(opts?: ReadOptions): NativeSnapshot | undefined {
    const s = opts?.snapshot;
    if (s === undefined) return undefined;
    if (!(s instanceof LevelSnapshot) || s.owner !== this) throw new Error('snapshot belongs to another engine');
    return s.native;
  }

  async get(key: Buffer, opts?: ReadOptions): Promise<Buffer | undefined> {
    const snapshot = this.native(opts);
    const o = snapshot === undefined ? undefined : { snapshot };
    if (this.syncReads.allow(1)) {
      const t0 = performance.now();
      const v = o === undefined ? this.db.getSync(key) : this.db.getSync(key, o);
      this.syncReads.observe((performance.now() - t0) * 1000, 1);
      return v;
    }
    return o === undefined ? this.db.get(key) : this.db.get(key, o);
  }

  async getMany(keys: readonly Buffer[], opts?: ReadOptions): Promise<Array<Buffer | undefined>> {
    if (keys.length === 0) return [];
    const snapshot = this.native(opts);
    const o = snapshot === undefined ? undefined : { snapshot };
    // A few keys go synchronously like a point read (the apply group's prefetch); many at once would
    // hold the event loop too long even from the cache.
    if (keys.length <= SYNC_GET_MAX_KEYS && this.syncReads.allow(keys.length)) {
      const t0 = performance.now();
      const out = new Array<Buffer | undefined>(keys.length);
      for (let i = 0; i < keys.length; i++) out[i] = o === undefined ? this.db.getSync(keys[i]!) : this.db.getSync(keys[i]!, o);
      this.syncReads.observe((performance.now() - t0) * 1000, keys.length);
      return out;
    }
    return o === undefined ? this.db.getMany(keys as Buffer[]) : this.db.getMany(keys as Buffer[], o);
  }

  async write(ops: readonly EngineOp[], opts?: WriteOptions): Promise<void> {
    if (ops.length === 0) {
      if (opts?.sync !== true) return;
      // LevelDB syncs its log only while writing a record, so an empty batch would resolve without the
      // sync the caller asked for (everything written before it durable). A delete of a key nothing
      // writes is a record that changes no state.
      ops = [SYNC_RECORD_OP];
    }
    // The chained batch is 4-8x cheaper in CPU than the array form (which clones every operation).
    const batch = this.db.batch();
    try {
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]!;
        if (op.type === 'put') batch.put(op.key, op.value);
        else batch.del(op.key);
      }
    } catch (e) {
      await batch.close().catch(() => undefined);
      throw e;
    }
    await batch.write({ sync: opts?.sync === true });
  }

  iterator(opts: IteratorOptions = {}): EngineIterator {
    const o: Record<string, unknown> = {};
    if (opts.gt !== undefined) o.gt = opts.gt;
    if (opts.gte !== undefined) o.gte = opts.gte;
    if (opts.lt !== undefined) o.lt = opts.lt;
    if (opts.lte !== undefined) o.lte = opts.lte;
    if (opts.reverse) o.reverse = true;
    if (opts.limit !== undefined && opts.limit >= 0) o.limit = opts.limit;
    const snapshot = this.native(opts);
    if (snapshot !== undefined) o.snapshot = snapshot;
    return new LevelIterator(this.db.iterator(o));
  }

  snapshot(): EngineSnapshot {
    return new LevelSnapshot(this, this.db.snapshot());
  }

  /**
   * LevelDB estimates from its table files only: what is still in the memtable (up to
   * `writeBufferSize`, 16 MiB by default) counts nothing, so a young or small range read 0. While the
   * estimate is below `SIZE_WALK_BELOW` (nothing or little of the range flushed yet), a walk of the
   * range's first `SIZE_WALK_KEYS` entries tops it up; beyond them the answer is a lower bound. A range
   * with more than that in table files keeps the estimate, short by what the memtable holds of it: a
   * walk there would cost every range listing (every placement pass) thread-pool time in proportion
   * to the ranges, ahead of the Raft log's writes.
   */
  async approximateSize(start: Buffer, end: Buffer): Promise<number> {
    const estimate = await this.db.approximateSize(start, end);
    if (estimate >= SIZE_WALK_BELOW) return estimate;
    return Math.max(estimate, await entryBytes(this, { gte: start, lt: end, limit: SIZE_WALK_KEYS }));
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
