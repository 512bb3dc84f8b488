// Replica placement through kvs.v1.Admin, shared by `kvsctl range move`, `kvsctl store drain`
// (drain.ts), the Jepsen `move-range` fault and (later) the operator: the observed shard map, and one
// replica move = learner on the target (filled by snapshot) → promote once caught up → remove the source.
// Every step is idempotent on the store side, so a move interrupted anywhere is finished by running it again.
import type { AdminClient, AdminResult, RangeInfo } from './admin-client.js';
import { KvError, KvRoutingError, KvUnavailableError } from './errors.js';

/** One store as it answered Admin.Ranges (or did not: `error`). */
export interface StoreReport {
  endpoint: string;
  /** 0 when the endpoint did not answer. */
  storeId: number;
  ranges: number;
  leaders: number;
  bytes: number;
  /** Requests per second on this store's replicas (reads + writes, last 10–20 s). */
  qps: number;
  error?: string;
}

/** Every range (newest descriptor wins) and every store, as the endpoints of `admin` report them. */
export interface ShardMap {
  /** Sorted by start key; readsPerSec/writesPerSec are the range's load, summed over its replicas that answered. */
  ranges: RangeInfo[];
  stores: StoreReport[];
}

/**
 * Whether report x of a range beats cur: higher epoch version, then confVer, then a leader's own report
 * (of two self-declared leaders, the one of the higher term: the other was deposed and does not know yet).
 */
function newer(x: RangeInfo, cur: RangeInfo | undefined): boolean {
  if (cur === undefined || x.version !== cur.version) return cur === undefined || x.version > cur.version;
  if (x.confVer !== cur.confVer) return x.confVer > cur.confVer;
  return x.role === 'Leader' && (cur.role !== 'Leader' || x.term > cur.term);
}

/**
 * Asks every endpoint for the ranges it holds. The newest epoch of each range wins and, at equal epochs,
 * the leader's own report (it knows leader, size and load). Throws when no endpoint answers.
 */
export async function collectShardMap(admin: AdminClient): Promise<ShardMap> {
  const byId = new Map<number, RangeInfo>();
  const load = new Map<number, { readsPerSec: number; writesPerSec: number }>();
  const stores: StoreReport[] = [];
  for (const e of admin.endpoints) {
    try {
      const r = await admin.ranges(e);
      const qps = r.ranges.reduce((a, x) => a + x.readsPerSec + x.writesPerSec, 0);
      stores.push({ endpoint: e, storeId: r.storeId, ranges: r.ranges.length, leaders: r.ranges.filter((x) => x.role === 'Leader').length, bytes: r.ranges.reduce((a, x) => a + x.approximateBytes, 0), qps });
      for (const x of r.ranges) {
        const l = load.get(x.rangeId) ?? { readsPerSec: 0, writesPerSec: 0 };
        load.set(x.rangeId, { readsPerSec: l.readsPerSec + x.readsPerSec, writesPerSec: l.writesPerSec + x.writesPerSec });
        if (newer(x, byId.get(x.rangeId))) byId.set(x.rangeId, x);
      }
    } catch (err) {
      stores.push({ endpoint: e, storeId: 0, ranges: 0, leaders: 0, bytes: 0, qps: 0, error: (err as Error).message });
    }
  }
  if (stores.every((x) => x.error !== undefined)) throw new KvUnavailableError(`no endpoint answered: ${stores.map((x) => x.error).join('; ')}`);
  // A request reaches one replica (the client picks the leader; a follower forwards writes to it): the
  // range's load is what all of its replicas saw.
  const ranges = [...byId.values()].map((x) => ({ ...x, ...load.get(x.rangeId)! }));
  return { ranges: ranges.sort((a, b) => Buffer.compare(a.start, b.start)), stores };
}

export interface MoveOptions {
  /** How long the whole move (or add, or removal) may take, the new replica's catch-up included (default 60 s). */
  timeoutMs?: number;
  /** Each step's answer ("added learner 3 to range 7", ...), as it completes. */
  onStep?: (msg: string) => void;
  /**
   * Admin endpoint of each store, when known (collectShardMap): each call then runs on a store other than
   * the source and the target (and `avoidStores`) first. A promotion or removal first takes the range's
   * leadership on the store it runs on: pointless on the learner itself, unwanted on a store being drained.
   */
  storeEndpoints?: ReadonlyMap<number, string>;
  /** Stores whose endpoints are tried last (e.g. the store being drained). */
  avoidStores?: readonly number[];
}

