// In-memory engine for tests and deterministic simulations. The data lives in a persistent (immutable,
// path-copying) treap: a write batch builds a new root and swaps it atomically, so a snapshot or an
// iterator is just a captured root — O(1), consistent, and unaffected by later writes. Priorities are a
// hash of the key, so the tree shape is a pure function of its contents (deterministic).
//
// `sync` is accepted and ignored; `crash()` helpers for simulations can be layered on top by copying the
// root at "synced" points.
import { entryBytes, type Engine, type EngineEntry, type EngineIterator, type EngineOp, type EngineSnapshot, type IteratorOptions, type ReadOptions, type WriteOptions } from './engine.js';

interface Node {
  readonly k: Buffer;
  readonly v: Buffer;
  readonly p: number;
  l: Node | null;
  r: Node | null;
}

function prio(key: Buffer): number {
  // FNV-1a 32-bit, then a final avalanche.
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key[i]!;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

function insert(n: Node | null, k: Buffer, v: Buffer, p: number): Node {
  if (n === null) return { k, v, p, l: null, r: null };
  const c = Buffer.compare(k, n.k);
  if (c === 0) return { k: n.k, v, p: n.p, l: n.l, r: n.r };
  if (c < 0) {
    const l = insert(n.l, k, v, p); // always a fresh node: safe to mutate
    if (l.p > n.p) {
      const nn: Node = { k: n.k, v: n.v, p: n.p, l: l.r, r: n.r };
      l.r = nn;
      return l;
    }
    return { k: n.k, v: n.v, p: n.p, l, r: n.r };
  }
  const r = insert(n.r, k, v, p);
  if (r.p > n.p) {
    const nn: Node = { k: n.k, v: n.v, p: n.p, l: n.l, r: r.l };
    r.l = nn;
    return r;
  }
  return { k: n.k, v: n.v, p: n.p, l: n.l, r };
}

function merge(a: Node | null, b: Node | null): Node | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.p > b.p) return { k: a.k, v: a.v, p: a.p, l: a.l, r: merge(a.r, b) };
  return { k: b.k, v: b.v, p: b.p, l: merge(a, b.l), r: b.r };
}

/** Returns the same node when the key is absent (no copy). */
function remove(n: Node | null, k: Buffer): Node | null {
  if (n === null) return null;
  const c = Buffer.compare(k, n.k);
  if (c === 0) return merge(n.l, n.r);
  if (c < 0) {
    const l = remove(n.l, k);
    return l === n.l ? n : { k: n.k, v: n.v, p: n.p, l, r: n.r };
  }
  const r = remove(n.r, k);
  return r === n.r ? n : { k: n.k, v: n.v, p: n.p, l: n.l, r };
}

function lookup(n: Node | null, k: Buffer): Node | null {
  while (n !== null) {
    const c = Buffer.compare(k, n.k);
    if (c === 0) return n;
    n = c < 0 ? n.l : n.r;
  }
  return null;
}

class MemorySnapshot implements EngineSnapshot {
  released = false;
  constructor(readonly owner: MemoryEngine, readonly root: Node | null) {}
  async release(): Promise<void> {
    this.released = true;
  }
}

class MemoryIterator implements EngineIterator {
  private stack: Node[] = [];
  private lower: Buffer | undefined;
  private lowerIncl = true;
  private upper: Buffer | undefined;
  private upperIncl = false;
  private readonly reverse: boolean;
  private remaining: number;
  private closed = false;

  constructor(private readonly root: Node | null, opts: IteratorOptions) {
    if (opts.gte !== undefined) this.lower = opts.gte;
    else if (opts.gt !== undefined) { this.lower = opts.gt; this.lowerIncl = false; }
    if (opts.lte !== undefined) { this.upper = opts.lte; this.upperIncl = true; }
    else if (opts.lt !== undefined) this.upper = opts.lt;
    this.reverse = opts.reverse === true;
    this.remaining = opts.limit === undefined || opts.limit < 0 ? Infinity : opts.limit;
    this.position(undefined);
  }

  private aboveLower(k: Buffer, lower: Buffer | undefined, incl: boolean): boolean {
    if (lower === undefined) return true;
    const c = Buffer.compare(k, lower);
    return incl ? c >= 0 : c > 0;
  }

  private belowUpper(k: Buffer, upper: Buffer | undefined, incl: boolean): boolean {
    if (upper === undefined) return true;
    const c = Buffer.compare(k, upper);
    return incl ? c <= 0 : c < 0;
  }

