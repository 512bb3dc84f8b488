// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface DeleteRangeResponse {
  'deleted'?: (number | string | Long);
  'version'?: (number | string | Long);
}

export interface DeleteRangeResponse__Output {
  'deleted': (number);
  'version': (number);
}
