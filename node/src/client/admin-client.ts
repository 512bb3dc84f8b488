// Client of kvs.v1.Admin (proto/admin.proto), used by kvsctl and tests (the operator can use it too).
// Membership calls must reach the leader: on NOT_LEADER with a `kvs-leader` hint the call is retried
// once at the hinted address; otherwise the other endpoints are tried in turn.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS } from '../common/proto.js';
import { protoPath } from '../common/paths.js';
import type { AdminStatusResponse__Output } from '../generated/kvs/v1/AdminStatusResponse.js';
import type { AdminResponse__Output } from '../generated/kvs/v1/AdminResponse.js';
import { KvInvalidArgumentError, KvNotLeaderError, KvRoutingError, KvUnavailableError, fromGrpcError, type KvError } from './errors.js';
import { MD_RANGE_EPOCH, parseRangeEpoch } from '../common/wire-errors.js';
import { parseEndpoints } from './kv-client.js';
import { clientCredentials, type ClientTlsOptions, type ReloadingTls } from '../common/tls.js';

type AdminMethod = 'Status' | 'AddLearner' | 'Promote' | 'RemoveMember' | 'TransferLeader' | 'Snapshot' | 'Compact' | 'Settings' | 'Ranges' | 'SplitRange' | 'DestroyStaleReplica' | 'TxnLocks' | 'ResolveLocks';

/** A range's epoch as the per-range Admin calls carry it (proto RangeEpoch). */
export interface AdminRangeEpoch {
  confVer: number;
  version: number;
}

/**
 * A per-range Admin call named an epoch its range is no longer (or not yet) at: nothing was changed.
 * `current` is the epoch the refusing replica holds (from the `kvs-range-epoch` trailer), when sent.
 * Not retryable as is: observe the range again and re-plan.
 */
export class AdminEpochNotMatchError extends KvRoutingError {
  override name = 'AdminEpochNotMatchError';
  constructor(message: string, rangeId: number | undefined, readonly current: AdminRangeEpoch | undefined) {
    super(message, 'EPOCH_NOT_MATCH', rangeId);
  }
}

/** fromGrpcError plus the epoch trailer of an EPOCH_NOT_MATCH (client/errors.ts does not read it). */
function adminErrorOf(err: unknown, context: string): KvError {
  const e = fromGrpcError(err, context);
  if (!(e instanceof KvRoutingError) || e.serverCode !== 'EPOCH_NOT_MATCH') return e;
  const md = (err as grpc.ServiceError).metadata as grpc.Metadata | undefined;
  const v = md?.get(MD_RANGE_EPOCH)[0];
  return new AdminEpochNotMatchError(e.message, e.rangeId, parseRangeEpoch(typeof v === 'string' ? v : v?.toString()));
}

/** One range replica as a store reports it (Admin.Ranges). */
export interface RangeInfo {
  rangeId: number;
  start: Buffer;
  end: Buffer;
  confVer: number;
  version: number;
  replicas: Array<{ storeId: number; peerId: number; role: string }>;
  leaderId: number;
  leaderAddress: string;
  approximateBytes: number;
  role: string;
  term: number;
  applied: number;
  proposals: number;
  /** Requests per second on this replica over the last 10–20 s (a range's load: the sum over its replicas). */
  readsPerSec: number;
  writesPerSec: number;
}

function rangeInfoOf(r: Record<string, unknown>): RangeInfo {
  const n = (v: unknown): number => Number(v ?? 0);
  const buf = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.alloc(0));
  return {
    rangeId: n(r.rangeId),
    start: buf(r.start),
    end: buf(r.end),
    confVer: n(r.confVer),
    version: n(r.version),
    replicas: ((r.replicas as Array<Record<string, unknown>> | undefined) ?? []).map((x) => ({ storeId: n(x.storeId), peerId: n(x.peerId), role: String(x.role ?? '') })),
    leaderId: n(r.leaderId),
    leaderAddress: String(r.leaderAddress ?? ''),
    approximateBytes: n(r.approximateBytes),
    role: String(r.role ?? ''),
    term: n(r.term),
    applied: n(r.applied),
    proposals: n(r.proposals),
    readsPerSec: n(r.readsPerSec),
    writesPerSec: n(r.writesPerSec),
  };
}

