// Original file: proto/admin.proto

import type { RangeEpoch as _kvs_v1_RangeEpoch, RangeEpoch__Output as _kvs_v1_RangeEpoch__Output } from '../../kvs/v1/RangeEpoch.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Destroys this store's replica of range_id when it is certainly stale: the range's current descriptor
 * (epoch and stores, as the range's leader reports it) no longer lists this store, and that epoch's
 * conf_ver is newer than the one the replica applied (it missed its own removal, e.g. it was down).
 * Refused otherwise (PRECONDITION_FAILED); a store holding no replica of the range answers ok.
 */
export interface DestroyStaleReplicaRequest {
  'rangeId'?: (number | string | Long);
  'epoch'?: (_kvs_v1_RangeEpoch | null);
  /**
   * The stores of the current descriptor (voters and learners).
   */
  'storeIds'?: (number | string | Long)[];
}

/**
 * Destroys this store's replica of range_id when it is certainly stale: the range's current descriptor
 * (epoch and stores, as the range's leader reports it) no longer lists this store, and that epoch's
 * conf_ver is newer than the one the replica applied (it missed its own removal, e.g. it was down).
 * Refused otherwise (PRECONDITION_FAILED); a store holding no replica of the range answers ok.
 */
export interface DestroyStaleReplicaRequest__Output {
  'rangeId': (number);
  'epoch': (_kvs_v1_RangeEpoch__Output | null);
  /**
   * The stores of the current descriptor (voters and learners).
   */
  'storeIds': (number)[];
}
