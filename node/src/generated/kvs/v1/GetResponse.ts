// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface GetResponse {
  'found'?: (boolean);
  'value'?: (Buffer | Uint8Array | string);
  'version'?: (number | string | Long);
  /**
   * the snapshot the read was served at
   */
  'readTs'?: (number | string | Long);
}

export interface GetResponse__Output {
  'found': (boolean);
  'value': (Buffer);
  'version': (number);
  /**
   * the snapshot the read was served at
   */
  'readTs': (number);
}
