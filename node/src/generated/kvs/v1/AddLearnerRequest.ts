// Original file: proto/admin.proto

import type { RangeEpoch as _kvs_v1_RangeEpoch, RangeEpoch__Output as _kvs_v1_RangeEpoch__Output } from '../../kvs/v1/RangeEpoch.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Per-range calls (group_id > 0) may name the epoch of the range they were planned against: a store
 * whose replica of the range is at another epoch refuses with EPOCH_NOT_MATCH (gRPC UNAVAILABLE,
 * trailers `kvs-error: EPOCH_NOT_MATCH`, `kvs-range-id` and `kvs-range-epoch` = "<conf_ver>.<version>",
 * the epoch it holds): nothing was changed; observe the range again and re-plan. Unset = no check.
 */
export interface AddLearnerRequest {
  'groupId'?: (number | string | Long);
  'raftId'?: (number | string | Long);
  /**
   * Raft address of the new member.
   */
  'address'?: (string);
  'epoch'?: (_kvs_v1_RangeEpoch | null);
  /**
   * Store-level (group_id 0) only: join range 1 (the membership range) alone. Without it the store is also
   * added to every other range this store holds (every range on every store); with a placement driver
   * (the operator, replication factor below the store count) its replicas are placed range by range.
   */
  'membershipOnly'?: (boolean);
}

/**
 * Per-range calls (group_id > 0) may name the epoch of the range they were planned against: a store
 * whose replica of the range is at another epoch refuses with EPOCH_NOT_MATCH (gRPC UNAVAILABLE,
 * trailers `kvs-error: EPOCH_NOT_MATCH`, `kvs-range-id` and `kvs-range-epoch` = "<conf_ver>.<version>",
 * the epoch it holds): nothing was changed; observe the range again and re-plan. Unset = no check.
 */
export interface AddLearnerRequest__Output {
  'groupId': (number);
  'raftId': (number);
  /**
   * Raft address of the new member.
   */
  'address': (string);
  'epoch': (_kvs_v1_RangeEpoch__Output | null);
  /**
   * Store-level (group_id 0) only: join range 1 (the membership range) alone. Without it the store is also
   * added to every other range this store holds (every range on every store); with a placement driver
   * (the operator, replication factor below the store count) its replicas are placed range by range.
   */
  'membershipOnly': (boolean);
}
