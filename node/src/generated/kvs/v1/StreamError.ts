// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A failed sub-request: the same status and typed details a unary call carries in its trailers.
 */
export interface StreamError {
  /**
   * gRPC status code
   */
  'code'?: (number);
  'message'?: (string);
  /**
   * typed code ("kvs-error"), e.g. TXN_CONFLICT, NOT_LEADER, OVERLOADED
   */
  'errorCode'?: (string);
  /**
   * INVALID_ARGUMENT: the request field at fault ("kvs-field")
   */
  'field'?: (string);
  /**
   * TXN_CONFLICT ("kvs-conflict-key-bin")
   */
  'conflictKey'?: (Buffer | Uint8Array | string);
  /**
   * TXN_CONFLICT ("kvs-conflict-ts")
   */
  'conflictTs'?: (number | string | Long);
  /**
   * TXN_NOT_FOUND ("kvs-txn-id")
   */
  'txnId'?: (string);
  /**
   * SNAPSHOT_TOO_OLD ("kvs-safe-point")
   */
  'safePoint'?: (number | string | Long);
  /**
   * NOT_LEADER: client address of the leader ("kvs-leader")
   */
  'leader'?: (string);
  /**
   * NOT_LEADER: raft id of the leader ("kvs-leader-id")
   */
  'leaderId'?: (number | string | Long);
  /**
   * KEY_NOT_IN_RANGE / EPOCH_NOT_MATCH / RANGE_NOT_FOUND: the range ("kvs-range-id")
   */
  'rangeId'?: (number | string | Long);
}

/**
 * A failed sub-request: the same status and typed details a unary call carries in its trailers.
 */
export interface StreamError__Output {
  /**
   * gRPC status code
   */
  'code': (number);
  'message': (string);
  /**
   * typed code ("kvs-error"), e.g. TXN_CONFLICT, NOT_LEADER, OVERLOADED
   */
  'errorCode': (string);
  /**
   * INVALID_ARGUMENT: the request field at fault ("kvs-field")
   */
  'field': (string);
  /**
   * TXN_CONFLICT ("kvs-conflict-key-bin")
   */
  'conflictKey': (Buffer);
  /**
   * TXN_CONFLICT ("kvs-conflict-ts")
   */
  'conflictTs': (number);
  /**
   * TXN_NOT_FOUND ("kvs-txn-id")
   */
  'txnId': (string);
  /**
   * SNAPSHOT_TOO_OLD ("kvs-safe-point")
   */
  'safePoint': (number);
  /**
   * NOT_LEADER: client address of the leader ("kvs-leader")
   */
  'leader': (string);
  /**
   * NOT_LEADER: raft id of the leader ("kvs-leader-id")
   */
  'leaderId': (number);
  /**
   * KEY_NOT_IN_RANGE / EPOCH_NOT_MATCH / RANGE_NOT_FOUND: the range ("kvs-range-id")
   */
  'rangeId': (number);
}
