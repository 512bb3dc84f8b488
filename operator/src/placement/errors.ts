// Typed errors of the placement layer.

/** The placement spec cannot be planned with (even replication factor, no move budget, ...). */
export class PlacementSpecError extends Error {
  override readonly name = 'PlacementSpecError';
  readonly code = 'INVALID_PLACEMENT_SPEC' as const;
}
