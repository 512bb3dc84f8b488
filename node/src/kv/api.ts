// The storage API a kvs node offers to its gRPC layer. Independent of protobuf: the server maps
// requests to these calls and typed errors (./errors.ts) to gRPC statuses in one place.
// Under Raft (later) the same interface is implemented by a replicated store; callers do not change.

/** Exactly-once session data of a mutating request (Raft thesis §6.3). */
export interface Session {
  clientId: string;
  seq: number;
  /** Lowest seq the client still awaits; results below it may be forgotten. */
  firstUnacked: number;
}

export interface ReadOptions {
  /** Read at this timestamp; undefined/0 = latest committed. */
  snapshotTs?: number;
  /** Read inside an interactive transaction (sees its own writes). */
  txnId?: string;
}

export interface GetResult {
  found: boolean;
  value?: Buffer;
  version: number;
  readTs: number;
}

export interface PutOptions {
  session?: Session;
  txnId?: string;
  /** Compare-and-set: apply only if the current value equals this. */
  expectedValue?: Buffer;
  /** Compare-and-set: apply only if the key is absent. */
  expectAbsent?: boolean;
  returnPrev?: boolean;
}

export interface PutResult {
  /** Commit version; 0 inside a transaction or when the CAS failed. */
  version: number;
  succeeded: boolean;
  prevFound: boolean;
  prevValue?: Buffer;
}

export interface DeleteResult {
  deleted: boolean;
  version: number;
}

export interface ScanOptions extends ReadOptions {
  start?: Buffer;
  end?: Buffer;
  prefix?: Buffer;
  limit?: number;
  reverse?: boolean;
  keysOnly?: boolean;
}

export interface KeyValue {
  key: Buffer;
  value: Buffer;
  version: number;
}

export interface ScanResult {
  kvs: KeyValue[];
  more: boolean;
  readTs: number;
}

export type Mutation = { op: 'put'; key: Buffer; value: Buffer } | { op: 'delete'; key: Buffer };

export interface BeginOptions {
  idleTimeoutMs?: number;
  readOnly?: boolean;
  /** The snapshot is at least this ts (the client's causality token: what it saw acknowledged). */
  minStartTs?: number;
  /**
   * The client reads outside the transaction at its start ts (plain Gets at the snapshot, sent to each
   * key's range leader) and reports those keys with the commit (`readKeys`). A store that supports it
   * fixes the snapshot at Begin and answers `directReads: true`; read-only transactions never use it.
   */
  directReads?: boolean;
}

export interface StoreStatus {
  appliedTs: number;
  safePoint: number;
  approximateBytes: number;
  activeTxns: number;
}

export interface KvStore {
  get(key: Buffer, opts?: ReadOptions): Promise<GetResult>;
  put(key: Buffer, value: Buffer, opts?: PutOptions): Promise<PutResult>;
  delete(key: Buffer, opts?: { session?: Session; txnId?: string }): Promise<DeleteResult>;
  deleteRange(range: { start?: Buffer; end?: Buffer; prefix?: Buffer }, opts?: { session?: Session }): Promise<{ deleted: number; version: number }>;
  scan(opts: ScanOptions): Promise<ScanResult>;
  batch(mutations: Mutation[], opts?: { session?: Session }): Promise<{ version: number }>;
  /** `directReads`: the snapshot is fixed at `startTs` and the commit takes `readKeys` (BeginOptions.directReads). */
  begin(opts?: BeginOptions): Promise<{ txnId: string; startTs: number; directReads?: boolean }>;
  /**
   * `writes`: the transaction's writes carried by the commit (kv/carried-writes.ts), applied first.
   * `readKeys`: keys read at the snapshot outside the transaction (direct reads), joined to its read set.
   */
  commit(txnId: string, opts?: { session?: Session; writes?: readonly Mutation[]; readKeys?: readonly Buffer[] }): Promise<{ commitTs: number }>;
  rollback(txnId: string): Promise<void>;
  status(): Promise<StoreStatus>;
  close(): Promise<void>;
}

/** Hooks the store calls so the server can export metrics without the store importing prom-client. */
export interface StoreObserver {
  /** One synced engine write carrying `commands` client commands (group commit). */
  onBatchWritten?(commands: number, bytes: number, syncSeconds: number): void;
  onTxnFinished?(outcome: 'committed' | 'conflict' | 'rolled_back' | 'timed_out'): void;
  onGcRun?(removedVersions: number, seconds: number): void;
  /** A noop proposed to raise the range's ts to a snapshot above it (the max-ts rule: one Raft round). */
  onSnapshotRaise?(): void;
  /** A snapshot above the applied ts made repeatable by the leader's promise instead (no Raft round). */
  onTsPromise?(): void;
  /** A get read through the write lock of a transaction the store knew decided (LocalStore.readThroughLock). */
  onLockReadThrough?(): void;
}
