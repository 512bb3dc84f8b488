// Compact binary codec for Raft types (transport and disk). Unsigned LEB128 varints for
// numbers (exact up to 2^53), length-prefixed byte strings. Each top-level encoding starts
// with a version byte so the format can evolve.

import {
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  type SnapshotMetadata,
  EMPTY,
  MessageType,
} from './types.js';
import { CodecError } from './errors.js';

const VERSION = 1;

/** Uninitialised bytes (every one is written before it is read): Node's pooled Buffer where there is one. */
const alloc: (n: number) => Uint8Array = typeof Buffer === 'function' ? (n) => Buffer.allocUnsafe(n) : (n) => new Uint8Array(n);

export class Writer {
  private buf: Uint8Array;
  private pos = 0;

  /**
   * `capacity`: the expected size — an encoding that fits it is written without regrowing the buffer.
   * Node's Buffer pool serves the small ones (a `new Uint8Array` of over 64 bytes is a zero-filled
   * backing store of its own, ~2 % of a store's CPU under transactions); elsewhere a plain Uint8Array.
   */
  constructor(capacity = 64) {
    this.buf = alloc(capacity);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const nb = alloc(cap);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }

  uvarint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new CodecError(`cannot encode ${n} as uvarint`);
    this.ensure(8);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  bool(b: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = b ? 1 : 0;
  }

  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  ids(ids: readonly number[]): void {
    this.uvarint(ids.length);
    for (const id of ids) this.uvarint(id);
  }

  finish(): Uint8Array {
    // A view when the buffer is mostly used (no second copy); a copy when most of it would be kept alive for nothing.
    if (this.pos * 2 >= this.buf.length) return this.buf.subarray(0, this.pos);
    const out = new Uint8Array(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }
}

export class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  uvarint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw new CodecError('truncated varint');
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 0x80;
      if (mul > 2 ** 56) throw new CodecError('varint too long');
    }
    return n;
  }

  bool(): boolean {
    if (this.pos >= this.buf.length) throw new CodecError('truncated bool');
    return this.buf[this.pos++] !== 0;
  }

  bytes(): Uint8Array {
    const n = this.uvarint();
    if (this.pos + n > this.buf.length) throw new CodecError('truncated bytes');
    // Copy so decoded values don't alias (and pin) a large receive buffer.
    const b = n === 0 ? EMPTY : this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  ids(): number[] {
    const n = this.uvarint();
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.uvarint());
    return out;
  }

  version(): void {
    const v = this.uvarint();
    if (v !== VERSION) throw new CodecError(`unsupported codec version ${v}`);
  }

  atEnd(): boolean {
    return this.pos >= this.buf.length;
  }

  done(): void {
    if (this.pos !== this.buf.length) throw new CodecError(`${this.buf.length - this.pos} trailing bytes`);
  }
}

export function writeEntry(w: Writer, e: Entry): void {
  w.uvarint(e.term);
  w.uvarint(e.index);
  w.uvarint(e.type);
  w.bytes(e.data);
}

export function readEntry(r: Reader): Entry {
  return { term: r.uvarint(), index: r.uvarint(), type: r.uvarint(), data: r.bytes() };
}

function writeConfState(w: Writer, cs: ConfState): void {
  w.ids(cs.voters);
  w.ids(cs.learners);
  w.ids(cs.votersOutgoing);
  w.ids(cs.learnersNext);
  w.bool(cs.autoLeave);
}

function readConfState(r: Reader): ConfState {
  return { voters: r.ids(), learners: r.ids(), votersOutgoing: r.ids(), learnersNext: r.ids(), autoLeave: r.bool() };
}

function writeSnapshotMetadata(w: Writer, m: SnapshotMetadata): void {
  w.uvarint(m.index);
  w.uvarint(m.term);
  writeConfState(w, m.confState);
}

function readSnapshotMetadata(r: Reader): SnapshotMetadata {
  return { index: r.uvarint(), term: r.uvarint(), confState: readConfState(r) };
}

function writeSnapshot(w: Writer, s: Snapshot): void {
  writeSnapshotMetadata(w, s.metadata);
  w.bytes(s.data);
}

function readSnapshot(r: Reader): Snapshot {
  return { metadata: readSnapshotMetadata(r), data: r.bytes() };
}

/** Upper bound of a uvarint's encoding (a safe integer, 53 bits, in 7-bit groups). */
const MAX_UVARINT = 8;
/** Encoded size of an entry, at most (term, index, type, data length, data). */
const entrySize = (e: Entry): number => 4 * MAX_UVARINT + e.data.length;

function encodeWith(f: (w: Writer) => void, capacity?: number): Uint8Array {
  const w = new Writer(capacity);
  w.uvarint(VERSION);
  f(w);
  return w.finish();
}

