// Original file: proto/admin.proto

import type { RangeInfo as _kvs_v1_RangeInfo, RangeInfo__Output as _kvs_v1_RangeInfo__Output } from '../../kvs/v1/RangeInfo.js';
import type { Long } from '@grpc/proto-loader';

export interface RangesResponse {
  'storeId'?: (number | string | Long);
  'ranges'?: (_kvs_v1_RangeInfo)[];
  /**
   * The data directory's filesystem (statfs): its size and what is still free for this store (0 = not
   * known, e.g. an in-memory engine). Placement keeps a store below 95 % of what its data could grow to.
   */
  'capacityBytes'?: (number | string | Long);
  'availableBytes'?: (number | string | Long);
}

export interface RangesResponse__Output {
  'storeId': (number);
  'ranges': (_kvs_v1_RangeInfo__Output)[];
  /**
   * The data directory's filesystem (statfs): its size and what is still free for this store (0 = not
   * known, e.g. an in-memory engine). Placement keeps a store below 95 % of what its data could grow to.
   */
  'capacityBytes': (number);
  'availableBytes': (number);
}
