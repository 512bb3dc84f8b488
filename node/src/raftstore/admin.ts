// kvs.v1.Admin (proto/admin.proto): membership and leadership of the node's Raft group, for kvsctl and
// the Kubernetes operator. Membership changes run on the leader (otherwise NOT_LEADER with the leader's
// client address in `kvs-leader`); unsafe changes are refused with PRECONDITION_FAILED
// (gRPC FAILED_PRECONDITION); waits that run out answer TIMEOUT (DEADLINE_EXCEEDED).
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { EpochNotMatchError, InvalidArgumentError, OperationTimeoutError, PreconditionFailedError, RangeNotFoundError } from '../kv/errors.js';
import { adminEpochMatches, encodeDescriptor, type RangeEpoch } from '../meta/range-descriptor.js';
import { toServiceError } from '../server/status-mapping.js';
import { TS_PER_MS } from '../kv/state-machine.js';
import { inKeyRange } from '../kv/key-span.js';
import { ConfChangeTransition, ConfChangeType, type ConfChange, type Status } from '../raft/index.js';
import type { AdminStatusResponse } from '../generated/kvs/v1/AdminStatusResponse.js';
import type { MemberProgress } from '../generated/kvs/v1/MemberProgress.js';
import { encodeConfContext, type Peer } from './peer.js';
import type { RaftNode, RangeReplica } from './raft-node.js';

export interface AdminDeps {
  node: RaftNode;
  nodeId: string;
  logger: Logger;
}

const DEFAULT_MAX_LAG = 100;

function isMember(st: Status, id: number): 'voter' | 'learner' | undefined {
  const c = st.config;
  if (c.voters.includes(id) || c.votersOutgoing.includes(id)) return 'voter';
  if (c.learners.includes(id) || c.learnersNext.includes(id)) return 'learner';
  return undefined;
}

export function adminStatus(node: RaftNode, nodeId: string): AdminStatusResponse {
  const peer = node.peer;
  const st = peer.status();
  const addrs = peer.addresses();
  const prog = new Map(st.progress.map((p) => [p.id, p]));
  const ids = new Set<number>([...st.config.voters, ...st.config.votersOutgoing, ...st.config.learners, ...st.config.learnersNext]);
  const members: MemberProgress[] = [...ids]
    .sort((a, b) => a - b)
    .map((id) => {
      const p = prog.get(id);
      const refused = peer.identity.refused.get(id);
      return {
        incarnation: peer.identity.recorded.get(id) ?? '',
        refused: refused !== undefined,
        refusedIncarnation: refused?.incarnation ?? '',
        raftId: id,
        role: isMember(st, id) ?? 'voter',
        address: addrs.get(id) ?? '',
        match: p?.match ?? 0,
        next: p?.next ?? 0,
        state: p?.state ?? '',
        recentActive: p?.recentActive ?? false,
      };
    });
  return {
    nodeId,
    raftId: st.id,
    groupId: st.groupId,
    role: st.raftState,
    term: st.term,
    commit: st.commit,
    applied: peer.appliedIndex,
    leaderId: st.lead,
    leaderAddress: peer.leaderClientAddress() ?? '',
    members,
    firstIndex: st.firstIndex,
    lastIndex: st.lastIndex,
    clientAddress: node.transport.clientAddressOf(st.id) ?? '',
    joint: st.config.votersOutgoing.length > 0,
    incarnation: peer.identity.selfIncarnation,
    identityRefused: peer.identity.selfRefused !== undefined,
    identityRefusedReason: peer.identity.selfRefused?.reason ?? '',
    ...rangeCounts(node),
  };
}

/**
 * What the operator needs to decide whether a store must be drained before it leaves or restarts (counts
 * only: Status is read every pass, so no per-range list). A replica is movable when some other voter of
 * range 1 (a store of the cluster) holds no voter replica of its range: a drain can hand it over there.
 */
