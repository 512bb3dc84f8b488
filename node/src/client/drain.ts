// Store drain: move every replica and every leadership off one store (`kvsctl store drain`, and the
// operator's scale-in). Two halves:
//   planDrain   a pure function from the observed shard map to an ordered list of steps (unit-tested);
//   drainStore  observes (collectShardMap), plans, runs the steps with the shared move implementation
//               (range-moves.ts), and plans again until nothing is left — so running it again after an
//               interruption simply continues from what the cluster shows.
// A replica moves when some other live store holds none of its range (the one with the fewest replicas
// gets it); when every live store already holds the range only the leadership moves and the replica is
// kept ("no store to move it to"). Leaderships move first: the store stops leading at once, while the
// moves (snapshots) take longer.
import type { Logger } from '../common/logger.js';
import type { AdminClient } from './admin-client.js';
import { DrainIncompleteError, DrainUnknownStoreError } from './errors.js';
import { collectShardMap, moveReplica, removeReplica, transferRangeLeader, type ShardMap } from './range-moves.js';

/** Range 1 (the store's DATA_GROUP_ID): its members are the cluster's stores (Admin AddLearner/RemoveMember without a range). */
export const MEMBERSHIP_RANGE_ID = 1;

export const KEPT_NO_TARGET = 'no store to move it to';
export const KEPT_NO_LEADER_TARGET = 'no store to move it to, and no other live voter to take its leadership';

export interface DrainRange {
  rangeId: number;
  replicas: Array<{ storeId: number; role: string }>;
  /** Store of the range's leader; 0 = unknown. */
  leaderId: number;
}

export interface DrainStoreState {
  storeId: number;
  /** Answers and is a member of the cluster: may receive replicas and leaderships. */
  live: boolean;
}

export interface DrainInput {
  storeId: number;
  stores: DrainStoreState[];
  ranges: DrainRange[];
  /**
   * Stores that get a leadership or replica only when no other live store can take it (the operator's
   * scale-in: the stores it removes next, so nothing lands there only to move again).
   */
  avoid?: number[];
}

export type DrainStep =
  | { type: 'transfer-leader'; rangeId: number; from: number; to: number }
  /** `resumes`: the target already holds a learner (a move interrupted before its promotion). */
  | { type: 'move-replica'; rangeId: number; from: number; to: number; resumes?: boolean }
  /** A learner on the drained store (a move towards it that never finished): removed, not moved. */
  | { type: 'remove-learner'; rangeId: number; storeId: number }
  /** Stays: `leaderStays` when the store also keeps the range's leadership (nobody can take it). */
  | { type: 'keep-replica'; rangeId: number; storeId: number; reason: string; leaderStays?: boolean };

export interface DrainPlan {
  storeId: number;
  steps: DrainStep[];
}

const byCountThenId =
  (count: Map<number, number>, avoid: ReadonlySet<number> = new Set()) =>
  (a: number, b: number): number =>
    Number(avoid.has(a)) - Number(avoid.has(b)) || (count.get(a) ?? 0) - (count.get(b) ?? 0) || a - b;

/**
 * The steps that drain `input.storeId`, in order: leadership transfers, replica moves, learner removals,
 * then the replicas that stay. Deterministic (ranges by id; ties between stores by lower id). Throws
 * DrainUnknownStoreError when no store answered with that id and no range lists it.
 */
