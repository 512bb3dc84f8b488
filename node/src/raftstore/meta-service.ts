// The store's side of the meta range (docs/sharding.md "Meta range and timestamps"):
//   * the PUBLISHER: every range this store leads has its record (descriptor + leader) in the meta
//     directory. After a split, replica change or leader change the record differs from what the local
//     replica of the meta range holds; it is proposed to the meta range (range 1 — forwarded by Raft to
//     its leader when this store follows) and re-proposed every round until the directory holds it or
//     something newer. Like TiKV's region heartbeats to PD, this converges whatever is lost or reordered:
//     the directory's own rules (meta/meta-directory.ts) refuse stale records.
//   * LOOKUPS from the local replica of the meta range (possibly a little stale: routing clients check
//     epochs anyway and refresh on EPOCH_NOT_MATCH / KEY_NOT_IN_RANGE).
//   * the TSO (meta/tso.ts) on the meta range's leader: the persisted high-water mark is read after a
//     read barrier (every bound a previous leader persisted is applied), a new oracle per leader term,
//     and each batch is confirmed by a leadership round AFTER its timestamps are taken, so a deposed
//     leader can never return a timestamp below one the next leader already handed out to a request
//     that completed before this one began.
import type { Logger } from '../common/logger.js';
import { NotLeaderError } from '../kv/errors.js';
import { unwrapResult } from '../kv/commands.js';
import type { MetaDirectory, MetaRecord } from '../meta/meta-directory.js';
import { encodeMetaRecord } from '../meta/meta-directory.js';
import { TimestampOracle } from '../meta/tso.js';
import type { LocalStore } from '../kv/local-store.js';
import type { Peer } from './peer.js';

export interface MetaReplica {
  readonly rangeId: number;
  readonly peer: Peer;
  readonly store: LocalStore;
}

export interface MetaServiceDeps {
  storeId: number;
  /** This store's client (Kv) address, published as the leader's address. */
  clientAddress: string;
  /** Every local replica. */
  replicas(): Iterable<MetaReplica>;
  /**
   * The replicas whose record may have changed since the last call: awake now or woken since (a
   * replica that slept throughout changed neither its leadership, its term nor its descriptor — those
   * need Raft traffic, which wakes it). Undefined: every round walks every replica.
   */
  changedReplicas?(): Iterable<MetaReplica>;
  /** The local replica of the meta range, if this store holds one. */
  metaReplica(): MetaReplica | undefined;
  logger: Logger;
  nowMs?: () => number;
}

export interface MetaServiceOptions {
  /** How often led ranges are compared with the directory (default 500 ms). */
  publishIntervalMs?: number;
  /** Most records per proposal. */
  maxRecordsPerProposal?: number;
  /** TEST ONLY (KVS_TEST_DISABLE_META_PUBLISH): publish nothing — the negative control of the directory tests. */
  disablePublish?: boolean;
}

/** Publish rounds between two walks over every replica (20 × 500 ms = 10 s). */
const FULL_WALK_EVERY = 20;

export class MetaService {
  private timer: NodeJS.Timeout | undefined;
  private publishing = false;
  private closed = false;
  private oracle: { term: number; ready: Promise<TimestampOracle> } | undefined;
  readonly stats = { publishRounds: 0, recordsProposed: 0, publishErrors: 0, tsoBatches: 0, tsoStarts: 0, idAllocations: 0 };

  constructor(
    private readonly deps: MetaServiceDeps,
    private readonly opts: MetaServiceOptions = {},
  ) {}

  start(): void {
    if (this.opts.disablePublish === true) {
      this.deps.logger.warn('TEST ONLY: meta directory publishing disabled');
      return;
    }
    this.timer = setInterval(() => this.kick(), this.opts.publishIntervalMs ?? 500);
    this.timer.unref();
  }

  /** Publishes now (a split or leader change just happened) instead of at the next interval. */
  kick(): void {
    if (this.closed || this.publishing || this.opts.disablePublish === true) return;
    this.publishing = true;
    this.publishOnce()
      .catch((e: unknown) => {
        this.stats.publishErrors++;
        this.deps.logger.debug('meta publish round failed (retried next round)', { err: e instanceof Error ? e.message : String(e) });
      })
      .finally(() => {
        this.publishing = false;
      });
  }

  /**
   * Per led range, the directory record last found to hold what we would publish (by identity: the
   * directory replaces a record object when it changes) and the term and descriptor it was checked for.
   * A round then costs a map lookup per unchanged range instead of a check that encodes two descriptors
   * (every 500 ms, for thousands of ranges).
   */
  private readonly published = new Map<number, { rec: MetaRecord; term: number; desc: object }>();

  private rounds = 0;

  /**
   * The records of the ranges this store leads that the local directory does not hold yet. A round
   * looks at the replicas that were awake since the last one; every FULL_WALK_EVERY rounds (and with
   * `full`) at every replica, the backstop for a publish that failed while its range went to sleep.
   */
  pendingRecords(full = false): MetaRecord[] {
    const meta = this.deps.metaReplica()?.store.sm.meta;
    if (meta === undefined) return [];
    const walkAll = full || this.deps.changedReplicas === undefined || this.rounds++ % FULL_WALK_EVERY === 0;
    const candidates = walkAll ? this.deps.replicas() : this.deps.changedReplicas!();
    const out: MetaRecord[] = [];
    for (const r of candidates) {
      if (!r.peer.isLeader || !r.store.sm.descriptorStored) continue;
      const term = r.peer.term;
      const desc = r.store.descriptor;
      const seen = this.published.get(r.rangeId);
      const held = meta.directory.get(r.rangeId);
      if (seen !== undefined && held === seen.rec && seen.term === term && seen.desc === desc) continue;
      const rec: MetaRecord = { descriptor: desc, leaderStoreId: this.deps.storeId, leaderTerm: term, leaderAddress: this.deps.clientAddress };
      const c = meta.directory.check(rec);
      if (c.accepted) out.push(rec);
      else if (c.reason === 'unchanged' && held !== undefined) this.published.set(r.rangeId, { rec: held, term, desc });
    }
    if (walkAll && this.published.size > 2 * out.length + 1024) {
      // Forget ranges no longer led or held here (bounded: only when the map has grown).
      const led = new Set<number>();
      for (const r of this.deps.replicas()) if (r.peer.isLeader) led.add(r.rangeId);
      for (const id of this.published.keys()) if (!led.has(id)) this.published.delete(id);
    }
    return out;
  }

