// Original file: proto/kv.proto

import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from '../../kvs/v1/RequestHeader.js';
import type { Mutation as _kvs_v1_Mutation, Mutation__Output as _kvs_v1_Mutation__Output } from '../../kvs/v1/Mutation.js';

export interface BatchRequest {
  'header'?: (_kvs_v1_RequestHeader | null);
  /**
   * applied atomically, in order
   */
  'mutations'?: (_kvs_v1_Mutation)[];
}

export interface BatchRequest__Output {
  'header': (_kvs_v1_RequestHeader__Output | null);
  /**
   * applied atomically, in order
   */
  'mutations': (_kvs_v1_Mutation__Output)[];
}
