// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface RemoveMemberRequest {
  'groupId'?: (number | string | Long);
  'raftId'?: (number | string | Long);
  'force'?: (boolean);
}

export interface RemoveMemberRequest__Output {
  'groupId': (number);
  'raftId': (number);
  'force': (boolean);
}
