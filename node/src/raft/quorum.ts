/** Quorum arithmetic for majority and joint (two-majority) configurations. */

export enum VoteResult {
  Pending = 'Pending',
  Lost = 'Lost',
  Won = 'Won',
}

/** Sentinel for "no constraint": an empty majority config commits everything. */
export const MAX_INDEX = Number.MAX_SAFE_INTEGER;

/**
 * Largest index acknowledged by a majority of `voters`. Unknown voters count as 0.
 * An empty config returns MAX_INDEX so it never constrains a joint config.
 */
export function majorityCommitted(voters: ReadonlySet<number>, ackedIndex: (id: number) => number | undefined): number {
  const n = voters.size;
  if (n === 0) return MAX_INDEX;
  // Runs on every acknowledgement a leader gets: an insertion sort into a reused scratch array (voter
  // sets are small) instead of a new array and Array#sort per call — etcd-raft uses a stack array too.
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  let len = 0;
  for (const id of voters) {
    const v = ackedIndex(id) ?? 0;
    let i = len++;
    while (i > 0 && scratch[i - 1]! > v) {
      scratch[i] = scratch[i - 1]!;
      i--;
    }
    scratch[i] = v;
  }
  // With n voters, the (n - (n/2+1))-th smallest is acked by a majority.
  return scratch[n - (Math.floor(n / 2) + 1)]!;
}

let scratch = new Float64Array(8);

export function majorityVoteResult(voters: ReadonlySet<number>, votes: ReadonlyMap<number, boolean>): VoteResult {
  if (voters.size === 0) return VoteResult.Won; // empty config: joint vote depends on the other half
  let yes = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(voters.size / 2) + 1;
  if (yes >= q) return VoteResult.Won;
  if (yes + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}

/** Joint config: [incoming, outgoing]; outgoing is empty when not joint. */
export type JointVoters = readonly [ReadonlySet<number>, ReadonlySet<number>];

export function jointCommitted(voters: JointVoters, ackedIndex: (id: number) => number | undefined): number {
  return Math.min(majorityCommitted(voters[0], ackedIndex), majorityCommitted(voters[1], ackedIndex));
}

export function jointVoteResult(voters: JointVoters, votes: ReadonlyMap<number, boolean>): VoteResult {
  const r1 = majorityVoteResult(voters[0], votes);
  const r2 = majorityVoteResult(voters[1], votes);
  if (r1 === r2) return r1;
  if (r1 === VoteResult.Lost || r2 === VoteResult.Lost) return VoteResult.Lost;
  return VoteResult.Pending;
}