  /** One round: proposes every pending record to the meta range (in bounded batches). */
  async publishOnce(): Promise<number> {
    const m = this.deps.metaReplica();
    if (m === undefined) return 0;
    const recs = this.pendingRecords();
    if (recs.length === 0) return 0;
    this.stats.publishRounds++;
    const max = this.opts.maxRecordsPerProposal ?? 256;
    for (let i = 0; i < recs.length; i += max) {
      const chunk = recs.slice(i, i + max);
      // Proposed on the local replica: a follower forwards it to the leader; the result arrives when the
      // entry applies here. Idempotent, so "outcome unknown" needs no special care: the next round sees.
      const res = await m.peer.submit({ type: 'metaUpdate', proposedTs: 0, records: chunk.map(encodeMetaRecord) });
      if (res.type === 'error') throw new Error(`meta update refused: ${res.code}: ${res.message}`);
      this.stats.recordsProposed += chunk.length;
    }
    return recs.length;
  }

  /** The directory's record of the range holding `key` (local replica; may be slightly stale). */
  lookup(key: Buffer): MetaRecord | undefined {
    return this.deps.metaReplica()?.store.sm.meta?.directory.lookup(key);
  }

  /**
   * The local replica's directory, or undefined when this store holds no replica of the meta range or
   * one with an empty directory (waiting for its first snapshot): lookups must then ask another store.
   */
  directory(): MetaDirectory | undefined {
    const dir = this.deps.metaReplica()?.store.sm.meta?.directory;
    return dir !== undefined && dir.size > 0 ? dir : undefined;
  }

  /** Every record of the directory, in key order. */
  records(): readonly MetaRecord[] {
    return this.deps.metaReplica()?.store.sm.meta?.directory.all() ?? [];
  }

  /**
   * `count` consecutive timestamps from the TSO; returns the first. Only the meta range's leader serves
   * (NotLeaderError with its address otherwise).
   */
  async timestamp(count = 1): Promise<number> {
    const m = this.deps.metaReplica();
    if (m === undefined) throw new NotLeaderError(0, undefined, 'this store holds no replica of the meta range; ask another store');
    const term = m.peer.term;
    if (!m.peer.isLeader) throw m.peer.notLeader('the TSO is served by the meta range (range 1) leader');
    if (this.oracle === undefined || this.oracle.term !== term) this.oracle = this.startOracle(m, term);
    const o = this.oracle;
    const tso = await o.ready;
    const first = await tso.next(count);
    // Confirm leadership after taking them (see the header): same term, still leading.
    await m.peer.readBarrier();
    if (!m.peer.isLeader || m.peer.term !== o.term) {
      if (this.oracle === o) this.oracle = undefined;
      throw m.peer.notLeader('meta range leadership changed while serving timestamps; retry');
    }
    this.stats.tsoBatches++;
    return first;
  }

  /**
   * `count` range ids from the meta range's replicated counter; returns the first. Proposed on this
   * store's replica of range 1 (Raft forwards it to the leader): unique and never reused, also when the
   * reply is lost (the ids are then only skipped).
   */
  async allocRangeIds(count = 1): Promise<number> {
    const m = this.deps.metaReplica();
    if (m === undefined) throw new NotLeaderError(0, undefined, 'this store holds no replica of the meta range; split on another store');
    const r = unwrapResult(await m.peer.submit({ type: 'allocIds', proposedTs: 0, count }), 'ids');
    this.stats.idAllocations++;
    return r.first;
  }

  /** A new oracle for leader term `term`, started above every bound an earlier leader persisted. */
  private startOracle(m: MetaReplica, term: number): { term: number; ready: Promise<TimestampOracle> } {
    const deps = {
      nowMs: this.deps.nowMs ?? (() => Date.now()),
      persist: async (hw: number) => {
        const r = await m.peer.submit({ type: 'tsoPersist', proposedTs: 0, highWaterMs: hw });
        if (r.type === 'error') throw new Error(`TSO bound not persisted: ${r.code}: ${r.message}`);
      },
    };
    const entry = {
      term,
      // After our read barrier every bound an earlier leader persisted is applied here.
      ready: m.peer.readBarrier().then(async () => {
        const persisted = m.store.sm.meta?.tsoHighWaterMs ?? 0;
        const tso = new TimestampOracle(deps, persisted);
        await tso.start();
        this.stats.tsoStarts++;
        this.deps.logger.info('TSO started on the meta range leader', { range: m.rangeId, term, persistedHighWaterMs: persisted, highWaterMs: tso.persistedBound });
        return tso;
      }),
    };
    entry.ready.catch(() => {
      if (this.oracle === entry) this.oracle = undefined;
    });
    return entry;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.oracle = undefined;
  }
}
