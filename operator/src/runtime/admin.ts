// The ONE module through which the operator talks to kvs nodes (kvs.v1.Admin, proto/admin.proto):
// every call has a deadline, every failure becomes a NodeAdminError with a fixed code, and a fake
// (FakeNodeAdmin, a small in-memory Raft configuration) stands in for the nodes in tests.
import { AdminClient, AdminEpochNotMatchError, type AdminRangeEpoch, type AdminResult, type AdminStatus, type RangeInfo } from '../../../node/src/client/admin-client.js';
import { drainStore as runDrain, type DrainResult } from '../../../node/src/client/drain.js';
import { DrainIncompleteError, DrainUnknownStoreError, KvDeadlineError, KvError, KvNotLeaderError, KvPreconditionFailedError, KvUnavailableError } from '../../../node/src/client/errors.js';
import type { Logger } from '../../../node/src/common/logger.js';
import { ReloadingTls, type ClientTlsOptions } from '../../../node/src/common/tls.js';
import type { NodeReport } from '../controller/status.js';

/** EpochNotMatch: a per-range call was planned against an epoch its range is no longer at (nothing changed:
 * observe again and re-plan; not a failure). */
export type NodeAdminErrorCode = 'NotLeader' | 'Refused' | 'Unavailable' | 'Timeout' | 'Failed' | 'EpochNotMatch';

export class NodeAdminError extends Error {
  override name = 'NodeAdminError';
  constructor(
    readonly code: NodeAdminErrorCode,
    message: string,
    /** Leader's client address, when a node named it (NotLeader). */
    readonly leaderAddress?: string,
    /** The range's epoch on the refusing store (EpochNotMatch), when it said. */
    readonly currentEpoch?: AdminRangeEpoch,
  ) {
    super(message);
  }
}

/** Maps node client errors to NodeAdminError codes (one place). */
export function toNodeAdminError(e: unknown, what: string): NodeAdminError {
  if (e instanceof NodeAdminError) return e;
  const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
  if (e instanceof KvNotLeaderError) return new NodeAdminError('NotLeader', msg, e.leaderAddress);
  // Before KvUnavailableError (its base class): a stale plan, not a node that cannot be reached.
  if (e instanceof AdminEpochNotMatchError) return new NodeAdminError('EpochNotMatch', msg, undefined, e.current);
  // A drain refused up front (the store is not in the cluster: nothing changed) / left work behind (retry).
  if (e instanceof DrainUnknownStoreError) return new NodeAdminError('Refused', msg);
  if (e instanceof DrainIncompleteError) return new NodeAdminError('Failed', msg);
  if (e instanceof KvPreconditionFailedError) return new NodeAdminError('Refused', msg);
  if (e instanceof KvDeadlineError) return new NodeAdminError('Timeout', msg);
  if (e instanceof KvUnavailableError) return new NodeAdminError('Unavailable', msg);
  if (e instanceof KvError) return new NodeAdminError('Failed', msg);
  return new NodeAdminError('Failed', msg);
}

/** Membership calls take the leader's client address (host:port); the node client follows a hint once. */
export interface NodeAdmin {
  status(address: string): Promise<NodeReport>;
  /**
   * `membershipOnly`: the store joins range 1 alone (its replicas of other ranges are the placement
   * driver's); otherwise the node also adds it to every range the leader's store holds.
   */
  addLearner(leader: string, raftId: number, raftAddress: string, membershipOnly?: boolean): Promise<string>;
  promote(leader: string, raftId: number, maxLag?: number, membershipOnly?: boolean): Promise<string>;
  removeMember(leader: string, raftId: number): Promise<string>;
  transferLeader(leader: string, toRaftId: number): Promise<string>;
  /**
   * Drains store `storeId` (client/drain.ts: every range's leadership off it; unless leadershipsOnly, its
   * replicas to stores lacking the range) through the admin addresses of every store (`addresses`: each
   * store's ranges and liveness are read there). Resumable: it re-plans from the observed shard map.
   */
  drainStore(addresses: string[], storeId: number, opts: DrainStoreOptions): Promise<string>;
  /** Makes the node generate a fresh snapshot (its configuration then includes a just-added learner). */
  snapshot(address: string): Promise<string>;
  close(): void;
}

