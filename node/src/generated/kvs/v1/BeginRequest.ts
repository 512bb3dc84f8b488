// Original file: proto/kv.proto

import type { RequestHeader as _kvs_v1_RequestHeader, RequestHeader__Output as _kvs_v1_RequestHeader__Output } from '../../kvs/v1/RequestHeader.js';
import type { Long } from '@grpc/proto-loader';

export interface BeginRequest {
  'header'?: (_kvs_v1_RequestHeader | null);
  /**
   * 0 = server default
   */
  'idleTimeoutMs'?: (number);
  'readOnly'?: (boolean);
  /**
   * Causality token: the highest version / read ts this client has seen. The transaction's snapshot is
   * at least this, so it sees every write the client saw acknowledged, on every range (0 = none).
   */
  'minStartTs'?: (number | string | Long);
  /**
   * The client reads outside the transaction (a Get with snapshot_ts = start_ts, sent to the key's range
   * leader) and reports the keys it read with the commit (CommitRequest.read_keys). Ignored with read_only.
   */
  'directReads'?: (boolean);
}

export interface BeginRequest__Output {
  'header': (_kvs_v1_RequestHeader__Output | null);
  /**
   * 0 = server default
   */
  'idleTimeoutMs': (number);
  'readOnly': (boolean);
  /**
   * Causality token: the highest version / read ts this client has seen. The transaction's snapshot is
   * at least this, so it sees every write the client saw acknowledged, on every range (0 = none).
   */
  'minStartTs': (number);
  /**
   * The client reads outside the transaction (a Get with snapshot_ts = start_ts, sent to the key's range
   * leader) and reports the keys it read with the commit (CommitRequest.read_keys). Ignored with read_only.
   */
  'directReads': (boolean);
}
