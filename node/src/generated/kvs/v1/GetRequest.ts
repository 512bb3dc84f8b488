// Original file: proto/kv.proto

import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from '../../kvs/v1/RequestHeader.js';
import type { Long } from '@grpc/proto-loader';

export interface GetRequest {
  'header'?: (_kvs_v1_RequestHeader | null);
  'key'?: (Buffer | Uint8Array | string);
  /**
   * read at this timestamp; 0 = latest committed
   */
  'snapshotTs'?: (number | string | Long);
  /**
   * read inside an interactive transaction
   */
  'txnId'?: (string);
}

export interface GetRequest__Output {
  'header': (_kvs_v1_RequestHeader__Output | null);
  'key': (Buffer);
  /**
   * read at this timestamp; 0 = latest committed
   */
  'snapshotTs': (number);
  /**
   * read inside an interactive transaction
   */
  'txnId': (string);
}