/** The ranges one store holds, as its replicas see them (Admin.Ranges). */
export interface StoreRanges {
  storeId: number;
  ranges: RangeInfo[];
  /** The store's data filesystem: size and free bytes (0 or absent = not reported). */
  capacityBytes?: number;
  availableBytes?: number;
}

/** One replica change of one range (Admin AddLearner / Promote / RemoveMember with group_id). */
export type RangeChange = 'AddLearner' | 'Promote' | 'RemoveMember';

export type RangeEpoch = AdminRangeEpoch;

/**
 * The per-range calls the placement driver needs (issue 13). Separate from NodeAdmin so the in-memory
 * FakeNodeAdmin of the membership tests stays small; the gRPC admin implements both. Every call is
 * idempotent on the store (a learner added twice, a voter promoted twice, a non-member removed: no-ops).
 * `epoch`: the range's epoch the call was planned against; a store holding the range at another epoch
 * refuses with NodeAdminError EpochNotMatch (nothing changed).
 */
export interface RangeAdmin {
  ranges(address: string): Promise<StoreRanges>;
  /** Runs on a voter of the range (`address`, the range's leader when known; it takes the leadership to
   * check catch-up and quorum on real progress). `storeId`: the replica's store (peer ids are store ids). */
  changeRangeReplica(address: string, rangeId: number, change: RangeChange, storeId: number, epoch?: RangeEpoch): Promise<string>;
  transferRangeLeader(address: string, rangeId: number, toStoreId: number, epoch?: RangeEpoch): Promise<string>;
  /**
   * On the store at `address` itself: destroys its replica of `rangeId`, which the range's current
   * descriptor (`epoch`, `storeIds`: the leader's) no longer lists (the store missed its removal).
   */
  destroyStaleReplica(address: string, rangeId: number, epoch: RangeEpoch, storeIds: readonly number[]): Promise<string>;
}

export function isRangeAdmin(a: unknown): a is RangeAdmin {
  const x = a as Partial<RangeAdmin> | undefined;
  return typeof x?.ranges === 'function' && typeof x.changeRangeReplica === 'function' && typeof x.transferRangeLeader === 'function' && typeof x.destroyStaleReplica === 'function';
}

export interface DrainStoreOptions {
  /** Move leaderships only and keep every replica (a restart: the store comes back). */
  leadershipsOnly: boolean;
  /** Stores that take leaderships or replicas only when no other can (removed next). */
  avoid?: number[];
}

/** One line for events and logs: what a drain did. */
export function drainSummary(r: DrainResult, leadershipsOnly: boolean): string {
  const moved = `moved ${r.movedLeaderships} leadership(s)`;
  if (leadershipsOnly) return `store ${r.storeId}: ${moved}`;
  return `store ${r.storeId}: ${moved}, ${r.movedReplicas} replica(s), removed ${r.removedLearners} learner(s), kept ${r.kept.length} replica(s) no other store can take`;
}

export interface GrpcNodeAdminOptions {
  /** Deadline of Status calls (observation each pass). */
  statusTimeoutMs?: number;
  /** Deadline of membership calls (they wait for the change to commit). */
  changeTimeoutMs?: number;
  /** How long one replica move of a drain may take (default 60 s). */
  drainMoveTimeoutMs?: number;
  /**
   * A channel not used for this long is closed. Every pass calls Status on every pod, so a channel
   * idle this long belongs to a pod IP that is gone (pods get new IPs when they restart).
   */
  idleCloseMs?: number;
  now?: () => number;
  logger?: Logger;
  /**
   * Mutual TLS to the nodes (they then accept Admin only from an admin identity, default CN kvs-admin).
   * Pod IPs are not in node certificates: set `serverName` to a name they carry. Files are re-read on change.
   */
  tls?: ClientTlsOptions | ReloadingTls;
  /** TLS: the name the nodes' certificates are verified against (overrides tls.serverName). */
  serverName?: string;
}

export function reportOf(s: AdminStatus): NodeReport {
  return {
    raftId: Number(s.raftId),
    role: s.role,
    term: Number(s.term),
    commit: Number(s.commit),
    applied: Number(s.applied),
    leaderId: Number(s.leaderId),
    members: (s.members ?? []).map((m) => ({
      raftId: Number(m.raftId),
      role: m.role,
      match: Number(m.match),
      next: Number(m.next),
      state: m.state,
      recentActive: !!m.recentActive,
      incarnation: m.incarnation ?? '',
      refused: !!m.refused,
    })),
    incarnation: s.incarnation ?? '',
    identityRefused: !!s.identityRefused,
    // A node always holds range 1: 0 held means a node that does not report ranges.
    ...(Number(s.rangesHeld ?? 0) > 0 ? { ranges: { held: Number(s.rangesHeld), led: Number(s.rangesLed ?? 0), movable: Number(s.rangesMovable ?? 0) } } : {}),
  };
}

