// The store's Raft log durability through its own write-ahead log (issue 16; docs/ARCHITECTURE.md "Raft
// log WAL"). LevelDB keeps holding the Raft logs (reads, compaction, snapshots are unchanged), but a log
// write no longer makes LevelDB fsync: the group write goes to LevelDB unsynced and, at the same time, its
// log ops go to a preallocated append-only file as one record, made durable by one fdatasync (etcd's WAL).
// On the 2-core test box that sync costs 0.71× of a synced LevelDB batch with three stores syncing one
// disk (250 vs 350 µs), but a lone put is no faster end to end (the stores are CPU-bound), so it is
// opt-in: `--raft-wal` (docs/benchmarks.md, 2026-12-06 07:15).
//
// Every record carries a log sequence number (LSN), and the LevelDB batch of the same group write puts
// that LSN under WAL_LSN_KEY. An unsynced LevelDB write reaches the OS when it returns, and LevelDB writes
// land in order, so after a process crash LevelDB holds every group write up to the LSN it has stored and
// none after it: at the next start the records above that LSN (durable in the WAL, lost by LevelDB only
// on an OS crash or power loss) are written again, in order, before any range opens. Records at or below
// it are never replayed — LevelDB may have changed those keys since (a compaction, a snapshot install),
// and replaying them would bring back an older log or hard state.
//
// A checkpoint (LogWriter, every second while records are written) is a synced LevelDB write: after it
// every record at or below the LSN it carried is in LevelDB's own synced log, and the segments holding
// only such records are deleted. Between checkpoints, the state machine's unsynced writes are what they
// were before (re-applied from the log after a crash); the log itself is always durable.
import type { Engine, EngineOp } from '../engine/engine.js';
import { Wal, WalCorruptError, type WalOptions, type WalStats } from '../raftlog/wal.js';

/** Store-wide WAL state: a key space of its own (0x04), beside local 0x01, Raft 0x02, tombstones 0x03. */
export const WAL_STATE_PREFIX = 0x04;
/** The LSN of the last group write in LevelDB (u64 BE). */
export const WAL_LSN_KEY = Buffer.from([WAL_STATE_PREFIX, 0x01]);
/** Record type: the Raft log ops of one group write. */
const REC_LOG_OPS = 1;
/** Small segments: preallocated at every start and rotation (zeros written, so fdatasync journals nothing). */
export const DEFAULT_WAL_SEGMENT_BYTES = 8 * 1024 * 1024;

export function lsnOp(lsn: number): EngineOp {
  const v = Buffer.alloc(8);
  v.writeBigUInt64BE(BigInt(lsn));
  return { type: 'put', key: WAL_LSN_KEY, value: v };
}

function readLsn(v: Buffer | undefined): number {
  if (v === undefined) return 0;
  if (v.length !== 8) throw new WalCorruptError(`stored WAL LSN has ${v.length} bytes, expected 8`);
  return Number(v.readBigUInt64BE(0));
}

/** u64 BE lsn | u32 BE count | per op: u8 (0 put, 1 del) | u32 BE key length | key | for a put: u32 BE value length | value */
export function encodeLogRecord(lsn: number, ops: readonly EngineOp[]): Buffer {
  let size = 12;
  for (const op of ops) size += 5 + op.key.length + (op.type === 'put' ? 4 + op.value.length : 0);
  const b = Buffer.allocUnsafe(size);
  b.writeBigUInt64BE(BigInt(lsn), 0);
  b.writeUInt32BE(ops.length, 8);
  let o = 12;
  for (const op of ops) {
    b[o] = op.type === 'put' ? 0 : 1;
    b.writeUInt32BE(op.key.length, o + 1);
    op.key.copy(b, o + 5);
    o += 5 + op.key.length;
    if (op.type === 'put') {
      b.writeUInt32BE(op.value.length, o);
      op.value.copy(b, o + 4);
      o += 4 + op.value.length;
    }
  }
  return b;
}

