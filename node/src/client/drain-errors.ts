// Typed errors of a store drain (drain.ts).

/** The store to drain is not part of the cluster: no store answered with that id and no range lists it. */
export class DrainUnknownStoreError extends Error {
  override readonly name = 'DrainUnknownStoreError';
  readonly code = 'UNKNOWN_STORE' as const;
  constructor(readonly storeId: number, readonly knownStores: number[]) {
    super(`store ${storeId} is not in the cluster (known stores: ${knownStores.length > 0 ? knownStores.join(', ') : 'none'}); nothing was changed`);
  }
}

/** The drain ran but left work behind (a step kept failing, or leadership came back): run it again. */
export class DrainIncompleteError extends Error {
  override readonly name = 'DrainIncompleteError';
  readonly code = 'DRAIN_INCOMPLETE' as const;
  constructor(
    readonly storeId: number,
    /** What is still to do, one line each ("range 7: move replica 2 → 4: <error>"). */
    readonly remaining: string[],
  ) {
    super(`drain of store ${storeId} incomplete (${remaining.length} left; running it again continues): ${remaining.join('; ')}`);
  }
}
