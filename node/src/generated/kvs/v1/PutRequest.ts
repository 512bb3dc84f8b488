// Original file: proto/kv.proto

import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from '../../kvs/v1/RequestHeader.js';

export interface PutRequest {
  'header'?: (_kvs_v1_RequestHeader | null);
  'key'?: (Buffer | Uint8Array | string);
  'value'?: (Buffer | Uint8Array | string);
  'txnId'?: (string);
  /**
   * Compare-and-set: when set, the put applies only if the current value equals expected_value
   * (expect_absent: only if the key does not exist).
   */
  'hasExpected'?: (boolean);
  'expectedValue'?: (Buffer | Uint8Array | string);
  'expectAbsent'?: (boolean);
  'returnPrev'?: (boolean);
}

export interface PutRequest__Output {
  'header': (_kvs_v1_RequestHeader__Output | null);
  'key': (Buffer);
  'value': (Buffer);
  'txnId': (string);
  /**
   * Compare-and-set: when set, the put applies only if the current value equals expected_value
   * (expect_absent: only if the key does not exist).
   */
  'hasExpected': (boolean);
  'expectedValue': (Buffer);
  'expectAbsent': (boolean);
  'returnPrev': (boolean);
}