/** What ClusterNodeAdmins needs of a KvsCluster. */
export interface ClusterRef {
  metadata: { name: string; namespace?: string };
  spec: { tls?: unknown };
}

/**
 * The node admin API per cluster: plaintext for clusters without spec.tls; mutual TLS with the
 * operator's client certificate (an admin identity) for the others, verifying the nodes against the
 * DNS name of the cluster's client Service (`<name>.<namespace>.svc`) — the operator dials pod IPs,
 * which no certificate names. One channel pool per verified name, one TLS material for all.
 */
export class ClusterNodeAdmins {
  private readonly plain: GrpcNodeAdmin;
  private readonly secure = new Map<string, GrpcNodeAdmin>();
  private readonly warned = new Set<string>();

  constructor(private readonly opts: GrpcNodeAdminOptions & { clientTls?: ReloadingTls }) {
    const { clientTls: _unused, ...plain } = opts;
    void _unused;
    this.plain = new GrpcNodeAdmin(plain);
  }

  /**
   * `podModes`: how each pod of the cluster speaks TLS (controller/tls-mode.ts: plain, transition, tls).
   * While the operator turns TLS on or off, pods differ: TLS to those that offer it, plaintext to the others.
   */
  forCluster(c: ClusterRef, podModes: readonly string[] = []): NodeAdmin | undefined {
    const tlsSpec = c.spec.tls as { transition?: boolean } | undefined;
    if (!tlsSpec && podModes.every((m) => m === 'plain')) return this.plain;
    const ns = c.metadata.namespace ?? 'default';
    const serverName = `${c.metadata.name}.${ns}.svc`;
    if (!this.opts.clientTls) {
      if (!this.warned.has(serverName)) {
        this.warned.add(serverName);
        this.opts.logger?.warn('cluster has spec.tls (or nodes running TLS) but the operator has no client certificate (--tls-cert-file/--tls-key-file/--tls-ca-file): its nodes are not observed and membership does not change', { cluster: `${ns}/${c.metadata.name}` });
      }
      return undefined;
    }
    let a = this.secure.get(serverName);
    if (!a) {
      const { clientTls, ...rest } = this.opts;
      a = new GrpcNodeAdmin({ ...rest, tls: clientTls, serverName });
      this.secure.set(serverName, a);
    }
    // A pod still plaintext-only (TLS being turned on or off), or pods not known yet in a transition.
    const somePlain = podModes.includes('plain') || (podModes.length === 0 && tlsSpec?.transition === true);
    return somePlain ? new FallbackNodeAdmin(a, this.plain) : a;
  }

  close(): void {
    this.plain.close();
    for (const a of this.secure.values()) a.close();
    this.opts.clientTls?.close();
  }
}

/**
 * Tries `first`; a node that cannot be reached that way (Unavailable: the connection never came up, e.g.
 * the other protocol) is tried through `second`. Nothing was executed by a call that never connected.
 */
