// Validation of the placement spec. The CRD's CEL rules give the user a readable message first; this is
// the planner's own guard so a bad spec never reaches the step logic.
import { PlacementSpecError } from './errors.js';
import type { PlacementSpec } from './types.js';

export function validatePlacementSpec(spec: PlacementSpec): void {
  const rf = spec.replicationFactor;
  if (!Number.isSafeInteger(rf) || rf < 1 || rf % 2 === 0) {
    throw new PlacementSpecError(`replicationFactor must be an odd integer ≥ 1 (got ${rf}): an even count adds a voter without adding fault tolerance`);
  }
  if (!Number.isSafeInteger(spec.maxConcurrentMoves) || spec.maxConcurrentMoves < 1) {
    throw new PlacementSpecError(`maxConcurrentMoves must be an integer ≥ 1 (got ${spec.maxConcurrentMoves})`);
  }
  if (!Number.isFinite(spec.storeDownTimeoutMs) || spec.storeDownTimeoutMs < 0) {
    throw new PlacementSpecError(`storeDownTimeout must be a non-negative duration (got ${spec.storeDownTimeoutMs} ms)`);
  }
}

/** Raft majority of n voters. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}