export function rangeCounts(node: RaftNode): { rangesHeld: number; rangesLed: number; rangesMovable: number } {
  const stores = node.first.peer.status().config.voters.filter((v) => v !== node.raftId);
  let rangesLed = 0;
  let rangesMovable = 0;
  for (const r of node.replicas.values()) {
    if (r.peer.isLeader) rangesLed++;
    const reps = r.store.descriptor.replicas;
    if (!reps.some((x) => x.storeId === node.raftId && x.role === 'voter')) continue;
    // A learner elsewhere is an unfinished move: the drain finishes it (promotes it, removes this one).
    const holders = new Set(reps.filter((x) => x.role === 'voter').map((x) => x.storeId));
    if (stores.some((s) => !holders.has(s))) rangesMovable++;
  }
  return { rangesHeld: node.replicas.size, rangesLed, rangesMovable };
}

/** One range replica as Admin.Ranges reports it. */
export async function rangeInfo(node: RaftNode, r: RangeReplica): Promise<Record<string, unknown>> {
  const d = r.store.descriptor;
  const st = r.peer.status();
  return {
    rangeId: r.rangeId,
    start: d.start,
    end: d.end,
    confVer: d.epoch.confVer,
    version: d.epoch.version,
    replicas: d.replicas.map((x) => ({ storeId: x.storeId, peerId: x.peerId, role: x.role })),
    leaderId: st.lead,
    leaderAddress: r.peer.leaderClientAddress() ?? (st.lead === node.raftId ? node.transport.clientAddressOf(node.raftId) ?? '' : ''),
    approximateBytes: await r.store.approximateBytes(),
    role: st.raftState,
    term: st.term,
    applied: r.peer.appliedIndex,
    proposals: r.peer.stats.proposals,
    ...r.load.sample(Date.now(), r.peer.stats),
  };
}

/**
 * Applies one membership change of the store to every range it holds besides range 1 (stage 2a: every
 * range is replicated on every store, so a store joins or leaves all of them). With `leadHere` this store
 * first takes the range's leadership (a transfer, forwarded by Raft to the range's leader), so `check`
 * sees the real replication progress (a learner's catch-up, the healthy voters) before the change —
 * no range gets a voter that has not caught up, or loses its quorum. Waits until applied locally.
 */
async function fanOut(
  node: RaftNode,
  cc: ConfChange,
  done: (st: Status) => boolean,
  timeoutMs: number,
  opts: { leadHere?: boolean; check?: (st: Status, rangeId: number) => void } = {},
): Promise<string[]> {
  const pending: string[] = [];
  await Promise.all(
    [...node.replicas.values()]
      .filter((r) => r.rangeId !== node.first.rangeId)
      .map(async (r) => {
        if (done(r.peer.status())) return;
        if (opts.leadHere && r.peer.isLeader) await heardFromVoters(r.peer);
        else if (opts.leadHere) {
          if (r.peer.leader === 0) await r.peer.waitFor(() => r.peer.leader !== 0, timeoutMs);
          r.peer.transferLeader(node.raftId);
          if (!(await r.peer.waitFor(() => r.peer.isLeader, Math.min(timeoutMs, 5000)))) {
            pending.push(`range ${r.rangeId} (its leadership did not move here)`);
            return;
          }
          await heardFromVoters(r.peer);
        }
        opts.check?.(r.peer.status(), r.rangeId);
        r.peer.proposeConfChange(cc);
        if (!(await r.peer.waitFor(() => done(r.peer.status()), timeoutMs))) pending.push(`range ${r.rangeId}`);
      }),
  );
  return pending;
}

/** Refuses to promote a learner that has not caught up (PRECONDITION_FAILED: retry later). */
function checkCaughtUp(st: Status, rid: number, maxLag: number, rangeId: number): void {
  const p = st.progress.find((x) => x.id === rid);
  if (p === undefined || p.state !== 'Replicate' || p.match + maxLag < st.commit) {
    throw new PreconditionFailedError(
      `learner ${rid} is not caught up in range ${rangeId} (match ${p?.match ?? 0}, leader commit ${st.commit}, state ${p?.state ?? 'unknown'}, max lag ${maxLag}); retry later`,
    );
  }
}

/** Refuses to remove voter `rid` when the remaining healthy voters are no quorum (unless forced). */
function checkRemovable(st: Status, rid: number, force: boolean | undefined, rangeId: number): void {
  if (isMember(st, rid) !== 'voter') return;
  const remaining = st.config.voters.filter((v) => v !== rid);
  if (remaining.length === 0) throw new PreconditionFailedError(`cannot remove the last voter of range ${rangeId}`);
  const healthy = remaining.filter((v) => v === st.id || st.progress.find((p) => p.id === v)?.recentActive === true);
  const quorum = Math.floor(remaining.length / 2) + 1;
  if (healthy.length < quorum && !force) {
    throw new PreconditionFailedError(`removing ${rid} leaves ${healthy.length} healthy of ${remaining.length} voters of range ${rangeId} (quorum ${quorum}); use force to override`);
  }
}

