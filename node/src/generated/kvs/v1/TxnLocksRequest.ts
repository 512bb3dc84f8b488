// Original file: proto/admin.proto


/**
 * Locks of prepared cross-range transactions held by this store's replicas (kvsctl locks list): what a
 * request blocked on a key waits for.
 */
export interface TxnLocksRequest {
  /**
   * inclusive; empty = from the beginning
   */
  'start'?: (Buffer | Uint8Array | string);
  /**
   * exclusive; empty = to the end
   */
  'end'?: (Buffer | Uint8Array | string);
  /**
   * 0 = 1000
   */
  'limit'?: (number);
}

/**
 * Locks of prepared cross-range transactions held by this store's replicas (kvsctl locks list): what a
 * request blocked on a key waits for.
 */
export interface TxnLocksRequest__Output {
  /**
   * inclusive; empty = from the beginning
   */
  'start': (Buffer);
  /**
   * exclusive; empty = to the end
   */
  'end': (Buffer);
  /**
   * 0 = 1000
   */
  'limit': (number);
}
