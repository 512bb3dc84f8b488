// The seeded part of a Jepsen run: cluster size, workload and the fault schedule are a pure function of
// the seed (and the options), so `make jepsen SEED=x` replays the same plan (the interleaving with the
// processes' own timing is of course not reproducible bit for bit).
import { mulberry32 as prng } from '../../node/src/common/prng.js';
import { SECONDARY_HOLD_MS } from '../../node/src/raftstore/secondary-commits.js';
import { ALL_WORKLOADS, type WorkloadKind } from './workload.js';

export type FaultKind =
  | 'kill' // SIGKILL a node (leader or random), restart it after `holdMs`
  | 'pause' // SIGSTOP a node, SIGCONT after `holdMs`
  | 'partition-majority' // random split: a minority side cut off from a majority side (both directions)
  | 'partition-leader' // the current leader isolated from everyone
  | 'partition-bridge' // two halves that share one node (the bridge sees both; the halves do not see each other)
  | 'partition-oneway' // the leader's outgoing links cut, incoming kept (it hears the others, they do not hear it)
  | 'membership' // add a fresh node as learner → promote → remove an old voter (never reusing raft ids)
  | 'transfer' // leader transfer to a random voter
  | 'wipe' // SIGKILL, delete the data dir, restart with the same flags; then replace it by a new member
  | 'clock' // a node's wall clock jumps forward / backward or drifts (test hook), back to real time after `holdMs`
  | 'split' // split a range (Admin.SplitRange) at a register key, between bank accounts or inside a write-skew pair
  | 'move-range' // a random range's replica changes stores (learner → snapshot → promote → remove); see run-one moveRange
  | 'wipe-lagging'; // 3 nodes: one lags (down), leader and the other lose power, the other's disk is lost; see run-one

export const ALL_FAULTS: FaultKind[] = ['kill', 'pause', 'partition-majority', 'partition-leader', 'partition-bridge', 'partition-oneway', 'membership', 'transfer', 'wipe', 'clock', 'split', 'move-range'];

/**
 * Negative controls: a test-only node switch that breaks a guarantee, with the workload and faults that
 * must then fail, and the problem the checker must report (so the checker is proven able to fail).
 */
export type ControlKind = 'no-commit-fence' | 'snapshot-isolation' | 'no-identity-check' | 'stale-snapshots';
export const CONTROLS: Record<ControlKind, { env: Record<string, string>; workload: WorkloadKind; expect: RegExp }> = {
  // Retried commits answered from one replica's memory instead of through the log: the issue-10 recipe
  // (clients pinned to followers, the follower kill -9'd mid-round) duplicates increments.
  'no-commit-fence': { env: { KVS_TEST_UNSAFE_NO_COMMIT_FENCE: '1' }, workload: 'counter', expect: /^duplicate increments/ },
  // Commit validation of written keys only: disjoint write sets over a shared read set commit both.
  'snapshot-isolation': { env: { KVS_TEST_UNSAFE_SNAPSHOT_ISOLATION: '1' }, workload: 'write-skew', expect: /^write skew/ },
  // Peers admit a wiped data dir as the same voter: after `wipe-lagging` the wiped node votes the lagging
  // one in, which leads without increments the old leader and the wiped node acknowledged.
  'no-identity-check': { env: { KVS_TEST_DISABLE_IDENTITY_CHECK: '1' }, workload: 'counter', expect: /^(lost increments|final reads of .* differ)/ },
  // No uncertainty limit: a read-only transaction's snapshot is its first range's applied ts, below a
  // transfer another client saw acknowledged on another range (the plan only splits the accounts apart).
  'stale-snapshots': { env: { KVS_TEST_UNSAFE_STALE_SNAPSHOTS: '1' }, workload: 'bank', expect: /^stale audit/ },
};

export interface FaultStep {
  /** Start, ms after the workload started. */
  atMs: number;
  kind: FaultKind;
  /** How long the fault lasts before it is healed (kill/pause/partitions/wipe/clock). */
  holdMs: number;
  /** Target choice: the leader (when it can be found) or a random node / side. */
  targetLeader: boolean;
  /** Target a follower (a node clients are pinned to) instead. */
  targetFollower?: boolean;
  /** Random numbers for choices made at run time (node index, split), in [0, 1). */
  r: number[];
}

export interface RunPlan {
  seed: number;
  nodes: 3 | 5;
  clients: number;
  keys: number;
  workload: WorkloadKind;
  faultWindowMs: number;
  /** Probability that a reply to a client is lost after the server processed the request. */
  replyLoss: number;
  /** Each client talks to one follower only (chosen when the workload starts). */
  pinFollowers: boolean;
  /** Negative control: node env switch, and the run must fail with the expected problem. */
  control?: ControlKind;
  /** Cross-range commits by parallel commits (--txn-parallel-commit) in this run (half the seeds). */
  parallelCommit: boolean;
  /** Range leaders overlap their own log writes (--raft-async-append) in this run (half the seeds). */
  asyncAppend: boolean;
  /** Secondary commits held to ride the next proposal (--txn-secondary-hold, ms): the default in half the seeds, 0 in the rest. */
  secondaryHoldMs: number;
  /** The clients' txn helper reads on each key's range leader at the snapshot (KvClientOptions.directTxnReads): half the seeds. */
  directTxnReads: boolean;
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
  /** Force the workload (default: from the seed). */
  workload?: WorkloadKind;
  /** A negative control (forces its workload; no-commit-fence also forces the issue-10 recipe). */
  control?: ControlKind;
  /** Issue 10's recipe instead of a random schedule: counter clients pinned to followers, followers killed. */
  recipe?: boolean;
}