export class FallbackNodeAdmin implements NodeAdmin, RangeAdmin {
  constructor(
    private readonly first: NodeAdmin,
    private readonly second: NodeAdmin,
  ) {}
  private async either<T>(fn: (a: NodeAdmin) => Promise<T>): Promise<T> {
    try {
      return await fn(this.first);
    } catch (e) {
      if (!(e instanceof NodeAdminError) || e.code !== 'Unavailable') throw e;
      return fn(this.second);
    }
  }
  status(address: string): Promise<NodeReport> {
    return this.either((a) => a.status(address));
  }
  addLearner(leader: string, raftId: number, raftAddress: string, membershipOnly?: boolean): Promise<string> {
    return this.either((a) => a.addLearner(leader, raftId, raftAddress, membershipOnly));
  }
  promote(leader: string, raftId: number, maxLag?: number, membershipOnly?: boolean): Promise<string> {
    return this.either((a) => a.promote(leader, raftId, maxLag, membershipOnly));
  }
  removeMember(leader: string, raftId: number): Promise<string> {
    return this.either((a) => a.removeMember(leader, raftId));
  }
  transferLeader(leader: string, toRaftId: number): Promise<string> {
    return this.either((a) => a.transferLeader(leader, toRaftId));
  }
  drainStore(addresses: string[], storeId: number, opts: DrainStoreOptions): Promise<string> {
    return this.either((a) => a.drainStore(addresses, storeId, opts));
  }
  snapshot(address: string): Promise<string> {
    return this.either((a) => a.snapshot(address));
  }
  private rangeAdmin(a: NodeAdmin): RangeAdmin {
    if (!isRangeAdmin(a)) throw new NodeAdminError('Failed', 'this admin client has no per-range calls');
    return a;
  }
  ranges(address: string): Promise<StoreRanges> {
    return this.either((a) => this.rangeAdmin(a).ranges(address));
  }
  changeRangeReplica(address: string, rangeId: number, change: RangeChange, storeId: number, epoch?: RangeEpoch): Promise<string> {
    return this.either((a) => this.rangeAdmin(a).changeRangeReplica(address, rangeId, change, storeId, epoch));
  }
  transferRangeLeader(address: string, rangeId: number, toStoreId: number, epoch?: RangeEpoch): Promise<string> {
    return this.either((a) => this.rangeAdmin(a).transferRangeLeader(address, rangeId, toStoreId, epoch));
  }
  destroyStaleReplica(address: string, rangeId: number, epoch: RangeEpoch, storeIds: readonly number[]): Promise<string> {
    return this.either((a) => this.rangeAdmin(a).destroyStaleReplica(address, rangeId, epoch, storeIds));
  }
  /** The wrapped admins are owned by ClusterNodeAdmins. */
  close(): void {}
}

/** Default idle time before a channel is closed: longer than the default resync (300 s) twice. */
export const ADMIN_CHANNEL_IDLE_MS = 15 * 60_000;

export class GrpcNodeAdmin implements NodeAdmin, RangeAdmin {
  private readonly clients = new Map<string, { client: AdminClient; lastUsed: number }>();
  private readonly statusTimeoutMs: number;
  private readonly changeTimeoutMs: number;
  private readonly drainMoveTimeoutMs: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  /** One set of TLS material for every channel (undefined = plaintext). */
  private readonly tls: ReloadingTls | undefined;
  private readonly ownsTls: boolean;
  private readonly serverName: string | undefined;

  constructor(private readonly opts: GrpcNodeAdminOptions = {}) {
    const t = opts.tls;
    this.ownsTls = t !== undefined && !(t instanceof ReloadingTls);
    this.serverName = opts.serverName ?? (t instanceof ReloadingTls ? undefined : t?.serverName);
    this.tls =
      t === undefined || t instanceof ReloadingTls
        ? t
        : new ReloadingTls({ sources: { ca: t.ca, ...(t.cert !== undefined ? { cert: t.cert } : {}), ...(t.key !== undefined ? { key: t.key } : {}) }, role: 'operator', ...(opts.logger ? { logger: opts.logger } : {}) });
    this.statusTimeoutMs = opts.statusTimeoutMs ?? 2_000;
    this.changeTimeoutMs = opts.changeTimeoutMs ?? 15_000;
    this.drainMoveTimeoutMs = opts.drainMoveTimeoutMs ?? 60_000;
    this.idleMs = opts.idleCloseMs ?? ADMIN_CHANNEL_IDLE_MS;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Admin is on its own port (names.ts PORT_ADMIN) while NOT_LEADER hints name the leader's Kv address:
   * a hint leads to the admin address on its host, never to the Kv port.
   */
  private clientOptions() {
    return { timeoutMs: this.changeTimeoutMs, followAnyLeaderHint: false, ...(this.tls ? { tls: this.tls, ...(this.serverName !== undefined ? { serverName: this.serverName } : {}) } : {}) };
  }

  /** Addresses with an open channel. */
  get openAddresses(): string[] {
    return [...this.clients.keys()];
  }

  private client(address: string): AdminClient {
    const t = this.now();
    this.closeIdle(t);
    let c = this.clients.get(address);
    if (!c) {
      c = { client: new AdminClient([address], this.clientOptions()), lastUsed: t };
      this.clients.set(address, c);
    }
    c.lastUsed = t;
    return c.client;
  }

  /** Closes the channels unused for idleCloseMs (pod IPs no longer in use). */
  closeIdle(now = this.now()): void {
    for (const [address, c] of this.clients) {
      if (now - c.lastUsed < this.idleMs) continue;
      c.client.close();
      this.clients.delete(address);
      this.opts.logger?.debug('closed idle admin channel', { address, idleMs: now - c.lastUsed });
    }
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toNodeAdminError(e, what);
    }
  }

