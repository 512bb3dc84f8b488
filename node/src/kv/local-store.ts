// Single-node transactional store: engine + MVCC + deterministic state machine + group commit +
// interactive transactions + GC. Implements KvStore (./api.ts).
//
// Visibility: `appliedTs` advances only after a group's synced write completed, and every read runs at
// a ts <= appliedTs, so no reader sees an unacknowledged (non-durable) write. Reads at an explicit
// snapshot ts above appliedTs first push appliedTs past it (a noop command), so such reads are repeatable.
import { mkdir } from 'node:fs/promises';
import type { Logger } from '../common/logger.js';
import { silentLogger } from '../common/logger.js';
import type { Engine } from '../engine/engine.js';
import { prefixEnd } from '../engine/engine.js';
import { LevelEngine } from '../engine/level-engine.js';
import { MemoryEngine } from '../engine/memory-engine.js';
import { MvccGc } from '../mvcc/gc.js';
import { DATA_END, LATEST_START, dataRange, latestRange } from '../mvcc/keyspace.js';
import { decodeDescriptor, type RangeDescriptor } from '../meta/range-descriptor.js';
import { mvccGet, mvccScan } from '../mvcc/mvcc.js';
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
} from './api.js';
import { HybridClock, tsFromMs, type Clock } from './clock.js';
import { CommitPipeline, type CommandSink } from './commit-pipeline.js';
import { unwrapResult, type Command, type CommandResult, type KeyRange, type ReplicatedSettings, type TxnState } from './commands.js';
import { InvalidArgumentError, KeyLockedError, KeyNotInRangeError, SnapshotTooOldError, StoreClosedError, TxnConflictError } from './errors.js';
import { isTxnStep, TxnSteps, type PrepareRequest } from './txn-steps.js';
import { DEFAULT_SETTINGS, StateMachine } from './state-machine.js';
import { TxnManager } from './txn-manager.js';
import { applyCarriedWrites } from './carried-writes.js';
import { checkCommandSize, commandHeaderBound, mutationsBytes } from './command-size.js';

export interface LocalStoreOptions {
  /** Data directory; undefined = in-memory engine. */
  dir?: string;
  nodeId?: string;
  /** Versions older than this are garbage-collected (unless a transaction still needs them). Default 10 min. */
  gcLifetimeMs?: number;
  /**
   * GC period (default 10 s; 0 disables the timer, runGc() can still be called). While a pass has
   * backlog, bounded steps follow each other with pauses as long as the steps (≤ 50 % duty cycle).
   */
  gcIntervalMs?: number;
  /**
   * Whether this replica proposes GC safe points (default: always). A Raft replica: only while it leads —
   * followers collect garbage below the replicated safe point and would only forward duplicates.
   */
  proposesSafePoint?: () => boolean;
  /**
   * Whether this replica hibernates (a quiesced Raft range): a safe-point proposal would wake it and its
   * followers. Then GC proposes only the one step that reaches the range's last write (once its
   * lifetime has passed), not the intermediate steps: an idle range wakes for GC at most once after
   * its last write, and never when nothing was written since its safe point.
   */
  gcProposerAsleep?: () => boolean;
  /** Max engine entries examined per GC run (default 20 000). */
  gcBatchEntries?: number;
  txnIdleTimeoutMs?: number;
  defaultScanLimit?: number;
  maxScanLimit?: number;
  /**
   * Session TTL to seed into the replicated settings when the group has none yet (a setSettings
   * command with onlyIfUnset, retried in the background until it lands). Apply never reads a node's
   * own flags: two replicas configured differently would answer the same retry differently.
   */
  sessionTtlMs?: number;
  /** TEST ONLY: see TxnManagerOptions.unsafeNoCommitFence. */
  unsafeNoCommitFence?: boolean;
  /** TEST ONLY: see TxnManagerOptions.unsafeStaleSnapshots. */
  unsafeStaleSnapshots?: boolean;
  /** TEST ONLY: see PeerConfig.unsafeNoTermFloor (a Raft host's new terms ignore the ts ceiling). */
  unsafeNoTsFloor?: boolean;
  /**
   * TEST ONLY (negative control of the cross-range atomicity tests): reads ignore the locks of prepared
   * transactions, so a reader can see one range of a transaction committed and another not yet.
   */
  unsafeIgnoreTxnLocks?: boolean;
  /**
   * The smallest start ts of the transactions running anywhere in the cluster (raftstore/raft-node.ts:
   * every store publishes its own in its Raft frames): safe points stay at or below it, so no store
   * collects versions a transaction coordinated elsewhere still reads. Undefined = none known.
   */
  clusterMinStartTs?: () => number | undefined;
  /** TEST ONLY: see StateMachineOptions.unsafeSnapshotIsolation (every replica must agree). */
  unsafeSnapshotIsolation?: boolean;
  logger?: Logger;
  observer?: StoreObserver;
  /** Use this engine instead of opening one (tests, simulations). Closed by close(). */
  engine?: Engine;
  /** fsync every group commit (default true). */
  sync?: boolean;
  /** Proposer clock (tests). */
  clock?: Clock;
  /** How far (ms) a snapshot read may be ahead of the clock (default 500). */
  maxClockAheadMs?: number;
  /**
   * Replaces the group-commit pipeline (e.g. a Raft proposer): gets the state machine, the engine and
   * the callback to call with the new applied ts once a group is applied and durable.
   */
  /**
   * `replaceSm(null)` when a Raft snapshot starts replacing this range's data in the engine, then
   * `replaceSm(next)` once it is in (the state machine reopened over it).
   */
  commandSink?: (sm: StateMachine, engine: Engine, onApplied: (lastTs: number) => void, replaceSm: (sm: StateMachine | null) => void) => CommandSink;
  /** Replication group whose local state (meta, sessions) the store's state machine owns (default 0). */
  groupId?: number;
  /**
   * Linearizable read barrier (Raft ReadIndex): awaited before every non-transactional current read and
   * before a transaction takes its start ts; resolves once the local applied state is at least as new as
   * the leader's commit index at the time of the call.
   */
  readBarrier?: () => Promise<void>;
  /**
   * The Raft leader's timestamp promise (Peer.promiseTs): a snapshot read above the applied ts and at
   * most the range's ceiling is made repeatable without a Raft round. Undefined when it cannot promise.
   */
  promiseTs?: (ts: number) => Promise<boolean> | undefined;
  /**
   * The outcome of a prepared transaction this store already knows to be decided, without a Raft
   * command (raftstore/range-kv-store.ts knownTxnOutcome: a commit its coordinator queued here, or the
   * decided record in a local replica of its primary's range); undefined when not known. A read that
   * meets such a transaction's write lock reads through it instead of settling it first.
   */
  knownTxnOutcome?: (txnId: string, primary: Buffer) => { state: 'committed' | 'aborted'; ts: number } | undefined;
  /** How far (ms) above a promised snapshot the range's ceiling is set when extended (default 250). */
  tsCeilingAheadMs?: number;
  /**
   * Largest encoded command (common/raft-limits.ts: what one Raft entry can carry to followers). Batches
   * and transaction commits above it are refused with CommandTooLargeError; undefined = unbounded.
   */
  maxCommandBytes?: number;
  /**
   * DeleteRange deletes at most this many keys per command (default 1000): a range of millions of keys
   * becomes many small commands instead of one apply holding every key (issue 10 item 4).
   */
  deleteRangeChunkKeys?: number;
}

