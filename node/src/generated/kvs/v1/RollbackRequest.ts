// Original file: proto/kv.proto

import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from '../../kvs/v1/RequestHeader.js';

export interface RollbackRequest {
  'header'?: (_kvs_v1_RequestHeader | null);
  'txnId'?: (string);
}

export interface RollbackRequest__Output {
  'header': (_kvs_v1_RequestHeader__Output | null);
  'txnId': (string);
}
