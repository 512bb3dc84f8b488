// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface BeginResponse {
  'txnId'?: (string);
  'startTs'?: (number | string | Long);
}

export interface BeginResponse__Output {
  'txnId': (string);
  'startTs': (number);
}
