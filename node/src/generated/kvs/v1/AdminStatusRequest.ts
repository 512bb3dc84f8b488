// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface AdminStatusRequest {
  'groupId'?: (number | string | Long);
}

export interface AdminStatusRequest__Output {
  'groupId': (number);
}
