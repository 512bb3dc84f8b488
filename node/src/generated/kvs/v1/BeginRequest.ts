// Original file: proto/kv.proto

import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from '../../kvs/v1/RequestHeader.js';

export interface BeginRequest {
  'header'?: (_kvs_v1_RequestHeader | null);
  /**
   * 0 = server default
   */
  'idleTimeoutMs'?: (number);
  'readOnly'?: (boolean);
}

export interface BeginRequest__Output {
  'header': (_kvs_v1_RequestHeader__Output | null);
  /**
   * 0 = server default
   */
  'idleTimeoutMs': (number);
  'readOnly': (boolean);
}
