// Original file: proto/raft.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A snapshot transfer: the first chunk carries the MsgSnap (snapshot metadata; data stripped), the
 * following chunks carry the group state (engine key/value pairs exported at the snapshot's index).
 */
export interface SnapshotChunk {
  'message'?: (Buffer | Uint8Array | string);
  'keys'?: (Buffer | Uint8Array | string)[];
  'values'?: (Buffer | Uint8Array | string)[];
  'from'?: (number | string | Long);
  'clientAddress'?: (string);
  /**
   * Incarnation of the sender (see RaftFrame.incarnation); a refused sender's snapshot is not accepted.
   */
  'incarnation'?: (string);
}

/**
 * A snapshot transfer: the first chunk carries the MsgSnap (snapshot metadata; data stripped), the
 * following chunks carry the group state (engine key/value pairs exported at the snapshot's index).
 */
export interface SnapshotChunk__Output {
  'message': (Buffer);
  'keys': (Buffer)[];
  'values': (Buffer)[];
  'from': (number);
  'clientAddress': (string);
  /**
   * Incarnation of the sender (see RaftFrame.incarnation); a refused sender's snapshot is not accepted.
   */
  'incarnation': (string);
}
