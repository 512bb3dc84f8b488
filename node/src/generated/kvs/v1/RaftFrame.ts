// Original file: proto/raft.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One frame = many Raft messages batched during one event-loop turn of the sender.
 */
export interface RaftFrame {
  /**
   * Raft id of the sending node.
   */
  'from'?: (number | string | Long);
  /**
   * Client (Kv API) address of the sending node, so followers can hint clients at the leader.
   */
  'clientAddress'?: (string);
  /**
   * Raft address of the sending node (informational).
   */
  'raftAddress'?: (string);
  'messages'?: (Buffer | Uint8Array | string)[];
}

/**
 * One frame = many Raft messages batched during one event-loop turn of the sender.
 */
export interface RaftFrame__Output {
  /**
   * Raft id of the sending node.
   */
  'from': (number);
  /**
   * Client (Kv API) address of the sending node, so followers can hint clients at the leader.
   */
  'clientAddress': (string);
  /**
   * Raft address of the sending node (informational).
   */
  'raftAddress': (string);
  'messages': (Buffer)[];
}
