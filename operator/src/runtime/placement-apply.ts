// Execution of the placement planner's steps (issue 13) through the per-range Admin calls: each step is
// ONE call on a voter of its range (the observed leader first), the steps of one pass run in parallel
// (the planner gives a range at most one step per pass and keeps AddLearners within maxConcurrentMoves).
// Nothing is remembered that the shard map does not show: a move is AddLearner in one pass, Promote in
// a later pass once the learner's store reports the range caught up, RemoveMember of the extra voter
// after that — each re-derived by the planner from what the stores report, so an operator killed
// between any two steps resumes the move (the learner is promoted, never added again).
// Errors are mapped once (toNodeAdminError); a failed step becomes a Warning event and its range is
// left alone until the cool-down ends (PlacementDriver keeps it in flight).
// Every call carries the epoch its step was planned against. A store holding the range at another epoch
// refuses it (EpochNotMatch: nothing changed) — the plan is stale, not failed: the outcome is `stale`, a
// Normal event, no cool-down, and the driver's next pass observes the range again and re-plans.
import type { PlannedEvent } from '../controller/plan.js';
import type { PlacementStep } from '../placement/types.js';
import { NodeAdminError, toNodeAdminError, type RangeAdmin } from './admin.js';

export interface StepOutcome {
  step: PlacementStep;
  ok: boolean;
  /** The store's answer, or the error. */
  message: string;
  error?: NodeAdminError;
  /** Refused as planned against an old epoch of the range: re-observe and re-plan (not a failure). */
  stale?: boolean;
  event: PlannedEvent;
}

/** Where a range's calls go: admin addresses of its voters, the leader first (from the observed map). */
export type RangeAddresses = (rangeId: number) => string[];
/** The admin address of one store (a stale peer is destroyed on its own store), if it answered. */
export type StoreAddress = (storeId: number) => string | undefined;

/** Step types that the Admin API cannot execute (none since DestroyStaleReplica exists; kept so a new
 * step type can be planned before the node learns it). */
export const UNSUPPORTED_STEPS = new Set<PlacementStep['type']>([]);

export function describePlacementStep(s: PlacementStep): string {
  switch (s.type) {
    case 'AddLearner':
      return `range ${s.rangeId}: add a learner on store ${s.storeId} (${s.cause}: ${s.why})`;
    case 'Promote':
      return `range ${s.rangeId}: promote the learner on store ${s.storeId} (${s.cause}: ${s.why})`;
    case 'RemoveReplica':
      return `range ${s.rangeId}: remove the replica on store ${s.storeId} (${s.cause}: ${s.why})`;
    case 'TransferLeader':
      return `range ${s.rangeId}: move leadership from store ${s.fromStoreId} to store ${s.toStoreId} (${s.cause}: ${s.why})`;
    case 'RemoveStalePeer':
      return `range ${s.rangeId}: stale peer ${s.peerId} on store ${s.storeId} (${s.why})`;
  }
}

const EVENT_REASON: Record<PlacementStep['type'], string> = {
  AddLearner: 'ReplicaAdded',
  Promote: 'ReplicaPromoted',
  RemoveReplica: 'ReplicaRemoved',
  TransferLeader: 'LeaderTransferred',
  RemoveStalePeer: 'StalePeerRemoved',
};

/** Answers that only say "not yet" (a learner still catching up, a leadership that did not move in
 * time): the next pass tries again, the event is Normal, not a failure. */
const NOT_YET = /not caught up|did not move|not yet|retry/i;

async function callOne(admin: RangeAdmin, s: PlacementStep, address: string): Promise<string> {
  switch (s.type) {
    case 'AddLearner':
      return admin.changeRangeReplica(address, s.rangeId, 'AddLearner', s.storeId, s.epoch);
    case 'Promote':
      return admin.changeRangeReplica(address, s.rangeId, 'Promote', s.storeId, s.epoch);
    case 'RemoveReplica':
      return admin.changeRangeReplica(address, s.rangeId, 'RemoveMember', s.storeId, s.epoch);
    case 'TransferLeader':
      return admin.transferRangeLeader(address, s.rangeId, s.toStoreId, s.epoch);
    case 'RemoveStalePeer':
      return admin.destroyStaleReplica(address, s.rangeId, s.epoch, s.descriptorStores);
  }
}

/**
 * Runs one step: on each of `addresses` in turn while the answer is NotLeader/Unavailable (another voter
 * may hold the leadership now); any other error stops (the store refused: quorum, not caught up, a stale
 * epoch, ...).
 */
export async function executePlacementStep(admin: RangeAdmin, s: PlacementStep, addresses: readonly string[]): Promise<StepOutcome> {
  const what = describePlacementStep(s);
  const where = s.type === 'RemoveStalePeer' ? `store ${s.storeId} has no known address` : `no voter of range ${s.rangeId} has a known address`;
  let last: NodeAdminError = new NodeAdminError('Unavailable', `${s.type}: ${where}`);
  for (const a of addresses) {
    try {
      const message = await callOne(admin, s, a);
      return { step: s, ok: true, message, event: { type: 'Normal', reason: EVENT_REASON[s.type], action: s.type, note: `${what}: ${message}` } };
    } catch (e) {
      last = toNodeAdminError(e, s.type);
      if (last.code !== 'NotLeader' && last.code !== 'Unavailable') break;
    }
  }
  if (last.code === 'EpochNotMatch') {
    const cur = last.currentEpoch ? ` (the range is at confVer ${last.currentEpoch.confVer}, version ${last.currentEpoch.version})` : '';
    return {
      step: s,
      ok: false,
      stale: true,
      message: last.message,
      error: last,
      event: { type: 'Normal', reason: 'PlacementStepStale', action: s.type, note: `${what}: planned against an older epoch${cur}; observing again` },
    };
  }
  const notYet = NOT_YET.test(last.message);
  return {
    step: s,
    ok: false,
    message: last.message,
    error: last,
    event: notYet
      ? { type: 'Normal', reason: 'PlacementStepWaiting', action: s.type, note: `${what}: ${last.message}` }
      : { type: 'Warning', reason: 'PlacementStepFailed', action: s.type, note: `${what}: ${last.code}: ${last.message}` },
  };
}

/** Whether a failed outcome only means "not yet" or "re-plan" (no failure condition, no cool-down). */
export function onlyNotYet(o: StepOutcome): boolean {
  return !o.ok && o.event.type === 'Normal';
}

/**
 * Executes the steps of one pass, in parallel (each on a different range, or a stale peer on its own
 * store), skipping what the Admin API cannot do. `addressesOf` gives each range's voters' addresses, its
 * leader first; `storeAddress` a store's own (stale peers).
 */
export async function applyPlacementSteps(admin: RangeAdmin, steps: readonly PlacementStep[], addressesOf: RangeAddresses, storeAddress: StoreAddress = () => undefined): Promise<StepOutcome[]> {
  const where = (s: PlacementStep): string[] => {
    if (s.type !== 'RemoveStalePeer') return addressesOf(s.rangeId);
    const a = storeAddress(s.storeId);
    return a === undefined ? [] : [a];
  };
  return Promise.all(steps.filter((s) => !UNSUPPORTED_STEPS.has(s.type)).map((s) => executePlacementStep(admin, s, where(s))));
}