export function planDrain(input: DrainInput): DrainPlan {
  const me = input.storeId;
  const known = new Set<number>([...input.stores.map((s) => s.storeId), ...input.ranges.flatMap((r) => r.replicas.map((x) => x.storeId))]);
  if (!known.has(me)) throw new DrainUnknownStoreError(me, [...known].sort((a, b) => a - b));
  const live = new Set(input.stores.filter((s) => s.live && s.storeId !== me).map((s) => s.storeId));
  const avoid = new Set(input.avoid ?? []);
  // Load as the plan goes: each planned move or transfer counts, so targets spread.
  const replicas = new Map<number, number>();
  const leaders = new Map<number, number>();
  for (const r of input.ranges) {
    for (const x of r.replicas) replicas.set(x.storeId, (replicas.get(x.storeId) ?? 0) + 1);
    if (r.leaderId > 0) leaders.set(r.leaderId, (leaders.get(r.leaderId) ?? 0) + 1);
  }
  const transfers: DrainStep[] = [];
  const moves: DrainStep[] = [];
  const removals: DrainStep[] = [];
  const kept: DrainStep[] = [];
  for (const r of [...input.ranges].sort((a, b) => a.rangeId - b.rangeId)) {
    const mine = r.replicas.find((x) => x.storeId === me);
    if (mine === undefined) continue;
    const holders = new Set(r.replicas.map((x) => x.storeId));
    let moving = false;
    if (mine.role === 'learner') {
      removals.push({ type: 'remove-learner', rangeId: r.rangeId, storeId: me });
      moving = true;
    } else {
      const pending = r.replicas.find((x) => x.role === 'learner' && x.storeId !== me && live.has(x.storeId));
      const to = pending?.storeId ?? [...live].filter((s) => !holders.has(s)).sort(byCountThenId(replicas, avoid))[0];
      if (to !== undefined) {
        moves.push({ type: 'move-replica', rangeId: r.rangeId, from: me, to, ...(pending ? { resumes: true } : {}) });
        if (!pending) replicas.set(to, (replicas.get(to) ?? 0) + 1);
        moving = true;
      }
    }
    let leaderStays = false;
    if (r.leaderId === me) {
      const to = r.replicas
        .filter((x) => x.role === 'voter' && x.storeId !== me && live.has(x.storeId))
        .map((x) => x.storeId)
        .sort(byCountThenId(leaders, avoid))[0];
      if (to !== undefined) {
        transfers.push({ type: 'transfer-leader', rangeId: r.rangeId, from: me, to });
        leaders.set(to, (leaders.get(to) ?? 0) + 1);
        leaders.set(me, (leaders.get(me) ?? 0) - 1);
      } else if (!moving) {
        leaderStays = true;
      }
      // else: a move with no other voter yet — its removal hands the leadership to the promoted replica.
    }
    if (!moving) kept.push({ type: 'keep-replica', rangeId: r.rangeId, storeId: me, reason: leaderStays ? KEPT_NO_LEADER_TARGET : KEPT_NO_TARGET, ...(leaderStays ? { leaderStays } : {}) });
  }
  return { storeId: me, steps: [...transfers, ...moves, ...removals, ...kept] };
}

/**
 * The planner's input from an observed shard map. A store is live when it answered and is a member of
 * range 1 (the cluster's membership): a store that answers but was never added (started with --join)
 * has no address the ranges could reach it at.
 */
export function drainInputOf(map: ShardMap, storeId: number): DrainInput {
  const answered = new Set(map.stores.filter((s) => s.error === undefined).map((s) => s.storeId));
  const members = map.ranges.find((r) => r.rangeId === MEMBERSHIP_RANGE_ID)?.replicas.map((x) => x.storeId);
  const ids = new Set<number>([...answered, ...map.ranges.flatMap((r) => r.replicas.map((x) => x.storeId))]);
  return {
    storeId,
    stores: [...ids].sort((a, b) => a - b).map((id) => ({ storeId: id, live: answered.has(id) && (members === undefined || members.includes(id)) })),
    ranges: map.ranges.map((r) => ({ rangeId: r.rangeId, replicas: r.replicas.map((x) => ({ storeId: x.storeId, role: x.role })), leaderId: r.leaderId })),
  };
}

/** One line per step, for humans ("range 7: move replica 2 → 4"). */
export function describeStep(s: DrainStep): string {
  switch (s.type) {
    case 'transfer-leader':
      return `range ${s.rangeId}: move leadership ${s.from} → ${s.to}`;
    case 'move-replica':
      return `range ${s.rangeId}: move replica ${s.from} → ${s.to}${s.resumes ? ' (finishes an interrupted move)' : ''}`;
    case 'remove-learner':
      return `range ${s.rangeId}: remove learner ${s.storeId} (a move to it that never finished)`;
    case 'keep-replica':
      return `range ${s.rangeId}: kept: ${s.reason}`;
  }
}

export type DrainEvent =
  | { type: 'plan'; pass: number; plan: DrainPlan }
  | { type: 'step'; step: DrainStep; ok: true; messages: string[] }
  | { type: 'step'; step: DrainStep; ok: false; error: string };

export interface DrainOptions {
  /** Plan only: change nothing. */
  dryRun?: boolean;
  /** How long one replica move may take (default 60 s). */
  moveTimeoutMs?: number;
  /**
   * Move leaderships only, keep every replica (the operator's rolling upgrade: the store comes back).
   * A range it leads that no other live voter can take is reported by DrainIncompleteError.
   */
  leadershipsOnly?: boolean;
  /** Stores that take a leadership or replica only when no other can (DrainInput.avoid). */
  avoidTargets?: number[];
  /** Plan-and-run rounds before giving up with DrainIncompleteError (default 3). */
  passes?: number;
  onEvent?: (e: DrainEvent) => void;
  logger?: Logger;
}

