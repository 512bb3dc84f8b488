// Original file: proto/kv.proto

import type { KeyValue as _kvs_v1_KeyValue, KeyValue__Output as _kvs_v1_KeyValue__Output } from '../../kvs/v1/KeyValue.js';
import type { Long } from '@grpc/proto-loader';

export interface ScanResponse {
  'kvs'?: (_kvs_v1_KeyValue)[];
  /**
   * true when the limit stopped the scan
   */
  'more'?: (boolean);
  'readTs'?: (number | string | Long);
}

export interface ScanResponse__Output {
  'kvs': (_kvs_v1_KeyValue__Output)[];
  /**
   * true when the limit stopped the scan
   */
  'more': (boolean);
  'readTs': (number);
}
