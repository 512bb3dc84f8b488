// Original file: proto/admin.proto

import type { RangeEpoch as _kvs_v1_RangeEpoch, RangeEpoch__Output as _kvs_v1_RangeEpoch__Output } from '../../kvs/v1/RangeEpoch.js';
import type { Long } from '@grpc/proto-loader';

export interface TransferLeaderRequest {
  'groupId'?: (number | string | Long);
  'toRaftId'?: (number | string | Long);
  /**
   * How long to wait for the transfer (0 = default 5000 ms).
   */
  'timeoutMs'?: (number | string | Long);
  'epoch'?: (_kvs_v1_RangeEpoch | null);
}

export interface TransferLeaderRequest__Output {
  'groupId': (number);
  'toRaftId': (number);
  /**
   * How long to wait for the transfer (0 = default 5000 ms).
   */
  'timeoutMs': (number);
  'epoch': (_kvs_v1_RangeEpoch__Output | null);
}
