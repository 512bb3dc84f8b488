// Range descriptors (stage 2, sharding): the unit of the shard map. A range is [start, end) of the user
// key space (end empty = +∞), replicated by its own Raft group; its replicas live on stores.
//
// Epochs follow TiKV's RegionEpoch rules (tikv components/raftstore/src/store/util.rs
// `admin_cmd_epoch_lookup`, which "MUST NOT be changed"):
//   * a split bumps `version` (every resulting range gets the new version);
//   * a replica change bumps `confVer` by the number of replicas changed;
//   * leader transfers change nothing.
// Ordinary reads and writes carry the epoch they were routed with and are checked on `version` only (a
// replica change does not move keys), at propose time and again at apply time, so a write routed before
// a split and applied after it fails with EPOCH_NOT_MATCH instead of landing in the wrong range.
//
// Split keeps the parent's id on the LEFT half (CockroachDB's convention: the LHS keeps the RangeID) and
// gives the right half a new range id and one new peer id per replica; the replicas (stores, roles) are
// the parent's. Everything here is pure: no I/O, deterministic, so every replica of the parent computes
// exactly the same two descriptors when it applies the split command.

export type ReplicaRole = 'voter' | 'learner';

export interface ReplicaDescriptor {
  /** The store (node process) holding the replica. */
  storeId: number;
  /** Raft peer id of the replica, unique cluster-wide and never reused. */
  peerId: number;
  role: ReplicaRole;
}

export interface RangeEpoch {
  confVer: number;
  version: number;
}

export interface RangeDescriptor {
  rangeId: number;
  /** Inclusive start key; empty = the beginning of the key space. */
  start: Buffer;
  /** Exclusive end key; empty = the end of the key space (+∞). */
  end: Buffer;
  epoch: RangeEpoch;
  replicas: ReplicaDescriptor[];
}

export class RangeDescriptorError extends Error {
  override readonly name = 'RangeDescriptorError';
  readonly code = 'INVALID_RANGE_DESCRIPTOR' as const;
}

/** Whether `key` lies in [d.start, d.end). */
export function containsKey(d: Pick<RangeDescriptor, 'start' | 'end'>, key: Buffer): boolean {
  if (Buffer.compare(key, d.start) < 0) return false;
  return d.end.length === 0 || Buffer.compare(key, d.end) < 0;
}

/** Whether [start, end) (end empty = +∞) lies entirely inside the range. */
export function containsSpan(d: Pick<RangeDescriptor, 'start' | 'end'>, start: Buffer, end: Buffer): boolean {
  if (Buffer.compare(start, d.start) < 0) return false;
  if (d.end.length === 0) return true;
  if (end.length === 0) return false;
  return Buffer.compare(end, d.end) <= 0;
}

/** Whether [a.start, a.end) and [b.start, b.end) overlap (empty end = +∞). */
export function spansOverlap(a: Pick<RangeDescriptor, 'start' | 'end'>, b: Pick<RangeDescriptor, 'start' | 'end'>): boolean {
  const aStartsBeforeBEnds = b.end.length === 0 || Buffer.compare(a.start, b.end) < 0;
  const bStartsBeforeAEnds = a.end.length === 0 || Buffer.compare(b.start, a.end) < 0;
  return aStartsBeforeBEnds && bStartsBeforeAEnds;
}

/**
 * The request check of an ordinary read/write: its epoch must name the range's current `version`
 * (splits/merges). An older version means the range's bounds moved under the request; a newer one means
 * this replica has not applied the split yet. Either way: EPOCH_NOT_MATCH (retry after a cache refresh).
 */
export function requestEpochMatches(current: RangeEpoch, request: RangeEpoch): boolean {
  return current.version === request.version;
}

/** Admin commands (splits, replica changes) check both fields. */
export function adminEpochMatches(current: RangeEpoch, request: RangeEpoch): boolean {
  return current.version === request.version && current.confVer === request.confVer;
}

