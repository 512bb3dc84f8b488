// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface RouteReplica {
  'storeId'?: (number | string | Long);
  'peerId'?: (number | string | Long);
  /**
   * "voter" | "learner"
   */
  'role'?: (string);
}

export interface RouteReplica__Output {
  'storeId': (number);
  'peerId': (number);
  /**
   * "voter" | "learner"
   */
  'role': (string);
}