function validKey(key: unknown, what = 'key'): void {
  if (!Buffer.isBuffer(key)) throw new InvalidArgumentError(`${what} must be a Buffer`);
  if (key.length === 0) throw new InvalidArgumentError(`${what} must not be empty`);
}

function validateSession(s: Session | undefined): Session | undefined {
  if (s === undefined || s === null) return undefined;
  if (!s.clientId || s.seq === 0) return undefined; // proto defaults: no dedup
  if (!Number.isSafeInteger(s.seq) || s.seq < 1) throw new InvalidArgumentError('session seq must be a positive integer');
  const firstUnacked = s.firstUnacked === 0 ? 1 : s.firstUnacked;
  if (!Number.isSafeInteger(firstUnacked) || firstUnacked < 1 || firstUnacked > s.seq) throw new InvalidArgumentError('session first_unacked must be in [1, seq]');
  return { clientId: s.clientId, seq: s.seq, firstUnacked };
}

function opt(b: Buffer | undefined): Buffer | undefined {
  return b !== undefined && b !== null && b.length > 0 ? b : undefined;
}

export class LocalStore implements KvStore {
  private appliedTs: number;
  /** The highest version readable here now (every read without an explicit snapshot runs at it). */
  get readableTs(): number {
    return this.appliedTs;
  }
  private closed = false;
  private gcTimer: NodeJS.Timeout | undefined;
  private gcRunning: Promise<void> | undefined;
  /** The current GC pass has not reached the end of the key space yet. */
  private gcBacklog = false;
  private readonly gc: MvccGc;
  private readonly txns: TxnManager;
  private readonly pipeline: CommandSink;
  private readonly defaultScanLimit: number;
  private readonly maxScanLimit: number;
  private readonly gcLifetimeMs: number;
  /** `${safePoint}/${lastWriteTs}` of the last completed GC pass (an idle range skips the next scans). */
  private gcPassDone = '';
  /** The range's last write ts when this replica last proposed a safe point (idle detection). */
  private spProposedAtWriteTs = -1;
  private readonly maxAheadTs: number;
  private readonly ceilingAheadTs: number;
  /** A background ceiling extension in flight. */
  private extending = false;
  readonly log: Logger;
  readonly nodeId: string;

  private constructor(
    readonly engine: Engine,
    public sm: StateMachine,
    private readonly clock: Clock,
    private readonly opts: LocalStoreOptions,
  ) {
    this.log = opts.logger ?? silentLogger();
    this.nodeId = opts.nodeId ?? 'local';
    this.appliedTs = sm.lastTs;
    clock.observe(sm.lastTs);
    this.defaultScanLimit = opts.defaultScanLimit ?? 1000;
    this.maxScanLimit = opts.maxScanLimit ?? 10_000;
    this.gcLifetimeMs = opts.gcLifetimeMs ?? 600_000;
    this.maxAheadTs = tsFromMs(opts.maxClockAheadMs ?? 500);
    this.ceilingAheadTs = tsFromMs(opts.tsCeilingAheadMs ?? 250);
    const onApplied = (lastTs: number): void => {
      if (lastTs > this.appliedTs) this.appliedTs = lastTs;
      this.sm.locks.published(lastTs);
      this.wakeAppliedWaiters();
    };
    const replaceSm = (next: StateMachine | null): void => {
      // Reads that overlap a replacement of the range's data (a snapshot import is several engine
      // writes, and a read is several engine calls) may see part of it: they check the epoch after.
      this.dataEpoch++;
      this.replacing = next === null;
      if (next === null) return;
      // A Raft snapshot was installed: the state machine was reopened from the engine.
      this.sm = next;
      next.locks.published(next.lastTs);
      if (next.lastTs > this.appliedTs) this.appliedTs = next.lastTs;
      this.wakeAppliedWaiters();
      clock.observe(next.lastTs);
    };
    this.pipeline =
      opts.commandSink?.(sm, engine, onApplied, replaceSm) ??
      new CommitPipeline(sm, engine, { sync: opts.sync ?? true, observer: opts.observer, logger: this.log, onApplied });
    this.gc = new MvccGc(engine, {
      maxEntries: opts.gcBatchEntries,
      exclusive: (fn) => this.pipeline.runExclusive(fn),
      span: () => ({ start: this.sm.descriptor.start, end: this.sm.descriptor.end }),
    });
    this.txns = new TxnManager(
      {
        appliedTs: () => this.appliedTs,
        readAt: (key, ts) => {
          this.checkReadLock(key, ts);
          return this.stableRead(() => mvccGet(this.engine, key, ts), true);
        },
        scanAt: (o) => {
          this.checkScanLocks(o.start, o.end, o.readTs);
          return this.stableRead(() => mvccScan(this.engine, o), true);
        },
        readTsNow: () => this.readTs(undefined),
        submit: (cmd) => this.pipeline.submit(cmd),
        now: () => this.clock.now(),
      },
      { idleTimeoutMs: opts.txnIdleTimeoutMs, observer: opts.observer, unsafeNoCommitFence: opts.unsafeNoCommitFence === true, unsafeStaleSnapshots: opts.unsafeStaleSnapshots === true, maxCommandBytes: opts.maxCommandBytes },
    );
    const interval = opts.gcIntervalMs ?? 10_000;
    if (interval > 0) this.scheduleGc(interval, interval);
    if (opts.sessionTtlMs !== undefined) this.seedSettings({ sessionTtlMs: opts.sessionTtlMs });
  }