/** Answers that only say "not yet": the change is safe to ask for again a little later. */
const RETRY_LATER = /not caught up|did not move|not yet|retry/i;

function retryable(e: unknown): boolean {
  // The client already asked every endpoint: no store holds the range, asking again will not help.
  if (e instanceof KvRoutingError && e.serverCode === 'RANGE_NOT_FOUND') return false;
  return e instanceof KvUnavailableError || (e instanceof KvError && e.code === 'DEADLINE_EXCEEDED') || (e instanceof Error && RETRY_LATER.test(e.message));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One per-range Admin call, retried while the answer is "not yet" until `deadline`. */
async function rangeStep(admin: AdminClient, method: 'AddLearner' | 'Promote' | 'RemoveMember' | 'TransferLeader', req: object, rangeId: number, deadline: number, o: MoveOptions, stores: number[]): Promise<AdminResult> {
  const tail = [...stores, ...(o.avoidStores ?? [])].map((s) => o.storeEndpoints?.get(s)).filter((e): e is string => e !== undefined);
  for (;;) {
    try {
      const r = await admin.call<AdminResult>(method, { ...req, groupId: rangeId }, undefined, tail);
      o.onStep?.(r.message);
      return r;
    } catch (e) {
      if (Date.now() > deadline || !retryable(e)) throw e;
      await sleep(300);
    }
  }
}

/**
 * Waits while store `store` still holds an old replica of the range that the range no longer lists (its
 * removal not yet applied or not yet destroyed there). Peer ids are store ids, so the old replica's last
 * acknowledgements, arriving after the store is added again, would count as the new learner's progress:
 * the leader then promotes a voter that has no replica (seen in the Jepsen move-range fault, seed 601).
 * After such a wait, 1 s more for messages still in flight. Needs `storeEndpoints`; a no-op without.
 */
async function awaitOldReplicaGone(admin: AdminClient, rangeId: number, store: number, o: MoveOptions, deadline: number): Promise<void> {
  const endpoint = o.storeEndpoints?.get(store);
  if (endpoint === undefined) return;
  let waited = false;
  while (Date.now() < deadline) {
    const probe = await staleReplicaAt(admin, endpoint, rangeId, store);
    if (probe === 'gone') break;
    // Still a member (e.g. the learner of an interrupted move): nothing stale to wait for.
    if (probe === 'member') return;
    waited = true;
    await sleep(200);
  }
  if (waited) await sleep(1000);
}

/**
 * Store `store`'s replica of `rangeId` (at its admin `endpoint`) and the range's newest descriptor when
 * that replica is stale: the store still reports it, and the descriptor does not list the store.
 * 'gone': the store reports no such replica (or did not answer); 'member': the range lists the store
 * (still, or again), or no descriptor of it is known.
 */
async function staleReplicaAt(admin: AdminClient, endpoint: string, rangeId: number, store: number): Promise<'gone' | 'member' | { own: RangeInfo; current: RangeInfo }> {
  const own = (await admin.ranges(endpoint).catch(() => undefined))?.ranges.find((r) => r.rangeId === rangeId);
  if (own === undefined) return 'gone';
  const current = (await collectShardMap(admin).catch(() => undefined))?.ranges.find((r) => r.rangeId === rangeId);
  if (current === undefined || current.replicas.some((x) => x.storeId === store)) return 'member';
  return { own, current };
}

/** Adds a replica of `rangeId` on store `to`: learner (it receives the range by snapshot), then voter once caught up. */
export async function addReplica(admin: AdminClient, rangeId: number, to: number, o: MoveOptions = {}, deadline = Date.now() + (o.timeoutMs ?? 60_000)): Promise<void> {
  await awaitOldReplicaGone(admin, rangeId, to, o, deadline);
  await rangeStep(admin, 'AddLearner', { raftId: to, address: '' }, rangeId, deadline, o, [to]);
  await rangeStep(admin, 'Promote', { raftId: to, maxLag: 0 }, rangeId, deadline, o, [to]);
}

/**
 * Removes store `from`'s replica of `rangeId` (refused if the range would lose its quorum), then sees it
 * destroyed there (finishStaleReplica). Needs `storeEndpoints` for the second part.
 */
export async function removeReplica(admin: AdminClient, rangeId: number, from: number, o: MoveOptions = {}, deadline = Date.now() + (o.timeoutMs ?? 60_000)): Promise<void> {
  await rangeStep(admin, 'RemoveMember', { raftId: from, force: false }, rangeId, deadline, o, [from]);
  await finishStaleReplica(admin, rangeId, from, o, deadline);
}

/** How long a removed replica is given to destroy itself (it applies its removal) before it is destroyed. */
const SELF_DESTROY_GRACE_MS = 2000;

/**
 * A removed replica destroys itself when it applies its own removal, which it learns only from the
 * commit of that conf change: if that message is lost (a partition, a reset stream), the leader never
 * writes to it again and it stays — campaigning forever, counted by its store, and in the way of a later
 * move back (awaitOldReplicaGone). So after a grace period the store is told to destroy it
 * (Admin.DestroyStaleReplica, as the operator's RemoveStalePeer step does), naming the range's newest
 * descriptor: the store refuses unless that descriptor is newer than its replica's and leaves it out.
 * Bounded by `deadline` (then reported through onStep); a store that does not answer is left as it is
 * (the operator's stale-peer step, or the next move, finds its replica later).
 */
async function finishStaleReplica(admin: AdminClient, rangeId: number, store: number, o: MoveOptions, deadline: number): Promise<void> {
  const endpoint = o.storeEndpoints?.get(store);
  if (endpoint === undefined) return;
  const since = Date.now();
  let last = '';
  while (Date.now() <= deadline) {
    const probe = await staleReplicaAt(admin, endpoint, rangeId, store);
    // Destroyed (or the store did not answer: nothing to do from here); or listed again (re-added
    // meanwhile), or no newer descriptor known: not ours to destroy.
    if (probe === 'gone' || probe === 'member') return;
    const { own, current } = probe;
    if (Date.now() - since >= SELF_DESTROY_GRACE_MS && current.confVer > own.confVer) {
      try {
        const r = await admin.destroyStaleReplica(endpoint, rangeId, { confVer: current.confVer, version: current.version }, current.replicas.map((x) => x.storeId));
        o.onStep?.(r.message);
      } catch (e) {
        last = (e as Error).message; // e.g. "not provably stale" while the descriptors settle: ask again
      }
    }
    await sleep(200);
  }
  o.onStep?.(`store ${store} still holds a replica of range ${rangeId} that the range no longer lists${last === '' ? '' : ` (${last})`}`);
}

/**
 * Moves range `rangeId`'s replica from store `from` to store `to` (kvsctl range move): learner on `to`,
 * promote once caught up, remove `from`. The range never has fewer voters than before the move.
 */
export async function moveReplica(admin: AdminClient, rangeId: number, from: number, to: number, o: MoveOptions = {}): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  // The source is tried last for the promotion too: leadership taken there would only move again.
  const keepOff = { ...o, avoidStores: [...(o.avoidStores ?? []), from] };
  await addReplica(admin, rangeId, to, keepOff, deadline);
  await removeReplica(admin, rangeId, from, o, deadline);
}

/**
 * Moves range `rangeId`'s leadership to store `to` (a voter of it), retried while "not yet". With
 * `storeEndpoints` and `leader`, the call runs on the current leader first: it knows the range best and
 * hands the leadership over itself.
 */
export async function transferRangeLeader(admin: AdminClient, rangeId: number, to: number, o: MoveOptions & { leader?: number } = {}): Promise<void> {
  const others = [...(o.storeEndpoints?.keys() ?? [])].filter((s) => s !== o.leader);
  await rangeStep(admin, 'TransferLeader', { toRaftId: to, timeoutMs: 5000 }, rangeId, Date.now() + (o.timeoutMs ?? 15_000), { ...o, avoidStores: [] }, others);
}
