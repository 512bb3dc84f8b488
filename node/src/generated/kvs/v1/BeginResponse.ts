// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface BeginResponse {
  'txnId'?: (string);
  'startTs'?: (number | string | Long);
  /**
   * This node applies CommitRequest.writes: a client may keep the transaction's writes and send them
   * with the commit (one request instead of one per write). An older node leaves it false — and would
   * ignore the writes — so a client sends them only when this is true.
   */
  'commitCarriesWrites'?: (boolean);
  /**
   * The node fixed the transaction's snapshot at start_ts (BeginRequest.direct_reads): reads at it on any
   * node are repeatable, and it validates CommitRequest.read_keys at commit. An older node leaves it false
   * (start_ts is then informational, and the client reads through the transaction).
   */
  'directReads'?: (boolean);
}

export interface BeginResponse__Output {
  'txnId': (string);
  'startTs': (number);
  /**
   * This node applies CommitRequest.writes: a client may keep the transaction's writes and send them
   * with the commit (one request instead of one per write). An older node leaves it false — and would
   * ignore the writes — so a client sends them only when this is true.
   */
  'commitCarriesWrites': (boolean);
  /**
   * The node fixed the transaction's snapshot at start_ts (BeginRequest.direct_reads): reads at it on any
   * node are repeatable, and it validates CommitRequest.read_keys at commit. An older node leaves it false
   * (start_ts is then informational, and the client reads through the transaction).
   */
  'directReads': (boolean);
}
