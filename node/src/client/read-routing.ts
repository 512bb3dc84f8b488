// Where a linearizable get goes first: its range's leader or the client's preferred (rotation) node.
// The leader answers from its lease in place; a follower first asks the leader for a read index — one
// Raft round per range and batch, so with many ranges nearly one per read, and the leader's CPU is spent
// on the round anyway. So reads go to the leader, as in TiKV. A finite slack is TiDB's load-based
// replica read: the leader unless its node is busier than the preferred one by more than the slack
// (this client's requests in flight there) — worth it where the leader's own CPU, not the round, is the
// bottleneck (a hot range on a many-core deployment). Measured on the 2-core bench box, spilling loses:
// docs/benchmarks.md "2026-12-06 20:25–21:45". Pure: the client keeps the counts.

/** Requests of this client in flight at the leader's node beyond the preferred node's before a read spills there. */
export type ReadLeaderSlack = number;

/** Default: no spill — every read goes to its range's leader when the client knows it. */
export const DEFAULT_READ_LEADER_SLACK = Infinity;
/** Up to this many other requests in flight (a lone caller), a read goes to the leader whatever the slack. */
export const LONE_READS_IN_FLIGHT = 4;

export interface ReadRoutingInput {
  /** This client's other operations in flight (not counting the read). */
  inFlight: number;
  /** The cached leader of the key's range (undefined: unknown or not one of the client's endpoints). */
  leader: string | undefined;
  /** The node a request not routed by key goes to. */
  preferred: string;
  /** This client's attempts in flight at an endpoint. */
  load: (endpoint: string) => number;
  slack: ReadLeaderSlack;
}

/** True: send the read to the leader; false: to the preferred node. */
export function readGoesToLeader(r: ReadRoutingInput): boolean {
  if (r.leader === undefined) return false;
  if (r.inFlight <= LONE_READS_IN_FLIGHT || r.leader === r.preferred) return true;
  return r.load(r.leader) <= r.load(r.preferred) + r.slack;
}

/** Validates the client option (a non-negative integer, or Infinity). */
export function validReadLeaderSlack(v: unknown): v is ReadLeaderSlack {
  return typeof v === 'number' && v >= 0 && (Number.isSafeInteger(v) || v === Infinity);
}
