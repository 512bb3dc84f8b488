// Original file: proto/admin.proto

import type { MemberProgress as _kvs_v1_MemberProgress, MemberProgress__Output as _kvs_v1_MemberProgress__Output } from '../../kvs/v1/MemberProgress.js';
import type { Long } from '@grpc/proto-loader';

export interface AdminStatusResponse {
  'nodeId'?: (string);
  'raftId'?: (number | string | Long);
  'groupId'?: (number | string | Long);
  /**
   * "Leader" | "Follower" | "Candidate" | "PreCandidate"
   */
  'role'?: (string);
  'term'?: (number | string | Long);
  'commit'?: (number | string | Long);
  'applied'?: (number | string | Long);
  'leaderId'?: (number | string | Long);
  /**
   * Client (Kv API) address of the leader, when known.
   */
  'leaderAddress'?: (string);
  'members'?: (_kvs_v1_MemberProgress)[];
  'firstIndex'?: (number | string | Long);
  'lastIndex'?: (number | string | Long);
  'clientAddress'?: (string);
  'joint'?: (boolean);
  /**
   * This node's data-directory incarnation ('' = none: in-memory node).
   */
  'incarnation'?: (string);
  /**
   * A peer refused this node: its data dir is not the one the group knows for this raft id (wiped or
   * replaced). It will never vote or be counted again; /readyz answers 503 RAFT_IDENTITY_REFUSED.
   */
  'identityRefused'?: (boolean);
  'identityRefusedReason'?: (string);
  /**
   * Range replicas this store holds (range 1 included; 0 = a node that does not report ranges) and how
   * many of them it leads: a store about to leave or restart should lead none (the operator drains it).
   */
  'rangesHeld'?: (number | string | Long);
  'rangesLed'?: (number | string | Long);
  /**
   * Ranges this store holds a voter replica of that some other voter of range 1 (a store of the cluster)
   * holds no replica of: a drain can move those replicas there before the store leaves.
   */
  'rangesMovable'?: (number | string | Long);
}

export interface AdminStatusResponse__Output {
  'nodeId': (string);
  'raftId': (number);
  'groupId': (number);
  /**
   * "Leader" | "Follower" | "Candidate" | "PreCandidate"
   */
  'role': (string);
  'term': (number);
  'commit': (number);
  'applied': (number);
  'leaderId': (number);
  /**
   * Client (Kv API) address of the leader, when known.
   */
  'leaderAddress': (string);
  'members': (_kvs_v1_MemberProgress__Output)[];
  'firstIndex': (number);
  'lastIndex': (number);
  'clientAddress': (string);
  'joint': (boolean);
  /**
   * This node's data-directory incarnation ('' = none: in-memory node).
   */
  'incarnation': (string);
  /**
   * A peer refused this node: its data dir is not the one the group knows for this raft id (wiped or
   * replaced). It will never vote or be counted again; /readyz answers 503 RAFT_IDENTITY_REFUSED.
   */
  'identityRefused': (boolean);
  'identityRefusedReason': (string);
  /**
   * Range replicas this store holds (range 1 included; 0 = a node that does not report ranges) and how
   * many of them it leads: a store about to leave or restart should lead none (the operator drains it).
   */
  'rangesHeld': (number);
  'rangesLed': (number);
  /**
   * Ranges this store holds a voter replica of that some other voter of range 1 (a store of the cluster)
   * holds no replica of: a drain can move those replicas there before the store leaves.
   */
  'rangesMovable': (number);
}