/** Whether `a` is newer than `b` for the same range (the cache keeps the newer of two descriptors). */
export function isNewerEpoch(a: RangeEpoch, b: RangeEpoch): boolean {
  return a.version > b.version || (a.version === b.version && a.confVer > b.confVer);
}

/** Throws RangeDescriptorError when `d` is malformed (bounds, ids, duplicate stores/peers, no voter). */
export function validateDescriptor(d: RangeDescriptor): void {
  const bad = (m: string): never => {
    throw new RangeDescriptorError(`range ${d.rangeId}: ${m}`);
  };
  if (!Number.isSafeInteger(d.rangeId) || d.rangeId <= 0) bad('range id must be a positive integer');
  if (d.end.length > 0 && Buffer.compare(d.start, d.end) >= 0) bad('start must be below end');
  for (const f of ['confVer', 'version'] as const) if (!Number.isSafeInteger(d.epoch[f]) || d.epoch[f] < 0) bad(`epoch.${f} must be a non-negative integer`);
  const stores = new Set<number>();
  const peers = new Set<number>();
  for (const r of d.replicas) {
    if (!Number.isSafeInteger(r.storeId) || r.storeId <= 0 || !Number.isSafeInteger(r.peerId) || r.peerId <= 0) bad('store and peer ids must be positive integers');
    if (stores.has(r.storeId)) bad(`two replicas on store ${r.storeId}`);
    if (peers.has(r.peerId)) bad(`peer id ${r.peerId} used twice`);
    stores.add(r.storeId);
    peers.add(r.peerId);
  }
  if (!d.replicas.some((r) => r.role === 'voter')) bad('no voter');
}

export interface SplitIds {
  /** Id of the new right-hand range. */
  rangeId: number;
  /** New peer id for each store of the parent (the right half's replicas). */
  peerIds: ReadonlyMap<number, number>;
}

/**
 * Splits `d` at `splitKey` (which must lie strictly inside the range): the left half keeps the id and
 * peers, the right half gets `ids`; both get version + 1. Pure and deterministic.
 */
export function splitRange(d: RangeDescriptor, splitKey: Buffer, ids: SplitIds): { left: RangeDescriptor; right: RangeDescriptor } {
  if (splitKey.length === 0 || Buffer.compare(splitKey, d.start) <= 0 || !containsKey(d, splitKey)) {
    throw new RangeDescriptorError(`range ${d.rangeId}: split key must lie strictly inside [start, end)`);
  }
  if (ids.rangeId === d.rangeId) throw new RangeDescriptorError(`range ${d.rangeId}: the right half needs a new range id`);
  const epoch = { confVer: d.epoch.confVer, version: d.epoch.version + 1 };
  const replicas = d.replicas.map((r) => {
    const peerId = ids.peerIds.get(r.storeId);
    if (peerId === undefined) throw new RangeDescriptorError(`range ${d.rangeId}: no new peer id for store ${r.storeId}`);
    return { storeId: r.storeId, peerId, role: r.role };
  });
  const left: RangeDescriptor = { rangeId: d.rangeId, start: d.start, end: splitKey, epoch, replicas: d.replicas.map((r) => ({ ...r })) };
  const right: RangeDescriptor = { rangeId: ids.rangeId, start: splitKey, end: d.end, epoch: { ...epoch }, replicas };
  validateDescriptor(right);
  return { left, right };
}

export type ReplicaChange =
  | { kind: 'addLearner'; storeId: number; peerId: number }
  | { kind: 'promote'; storeId: number }
  | { kind: 'demote'; storeId: number }
  | { kind: 'remove'; storeId: number };

