// Original file: proto/kv.proto

import type { RangeRoute as _kvs_v1_RangeRoute, RangeRoute__Output as _kvs_v1_RangeRoute__Output } from '../../kvs/v1/RangeRoute.js';

export interface RoutesResponse {
  'ranges'?: (_kvs_v1_RangeRoute)[];
}

export interface RoutesResponse__Output {
  'ranges': (_kvs_v1_RangeRoute__Output)[];
}
