// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface DeleteResponse {
  /**
   * the key existed
   */
  'deleted'?: (boolean);
  'version'?: (number | string | Long);
}

export interface DeleteResponse__Output {
  /**
   * the key existed
   */
  'deleted': (boolean);
  'version': (number);
}
