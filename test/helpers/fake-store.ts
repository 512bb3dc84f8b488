// A small in-memory KvStore for server/client tests: multi-version values, snapshot reads, interactive
// transactions with serializable validation (read and written keys), exactly-once sessions, and hooks to
// inject failures and delays. Not the real store (node/src/kv/local-store.ts); semantics follow kv/api.ts.
import type {
  BeginOptions,
  DeleteResult,
  GetResult,
  KvStore,
  Mutation,
  PutOptions,
  PutResult,
  ReadOptions,
  ScanOptions,
  ScanResult,
  Session,
  StoreObserver,
  StoreStatus,
} from '../../node/src/kv/api.js';
import {
  SessionExpiredError,
  SnapshotTooOldError,
  StoreClosedError,
  TxnConflictError,
  TxnNotFoundError,
  TxnReadOnlyError,
} from '../../node/src/kv/errors.js';

interface Version {
  ts: number;
  value: Buffer | null; // null = tombstone
}

interface Txn {
  id: string;
  startTs: number;
  readOnly: boolean;
  writes: Map<string, Buffer | null>;
  reads: Set<string>;
}

interface SessionState {
  results: Map<number, Promise<unknown>>;
  /** Results below this seq were forgotten. */
  floor: number;
}

const hex = (b: Buffer) => b.toString('hex');

export class FakeStore implements KvStore {
  private ts = 0;
  private safePoint = 0;
  private readonly data = new Map<string, { key: Buffer; versions: Version[] }>();
  private readonly txns = new Map<string, Txn>();
  private readonly sessions = new Map<string, SessionState>();
  private nextTxn = 1;
  private closed = false;
  private pendingFailures: { err: Error; method: string | undefined }[] = [];
  /** Number of mutations applied (puts + deletes + committed txn writes); duplicates would show here. */
  applied = 0;
  /** Number of mutating requests answered from the session table instead of being re-applied. */
  dedupHits = 0;
  /** Artificial latency of every call, in ms. */
  delayMs = 0;
  readonly calls: string[] = [];

  constructor(private readonly observer: StoreObserver = {}) {}

  /** The next call (of `method`, or of any method) throws `err`. */
  failNext(err: Error, method?: 'get' | 'put' | 'delete' | 'deleteRange' | 'scan' | 'batch' | 'begin' | 'commit' | 'rollback' | 'status'): void {
    this.pendingFailures.push({ err, method });
  }

  /** Moves the GC safe point (snapshot reads below it fail with SNAPSHOT_TOO_OLD). */
  setSafePoint(ts: number): void {
    this.safePoint = ts;
  }

  currentTs(): number {
    return this.ts;
  }