/** Replicated cluster settings (Admin.Settings). */
export interface ClusterSettings {
  sessionTtlMs: number;
  maxResultsPerSession: number;
  /** false: never set, the defaults are in force. */
  stored: boolean;
}

interface AdminCtor {
  new (address: string, creds: grpc.ChannelCredentials, opts?: grpc.ChannelOptions): grpc.Client;
}

let ctor: AdminCtor | undefined;
function adminCtor(): AdminCtor {
  if (!ctor) {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath('admin.proto'), PROTO_LOADER_OPTIONS)) as unknown as { kvs: { v1: { Admin: AdminCtor } } };
    ctor = pkg.kvs.v1.Admin;
  }
  return ctor;
}

/** A lock of a prepared cross-range transaction (Admin.TxnLocks). */
export interface TxnLockRow {
  key: Buffer;
  txnId: string;
  primary: Buffer;
  kind: string;
  prepareTs: number;
  ttlMs: number;
  ageMs: number;
  rangeId: number;
  /** Range locks: the scanned span (key empty). */
  start: Buffer;
  end: Buffer;
}

export type AdminStatus = AdminStatusResponse__Output;
export type AdminResult = AdminResponse__Output;

export interface AdminClientOptions {
  /** Default deadline of a call (default 15 s). */
  timeoutMs?: number;
  /** Mutual TLS (see KvClientOptions.tls); nodes accept only an admin identity's certificate for Admin. */
  tls?: ClientTlsOptions | ReloadingTls;
  /** TLS: verify the nodes' certificates against this name instead of the dialed host (e.g. a pod IP). */
  serverName?: string;
  /**
   * Follow a NOT_LEADER hint to any address (default true). The hint is the leader's Kv address: when
   * Admin is served on separate addresses (--admin-listen), pass false and the hint leads to the endpoint
   * on the hint's host (or the hint, when it is an endpoint); otherwise the other endpoints are tried in turn.
   */
  followAnyLeaderHint?: boolean;
}

export class AdminClient {
  readonly endpoints: string[];
  private readonly stubs = new Map<string, grpc.Client>();
  private readonly timeoutMs: number;
  private readonly followAnyHint: boolean;
  private readonly security: { credentials: grpc.ChannelCredentials; close(): void };

  constructor(endpoints: string | string[], options: number | AdminClientOptions = {}) {
    this.endpoints = parseEndpoints(endpoints);
    const o = typeof options === 'number' ? { timeoutMs: options } : options;
    this.timeoutMs = o.timeoutMs ?? 15_000;
    this.followAnyHint = o.followAnyLeaderHint ?? true;
    this.security = clientCredentials(o.tls, o.serverName !== undefined ? { serverName: o.serverName } : {});
  }

  private stub(endpoint: string): grpc.Client {
    let s = this.stubs.get(endpoint);
    if (!s) {
      s = new (adminCtor())(endpoint, this.security.credentials);
      this.stubs.set(endpoint, s);
    }
    return s;
  }

