// Original file: proto/admin.proto


/**
 * Settles the locks on KEY (kvsctl locks resolve): asks the transaction's primary for its fate and rolls
 * the locks forward or back. A live transaction (TTL running) is left alone unless `force`, which aborts
 * it at its primary first (its commit then fails; nothing committed is ever undone).
 */
export interface ResolveLocksRequest {
  'key'?: (Buffer | Uint8Array | string);
  'force'?: (boolean);
}

/**
 * Settles the locks on KEY (kvsctl locks resolve): asks the transaction's primary for its fate and rolls
 * the locks forward or back. A live transaction (TTL running) is left alone unless `force`, which aborts
 * it at its primary first (its commit then fails; nothing committed is ever undone).
 */
export interface ResolveLocksRequest__Output {
  'key': (Buffer);
  'force': (boolean);
}