function requireLeader(peer: Peer): void {
  if (!peer.isLeader) throw peer.notLeader('membership changes run on the leader; retry there');
}

async function changeConf(peer: Peer, cc: ConfChange, done: (st: Status) => boolean, timeoutMs: number): Promise<void> {
  peer.proposeConfChange(cc);
  const ok = await peer.waitFor(() => done(peer.status()), timeoutMs);
  if (!ok) throw new OperationTimeoutError(`configuration change not applied within ${timeoutMs} ms (it may still apply; check Status)`);
}

/** Takes range r's leadership on this store (forwarded transfer) so a change is checked on real progress. */
async function leadHere(node: RaftNode, r: RangeReplica, timeoutMs: number): Promise<void> {
  if (r.peer.isLeader) {
    await heardFromVoters(r.peer);
    return;
  }
  if (r.peer.leader === 0) await r.peer.waitFor(() => r.peer.leader !== 0, timeoutMs);
  r.peer.transferLeader(node.raftId);
  if (!(await r.peer.waitFor(() => r.peer.isLeader, timeoutMs))) throw new OperationTimeoutError(`leadership of range ${r.rangeId} did not move here; retry`);
  await heardFromVoters(r.peer);
}

/**
 * A new leader knows nothing of its followers yet (progress probing, not recently active): give them a
 * heartbeat round or two before a check reads their health or catch-up.
 */
async function heardFromVoters(peer: Peer): Promise<void> {
  // A quiesced leader's activity flags are from before it slept: waking re-learns them from a fresh round.
  peer.wake();
  await peer.waitFor(() => {
    const st = peer.status();
    return st.progress.filter((p) => p.id !== st.id && st.config.voters.includes(p.id)).every((p) => p.recentActive && p.state === 'Replicate');
  }, 1500);
}

/**
 * Per-range changes are decided on a voter of the range. A learner cannot take the leadership a check
 * needs, and a replica created on demand has no configuration until its snapshot arrives: its empty view
 * would call every store a non-member ("holds no replica" — a removal reported done). NOT_LEADER sends
 * the caller to the range's leader (hint) or its next endpoint.
 */
function requireLocalVoter(node: RaftNode, r: RangeReplica): void {
  if (isMember(r.peer.status(), node.raftId) !== 'voter') throw r.peer.notLeader(`this store's replica of range ${r.rangeId} is not a voter of it (a learner, or waiting for its snapshot); retry at the range's leader`);
}

/** The `epoch` field of a per-range request (a RangeEpoch message; unset = null with the loader's defaults). */
export function requestEpoch(v: unknown): RangeEpoch | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const e = v as { confVer?: number | string; version?: number | string };
  return { confVer: Number(e.confVer ?? 0), version: Number(e.version ?? 0) };
}

/**
 * A per-range call planned against `want` (the placement driver's observed epoch) runs only while this
 * replica's descriptor is still at that epoch: a replica change or split since then means the plan is
 * stale (EPOCH_NOT_MATCH with the current descriptor; the caller observes again and re-plans). The check
 * runs on the replica that proposes, right before the proposal (Raft admits one pending conf change at
 * a time, so nothing else changes the configuration in between on that leader).
 */
export function checkRequestEpoch(r: Pick<RangeReplica, 'rangeId' | 'store'>, want: RangeEpoch | undefined): void {
  if (want === undefined) return;
  const d = r.store.descriptor;
  if (adminEpochMatches(d.epoch, want)) return;
  throw new EpochNotMatchError(
    r.rangeId,
    `range ${r.rangeId} is at epoch confVer ${d.epoch.confVer} version ${d.epoch.version}, the call was planned at confVer ${want.confVer} version ${want.version}; observe the range again`,
    [encodeDescriptor(d)],
  );
}

