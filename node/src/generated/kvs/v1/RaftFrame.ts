// Original file: proto/raft.proto

import type { StaleReplicaNotice as _kvs_v1_StaleReplicaNotice, StaleReplicaNotice__Output as _kvs_v1_StaleReplicaNotice__Output } from '../../kvs/v1/StaleReplicaNotice.js';
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
   * Incarnation of the sender's data directory (random, created at its first start; '' = none, e.g. an
   * in-memory node). The group records the first one it hears per raft id (replicated) and refuses frames
   * of that raft id carrying another one: a wiped data dir must not come back as the same voter.
   */
  'incarnation'?: (string);
  /**
   * Receiver → sender only (the return direction of Stream): non-empty when the receiver refused the
   * sender's frames because of their incarnation; says why (recorded vs presented incarnation).
   */
  'refused'?: (string);
  /**
   * A random number drawn at process start (not the data dir's incarnation above): a change tells the
   * receiver that the sender restarted, so its own connection to the sender (maybe to an old pod IP, or
   * waiting out a reconnect backoff) is stale and is replaced at once. 0 = not sent (older nodes).
   */
  'boot'?: (number | string | Long);
  /**
   * The smallest start ts of the transactions the sender runs (as coordinator, or a one-range transaction
   * on its replica): every store keeps its GC safe points at or below the smallest of all stores', so no
   * store collects versions a transaction elsewhere still reads. 0 = none (or an older node).
   */
  'minTxnStartTs'?: (number | string | Long);
  /**
   * Receiver → sender of Raft messages, in a frame of their own: the sender sent messages for ranges
   * that no longer list it (its replica missed its own removal). Each names the range's descriptor as
   * this store applied it; the replica destroys itself only when that is provably newer and leaves its
   * store out (TiKV answers a stale peer's message with a tombstone notice the same way).
   */
  'staleReplicas'?: (_kvs_v1_StaleReplicaNotice)[];
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
   * Incarnation of the sender's data directory (random, created at its first start; '' = none, e.g. an
   * in-memory node). The group records the first one it hears per raft id (replicated) and refuses frames
   * of that raft id carrying another one: a wiped data dir must not come back as the same voter.
   */
  'incarnation': (string);
  /**
   * Receiver → sender only (the return direction of Stream): non-empty when the receiver refused the
   * sender's frames because of their incarnation; says why (recorded vs presented incarnation).
   */
  'refused': (string);
  /**
   * A random number drawn at process start (not the data dir's incarnation above): a change tells the
   * receiver that the sender restarted, so its own connection to the sender (maybe to an old pod IP, or
   * waiting out a reconnect backoff) is stale and is replaced at once. 0 = not sent (older nodes).
   */
  'boot': (number);
  /**
   * The smallest start ts of the transactions the sender runs (as coordinator, or a one-range transaction
   * on its replica): every store keeps its GC safe points at or below the smallest of all stores', so no
   * store collects versions a transaction elsewhere still reads. 0 = none (or an older node).
   */
  'minTxnStartTs': (number);
  /**
   * Receiver → sender of Raft messages, in a frame of their own: the sender sent messages for ranges
   * that no longer list it (its replica missed its own removal). Each names the range's descriptor as
   * this store applied it; the replica destroys itself only when that is provably newer and leaves its
   * store out (TiKV answers a stale peer's message with a tombstone notice the same way).
   */
  'staleReplicas': (_kvs_v1_StaleReplicaNotice__Output)[];
}