export interface DrainResult {
  storeId: number;
  dryRun: boolean;
  /** The first plan (the dry run's only one). */
  plan: DrainPlan;
  movedReplicas: number;
  movedLeaderships: number;
  removedLearners: number;
  kept: Array<{ rangeId: number; reason: string }>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Drains store `storeId` through the Admin endpoints of `admin` (they should include every store, so
 * each one's ranges and liveness are seen). Throws DrainUnknownStoreError (nothing changed) for a store
 * that is not in the cluster, DrainIncompleteError when steps still fail after `passes` rounds.
 */
export async function drainStore(admin: AdminClient, storeId: number, o: DrainOptions = {}): Promise<DrainResult> {
  const passes = o.passes ?? 3;
  const result: DrainResult = { storeId, dryRun: o.dryRun === true, plan: { storeId, steps: [] }, movedReplicas: 0, movedLeaderships: 0, removedLearners: 0, kept: [] };
  let failures: string[] = [];
  for (let pass = 1; ; pass++) {
    const map = await collectShardMap(admin);
    const input = { ...drainInputOf(map, storeId), ...(o.avoidTargets ? { avoid: o.avoidTargets } : {}) };
    const plan = planDrain(input);
    if (pass === 1) result.plan = plan;
    o.onEvent?.({ type: 'plan', pass, plan });
    o.logger?.info('drain plan', { store: storeId, pass, steps: plan.steps.map(describeStep) });
    const todo = plan.steps.filter((s) => (o.leadershipsOnly ? s.type === 'transfer-leader' : s.type !== 'keep-replica'));
    const keeps = plan.steps.filter((s): s is Extract<DrainStep, { type: 'keep-replica' }> => s.type === 'keep-replica');
    result.kept = keeps.map((s) => ({ rangeId: s.rangeId, reason: s.reason }));
    if (o.dryRun) return result;
    if (todo.length === 0) {
      // Leaderships only: a range whose leadership would only have left with a replica move stays led here.
      const moved = new Set(plan.steps.filter((s) => s.type === 'transfer-leader').map((s) => s.rangeId));
      const stuck = o.leadershipsOnly
        ? input.ranges.filter((r) => r.leaderId === storeId && !moved.has(r.rangeId)).map((r) => `range ${r.rangeId}: its leadership stays (no other live voter to take it)`)
        : keeps.filter((s) => s.leaderStays).map((s) => `range ${s.rangeId}: its leadership stays (${s.reason})`);
      if (stuck.length > 0) throw new DrainIncompleteError(storeId, stuck);
      return result;
    }
    if (pass > passes) throw new DrainIncompleteError(storeId, failures.length > 0 ? failures : todo.map(describeStep));
    failures = [];
    const storeEndpoints = new Map(map.stores.filter((s) => s.error === undefined).map((s) => [s.storeId, s.endpoint]));
    for (const step of todo) {
      const messages: string[] = [];
      // Calls run on other stores first: a change taking a range's leadership must not take it here.
      const mo = { timeoutMs: o.moveTimeoutMs ?? 60_000, onStep: (m: string) => messages.push(m), storeEndpoints, avoidStores: [storeId] };
      try {
        if (step.type === 'transfer-leader') {
          await transferRangeLeader(admin, step.rangeId, step.to, { ...mo, timeoutMs: 15_000, leader: step.from });
          result.movedLeaderships++;
        } else if (step.type === 'move-replica') {
          await moveReplica(admin, step.rangeId, step.from, step.to, mo);
          result.movedReplicas++;
        } else if (step.type === 'remove-learner') {
          await removeReplica(admin, step.rangeId, step.storeId, mo);
          result.removedLearners++;
        }
        o.onEvent?.({ type: 'step', step, ok: true, messages });
        o.logger?.info('drain step done', { store: storeId, range: step.rangeId, step: step.type, messages });
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        failures.push(`${describeStep(step)}: ${error}`);
        o.onEvent?.({ type: 'step', step, ok: false, error });
        o.logger?.warn('drain step failed', { store: storeId, range: step.rangeId, step: step.type, err: error });
      }
    }
    // Reports settle (a removed replica's store destroys it after the removal applied) before re-planning.
    await sleep(500);
  }
}