  private async enter(method: string): Promise<void> {
    this.calls.push(method);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.closed) throw new StoreClosedError();
    const i = this.pendingFailures.findIndex((f) => f.method === undefined || f.method === method);
    if (i >= 0) throw this.pendingFailures.splice(i, 1)[0]!.err;
  }

  private withSession<T>(session: Session | undefined, fn: () => T): Promise<T> {
    if (!session) return Promise.resolve().then(fn);
    let s = this.sessions.get(session.clientId);
    if (!s) {
      s = { results: new Map(), floor: 0 };
      this.sessions.set(session.clientId, s);
    }
    if (session.firstUnacked > s.floor) {
      for (const seq of s.results.keys()) if (seq < session.firstUnacked) s.results.delete(seq);
      s.floor = session.firstUnacked;
    }
    const prev = s.results.get(session.seq);
    if (prev) {
      this.dedupHits++;
      return prev as Promise<T>;
    }
    if (session.seq < s.floor) return Promise.reject(new SessionExpiredError(`session ${session.clientId}: result of seq ${session.seq} was already discarded`));
    const p = Promise.resolve().then(fn);
    s.results.set(session.seq, p);
    p.catch(() => undefined);
    return p;
  }

  private latest(k: string, atTs: number): Version | undefined {
    const e = this.data.get(k);
    if (!e) return undefined;
    for (let i = e.versions.length - 1; i >= 0; i--) if (e.versions[i]!.ts <= atTs) return e.versions[i];
    return undefined;
  }

  private write(key: Buffer, value: Buffer | null, ts: number): void {
    const k = hex(key);
    let e = this.data.get(k);
    if (!e) {
      e = { key: Buffer.from(key), versions: [] };
      this.data.set(k, e);
    }
    e.versions.push({ ts, value: value ? Buffer.from(value) : null });
    this.applied++;
  }

  private txn(id: string): Txn {
    const t = this.txns.get(id);
    if (!t) throw new TxnNotFoundError(id);
    return t;
  }

  private readTs(opts: ReadOptions | undefined): number {
    if (opts?.snapshotTs) {
      if (opts.snapshotTs < this.safePoint) throw new SnapshotTooOldError(opts.snapshotTs, this.safePoint);
      return opts.snapshotTs;
    }
    return this.ts;
  }

  async get(key: Buffer, opts?: ReadOptions): Promise<GetResult> {
    await this.enter('get');
    if (opts?.txnId) {
      const t = this.txn(opts.txnId);
      const k = hex(key);
      t.reads.add(k);
      if (t.writes.has(k)) {
        const w = t.writes.get(k)!;
        return w ? { found: true, value: w, version: 0, readTs: t.startTs } : { found: false, version: 0, readTs: t.startTs };
      }
      const v = this.latest(k, t.startTs);
      return v?.value ? { found: true, value: v.value, version: v.ts, readTs: t.startTs } : { found: false, version: 0, readTs: t.startTs };
    }
    const readTs = this.readTs(opts);
    const v = this.latest(hex(key), readTs);
    return v?.value ? { found: true, value: v.value, version: v.ts, readTs } : { found: false, version: 0, readTs };
  }

  async put(key: Buffer, value: Buffer, opts: PutOptions = {}): Promise<PutResult> {
    await this.enter('put');
    if (opts.txnId) {
      const t = this.txn(opts.txnId);
      if (t.readOnly) throw new TxnReadOnlyError(`transaction ${t.id} is read-only`);
      t.writes.set(hex(key), Buffer.from(value));
      return { version: 0, succeeded: true, prevFound: false };
    }
    return this.withSession(opts.session, () => {
      const cur = this.latest(hex(key), this.ts);
      const curVal = cur?.value ?? undefined;
      if (opts.expectAbsent && curVal) return { version: 0, succeeded: false, prevFound: true, prevValue: curVal };
      if (opts.expectedValue && (!curVal || !curVal.equals(opts.expectedValue))) {
        return { version: 0, succeeded: false, prevFound: !!curVal, ...(curVal ? { prevValue: curVal } : {}) };
      }
      const ts = ++this.ts;
      this.write(key, value, ts);
      this.observer.onBatchWritten?.(1, key.length + value.length, 0.0001);
      return { version: ts, succeeded: true, prevFound: !!curVal, ...(opts.returnPrev && curVal ? { prevValue: curVal } : {}) };
    });
  }

  async delete(key: Buffer, opts: { session?: Session; txnId?: string } = {}): Promise<DeleteResult> {
    await this.enter('delete');
    if (opts.txnId) {
      const t = this.txn(opts.txnId);
      if (t.readOnly) throw new TxnReadOnlyError(`transaction ${t.id} is read-only`);
      t.writes.set(hex(key), null);
      return { deleted: true, version: 0 };
    }
    return this.withSession(opts.session, () => {
      const cur = this.latest(hex(key), this.ts);
      if (!cur?.value) return { deleted: false, version: this.ts };
      const ts = ++this.ts;
      this.write(key, null, ts);
      return { deleted: true, version: ts };
    });
  }

  private visible(range: { start?: Buffer; end?: Buffer; prefix?: Buffer }, atTs: number, overlay?: Map<string, Buffer | null>) {
    const out: { key: Buffer; value: Buffer; version: number }[] = [];
    const keys = new Map<string, Buffer>();
    for (const [k, e] of this.data) keys.set(k, e.key);
    if (overlay) for (const k of overlay.keys()) keys.set(k, Buffer.from(k, 'hex'));
    for (const [k, key] of keys) {
      if (range.prefix && !key.subarray(0, range.prefix.length).equals(range.prefix)) continue;
      if (range.start && Buffer.compare(key, range.start) < 0) continue;
      if (range.end && range.end.length > 0 && Buffer.compare(key, range.end) >= 0) continue;
      if (overlay?.has(k)) {
        const w = overlay.get(k)!;
        if (w) out.push({ key, value: w, version: 0 });
        continue;
      }
      const v = this.latest(k, atTs);
      if (v?.value) out.push({ key, value: v.value, version: v.ts });
    }
    return out.sort((a, b) => Buffer.compare(a.key, b.key));
  }

  async deleteRange(range: { start?: Buffer; end?: Buffer; prefix?: Buffer }, opts: { session?: Session } = {}): Promise<{ deleted: number; version: number }> {
    await this.enter('deleteRange');
    return this.withSession(opts.session, () => {
      const victims = this.visible(range, this.ts);
      if (victims.length === 0) return { deleted: 0, version: this.ts };
      const ts = ++this.ts;
      for (const kv of victims) this.write(kv.key, null, ts);
      return { deleted: victims.length, version: ts };
    });
  }

  async scan(opts: ScanOptions): Promise<ScanResult> {
    await this.enter('scan');
    let atTs: number;
    let overlay: Map<string, Buffer | null> | undefined;
    if (opts.txnId) {
      const t = this.txn(opts.txnId);
      atTs = t.startTs;
      overlay = t.writes;
    } else {
      atTs = this.readTs(opts);
    }
    let all = this.visible(opts, atTs, overlay);
    if (opts.txnId) for (const kv of all) this.txns.get(opts.txnId)!.reads.add(hex(kv.key));
    if (opts.reverse) all = all.reverse();
    const limit = opts.limit ?? 1000;
    const kvs = all.slice(0, limit).map((kv) => (opts.keysOnly ? { ...kv, value: Buffer.alloc(0) } : kv));
    return { kvs, more: all.length > limit, readTs: atTs };
  }

  async batch(mutations: Mutation[], opts: { session?: Session } = {}): Promise<{ version: number }> {
    await this.enter('batch');
    return this.withSession(opts.session, () => {
      const ts = ++this.ts;
      for (const m of mutations) this.write(m.key, m.op === 'put' ? m.value : null, ts);
      this.observer.onBatchWritten?.(mutations.length, 0, 0.0001);
      return { version: ts };
    });
  }

  async begin(opts: BeginOptions = {}): Promise<{ txnId: string; startTs: number }> {
    await this.enter('begin');
    const id = `fake-${this.nextTxn++}`;
    this.txns.set(id, { id, startTs: this.ts, readOnly: !!opts.readOnly, writes: new Map(), reads: new Set() });
    return { txnId: id, startTs: this.ts };
  }

  async commit(txnId: string, opts: { session?: Session; writes?: readonly Mutation[] } = {}): Promise<{ commitTs: number }> {
    await this.enter('commit');
    // Writes carried by the commit, while the transaction is open (as kv/carried-writes.ts does).
    const open = this.txns.get(txnId);
    if (open !== undefined) for (const m of opts.writes ?? []) open.writes.set(hex(m.key), m.op === 'put' ? Buffer.from(m.value) : null);
    return this.withSession(opts.session, () => {
      const t = this.txn(txnId);
      this.txns.delete(txnId);
      if (t.writes.size === 0) {
        this.observer.onTxnFinished?.('committed');
        return { commitTs: 0 };
      }
      for (const k of new Set([...t.reads, ...t.writes.keys()])) {
        const v = this.latest(k, this.ts);
        if (v && v.ts > t.startTs) {
          this.observer.onTxnFinished?.('conflict');
          throw new TxnConflictError(Buffer.from(k, 'hex'), v.ts);
        }
      }
      const ts = ++this.ts;
      for (const [k, w] of t.writes) this.write(Buffer.from(k, 'hex'), w, ts);
      this.observer.onBatchWritten?.(1, 0, 0.0001);
      this.observer.onTxnFinished?.('committed');
      return { commitTs: ts };
    });
  }

  async rollback(txnId: string): Promise<void> {
    await this.enter('rollback');
    if (this.txns.delete(txnId)) this.observer.onTxnFinished?.('rolled_back');
  }

  async status(): Promise<StoreStatus> {
    await this.enter('status');
    let bytes = 0;
    for (const e of this.data.values()) for (const v of e.versions) bytes += e.key.length + (v.value?.length ?? 0);
    return { appliedTs: this.ts, safePoint: this.safePoint, approximateBytes: bytes, activeTxns: this.txns.size };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Reopens a closed fake (same data), to simulate a restart of the node over the same disk. */
  reopen(): void {
    this.closed = false;
    this.txns.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