export function makePlan(seed: number, o: PlanOptions = {}): RunPlan {
  const rand = prng(seed * 2654435761);
  const nodes = o.nodes ?? (rand() < 0.5 ? 3 : 5);
  // The workload has its own stream, so choosing it does not shift the fault schedule of a seed.
  const recipe = o.recipe === true || o.control === 'no-commit-fence';
  const workload = o.control ? CONTROLS[o.control].workload : recipe ? 'counter' : (o.workload ?? ALL_WORKLOADS[Math.floor(prng(seed * 40503 + 7)() * ALL_WORKLOADS.length)]!);
  const clients = nodes === 3 ? 5 : 6;
  // Its own stream too: half the seeds commit across ranges by parallel commits, half by two rounds.
  const parallelCommit = prng(seed * 7919 + 3)() < 0.5;
  // And one more: half the seeds run the opt-in async append, so the nemesis keeps exercising it.
  const asyncAppend = prng(seed * 6007 + 11)() < 0.5;
  const secondaryHoldMs = prng(seed * 7573 + 5)() < 0.5 ? SECONDARY_HOLD_MS : 0;
  const directTxnReads = prng(seed * 8191 + 13)() < 0.5;
  const base = { seed, nodes, clients, keys: 5, workload, replyLoss: 0.02, control: o.control, parallelCommit, asyncAppend, secondaryHoldMs, directTxnReads };
  if (recipe) return { ...base, clients: 24, ...recipePlan(rand) }; // as in the issue: more commits cut by each kill
  if (o.control === 'no-identity-check' || o.firstFault === 'wipe-lagging') return { ...base, nodes: 3, clients: 5, ...wipeLaggingPlan(rand) };
  const faults = o.faults ?? (o.control === 'stale-snapshots' ? (['split'] as FaultKind[]) : ALL_FAULTS);
  const window = o.faultWindowMs ?? 12_000;
  const schedule: FaultStep[] = [];
  let t = 500 + Math.floor(rand() * 700);
  while (t < window) {
    const kind = schedule.length === 0 && o.firstFault ? o.firstFault : faults[Math.floor(rand() * faults.length)]!;
    const holdMs = kind === 'membership' || kind === 'transfer' || kind === 'split' || kind === 'move-range' ? 0 : 600 + Math.floor(rand() * 2400);
    schedule.push({ atMs: t, kind, holdMs, targetLeader: rand() < 0.6, r: [rand(), rand(), rand(), rand()] });
    // The next fault starts after this one healed plus a gap (faults do not overlap: each run stays
    // interpretable, and quorum is lost only by the fault itself). Replacing a member (membership,
    // wipe) or moving replicas (move-range: snapshots) takes a few seconds more.
    t += holdMs + 400 + Math.floor(rand() * 1200) + (kind === 'membership' || kind === 'wipe' || kind === 'move-range' ? 3000 : 0);
  }
  return { ...base, faultWindowMs: window, pinFollowers: false, schedule };
}

/**
 * Issue 10's recipe: every client pinned to a follower; that follower is kill -9'd 0.5–1.5 s into a
 * round and restarted 1–2 s later, six rounds.
 */
function recipePlan(rand: () => number): { faultWindowMs: number; pinFollowers: true; schedule: FaultStep[] } {
  const schedule: FaultStep[] = [];
  let t = 0;
  for (let round = 0; round < 6; round++) {
    const atMs = t + 500 + Math.floor(rand() * 1000);
    const holdMs = 1000 + Math.floor(rand() * 1000);
    schedule.push({ atMs, kind: 'kill', holdMs, targetLeader: false, targetFollower: true, r: [rand(), rand(), rand(), rand()] });
    t = atMs + holdMs + 1000; // ~1 s for the restart
  }
  return { faultWindowMs: t, pinFollowers: true, schedule };
}

/** One `wipe-lagging` fault on 3 nodes, early enough that counters have moved before and after it. */
function wipeLaggingPlan(rand: () => number): { faultWindowMs: number; pinFollowers: false; schedule: FaultStep[] } {
  const atMs = 1000 + Math.floor(rand() * 500);
  const holdMs = 1500 + Math.floor(rand() * 1000);
  return { faultWindowMs: atMs + holdMs + 6000, pinFollowers: false, schedule: [{ atMs, kind: 'wipe-lagging', holdMs, targetLeader: true, r: [rand(), rand(), rand(), rand()] }] };
}
