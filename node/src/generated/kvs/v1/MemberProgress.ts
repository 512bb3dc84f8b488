// Original file: proto/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface MemberProgress {
  'raftId'?: (number | string | Long);
  /**
   * "voter" | "learner"
   */
  'role'?: (string);
  /**
   * Raft address from the membership's address book (may be a proxy).
   */
  'address'?: (string);
  /**
   * Leader only: replication progress.
   */
  'match'?: (number | string | Long);
  'next'?: (number | string | Long);
  /**
   * "Probe" | "Replicate" | "Snapshot" (leader only)
   */
  'state'?: (string);
  'recentActive'?: (boolean);
}

export interface MemberProgress__Output {
  'raftId': (number);
  /**
   * "voter" | "learner"
   */
  'role': (string);
  /**
   * Raft address from the membership's address book (may be a proxy).
   */
  'address': (string);
  /**
   * Leader only: replication progress.
   */
  'match': (number);
  'next': (number);
  /**
   * "Probe" | "Replicate" | "Snapshot" (leader only)
   */
  'state': (string);
  'recentActive': (boolean);
}
