// Incremental MVCC garbage collection.
//
// For every user key, versions are met newest first. Versions newer than the safe point are kept. The
// newest version <= safe point is kept unless it is a tombstone (then nobody reading at >= safe point can
// see anything older, and the tombstone itself is redundant). Every older version is removed.
//
// Safety rules:
//  * The caller guarantees no reader (snapshot, transaction) reads below `safePoint`.
//  * A tombstone is deleted only in the same batch as, or after, every older version of its key, so a
//    reader can never see an older version "resurrected". When the budget ends inside a key, the tombstone
//    is kept and the next run resumes at that key.
//  * Writes are not synced: a lost GC delete is simply redone by a later run.
//  * The latest record of a key ('l'|k) is removed only when the key's newest version is a tombstone at
//    or below the safe point. That removal must not race with an apply writing a new version of the
//    key, so it runs through `exclusive` (between applies) and re-checks the record first.
//
// Work per run is bounded by `maxEntries` scanned engine entries; a cursor remembers where to resume.
import type { Engine, EngineOp } from '../engine/engine.js';
import { readU64BE } from './codec.js';
import { DATA_START, dataKeyTs, dataKeyUserKey, dataRange, latestKey } from './keyspace.js';
import { isTombstone } from './mvcc.js';

export interface GcRunResult {
  /** Engine entries examined. */
  scanned: number;
  /** Versions deleted. */
  removed: number;
  /** True when this run reached the end of the key space (the cursor wrapped to the start). */
  completedPass: boolean;
}

export interface GcOptions {
  /** Maximum engine entries examined per run (default 20 000). */
  maxEntries?: number;
  /** Deletes per engine write batch (default 1024). */
  batchSize?: number;
  /**
   * Runs `fn` while no state machine apply is in flight (e.g. CommitPipeline.runExclusive). Default:
   * runs it directly — only correct when nothing applies concurrently (tests).
   */
  exclusive?: (fn: () => Promise<void>) => Promise<void>;
  /**
   * The user-key span this collector owns (the range of its group; default: everything). Read at the
   * start of every run: a range that split collects only its remaining half from then on (the other
   * half's group collects it with its own safe point).
   */
  span?: () => { start?: Buffer; end?: Buffer };
}

interface KeyState {
  part: Buffer;
  seenBelow: boolean;
  /** A version newer than the safe point exists. */
  newer: boolean;
  pendingTombstone: Buffer | undefined;
}

export class MvccGc {
  /** Next engine key to examine. */
  private cursor: Buffer = DATA_START;
  /** When a run stopped inside a key: that key's scan state. */
  private resume: KeyState | undefined;
  private readonly maxEntries: number;
  private readonly batchSize: number;
  private readonly exclusive: (fn: () => Promise<void>) => Promise<void>;
  private readonly span: () => { start?: Buffer; end?: Buffer };

  constructor(private readonly engine: Engine, opts: GcOptions = {}) {
    this.span = opts.span ?? (() => ({}));
    this.maxEntries = opts.maxEntries ?? 20_000;
    this.batchSize = opts.batchSize ?? 1024;
    this.exclusive = opts.exclusive ?? ((fn) => fn());
  }

  /** Resets the cursor to the start of the key space. */
  reset(): void {
    this.cursor = DATA_START;
    this.resume = undefined;
  }

  /**
   * One bounded step. The safe point may rise between runs (never fall): state carried over from a
   * stopped key stays valid, because the versions still to be examined are older than every version
   * already passed, and everything kept before stays readable.
   */
  async run(safePoint: number, maxEntries = this.maxEntries): Promise<GcRunResult> {
    maxEntries = Math.max(1, maxEntries);
    const sp = this.span();
    const bounds = dataRange(sp.start, sp.end);
    if (Buffer.compare(this.cursor, bounds.start) < 0 || Buffer.compare(this.cursor, bounds.end) >= 0) {
      this.cursor = bounds.start;
      this.resume = undefined;
    }
    const it = this.engine.iterator({ gte: this.cursor, lt: bounds.end });
    let ops: EngineOp[] = [];
    let scanned = 0;
    let removed = 0;
    let st: KeyState | undefined = this.resume;
    let completedPass = false;
    let nextCursor: Buffer = bounds.start;
    let nextResume: KeyState | undefined;
    /** Latest records to remove: [user key, ts of its tombstone]. */
    const deadLatest: Array<[Buffer, number]> = [];
    const flushOps = async (): Promise<void> => {
      if (ops.length === 0) return;
      const batch = ops;
      ops = [];
      await this.engine.write(batch, { sync: false });
    };
    const finishKey = (): void => {
      if (st?.pendingTombstone !== undefined) {
        ops.push({ type: 'del', key: st.pendingTombstone });
        removed++;
        if (!st.newer) deadLatest.push([dataKeyUserKey(st.pendingTombstone), dataKeyTs(st.pendingTombstone)]);
        st.pendingTombstone = undefined;
      }
    };
    try {
      outer: for (;;) {
        const batch = await it.nextBatch(Math.min(1024, maxEntries - scanned + 1));
        if (batch.length === 0) {
          finishKey();
          completedPass = true;
          break;
        }
        for (let i = 0; i < batch.length; i++) {
          const [k, v] = batch[i]!;
          const partLen = k.length - 8;
          const sameKey = st !== undefined && partLen === st.part.length && k.compare(st.part, 0, partLen, 0, partLen) === 0;
          if (scanned >= maxEntries) {
            // Budget exhausted: resume exactly at this entry. Inside a key, carry its state over (its
            // tombstone, if any, is deleted only once all older versions are gone).
            nextCursor = Buffer.from(k);
            if (sameKey) nextResume = { ...st!, part: Buffer.from(st!.part) };
            else finishKey();
            break outer;
          }
          if (!sameKey) {
            finishKey();
            st = { part: k.subarray(0, partLen), seenBelow: false, newer: false, pendingTombstone: undefined };
          }
          scanned++;
          const ts = dataKeyTs(k);
          if (ts > safePoint) {
            st!.newer = true;
            continue;
          }
          if (!st!.seenBelow) {
            st!.seenBelow = true;
            if (isTombstone(v)) st!.pendingTombstone = Buffer.from(k);
            continue;
          }
          ops.push({ type: 'del', key: k });
          removed++;
          if (ops.length >= this.batchSize) await flushOps(); // older versions first: always safe
        }
      }
      await flushOps();
    } finally {
      await it.close();
    }
    if (deadLatest.length > 0) await this.removeLatest(deadLatest);
    this.cursor = completedPass ? bounds.start : nextCursor;
    this.resume = completedPass ? undefined : nextResume;
    return { scanned, removed, completedPass };
  }

  /** Removes latest records that still name the given tombstone (no newer version was written since). */
  private async removeLatest(dead: Array<[Buffer, number]>): Promise<void> {
    await this.exclusive(async () => {
      const ops: EngineOp[] = [];
      for (const [userKey, ts] of dead) {
        const lk = latestKey(userKey);
        const raw = await this.engine.get(lk);
        if (raw !== undefined && readU64BE(raw, 0) === ts) ops.push({ type: 'del', key: lk });
      }
      await this.engine.write(ops, { sync: false });
    });
  }
}