  status(address: string): Promise<NodeReport> {
    return this.run(`Status ${address}`, async () => reportOf(await this.client(address).callAt<AdminStatus>(address, 'Status', {}, this.statusTimeoutMs)));
  }
  addLearner(leader: string, raftId: number, raftAddress: string, membershipOnly = false): Promise<string> {
    return this.run(`AddLearner ${raftId}`, async () => (await this.client(leader).addLearner(raftId, raftAddress, 0, membershipOnly)).message);
  }
  promote(leader: string, raftId: number, maxLag = 0, membershipOnly = false): Promise<string> {
    return this.run(`Promote ${raftId}`, async () => (await this.client(leader).promote(raftId, maxLag, 0, membershipOnly)).message);
  }
  removeMember(leader: string, raftId: number): Promise<string> {
    return this.run(`RemoveMember ${raftId}`, async () => (await this.client(leader).removeMember(raftId, false)).message);
  }
  transferLeader(leader: string, toRaftId: number): Promise<string> {
    return this.run(`TransferLeader ${toRaftId}`, async () => (await this.client(leader).transferLeader(toRaftId, 5000)).message);
  }
  snapshot(address: string): Promise<string> {
    return this.run(`Snapshot ${address}`, async () => (await this.client(address).snapshot(address)).message);
  }
  ranges(address: string): Promise<StoreRanges> {
    return this.run(`Ranges ${address}`, async () => this.client(address).ranges(address));
  }
  changeRangeReplica(address: string, rangeId: number, change: RangeChange, storeId: number, epoch?: RangeEpoch): Promise<string> {
    const req = change === 'AddLearner' ? { raftId: storeId, address: '' } : change === 'Promote' ? { raftId: storeId, maxLag: 0 } : { raftId: storeId, force: false };
    return this.run(`${change} store ${storeId} range ${rangeId}`, async () => (await this.client(address).call<AdminResult>(change, { ...req, groupId: rangeId, ...(epoch ? { epoch } : {}) })).message);
  }
  transferRangeLeader(address: string, rangeId: number, toStoreId: number, epoch?: RangeEpoch): Promise<string> {
    return this.run(`TransferLeader range ${rangeId} to store ${toStoreId}`, async () => (await this.client(address).call<AdminResult>('TransferLeader', { toRaftId: toStoreId, timeoutMs: 5000, groupId: rangeId, ...(epoch ? { epoch } : {}) }, 10_000)).message);
  }
  destroyStaleReplica(address: string, rangeId: number, epoch: RangeEpoch, storeIds: readonly number[]): Promise<string> {
    return this.run(`DestroyStaleReplica range ${rangeId} at ${address}`, async () => (await this.client(address).destroyStaleReplica(address, rangeId, epoch, storeIds)).message);
  }
  drainStore(addresses: string[], storeId: number, opts: DrainStoreOptions): Promise<string> {
    return this.run(`DrainStore ${storeId}`, async () => {
      // A client over every store (the drain reads each one's ranges), for this call only.
      const client = new AdminClient(addresses, this.clientOptions());
      try {
        // Two rounds: the operator plans the step again on its next pass if anything is left.
        const r = await runDrain(client, storeId, {
          leadershipsOnly: opts.leadershipsOnly,
          ...(opts.avoid ? { avoidTargets: opts.avoid } : {}),
          passes: 2,
          moveTimeoutMs: this.drainMoveTimeoutMs,
          ...(this.opts.logger ? { logger: this.opts.logger } : {}),
        });
        return drainSummary(r, opts.leadershipsOnly);
      } finally {
        client.close();
      }
    });
  }
  /** Drops the cached channel of an address (a pod got a new IP). */
  forget(address: string): void {
    this.clients.get(address)?.client.close();
    this.clients.delete(address);
  }
  close(): void {
    if (this.ownsTls) this.tls?.close();
    for (const c of this.clients.values()) c.client.close();
    this.clients.clear();
  }
}

