// Original file: proto/admin.proto

import type { RangeEpoch as _kvs_v1_RangeEpoch, RangeEpoch__Output as _kvs_v1_RangeEpoch__Output } from '../../kvs/v1/RangeEpoch.js';
import type { Long } from '@grpc/proto-loader';

export interface RemoveMemberRequest {
  'groupId'?: (number | string | Long);
  'raftId'?: (number | string | Long);
  'force'?: (boolean);
  'epoch'?: (_kvs_v1_RangeEpoch | null);
}

export interface RemoveMemberRequest__Output {
  'groupId': (number);
  'raftId': (number);
  'force': (boolean);
  'epoch': (_kvs_v1_RangeEpoch__Output | null);
}
