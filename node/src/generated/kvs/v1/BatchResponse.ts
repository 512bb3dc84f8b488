// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface BatchResponse {
  'version'?: (number | string | Long);
}

export interface BatchResponse__Output {
  'version': (number);
}