/**
 * In-memory stand-in for a kvs Raft group, for unit and integration tests: nodes are addresses with a
 * raft id; the configuration changes as the calls ask, with the node's refusals (not caught up,
 * quorum at risk, not leader).
 */
export class FakeNodeAdmin implements NodeAdmin {
  /** address → raft id of the node serving there. */
  readonly nodes = new Map<string, number>();
  /** The configuration: raft id → role and progress. */
  readonly config = new Map<number, { role: 'voter' | 'learner'; match: number; state: string; recentActive: boolean }>();
  leaderId = 0;
  term = 1;
  commit = 10;
  /** Addresses that do not answer. */
  readonly down = new Set<string>();
  /** Learners catch up instantly unless listed here. */
  readonly lagging = new Set<number>();
  readonly calls: string[] = [];
  /**
   * Ranges besides range 1, each held by every member (leaders in `rangesLed`). Status reports the
   * counts (ranges_held/led/movable) unless `reportsRanges` is false (a node of an older version).
   */
  ranges = 0;
  reportsRanges = true;
  /** Raft id → ranges besides range 1 it leads. */
  readonly rangesLed = new Map<number, number>();
  /** Raft id → its replicas another store lacks (a full drain moves them). */
  readonly movable = new Map<number, number>();
  /** Raft id → ranges it led (range 1 included) when RemoveMember was called for it. */
  readonly ledAtRemoval = new Map<number, number>();
  /** At most this many leaderships move per DrainStore call, then it fails incomplete (a drain cut short). */
  drainBudget: number | undefined;

  /** Ranges `raftId` leads, range 1 included. */
  led(raftId: number): number {
    return (this.rangesLed.get(raftId) ?? 0) + (raftId === this.leaderId ? 1 : 0);
  }

  addNode(address: string, raftId: number, role?: 'voter' | 'learner'): void {
    this.nodes.set(address, raftId);
    if (role) this.config.set(raftId, { role, match: this.commit, state: 'Replicate', recentActive: true });
  }

  private check(address: string, leaderOnly: boolean): void {
    if (this.down.has(address) || !this.nodes.has(address)) throw new NodeAdminError('Unavailable', `${address} does not answer`);
    if (leaderOnly && this.nodes.get(address) !== this.leaderId) {
      const leaderAddr = [...this.nodes].find(([, id]) => id === this.leaderId)?.[0];
      throw new NodeAdminError('NotLeader', `${address} is not the leader`, leaderAddr);
    }
  }

  async status(address: string): Promise<NodeReport> {
    this.check(address, false);
    const id = this.nodes.get(address)!;
    const isLeader = id === this.leaderId;
    return {
      raftId: id,
      role: isLeader ? 'Leader' : 'Follower',
      term: this.term,
      commit: this.commit,
      applied: this.commit,
      leaderId: this.leaderId,
      members: isLeader ? [...this.config].sort(([a], [b]) => a - b).map(([raftId, m]) => ({ raftId, role: m.role, match: this.lagging.has(raftId) ? 0 : m.match, next: m.match + 1, state: this.lagging.has(raftId) ? 'Probe' : m.state, recentActive: m.recentActive })) : [],
      ...(this.reportsRanges ? { ranges: { held: 1 + (this.config.has(id) ? this.ranges : 0), led: this.led(id), movable: this.movable.get(id) ?? 0 } } : {}),
    };
  }

  async addLearner(leader: string, raftId: number, raftAddress: string, membershipOnly = false): Promise<string> {
    this.calls.push(`AddLearner ${raftId} ${raftAddress}${membershipOnly ? ' membership-only' : ''}`);
    this.check(leader, true);
    const m = this.config.get(raftId);
    if (m?.role === 'voter') throw new NodeAdminError('Refused', `${raftId} is already a voter`);
    if (!m) this.config.set(raftId, { role: 'learner', match: this.commit, state: 'Replicate', recentActive: true });
    this.commit++;
    return `added learner ${raftId}`;
  }

  async promote(leader: string, raftId: number, _maxLag = 0, membershipOnly = false): Promise<string> {
    this.calls.push(`Promote ${raftId}${membershipOnly ? ' membership-only' : ''}`);
    this.check(leader, true);
    const m = this.config.get(raftId);
    if (!m) throw new NodeAdminError('Refused', `${raftId} is not a member`);
    if (this.lagging.has(raftId)) throw new NodeAdminError('Refused', `learner ${raftId} is not caught up`);
    m.role = 'voter';
    this.commit++;
    return `promoted ${raftId}`;
  }

