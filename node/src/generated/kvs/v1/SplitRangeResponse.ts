// Original file: proto/admin.proto

import type { RangeInfo as _kvs_v1_RangeInfo, RangeInfo__Output as _kvs_v1_RangeInfo__Output } from '../../kvs/v1/RangeInfo.js';

export interface SplitRangeResponse {
  'left'?: (_kvs_v1_RangeInfo | null);
  'right'?: (_kvs_v1_RangeInfo | null);
}

export interface SplitRangeResponse__Output {
  'left': (_kvs_v1_RangeInfo__Output | null);
  'right': (_kvs_v1_RangeInfo__Output | null);
}