export function decodeLogRecord(b: Buffer): { lsn: number; ops: EngineOp[] } {
  const bad = (why: string): WalCorruptError => new WalCorruptError(`undecodable WAL log record: ${why}`);
  if (b.length < 12) throw bad('shorter than its header');
  const lsn = Number(b.readBigUInt64BE(0));
  const n = b.readUInt32BE(8);
  const ops: EngineOp[] = [];
  let o = 12;
  const take = (len: number): Buffer => {
    if (o + len > b.length) throw bad('runs past its end');
    const s = b.subarray(o, o + len);
    o += len;
    return s;
  };
  for (let i = 0; i < n; i++) {
    const t = take(1)[0]!;
    if (t > 1) throw bad(`op type ${t}`);
    const key = Buffer.from(take(take(4).readUInt32BE(0)));
    if (t === 1) ops.push({ type: 'del', key });
    else ops.push({ type: 'put', key, value: Buffer.from(take(take(4).readUInt32BE(0))) });
  }
  if (o !== b.length) throw bad('trailing bytes');
  return { lsn, ops };
}

export interface LogWalOpenResult {
  wal: LogWal;
  /** Records written again into LevelDB at this start (LevelDB had lost them). */
  replayed: number;
}

export class LogWal {
  /** The highest LSN handed out (or found at start). */
  private lsn: number;
  /** Highest LSN of each segment still on disk (what a checkpoint may purge). */
  private readonly segmentMax = new Map<number, number>();
  private closed = false;

  private constructor(private readonly wal: Wal, lsn: number) {
    this.lsn = lsn;
  }

  /**
   * Opens the WAL in `dir` and brings LevelDB up to it: every record above LevelDB's stored LSN is written
   * again, in order, then LevelDB is synced and the segments before the current one are deleted. Must run
   * before any range of the store opens. A gap in the LSNs (a record lost in the middle) refuses the start.
   */
  static async open(dir: string, engine: Engine, opts: WalOptions = {}): Promise<LogWalOpenResult> {
    const { wal, records } = await Wal.open(dir, { segmentBytes: DEFAULT_WAL_SEGMENT_BYTES, ...opts });
    try {
      const durable = readLsn(await engine.get(WAL_LSN_KEY));
      let last = durable;
      let replayed = 0;
      let maxSeen = durable;
      for (const rec of records) {
        if (rec.type !== REC_LOG_OPS) throw new WalCorruptError(`unknown WAL record type ${rec.type} in segment ${rec.segment}`);
        const { lsn, ops } = decodeLogRecord(rec.payload);
        if (lsn > maxSeen) maxSeen = lsn;
        if (lsn <= durable) continue;
        if (lsn !== last + 1) throw new WalCorruptError(`WAL record ${lsn} follows ${last}: a record is missing (segment ${rec.segment})`);
        await engine.write([...ops, lsnOp(lsn)], { sync: false });
        last = lsn;
        replayed++;
      }
      // LevelDB's own log synced: everything in the WAL is now in LevelDB for good.
      await engine.write([lsnOp(Math.max(last, durable))], { sync: true });
      await wal.purgeBefore(wal.currentSegment);
      return { wal: new LogWal(wal, maxSeen), replayed };
    } catch (e) {
      await wal.close().catch(() => undefined);
      throw e;
    }
  }

  /** The last LSN handed out: every group write up to it has been issued to LevelDB. */
  get lastLsn(): number {
    return this.lsn;
  }

  get stats(): WalStats {
    return this.wal.stats;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Hands out the next LSN (the LogWriter calls this once per group write that needs the WAL). */
  nextLsn(): number {
    return ++this.lsn;
  }

  /** Appends the log ops of group write `lsn`; resolves once they are durable (fdatasync). */
  async append(lsn: number, ops: readonly EngineOp[]): Promise<void> {
    const segment = await this.wal.append(REC_LOG_OPS, 0, encodeLogRecord(lsn, ops));
    if ((this.segmentMax.get(segment) ?? 0) < lsn) this.segmentMax.set(segment, lsn);
  }

  /** The segment appended to now. */
  get currentSegment(): number {
    return this.wal.currentSegment;
  }

  /**
   * After a synced LevelDB write that carried every record up to `lsn`: deletes the segments that hold
   * only such records. `current`: the segment appended to when `lsn` was read — records above `lsn` can
   * only be in it or later ones, whatever was rotated since.
   */
  async purgeCovered(lsn: number, current: number): Promise<number> {
    // The first segment still needed: `current`, or an older one holding a record above `lsn`.
    let before = current;
    for (const s of [...this.segmentMax.keys()].sort((a, b) => a - b)) {
      if (s < current && this.segmentMax.get(s)! <= lsn) continue;
      before = Math.min(before, s);
      break;
    }
    const n = await this.wal.purgeBefore(before);
    for (const s of [...this.segmentMax.keys()]) if (s < before) this.segmentMax.delete(s);
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.wal.close();
  }
}