  async removeMember(leader: string, raftId: number): Promise<string> {
    this.calls.push(`RemoveMember ${raftId}`);
    this.check(leader, true);
    const m = this.config.get(raftId);
    if (!m) return `${raftId} is not a member`;
    if (m.role === 'voter') {
      const remaining = [...this.config].filter(([id, x]) => x.role === 'voter' && id !== raftId);
      const healthy = remaining.filter(([id, x]) => id === this.leaderId || x.recentActive);
      if (remaining.length === 0 || healthy.length < Math.floor(remaining.length / 2) + 1) throw new NodeAdminError('Refused', `removing ${raftId} would lose the quorum`);
    }
    this.ledAtRemoval.set(raftId, this.led(raftId));
    // The removal's fan-out: the group's leader takes the ranges the removed store still led.
    const left = this.rangesLed.get(raftId) ?? 0;
    if (left > 0) this.rangesLed.set(this.leaderId, (this.rangesLed.get(this.leaderId) ?? 0) + left);
    this.rangesLed.delete(raftId);
    this.movable.delete(raftId);
    this.config.delete(raftId);
    this.commit++;
    return `removed ${raftId}`;
  }

  async transferLeader(leader: string, toRaftId: number): Promise<string> {
    this.calls.push(`TransferLeader ${toRaftId}`);
    this.check(leader, false);
    if (this.config.get(toRaftId)?.role !== 'voter') throw new NodeAdminError('Refused', `${toRaftId} is not a voter`);
    this.leaderId = toRaftId;
    this.term++;
    return `leader is now ${toRaftId}`;
  }

  /** Like client/drain.ts: each leadership to the live voter leading fewest ranges; errors mapped as GrpcNodeAdmin maps them. */
  async drainStore(addresses: string[], storeId: number, opts: DrainStoreOptions): Promise<string> {
    this.calls.push(`DrainStore ${storeId}${opts.leadershipsOnly ? ' leaderships' : ''}${opts.avoid?.length ? ` avoid ${opts.avoid.join(',')}` : ''}`);
    const what = `DrainStore ${storeId}`;
    const answering = addresses.filter((a) => this.nodes.has(a) && !this.down.has(a));
    if (answering.length === 0) throw new NodeAdminError('Unavailable', `${what}: no store answered`);
    const live = new Set(answering.map((a) => this.nodes.get(a)!));
    if (!this.config.has(storeId)) throw toNodeAdminError(new DrainUnknownStoreError(storeId, [...this.config.keys()].sort((a, b) => a - b)), what);
    const targets = [...this.config].filter(([id, m]) => id !== storeId && m.role === 'voter' && live.has(id)).map(([id]) => id);
    const avoid = new Set(opts.avoid ?? []);
    const fewest = () => [...targets].sort((a, b) => Number(avoid.has(a)) - Number(avoid.has(b)) || this.led(a) - this.led(b) || a - b)[0];
    let moved = 0;
    const incomplete = (): NodeAdminError =>
      toNodeAdminError(new DrainIncompleteError(storeId, [`${this.led(storeId)} leadership(s) left`]), what);
    while (this.led(storeId) > 0) {
      const to = fewest();
      if (to === undefined || (this.drainBudget !== undefined && moved >= this.drainBudget)) throw incomplete();
      if (this.leaderId === storeId) {
        this.leaderId = to;
        this.term++;
      } else {
        this.rangesLed.set(storeId, (this.rangesLed.get(storeId) ?? 0) - 1);
        this.rangesLed.set(to, (this.rangesLed.get(to) ?? 0) + 1);
      }
      moved++;
    }
    const replicas = opts.leadershipsOnly ? 0 : (this.movable.get(storeId) ?? 0);
    if (!opts.leadershipsOnly) this.movable.delete(storeId);
    return opts.leadershipsOnly ? `store ${storeId}: moved ${moved} leadership(s)` : `store ${storeId}: moved ${moved} leadership(s), ${replicas} replica(s)`;
  }

  async snapshot(address: string): Promise<string> {
    this.calls.push(`Snapshot ${this.nodes.get(address) ?? address}`);
    this.check(address, false);
    return `snapshot generated at index ${this.commit}`;
  }

  close(): void {}
}