  /** Builds the stack for the first key in iteration order, optionally starting at a seek target. */
  private position(target: Buffer | undefined): void {
    this.stack.length = 0;
    let n = this.root;
    if (!this.reverse) {
      let lower = this.lower;
      let incl = this.lowerIncl;
      if (target !== undefined && (lower === undefined || Buffer.compare(target, lower) > 0)) {
        lower = target;
        incl = true;
      }
      while (n !== null) {
        if (this.aboveLower(n.k, lower, incl)) {
          this.stack.push(n);
          n = n.l;
        } else n = n.r;
      }
    } else {
      let upper = this.upper;
      let incl = this.upperIncl;
      if (target !== undefined && (upper === undefined || Buffer.compare(target, upper) < 0)) {
        upper = target;
        incl = true;
      }
      while (n !== null) {
        if (this.belowUpper(n.k, upper, incl)) {
          this.stack.push(n);
          n = n.r;
        } else n = n.l;
      }
    }
  }

  private step(): EngineEntry | undefined {
    if (this.closed || this.remaining <= 0) return undefined;
    const n = this.stack.pop();
    if (n === undefined) return undefined;
    if (!this.reverse) {
      if (!this.belowUpper(n.k, this.upper, this.upperIncl)) {
        this.stack.length = 0;
        return undefined;
      }
      let c = n.r;
      while (c !== null) {
        this.stack.push(c);
        c = c.l;
      }
    } else {
      if (!this.aboveLower(n.k, this.lower, this.lowerIncl)) {
        this.stack.length = 0;
        return undefined;
      }
      let c = n.l;
      while (c !== null) {
        this.stack.push(c);
        c = c.r;
      }
    }
    this.remaining--;
    return [n.k, n.v];
  }

  async next(): Promise<EngineEntry | undefined> {
    return this.step();
  }

  async nextBatch(max: number): Promise<EngineEntry[]> {
    const out: EngineEntry[] = [];
    while (out.length < max) {
      const e = this.step();
      if (e === undefined) break;
      out.push(e);
    }
    return out;
  }

  seek(target: Buffer): void {
    if (this.closed) return;
    // Like LevelDB: a target outside the range ends the iteration.
    if (!this.aboveLower(target, this.lower, this.lowerIncl) || !this.belowUpper(target, this.upper, this.upperIncl)) {
      this.stack.length = 0;
      return;
    }
    this.position(target);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stack.length = 0;
  }
}

export class MemoryEngine implements Engine {
  private root: Node | null = null;
  /** Contents as of the last synced write (like a write-ahead log: a sync covers all earlier writes). */
  private durable: Node | null = null;
  private closed = false;
  /** Number of write batches applied (tests, simulations). */
  writes = 0;
  syncedWrites = 0;

  private check(): void {
    if (this.closed) throw new Error('engine is closed');
  }

  private rootFor(opts?: ReadOptions): Node | null {
    const s = opts?.snapshot;
    if (s === undefined) return this.root;
    if (!(s instanceof MemorySnapshot) || s.owner !== this) throw new Error('snapshot belongs to another engine');
    if (s.released) throw new Error('snapshot was released');
    return s.root;
  }

  async get(key: Buffer, opts?: ReadOptions): Promise<Buffer | undefined> {
    this.check();
    return lookup(this.rootFor(opts), key)?.v;
  }

  async getMany(keys: readonly Buffer[], opts?: ReadOptions): Promise<Array<Buffer | undefined>> {
    this.check();
    const root = this.rootFor(opts);
    return keys.map((k) => lookup(root, k)?.v);
  }

  async write(ops: readonly EngineOp[], opts?: WriteOptions): Promise<void> {
    this.check();
    this.writeSync(ops);
    if (opts?.sync) {
      this.syncedWrites++;
      this.durable = this.root;
    }
  }

  /** Synchronous write (simulations). */
  writeSync(ops: readonly EngineOp[]): void {
    let root = this.root;
    for (const op of ops) {
      if (op.type === 'put') {
        // Copy: callers may reuse their buffers; engine contents must be immutable.
        root = insert(root, Buffer.from(op.key), Buffer.from(op.value), prio(op.key));
      } else root = remove(root, op.key);
    }
    this.root = root;
    this.writes++;
  }

  iterator(opts: IteratorOptions = {}): EngineIterator {
    this.check();
    return new MemoryIterator(this.rootFor(opts), opts);
  }

  snapshot(): EngineSnapshot {
    this.check();
    return new MemorySnapshot(this, this.root);
  }

  async approximateSize(start: Buffer, end: Buffer): Promise<number> {
    return entryBytes(this, { gte: start, lt: end });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Reopens a closed engine keeping its contents (clean restart simulations). */
  reopen(): MemoryEngine {
    const e = new MemoryEngine();
    e.root = this.root;
    e.durable = this.durable;
    return e;
  }

  /**
   * Power-loss simulation: this engine becomes unusable and the returned one holds only what the last
   * synced write made durable (every write up to it, none after).
   */
  crash(): MemoryEngine {
    this.closed = true;
    const e = new MemoryEngine();
    e.root = this.durable;
    e.durable = this.durable;
    return e;
  }
}