/**
 * One replica change of ONE range (group_id > 0: a replica move, `kvsctl range move`): learner → promote
 * (caught up in that range) → remove. The store must hold a replica of the range. With `epoch`, the change
 * is made only at that epoch, checked on the range's leader (an AddLearner with an epoch is refused
 * elsewhere with NOT_LEADER: a follower's descriptor may lag).
 */
async function changeRangeReplica(node: RaftNode, rangeId: number, kind: 'addLearner' | 'promote' | 'remove', rid: number, opts: { address?: string; maxLag?: number; force?: boolean; epoch?: RangeEpoch }): Promise<string> {
  const r = node.get(rangeId);
  if (r === undefined) throw new RangeNotFoundError(rangeId);
  requireLocalVoter(node, r);
  if (opts.epoch !== undefined && kind === 'addLearner' && !r.peer.isLeader) throw r.peer.notLeader(`an epoch-checked change of range ${rangeId} runs on its leader; retry there`);
  // Checked up front (a stale plan never acts, nor reports "already done") and again on the leader below.
  checkRequestEpoch(r, opts.epoch);
  const st0 = r.peer.status();
  const role = isMember(st0, rid);
  const type = kind === 'addLearner' ? ConfChangeType.AddLearner : kind === 'promote' ? ConfChangeType.AddNode : ConfChangeType.RemoveNode;
  const address = opts.address || node.first.peer.addresses().get(rid);
  const cc: ConfChange = { transition: ConfChangeTransition.Auto, changes: [{ type, nodeId: rid }], context: encodeConfContext(kind === 'addLearner' ? address : undefined) };
  if (kind === 'addLearner') {
    if (role !== undefined) return role === 'learner' ? `${rid} is already a learner of range ${rangeId}` : `${rid} is already a voter of range ${rangeId}`;
    if (address === undefined) throw new PreconditionFailedError(`store ${rid} has no known raft address; add it to the store's membership first`);
    r.peer.proposeConfChange(cc);
    if (!(await r.peer.waitFor(() => isMember(r.peer.status(), rid) !== undefined, 10_000))) throw new OperationTimeoutError(`learner ${rid} not yet added to range ${rangeId}; retry`);
    return `added learner ${rid} to range ${rangeId}`;
  }
  if (kind === 'promote') {
    if (role === 'voter') return `${rid} is already a voter of range ${rangeId}`;
    if (role === undefined) throw new PreconditionFailedError(`${rid} holds no replica of range ${rangeId}; add it as a learner first`);
    await leadHere(node, r, 5000);
    checkRequestEpoch(r, opts.epoch);
    checkCaughtUp(r.peer.status(), rid, opts.maxLag ?? DEFAULT_MAX_LAG, rangeId);
    r.peer.proposeConfChange(cc);
    if (!(await r.peer.waitFor(() => isMember(r.peer.status(), rid) === 'voter' && r.peer.status().config.votersOutgoing.length === 0, 10_000))) throw new OperationTimeoutError(`promotion of ${rid} in range ${rangeId} not yet applied; retry`);
    return `promoted ${rid} in range ${rangeId}`;
  }
  if (role === undefined) return `${rid} holds no replica of range ${rangeId}`;
  if (rid === node.raftId) {
    // Removing our own replica: leadership elsewhere first, the removal proposed through the new leader.
    if (r.peer.isLeader) {
      const st = r.peer.status();
      const to = st.progress.filter((p) => p.id !== rid && st.config.voters.includes(p.id) && p.recentActive).sort((a, b) => b.match - a.match)[0];
      if (to === undefined) throw new PreconditionFailedError(`no other voter of range ${rangeId} to hand its leadership to`);
      r.peer.transferLeader(to.id);
      if (!(await r.peer.waitFor(() => r.peer.leader !== 0 && r.peer.leader !== rid, 5000))) throw new OperationTimeoutError(`leadership of range ${rangeId} did not move; retry`);
    }
    r.peer.proposeConfChange(cc);
    await r.peer.waitFor(() => node.get(rangeId) === undefined || isMember(r.peer.status(), rid) === undefined, 5000);
    return `removal of ${rid} from range ${rangeId} proposed`;
  }
  await leadHere(node, r, 5000);
  checkRequestEpoch(r, opts.epoch);
  checkRemovable(r.peer.status(), rid, opts.force, rangeId);
  r.peer.proposeConfChange(cc);
  if (!(await r.peer.waitFor(() => isMember(r.peer.status(), rid) === undefined, 10_000))) throw new OperationTimeoutError(`removal of ${rid} from range ${rangeId} not yet applied; retry`);
  return `removed ${rid} from range ${rangeId}`;
}

