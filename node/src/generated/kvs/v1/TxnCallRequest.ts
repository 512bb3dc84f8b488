// Original file: proto/raft.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A step of a cross-range transaction run on a store that holds a replica of one of its ranges, for a
 * coordinator store that holds none (node/src/raftstore/txn-rpc.ts): submit a transaction command to the
 * range, or read at a snapshot through that store. Payloads use the stores' own binary codecs.
 */
export interface TxnCallRequest {
  'from'?: (number | string | Long);
  'rangeId'?: (number | string | Long);
  'payload'?: (Buffer | Uint8Array | string);
}

/**
 * A step of a cross-range transaction run on a store that holds a replica of one of its ranges, for a
 * coordinator store that holds none (node/src/raftstore/txn-rpc.ts): submit a transaction command to the
 * range, or read at a snapshot through that store. Payloads use the stores' own binary codecs.
 */
export interface TxnCallRequest__Output {
  'from': (number);
  'rangeId': (number);
  'payload': (Buffer);
}
