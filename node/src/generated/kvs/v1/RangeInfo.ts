// Original file: proto/admin.proto

import type { ReplicaInfo as _kvs_v1_ReplicaInfo, ReplicaInfo__Output as _kvs_v1_ReplicaInfo__Output } from '../../kvs/v1/ReplicaInfo.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One range as a store's replica of it sees it.
 */
export interface RangeInfo {
  'rangeId'?: (number | string | Long);
  /**
   * inclusive; empty = -inf
   */
  'start'?: (Buffer | Uint8Array | string);
  /**
   * exclusive; empty = +inf
   */
  'end'?: (Buffer | Uint8Array | string);
  'confVer'?: (number | string | Long);
  'version'?: (number | string | Long);
  'replicas'?: (_kvs_v1_ReplicaInfo)[];
  /**
   * store (raft) id of the range's leader, 0 = unknown
   */
  'leaderId'?: (number | string | Long);
  /**
   * its client address, when known
   */
  'leaderAddress'?: (string);
  'approximateBytes'?: (number | string | Long);
  /**
   * this replica's raft role
   */
  'role'?: (string);
  'term'?: (number | string | Long);
  'applied'?: (number | string | Long);
  /**
   * proposals made by this replica since start (load indication)
   */
  'proposals'?: (number | string | Long);
  /**
   * Requests per second on this replica over the last 10–20 s: linearizable reads and writes (proposals,
   * forwarded to the leader when made on a follower). A range's load is the sum over its replicas; the
   * operator balances leaderships by it.
   */
  'readsPerSec'?: (number | string);
  'writesPerSec'?: (number | string);
}

/**
 * One range as a store's replica of it sees it.
 */
export interface RangeInfo__Output {
  'rangeId': (number);
  /**
   * inclusive; empty = -inf
   */
  'start': (Buffer);
  /**
   * exclusive; empty = +inf
   */
  'end': (Buffer);
  'confVer': (number);
  'version': (number);
  'replicas': (_kvs_v1_ReplicaInfo__Output)[];
  /**
   * store (raft) id of the range's leader, 0 = unknown
   */
  'leaderId': (number);
  /**
   * its client address, when known
   */
  'leaderAddress': (string);
  'approximateBytes': (number);
  /**
   * this replica's raft role
   */
  'role': (string);
  'term': (number);
  'applied': (number);
  /**
   * proposals made by this replica since start (load indication)
   */
  'proposals': (number);
  /**
   * Requests per second on this replica over the last 10–20 s: linearizable reads and writes (proposals,
   * forwarded to the leader when made on a follower). A range's load is the sum over its replicas; the
   * operator balances leaderships by it.
   */
  'readsPerSec': (number);
  'writesPerSec': (number);
}