  /** The replicated settings in force (DEFAULT_SETTINGS until a setSettings command applied). */
  get settings(): Readonly<ReplicatedSettings> {
    return this.sm.settings;
  }

  /** Changes the replicated settings (every replica applies them at the same log position). */
  async setSettings(change: Partial<ReplicatedSettings>): Promise<ReplicatedSettings> {
    this.check();
    const settings = { ...this.sm.settings, ...change };
    unwrapResult(await this.submit({ type: 'setSettings', proposedTs: this.clock.now(), settings, onlyIfUnset: false }), 'ok');
    return { ...this.sm.settings };
  }

  /**
   * Seeds this node's configured settings into a group that has none (first one wins). Retries in the
   * background (no leader yet at startup) until it lands or the store closes.
   */
  private seedSettings(seed: Partial<ReplicatedSettings>): void {
    const attempt = (): void => {
      if (this.closed) return;
      if (this.sm.settingsStored) {
        this.warnIfSeedIgnored(seed);
        return;
      }
      const settings = { ...DEFAULT_SETTINGS, ...seed };
      this.submit({ type: 'setSettings', proposedTs: this.clock.now(), settings, onlyIfUnset: true }).then(
        (r) => {
          if (r.type === 'error') this.log.error('configured settings refused', { code: r.code, message: r.message });
          else this.warnIfSeedIgnored(seed);
        },
        () => {
          const t = setTimeout(attempt, 500);
          t.unref();
        },
      );
    };
    queueMicrotask(attempt);
  }

  private warnIfSeedIgnored(seed: Partial<ReplicatedSettings>): void {
    const cur = this.sm.settings;
    for (const k of Object.keys(seed) as (keyof ReplicatedSettings)[]) {
      if (seed[k] !== cur[k]) this.log.warn('cluster setting differs from this node\'s flag; the replicated value is in force (change it with `kvsctl settings set`)', { setting: k, flag: seed[k], replicated: cur[k] });
    }
  }

  static async open(opts: LocalStoreOptions = {}): Promise<LocalStore> {
    let engine = opts.engine;
    if (engine === undefined) {
      if (opts.dir !== undefined) {
        await mkdir(opts.dir, { recursive: true });
        engine = await LevelEngine.open(opts.dir);
      } else engine = new MemoryEngine();
    }
    let sm: StateMachine;
    try {
      sm = await StateMachine.open(engine, { groupId: opts.groupId, unsafeSnapshotIsolation: opts.unsafeSnapshotIsolation === true, logger: opts.logger });
    } catch (e) {
      await engine.close().catch(() => undefined);
      throw e;
    }
    const store = new LocalStore(engine, sm, opts.clock ?? new HybridClock(), opts);
    store.log.info('store opened', { dir: opts.dir ?? (opts.engine !== undefined ? '(given engine)' : '(memory)'), groupId: opts.groupId ?? 0, appliedTs: sm.lastTs, safePoint: sm.safePoint, sessions: sm.sessionCount });
    return store;
  }

