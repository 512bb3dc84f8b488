// The storage engine interface: an ordered byte-key/byte-value store with atomic write batches,
// ordered iterators and explicit snapshots. No dependency on any engine library (like TiKV's engine
// traits): `level-engine.ts` implements it with classic-level (LevelDB), `memory-engine.ts` with a
// persistent in-memory tree for tests and simulations. Both pass the same contract suite.
//
// Ordering is plain unsigned byte order (Buffer.compare). Keys and values handed out by an engine must
// be treated as immutable by callers.

export type EngineOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/** One key/value pair produced by an iterator. A tuple (not an object) to keep hot loops allocation-light. */
export type EngineEntry = [key: Buffer, value: Buffer];

/** An explicit, consistent point-in-time view of the engine. Must be released. */
export interface EngineSnapshot {
  release(): Promise<void>;
}

export interface ReadOptions {
  snapshot?: EngineSnapshot;
}

export interface IteratorOptions extends ReadOptions {
  gt?: Buffer;
  gte?: Buffer;
  lt?: Buffer;
  lte?: Buffer;
  reverse?: boolean;
  /** Maximum number of entries; undefined or negative = unlimited. */
  limit?: number;
}

/**
 * An ordered iterator. It reads from an implicit snapshot taken when it is created (or from the explicit
 * snapshot passed in), so concurrent writes are never observed. Must be closed.
 */
export interface EngineIterator {
  /** The next entry, or undefined at the end. */
  next(): Promise<EngineEntry | undefined>;
  /** Up to `max` next entries; an empty array means the end. */
  nextBatch(max: number): Promise<EngineEntry[]>;
  /**
   * Repositions: forward iterators continue at the first key >= target, reverse ones at the last key <=
   * target. A target outside the iterator's range ends the iteration (LevelDB semantics). Does not
   * reset the limit counter.
   */
  seek(target: Buffer): void;
  close(): Promise<void>;
}

export interface WriteOptions {
  /** Flush to stable storage before resolving (fsync of the write-ahead log). */
  sync?: boolean;
}

export interface Engine {
  get(key: Buffer, opts?: ReadOptions): Promise<Buffer | undefined>;
  /** Point reads of many keys in one call (from one implicit snapshot); results in key order given. */
  getMany(keys: readonly Buffer[], opts?: ReadOptions): Promise<Array<Buffer | undefined>>;
  /** Applies all ops atomically, in order (a later op on the same key wins). */
  write(ops: readonly EngineOp[], opts?: WriteOptions): Promise<void>;
  iterator(opts?: IteratorOptions): EngineIterator;
  snapshot(): EngineSnapshot;
  /** Approximate bytes used by keys in [start, end). */
  approximateSize(start: Buffer, end: Buffer): Promise<number>;
  close(): Promise<void>;
}

/** Collects every entry of a range (tests, small ranges). */
export async function collect(engine: Engine, opts: IteratorOptions = {}): Promise<EngineEntry[]> {
  const it = engine.iterator(opts);
  const out: EngineEntry[] = [];
  try {
    for (;;) {
      const batch = await it.nextBatch(1024);
      if (batch.length === 0) break;
      for (const e of batch) out.push(e);
    }
  } finally {
    await it.close();
  }
  return out;
}

/** Key + value bytes of the entries a range's iterator yields (`opts.limit` bounds the walk). */
export async function entryBytes(engine: Engine, opts: IteratorOptions): Promise<number> {
  const it = engine.iterator(opts);
  let bytes = 0;
  try {
    for (;;) {
      const batch = await it.nextBatch(1024);
      if (batch.length === 0) break;
      for (const [k, v] of batch) bytes += k.length + v.length;
    }
  } finally {
    await it.close();
  }
  return bytes;
}

/** Deletes every key in [start, end), `batchKeys` at a time (unsynced writes; the caller syncs if it must). */
export async function deleteSpan(engine: Engine, start: Buffer, end: Buffer, batchKeys = 4096): Promise<void> {
  for (;;) {
    const it = engine.iterator({ gte: start, lt: end, limit: batchKeys });
    let keys: EngineEntry[];
    try {
      keys = await it.nextBatch(batchKeys);
    } finally {
      await it.close();
    }
    if (keys.length === 0) return;
    await engine.write(keys.map(([key]) => ({ type: 'del' as const, key })));
  }
}

/** The first entry of a range, or undefined. */
export async function first(engine: Engine, opts: IteratorOptions): Promise<EngineEntry | undefined> {
  const it = engine.iterator({ ...opts, limit: 1 });
  try {
    return await it.next();
  } finally {
    await it.close();
  }
}

/** The smallest key greater than every key starting with `prefix`; undefined when none exists (all 0xff). */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const out = Buffer.allocUnsafe(i + 1);
      prefix.copy(out, 0, 0, i + 1);
      out[i] = prefix[i]! + 1;
      return out;
    }
  }
  return undefined;
}
