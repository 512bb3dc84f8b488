// Assembles the replicated side of one kvs node: the classic-level engine shared by every group, the
// Raft transport, the router, the data group's Peer (group 1 at this stage), and a LocalStore running on
// top of it (commandSink = the Peer: writes become proposals; readBarrier = ReadIndex).
import { existsSync } from 'node:fs';
import { mkdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import type { TxnCrashPoint } from './txn-coordinator.js';
import { serveTxnCall } from './txn-rpc.js';
import type { Engine } from '../engine/engine.js';
import { LevelEngine } from '../engine/level-engine.js';
import { LogWal } from './log-wal.js';
import { MemoryEngine } from '../engine/memory-engine.js';
import type { KvStore } from '../kv/api.js';
import { LocalStore, type LocalStoreOptions } from '../kv/local-store.js';
import { Peer, type WakeReason } from './peer.js';
import { PeerStorage } from './peer-storage.js';
import { Router } from './router.js';
import { IdentityRegistry } from './identity.js';
import { RaftTransport, type StaleReplicaNotice } from './transport.js';
import { destroyStaleReplica } from './admin.js';
import { MessageType, type Message } from '../raft/index.js';
import { RangeKvStore, type RangeReplicaView, type RangeSet } from './range-kv-store.js';
import { HybridClock } from '../kv/clock.js';
import type { RangeDescriptor } from '../meta/range-descriptor.js';
import { OperationTimeoutError, RangeNotFoundError, StorageError } from '../kv/errors.js';
import { RangeLocator } from './range-locate.js';
import { chooseSplitKey, type KeySample } from '../meta/split-key.js';
import { latestRange } from '../mvcc/keyspace.js';
import { StoreLiveness } from './store-liveness.js';
import { StoreGcPass, type GcPassResult } from './gc-pass.js';
import { LivenessWakeQueue } from './liveness-wakes.js';
import { LogWriter } from './log-writer.js';
import { MetaService } from './meta-service.js';
import { MetaDirectory } from '../meta/meta-directory.js';
import { spansOverlap } from '../meta/range-descriptor.js';
import { destroyReplicaState, finishPendingDestroys } from './replica-destroy.js';
import { META_RANGE_ID } from '../kv/meta-state.js';

/** Sizes of the latest records of [start, end) in key order (at most `maxKeys`; the rest is not sampled). */
async function sampleRange(engine: Engine, start: Buffer, end: Buffer, maxKeys: number): Promise<KeySample[]> {
  const { start: lo, end: hi } = latestRange(start, end);
  const it = engine.iterator({ gte: lo, lt: hi });
  const out: KeySample[] = [];
  try {
    while (out.length < maxKeys) {
      const batch = await it.nextBatch(1024);
      if (batch.length === 0) break;
      for (const [k, v] of batch) out.push({ key: Buffer.from(k.subarray(1)), bytes: k.length + v.length });
    }
  } finally {
    await it.close();
  }
  return out;
}
import { raftSizeLimits } from '../common/raft-limits.js';
import type { LeaseTuning } from './read-lease.js';
import { RangeLoad } from './range-load.js';

export const DATA_GROUP_ID = 1;
/** The Raft log WAL's directory inside the data dir (LevelDB leaves names it does not know alone). */
export const RAFT_WAL_DIR = 'raft-wal';
/** How often one store tells another that one range no longer lists it (while that store keeps sending). */
const STALE_NOTICE_EVERY_MS = 2000;
/** How often LevelDB is synced so that WAL segments can go (and what LevelDB's unsynced writes risk on power loss). */
const WAL_CHECKPOINT_MS = 1000;

/** Quiesced ranges a store liveness change may wake per store tick (drainLivenessWakes). */
export const LIVENESS_WAKES_PER_TICK = 256;

/** One range as Kv.Routes reports it. */
export interface RangeRoute {
  rangeId: number;
  start: Buffer;
  end: Buffer;
  version: number;
  confVer: number;
  /** Store id of the leader; 0 = unknown. */
  leaderId: number;
  /** The leader's client address; '' = unknown. */
  leaderAddress: string;
  replicas: Array<{ storeId: number; peerId: number; role: 'voter' | 'learner' }>;
}

export interface RaftNodeOptions {
  raftId: number;
  /** Initial members (raft id → raft address). With `join`, only used as an address book. */
  peers: Map<number, string>;
  /** Start empty and wait to be added (learner) and sent a snapshot. */
  join?: boolean;
  /** Client (Kv API) address advertised to peers (NotLeader hints). */
  clientAddress: string;
  /** Raft address advertised to peers (fallback when their address book lacks us). */
  raftAddress: string;
  dataDir?: string;
  engine?: Engine;
  /** Raft log writes made durable by the store's WAL instead of a LevelDB sync (log-wal.ts); default false (--raft-wal). */
  raftWal?: boolean;
  /** Range leaders overlap their own log writes with the next Raft round (Peer asyncAppend); default false (--raft-async-append). */
  raftAsyncAppend?: boolean;
  /** How often LevelDB is synced so that WAL segments can go (default 1 s). */
  walCheckpointMs?: number;
  logger: Logger;
  tickMs?: number;
  electionTick?: number;
  /** Ticks between a range leader's heartbeats (default 1). */
  heartbeatTick?: number;
  /** Idle ranges stop ticking and heartbeating (raftstore/quiesce.ts); default true. */
  quiesce?: boolean;
  /** TEST ONLY (KVS_TEST_DISABLE_LIVENESS_WAKE): liveness changes wake no quiesced range — the negative control. */
  testDisableLivenessWake?: boolean;
  /** TEST ONLY (KVS_TEST_DISABLE_META_PUBLISH): leaders publish nothing into the meta directory — the negative control. */
  testDisableMetaPublish?: boolean;
  /** TEST ONLY (KVS_TEST_UNSAFE_LOCAL_GC_PINS, negative control): GC safe points ignore other stores' transactions. */
  unsafeLocalGcPins?: boolean;
  /** Lifetime of a prepared cross-range transaction's locks (ms, default 3000). */
  txnLockTtlMs?: number;
  /** Parallel commits across ranges (off unless set; kvs-node's --txn-parallel-commit is on by default; RangeKvStoreOptions.txnParallelCommit). */
  txnParallelCommit?: boolean;
  /** Hold of secondary commits (RangeKvStoreOptions.secondaryHoldMs). */
  txnSecondaryHoldMs?: number;
  /** TEST ONLY (KVS_TEST_CRASH_AT_TXN): see RangeKvStoreOptions.testCrashAtTxn. */
  testCrashAtTxn?: (point: TxnCrashPoint) => void;
  /** TEST ONLY (KVS_TEST_CRASH_AT_SPLIT): see PeerConfig.testCrashAtSplit. */
  testCrashAtSplit?: { at: 'before-apply' | 'after-apply'; crash: () => void };
  /** How often led ranges are compared with the meta directory (default 500 ms). */
  metaPublishIntervalMs?: number;
  leaseRead?: boolean;
  lease?: LeaseTuning;
  compactThreshold?: number;
  compactKeep?: number;
  /** Split a range once its data passes this many bytes (0/undefined = off: manual splits only). */
  rangeMaxBytes?: number;
  /** How often leaders check their ranges' sizes (default 5 s). */
  splitCheckIntervalMs?: number;
  /**
   * gRPC message limit of every node's Raft service (--max-message-bytes): bounds commands, frames and
   * snapshot chunks (common/raft-limits.ts). Default: unbounded commands, default frame sizes.
   */
  maxMessageBytes?: number;
  /** This data dir's incarnation (server/config.ts checkRaftIdentity); '' / undefined = none (in-memory). */
  incarnation?: string;
  /** TEST ONLY (--test-disable-identity-check): admit wiped members, the negative control. Default true. */
  enforceIdentity?: boolean;
  /**
   * Answer a store that sends messages for a range which no longer lists it with the range's descriptor,
   * so its replica destroys itself (transport sendStaleNotice); default true. False only for the
   * negative control of that test (--test-disable-stale-notices).
   */
  staleNotices?: boolean;
  /** Credentials of the Raft connections to peers (mutual TLS); default plaintext. */
  credentials?: ChannelCredentials;
  /** TLS transition: plaintext for peers that do not speak TLS (yet, or any more). */
  fallbackCredentials?: ChannelCredentials;
  /** LocalStore options (limits, GC, sessions, observer). */
  store?: Omit<LocalStoreOptions, 'dir' | 'engine' | 'commandSink' | 'groupId' | 'readBarrier' | 'promiseTs' | 'knownTxnOutcome'>;
}

/** One range replica of this store: its Raft peer and the LocalStore on top of it. */
export interface RangeReplica extends RangeReplicaView {
  readonly peer: Peer;
  readonly store: LocalStore;
  /** Requests per second on this replica (Admin.Ranges; the operator balances leaderships by it). */
  readonly load: RangeLoad;
}

export class RaftNode implements RangeSet {
  private closed = false;
  /** Range id (= Raft group id) → local replica. */
  readonly replicas = new Map<number, RangeReplica>();
  private sortedCache: RangeReplica[] | undefined;
  /** Whether sortedCache was computed with range 1 routable (see sorted()). */
  private sortedHasFirst = false;
  readonly kv: RangeKvStore;
  /** Splits applied but whose right-half replica is still being opened. */
  private opening = new Set<Promise<void>>();
  private readonly clock = new HybridClock();
  /** One timer ticks every awake replica (quiesced ones are skipped). */
  private ticker: NodeJS.Timeout | undefined;
  private tickCount = 0;
  /** Liveness pings go out every `pingEveryMs` of wall time (not every n ticks: a late tick must not thin them). */
  private readonly pingEveryMs: number;
  private lastPingAt = 0;
  /**
   * Replicas not hibernating: the only ones the tick pass visits, so its cost follows the awake ranges,
   * not all of them (TiKV's hibernate regions; a quiesced replica leaves the set, a wake puts it back).
   */
  readonly awake = new Set<Peer>();
  /** Why quiesced replicas woke, since start (kvs_store_wakes_by_reason). */
  readonly wakeReasons = new Map<WakeReason, number>();
  /** Store-wide GC pass (gc-pass.ts): one timer for every range instead of one per range. */
  private readonly gcPass: StoreGcPass;
  readonly liveness: StoreLiveness;
  /** Group commit of every range's Raft log writes and apply batches (log-writer.ts). */
  readonly logWriter: LogWriter;
  /** Peer stores (members of any local range but us), recomputed every few ticks. */
  private peerStoreCache: number[] = [];
  private peerStoresAtCount = -1;
  /** Meta directory publishing, lookups and the TSO (meta-service.ts). */
  readonly meta: MetaService;
  /** Lookups of ranges this store holds no replica of, also without a meta replica (range-locate.ts). */
  readonly locator: RangeLocator;

  private constructor(
    readonly raftId: number,
    readonly engine: Engine,
    readonly transport: RaftTransport,
    readonly router: Router,
    private readonly logger: Logger,
    private readonly opts: RaftNodeOptions,
    private readonly identity: IdentityRegistry,
    private readonly sizes: ReturnType<typeof raftSizeLimits> | undefined,
    logWal: LogWal | undefined,
  ) {
    this.kv = new RangeKvStore(this, {
      defaultScanLimit: opts.store?.defaultScanLimit,
      maxScanLimit: opts.store?.maxScanLimit,
      ...(opts.store?.unsafeStaleSnapshots === true ? { unsafeStaleSnapshots: true } : {}),
      onClose: () => this.close(),
      locate: (key) => {
        const rec = this.meta.lookup(key);
        return rec === undefined ? undefined : { rangeId: rec.descriptor.rangeId, leaderAddress: rec.leaderAddress };
      },
      logger: logger.child({ component: 'txn' }),
      // Ranges this store holds no replica of: transactions reach them through a store that does.
      remote: {
        locate: async (key, before) => {
          const rec = await this.locator.locate(key, before === true);
          if (rec === undefined) return undefined;
          const stores = rec.descriptor.replicas.filter((r) => r.role === 'voter' && r.storeId !== this.raftId).map((r) => r.storeId);
          stores.sort((a, b) => (a === rec.leaderStoreId ? -1 : b === rec.leaderStoreId ? 1 : a - b));
          return { descriptor: rec.descriptor, stores };
        },
        call: (to, rangeId, payload, timeoutMs) => this.transport.txnCall(to, rangeId, payload, timeoutMs),
      },
      ...(opts.txnLockTtlMs !== undefined ? { txnLockTtlMs: opts.txnLockTtlMs } : {}),
      ...(opts.txnParallelCommit !== undefined ? { txnParallelCommit: opts.txnParallelCommit } : {}),
      ...(opts.txnSecondaryHoldMs !== undefined ? { secondaryHoldMs: opts.txnSecondaryHoldMs } : {}),
      ...(opts.testCrashAtTxn !== undefined ? { testCrashAtTxn: opts.testCrashAtTxn } : {}),
    });
    // Where remote ranges are: this store's replica of the meta range, else its peers' (range-locate.ts).
    this.locator = new RangeLocator({
      directory: () => this.meta.directory(),
      peers: () => this.peerStores(),
      call: (to, rangeId, payload, timeoutMs) => this.transport.txnCall(to, rangeId, payload, timeoutMs),
      log: logger.child({ component: 'locate' }),
    });
    this.logWriter = new LogWriter(engine, logWal);
    const electionMs = (opts.electionTick ?? 10) * (opts.tickMs ?? 100);
    // Two election timeouts: a store is declared down on its silence, and that wakes every range it
    // leads here at once, so a false "down" (a peer's GC pause or busy loop at thousands of ranges) costs
    // far more than the extra election timeout of a real failover of quiesced ranges (awake ranges elect
    // by their own Raft timers, unaffected).
    const livenessTimeoutMs = 2 * electionMs;
    this.pingEveryMs = Math.max(opts.tickMs ?? 100, Math.floor(electionMs / 4));
    // A store silent for an election timeout counts as down (its quiesced ranges' followers campaign).
    this.liveness = new StoreLiveness(livenessTimeoutMs, performance.now(), { checkIntervalMs: opts.tickMs ?? 100 });
    this.gcPass = new StoreGcPass(() => this.replicas.values(), {
      intervalMs: opts.store?.gcIntervalMs ?? 10_000,
      logger: logger.child({ component: 'gc' }),
    });
    if ((opts.rangeMaxBytes ?? 0) > 0) this.scheduleSplitCheck();
    this.meta = new MetaService(
      {
        storeId: raftId,
        clientAddress: opts.clientAddress,
        replicas: () => this.replicas.values(),
        changedReplicas: () => this.takeMetaCandidates(),
        metaReplica: () => this.replicas.get(META_RANGE_ID),
        logger: logger.child({ component: 'meta' }),
      },
      { ...(opts.metaPublishIntervalMs !== undefined ? { publishIntervalMs: opts.metaPublishIntervalMs } : {}), disablePublish: opts.testDisableMetaPublish === true },
    );
  }

  private startTicking(): void {
    this.ticker = setInterval(() => this.tickAll(), this.opts.tickMs ?? 100);
    this.gcPass.start();
  }

  /** The store-wide GC pass's counters (metrics, tests). */
  get gcStats(): StoreGcPass['stats'] {
    return this.gcPass.stats;
  }

  /** One store-wide GC pass now (tests, admin); the timer runs them every --gc-interval. */
  runGcPass(): Promise<GcPassResult> {
    return this.gcPass.pass();
  }

  /** Ticks of the tick pass since start (tests: the pass visits awake replicas only). */
  readonly tickStats = { passes: 0, replicaTicks: 0 };

  /**
   * The store's tick: liveness transitions wake the quiesced ranges they concern, every awake replica
   * ticks, and peer stores we sent nothing since the last ping round get a ping.
   */
  private tickAll(): void {
    if (this.closed) return;
    const now = performance.now();
    // Pings first: when this tick is late (a busy loop), the peers must still hear from us in time.
    // Four pings per liveness timeout are plenty (the timeout is an election timeout); pings are per store
    // pair, so at hundreds of stores their rate matters (docs/scaling.md).
    // (Half a tick of slack: ticks jitter, and a ping round must not slip by a whole tick.)
    if (now - this.lastPingAt >= this.pingEveryMs - (this.opts.tickMs ?? 100) / 2) {
      this.lastPingAt = now;
      this.transport.keepAlive(this.peerStoreCache);
    }
    // The peer stores: a walk over every replica's descriptor, so every 10 ticks after a count change,
    // else every 100 (a conf change adding a store to existing ranges is seen within seconds).
    const t = this.tickCount++;
    if (t % 100 === 0 || (t % 10 === 0 && this.replicas.size !== this.peerStoresAtCount)) {
      this.peerStoresAtCount = this.replicas.size;
      this.peerStoreCache = this.computePeerStores();
    }
    const { down, up, restarted = [] } = this.liveness.check(now, this.peerStoreCache);
    if ((down.length > 0 || up.length > 0) && this.opts.testDisableLivenessWake !== true) this.onLivenessChange(down, up, restarted);
    this.drainLivenessWakes(now);
    this.tickStats.passes++;
    // Only the awake replicas: a replica that quiesces while ticking leaves the set (safe during for-of).
    for (const p of this.awake) {
      this.tickStats.replicaTicks++;
      p.tick();
    }
  }

  /** Replicas woken since the last meta publish round (their record may have changed). */
  private wokenSinceMetaRound = new Set<Peer>();

  /** The replicas awake now or woken since the last call (meta-service.ts changedReplicas). */
  private takeMetaCandidates(): RangeReplica[] {
    const out: RangeReplica[] = [];
    const seen = this.wokenSinceMetaRound;
    this.wokenSinceMetaRound = new Set();
    for (const p of this.awake) seen.add(p);
    for (const p of seen) {
      const r = this.replicas.get(p.groupId);
      if (r !== undefined && r.peer === p) out.push(r);
    }
    return out;
  }

  private onAwakeChange(peer: Peer, awake: boolean, reason: WakeReason | undefined): void {
    if (!awake) {
      this.awake.delete(peer);
      return;
    }
    this.awake.add(peer);
    this.wokenSinceMetaRound.add(peer);
    if (reason !== undefined) this.wakeReasons.set(reason, (this.wakeReasons.get(reason) ?? 0) + 1);
  }

  /** Peer stores (members of any local range but this one), ascending; the tick's cache when it has one. */
  peerStores(): readonly number[] {
    return this.peerStoreCache.length > 0 ? this.peerStoreCache : this.computePeerStores();
  }

  private computePeerStores(): number[] {
    const ids = new Set<number>();
    for (const r of this.replicas.values()) {
      for (const rep of r.store.descriptor.replicas) ids.add(rep.storeId);
    }
    for (const id of this.replicas.get(DATA_GROUP_ID)?.peer.addresses().keys() ?? []) ids.add(id);
    ids.delete(this.raftId);
    return [...ids].sort((a, b) => a - b);
  }

  /**
   * Down: quiesced followers led from there forget their leader and campaign. Quiesced leaders with a
   * member on a changed store wake only when they have work (quiesce.ts leaderLivenessWake): their live
   * voters lost quorum (check-quorum must run), or a member restarted or came back behind.
   */
  private onLivenessChange(down: number[], up: number[], restarted: number[]): void {
    let followers = 0;
    let leaders = 0;
    const change = { down, up, restarted };
    for (const r of this.replicas.values()) {
      const p = r.peer;
      if (!p.quiesced) continue;
      if (down.includes(p.leader) && !p.isLeader) {
        this.livenessWakes.enqueue(p);
        followers++;
      } else if (p.isLeader && r.store.descriptor.replicas.some((x) => down.includes(x.storeId) || up.includes(x.storeId))) {
        this.livenessWakes.enqueue(p, change);
        leaders++;
      }
    }
    // Woken by the tick's drain, right after this (at most LIVENESS_WAKES_PER_TICK per tick).
    this.logger.info('store liveness changed', { down, up, restarted, followersToCheck: followers, leadersToCheck: leaders });
  }

  /** Ranges a liveness change concerns, woken at most LIVENESS_WAKES_PER_TICK per tick (liveness-wakes.ts). */
  private readonly livenessWakes = new LivenessWakeQueue(LIVENESS_WAKES_PER_TICK);

  private drainLivenessWakes(now: number): void {
    if (this.livenessWakes.pending > 0) this.livenessWakes.drain((store) => this.liveness.live(store, now));
  }

  private splitTimer: NodeJS.Timeout | undefined;
  /** Applied count of each range at its last size check (unchanged = no writes = no need to look). */
  private readonly checkedAt = new Map<number, number>();

  private scheduleSplitCheck(): void {
    this.splitTimer = setTimeout(() => {
      this.splitCheck().then(
        () => {
          if (!this.closed) this.scheduleSplitCheck();
        },
        (e: unknown) => {
          this.logger.warn('range size check failed', { err: e instanceof Error ? e.message : String(e) });
          if (!this.closed) this.scheduleSplitCheck();
        },
      );
    }, this.opts.splitCheckIntervalMs ?? 5000);
    this.splitTimer.unref();
  }

  /**
   * Size-based splits (TiKV's split checker): each range this store leads and that applied something
   * since its last check is measured (latest records of its keys, bounded walk); above --range-max-bytes
   * it is split at the key that halves it (meta/split-key.ts).
   */
  private async splitCheck(): Promise<void> {
    const max = this.opts.rangeMaxBytes ?? 0;
    for (const r of [...this.replicas.values()]) {
      if (this.closed) return;
      if (!r.peer.isLeader) continue;
      const applied = r.peer.stats.applied;
      if (this.checkedAt.get(r.rangeId) === applied) continue;
      this.checkedAt.set(r.rangeId, applied);
      const d = r.store.descriptor;
      const samples = await sampleRange(this.engine, d.start, d.end, 200_000);
      const total = samples.reduce((a, x) => a + x.bytes, 0);
      if (total <= max) continue;
      const choice = chooseSplitKey(samples, d.start);
      if (choice === undefined) continue;
      try {
        const out = await this.split(choice.key);
        this.logger.info('range split by size', { range: r.rangeId, bytes: total, maxBytes: max, right: out.right.rangeId, leftBytes: choice.leftBytes });
      } catch (e) {
        this.logger.warn('size-triggered split failed (retried at the next check)', { range: r.rangeId, err: e instanceof Error ? e.message : String(e) });
        this.checkedAt.delete(r.rangeId);
      }
    }
  }

  /** The first range's replica (range 1: the Raft group every store has had since bootstrap). */
  get first(): RangeReplica {
    const r = this.replicas.get(DATA_GROUP_ID) ?? this.sorted()[0];
    if (r === undefined) throw new Error('no range replica on this store');
    return r as RangeReplica;
  }
  /** Range 1's peer: membership status, readiness and leadership hand-over of the store (stage 2a). */
  get peer(): Peer {
    return this.first.peer;
  }
  get store(): LocalStore {
    return this.first.store;
  }

  sorted(): readonly RangeReplica[] {
    // A replica created on demand serves nothing until its snapshot brings its descriptor. Range 1 of an
    // old or fresh data dir takes one from its configuration when it starts (Peer.adoptReplicas); range 1
    // of a store that joined and is no member of it (yet) has none — it would claim the whole key space
    // (a store placed on some ranges only reaches the others remotely). It can get its descriptor from
    // its log, which does not reset the cache: recompute when it did.
    const first = this.replicas.get(DATA_GROUP_ID);
    if (this.sortedCache !== undefined && !this.sortedHasFirst && first !== undefined && first.store.sm.descriptorStored) this.sortedCache = undefined;
    if (this.sortedCache === undefined) {
      this.sortedCache = [...this.replicas.values()].filter((r) => r.store.sm.descriptorStored).sort((a, b) => Buffer.compare(a.store.descriptor.start, b.store.descriptor.start));
      this.sortedHasFirst = first !== undefined && first.store.sm.descriptorStored;
    }
    return this.sortedCache;
  }

  /** When a message for each unknown group was first seen (on-demand creation waits a little). */
  private readonly unknownSince = new Map<number, number>();
  private readonly creating = new Set<number>();

  /**
   * A range's leader talks to this store, which holds no replica of it: a store that joined after the
   * split (it was added to every range), or one that got its parent by a snapshot taken after the split.
   * After 2 s of such messages (a follower merely slow to apply the split creates the replica from the
   * split itself within milliseconds) an empty replica is created; the leader then sends it a snapshot.
   * Votes never create one (a candidate of a range this store has not split yet is normal).
   */
  private onUnknownGroup(m: Message): void {
    // Not while a destroy of the same group is still deleting its keys (it would delete the new replica's).
    if (this.closed || this.replicas.has(m.groupId) || this.creating.has(m.groupId) || this.destroying.has(m.groupId)) return;
    if (m.type !== MessageType.App && m.type !== MessageType.Heartbeat && m.type !== MessageType.Snap) return;
    const now = Date.now();
    const first = this.unknownSince.get(m.groupId);
    if (first === undefined) {
      this.unknownSince.set(m.groupId, now);
      return;
    }
    if (now - first < 2000) return;
    this.unknownSince.delete(m.groupId);
    const g = m.groupId;
    this.creating.add(g);
    const p = (async () => {
      const storage = await PeerStorage.open(this.engine, g, { identity: this.identity });
      await this.openReplica(g, storage);
      this.logger.info('range replica created on demand (waiting for a snapshot from its leader)', { range: g, from: m.from });
    })()
      .catch((e: unknown) => {
        this.logger.error('cannot create a range replica on demand', { range: g, err: e instanceof Error ? e.message : String(e) });
      })
      .finally(() => this.creating.delete(g));
    this.track(p);
  }

  /** Replicas being destroyed → the user-key span whose data their destroy deletes (if any). */
  private readonly destroying = new Map<number, { start: Buffer; end: Buffer } | undefined>();

  /**
   * This store's replica of range `g` was removed from the range (a replica move): stop routing to it,
   * close it, and delete its Raft state, its local state and — unless another local range covers them —
   * the keys of its span (TiKV's peer destroy), crash-safely (replica-destroy.ts: a tombstone first, and
   * a snapshot overlapping a span being deleted is refused until the delete is done). Runs after the
   * apply that removed it.
   */
  private destroyReplica(g: number): void {
    const r = this.replicas.get(g);
    if (this.closed || r === undefined || this.destroying.has(g)) return;
    const d = r.store.descriptor;
    const data = r.store.sm.descriptorStored && !this.overlapsLocal(g, { start: d.start, end: d.end }) ? { start: d.start, end: d.end } : undefined;
    this.destroying.set(g, data);
    this.replicas.delete(g);
    this.awake.delete(r.peer);
    this.wokenSinceMetaRound.delete(r.peer);
    this.router.unregister(g);
    this.sortedCache = undefined;
    const p = (async () => {
      await r.store.close({ keepEngine: true });
      await destroyReplicaState(this.engine, { groupId: g, ...(data !== undefined ? { data } : {}) });
      this.logger.info('range replica removed from this store: destroyed', { range: g, start: d.start.toString('hex'), end: d.end.toString('hex'), keysDeleted: data !== undefined });
    })()
      .catch((e: unknown) => {
        this.logger.error('destroying a removed range replica failed (finished at the next start)', { range: g, err: e instanceof Error ? e.message : String(e) });
      })
      .finally(() => this.destroying.delete(g));
    this.track(p);
  }

  // ---- the cluster's GC pin: the smallest start ts of every store's running transactions ----

  private readonly peerGcPins = new Map<number, { ts: number; at: number }>();
  private ownPin = { ts: 0, at: -Infinity };

  /**
   * The smallest start ts of the transactions this store runs — coordinated here (any range, local or
   * not) or one-range transactions on its replicas; 0 = none. Every Raft frame carries it, so it is
   * cached for 200 ms (a transaction that young is far above any safe point: those trail by the GC
   * lifetime).
   */
  ownMinTxnStartTs(): number {
    const now = Date.now();
    if (now - this.ownPin.at < 200) return this.ownPin.ts;
    let min = this.kv.minActiveStartTs() ?? Infinity;
    for (const r of this.replicas.values()) {
      const m = r.store.minTxnStartTs;
      if (m !== undefined && m < min) min = m;
    }
    this.ownPin = { ts: Number.isFinite(min) ? min : 0, at: now };
    return this.ownPin.ts;
  }

  /** A peer's pin from its frame (0: none). */
  notePeerGcPin(from: number, ts: number): void {
    if (ts > 0) this.peerGcPins.set(from, { ts, at: Date.now() });
    else this.peerGcPins.delete(from);
  }

  /**
   * The cluster's pin: ours and every peer's heard from in the last 10 minutes (a store silent longer
   * has no transaction that could still commit: its reads and commits need the cluster).
   */
  clusterMinTxnStartTs(): number | undefined {
    let min = this.ownMinTxnStartTs() || Infinity;
    if (this.opts.unsafeLocalGcPins !== true) {
      const now = Date.now();
      for (const [id, p] of this.peerGcPins) {
        if (now - p.at > 600_000) this.peerGcPins.delete(id);
        else if (p.ts < min) min = p.ts;
      }
    }
    return Number.isFinite(min) ? min : undefined;
  }

  /** When each (range, store) pair was last told it is no longer listed (ms): one notice per interval. */
  private readonly staleNoticeAt = new Map<string, number>();

  /**
   * Store `from` sent range `g` Raft messages, but `g`'s configuration here does not hold it: if the
   * descriptor this replica applied does not list that store either, tell it (a replica that missed
   * its own removal campaigns or answers forever otherwise). The receiver checks the claim itself
   * (onStaleReplicas). Not for range 1: a store leaves that one by RemoveMember and is shut down.
   */
  private noteNonMember(g: number, from: number): void {
    if (g === DATA_GROUP_ID || this.opts.staleNotices === false || from === this.raftId) return;
    const r = this.replicas.get(g);
    if (r === undefined || !r.store.sm.descriptorStored) return;
    const d = r.store.descriptor;
    if (d.replicas.some((x) => x.storeId === from)) return;
    const key = `${g}:${from}`;
    const now = Date.now();
    if (now - (this.staleNoticeAt.get(key) ?? -Infinity) < STALE_NOTICE_EVERY_MS) return;
    if (this.staleNoticeAt.size >= 4096) this.staleNoticeAt.clear();
    this.staleNoticeAt.set(key, now);
    this.logger.info('a store not listed by a range sent it messages: telling it', { range: g, store: from, confVer: d.epoch.confVer });
    this.transport.sendStaleNotice(from, { rangeId: g, confVer: d.epoch.confVer, version: d.epoch.version, storeIds: d.replicas.map((x) => x.storeId) });
  }

  /**
   * A peer says replicas here are no longer listed by their ranges. Each goes only under the same proof
   * as Admin.DestroyStaleReplica: the named descriptor is newer (higher confVer) than the one the replica
   * applied and leaves this store out; never range 1, a leader, or a replica without a descriptor yet.
   */
  onStaleReplicas(from: number, notices: readonly StaleReplicaNotice[]): void {
    for (const n of notices) {
      try {
        const result = destroyStaleReplica(this, n.rangeId, { confVer: n.confVer, version: n.version }, n.storeIds);
        this.logger.info('stale replica notice', { range: n.rangeId, from, confVer: n.confVer, result });
      } catch (e) {
        this.logger.debug('stale replica notice not acted on', { range: n.rangeId, from, err: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  /**
   * Destroys this store's replica of `rangeId` that its range no longer lists — the store missed its own
   * removal (it was down while the range was re-replicated); Admin.DestroyStaleReplica checked that against
   * the range's current descriptor. The same crash-safe destroy as an applied removal. False: none here.
   */
  destroyStaleReplica(rangeId: number): boolean {
    if (rangeId === DATA_GROUP_ID || !this.replicas.has(rangeId)) return false;
    this.destroyReplica(rangeId);
    return !this.replicas.has(rangeId);
  }

  /** Whether [start, end) overlaps a local range other than `except` (a snapshot must not). */
  private overlapsLocal(except: number, span: { start: Buffer; end: Buffer }): boolean {
    // A span whose keys a destroy is still deleting counts as taken.
    for (const [g, sp] of this.destroying) if (g !== except && sp !== undefined && spansOverlap(sp, span)) return true;
    for (const r of this.replicas.values()) {
      if (r.rangeId === except || !r.store.sm.descriptorStored) continue;
      if (spansOverlap(r.store.descriptor, span)) return true;
    }
    return false;
  }
  get(rangeId: number): RangeReplica | undefined {
    return this.replicas.get(rangeId);
  }

  /**
   * The data directory's filesystem: total and available bytes (statfs; zeros without a data dir or when
   * the call fails — capacity is advisory, for placement).
   */
  async diskSpace(): Promise<{ capacityBytes: number; availableBytes: number }> {
    if (this.opts.dataDir === undefined) return { capacityBytes: 0, availableBytes: 0 };
    try {
      const s = await statfs(this.opts.dataDir);
      return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
    } catch {
      return { capacityBytes: 0, availableBytes: 0 };
    }
  }

  static async open(opts: RaftNodeOptions): Promise<RaftNode> {
    let engine = opts.engine;
    if (engine === undefined) {
      if (opts.dataDir !== undefined) {
        await mkdir(opts.dataDir, { recursive: true });
        engine = await LevelEngine.open(opts.dataDir);
      } else engine = new MemoryEngine();
    }
    const groupId = DATA_GROUP_ID;
    const sizes = opts.maxMessageBytes !== undefined ? raftSizeLimits(opts.maxMessageBytes) : undefined;
    let logWal: LogWal | undefined;
    try {
      // The Raft log WAL (log-wal.ts) is replayed before any range opens — also when it is turned off
      // now: its records may be all that holds the last log writes.
      if (opts.dataDir !== undefined) {
        const walDir = join(opts.dataDir, RAFT_WAL_DIR);
        if (opts.raftWal === true || existsSync(walDir)) {
          const opened = await LogWal.open(walDir, engine);
          logWal = opened.wal;
          if (opened.replayed > 0) opts.logger.warn('raft log WAL: records LevelDB had lost were written again', { records: opened.replayed, lsn: logWal.lastLsn });
          if (opts.raftWal !== true) {
            await logWal.close();
            logWal = undefined;
          }
        }
      }
      const identity = new IdentityRegistry(opts.raftId, opts.incarnation ?? '', opts.enforceIdentity ?? true);
      if (!identity.enforce) opts.logger.warn('TEST ONLY: member identity check disabled: a wiped data dir is accepted as the same voter', { raftId: opts.raftId });
      const storage = await PeerStorage.open(engine, groupId, {
        bootstrapVoters: opts.join ? undefined : [...opts.peers.keys()],
        addresses: opts.peers,
        identity,
      });
      const router = new Router();
      const idLog = opts.logger.child({ component: 'raft-identity' });
      const lastLogged = new Map<number, number>();
      const term = (): number | undefined => {
        try {
          return router.get(groupId)?.status().term;
        } catch {
          return undefined; // not started yet
        }
      };
      const transport = new RaftTransport({
        selfId: opts.raftId,
        clientAddress: opts.clientAddress,
        raftAddress: opts.raftAddress,
        // The store-level address book: range 1's (every range has the same members at this stage).
        resolve: (id) => storage.addresses.get(id),
        logger: opts.logger.child({ component: 'raft-transport' }),
        ...(sizes !== undefined ? { maxFrameBytes: sizes.maxFrameBytes, snapshotChunkBytes: sizes.snapshotChunkBytes } : {}),
        incarnation: identity.selfIncarnation,
        ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
        ...(opts.fallbackCredentials !== undefined ? { fallbackCredentials: opts.fallbackCredentials } : {}),
        admit: (from, inc) => {
          const a = identity.admit(from, inc);
          if (a.ok) return a;
          const reason = `raft id ${from} presented data-dir incarnation ${inc}, but the group recorded ${a.recorded} for it (wiped or replaced data dir)`;
          // A refused node sends a frame every tick: one line when it starts, then one every 10 s.
          const now = Date.now();
          if (now - (lastLogged.get(from) ?? 0) >= 10_000) {
            lastLogged.set(from, now);
            idLog.error('refusing raft member: its data dir is not the one the group knows (never counted as a voter again; replace it with a new raft id)', {
              member: from,
              presented: inc,
              recorded: a.recorded,
              refusedFrames: identity.refused.get(from)?.count ?? 0,
              term: term(),
            });
          }
          return { ok: false, reason };
        },
      });
      transport.handlers = {
        onMessages: (msgs) => router.deliver(msgs),
        onSnapshot: (m, entries) => router.deliverSnapshot(m, entries),
        onUnreachable: (to, groups) => router.unreachable(to, groups),
        onIncarnation: (from, inc) => router.get(groupId)?.noteIncarnation(from, inc),
        onRefused: (by, reason) => {
          if (identity.refusedBy(by, reason)) {
            idLog.error('this node is refused by the group: its data dir is not the one recorded for this raft id; it will not vote. Replace it with a new raft id (--join as a learner)', {
              by,
              reason,
              incarnation: identity.selfIncarnation,
              term: term(),
            });
          }
        },
      };
      const node = new RaftNode(opts.raftId, engine, transport, router, opts.logger, opts, identity, sizes, logWal);
      transport.handlers.onStaleReplicas = (from, notices) => node.onStaleReplicas(from, notices);
      transport.handlers.onFrame = (from, boot, pin) => {
        node.liveness.heard(from, boot, performance.now());
        node.notePeerGcPin(from, pin);
      };
      transport.minTxnStartTs = () => (opts.unsafeLocalGcPins === true ? 0 : node.ownMinTxnStartTs());
      transport.handlers.onTxnCall = (_from, rangeId, payload) =>
        serveTxnCall(
          {
            replica: (id) => node.get(id)?.store,
            get: (k, o, onLock) => node.kv.get(k, o, onLock),
            scan: (o, onLock) => node.kv.scanHeld(o, onLock),
            locate: (key, before) => {
              const dir = node.meta.directory();
              if (dir === undefined) throw new RangeNotFoundError(META_RANGE_ID, `store ${node.raftId} holds no replica of the meta range with a directory`);
              return before ? dir.lookupBefore(key) : dir.lookup(key);
            },
          },
          rangeId,
          payload,
        );
      router.onUnknownGroup = (m) => node.onUnknownGroup(m);
      // Destroys a crash interrupted are finished before any replica opens (replica-destroy.ts).
      for (const g of await finishPendingDestroys(engine)) opts.logger.warn('finished destroying a range replica interrupted by a crash', { range: g });
      await node.openReplica(groupId, storage);
      // Every other range this store holds (created by splits, or received later).
      for (const g of await PeerStorage.groupsIn(engine)) {
        if (g === groupId || node.replicas.has(g)) continue;
        await node.openReplica(g, await PeerStorage.open(engine, g, { identity }));
      }
      // Tell the peers we (re)started right away (an empty frame with our incarnation; the peer is running
      // by now): their connections to our previous process are replaced at once, so the leader's next
      // heartbeat reaches us, instead of after our first election timeout (a restarted follower's first
      // message).
      transport.announce([...storage.addresses.keys()]);
      node.startTicking();
      node.meta.start();
      node.logWriter.startCheckpoints(opts.walCheckpointMs ?? WAL_CHECKPOINT_MS, (e) => opts.logger.error('raft log WAL checkpoint failed', { err: e.message }));
      return node;
    } catch (e) {
      await logWal?.close().catch(() => undefined);
      await engine.close().catch(() => undefined);
      throw e;
    }
  }

  /** Opens (or creates, after a split) the replica of group `g` over its storage and starts its peer. */
  private async openReplica(g: number, storage: PeerStorage, campaign = false, createdBySplit = false): Promise<RangeReplica> {
    const opts = this.opts;
    const sizes = this.sizes;
    const peer = new Peer({
      groupId: g,
      raftId: opts.raftId,
      engine: this.engine,
      storage,
      transport: this.transport,
      logger: opts.logger.child({ range: g }),
      electionTick: opts.electionTick,
      heartbeatTick: opts.heartbeatTick,
      leaseRead: opts.leaseRead,
      // A replica a split just created acknowledged nothing in its group: no start-up vote hold.
      lease: createdBySplit ? { ...opts.lease, newGroup: true } : opts.lease,
      compactThreshold: opts.compactThreshold,
      compactKeep: opts.compactKeep,
      maxCommandBytes: sizes?.maxCommandBytes,
      quiesce: opts.quiesce !== false,
      logWriter: this.logWriter,
      asyncAppend: opts.raftAsyncAppend === true,
      onNonMember: (from) => this.noteNonMember(g, from),
      isStoreLive: (id) => this.liveness.live(id, performance.now()),
      onAwakeChange: (awake, reason) => this.onAwakeChange(peer, awake, reason),
      unsafeSnapshotIsolation: opts.store?.unsafeSnapshotIsolation === true,
      ...(opts.store?.unsafeNoTsFloor === true ? { unsafeNoTermFloor: true } : {}),
      onSplit: (left, right) => this.onSplit(g, left, right),
      ...(opts.testCrashAtSplit !== undefined ? { testCrashAtSplit: opts.testCrashAtSplit } : {}),
      canCreateSplit: (rangeId) => !this.replicas.has(rangeId) && !this.creating.has(rangeId),
      admitSnapshotSpan: (span) => !this.overlapsLocal(g, span),
      onSnapshotInstalled: () => {
        this.sortedCache = undefined;
      },
      // Range 1 is the store's own membership: a store removed from it is shut down by its operator.
      ...(g !== DATA_GROUP_ID ? { onRemoved: () => this.destroyReplica(g) } : {}),
    });
    const storeOpts = { ...opts.store };
    // Settings are seeded once, through the first range; split ranges copy them.
    if (g !== DATA_GROUP_ID) delete storeOpts.sessionTtlMs;
    const store = await LocalStore.open({
      ...storeOpts,
      clusterMinStartTs: () => this.clusterMinTxnStartTs(),
      // No timer per range: the store-wide GC pass (gc-pass.ts) runs each range's GC step when it has one.
      gcIntervalMs: 0,
      gcProposerAsleep: () => peer.quiesced,
      ...(sizes !== undefined ? { maxCommandBytes: sizes.maxCommandBytes } : {}),
      engine: this.engine,
      groupId: g,
      clock: this.clock,
      logger: (opts.store?.logger ?? opts.logger).child({ range: g }),
      readBarrier: () => peer.readBarrier(),
      promiseTs: (ts) => peer.promiseTs(ts),
      knownTxnOutcome: (txnId, primary) => this.kv.knownTxnOutcome(txnId, primary),
      proposesSafePoint: () => peer.isLeader,
      commandSink: (sm, _engine, onApplied, replaceSm) => {
        peer.start(sm, onApplied, replaceSm, opts.tickMs ?? 100);
        return peer;
      },
    });
    // Registered once started: a message for a peer whose raft core does not exist yet would be lost anyway.
    this.router.register(peer);
    if (!peer.quiesced) this.awake.add(peer);
    const replica: RangeReplica = { rangeId: g, peer, store, load: new RangeLoad(Date.now(), peer.stats) };
    this.replicas.set(g, replica);
    this.sortedCache = undefined;
    // The split's proposer side campaigns at once (TiKV does the same): its log is as new as anyone's.
    if (campaign) peer.campaign();
    return replica;
  }

  /**
   * A split of range `parent` was applied here: its right half's state (data stays where it is) and
   * Raft state are in the engine; open its replica. The parent's leader store campaigns for the new
   * range at once, so it has a leader within one round trip instead of an election timeout.
   */
  private onSplit(parent: number, left: RangeDescriptor, right: RangeDescriptor): void {
    this.sortedCache = undefined;
    if (this.closed || this.replicas.has(right.rangeId)) return;
    const leader = this.replicas.get(parent)?.peer.isLeader === true;
    const p = (async () => {
      const storage = await PeerStorage.open(this.engine, right.rangeId, { identity: this.identity });
      await this.openReplica(right.rangeId, storage, leader, true);
      this.logger.info('range replica created by split', { parent, left: left.rangeId, range: right.rangeId, start: right.start.toString('hex'), end: right.end.toString('hex'), version: right.epoch.version, campaign: leader });
      // Both halves' new epochs go into the meta directory now rather than at the next interval.
      if (leader) this.meta.kick();
    })().catch((e: unknown) => {
      this.logger.error('cannot open the range created by a split', { parent, range: right.rangeId, err: e instanceof Error ? e.message : String(e) });
    });
    this.track(p);
  }

  /**
   * Every range of the cluster as the meta directory (local replica of the meta range) knows it, with
   * this store's own replicas' fresher views laid over it (Kv.Routes: clients go to leaders directly).
   */
  routes(directoryOnly = false): RangeRoute[] {
    const dir = new MetaDirectory();
    for (const rec of this.meta.records()) dir.load(rec);
    for (const r of directoryOnly ? [] : this.sorted()) {
      const leaderAddress = r.peer.isLeader ? this.opts.clientAddress : (r.peer.leaderClientAddress() ?? '');
      dir.put({ descriptor: r.store.descriptor, leaderStoreId: r.peer.leader, leaderTerm: r.peer.term, leaderAddress });
    }
    return dir.all().map((rec) => {
      const d = rec.descriptor;
      return { rangeId: d.rangeId, start: d.start, end: d.end, version: d.epoch.version, confVer: d.epoch.confVer, leaderId: rec.leaderStoreId, leaderAddress: rec.leaderAddress, replicas: d.replicas.map((x) => ({ storeId: x.storeId, peerId: x.peerId, role: x.role })) };
    });
  }

  /** Background replica work (split, on-demand creation, destroy) that settled() and close() wait for. */
  private track(p: Promise<void>): void {
    this.opening.add(p);
    void p.finally(() => this.opening.delete(p));
  }

  /** Waits until replicas of applied splits are open (routing, tests, admin). */
  async settled(): Promise<void> {
    while (this.opening.size > 0) await Promise.all([...this.opening]);
  }

  /** Waits until the replica of `rangeId` is open here (a split resolves before its apply batch is written). */
  private async waitReplica(rangeId: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.replicas.has(rangeId)) {
      if (this.closed || Date.now() > until) throw new OperationTimeoutError(`range ${rangeId} was split off but its replica did not open within ${timeoutMs} ms`);
      await this.settled();
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /**
   * Splits the range holding `splitKey` at that key (kvsctl range split; later the size/load trigger).
   * Runs on that range's leader (NOT_LEADER otherwise). The new range id comes from the meta range's
   * counter (allocIds on range 1) before the split is proposed: unique cluster-wide, never reused.
   */
  async split(splitKey: Buffer): Promise<{ left: RangeDescriptor; right: RangeDescriptor }> {
    const r = this.replicas.get(this.kv.replicaFor(splitKey).rangeId)!;
    // A range just created by a split may still be electing its leader: wait briefly for one.
    if (r.peer.leader === 0) await r.peer.waitFor(() => r.peer.leader !== 0, 3000);
    if (!r.peer.isLeader) throw r.peer.notLeader(`range ${r.rangeId} is led elsewhere; split it on its leader`);
    const d = r.store.descriptor;
    const newId = await this.meta.allocRangeIds(1);
    // Belt and braces: the counter starts above every id the directory knows; a local replica with the
    // id (an unpublished split of a cluster that drew random ids) would be a bug worth stopping for.
    if (newId <= DATA_GROUP_ID || this.replicas.has(newId)) throw new StorageError(`the meta range handed out range id ${newId}, which this store already has`);
    const out = await r.store.split(splitKey, newId, d.epoch.version);
    await this.waitReplica(out.right.rangeId, 10_000);
    return out;
  }

  get kvStore(): KvStore {
    return this.kv;
  }

  /**
   * Planned shutdown (SIGTERM: node drain, eviction, pod delete): for every range this store leads, hand
   * leadership to the most caught-up live voter and wait until it leads, so the group does not sit out an election
   * timeout after we are gone. Raft sends MsgTimeoutNow once the target's log matches ours (it campaigns
   * at once, no pre-vote wait); proposals arriving meanwhile are dropped with NotLeader and retried by
   * clients. Returns what happened, for the log; never throws (shutdown goes on regardless).
   */
  async handOffLeadership(timeoutMs: number): Promise<{ outcome: 'not-leader' | 'sole-voter' | 'no-target' | 'moved' | 'timeout'; to?: number; ms: number; ranges: number; moved: number }> {
    const t0 = Date.now();
    const led = [...this.replicas.values()].filter((r) => r.peer.isLeader);
    if (this.closed || led.length === 0) return { outcome: 'not-leader', ms: 0, ranges: 0, moved: 0 };
    // Every range this store leads, at once (each transfer is one catch-up append and a MsgTimeoutNow).
    const results = await Promise.all(led.map((r) => this.handOffRange(r.peer, timeoutMs)));
    const moved = results.filter((x) => x.outcome === 'moved').length;
    // The summary: the first failure's outcome if any range did not move, else 'moved' with the first
    // moved range's target (or 'sole-voter' when no range had another voter).
    const bad = results.find((x) => x.outcome !== 'moved' && x.outcome !== 'sole-voter');
    const first = results.find((x) => x.outcome === 'moved');
    const outcome = bad?.outcome ?? (first !== undefined ? 'moved' : 'sole-voter');
    return { outcome, ...(first?.to !== undefined ? { to: first.to } : {}), ms: Date.now() - t0, ranges: led.length, moved };
  }

  private async handOffRange(peer: Peer, timeoutMs: number): Promise<{ outcome: 'sole-voter' | 'no-target' | 'moved' | 'timeout'; to?: number }> {
    const st = peer.status();
    if (st.config.voters.every((v) => v === this.raftId)) return { outcome: 'sole-voter' };
    // Store liveness, not recentActive: a quiesced leader has not heard its followers lately by design.
    const now = performance.now();
    const target = st.progress
      .filter((p) => p.id !== this.raftId && st.config.voters.includes(p.id) && this.liveness.live(p.id, now) && p.state === 'Replicate')
      .sort((a, b) => b.match - a.match || a.id - b.id)[0];
    if (target === undefined) return { outcome: 'no-target' };
    peer.transferLeader(target.id);
    const moved = await peer.waitFor(() => peer.leader === target.id, timeoutMs);
    return { outcome: moved ? 'moved' : 'timeout', to: target.id };
  }

  /** Closes every range's store (and with it its peer), the engine and the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.splitTimer !== undefined) clearTimeout(this.splitTimer);
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.gcPass.close();
    this.meta.close();
    await this.settled().catch(() => undefined);
    this.transport.close();
    await this.kv.close();
    // The first range's store owns the engine: close the others first.
    const first = this.replicas.get(DATA_GROUP_ID);
    for (const r of this.replicas.values()) if (r !== first) await r.store.close({ keepEngine: true });
    // A last checkpoint, then the WAL closes; anything written after it syncs LevelDB instead.
    await this.logWriter.close();
    if (first !== undefined) await first.store.close();
    else await this.engine.close();
    this.logger.info('raft node closed', { raftId: this.raftId, ranges: this.replicas.size });
  }
}