  /** One call at one endpoint. */
  callAt<Res>(endpoint: string, method: AdminMethod, req: object, timeoutMs = this.timeoutMs): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const stub = this.stub(endpoint) as unknown as Record<string, (req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => void>;
      stub[method]!.call(stub, req, new grpc.Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
        if (err) reject(adminErrorOf(err, `${method} ${endpoint}`));
        else resolve(res as Res);
      });
    });
  }

  /**
   * Tries the endpoints in turn (those in `tryLast` after the others: a per-range change runs on the
   * first store holding the range, which may take its leadership first); follows a leader hint.
   */
  async call<Res>(method: AdminMethod, req: object, timeoutMs = this.timeoutMs, tryLast: readonly string[] = []): Promise<Res> {
    let last: unknown;
    const tried = new Set<string>();
    const queue = [...this.endpoints.filter((e) => !tryLast.includes(e)), ...this.endpoints.filter((e) => tryLast.includes(e))];
    while (queue.length > 0) {
      const ep = queue.shift()!;
      if (tried.has(ep)) continue;
      tried.add(ep);
      try {
        return await this.callAt<Res>(ep, method, req, timeoutMs);
      } catch (e) {
        last = e;
        // A stale epoch is the range's answer, not the endpoint's: another endpoint would say the same.
        if (e instanceof AdminEpochNotMatchError) throw e;
        const next = e instanceof KvNotLeaderError ? this.hintEndpoint(e.leaderAddress) : undefined;
        if (next !== undefined && !tried.has(next)) queue.unshift(next);
        else if (!(e instanceof KvUnavailableError) && !(e instanceof KvNotLeaderError && queue.length > 0)) throw e;
      }
    }
    throw last instanceof Error ? last : new KvUnavailableError(`${method}: no endpoint answered`);
  }

  /**
   * Where a NOT_LEADER hint (the leader's Kv address) leads: the hint itself when any hint is followed or
   * it is an endpoint; else the endpoint on the hint's host (Admin on its own port, --admin-listen).
   */
  private hintEndpoint(hint: string | undefined): string | undefined {
    if (!hint) return undefined;
    if (this.followAnyHint || this.endpoints.includes(hint)) return hint;
    const host = hint.slice(0, hint.lastIndexOf(':'));
    return this.endpoints.find((ep) => ep.slice(0, ep.lastIndexOf(':')) === host);
  }

  status(endpoint?: string): Promise<AdminStatus> {
    return endpoint ? this.callAt<AdminStatus>(endpoint, 'Status', {}) : this.call<AdminStatus>('Status', {});
  }
  /** Status of every endpoint (undefined for those that do not answer). */
  async statusAll(timeoutMs = 3000): Promise<Array<AdminStatus | undefined>> {
    return Promise.all(this.endpoints.map((e) => this.callAt<AdminStatus>(e, 'Status', {}, timeoutMs).catch(() => undefined)));
  }
  /**
   * Adds a learner to every range of the store (rangeId 0), or to one range. `membershipOnly` (store
   * level): range 1 alone — a placement driver places the store's replicas of the other ranges.
   */
  addLearner(raftId: number, address: string, rangeId = 0, membershipOnly = false): Promise<AdminResult> {
    return this.call('AddLearner', { raftId, address, groupId: rangeId, membershipOnly });
  }
  promote(raftId: number, maxLag = 0, rangeId = 0, membershipOnly = false): Promise<AdminResult> {
    return this.call('Promote', { raftId, maxLag, groupId: rangeId, membershipOnly });
  }
  removeMember(raftId: number, force = false, rangeId = 0): Promise<AdminResult> {
    return this.call('RemoveMember', { raftId, force, groupId: rangeId });
  }
  /** Moves leadership to `toRaftId`: of range 1 (the store's membership group), or of `rangeId`. */
  transferLeader(toRaftId: number, timeoutMs = 5000, rangeId = 0): Promise<AdminResult> {
    return this.call('TransferLeader', { toRaftId, timeoutMs, groupId: rangeId }, timeoutMs + 5000);
  }
  snapshot(endpoint?: string): Promise<AdminResult> {
    return endpoint ? this.callAt(endpoint, 'Snapshot', {}) : this.call('Snapshot', {});
  }
  compact(index = 0, endpoint?: string): Promise<AdminResult> {
    return endpoint ? this.callAt(endpoint, 'Compact', { index }) : this.call('Compact', { index });
  }
  /** Reads the replicated settings, or changes the given ones (through the log) and returns the result. */
  async settings(change: { sessionTtlMs?: number; maxResultsPerSession?: number } = {}): Promise<ClusterSettings> {
    // 0 is "not set" on the wire (proto3): sent, it would change nothing and read back the old value as
    // if it had been accepted. The store checks the bounds of everything else.
    for (const [field, v] of Object.entries(change)) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) throw new KvInvalidArgumentError(`${field} must be a positive integer, got ${v}; nothing was changed`, field);
    }
    const r = await this.call<{ sessionTtlMs?: number | string; maxResultsPerSession?: number | string; stored?: boolean }>('Settings', change);
    return { sessionTtlMs: Number(r.sessionTtlMs ?? 0), maxResultsPerSession: Number(r.maxResultsPerSession ?? 0), stored: r.stored === true };
  }

  /** The ranges one store holds (its replicas' view), from `endpoint` or the first that answers. */
  async ranges(endpoint?: string): Promise<{ storeId: number; ranges: RangeInfo[]; capacityBytes?: number; availableBytes?: number }> {
    const r = endpoint ? await this.callAt<Record<string, unknown>>(endpoint, 'Ranges', {}) : await this.call<Record<string, unknown>>('Ranges', {});
    return {
      storeId: Number(r.storeId ?? 0),
      ranges: ((r.ranges as Array<Record<string, unknown>> | undefined) ?? []).map(rangeInfoOf),
      // The data directory's filesystem (0 = not reported).
      capacityBytes: Number(r.capacityBytes ?? 0),
      availableBytes: Number(r.availableBytes ?? 0),
    };
  }

  /**
   * Destroys the store's replica of `rangeId` (at `endpoint`) when the range's current descriptor —
   * `epoch` and `storeIds`, as its leader reports it — no longer lists the store and is newer than what the
   * replica applied (it missed its removal). Refused (PRECONDITION_FAILED) otherwise.
   */
  destroyStaleReplica(endpoint: string, rangeId: number, epoch: AdminRangeEpoch, storeIds: readonly number[]): Promise<AdminResult> {
    return this.callAt(endpoint, 'DestroyStaleReplica', { rangeId, epoch, storeIds: [...storeIds] });
  }

  /** Splits the range holding `key` at `key` (on that range's leader: NOT_LEADER hints are followed). */
  /**
   * Splits the range holding `key` there. A range that just split (or whose leader just died) may have
   * no leader for an election's time: NOT_LEADER without a hint is retried for up to `waitMs`.
   */
  async splitRange(key: Buffer, waitMs = 10_000): Promise<{ left: RangeInfo; right: RangeInfo }> {
    const deadline = Date.now() + waitMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.call<Record<string, unknown>>('SplitRange', { key });
        return { left: rangeInfoOf(r.left as Record<string, unknown>), right: rangeInfoOf(r.right as Record<string, unknown>) };
      } catch (e) {
        if (!(e instanceof KvNotLeaderError) || Date.now() + 200 > deadline) throw e;
        await new Promise((res) => setTimeout(res, Math.min(50 * attempt, 500)));
      }
    }
  }

  /**
   * Locks of prepared cross-range transactions in [start, end), as every endpoint's store holds them
   * (replicas of one range on several stores show the same lock once). Stores that do not answer are
   * listed in `unreachable`.
   */
  async txnLocks(opts: { start?: Buffer; end?: Buffer; limit?: number } = {}): Promise<{ locks: TxnLockRow[]; more: boolean; unreachable: string[] }> {
    const seen = new Map<string, TxnLockRow>();
    let more = false;
    const unreachable: string[] = [];
    for (const ep of this.endpoints) {
      try {
        const r = await this.callAt<{ locks?: Array<Record<string, unknown>>; more?: boolean }>(ep, 'TxnLocks', { start: opts.start ?? Buffer.alloc(0), end: opts.end ?? Buffer.alloc(0), limit: opts.limit ?? 0 });
        more ||= r.more === true;
        for (const l of r.locks ?? []) {
          const row: TxnLockRow = {
            key: Buffer.from((l.key as Buffer | undefined) ?? Buffer.alloc(0)),
            txnId: String(l.txnId ?? ''),
            primary: Buffer.from((l.primary as Buffer | undefined) ?? Buffer.alloc(0)),
            kind: String(l.kind ?? ''),
            prepareTs: Number(l.prepareTs ?? 0),
            ttlMs: Number(l.ttlMs ?? 0),
            ageMs: Number(l.ageMs ?? 0),
            rangeId: Number(l.rangeId ?? 0),
            start: Buffer.from((l.start as Buffer | undefined) ?? Buffer.alloc(0)),
            end: Buffer.from((l.end as Buffer | undefined) ?? Buffer.alloc(0)),
          };
          const id = `${row.rangeId}/${row.txnId}/${row.kind}/${row.key.toString('hex')}/${row.start.toString('hex')}`;
          const had = seen.get(id);
          if (had === undefined || row.ageMs > had.ageMs) seen.set(id, row);
        }
      } catch {
        unreachable.push(ep);
      }
    }
    const locks = [...seen.values()].sort((a, b) => Buffer.compare(a.key.length > 0 ? a.key : a.start, b.key.length > 0 ? b.key : b.start));
    return { locks, more, unreachable };
  }

  /** Settles the locks on `key` (at the first store holding its range); `force` aborts live transactions. */
  resolveLocks(key: Buffer, force = false): Promise<AdminResult> {
    return this.call<AdminResult>('ResolveLocks', { key, force });
  }

  close(): void {
    for (const s of this.stubs.values()) s.close();
    this.stubs.clear();
    this.security.close();
  }
}