/**
 * Destroys this store's replica of `rangeId` when it is certainly stale (placement: a store that returns
 * after its replicas were re-created elsewhere). The caller names the range's current descriptor as its
 * leader reports it (`epoch`, `storeIds`); the replica goes only when that descriptor does not list this
 * store and is newer (higher confVer) than what the replica applied: it missed its own removal. Never
 * range 1 (the membership range), never a replica that leads or has no descriptor yet (created on demand
 * for a snapshot: a learner being added). Peer ids are store ids, so "not listed" is "this store absent".
 */
export function destroyStaleReplica(node: Pick<RaftNode, 'raftId' | 'first' | 'get' | 'destroyStaleReplica'>, rangeId: number, epoch: RangeEpoch, storeIds: readonly number[]): string {
  if (rangeId === node.first.rangeId) throw new PreconditionFailedError(`range ${rangeId} is the membership range: its replicas go with RemoveMember`);
  const r = node.get(rangeId);
  if (r === undefined) return `store ${node.raftId} holds no replica of range ${rangeId}`;
  if (storeIds.includes(node.raftId)) throw new PreconditionFailedError(`range ${rangeId} at confVer ${epoch.confVer} lists store ${node.raftId}: its replica here is not stale`);
  if (!r.store.sm.descriptorStored) throw new PreconditionFailedError(`the replica of range ${rangeId} here has no descriptor yet (waiting for a snapshot): not provably stale`);
  const d = r.store.descriptor;
  if (d.epoch.confVer >= epoch.confVer) {
    throw new PreconditionFailedError(`the replica of range ${rangeId} here is at confVer ${d.epoch.confVer}, not older than the named descriptor's ${epoch.confVer}: not provably stale`);
  }
  if (r.peer.isLeader) throw new PreconditionFailedError(`the replica of range ${rangeId} here leads it: not stale`);
  if (!node.destroyStaleReplica(rangeId)) return `store ${node.raftId} holds no replica of range ${rangeId}`;
  return `destroyed the stale replica of range ${rangeId} (confVer ${d.epoch.confVer}; the range is at ${epoch.confVer} without store ${node.raftId})`;
}

/** The locks of prepared cross-range transactions in [start, end) on this store's replicas, by key. */
export function txnLocks(node: Pick<RaftNode, 'raftId' | 'sorted'>, start: Buffer, end: Buffer, limit: number): { storeId: number; locks: Array<Record<string, unknown>>; more: boolean } {
  const nowTs = Date.now() * TS_PER_MS;
  const rows: Array<Record<string, unknown> & { sortKey: Buffer }> = [];
  for (const r of node.sorted()) {
    const locks = r.store.sm.locks;
    const common = (l: { txnId: string; primary: Buffer; prepTs: number; ttlTs: number }) => ({
      txnId: l.txnId,
      primary: l.primary,
      prepareTs: l.prepTs,
      ttlMs: Math.round(l.ttlTs / TS_PER_MS),
      ageMs: Math.round((nowTs - l.prepTs) / TS_PER_MS),
      rangeId: r.rangeId,
    });
    for (const l of locks.allPointLocks()) if (inKeyRange(l.key, start, end)) rows.push({ sortKey: l.key, key: l.key, kind: l.kind, ...common(l) });
    for (const l of locks.allRangeLocks) {
      if (end.length > 0 && Buffer.compare(l.start, end) >= 0) continue;
      if (l.end.length > 0 && Buffer.compare(l.end, start) <= 0) continue;
      rows.push({ sortKey: l.start, key: Buffer.alloc(0), kind: 'range', start: l.start, end: l.end, ...common(l) });
    }
  }
  rows.sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
  return { storeId: node.raftId, locks: rows.slice(0, limit).map(({ sortKey: _k, ...rest }) => rest), more: rows.length > limit };
}

