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

/** What a quiesced leader's decision looks at when store liveness changes. */
export interface LeaderLivenessInput {
  self: number;
  lastIndex: number;
  /** Voters of the (incoming and outgoing) configuration and learners (store id = raft id). */
  voters: readonly number[];
  votersOutgoing: readonly number[];
  learners: readonly number[];
  /** Per member but self: acknowledged index and whether it is replicating. */
  progress: ReadonlyMap<number, { match: number; replicating: boolean }>;
  /** Stores that went down, came back, or restarted (a new boot id) at this check. */
  down: readonly number[];
  up: readonly number[];
  restarted: readonly number[];
  /** Store liveness after the change. */
  live: (id: number) => boolean;
}

/**
 * Why a quiesced leader must wake on a store liveness change, or undefined: it may sleep on. Waking
 * every leader with a member on a store that flapped turned one missed ping into thousands of wake-ups
 * (and heartbeats, and more missed pings). A leader wakes only when it has something to do:
 *  - a member's store went down and the live voters are no longer a quorum of a configuration
 *    (check-quorum must run so the leader steps down); a minority down changes nothing for the range;
 *  - a member's store restarted (its process may hold no leader: tell it now instead of waiting for its
 *    election timeout and pre-vote), or came back while this leader had not replicated everything to it
 *    (it was left out when the range quiesced and must be caught up).
 * Safety does not rest on this: a quiesced leader's lease runs out on the clock and a read then needs a
 * quorum round (which wakes it).
 */
export function leaderLivenessWake(i: LeaderLivenessInput): string | undefined {
  const members = new Set([...i.voters, ...i.votersOutgoing, ...i.learners]);
  members.delete(i.self);
  const quorumLive = (vs: readonly number[]): boolean => vs.length === 0 || vs.filter((v) => v === i.self || i.live(v)).length >= Math.floor(vs.length / 2) + 1;
  if (i.down.some((s) => members.has(s)) && !(quorumLive(i.voters) && quorumLive(i.votersOutgoing))) return 'live voters below quorum';
  for (const s of i.up) {
    if (!members.has(s)) continue;
    if (i.restarted.includes(s)) return `member ${s} restarted`;
    const pr = i.progress.get(s);
    if (pr === undefined || pr.match !== i.lastIndex || !pr.replicating) return `member ${s} is behind`;
  }
  return undefined;
}