function decodeWith<T>(buf: Uint8Array, f: (r: Reader) => T): T {
  const r = new Reader(buf);
  r.version();
  const v = f(r);
  r.done();
  return v;
}

export function encodeMessage(m: Message): Uint8Array {
  return encodeWith((w) => {
    w.uvarint(m.groupId);
    w.uvarint(m.type);
    w.uvarint(m.from);
    w.uvarint(m.to);
    w.uvarint(m.term);
    w.uvarint(m.logTerm);
    w.uvarint(m.index);
    w.uvarint(m.commit);
    w.bool(m.reject);
    w.uvarint(m.rejectHint);
    w.bytes(m.context);
    w.uvarint(m.entries.length);
    for (const e of m.entries) writeEntry(w, e);
    w.bool(m.snapshot !== undefined);
    if (m.snapshot) writeSnapshot(w, m.snapshot);
    // Trailing optional field (Message.gen); absent when 0.
    if (m.gen !== undefined && m.gen !== 0) w.uvarint(m.gen);
  }, messageSize(m));
}

/**
 * The encoded size of `m`, nearly always an upper bound (a snapshot's conf state may add a little): sized
 * up front, a MsgApp's buffer is allocated once instead of doubling from 64 bytes per entry added
 * (the regrowth was ~2 % of a range leader's CPU under cross-range transactions).
 */
function messageSize(m: Message): number {
  let n = 16 * MAX_UVARINT + m.context.length;
  for (const e of m.entries) n += entrySize(e);
  if (m.snapshot !== undefined) n += 8 * MAX_UVARINT + m.snapshot.data.length;
  return n;
}

export function decodeMessage(buf: Uint8Array): Message {
  return decodeWith(buf, (r) => {
    const m: Message = {
      groupId: r.uvarint(),
      type: r.uvarint(),
      from: r.uvarint(),
      to: r.uvarint(),
      term: r.uvarint(),
      logTerm: r.uvarint(),
      index: r.uvarint(),
      commit: r.uvarint(),
      reject: r.bool(),
      rejectHint: r.uvarint(),
      context: r.bytes(),
      entries: [],
    };
    if (MessageType[m.type] === undefined) throw new CodecError(`unknown message type ${m.type}`);
    const n = r.uvarint();
    for (let i = 0; i < n; i++) m.entries.push(readEntry(r));
    if (r.bool()) m.snapshot = readSnapshot(r);
    if (!r.atEnd()) {
      const gen = r.uvarint();
      // Only a nonzero generation is ever written: anything else after the message is corruption.
      if (gen === 0) throw new CodecError('trailing bytes after message (a zero generation is never encoded)');
      m.gen = gen;
    }
    return m;
  });
}

export function encodeEntry(e: Entry): Uint8Array {
  return encodeWith((w) => writeEntry(w, e), MAX_UVARINT + entrySize(e));
}

export function decodeEntry(buf: Uint8Array): Entry {
  return decodeWith(buf, readEntry);
}

export function encodeHardState(h: HardState): Uint8Array {
  return encodeWith((w) => {
    w.uvarint(h.term);
    w.uvarint(h.vote);
    w.uvarint(h.commit);
  });
}

export function decodeHardState(buf: Uint8Array): HardState {
  return decodeWith(buf, (r) => ({ term: r.uvarint(), vote: r.uvarint(), commit: r.uvarint() }));
}

export function encodeSnapshotMetadata(m: SnapshotMetadata): Uint8Array {
  return encodeWith((w) => writeSnapshotMetadata(w, m));
}

export function decodeSnapshotMetadata(buf: Uint8Array): SnapshotMetadata {
  return decodeWith(buf, readSnapshotMetadata);
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  return encodeWith((w) => writeSnapshot(w, s));
}

export function decodeSnapshot(buf: Uint8Array): Snapshot {
  return decodeWith(buf, readSnapshot);
}

export function encodeConfState(cs: ConfState): Uint8Array {
  return encodeWith((w) => writeConfState(w, cs));
}

export function decodeConfState(buf: Uint8Array): ConfState {
  return decodeWith(buf, readConfState);
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encodeWith((w) => {
    w.uvarint(cc.transition);
    w.uvarint(cc.changes.length);
    for (const c of cc.changes) {
      w.uvarint(c.type);
      w.uvarint(c.nodeId);
    }
    w.bytes(cc.context);
  });
}

/** Empty data decodes to the empty "leave joint" change (used for auto-leave entries). */
export function decodeConfChange(buf: Uint8Array): ConfChange {
  if (buf.length === 0) return { transition: 0, changes: [], context: EMPTY };
  return decodeWith(buf, (r) => {
    const transition = r.uvarint();
    const n = r.uvarint();
    const changes = [];
    for (let i = 0; i < n; i++) changes.push({ type: r.uvarint(), nodeId: r.uvarint() });
    return { transition, changes, context: r.bytes() };
  });
}
