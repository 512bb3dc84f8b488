// Original file: proto/kv.proto

import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from '../../kvs/v1/RequestHeader.js';
import type { Long } from '@grpc/proto-loader';

export interface ScanRequest {
  'header'?: (_kvs_v1_RequestHeader | null);
  /**
   * inclusive; empty = from the beginning
   */
  'start'?: (Buffer | Uint8Array | string);
  /**
   * exclusive; empty = to the end
   */
  'end'?: (Buffer | Uint8Array | string);
  /**
   * alternative to start/end
   */
  'prefix'?: (Buffer | Uint8Array | string);
  /**
   * 0 = server default (1000); capped by the server's max
   */
  'limit'?: (number);
  'reverse'?: (boolean);
  'keysOnly'?: (boolean);
  'snapshotTs'?: (number | string | Long);
  'txnId'?: (string);
}

export interface ScanRequest__Output {
  'header': (_kvs_v1_RequestHeader__Output | null);
  /**
   * inclusive; empty = from the beginning
   */
  'start': (Buffer);
  /**
   * exclusive; empty = to the end
   */
  'end': (Buffer);
  /**
   * alternative to start/end
   */
  'prefix': (Buffer);
  /**
   * 0 = server default (1000); capped by the server's max
   */
  'limit': (number);
  'reverse': (boolean);
  'keysOnly': (boolean);
  'snapshotTs': (number);
  'txnId': (string);
}
