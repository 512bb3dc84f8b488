// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface ReplicaInfo {
  'storeId'?: (number | string | Long);
  'peerId'?: (number | string | Long);
  /**
   * voter | learner
   */
  'role'?: (string);
}

export interface ReplicaInfo__Output {
  'storeId': (number);
  'peerId': (number);
  /**
   * voter | learner
   */
  'role': (string);
}