export function createAdminHandlers(deps: AdminDeps): grpc.UntypedServiceImplementation {
  const { node, logger } = deps;
  const peer = node.peer;
  const unary =
    <Req, Res>(method: string, fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> =>
    (call, cb) => {
      fn(call.request).then(
        (res) => cb(null, res),
        (err: unknown) => {
          logger.info('admin call failed', { method, err: err instanceof Error ? err.message : String(err) });
          cb(toServiceError(err, logger, { method }));
        },
      );
    };
  const ok = (message: string) => ({ ok: true, message, status: adminStatus(node, deps.nodeId) });
  const id = (v: unknown, what: string): number => {
    const n = Number(v ?? 0);
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive integer`);
    return n;
  };

  return {
    Status: unary('Status', async () => adminStatus(node, deps.nodeId)),

    Settings: unary('Settings', async (req: { sessionTtlMs?: number | string; maxResultsPerSession?: number | string }) => {
      const change: { sessionTtlMs?: number; maxResultsPerSession?: number } = {};
      const ttl = Number(req.sessionTtlMs ?? 0);
      const maxResults = Number(req.maxResultsPerSession ?? 0);
      if (ttl > 0) change.sessionTtlMs = ttl;
      if (maxResults > 0) change.maxResultsPerSession = maxResults;
      const store = node.store;
      if (Object.keys(change).length > 0) {
        await store.setSettings(change);
        logger.info('cluster settings changed', { ...change });
      }
      return { ...store.settings, stored: store.sm.settingsStored };
    }),

    AddLearner: unary('AddLearner', async (req: { raftId?: number; address?: string; groupId?: number | string; epoch?: unknown; membershipOnly?: boolean }) => {
      const rid = id(req.raftId, 'raft_id');
      const address = (req.address ?? '').trim();
      const epoch = requestEpoch(req.epoch);
      if (Number(req.groupId ?? 0) > 0) return ok(await changeRangeReplica(node, Number(req.groupId), 'addLearner', rid, { address, ...(epoch ? { epoch } : {}) }));
      if (!/^[^\s:]+:\d{1,5}$/.test(address) && !/^\[[^\]]+\]:\d{1,5}$/.test(address)) throw new InvalidArgumentError('address must be host:port (the new member\'s raft address)');
      requireLeader(peer);
      const st = peer.status();
      const role = isMember(st, rid);
      if (role === 'learner') return ok(`${rid} is already a learner`);
      if (role === 'voter') throw new PreconditionFailedError(`${rid} is already a voter`);
      const cc: ConfChange = { transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddLearner, nodeId: rid }], context: encodeConfContext(address) };
      await changeConf(peer, cc, (s) => isMember(s, rid) === 'learner', 10_000);
      if (req.membershipOnly === true) return ok(`added learner ${rid} at ${address} (membership range only)`);
      const late = await fanOut(node, cc, (s) => isMember(s, rid) !== undefined, 10_000);
      if (late.length > 0) throw new OperationTimeoutError(`learner ${rid} added to range 1 but not yet to ${late.join(', ')}; retry`);
      return ok(`added learner ${rid} at ${address}`);
    }),

    Promote: unary('Promote', async (req: { raftId?: number; maxLag?: number; groupId?: number | string; epoch?: unknown; membershipOnly?: boolean }) => {
      const rid = id(req.raftId, 'raft_id');
      const epoch = requestEpoch(req.epoch);
      if (Number(req.groupId ?? 0) > 0) return ok(await changeRangeReplica(node, Number(req.groupId), 'promote', rid, { maxLag: Number(req.maxLag ?? 0) || DEFAULT_MAX_LAG, ...(epoch ? { epoch } : {}) }));
      requireLeader(peer);
      const st = peer.status();
      const role = isMember(st, rid);
      if (role === 'voter') return ok(`${rid} is already a voter`);
      if (role === undefined) throw new PreconditionFailedError(`${rid} is not a member; add it as a learner first`);
      const maxLag = Number(req.maxLag ?? 0) || DEFAULT_MAX_LAG;
      checkCaughtUp(st, rid, maxLag, node.first.rangeId);
      const cc: ConfChange = { transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.AddNode, nodeId: rid }], context: encodeConfContext(undefined) };
      const promoted = (s: Status): boolean => isMember(s, rid) === 'voter' && s.config.votersOutgoing.length === 0;
      // Every other range first, each checked on its own leader; range 1 (what the operator reads) last.
      const late = req.membershipOnly === true ? [] : await fanOut(node, cc, promoted, 10_000, { leadHere: true, check: (s, rangeId) => checkCaughtUp(s, rid, maxLag, rangeId) });
      if (late.length > 0) throw new OperationTimeoutError(`promotion of ${rid} not yet applied in ${late.join(', ')}; retry`);
      await changeConf(peer, cc, promoted, 10_000);
      return ok(`promoted ${rid} to voter`);
    }),

    RemoveMember: unary('RemoveMember', async (req: { raftId?: number; force?: boolean; groupId?: number | string; epoch?: unknown }) => {
      const rid = id(req.raftId, 'raft_id');
      const epoch = requestEpoch(req.epoch);
      if (Number(req.groupId ?? 0) > 0) return ok(await changeRangeReplica(node, Number(req.groupId), 'remove', rid, { force: req.force === true, ...(epoch ? { epoch } : {}) }));
      requireLeader(peer);
      let st = peer.status();
      const role = isMember(st, rid);
      if (role === undefined) return ok(`${rid} is not a member`);
      const cc: ConfChange = { transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.RemoveNode, nodeId: rid }], context: encodeConfContext(undefined) };
      if (role === 'voter') {
        checkRemovable(st, rid, req.force, node.first.rangeId);
        const remaining = st.config.voters.filter((v) => v !== rid);
        if (rid === st.id) {
          // Removing this store: every other range first — where it leads, leadership moves away before
          // the removal is proposed (forwarded to the new leader); a short wait, no failure (the removed
          // replica may never hear its own removal applied).
          await Promise.all(
            [...node.replicas.values()]
              .filter((r) => r.rangeId !== node.first.rangeId && isMember(r.peer.status(), rid) !== undefined)
              .map(async (r) => {
                const rs = r.peer.status();
                if (r.peer.isLeader) {
                  const to = rs.progress.filter((p) => p.id !== rid && rs.config.voters.includes(p.id)).sort((a, b) => b.match - a.match)[0];
                  if (to !== undefined) {
                    r.peer.transferLeader(to.id);
                    await r.peer.waitFor(() => r.peer.leader !== 0 && r.peer.leader !== rid, 5000);
                  }
                }
                r.peer.proposeConfChange(cc);
                await r.peer.waitFor(() => isMember(r.peer.status(), rid) === undefined, 3000);
              }),
          );
          // Removing the leader: hand leadership to the most caught-up healthy voter first.
          const target = st.progress.filter((p) => p.id !== rid && remaining.includes(p.id)).sort((a, b) => b.match - a.match)[0];
          if (target === undefined) throw new PreconditionFailedError('no voter to transfer leadership to');
          peer.transferLeader(target.id);
          const moved = await peer.waitFor(() => peer.leader !== 0 && peer.leader !== rid, 5000);
          if (!moved) throw new OperationTimeoutError(`leadership transfer to ${target.id} before removing ${rid} did not complete; retry`);
          // Propose through the new leader (followers forward proposals) and wait briefly.
          peer.proposeConfChange({ transition: ConfChangeTransition.Auto, changes: [{ type: ConfChangeType.RemoveNode, nodeId: rid }], context: encodeConfContext(undefined) });
          await peer.waitFor(() => isMember(peer.status(), rid) === undefined, 3000);
          st = peer.status();
          return ok(`leadership moved to ${peer.leader}; removal of ${rid} proposed${isMember(st, rid) === undefined ? ' and applied' : ''}. Shut ${rid} down once the new leader reports it gone.`);
        }
      }
      // Every other range first (range 1's membership is what the operator reads as "done"), each checked
      // on its own leader for the quorum it keeps.
      const late = await fanOut(node, cc, (s) => isMember(s, rid) === undefined, 10_000, { leadHere: true, check: (s, rangeId) => checkRemovable(s, rid, req.force, rangeId) });
      if (late.length > 0) throw new OperationTimeoutError(`removal of ${rid} not yet applied in ${late.join(', ')}; retry`);
      await changeConf(peer, cc, (s) => isMember(s, rid) === undefined, 10_000);
      return ok(`removed ${rid}; shut it down and never reuse its raft id`);
    }),

    TransferLeader: unary('TransferLeader', async (req: { toRaftId?: number; timeoutMs?: number; groupId?: number | string; epoch?: unknown }) => {
      const to = id(req.toRaftId, 'to_raft_id');
      // group_id = a range id: move that range's leadership only (kvsctl range transfer-leader); 0 = range 1.
      const rangeId = Number(req.groupId ?? 0);
      if (rangeId > 0 && node.get(rangeId) === undefined) throw new RangeNotFoundError(rangeId);
      if (rangeId > 0) requireLocalVoter(node, node.get(rangeId)!);
      // A transfer planned at another epoch may name a store that is no longer (or not yet) a voter.
      if (rangeId > 0) checkRequestEpoch(node.get(rangeId)!, requestEpoch(req.epoch));
      const peer = rangeId > 0 ? node.get(rangeId)!.peer : node.peer;
      const st = peer.status();
      if (isMember(st, to) !== 'voter') throw new PreconditionFailedError(`${to} is not a voter`);
      if (peer.leader === to) return ok(`${to} is already the leader`);
      if (peer.leader === 0) throw peer.notLeader('no leader known; retry');
      const timeoutMs = Number(req.timeoutMs ?? 0) || 5000;
      peer.transferLeader(to);
      const done = await peer.waitFor(() => peer.leader === to, timeoutMs);
      if (!done) throw new OperationTimeoutError(`leadership did not move to ${to} within ${timeoutMs} ms (leader is ${peer.leader})`);
      return ok(`leader is now ${to}`);
    }),

    Ranges: unary('Ranges', async () => ({ storeId: node.raftId, ranges: await Promise.all(node.sorted().map((r) => rangeInfo(node, r as RangeReplica))), ...(await node.diskSpace()) })),

    DestroyStaleReplica: unary('DestroyStaleReplica', async (req: { rangeId?: number | string; epoch?: unknown; storeIds?: Array<number | string> }) => {
      const rangeId = id(req.rangeId, 'range_id');
      const epoch = requestEpoch(req.epoch);
      if (epoch === undefined) throw new InvalidArgumentError("epoch is required (the range's current epoch, from its leader)");
      const storeIds = (req.storeIds ?? []).map(Number);
      if (storeIds.length === 0) throw new InvalidArgumentError("store_ids must list the stores of the range's current descriptor");
      const message = destroyStaleReplica(node, rangeId, epoch, storeIds);
      logger.info('admin: destroy stale replica', { range: rangeId, confVer: epoch.confVer, result: message });
      return ok(message);
    }),

    TxnLocks: unary('TxnLocks', async (req: { start?: Buffer; end?: Buffer; limit?: number }) => {
      const start = Buffer.isBuffer(req.start) ? req.start : Buffer.alloc(0);
      const end = Buffer.isBuffer(req.end) ? req.end : Buffer.alloc(0);
      const limit = Math.min(Number(req.limit ?? 0) || 1000, 10_000);
      return txnLocks(node, start, end, limit);
    }),

    ResolveLocks: unary('ResolveLocks', async (req: { key?: Buffer; force?: boolean }) => {
      const key = Buffer.isBuffer(req.key) ? req.key : Buffer.alloc(0);
      if (key.length === 0) throw new InvalidArgumentError('key must not be empty');
      const lines = await node.kv.resolveLocksOn(key, req.force === true);
      logger.info('admin: resolve locks', { force: req.force === true, transactions: lines.length });
      return ok(lines.length === 0 ? 'no lock on this key here' : lines.join('\n'));
    }),

    SplitRange: unary('SplitRange', async (req: { key?: Buffer }) => {
      const key = Buffer.isBuffer(req.key) ? req.key : Buffer.alloc(0);
      if (key.length === 0) throw new InvalidArgumentError('key must not be empty (the right half starts at it)');
      const { left, right } = await node.split(key);
      logger.info('range split', { left: left.rangeId, right: right.rangeId, at: key.toString('hex'), version: right.epoch.version });
      return { left: await rangeInfo(node, node.get(left.rangeId)!), right: await rangeInfo(node, node.get(right.rangeId)!) };
    }),

    Snapshot: unary('Snapshot', async () => {
      const index = await peer.snapshotNow();
      return ok(`snapshot generated at index ${index}`);
    }),

    Compact: unary('Compact', async (req: { index?: number }) => {
      const first = await peer.compactNow(Number(req.index ?? 0));
      return ok(`log compacted; first index is now ${first}`);
    }),
  };
}
