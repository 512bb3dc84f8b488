// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface CommitResponse {
  /**
   * 0 for a read-only or empty transaction
   */
  'commitTs'?: (number | string | Long);
}

export interface CommitResponse__Output {
  /**
   * 0 for a read-only or empty transaction
   */
  'commitTs': (number);
}
