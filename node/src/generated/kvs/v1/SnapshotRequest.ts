// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface SnapshotRequest {
  'groupId'?: (number | string | Long);
}

export interface SnapshotRequest__Output {
  'groupId': (number);
}
