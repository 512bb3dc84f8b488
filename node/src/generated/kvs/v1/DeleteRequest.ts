// Original file: proto/kv.proto

import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from '../../kvs/v1/RequestHeader.js';

export interface DeleteRequest {
  'header'?: (_kvs_v1_RequestHeader | null);
  'key'?: (Buffer | Uint8Array | string);
  'txnId'?: (string);
}

export interface DeleteRequest__Output {
  'header': (_kvs_v1_RequestHeader__Output | null);
  'key': (Buffer);
  'txnId': (string);
}
