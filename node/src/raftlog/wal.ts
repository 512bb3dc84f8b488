// A store-wide write-ahead log for Raft (docs/sharding.md "The store"; issues 12 and 16): one append-only
// log that every range of a store writes its entries and hard states to, with ONE fdatasync per flush for
// everything appended meanwhile (group commit across ranges) — etcd's WAL / TiKV's raft-engine instead of
// Raft logs inside LevelDB (a synced LevelDB write costs ≈ 200 µs here, fdatasync of a preallocated file
// ≈ 120 µs).
//
// Layout: segment files `<seq, 16 hex digits>.wal` of `segmentBytes`, PREALLOCATED with zeros (so a
// flush's fdatasync has no size or extent change to journal). A record is
//   u32 BE body length (> 0) | u32 BE crc32(body) | body = u8 type | u64 BE group id | payload
// and a zero length marks the end of the written part. Records never span segments.
//
// Recovery (open): segments in order, records until the first zero length. A bad record (crc mismatch,
// length past the segment) in the LAST segment is a torn write of a crash: the tail from there is zeroed
// and appending resumes there. Anywhere else it is corruption: open fails (never silently skip data).
//
// Durability contract: `append` resolves only after the fdatasync covering the record; a failed write or
// sync (ENOSPC, EIO) fails that flush's appends and every later one with WalFailedError — after a failed
// fsync nothing about the file can be trusted (the PostgreSQL fsync lesson), the store must restart.
import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export const RECORD_HEADER = 8;
const BODY_HEADER = 9;

export abstract class WalError extends Error {
  abstract readonly code: 'WAL_CORRUPT' | 'WAL_FAILED' | 'WAL_INVALID_ARGUMENT' | 'WAL_CLOSED';
}
export class WalCorruptError extends WalError {
  override readonly name = 'WalCorruptError';
  override readonly code = 'WAL_CORRUPT' as const;
}
/** A write or sync failed (disk full, I/O error): nothing more is appended until a restart. */
export class WalFailedError extends WalError {
  override readonly name = 'WalFailedError';
  override readonly code = 'WAL_FAILED' as const;
}
export class WalArgumentError extends WalError {
  override readonly name = 'WalArgumentError';
  override readonly code = 'WAL_INVALID_ARGUMENT' as const;
}
export class WalClosedError extends WalError {
  override readonly name = 'WalClosedError';
  override readonly code = 'WAL_CLOSED' as const;
}

export interface WalRecord {
  type: number;
  groupId: number;
  payload: Buffer;
  /** Segment sequence number holding the record (for purging). */
  segment: number;
}

/** The file operations the WAL needs (asynchronous: the event loop keeps serving while the disk syncs); tests inject failures (ENOSPC) through it. */
export interface WalFs {
  write(fd: number, buf: Buffer, position: number): Promise<void>;
  datasync(fd: number): Promise<void>;
}

const realFs: WalFs = {
  // The write itself is a copy into the page cache (a few µs for a group write): done on the event loop,
  // so a flush costs one thread-pool hand-off (the fdatasync), not two.
  async write(fd, buf, position) {
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, position + off);
  },
  datasync(fd) {
    return new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
  },
};

export interface WalOptions {
  /** Segment size (default 64 MiB). A record larger than a segment minus its header is refused. */
  segmentBytes?: number;
  fs?: WalFs;
}

export interface WalStats {
  flushes: number;
  records: number;
  bytes: number;
}

interface Pending {
  buf: Buffer;
  /** With the segment the record landed in. */
  resolve: (segment: number) => void;
  reject: (e: Error) => void;
}

const segName = (seq: number): string => `${seq.toString(16).padStart(16, '0')}.wal`;

