// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface TxnLockInfo {
  /**
   * empty for a range lock (see start/end)
   */
  'key'?: (Buffer | Uint8Array | string);
  'txnId'?: (string);
  /**
   * the key whose range decides the transaction
   */
  'primary'?: (Buffer | Uint8Array | string);
  /**
   * write | read | range
   */
  'kind'?: (string);
  'prepareTs'?: (number | string | Long);
  'ttlMs'?: (number | string | Long);
  /**
   * since the prepare ts, by this store's clock
   */
  'ageMs'?: (number | string | Long);
  'rangeId'?: (number | string | Long);
  /**
   * range locks: the scanned span
   */
  'start'?: (Buffer | Uint8Array | string);
  'end'?: (Buffer | Uint8Array | string);
}

export interface TxnLockInfo__Output {
  /**
   * empty for a range lock (see start/end)
   */
  'key': (Buffer);
  'txnId': (string);
  /**
   * the key whose range decides the transaction
   */
  'primary': (Buffer);
  /**
   * write | read | range
   */
  'kind': (string);
  'prepareTs': (number);
  'ttlMs': (number);
  /**
   * since the prepare ts, by this store's clock
   */
  'ageMs': (number);
  'rangeId': (number);
  /**
   * range locks: the scanned span
   */
  'start': (Buffer);
  'end': (Buffer);
}
