// Original file: proto/kv.proto

import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from '../../kvs/v1/RequestHeader.js';

export interface DeleteRangeRequest {
  'header'?: (_kvs_v1_RequestHeader | null);
  /**
   * inclusive
   */
  'start'?: (Buffer | Uint8Array | string);
  /**
   * exclusive; empty = to the end of the key space
   */
  'end'?: (Buffer | Uint8Array | string);
  /**
   * alternative to start/end
   */
  'prefix'?: (Buffer | Uint8Array | string);
}

export interface DeleteRangeRequest__Output {
  'header': (_kvs_v1_RequestHeader__Output | null);
  /**
   * inclusive
   */
  'start': (Buffer);
  /**
   * exclusive; empty = to the end of the key space
   */
  'end': (Buffer);
  /**
   * alternative to start/end
   */
  'prefix': (Buffer);
}
