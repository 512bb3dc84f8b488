// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface TimestampResponse {
  'timestamp'?: (number | string | Long);
  'count'?: (number);
}

export interface TimestampResponse__Output {
  'timestamp': (number);
  'count': (number);
}
