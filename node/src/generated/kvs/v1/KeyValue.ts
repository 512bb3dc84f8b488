// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface KeyValue {
  'key'?: (Buffer | Uint8Array | string);
  'value'?: (Buffer | Uint8Array | string);
  /**
   * commit timestamp of this version
   */
  'version'?: (number | string | Long);
}

export interface KeyValue__Output {
  'key': (Buffer);
  'value': (Buffer);
  /**
   * commit timestamp of this version
   */
  'version': (number);
}
