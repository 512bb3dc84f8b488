// Original file: proto/kv.proto

import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from '../../kvs/v1/RequestHeader.js';

export interface CommitRequest {
  /**
   * set client_id/seq so a retried commit is exactly-once
   */
  'header'?: (_kvs_v1_RequestHeader | null);
  'txnId'?: (string);
}

export interface CommitRequest__Output {
  /**
   * set client_id/seq so a retried commit is exactly-once
   */
  'header': (_kvs_v1_RequestHeader__Output | null);
  'txnId': (string);
}