export class Wal {
  private queue: Pending[] = [];
  private flushScheduled = false;
  private flushing = false;
  private failure: Error | undefined;
  private closed = false;
  private nextSegment: Promise<number> | undefined;
  readonly stats: WalStats = { flushes: 0, records: 0, bytes: 0 };

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly fs: WalFs,
    private seq: number,
    private fd: number,
    private offset: number,
  ) {}

  /** Opens (creating) the WAL in `dir` and returns every record it holds, in append order. */
  static async open(dir: string, opts: WalOptions = {}): Promise<{ wal: Wal; records: WalRecord[] }> {
    const segmentBytes = opts.segmentBytes ?? 64 * 1024 * 1024;
    if (segmentBytes < 4096) throw new WalArgumentError('segmentBytes must be >= 4096');
    await mkdir(dir, { recursive: true });
    const seqs = (await readdir(dir))
      .filter((f) => /^[0-9a-f]{16}\.wal$/.test(f))
      .map((f) => parseInt(f.slice(0, 16), 16))
      .sort((a, b) => a - b);
    const records: WalRecord[] = [];
    let lastSeq = 0;
    let lastOffset = 0;
    for (let i = 0; i < seqs.length; i++) {
      const seq = seqs[i]!;
      const isLast = i === seqs.length - 1;
      const { end } = readSegment(join(dir, segName(seq)), seq, records, isLast);
      lastSeq = seq;
      lastOffset = end;
    }
    if (seqs.length === 0) {
      lastSeq = 1;
      await preallocate(join(dir, segName(lastSeq)), segmentBytes);
      await fsyncDir(dir);
    }
    const fd = openSync(join(dir, segName(lastSeq)), 'r+');
    return { wal: new Wal(dir, segmentBytes, opts.fs ?? realFs, lastSeq, fd, lastOffset), records };
  }

  /** The segment currently appended to (records in older segments may be purged once applied/snapshotted). */
  get currentSegment(): number {
    return this.seq;
  }

  /**
   * Appends one record; resolves once it is durable, with the segment holding it. Appends issued before
   * the next flush starts share its write and its fdatasync.
   */
  append(type: number, groupId: number, payload: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new WalClosedError('wal is closed'));
    if (this.failure !== undefined) return Promise.reject(new WalFailedError(`wal failed earlier: ${this.failure.message}`));
    if (!Number.isInteger(type) || type < 0 || type > 255) return Promise.reject(new WalArgumentError('type must be a byte'));
    if (!Number.isSafeInteger(groupId) || groupId < 0) return Promise.reject(new WalArgumentError('group id must be a non-negative integer'));
    const bodyLen = BODY_HEADER + payload.length;
    if (RECORD_HEADER + bodyLen > this.segmentBytes) return Promise.reject(new WalArgumentError(`record of ${bodyLen} bytes does not fit a ${this.segmentBytes}-byte segment`));
    const buf = Buffer.allocUnsafe(RECORD_HEADER + bodyLen);
    buf.writeUInt32BE(bodyLen, 0);
    buf[8] = type;
    buf.writeBigUInt64BE(BigInt(groupId), 9);
    buf.set(payload, 8 + BODY_HEADER);
    buf.writeUInt32BE(crc32(buf.subarray(8)), 4);
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ buf, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing || this.flushScheduled) return;
    // On a microtask: appends of the same turn share the first flush.
    this.flushScheduled = true;
    queueMicrotask(() => void this.flushLoop());
  }

  /** One flush at a time; what arrives during a flush goes in the next one (group commit). */
  private async flushLoop(): Promise<void> {
    this.flushScheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0 && this.failure === undefined) await this.flush();
    } finally {
      this.flushing = false;
    }
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      let i = 0;
      while (i < batch.length) {
        // As many records as fit the current segment, in one write.
        let size = 0;
        let j = i;
        while (j < batch.length && this.offset + size + batch[j]!.buf.length <= this.segmentBytes) size += batch[j++]!.buf.length;
        if (j === i) {
          await this.rotate();
          continue;
        }
        const chunk = j - i === 1 ? batch[i]!.buf : Buffer.concat(batch.slice(i, j).map((p) => p.buf), size);
        await this.fs.write(this.fd, chunk, this.offset);
        await this.fs.datasync(this.fd);
        this.offset += size;
        this.stats.flushes++;
        this.stats.records += j - i;
        this.stats.bytes += size;
        for (let k = i; k < j; k++) batch[k]!.resolve(this.seq);
        i = j;
      }
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.failure = err;
      const wf = new WalFailedError(`wal write failed: ${err.message}`);
      for (const p of batch) p.reject(wf); // already-resolved ones ignore this
      for (const p of this.queue.splice(0)) p.reject(wf);
    }
  }

  /** Moves to a new segment (preallocated ahead of time when possible). */
  private async rotate(): Promise<void> {
    const next = this.seq + 1;
    const path = join(this.dir, segName(next));
    await (this.nextSegment ?? preallocate(path, this.segmentBytes).then(() => next));
    this.nextSegment = undefined;
    await fsyncDir(this.dir);
    closeSync(this.fd);
    this.fd = openSync(path, 'r+');
    this.seq = next;
    this.offset = 0;
    // Prepare the one after in the background, so the next rotation does not wait for 64 MiB of zeros.
    const after = this.seq + 1;
    this.nextSegment = preallocate(join(this.dir, segName(after)), this.segmentBytes).then(() => after);
    this.nextSegment.catch(() => undefined);
  }

  /** Deletes every segment older than `seq` (their records were applied and are covered by snapshots). */
  async purgeBefore(seq: number): Promise<number> {
    let n = 0;
    for (const f of await readdir(this.dir)) {
      if (!/^[0-9a-f]{16}\.wal$/.test(f)) continue;
      const s = parseInt(f.slice(0, 16), 16);
      if (s < seq && s < this.seq) {
        await rm(join(this.dir, f));
        n++;
      }
    }
    if (n > 0) await fsyncDir(this.dir);
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.queue.length > 0 || this.flushScheduled || this.flushing) await new Promise((r) => setImmediate(r));
    await this.nextSegment?.catch(() => undefined);
    closeSync(this.fd);
  }
}

