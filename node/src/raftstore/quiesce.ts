// Quiescence (hibernation) of idle ranges, CockroachDB-style: a store with thousands of ranges must not
// tick and heartbeat every one of them. A leader whose range is idle and fully replicated sends one last
// heartbeat round carrying a marker; followers that are caught up stop ticking too. Nothing in Raft's
// safety depends on ticks (a group that does not tick is a group with slow timers); liveness is restored
// by waking: any traffic, an admin action, or store liveness (store-liveness.ts) — a follower whose
// leader's store goes silent wakes and campaigns, a leader whose follower store dies or comes back wakes.
// This module is pure: the decision and the marker. Peer applies them; RaftNode drives ticks and liveness.

/** Ticks a leader must find its range idle before it quiesces (avoids flapping under sparse traffic). */
export const QUIESCE_IDLE_TICKS = 3;

const MAGIC = Buffer.from('KVSQ');

/** The quiesce marker a leader puts in the context of its last heartbeat round: MAGIC + its last index. */
export function encodeQuiesceMarker(lastIndex: number): Uint8Array {
  const b = Buffer.alloc(MAGIC.length + 8);
  MAGIC.copy(b, 0);
  b.writeBigUInt64BE(BigInt(lastIndex), MAGIC.length);
  return b;
}

/** The leader's last index if `ctx` is a quiesce marker, else undefined (a read-index context, or none). */
export function decodeQuiesceMarker(ctx: Uint8Array): number | undefined {
  if (ctx.length !== MAGIC.length + 8) return undefined;
  const b = Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  if (!b.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  return Number(b.readBigUInt64BE(MAGIC.length));
}

/** What the leader's decision looks at (a snapshot of raft and host state). */
export interface LeaderQuiesceInput {
  self: number;
  lastIndex: number;
  committed: number;
  applied: number;
  /** Host work in flight: proposals, reads, apply batches, exclusive tasks, a snapshot being made. */
  hostBusy: boolean;
  /** Entries not yet persisted, a leadership transfer, or a joint configuration. */
  raftBusy: boolean;
  voters: readonly number[];
  learners: readonly number[];
  /** Per follower (voters and learners but self): acknowledged index and whether it is replicating. */
  progress: ReadonlyMap<number, { match: number; replicating: boolean }>;
  /** Store liveness of a member (store id = raft id). */
  live: (id: number) => boolean;
}

/**
 * Why a leader may not quiesce now, or undefined when it may. Every live member must hold the whole log
 * (a lagging follower needs the leader's ticks for retries); dead members are left out — their store
 * coming back wakes the leader — but the live caught-up voters must still be a quorum, or the leader must
 * keep ticking so check-quorum can make it step down.
 */
export function leaderQuiesceBlocker(i: LeaderQuiesceInput): string | undefined {
  if (i.hostBusy) return 'host work in flight';
  if (i.raftBusy) return 'raft work in flight';
  if (i.committed !== i.lastIndex) return 'uncommitted entries';
  if (i.applied !== i.lastIndex) return 'unapplied entries';
  let caughtUpVoters = 0;
  for (const id of [...i.voters, ...i.learners]) {
    if (id === i.self) {
      if (i.voters.includes(id)) caughtUpVoters++;
      continue;
    }
    if (!i.live(id)) continue;
    const pr = i.progress.get(id);
    if (pr === undefined || pr.match !== i.lastIndex || !pr.replicating) return `member ${id} is behind`;
    if (i.voters.includes(id)) caughtUpVoters++;
  }
  if (caughtUpVoters < Math.floor(i.voters.length / 2) + 1) return 'no live quorum';
  return undefined;
}

/** What a follower's decision looks at when a quiesce heartbeat arrives (after stepping it). */
export interface FollowerQuiesceInput {
  isFollower: boolean;
  /** The heartbeat's sender is the leader this follower knows, in its current term. */
  fromLeader: boolean;
  lastIndex: number;
  committed: number;
  /** The leader's last index, from the marker. */
  leaderLastIndex: number;
  hostBusy: boolean;
}

/** A follower quiesces only with the leader's whole log committed here and nothing of its own pending. */
export function followerMayQuiesce(i: FollowerQuiesceInput): boolean {
  return i.isFollower && i.fromLeader && !i.hostBusy && i.lastIndex === i.leaderLastIndex && i.committed === i.leaderLastIndex;
}
