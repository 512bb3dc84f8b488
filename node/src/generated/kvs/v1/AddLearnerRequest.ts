// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface AddLearnerRequest {
  'groupId'?: (number | string | Long);
  'raftId'?: (number | string | Long);
  /**
   * Raft address of the new member.
   */
  'address'?: (string);
}

export interface AddLearnerRequest__Output {
  'groupId': (number);
  'raftId': (number);
  /**
   * Raft address of the new member.
   */
  'address': (string);
}
