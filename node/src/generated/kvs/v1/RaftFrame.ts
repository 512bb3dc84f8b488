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
  /**
   * A random number drawn at process start: a change tells the receiver that the sender restarted, so
   * its own connection to the sender (maybe to an old pod IP, or waiting out a reconnect backoff) is
   * stale and is replaced at once. 0 = not sent (older nodes).
   */
  'incarnation'?: (number | string | Long);
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
  /**
   * A random number drawn at process start: a change tells the receiver that the sender restarted, so
   * its own connection to the sender (maybe to an old pod IP, or waiting out a reconnect backoff) is
   * stale and is replaced at once. 0 = not sent (older nodes).
   */
  'incarnation': (number);
}