  private check(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /** Submits one command through group commit. */
  private submit(cmd: Command): Promise<CommandResult> {
    return this.pipeline.submit(cmd);
  }

  private base(session: Session | undefined): { proposedTs: number; session?: Session } {
    const s = validateSession(session);
    const proposedTs = this.clock.now();
    return s === undefined ? { proposedTs } : { proposedTs, session: s };
  }

  private checkSafePoint(ts: number): void {
    if (ts < this.sm.safePoint) throw new SnapshotTooOldError(ts, this.sm.safePoint);
  }

  /**
   * A read at `ts` must not pass a prepared transaction's write lock with prepTs <= ts: its commit ts
   * may be <= ts. The caller (raftstore/range-kv-store.ts) resolves the lock and retries.
   */
  private checkReadLock(key: Buffer, ts: number): void {
    if (this.sm.locks.size === 0 || this.opts.unsafeIgnoreTxnLocks === true) return;
    const l = this.sm.locks.readerBlocker(key, ts);
    if (l !== undefined) throw new KeyLockedError(key, l);
  }

  /**
   * checkReadLock for a get, reading through the write lock of a transaction this store knows decided
   * (knownTxnOutcome) instead of refusing: committed at or below `ts`, the lock's own write is the value
   * at `ts` (a key holds one write lock, and it kept every other writer out since its prepare, which was
   * above the key's last version); aborted, the lock is invisible and the stored versions answer. So is
   * one committed above `ts` — for a snapshot read only: a current read (`latest`, at the applied ts)
   * must see every write acknowledged before it, and a transaction's commit ts may exceed this range's
   * applied ts (it is the largest prepare ts of all its ranges), so such a read settles the lock first,
   * as before, and reads again above it. The lock itself is left for its commit or a resolver to settle
   * (TiKV's reads skip a lock whose transaction they know committed the same way).
   */
  private readThroughLock(key: Buffer, ts: number, latest: boolean): GetResult | undefined {
    if (this.sm.locks.size === 0 || this.opts.unsafeIgnoreTxnLocks === true) return undefined;
    const l = this.sm.locks.readerBlocker(key, ts);
    if (l === undefined) return undefined;
    const known = l.mutation !== undefined ? this.opts.knownTxnOutcome?.(l.txnId, l.primary) : undefined;
    if (known === undefined || (latest && known.state === 'committed' && known.ts > ts)) throw new KeyLockedError(key, l);
    // (A second blocker would be a lock retired by a batch not yet published: it is settled as before.)
    const other = this.sm.locks.readerBlocker(key, ts, l.txnId);
    if (other !== undefined) throw new KeyLockedError(key, other);
    this.opts.observer?.onLockReadThrough?.();
    if (known.state === 'aborted' || known.ts > ts) return undefined;
    const m = l.mutation!;
    return m.op === 'put' ? { found: true, value: m.value, version: known.ts, readTs: ts } : { found: false, version: 0, readTs: ts };
  }

  private checkScanLocks(start: Buffer | undefined, end: Buffer | undefined, ts: number): void {
    if (this.sm.locks.size === 0 || this.opts.unsafeIgnoreTxnLocks === true) return;
    const l = this.sm.locks.scanBlocker(start, end, ts);
    if (l !== undefined) throw new KeyLockedError(l.key, l);
  }

  // ---- cross-range transactions (raftstore/txn-coordinator.ts drives them; kv/txn-locks.ts) ----

  /** The transaction steps on this replica's range (kv/txn-steps.ts). */
  private stepsCache: TxnSteps | undefined;
  get steps(): TxnSteps {
    this.stepsCache ??= new TxnSteps(
      this.sm.descriptor.rangeId,
      (cmd) => {
        this.check();
        return this.submit(cmd);
      },
      () => this.clock.now(),
      (cmd, p) => checkCommandSize(cmd, commandHeaderBound(cmd) + mutationsBytes(p.writes) + p.readKeys.reduce((n, k) => n + k.length + 5, 0), this.opts.maxCommandBytes, 'writes', `prepare of ${p.writes.length} writes`),
    );
    return this.stepsCache;
  }

  prepareTxn(p: PrepareRequest): Promise<number> {
    return this.steps.prepareTxn(p);
  }
  commitTxnLocks(txnId: string, commitTs: number, opts: { primary?: Buffer; session?: Session } = {}): Promise<{ commitTs: number; txnId: string }> {
    const session = validateSession(opts.session);
    return this.steps.commitTxnLocks(txnId, commitTs, { ...(opts.primary !== undefined ? { primary: opts.primary } : {}), ...(session !== undefined ? { session } : {}) });
  }
  rollbackTxnLocks(txnId: string, primary?: Buffer): Promise<'aborted' | 'committed'> {
    return this.steps.rollbackTxnLocks(txnId, primary);
  }
  checkTxn(txnId: string, primary: Buffer, lockExpiresTs?: number): Promise<{ state: TxnState; ts: number }> {
    return this.steps.checkTxn(txnId, primary, lockExpiresTs);
  }

  /**
   * A step a remote coordinator sends to this range (raftstore/txn-rpc.ts): submitted as it came, its
   * result returned as is (an error result included). Only transaction steps are accepted.
   */
  async submitTxnStep(cmd: Command): Promise<CommandResult> {
    this.check();
    if (!isTxnStep(cmd)) throw new InvalidArgumentError(`${cmd.type} is not a transaction step`);
    return this.submit({ ...cmd, proposedTs: Math.max(cmd.proposedTs, this.clock.now()) });
  }

  /** The ts a linearizable read runs at now (after the read barrier): a remote transaction's snapshot. */
  async linearizableReadTs(): Promise<number> {
    this.check();
    return this.readTs(undefined);
  }

  /** A transaction on this range at a given snapshot (the part of a cross-range transaction here). */
  async beginAt(startTs: number, opts: BeginOptions = {}): Promise<{ txnId: string; startTs: number }> {
    this.check();
    // A read-only transaction's snapshot came from another range: what this range had applied by now
    // bounds the writes here the snapshot may have missed (the uncertainty limit, TxnManager.certainRead).
    // A read-write one needs no limit: its commit validates every read against newer versions.
    const limitTs = opts.readOnly === true && this.opts.unsafeStaleSnapshots !== true ? await this.readTs(undefined) : undefined;
    // Reads at startTs must be repeatable here: push this range's applied ts past it if needed.
    const ts = await this.readTs(startTs);
    return this.txns.begin(opts, ts, limitTs);
  }

  /**
   * A part of a transaction whose snapshot another node fixed and whose reads ran elsewhere (direct reads,
   * each made repeatable where it ran): registered at `startTs` without raising this range — its commit
   * validates the reported keys at apply. A read through the part first calls `makeRepeatable`.
   */
  async joinAt(startTs: number, opts: BeginOptions = {}): Promise<{ txnId: string; startTs: number }> {
    this.check();
    if (startTs < this.sm.safePoint) throw new SnapshotTooOldError(startTs, this.sm.safePoint);
    return this.txns.begin(opts, startTs);
  }

  /** Reads at `ts` here are repeatable from now on (the leader's promise, or a noop at it). */
  async makeRepeatable(ts: number): Promise<void> {
    await this.readTs(ts);
  }

  /** Keys read at the transaction's snapshot outside it (TxnManager.noteReads). */
  noteReads(txnId: string, keys: readonly Buffer[]): void {
    this.txns.noteReads(txnId, keys);
  }

  /** The read set and writes of a transaction on this range (its part of a cross-range commit). */
  txnSets(txnId: string): { startTs: number; readKeys: Buffer[]; readRanges: KeyRange[]; writes: Mutation[] } {
    return this.txns.sets(txnId);
  }

  txnTouched(txnId: string): boolean {
    return this.txns.touched(txnId);
  }

  /** Buffered writes of a transaction on this range (0 when unknown or finished). */
  txnWrites(txnId: string): number {
    return this.txns.writeCount(txnId);
  }

  /** Readers waiting for the applied (written and published) ts to reach theirs. */
  private appliedWaiters: Array<{ ts: number; resolve: () => void }> = [];

  private wakeAppliedWaiters(): void {
    if (this.appliedWaiters.length === 0) return;
    const ready = this.appliedWaiters.filter((w) => w.ts <= this.appliedTs || this.closed);
    if (ready.length === 0) return;
    this.appliedWaiters = this.appliedWaiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  /** Resolves once everything applied here up to `ts` is written and readable (a local wait, no Raft round). */
  private waitApplied(ts: number): Promise<void> {
    if (this.appliedTs >= ts || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.appliedWaiters.push({ ts, resolve }));
  }

  /** The raise in flight (a noop proposed at `ts`): concurrent readers at or below it share its round. */
  private raising: { ts: number; done: Promise<void> } | undefined;

  /**
   * Makes every later version here exceed `ts` and every earlier one readable: a noop proposed at `ts`
   * (the max-ts rule). Snapshots at or below a noop already in flight wait for that one instead of
   * proposing their own — under load, one Raft round per range serves many joining transactions.
   */
  private raiseTo(ts: number): Promise<void> {
    const cur = this.raising;
    if (cur !== undefined && cur.ts >= ts) return cur.done;
    this.opts.observer?.onSnapshotRaise?.();
    const done = (async () => {
      // Where promises exist, the raise also lifts the ceiling: the next snapshots up to it need no round.
      const cmd: Command = this.opts.promiseTs !== undefined ? { type: 'noop', proposedTs: ts, ceiling: this.nextCeiling(ts) } : { type: 'noop', proposedTs: ts };
      const noop = unwrapResult(await this.submit(cmd), 'ok');
      // A replicated sink resolves a command (on this replica, which applied it) before its apply batch
      // is in the engine: wait here until that batch — and with it every entry before the noop in the
      // log, every write with a version below ts — is written. No second Raft round is needed: anything
      // committed after the noop gets a version above it.
      await this.waitApplied(noop.ts);
    })();
    const entry = { ts, done };
    this.raising = entry;
    const clear = (): void => {
      if (this.raising === entry) this.raising = undefined;
    };
    done.then(clear, clear);
    return done;
  }

  /**
   * The leader's promise for a snapshot at most the ceiling (undefined: not possible here). A snapshot in
   * the ceiling's upper half extends it in the background, so a steady stream of snapshots near the
   * clock never waits for a Raft round.
   */
  private promise(ts: number): Promise<boolean> | undefined {
    const hook = this.opts.promiseTs;
    const ceiling = this.sm.tsCeiling;
    if (hook === undefined || ts > ceiling) return undefined;
    const p = hook(ts);
    if (p === undefined) return undefined;
    if (ts + this.ceilingAheadTs / 2 > ceiling && !this.extending) {
      this.extending = true;
      this.submit({ type: 'noop', proposedTs: ts, ceiling: this.nextCeiling(ts) }).then(
        () => (this.extending = false),
        (e: unknown) => {
          this.extending = false;
          this.log.debug('timestamp ceiling not extended', { err: e instanceof Error ? e.message : String(e) });
        },
      );
    }
    return p;
  }

  /**
   * A new ceiling covering a snapshot at `ts`: this node's clock plus the margin, not the snapshot plus
   * it — a new term's writes land at the ceiling, and a snapshot ahead of the clock (a token from such
   * writes) must not push the next ceiling further ahead each time (a chain of leader changes would
   * carry timestamps past what other nodes accept as a snapshot, maxClockAheadMs).
   */
  private nextCeiling(ts: number): number {
    return Math.max(ts, this.clock.now() + this.ceilingAheadTs);
  }

  /** The ts a non-transactional read runs at; throws for snapshots below the safe point. */
  private async readTs(snapshotTs: number | undefined): Promise<number> {
    if (snapshotTs === undefined || snapshotTs === 0) {
      if (this.opts.readBarrier !== undefined) await this.opts.readBarrier();
      return this.appliedTs;
    }
    if (!Number.isSafeInteger(snapshotTs) || snapshotTs < 0) throw new InvalidArgumentError('snapshot_ts must be a non-negative integer');
    if (snapshotTs < this.sm.safePoint) throw new SnapshotTooOldError(snapshotTs, this.sm.safePoint);
    if (snapshotTs > this.appliedTs) {
      const now = this.clock.now();
      if (snapshotTs > now + this.maxAheadTs) throw new InvalidArgumentError(`snapshot_ts ${snapshotTs} is in the future`);
      // Later writes must get higher versions (the read is repeatable): the leader's promise, else a
      // noop at the snapshot through the log.
      const promised = this.promise(snapshotTs);
      if (promised === undefined || !(await promised)) await this.raiseTo(snapshotTs);
      else this.opts.observer?.onTsPromise?.();
      this.check();
      if (snapshotTs < this.sm.safePoint) throw new SnapshotTooOldError(snapshotTs, this.sm.safePoint);
    }
    return snapshotTs;
  }

  async get(key: Buffer, opts: ReadOptions = {}): Promise<GetResult> {
    this.check();
    validKey(key);
    if (opts.txnId) return this.txns.get(opts.txnId, key);
    const ts = await this.readTs(opts.snapshotTs);
    this.checkSafePoint(ts); // synchronously before the read's iterator (its engine snapshot) is created
    const through = this.readThroughLock(key, ts, opts.snapshotTs === undefined || opts.snapshotTs === 0);
    if (through !== undefined) return through;
    const r = await this.stableRead(() => mvccGet(this.engine, key, ts), false);
    return r === undefined ? { found: false, version: 0, readTs: ts } : { found: true, value: r.value, version: r.version, readTs: ts };
  }

  /** Bumped when a Raft snapshot starts and ends replacing this range's data (see replaceSm). */
  private dataEpoch = 0;
  private replacing = false;

  /**
   * Runs an engine read and refuses its answer if the range's data was being replaced by a Raft
   * snapshot at any point of it (partial data: an existing key could read as absent). Retryable: a
   * transaction's read fails the transaction as a conflict (nothing committed; the helper re-runs it),
   * a plain read is refused like a routing miss (the client retries).
   */
  private async stableRead<T>(read: () => Promise<T>, txn: boolean): Promise<T> {
    const epoch = this.dataEpoch;
    if (!this.replacing) {
      const r = await read();
      if (this.dataEpoch === epoch && !this.closed) return r;
    }
    this.check();
    const why = `range ${this.sm.descriptor.rangeId} was replaced by a Raft snapshot during the read; retry`;
    if (txn) throw new TxnConflictError(Buffer.alloc(0), 0, `${why} the transaction`);
    throw new KeyNotInRangeError(this.sm.descriptor.rangeId, why);
  }

  async put(key: Buffer, value: Buffer, opts: PutOptions = {}): Promise<PutResult> {
    this.check();
    validKey(key);
    if (!Buffer.isBuffer(value)) throw new InvalidArgumentError('value must be bytes');
    if (opts.txnId) return this.txns.put(opts.txnId, key, value, opts);
    const cmd: Command = { type: 'put', ...this.base(opts.session), key, value };
    if (opts.expectedValue !== undefined && opts.expectedValue !== null) cmd.expectedValue = opts.expectedValue;
    if (opts.expectAbsent) cmd.expectAbsent = true;
    if (opts.returnPrev) cmd.returnPrev = true;
    const r = unwrapResult(await this.submit(cmd), 'put');
    const out: PutResult = { version: r.version, succeeded: r.succeeded, prevFound: r.prevFound };
    if (r.prevValue !== undefined) out.prevValue = r.prevValue;
    return out;
  }

  async delete(key: Buffer, opts: { session?: Session; txnId?: string } = {}): Promise<DeleteResult> {
    this.check();
    validKey(key);
    if (opts.txnId) return this.txns.delete(opts.txnId, key);
    const r = unwrapResult(await this.submit({ type: 'delete', ...this.base(opts.session), key }), 'delete');
    return { deleted: r.deleted, version: r.version };
  }

  private range(r: { start?: Buffer; end?: Buffer; prefix?: Buffer }): { start?: Buffer; end?: Buffer } {
    const prefix = opt(r.prefix);
    if (prefix !== undefined) {
      if (opt(r.start) !== undefined || opt(r.end) !== undefined) throw new InvalidArgumentError('prefix and start/end are mutually exclusive');
      return { start: prefix, end: prefixEnd(prefix) };
    }
    return { start: opt(r.start), end: opt(r.end) };
  }

  async deleteRange(range: { start?: Buffer; end?: Buffer; prefix?: Buffer }, opts: { session?: Session } = {}): Promise<{ deleted: number; version: number }> {
    this.check();
    const { start, end } = this.range(range);
    const session = validateSession(opts.session);
    const maxKeys = this.opts.deleteRangeChunkKeys ?? 1000;
    // Chunk after chunk until the state machine says the range is done. With a session, every chunk
    // carries the request's (client, seq): the stored result is the progress, so a retry of the request
    // (here or on another node) continues from it, and a retry after the end gets the final result.
    let r: Extract<CommandResult, { type: 'deleteRange' }> | undefined;
    do {
      const cmd: Command = { type: 'deleteRange', ...this.base(session), maxKeys, deletedBefore: r?.deleted ?? 0 };
      if (start !== undefined) cmd.start = start;
      if (end !== undefined) cmd.end = end;
      if (r?.resume !== undefined) cmd.resume = r.resume;
      r = unwrapResult(await this.submit(cmd), 'deleteRange');
    } while (r.resume !== undefined);
    return { deleted: r.deleted, version: r.version };
  }

  async scan(opts: ScanOptions): Promise<ScanResult> {
    this.check();
    const { start, end } = this.range(opts);
    let limit = opts.limit ?? 0;
    if (!Number.isInteger(limit) || limit < 0) throw new InvalidArgumentError('limit must be a non-negative integer');
    if (limit === 0) limit = this.defaultScanLimit;
    limit = Math.min(limit, this.maxScanLimit);
    if (start !== undefined && end !== undefined && Buffer.compare(start, end) >= 0) {
      return { kvs: [], more: false, readTs: opts.txnId ? this.txns.startTs(opts.txnId) : this.appliedTs };
    }
    const so = { start, end, limit, reverse: opts.reverse === true, keysOnly: opts.keysOnly === true };
    if (opts.txnId) return this.txns.scan(opts.txnId, so);
    const readTs = await this.readTs(opts.snapshotTs);
    this.checkSafePoint(readTs);
    this.checkScanLocks(start, end, readTs);
    const r = await this.stableRead(() => mvccScan(this.engine, { ...so, readTs }), false);
    return { kvs: r.kvs, more: r.more, readTs };
  }

  async batch(mutations: Mutation[], opts: { session?: Session } = {}): Promise<{ version: number }> {
    this.check();
    if (!Array.isArray(mutations)) throw new InvalidArgumentError('mutations must be an array');
    for (const m of mutations) {
      validKey(m.key, 'mutation key');
      if (m.op !== 'put' && m.op !== 'delete') throw new InvalidArgumentError('mutation op must be put or delete');
      if (m.op === 'put' && !Buffer.isBuffer(m.value)) throw new InvalidArgumentError('mutation value must be bytes');
    }
    const cmd: Command = { type: 'batch', ...this.base(opts.session), mutations };
    checkCommandSize(cmd, commandHeaderBound(cmd) + mutationsBytes(mutations), this.opts.maxCommandBytes, 'mutations', `batch of ${mutations.length} mutations`);
    const r = unwrapResult(await this.submit(cmd), 'batch');
    return { version: r.version };
  }

  async begin(opts: BeginOptions = {}): Promise<{ txnId: string; startTs: number }> {
    this.check();
    if (this.opts.readBarrier !== undefined) await this.opts.readBarrier();
    // A causality token above what is applied here: the snapshot goes up to it (raised like any read).
    if (opts.minStartTs !== undefined && opts.minStartTs > this.appliedTs) return this.beginAt(opts.minStartTs, opts);
    return this.txns.begin(opts);
  }

  async commit(txnId: string, opts: { session?: Session; writes?: readonly Mutation[]; readKeys?: readonly Buffer[] } = {}): Promise<{ commitTs: number }> {
    this.check();
    // Keys read outside the transaction (direct reads; this store never offers them at Begin, but a read
    // reported is a read to validate): into the read set while it is open.
    if (opts.readKeys !== undefined && opts.readKeys.length > 0 && this.txns.isOpen(txnId)) this.txns.noteReads(txnId, opts.readKeys);
    // A transaction committing, in doubt or finished refuses writes (TXN_NOT_FOUND): those leave it to the
    // commit below. Its commit starts synchronously after the writes, so "started" is "no longer open".
    if (opts.writes !== undefined && opts.writes.length > 0) {
      await applyCarriedWrites(this, txnId, opts.writes, { commitStarted: () => !this.txns.isOpen(txnId), abort: () => this.txns.rollback(txnId) });
    }
    return this.txns.commit(txnId, validateSession(opts.session));
  }

  async rollback(txnId: string): Promise<void> {
    this.check();
    this.txns.rollback(txnId);
  }

  async status(): Promise<StoreStatus> {
    this.check();
    return {
      appliedTs: this.appliedTs,
      safePoint: this.sm.safePoint,
      approximateBytes: await this.approximateBytes(),
      activeTxns: this.txns.activeCount,
    };
  }

  /**
   * Latest records + history of every range in this store's engine (shared by all ranges of a node):
   * one size estimate for the node's status instead of two per range (thousands of ranges per store).
   */
  engineDataBytes(): Promise<number> {
    return this.engine.approximateSize(LATEST_START, DATA_END);
  }

  /** The smallest start ts of the transactions open on this replica (its GC pin), if any. */
  get minTxnStartTs(): number | undefined {
    return this.txns.minStartTs();
  }

  /** The appliedTs / safePoint / activeTxns part of status() (no size estimate). */
  get counters(): { appliedTs: number; safePoint: number; activeTxns: number } {
    return { appliedTs: this.appliedTs, safePoint: this.sm.safePoint, activeTxns: this.txns.activeCount };
  }

  /** Latest records + history of this store's range (the whole key space for an unsplit store). */
  async approximateBytes(): Promise<number> {
    const d = this.sm.descriptor;
    if (d.start.length === 0 && d.end.length === 0) return this.engine.approximateSize(LATEST_START, DATA_END);
    const l = latestRange(d.start, d.end);
    const z = dataRange(d.start, d.end);
    const [a, b] = await Promise.all([this.engine.approximateSize(l.start, l.end), this.engine.approximateSize(z.start, z.end)]);
    return a + b;
  }

  /** The range this store serves (descriptor of its group). */
  get descriptor(): Readonly<RangeDescriptor> {
    return this.sm.descriptor;
  }

  /** Whether a transaction is still open here (the range router drops its route when not). */
  hasTxn(txnId: string): boolean {
    return this.txns.has(txnId);
  }

  /**
   * Splits this store's range at `splitKey` (one replicated command; docs/sharding.md "Splits"). The
   * right half becomes range `newRangeId`. Fails with EPOCH_NOT_MATCH if the range changed since
   * `expectVersion`, INVALID_ARGUMENT if the key is not strictly inside the range.
   */
  async split(splitKey: Buffer, newRangeId: number, expectVersion: number): Promise<{ left: RangeDescriptor; right: RangeDescriptor }> {
    this.check();
    validKey(splitKey, 'split key');
    const r = unwrapResult(await this.submit({ type: 'split', proposedTs: this.clock.now(), splitKey, newRangeId, expectVersion }), 'split');
    return { left: decodeDescriptor(r.left), right: decodeDescriptor(r.right) };
  }

  private scheduleGc(delayMs: number, interval: number): void {
    if (this.closed) return;
    this.gcTimer = setTimeout(() => {
      const t0 = performance.now();
      this.runGc()
        .catch((e: unknown) => {
          if (!this.closed) this.log.warn('gc run failed', { err: String(e) });
        })
        .finally(() => {
          const took = performance.now() - t0;
          this.scheduleGc(this.gcBacklog ? Math.min(Math.max(took, 5), interval) : interval, interval);
        });
    }, delayMs);
    this.gcTimer.unref();
  }

  /** The safe point GC may advance to now: lifetime ago, but never past a registered transaction. */
  computeSafePoint(): number {
    let sp = Math.min(tsFromMs(Date.now() - this.gcLifetimeMs), this.appliedTs, this.sm.lastWriteTs);
    const minTxn = this.txns.minStartTs();
    if (minTxn !== undefined) sp = Math.min(sp, minTxn);
    const cluster = this.opts.clusterMinStartTs?.();
    if (cluster !== undefined) sp = Math.min(sp, cluster);
    return sp;
  }

  /**
   * One GC step: raise the replicated safe point (a command) if it moved, then remove garbage versions
   * below it, bounded work. Returns the number of removed versions.
   */
  /**
   * The safe point a GC step would propose now, or undefined: none (not the proposer, nothing moved
   * enough, or a hibernating range whose step would not reach its last write).
   */
  private safePointToPropose(sp: number): number | undefined {
    if (sp <= this.sm.safePoint || this.opts.proposesSafePoint?.() === false) return undefined;
    // A hibernating range: only the one step that reaches its last write (nothing below it is written
    // any more, so one proposal collects everything; a wake per intermediate step would not).
    if (this.opts.gcProposerAsleep?.() === true) return sp === this.sm.lastWriteTs ? sp : undefined;
    // Replicate a new safe point when it moved noticeably: one small command.
    // Without writes since our last proposal, the safe point moves in big steps only (half a lifetime).
    const idle = this.sm.lastWriteTs === this.spProposedAtWriteTs;
    const step = idle ? tsFromMs(this.gcLifetimeMs / 2) : !this.gcBacklog ? 1 : tsFromMs(1000);
    return sp - this.sm.safePoint >= step || sp === this.sm.lastWriteTs ? sp : undefined;
  }

  /** The safe point GC may advance to now, bounded by open transactions and what is applied. */
  private gcTarget(): number {
    let sp = this.computeSafePoint();
    const minTxn = this.txns.minStartTs();
    if (minTxn !== undefined) sp = Math.min(sp, minTxn);
    return Math.min(sp, this.appliedTs);
  }

  /**
   * What a GC step would do now (cheap, synchronous: the store-wide GC pass asks every range and runs
   * only those with work): a safe point to propose, and/or a local scan owed (a new safe point, writes
   * since the last completed pass, or a pass not finished).
   */
  gcPlan(): { propose: number | undefined; scan: boolean; wakes: boolean } {
    if (this.closed) return { propose: undefined, scan: false, wakes: false };
    const propose = this.safePointToPropose(this.gcTarget());
    const scan = this.sm.safePoint > 0 && (this.gcBacklog || `${this.sm.safePoint}/${this.sm.lastWriteTs}` !== this.gcPassDone);
    return { propose, scan, wakes: propose !== undefined && this.opts.gcProposerAsleep?.() === true };
  }

  async runGc(opts: { safePoint?: number; maxEntries?: number } = {}): Promise<number> {
    this.check();
    while (this.gcRunning !== undefined) await this.gcRunning;
    let removed = 0;
    const run = (async () => {
      const t0 = process.hrtime.bigint();
      let sp = opts.safePoint ?? this.computeSafePoint();
      const minTxn = this.txns.minStartTs();
      if (minTxn !== undefined) sp = Math.min(sp, minTxn);
      sp = Math.min(sp, this.appliedTs);
      const propose = opts.safePoint !== undefined ? (sp > this.sm.safePoint ? sp : undefined) : this.safePointToPropose(sp);
      if (propose !== undefined) {
        this.spProposedAtWriteTs = this.sm.lastWriteTs;
        unwrapResult(await this.submit({ type: 'setSafePoint', proposedTs: this.clock.now(), safePoint: propose }), 'ok');
      }
      // A completed pass at this safe point with no write since has nothing left to find: an idle range's
      // GC step costs no engine scan (thousands of idle ranges per store).
      const passKey = `${this.sm.safePoint}/${this.sm.lastWriteTs}`;
      if (this.sm.safePoint > 0 && (this.gcBacklog || passKey !== this.gcPassDone || opts.maxEntries !== undefined)) {
        const r = await this.gc.run(this.sm.safePoint, opts.maxEntries);
        removed = r.removed;
        this.gcBacklog = !r.completedPass;
        if (r.completedPass) this.gcPassDone = passKey;
      }
      this.opts.observer?.onGcRun?.(removed, Number(process.hrtime.bigint() - t0) / 1e9);
    })();
    this.gcRunning = run.finally(() => {
      this.gcRunning = undefined;
    });
    await this.gcRunning;
    return removed;
  }

  /** The last GC step left part of its pass for the next one (the store-wide pass comes back soon). */
  get gcBacklogged(): boolean {
    return this.gcBacklog;
  }

  /** Number of synced group writes and commands so far (tests, diagnostics). */
  get commitStats(): { groups: number; commands: number } {
    const p = this.pipeline instanceof CommitPipeline ? this.pipeline : undefined;
    return { groups: p?.groups ?? 0, commands: p?.commands ?? 0 };
  }

  /** Closes the store; `keepEngine` when the engine is shared with other ranges' stores (their owner closes it). */
  async close(opts: { keepEngine?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.gcTimer !== undefined) clearTimeout(this.gcTimer);
    this.wakeAppliedWaiters();
    this.txns.close();
    await this.pipeline.close();
    if (this.gcRunning !== undefined) await this.gcRunning.catch(() => undefined);
    if (opts.keepEngine !== true) await this.engine.close();
    this.log.info('store closed', { appliedTs: this.appliedTs });
  }
}

export async function openLocalStore(opts: LocalStoreOptions): Promise<KvStore> {
  return LocalStore.open(opts);
}
