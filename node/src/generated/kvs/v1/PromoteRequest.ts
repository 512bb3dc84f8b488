// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface PromoteRequest {
  'groupId'?: (number | string | Long);
  'raftId'?: (number | string | Long);
  /**
   * Max entries behind the leader's commit to count as caught up (0 = default 100).
   */
  'maxLag'?: (number | string | Long);
}

export interface PromoteRequest__Output {
  'groupId': (number);
  'raftId': (number);
  /**
   * Max entries behind the leader's commit to count as caught up (0 = default 100).
   */
  'maxLag': (number);
}
