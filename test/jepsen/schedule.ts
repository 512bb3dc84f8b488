// The seeded part of a Jepsen run: cluster size, workload shape and the fault schedule are a pure
// function of the seed, so `make jepsen SEED=x` replays the same plan (the interleaving with the
// processes' own timing is of course not reproducible bit for bit).
import { mulberry32 as prng } from '../../node/src/common/prng.js';

export type FaultKind =
  | 'kill' // SIGKILL a node (leader or random), restart it after `holdMs`
  | 'pause' // SIGSTOP a node, SIGCONT after `holdMs`
  | 'partition-majority' // random split: a minority side cut off from a majority side (both directions)
  | 'partition-leader' // the current leader isolated from everyone
  | 'partition-bridge' // two halves that share one node (the bridge sees both; the halves do not see each other)
  | 'partition-oneway' // the leader's outgoing links cut, incoming kept (it hears the others, they do not hear it)
  | 'membership' // add a fresh node as learner → promote → remove an old voter (never reusing raft ids)
  | 'transfer'; // leader transfer to a random voter

export const ALL_FAULTS: FaultKind[] = ['kill', 'pause', 'partition-majority', 'partition-leader', 'partition-bridge', 'partition-oneway', 'membership', 'transfer'];

export interface FaultStep {
  /** Start, ms after the workload started. */
  atMs: number;
  kind: FaultKind;
  /** How long the fault lasts before it is healed (kill/pause/partitions). */
  holdMs: number;
  /** Target choice: the leader (when it can be found) or a random node / side. */
  targetLeader: boolean;
  /** Random numbers for choices made at run time (node index, split), in [0, 1). */
  r: number[];
}

export interface RunPlan {
  seed: number;
  nodes: 3 | 5;
  clients: number;
  keys: number;
  faultWindowMs: number;
  /** Probability that a reply to a client is lost after the server processed the request. */
  replyLoss: number;
  schedule: FaultStep[];
}

export interface PlanOptions {
  faultWindowMs?: number;
  /** Force the cluster size (default: from the seed, 3 or 5). */
  nodes?: 3 | 5;
  /** Faults to draw from (default all). */
  faults?: FaultKind[];
  /** Put this fault first (so a bounded set covers every kind). */
  firstFault?: FaultKind;
}

export function makePlan(seed: number, o: PlanOptions = {}): RunPlan {
  const rand = prng(seed * 2654435761);
  const nodes = o.nodes ?? (rand() < 0.5 ? 3 : 5);
  const faults = o.faults ?? ALL_FAULTS;
  const window = o.faultWindowMs ?? 12_000;
  const schedule: FaultStep[] = [];
  let t = 500 + Math.floor(rand() * 700);
  while (t < window) {
    const kind = schedule.length === 0 && o.firstFault ? o.firstFault : faults[Math.floor(rand() * faults.length)]!;
    const holdMs = kind === 'membership' || kind === 'transfer' ? 0 : 600 + Math.floor(rand() * 2400);
    schedule.push({ atMs: t, kind, holdMs, targetLeader: rand() < 0.6, r: [rand(), rand(), rand(), rand()] });
    // The next fault starts after this one healed plus a gap (faults do not overlap: each run stays
    // interpretable, and quorum is lost only by the fault itself).
    t += holdMs + 400 + Math.floor(rand() * 1200) + (kind === 'membership' ? 3000 : 0);
  }
  return { seed, nodes, clients: nodes === 3 ? 5 : 6, keys: 5, faultWindowMs: window, replyLoss: 0.02, schedule };
}
