// Original file: proto/admin.proto

import type { RangeEpoch as _kvs_v1_RangeEpoch, RangeEpoch__Output as _kvs_v1_RangeEpoch__Output } from '../../kvs/v1/RangeEpoch.js';
import type { Long } from '@grpc/proto-loader';

export interface PromoteRequest {
  'groupId'?: (number | string | Long);
  'raftId'?: (number | string | Long);
  /**
   * Max entries behind the leader's commit to count as caught up (0 = default 100).
   */
  'maxLag'?: (number | string | Long);
  'epoch'?: (_kvs_v1_RangeEpoch | null);
  /**
   * Store-level only: promote in range 1 alone (see AddLearnerRequest.membership_only): the placement
   * driver promotes the store's learners of other ranges itself, each once caught up.
   */
  'membershipOnly'?: (boolean);
}

export interface PromoteRequest__Output {
  'groupId': (number);
  'raftId': (number);
  /**
   * Max entries behind the leader's commit to count as caught up (0 = default 100).
   */
  'maxLag': (number);
  'epoch': (_kvs_v1_RangeEpoch__Output | null);
  /**
   * Store-level only: promote in range 1 alone (see AddLearnerRequest.membership_only): the placement
   * driver promotes the store's learners of other ranges itself, each once caught up.
   */
  'membershipOnly': (boolean);
}
