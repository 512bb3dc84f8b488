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
  /**
   * Incarnation (data-directory identity) the group recorded for this raft id ('' = none recorded yet).
   */
  'incarnation'?: (string);
  /**
   * This node refuses the member's frames: they carry another incarnation than the recorded one (its data
   * dir was wiped or replaced). Such a member can never vote again; replace it with a new raft id.
   */
  'refused'?: (boolean);
  /**
   * The incarnation the refused frames carried.
   */
  'refusedIncarnation'?: (string);
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
  /**
   * Incarnation (data-directory identity) the group recorded for this raft id ('' = none recorded yet).
   */
  'incarnation': (string);
  /**
   * This node refuses the member's frames: they carry another incarnation than the recorded one (its data
   * dir was wiped or replaced). Such a member can never vote again; replace it with a new raft id.
   */
  'refused': (boolean);
  /**
   * The incarnation the refused frames carried.
   */
  'refusedIncarnation': (string);
}
