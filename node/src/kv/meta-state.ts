// The meta range's replicated state (docs/sharding.md "Meta range and timestamps"), held by the state
// machine of range 1 (META_RANGE_ID): the range directory (meta/meta-directory.ts) and the TSO's
// persisted high-water mark. Both live in range 1's local key space, so they are replicated by range 1's
// log, copied by its snapshots (kv/snapshot.ts stateSpans) and moved with it.
//
// Why range 1 hosts it (CockroachDB's r1 holds meta1 the same way): range 1's replicas are the store
// membership, so every store holds a replica and answers lookups locally; no second bootstrap or
// creation path exists that could give two stores different initial configurations of a new group.
import type { Engine, EngineOp } from '../engine/engine.js';
import { metaKey } from '../mvcc/keyspace.js';
import { readU64BE, writeU64BE } from '../mvcc/codec.js';
import { MetaDirectory, decodeMetaRecord, encodeMetaRecord, type MetaRecord, type PutOutcome } from '../meta/meta-directory.js';

/** The range whose replicated state holds the meta directory and the TSO bound. */
export const META_RANGE_ID = 1;

const DIR_PREFIX = 'dir/';

function recordKey(groupId: number, rangeId: number): Buffer {
  const id = Buffer.allocUnsafe(8);
  writeU64BE(id, 0, rangeId);
  return Buffer.concat([metaKey(groupId, DIR_PREFIX), id]);
}

/** Engine spans of the meta state of `groupId` (empty for every group but the meta range's). */
export function metaStateSpans(groupId: number): Array<{ start: Buffer; end: Buffer }> {
  const tso = metaKey(groupId, 'tso');
  const ids = metaKey(groupId, 'ids');
  return [
    { start: metaKey(groupId, DIR_PREFIX), end: metaKey(groupId, 'dir0') }, // '0' = '/' + 1
    { start: tso, end: Buffer.concat([tso, Buffer.from([0])]) },
    { start: ids, end: Buffer.concat([ids, Buffer.from([0])]) },
  ];
}

/** The smallest range id the counter hands out (1 is the first range, the meta range). */
export const FIRST_ALLOCATED_RANGE_ID = 2;

export class MetaState {
  readonly directory = new MetaDirectory();
  private _tsoHighWaterMs = 0;
  private _nextRangeId = 0;

  constructor(
    private readonly engine: Engine,
    private readonly groupId: number,
  ) {}

  /** The TSO's persisted bound: no timestamp with a physical part >= it was ever handed out. */
  get tsoHighWaterMs(): number {
    return this._tsoHighWaterMs;
  }

  async load(): Promise<void> {
    this.directory.clear();
    this._tsoHighWaterMs = 0;
    const [dir] = metaStateSpans(this.groupId);
    const it = this.engine.iterator({ gte: dir!.start, lt: dir!.end });
    try {
      for (;;) {
        const batch = await it.nextBatch(1024);
        if (batch.length === 0) break;
        for (const [, v] of batch) this.directory.load(decodeMetaRecord(Buffer.from(v)));
      }
    } finally {
      await it.close();
    }
    this._nextRangeId = 0;
    const ids = await this.engine.get(metaKey(this.groupId, 'ids'));
    if (ids !== undefined) {
      if (ids.length !== 8) throw new Error('unknown id counter record format');
      this._nextRangeId = readU64BE(ids, 0);
    }
    const tso = await this.engine.get(metaKey(this.groupId, 'tso'));
    if (tso !== undefined) {
      if (tso.length !== 8) throw new Error('unknown TSO record format');
      this._tsoHighWaterMs = readU64BE(tso, 0);
    }
  }

  /** Applies one record (deterministic: the directory rules), adding its engine ops to `ops`. */
  put(rec: MetaRecord, ops: EngineOp[]): PutOutcome {
    const out = this.directory.put(rec);
    if (!out.accepted) return out;
    for (const id of out.removed) ops.push({ type: 'del', key: recordKey(this.groupId, id) });
    ops.push({ type: 'put', key: recordKey(this.groupId, rec.descriptor.rangeId), value: encodeMetaRecord(rec) });
    return out;
  }

  /** The next range id the counter would hand out (0 before the first allocation). */
  get nextRangeId(): number {
    return this._nextRangeId;
  }

  /**
   * Hands out `count` range ids (deterministic: every replica computes the same). The first allocation
   * starts above every range id the directory knows (clusters whose earlier splits drew random ids).
   * Undefined (nothing changed) when the id space is exhausted.
   */
  allocRangeIds(count: number, ops: EngineOp[]): number | undefined {
    const first = Math.max(this._nextRangeId, this.directory.maxRangeId() + 1, FIRST_ALLOCATED_RANGE_ID);
    if (!Number.isSafeInteger(first + count)) return undefined;
    this._nextRangeId = first + count;
    const v = Buffer.allocUnsafe(8);
    writeU64BE(v, 0, this._nextRangeId);
    ops.push({ type: 'put', key: metaKey(this.groupId, 'ids'), value: v });
    return first;
  }

  /** Raises the TSO bound (never lowers it: a delayed proposal of an older bound changes nothing). */
  raiseTso(highWaterMs: number, ops: EngineOp[]): number {
    if (highWaterMs > this._tsoHighWaterMs) {
      this._tsoHighWaterMs = highWaterMs;
      const v = Buffer.allocUnsafe(8);
      writeU64BE(v, 0, highWaterMs);
      ops.push({ type: 'put', key: metaKey(this.groupId, 'tso'), value: v });
    }
    return this._tsoHighWaterMs;
  }
}
