// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface TransferLeaderRequest {
  'groupId'?: (number | string | Long);
  'toRaftId'?: (number | string | Long);
  /**
   * How long to wait for the transfer (0 = default 5000 ms).
   */
  'timeoutMs'?: (number | string | Long);
}

export interface TransferLeaderRequest__Output {
  'groupId': (number);
  'toRaftId': (number);
  /**
   * How long to wait for the transfer (0 = default 5000 ms).
   */
  'timeoutMs': (number);
}