/** Applies replica changes; confVer grows by the number of changes (TiKV's ChangePeerV2 rule). */
export function changeReplicas(d: RangeDescriptor, changes: readonly ReplicaChange[]): RangeDescriptor {
  let replicas = d.replicas.map((r) => ({ ...r }));
  for (const c of changes) {
    const i = replicas.findIndex((r) => r.storeId === c.storeId);
    switch (c.kind) {
      case 'addLearner':
        if (i >= 0) throw new RangeDescriptorError(`range ${d.rangeId}: store ${c.storeId} already holds a replica`);
        replicas.push({ storeId: c.storeId, peerId: c.peerId, role: 'learner' });
        break;
      case 'promote':
      case 'demote':
        if (i < 0) throw new RangeDescriptorError(`range ${d.rangeId}: no replica on store ${c.storeId}`);
        replicas[i]!.role = c.kind === 'promote' ? 'voter' : 'learner';
        break;
      case 'remove':
        if (i < 0) throw new RangeDescriptorError(`range ${d.rangeId}: no replica on store ${c.storeId}`);
        replicas = replicas.filter((_, j) => j !== i);
        break;
    }
  }
  const next: RangeDescriptor = { ...d, epoch: { confVer: d.epoch.confVer + changes.length, version: d.epoch.version }, replicas };
  validateDescriptor(next);
  return next;
}

// ---------------------------------------------------------------------------------------------------
// Binary codec (meta range records, routing errors): version byte, then varint-free fixed layout so the
// encoding is canonical (equal descriptors ⇔ equal bytes — what the meta range's CAS relies on).

const FORMAT = 1;
const ROLE_CODE: Record<ReplicaRole, number> = { voter: 1, learner: 2 };

export function encodeDescriptor(d: RangeDescriptor): Buffer {
  const size = 1 + 8 + 4 + d.start.length + 4 + d.end.length + 8 + 8 + 4 + d.replicas.length * 17;
  const b = Buffer.allocUnsafe(size);
  let o = 0;
  b[o++] = FORMAT;
  b.writeBigUInt64BE(BigInt(d.rangeId), o);
  o += 8;
  b.writeUInt32BE(d.start.length, o);
  o += 4;
  d.start.copy(b, o);
  o += d.start.length;
  b.writeUInt32BE(d.end.length, o);
  o += 4;
  d.end.copy(b, o);
  o += d.end.length;
  b.writeBigUInt64BE(BigInt(d.epoch.confVer), o);
  o += 8;
  b.writeBigUInt64BE(BigInt(d.epoch.version), o);
  o += 8;
  b.writeUInt32BE(d.replicas.length, o);
  o += 4;
  for (const r of d.replicas) {
    b.writeBigUInt64BE(BigInt(r.storeId), o);
    o += 8;
    b.writeBigUInt64BE(BigInt(r.peerId), o);
    o += 8;
    b[o++] = ROLE_CODE[r.role];
  }
  return b;
}

export function decodeDescriptor(b: Buffer): RangeDescriptor {
  let o = 0;
  const need = (n: number): void => {
    if (o + n > b.length) throw new RangeDescriptorError('truncated range descriptor');
  };
  const u64 = (): number => {
    need(8);
    const v = b.readBigUInt64BE(o);
    o += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeDescriptorError('range descriptor integer out of range');
    return Number(v);
  };
  const bytes = (): Buffer => {
    need(4);
    const n = b.readUInt32BE(o);
    o += 4;
    need(n);
    const v = Buffer.from(b.subarray(o, o + n));
    o += n;
    return v;
  };
  need(1);
  if (b[o++] !== FORMAT) throw new RangeDescriptorError('unknown range descriptor format');
  const rangeId = u64();
  const start = bytes();
  const end = bytes();
  const confVer = u64();
  const version = u64();
  need(4);
  const n = b.readUInt32BE(o);
  o += 4;
  const replicas: ReplicaDescriptor[] = [];
  for (let i = 0; i < n; i++) {
    const storeId = u64();
    const peerId = u64();
    need(1);
    const code = b[o++];
    const role: ReplicaRole | undefined = code === 1 ? 'voter' : code === 2 ? 'learner' : undefined;
    if (role === undefined) throw new RangeDescriptorError(`unknown replica role ${code}`);
    replicas.push({ storeId, peerId, role });
  }
  if (o !== b.length) throw new RangeDescriptorError('trailing bytes after range descriptor');
  const d: RangeDescriptor = { rangeId, start, end, epoch: { confVer, version }, replicas };
  validateDescriptor(d);
  return d;
}
