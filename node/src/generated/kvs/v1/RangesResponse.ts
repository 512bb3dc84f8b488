// Original file: proto/admin.proto

import type { RangeInfo as _kvs_v1_RangeInfo, RangeInfo__Output as _kvs_v1_RangeInfo__Output } from '../../kvs/v1/RangeInfo.js';
import type { Long } from '@grpc/proto-loader';

export interface RangesResponse {
  'storeId'?: (number | string | Long);
  'ranges'?: (_kvs_v1_RangeInfo)[];
}

export interface RangesResponse__Output {
  'storeId': (number);
  'ranges': (_kvs_v1_RangeInfo__Output)[];
}
