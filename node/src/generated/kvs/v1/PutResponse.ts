// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface PutResponse {
  /**
   * commit version (0 inside a transaction or when the CAS failed)
   */
  'version'?: (number | string | Long);
  /**
   * false only for a failed compare-and-set
   */
  'succeeded'?: (boolean);
  'prevFound'?: (boolean);
  /**
   * with return_prev, or the current value when a CAS failed
   */
  'prevValue'?: (Buffer | Uint8Array | string);
}

export interface PutResponse__Output {
  /**
   * commit version (0 inside a transaction or when the CAS failed)
   */
  'version': (number);
  /**
   * false only for a failed compare-and-set
   */
  'succeeded': (boolean);
  'prevFound': (boolean);
  /**
   * with return_prev, or the current value when a CAS failed
   */
  'prevValue': (Buffer);
}