async function preallocate(path: string, bytes: number): Promise<void> {
  const h: FileHandle = await open(path, 'wx');
  try {
    const zeros = Buffer.alloc(Math.min(bytes, 1 << 20));
    for (let off = 0; off < bytes; off += zeros.length) await h.write(zeros, 0, Math.min(zeros.length, bytes - off), off);
    await h.sync();
  } finally {
    await h.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Reads one segment's records into `out`; returns the end offset of the valid part. */
function readSegment(path: string, seq: number, out: WalRecord[], isLast: boolean): { end: number } {
  const fd = openSync(path, isLast ? 'r+' : 'r');
  try {
    const size = fstatSync(fd).size;
    const data = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, data, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    let off = 0;
    for (;;) {
      if (off + RECORD_HEADER > got) break;
      const len = data.readUInt32BE(off);
      if (len === 0) break;
      const bad = (why: string): Error => new WalCorruptError(`${path} at offset ${off}: ${why}`);
      let problem: Error | undefined;
      if (len < BODY_HEADER || off + RECORD_HEADER + len > got) problem = bad(`record length ${len} runs past the segment`);
      else if (crc32(data.subarray(off + 8, off + 8 + len)) !== data.readUInt32BE(off + 4)) problem = bad('checksum mismatch');
      if (problem !== undefined) {
        if (!isLast) throw problem;
        // A torn tail of the last segment: the crash interrupted this write. Zero it, resume here.
        const zeros = Buffer.alloc(got - off);
        let w = 0;
        while (w < zeros.length) w += writeSync(fd, zeros, w, zeros.length - w, off + w);
        fdatasyncSync(fd);
        break;
      }
      const type = data[off + 8]!;
      const groupId = Number(data.readBigUInt64BE(off + 9));
      out.push({ type, groupId, payload: Buffer.from(data.subarray(off + 8 + BODY_HEADER, off + 8 + len)), segment: seq });
      off += RECORD_HEADER + len;
    }
    return { end: off };
  } finally {
    closeSync(fd);
  }
}
